// Text-to-value parsers for protobuf scalars and time types (see proto_value_parsers.h).
// Hand-written scanners rather than strtod/regex so that what is accepted is exactly documented.
#include "source/config/proto_value_parsers.h"

#include <cfloat>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace remora::config {
namespace {

// Keeps error messages readable when someone pastes a certificate into a number field.
std::string quoted(absl::string_view text) {
  constexpr size_t kMax = 64;
  if (text.size() <= kMax) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kMax), "...'");
}

size_t skipDigits(absl::string_view text, size_t i) {
  while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) ++i;
  return i;
}

size_t skipSign(absl::string_view text) {
  return !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
}

// [+-]digits
bool isDecimalInteger(absl::string_view text) {
  const size_t start = skipSign(text);
  const size_t end = skipDigits(text, start);
  return end > start && end == text.size();
}

// [+-](digits[.digits*] | .digits)([eE][+-]digits)
bool isDecimalNumber(absl::string_view text) {
  size_t i = skipSign(text);
  const size_t int_start = i;
  i = skipDigits(text, i);
  size_t mantissa_digits = i - int_start;
  if (i < text.size() && text[i] == '.') {
    const size_t frac_start = i + 1;
    i = skipDigits(text, frac_start);
    mantissa_digits += i - frac_start;
  }
  if (mantissa_digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const size_t exp_start = i;
    i = skipDigits(text, i);
    if (i == exp_start) return false;
  }
  return i == text.size();
}

bool isAllZeroDigits(absl::string_view digits) {
  return digits.find_first_not_of('0') == absl::string_view::npos;
}

absl::Status outOfRange(absl::string_view text, absl::string_view type_name,
                        absl::string_view range) {
  return absl::InvalidArgumentError(
      absl::StrCat("value ", quoted(text), " is out of range for ", type_name, " (", range, ")"));
}

absl::Status notAnInteger(absl::string_view text, absl::string_view type_name) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid ", type_name, " ", quoted(text), " (expected an integer)"));
}

// "1e3" style integers: protobuf JSON accepts them when the value is integral.
absl::StatusOr<double> integralDouble(absl::string_view text, absl::string_view type_name) {
  double d = 0;
  if (!absl::SimpleAtod(text, &d) || !std::isfinite(d) || d != std::floor(d)) {
    return notAnInteger(text, type_name);
  }
  return d;
}

}  // namespace

absl::StatusOr<int64_t> parseSignedInt(absl::string_view text, int64_t min, int64_t max,
                                       absl::string_view type_name) {
  const std::string range = absl::StrCat(min, "..", max);
  if (isDecimalInteger(text)) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(text, &v) || v < min || v > max) {
      return outOfRange(text, type_name, range);
    }
    return v;
  }
  if (!isDecimalNumber(text)) return notAnInteger(text, type_name);
  absl::StatusOr<double> d = integralDouble(text, type_name);
  if (!d.ok()) return d.status();
  // max + 1 is a power of two for every integer type, so the comparison is exact in double.
  if (*d < static_cast<double>(min) || *d >= static_cast<double>(max) + 1.0) {
    return outOfRange(text, type_name, range);
  }
  return static_cast<int64_t>(*d);
}

absl::StatusOr<uint64_t> parseUnsignedInt(absl::string_view text, uint64_t max,
                                          absl::string_view type_name) {
  const std::string range = absl::StrCat("0..", max);
  auto negative = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("negative value ", quoted(text), " is not allowed for ", type_name));
  };
  if (isDecimalInteger(text)) {
    if (text[0] == '-') {
      if (!isAllZeroDigits(text.substr(1))) return negative();
      return 0;
    }
    uint64_t v = 0;
    if (!absl::SimpleAtoi(text, &v) || v > max) return outOfRange(text, type_name, range);
    return v;
  }
  if (!isDecimalNumber(text)) return notAnInteger(text, type_name);
  absl::StatusOr<double> d = integralDouble(text, type_name);
  if (!d.ok()) return d.status();
  if (*d < 0) return negative();
  if (*d >= static_cast<double>(max) + 1.0) return outOfRange(text, type_name, range);
  return static_cast<uint64_t>(*d);
}

absl::StatusOr<double> parseFloatingPoint(absl::string_view text, bool is_float) {
  const absl::string_view type_name = is_float ? "float" : "double";
  if (text == "Infinity" || text == ".inf" || text == ".Inf" || text == ".INF" || text == "+.inf" ||
      text == "+.Inf" || text == "+.INF") {
    return std::numeric_limits<double>::infinity();
  }
  if (text == "-Infinity" || text == "-.inf" || text == "-.Inf" || text == "-.INF") {
    return -std::numeric_limits<double>::infinity();
  }
  if (text == "NaN" || text == ".nan" || text == ".NaN" || text == ".NAN") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  double d = 0;
  if (!isDecimalNumber(text) || !absl::SimpleAtod(text, &d)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid ", type_name, " ", quoted(text),
                                                   " (expected a number, Infinity or NaN)"));
  }
  if (!std::isfinite(d) || (is_float && std::fabs(d) > FLT_MAX)) {
    return outOfRange(text, type_name, "write Infinity for an infinite value");
  }
  return d;
}

absl::StatusOr<bool> parseBool(absl::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("invalid bool ", quoted(text), " (expected true or false)"));
}

absl::StatusOr<std::string> parseBase64(absl::string_view text) {
  std::string out;
  if (absl::Base64Unescape(text, &out) || absl::WebSafeBase64Unescape(text, &out)) return out;
  return absl::InvalidArgumentError(
      absl::StrCat("invalid base64 ", quoted(text), " (bytes fields take base64 text)"));
}

absl::StatusOr<SecondsAndNanos> parseDurationText(absl::string_view text) {
  constexpr int64_t kMaxSeconds = 315576000000;  // protobuf's limit: 10,000 years.
  auto invalid = [&] {
    std::string hint;
    if (isDecimalNumber(text)) hint = absl::StrCat("; did you mean '", text, "s'?");
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration ", quoted(text), " (expected e.g. '0.25s'", hint, ")"));
  };
  absl::string_view rest = text;
  const bool negative = !rest.empty() && rest[0] == '-';
  if (negative) rest.remove_prefix(1);
  if (rest.empty() || rest.back() != 's') return invalid();
  rest.remove_suffix(1);
  const size_t int_end = skipDigits(rest, 0);
  if (int_end == 0) return invalid();
  absl::string_view frac;
  if (int_end < rest.size()) {
    if (rest[int_end] != '.') return invalid();
    frac = rest.substr(int_end + 1);
    if (frac.empty() || frac.size() > 9 || skipDigits(frac, 0) != frac.size()) return invalid();
  }
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(rest.substr(0, int_end), &seconds) || seconds > kMaxSeconds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "duration ", quoted(text), " is out of range (at most ", kMaxSeconds, "s either way)"));
  }
  int32_t nanos = 0;
  if (!frac.empty()) {
    std::string padded(frac);
    padded.resize(9, '0');
    (void)absl::SimpleAtoi(padded, &nanos);  // Nine digits always fit an int32.
  }
  if (negative) return SecondsAndNanos{-seconds, -nanos};
  return SecondsAndNanos{seconds, nanos};
}

absl::StatusOr<SecondsAndNanos> parseTimestampText(absl::string_view text) {
  constexpr int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid timestamp ", quoted(text), " (expected RFC 3339, e.g. '2024-01-02T03:04:05Z')"));
  }
  const int64_t seconds = absl::ToUnixSeconds(t);
  if (seconds < kMinSeconds || seconds > kMaxSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp ", quoted(text), " is out of range (years 0001 to 9999)"));
  }
  const auto nanos =
      static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1));
  return SecondsAndNanos{seconds, nanos};
}

bool looksLikeYamlNumber(absl::string_view text) {
  if (isDecimalNumber(text)) return true;
  return parseFloatingPoint(text, false).ok() && text != "Infinity" && text != "-Infinity" &&
         text != "NaN";
}

}  // namespace remora::config
