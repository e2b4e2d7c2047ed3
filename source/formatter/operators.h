// The command operators of substitution formats (%RESPONSE_CODE%, %REQ(x)%, %START_TIME(f)%, ...),
// each built once from its name and argument and then evaluated against a StreamInfo per request.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "source/http/stream_info.h"

namespace remora::formatter {

class Operator {
 public:
  virtual ~Operator() = default;
  // Appends the value and returns true, or returns false (appending nothing) when the request has
  // no such value; the caller decides how a missing value prints ("-", "" or JSON null).
  virtual bool append(const http::StreamInfo& info, std::string& out) const = 0;
  // Whether json_format emits a value that is exactly this operator as a JSON number.
  virtual bool numeric() const { return false; }
};
using OperatorPtr = std::unique_ptr<const Operator>;

// The operator for %name%, %name(arg)% (arg set) or either followed by ":max_length" (the caller
// truncates; this only checks that the operator accepts a length). Errors name the operator.
absl::StatusOr<OperatorPtr> makeOperator(absl::string_view name,
                                         std::optional<absl::string_view> arg, bool has_max_length);

}  // namespace remora::formatter
