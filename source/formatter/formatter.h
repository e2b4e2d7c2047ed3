// Envoy's substitution format strings ("%REQ(:PATH)% %RESPONSE_CODE%", json_format), compiled once
// at config time and evaluated per request. Used by access logs and by request/response header
// values (%DOWNSTREAM_REMOTE_ADDRESS% and friends in route header mutations).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "source/http/stream_info.h"

namespace google::protobuf {
class Struct;
}

namespace remora::formatter {

class Formatter {
 public:
  virtual ~Formatter() = default;
  // Appends the formatted text for one request to `out`.
  virtual void format(const http::StreamInfo& info, std::string& out) const = 0;
};
using FormatterConstPtr = std::unique_ptr<const Formatter>;

// A text format: literal text with %OPERATOR% / %OPERATOR(arg)% / %OPERATOR(arg):max_len%.
// Unknown operators are an error naming the operator. Missing values print "-" as in Envoy.
absl::StatusOr<FormatterConstPtr> compileText(const std::string& format);
// A json_format: each value a format string (or nested struct); emits one JSON object per
// request, with typed values where Envoy types them (numbers for %RESPONSE_CODE%, etc.).
absl::StatusOr<FormatterConstPtr> compileJson(const google::protobuf::Struct& format);
// A request/response header value from route config: the same operators, but a missing value
// formats as "" rather than "-", and "%%" is a literal percent, as in Envoy.
absl::StatusOr<FormatterConstPtr> compileHeaderValue(const std::string& format);
// Envoy's default access log format.
const std::string& defaultFormat();

}  // namespace remora::formatter
