#include "test/support/child_lookup.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "test/support/process.h"

namespace remora::testing {
namespace {

// The parent pid from /proc/<pid>/stat; the command name (field 2) may hold spaces, so the
// fields are read after its closing parenthesis.
pid_t parentOf(const std::string& pid) {
  const std::string stat = readFile("/proc/" + pid + "/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(stat.substr(paren + 1));
  std::string state;
  pid_t ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

std::vector<std::string> argvOf(const std::string& pid) {
  const std::string raw = readFile("/proc/" + pid + "/cmdline");
  std::vector<std::string> args;
  size_t start = 0;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    args.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

}  // namespace

pid_t findChildWithArg(const std::string& flag, const std::string& value) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return -1;
  pid_t found = -1;
  const pid_t self = getpid();
  while (dirent* entry = readdir(proc)) {
    const std::string name = entry->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (parentOf(name) != self) continue;
    const auto args = argvOf(name);
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag && args[i + 1] == value) found = std::atoi(name.c_str());
    }
    if (found != -1) break;
  }
  closedir(proc);
  return found;
}

}  // namespace remora::testing
