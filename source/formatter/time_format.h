// %START_TIME(...)%'s time formats: absl's strftime conversions (always UTC) plus Envoy's %s (epoch
// seconds) and %f / %1f..%9f (fractional seconds) extensions, split apart once at config time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace remora::formatter {

class TimeFormat {
 public:
  // An empty format is Envoy's default: ISO 8601 in UTC with milliseconds,
  // e.g. "2016-04-15T20:17:00.310Z".
  explicit TimeFormat(const std::string& format);

  void format(std::chrono::system_clock::time_point t, std::string& out) const;

 private:
  enum class Kind { kCivil, kEpochSeconds, kFraction };
  struct Segment {
    Kind kind;
    std::string civil;  // An absl::FormatTime format, for kCivil.
    int digits = 0;     // For kFraction.
  };
  void renderWholeSeconds(int64_t seconds, std::vector<std::string>& parts) const;

  std::vector<Segment> segments_;
  // Everything but the fractions depends only on the second, so a worker rendering many lines
  // per second reuses that text; absl's %E#S / %E#f put sub-second digits in a civil part.
  bool cacheable_ = true;
  uint64_t id_;  // Identifies this format in the per-thread cache; never reused.
};

}  // namespace remora::formatter
