#include "source/server/logging.h"

#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace remora::server {

void setUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("remora");
  logger->set_pattern("[%Y-%m-%d %T.%e][%t][%l] %v");
  logger->set_level(spdlog::level::from_str(level == "warning" ? "warn" : level));
  // Warnings and errors reach the terminal at once; info lines may batch.
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace remora::server
