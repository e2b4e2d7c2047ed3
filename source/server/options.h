// Command-line options, accepting Envoy's flags so launchers written for Envoy start Remora as-is.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace remora::server {

enum class Mode { kServe, kValidate };

struct Options {
  std::string config_path;   // -c / --config-path
  std::string config_yaml;   // --config-yaml, merged over the file as Envoy does
  uint32_t concurrency = 0;  // 0: one worker per core
  Mode mode = Mode::kServe;
  std::string log_level = "info";
  std::string service_node;
  std::string service_cluster;
  std::chrono::seconds drain_time{600};
  std::string admin_address_path;
  bool allow_unknown_static_fields = false;
  bool version = false;
  bool help = false;
  // Envoy flags Remora accepts without acting on them, as given ("--base-id 1"), for one log line.
  std::vector<std::string> ignored_flags;
  std::string command_line;
};

// Errors name the flag: "--concurrency: 'x' is not a number".
absl::StatusOr<Options> parseOptions(int argc, const char* const* argv);
std::string usage();

}  // namespace remora::server
