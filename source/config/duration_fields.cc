#include "source/config/duration_fields.h"

#include "google/protobuf/util/time_util.h"
#include "source/config/field_path.h"

namespace remora::config {

namespace {

bool isNegative(const google::protobuf::Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

}  // namespace

absl::Status positiveMillis(const google::protobuf::Duration& d, const std::string& path,
                            std::chrono::milliseconds& out) {
  if (isNegative(d) || (d.seconds() == 0 && d.nanos() == 0)) {
    return invalidAt(path, "must be greater than 0s");
  }
  const int64_t ms = google::protobuf::util::TimeUtil::DurationToMilliseconds(d);
  if (ms < 1) return invalidAt(path, "must be at least 1ms");
  out = std::chrono::milliseconds(ms);
  return absl::OkStatus();
}

absl::Status nonNegativeMillis(const google::protobuf::Duration& d, const std::string& path,
                               std::chrono::milliseconds& out) {
  if (isNegative(d)) return invalidAt(path, "must not be negative");
  out = std::chrono::milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(d));
  return absl::OkStatus();
}

}  // namespace remora::config
