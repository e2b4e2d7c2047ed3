// The format string grammar: %NAME%, %NAME(arg)%, %NAME(arg):N%, with NAME in [A-Z0-9_] and arg
// free of ')', and "%%" for a literal percent sign.
#include "source/formatter/format_parser.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace remora::formatter {
namespace {

bool isNameChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

absl::Status syntaxError(absl::string_view format, size_t pos, absl::string_view what) {
  absl::string_view near = format.substr(pos, 40);
  return absl::InvalidArgumentError(absl::StrCat(
      "bad command operator syntax at position ", pos, " (", what, "): \"", near,
      near.size() < format.size() - pos ? "...\"" : "\"",
      "; expected %NAME%, %NAME(arg)% or %NAME(arg):max_length%, and %% for a literal %"));
}

}  // namespace

absl::StatusOr<std::vector<Piece>> parseFormat(absl::string_view format) {
  std::vector<Piece> pieces;
  auto literal = [&]() -> std::string& {
    if (pieces.empty() || pieces.back().op != nullptr) pieces.emplace_back();
    return pieces.back().literal;
  };
  size_t i = 0;
  while (i < format.size()) {
    const size_t percent = format.find('%', i);
    if (percent == absl::string_view::npos) {
      absl::StrAppend(&literal(), format.substr(i));
      break;
    }
    if (percent > i) absl::StrAppend(&literal(), format.substr(i, percent - i));
    if (percent + 1 < format.size() && format[percent + 1] == '%') {
      literal().push_back('%');
      i = percent + 2;
      continue;
    }
    size_t j = percent + 1;
    while (j < format.size() && isNameChar(format[j])) ++j;
    const absl::string_view name = format.substr(percent + 1, j - percent - 1);
    if (name.empty()) return syntaxError(format, percent, "no operator name after '%'");
    std::optional<absl::string_view> arg;
    if (j < format.size() && format[j] == '(') {
      const size_t close = format.find(')', j);
      if (close == absl::string_view::npos) return syntaxError(format, percent, "missing ')'");
      arg = format.substr(j + 1, close - j - 1);
      j = close + 1;
    }
    std::optional<size_t> max_length;
    if (j < format.size() && format[j] == ':') {
      size_t k = j + 1;
      while (k < format.size() && format[k] >= '0' && format[k] <= '9') ++k;
      size_t n = 0;
      if (k == j + 1 || !absl::SimpleAtoi(format.substr(j + 1, k - j - 1), &n)) {
        return syntaxError(format, percent, "max length is not a number");
      }
      max_length = n;
      j = k;
    }
    if (j >= format.size() || format[j] != '%') {
      return syntaxError(format, percent, "missing closing '%'");
    }
    auto op = makeOperator(name, arg, max_length.has_value());
    if (!op.ok()) return op.status();
    pieces.push_back(Piece{"", *std::move(op), max_length});
    i = j + 1;
  }
  return pieces;
}

bool appendOperator(const Piece& piece, const http::StreamInfo& info, std::string& out) {
  const size_t before = out.size();
  if (!piece.op->append(info, out)) return false;
  if (piece.max_length && out.size() - before > *piece.max_length) {
    out.resize(before + *piece.max_length);
  }
  return true;
}

void appendPieces(const std::vector<Piece>& pieces, const http::StreamInfo& info,
                  absl::string_view missing, std::string& out) {
  for (const Piece& piece : pieces) {
    if (piece.op == nullptr) {
      out.append(piece.literal);
    } else if (!appendOperator(piece, info, out)) {
      out.append(missing.data(), missing.size());
    }
  }
}

}  // namespace remora::formatter
