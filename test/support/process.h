// A child process for integration tests: spawns a binary with arguments, captures its stdout and
// stderr in files, waits for its exit with a deadline, signals it, reads its RSS, and kills it
// when the test is done with it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace remora::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `contents` to file(name) and returns that path.
  std::string write(const std::string& name, std::string_view contents) const;

 private:
  std::string path_;
};

// The whole file, or "" when it cannot be read.
std::string readFile(const std::string& path);

class Process {
 public:
  // Starts `binary` with argv[1..] = args; stdin is /dev/null. The child is SIGKILLed if the thread
  // that started it dies, so a crashed test never leaks a server.
  Process(std::string binary, std::vector<std::string> args);
  // SIGKILLs the child if it still runs, and reaps it.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // False once the child has exited (and been reaped).
  bool running();
  // Waits up to `timeout` for the child to exit. Returns its exit code, or -N when signal N killed
  // it; nullopt when it is still running at the deadline.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  // The exit code (as above) once the child has exited.
  std::optional<int> exitCode() const { return exit_code_; }
  void signal(int sig);
  // VmRSS from /proc/<pid>/status in KiB, or -1 when unavailable.
  int64_t rssKb() const;

  std::string stdoutText() const { return readFile(stdout_path_); }
  std::string stderrText() const { return readFile(stderr_path_); }
  // The command line, exit state and the ends of stdout and stderr: for failure messages.
  std::string describe() const;

 private:
  // Reaps the child without blocking; true when it has exited.
  bool reap(bool block);

  std::string binary_;
  std::vector<std::string> args_;
  TempDir dir_;
  std::string stdout_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace remora::testing
