// Splits a substitution format string into literal text and compiled command operators, and
// evaluates the pieces; shared by text formats, header values and json_format string values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "source/formatter/operators.h"
#include "source/http/stream_info.h"

namespace remora::formatter {

struct Piece {
  std::string literal;  // Used when op is null.
  OperatorPtr op;
  std::optional<size_t> max_length;  // From %OP(arg):N%; values longer are cut to N bytes.
};

// "%%" is a literal "%". Errors say what is wrong and where, e.g.
// "unknown command operator %FOO%" or "bad command operator syntax at position 3: ...".
absl::StatusOr<std::vector<Piece>> parseFormat(absl::string_view format);

// Appends the value of one operator piece, truncated to its max_length; false when missing.
bool appendOperator(const Piece& piece, const http::StreamInfo& info, std::string& out);

// Appends every piece; a missing operator value prints as `missing`.
void appendPieces(const std::vector<Piece>& pieces, const http::StreamInfo& info,
                  absl::string_view missing, std::string& out);

}  // namespace remora::formatter
