// What the config fuzz targets share: quiet logs, and a guard against inputs that name device
// files, which the loaders would read as any operator-given certificate path (correctly, but
// /dev/zero never ends and /dev/stdin blocks: findings about the input, not about Remora).
#pragma once

#include <cstddef>
#include <cstdint>

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/logging.h"
#include "spdlog/spdlog.h"

namespace remora::fuzz {

// Remora's logs and protobuf's (a line per invalid UTF-8 string field, which mutated inputs are
// full of) would bury a finding's report.
inline void quietLogs() {
  spdlog::set_level(spdlog::level::off);
  google::protobuf::SetLogHandler(nullptr);
}

inline bool namesSpecialFile(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  for (absl::string_view dir : {"/dev", "/proc", "/sys"}) {
    if (absl::StrContains(input, dir)) return true;
  }
  return false;
}

// A rejected resource must say why: the reason is what the control plane sees in its NACK.
// REMORA_FUZZ_VERBOSE=1 prints each rejection, to see whether seeds get past validation.
inline void checkRejection(const absl::Status& status) {
  static const bool verbose = std::getenv("REMORA_FUZZ_VERBOSE") != nullptr;
  if (verbose && !status.ok()) std::fprintf(stderr, "rejected: %s\n", status.ToString().c_str());
  if (!status.ok() && status.message().empty()) {
    std::fprintf(stderr, "error status without a message: code %d\n",
                 static_cast<int>(status.code()));
    std::abort();
  }
}

}  // namespace remora::fuzz
