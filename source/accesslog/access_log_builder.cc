// access_log config → loggers: unpacks each typed_config, compiles its format and filter, and
// binds it to a shared LogFile.
#include <utility>

#include "absl/strings/str_cat.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb.h"
#include "envoy/extensions/access_loggers/stream/v3/stream.pb.h"
#include "source/accesslog/access_log.h"
#include "source/accesslog/access_log_filter.h"
#include "source/config/field_path.h"
#include "source/formatter/formatter.h"
#include "source/formatter/substitution_format_string.h"

namespace remora::accesslog {
namespace {

using envoy::extensions::access_loggers::file::v3::FileAccessLog;
using envoy::extensions::access_loggers::stream::v3::StderrAccessLog;
using envoy::extensions::access_loggers::stream::v3::StdoutAccessLog;

// A line longer than this is not worth keeping the buffer's capacity for in every worker.
constexpr size_t kMaxRetainedLineCapacity = 64 * 1024;

class FormattedAccessLog : public AccessLog {
 public:
  FormattedAccessLog(FilterConstPtr filter, formatter::FormatterConstPtr formatter,
                     std::shared_ptr<LogFile> file)
      : filter_(std::move(filter)), formatter_(std::move(formatter)), file_(std::move(file)) {}

  void log(const http::StreamInfo& info) const override {
    if (filter_ != nullptr && !filter_->matches(info)) return;
    thread_local std::string line;
    line.clear();
    formatter_->format(info, line);
    file_->write(line);
    if (line.capacity() > kMaxRetainedLineCapacity) std::string().swap(line);
  }

 private:
  FilterConstPtr filter_;  // Null: log every request.
  formatter::FormatterConstPtr formatter_;
  std::shared_ptr<LogFile> file_;
};

template <typename T>
absl::StatusOr<formatter::FormatterConstPtr> formatterOf(const T& config, const std::string& path) {
  if (!config.has_log_format()) return formatter::compileText(formatter::defaultFormat());
  return formatter::compileSubstitutionFormatString(config.log_format(),
                                                    config::fieldPath(path, "log_format"));
}

template <typename T>
absl::Status unpack(const google::protobuf::Any& any, T& config, const std::string& path) {
  if (!any.UnpackTo(&config)) {
    return config::invalidAt(path, absl::StrCat("cannot decode ", T::descriptor()->full_name()));
  }
  return absl::OkStatus();
}

absl::StatusOr<AccessLogConstSharedPtr> buildOne(const envoy::config::accesslog::v3::AccessLog& log,
                                                 const std::string& path, AccessLogFiles& files) {
  FilterConstPtr filter;
  if (log.has_filter()) {
    auto built = buildFilter(log.filter(), config::fieldPath(path, "filter"));
    if (!built.ok()) return built.status();
    filter = *std::move(built);
  }

  const std::string typed_path = config::fieldPath(path, "typed_config");
  if (!log.has_typed_config()) {
    return config::invalidAt(typed_path,
                             "required (a FileAccessLog, StdoutAccessLog or StderrAccessLog)");
  }
  const google::protobuf::Any& any = log.typed_config();
  absl::StatusOr<formatter::FormatterConstPtr> format;
  std::shared_ptr<LogFile> file;
  if (any.Is<FileAccessLog>()) {
    FileAccessLog config;
    if (auto s = unpack(any, config, typed_path); !s.ok()) return s;
    const std::string file_path = config::fieldPath(typed_path, "path");
    if (config.path().empty()) return config::invalidAt(file_path, "must not be empty");
    format = formatterOf(config, typed_path);
    if (!format.ok()) return format.status();
    auto opened = files.open(config.path());
    if (!opened.ok()) return config::invalidAt(file_path, opened.status().message());
    file = *std::move(opened);
  } else if (any.Is<StdoutAccessLog>()) {
    StdoutAccessLog config;
    if (auto s = unpack(any, config, typed_path); !s.ok()) return s;
    format = formatterOf(config, typed_path);
    if (!format.ok()) return format.status();
    file = files.stdoutFile();
  } else if (any.Is<StderrAccessLog>()) {
    StderrAccessLog config;
    if (auto s = unpack(any, config, typed_path); !s.ok()) return s;
    format = formatterOf(config, typed_path);
    if (!format.ok()) return format.status();
    file = files.stderrFile();
  } else {
    return config::invalidAt(typed_path, absl::StrCat("access logger type '", any.type_url(),
                                                      "' is not supported (use FileAccessLog, "
                                                      "StdoutAccessLog or StderrAccessLog)"));
  }
  return makeAccessLog(std::move(filter), *std::move(format), std::move(file));
}

}  // namespace

AccessLogConstSharedPtr makeAccessLog(FilterConstPtr filter, formatter::FormatterConstPtr formatter,
                                      std::shared_ptr<LogFile> file) {
  return std::make_shared<FormattedAccessLog>(std::move(filter), std::move(formatter),
                                              std::move(file));
}

absl::StatusOr<std::vector<AccessLogConstSharedPtr>> buildAccessLogs(
    const google::protobuf::RepeatedPtrField<envoy::config::accesslog::v3::AccessLog>& logs,
    const std::string& path, AccessLogFiles& files) {
  std::vector<AccessLogConstSharedPtr> built;
  built.reserve(logs.size());
  for (int i = 0; i < logs.size(); ++i) {
    auto log = buildOne(logs[i], config::indexPath(path, i), files);
    if (!log.ok()) return log.status();
    built.push_back(*std::move(log));
  }
  return built;
}

}  // namespace remora::accesslog
