// google.protobuf.Duration config fields turned into the milliseconds timers run on, with errors
// naming the field.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/duration.pb.h"

namespace remora::config {

// A duration that must be positive. Timers tick in milliseconds, so anything shorter than 1ms is
// refused rather than turned into 0 (a busy loop).
absl::Status positiveMillis(const google::protobuf::Duration& d, const std::string& path,
                            std::chrono::milliseconds& out);
// A duration that may be 0 but not negative.
absl::Status nonNegativeMillis(const google::protobuf::Duration& d, const std::string& path,
                               std::chrono::milliseconds& out);

}  // namespace remora::config
