#include "test/support/remora_process.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <sstream>
#include <thread>

namespace remora::testing {
namespace {

using Clock = std::chrono::steady_clock;

// "127.0.0.1:12345\n" → 12345; 0 when the text is not (yet) a whole address.
uint16_t parsePort(const std::string& text) {
  std::string s = text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 >= s.size()) return 0;
  unsigned port = 0;
  const char* begin = s.data() + colon + 1;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || ptr != end || port == 0 || port > 65535) return 0;
  return static_cast<uint16_t>(port);
}

}  // namespace

RemoraProcess::RemoraProcess(RemoraOptions options) { start(std::move(options)); }

RemoraProcess::RemoraProcess(const std::string& binary, const std::string& config,
                             std::vector<std::string> extra_args) {
  RemoraOptions options;
  options.binary = binary;
  options.config = config;
  options.extra_args = std::move(extra_args);
  start(std::move(options));
}

void RemoraProcess::start(RemoraOptions options) {
  address_path_ = dir_.file("admin_address");
  std::vector<std::string> args;
  if (options.config_inline) {
    args = {"--config-yaml", options.config};
  } else {
    args = {"-c", dir_.write(options.config_file_name, options.config)};
  }
  args.insert(args.end(), {"--admin-address-path", address_path_});
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  process_ = std::make_unique<Process>(options.binary, std::move(args));
}

uint16_t RemoraProcess::adminPort() {
  if (admin_port_ == 0) admin_port_ = parsePort(readFile(address_path_));
  return admin_port_;
}

HttpResponse RemoraProcess::admin(const std::string& method, const std::string& path,
                                  std::chrono::milliseconds timeout) {
  return httpRequest("127.0.0.1", adminPort(), method, path, timeout);
}

int RemoraProcess::readyStatus() {
  if (adminPort() == 0) return 0;
  return admin("GET", "/ready", std::chrono::seconds(2)).status;
}

bool RemoraProcess::waitReady(std::chrono::milliseconds timeout) {
  auto start = Clock::now();
  auto deadline = start + timeout;
  int last_status = 0;
  while (true) {
    if (!process_->running()) {
      error_ = "remora exited before becoming ready\n" + describe();
      return false;
    }
    if (adminPort() != 0) {
      last_status = readyStatus();
      if (last_status == 200) return true;
      // A port read from a half-written file would not answer: read the file again.
      if (last_status == 0) admin_port_ = 0;
    }
    if (Clock::now() >= deadline) {
      std::ostringstream msg;
      msg << "remora not ready after " << timeout.count() << "ms; admin address file: '"
          << readFile(address_path_) << "', last GET /ready status: " << last_status << "\n"
          << describe();
      error_ = msg.str();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

uint16_t RemoraProcess::listenerPort(const std::string& name) {
  HttpResponse response = admin("GET", "/listeners?format=json");
  if (response.status != 200) return 0;
  google::protobuf::Struct root;
  if (!google::protobuf::util::JsonStringToMessage(response.body, &root).ok()) return 0;
  auto statuses = root.fields().find("listener_statuses");
  if (statuses == root.fields().end()) return 0;
  for (const auto& entry : statuses->second.list_value().values()) {
    const auto& fields = entry.struct_value().fields();
    auto n = fields.find("name");
    auto local = fields.find("local_address");
    if (n == fields.end() || local == fields.end() || n->second.string_value() != name) continue;
    const auto& addr = local->second.struct_value().fields();
    auto sock = addr.find("socket_address");
    if (sock == addr.end()) return 0;
    const auto& sock_fields = sock->second.struct_value().fields();
    auto port = sock_fields.find("port_value");
    if (port == sock_fields.end()) return 0;
    return static_cast<uint16_t>(port->second.number_value());
  }
  return 0;
}

std::map<std::string, int64_t> RemoraProcess::stats() {
  std::map<std::string, int64_t> out;
  HttpResponse response = admin("GET", "/stats");
  if (response.status != 200) return out;
  std::istringstream lines(response.body);
  std::string line;
  while (std::getline(lines, line)) {
    size_t sep = line.find(": ");
    if (sep == std::string::npos) continue;
    int64_t value = 0;
    const char* begin = line.data() + sep + 2;
    const char* end = line.data() + line.size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec == std::errc() && ptr == end) out[line.substr(0, sep)] = value;
  }
  return out;
}

int64_t RemoraProcess::stat(const std::string& name) {
  auto all = stats();
  auto it = all.find(name);
  return it == all.end() ? -1 : it->second;
}

}  // namespace remora::testing
