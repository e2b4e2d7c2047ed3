// Access logs: the loggers built from a listener's or filter's access_log list (which requests,
// which format, which file), and the interface the data path calls once per finished request.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/accesslog/v3/accesslog.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "source/accesslog/access_log_files.h"
#include "source/accesslog/access_log_filter.h"
#include "source/formatter/formatter.h"
#include "source/http/stream_info.h"

namespace remora::accesslog {

class AccessLog {
 public:
  virtual ~AccessLog() = default;
  // Formats and queues one line if the filter passes. Any thread; never blocks on I/O.
  virtual void log(const http::StreamInfo& info) const = 0;
};
using AccessLogConstSharedPtr = std::shared_ptr<const AccessLog>;

// Builds every entry of an access_log list. `path` is the list's field path, e.g.
// "...http_connection_manager.access_log"; errors name an element's field under it, e.g.
// "<path>[0].filter.header_filter: not supported". Supported typed_configs: FileAccessLog,
// StdoutAccessLog and StderrAccessLog (log_format, or Envoy's default format when absent).
// Files come from `files`, which must outlive the returned loggers.
absl::StatusOr<std::vector<AccessLogConstSharedPtr>> buildAccessLogs(
    const google::protobuf::RepeatedPtrField<envoy::config::accesslog::v3::AccessLog>& logs,
    const std::string& path, AccessLogFiles& files);

// A logger from parts already built (buildAccessLogs makes each entry with it). A null filter
// logs every request.
AccessLogConstSharedPtr makeAccessLog(FilterConstPtr filter, formatter::FormatterConstPtr formatter,
                                      std::shared_ptr<LogFile> file);

}  // namespace remora::accesslog
