// The real remora binary under test: writes its bootstrap to a temp file, starts it with
// --admin-address-path, waits (with a deadline) for the admin address and for /ready == 200, and
// reads what it serves: listener ports from /listeners?format=json, counters from /stats.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test/support/http_client.h"
#include "test/support/process.h"

namespace remora::testing {

struct RemoraOptions {
  std::string binary;  // the remora binary; tests pass REMORA_BINARY
  std::string config;  // bootstrap (YAML or JSON)
  // Passed with --config-yaml on the command line instead of -c <file>.
  bool config_inline = false;
  // The config file's name; its extension tells remora the format (.yaml or .json).
  std::string config_file_name = "bootstrap.yaml";
  std::vector<std::string> extra_args;
};

class RemoraProcess {
 public:
  explicit RemoraProcess(RemoraOptions options);
  RemoraProcess(const std::string& binary, const std::string& config,
                std::vector<std::string> extra_args = {});

  // Waits until the admin address file names a port and GET /ready answers 200. False on the
  // deadline or when the process exits first; error() then tells what was seen.
  bool waitReady(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  const std::string& error() const { return error_; }

  // The admin port from --admin-address-path (0 until it is known).
  uint16_t adminPort();
  HttpResponse admin(const std::string& method, const std::string& path,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // GET /ready's status; 0 when the admin endpoint does not answer.
  int readyStatus();

  // The bound port of listener `name` per /listeners?format=json; 0 when not listed.
  uint16_t listenerPort(const std::string& name);
  // Every `name: <integer>` line of GET /stats.
  std::map<std::string, int64_t> stats();
  // One stat; -1 when absent.
  int64_t stat(const std::string& name);

  Process& process() { return *process_; }
  std::string stderrText() const { return process_->stderrText(); }
  // Everything useful in a failure message: command line, exit state, stdout, stderr.
  std::string describe() const { return process_->describe(); }

 private:
  void start(RemoraOptions options);

  TempDir dir_;
  std::string address_path_;
  uint16_t admin_port_ = 0;
  std::string error_;
  std::unique_ptr<Process> process_;
};

}  // namespace remora::testing
