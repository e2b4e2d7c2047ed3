// Which requests an access log records: AccessLog.filter compiled once (status code, duration,
// response flags, and/or combinations); other Envoy filters are config errors.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "source/http/stream_info.h"

namespace remora::accesslog {

class Filter {
 public:
  virtual ~Filter() = default;
  virtual bool matches(const http::StreamInfo& info) const = 0;
};
using FilterConstPtr = std::unique_ptr<const Filter>;

// Errors name the field under `path` (the filter's own path), e.g.
// "<path>.header_filter: not supported".
absl::StatusOr<FilterConstPtr> buildFilter(
    const envoy::config::accesslog::v3::AccessLogFilter& config, const std::string& path);

}  // namespace remora::accesslog
