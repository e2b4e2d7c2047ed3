// Process-wide logging: spdlog to stderr in Envoy's line format.
#pragma once

#include <string>

namespace remora::server {

// `level` is one of the --log-level names (already validated).
void setUpLogging(const std::string& level);

}  // namespace remora::server
