#include "source/router/route_match.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "envoy/type/matcher/v3/string.pb.h"
#include "source/config/field_path.h"

namespace remora::router {
namespace {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;

bool containsIgnoreCase(absl::string_view haystack, absl::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (absl::EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// Base-10 integer with an optional sign and nothing else, as range_match requires: no spaces,
// no fraction, no trailing text. Overflow does not parse.
bool parseStrictInt64(absl::string_view text, int64_t& out) {
  if (text.empty()) return false;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    text.remove_prefix(1);
    if (text.empty()) return false;
  }
  // Accumulate as a negative number so INT64_MIN parses.
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const int digit = c - '0';
    if (value < (std::numeric_limits<int64_t>::min() + digit) / 10) return false;
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == std::numeric_limits<int64_t>::min()) return false;
    value = -value;
  }
  out = value;
  return true;
}

// The value Envoy matches for a header: its only value, or every value joined with ','.
// `storage` is touched only in the rare multi-value case, so matching usually allocates nothing.
bool headerValue(const http::HeaderMap& headers, absl::string_view name, absl::string_view& out,
                 std::string& storage) {
  const std::string* first = nullptr;
  bool several = false;
  for (const http::HeaderEntry& e : headers) {
    if (e.key != name) continue;
    if (first != nullptr) {
      several = true;
      break;
    }
    first = &e.value;
  }
  if (first == nullptr) return false;
  if (several) {
    storage = headers.getJoined(name);
    out = storage;
  } else {
    out = *first;
  }
  return true;
}

bool hasForbiddenChar(absl::string_view text) {
  return text.find_first_of(absl::string_view("\0\r\n", 3)) != absl::string_view::npos;
}

bool isGrpcContentType(absl::string_view content_type) {
  // "application/grpc" or "application/grpc+proto" etc.; application/grpc-web is not gRPC.
  constexpr absl::string_view kGrpc = "application/grpc";
  return absl::StartsWith(content_type, kGrpc) &&
         (content_type.size() == kGrpc.size() || content_type[kGrpc.size()] == '+');
}

}  // namespace

absl::StatusOr<std::unique_ptr<const re2::RE2>> compileRegex(const std::string& regex,
                                                             const std::string& path) {
  auto compiled = std::make_unique<re2::RE2>(regex, re2::RE2::Quiet);
  if (!compiled->ok()) {
    return invalidAt(path, absl::StrCat("invalid regex '", regex, "': ", compiled->error()));
  }
  if (compiled->ProgramSize() > kMaxRegexProgramSize) {
    return invalidAt(path,
                     absl::StrCat("regex '", regex, "' has program size ", compiled->ProgramSize(),
                                  ", more than the allowed ", kMaxRegexProgramSize));
  }
  return std::unique_ptr<const re2::RE2>(std::move(compiled));
}

size_t hostPortStart(absl::string_view host) {
  const size_t colon = host.rfind(':');
  if (colon == absl::string_view::npos) return absl::string_view::npos;
  const size_t bracket = host.rfind(']');
  if (bracket != absl::string_view::npos && bracket > colon) return absl::string_view::npos;
  return colon;
}

RequestPath RequestPath::split(absl::string_view full, bool ignore_path_parameters) {
  RequestPath p;
  p.full = full;
  const size_t path_end = full.find_first_of("?#");
  p.path = full.substr(0, path_end);
  if (path_end != absl::string_view::npos && full[path_end] == '?') {
    absl::string_view rest = full.substr(path_end + 1);
    p.query = rest.substr(0, rest.find('#'));
  }
  p.match = p.path;
  if (ignore_path_parameters) p.match = p.path.substr(0, p.path.find(';'));
  return p;
}

absl::StatusOr<StringMatcher> StringMatcher::compile(
    const envoy::type::matcher::v3::StringMatcher& config, const std::string& path) {
  using Config = envoy::type::matcher::v3::StringMatcher;
  StringMatcher m;
  m.ignore_case_ = config.ignore_case();
  switch (config.match_pattern_case()) {
    case Config::kExact:
      m.kind_ = Kind::kExact;
      m.pattern_ = config.exact();
      return m;
    case Config::kPrefix:
      m.kind_ = Kind::kPrefix;
      m.pattern_ = config.prefix();
      if (m.pattern_.empty()) return invalidAt(fieldPath(path, "prefix"), "must not be empty");
      return m;
    case Config::kSuffix:
      m.kind_ = Kind::kSuffix;
      m.pattern_ = config.suffix();
      if (m.pattern_.empty()) return invalidAt(fieldPath(path, "suffix"), "must not be empty");
      return m;
    case Config::kContains:
      m.kind_ = Kind::kContains;
      m.pattern_ = config.contains();
      if (m.pattern_.empty()) return invalidAt(fieldPath(path, "contains"), "must not be empty");
      return m;
    case Config::kSafeRegex: {
      m.kind_ = Kind::kRegex;
      auto regex = compileRegex(config.safe_regex().regex(), fieldPath(path, "safe_regex.regex"));
      if (!regex.ok()) return regex.status();
      m.regex_ = std::move(*regex);
      return m;
    }
    default:
      return invalidAt(path, "one of exact, prefix, suffix, contains or safe_regex is required");
  }
}

bool StringMatcher::match(absl::string_view value) const {
  switch (kind_) {
    case Kind::kExact:
      return ignore_case_ ? absl::EqualsIgnoreCase(value, pattern_) : value == pattern_;
    case Kind::kPrefix:
      return ignore_case_ ? absl::StartsWithIgnoreCase(value, pattern_)
                          : absl::StartsWith(value, pattern_);
    case Kind::kSuffix:
      return ignore_case_ ? absl::EndsWithIgnoreCase(value, pattern_)
                          : absl::EndsWith(value, pattern_);
    case Kind::kContains:
      return ignore_case_ ? containsIgnoreCase(value, pattern_)
                          : absl::StrContains(value, pattern_);
    case Kind::kRegex:
      // ignore_case does not apply to regexes (Envoy: use (?i) in the pattern).
      return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *regex_);
  }
  return false;
}

absl::StatusOr<HeaderMatcher> HeaderMatcher::compile(
    const envoy::config::route::v3::HeaderMatcher& config, const std::string& path) {
  using Config = envoy::config::route::v3::HeaderMatcher;
  HeaderMatcher m;
  m.name_ = absl::AsciiStrToLower(config.name());
  if (m.name_.empty()) return invalidAt(fieldPath(path, "name"), "must not be empty");
  if (hasForbiddenChar(m.name_)) {
    return invalidAt(fieldPath(path, "name"), "must not contain NUL, CR or LF");
  }
  m.invert_ = config.invert_match();
  m.missing_as_empty_ = config.treat_missing_header_as_empty();
  switch (config.header_match_specifier_case()) {
    case Config::kRangeMatch:
      m.kind_ = Kind::kRange;
      m.range_start_ = config.range_match().start();
      m.range_end_ = config.range_match().end();
      break;
    case Config::kPresentMatch:
      m.kind_ = Kind::kPresent;
      m.present_ = config.present_match();
      break;
    case Config::kStringMatch: {
      m.kind_ = Kind::kString;
      auto string = StringMatcher::compile(config.string_match(), fieldPath(path, "string_match"));
      if (!string.ok()) return string.status();
      m.string_ = std::make_unique<StringMatcher>(std::move(*string));
      break;
    }
    default:
      // A name alone matches on presence.
      m.kind_ = Kind::kPresent;
      m.present_ = true;
      break;
  }
  return m;
}

bool HeaderMatcher::matchValue(absl::string_view value) const {
  switch (kind_) {
    case Kind::kRange: {
      int64_t number = 0;
      return parseStrictInt64(value, number) && number >= range_start_ && number < range_end_;
    }
    case Kind::kString:
      return string_->match(value);
    case Kind::kPresent:
      return true;
  }
  return false;
}

bool HeaderMatcher::match(const http::HeaderMap& headers) const {
  absl::string_view value;
  std::string storage;
  const bool present = headerValue(headers, name_, value, storage);
  if (kind_ == Kind::kPresent) return (present == present_) != invert_;
  // A missing header fails the rule whether or not it is inverted, unless it is to be read as "".
  if (!present && !missing_as_empty_) return false;
  return matchValue(value) != invert_;
}

absl::StatusOr<QueryParameterMatcher> QueryParameterMatcher::compile(
    const envoy::config::route::v3::QueryParameterMatcher& config, const std::string& path) {
  QueryParameterMatcher m;
  m.name_ = config.name();
  if (m.name_.empty()) return invalidAt(fieldPath(path, "name"), "must not be empty");
  if (config.has_string_match()) {
    auto string = StringMatcher::compile(config.string_match(), fieldPath(path, "string_match"));
    if (!string.ok()) return string.status();
    m.string_ = std::make_unique<StringMatcher>(std::move(*string));
  }
  return m;
}

bool QueryParameterMatcher::match(absl::string_view query) const {
  // Values are compared as sent (still percent-encoded), and only the first occurrence of the
  // name counts, as in Envoy.
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const absl::string_view param = query.substr(0, amp);
    query = amp == absl::string_view::npos ? absl::string_view() : query.substr(amp + 1);
    const size_t eq = param.find('=');
    const absl::string_view key = param.substr(0, eq);
    if (key != name_) continue;
    if (string_ == nullptr) return true;
    return string_->match(eq == absl::string_view::npos ? absl::string_view()
                                                        : param.substr(eq + 1));
  }
  return false;
}

absl::StatusOr<RouteMatcher> RouteMatcher::compile(
    const envoy::config::route::v3::RouteMatch& config, const std::string& path) {
  using Config = envoy::config::route::v3::RouteMatch;
  RouteMatcher m;
  switch (config.path_specifier_case()) {
    case Config::kPrefix:
      m.path_kind_ = PathKind::kPrefix;
      m.path_value_ = config.prefix();
      break;
    case Config::kPath:
      m.path_kind_ = PathKind::kPath;
      m.path_value_ = config.path();
      break;
    case Config::kSafeRegex: {
      m.path_kind_ = PathKind::kRegex;
      auto regex = compileRegex(config.safe_regex().regex(), fieldPath(path, "safe_regex.regex"));
      if (!regex.ok()) return regex.status();
      m.path_regex_ = std::move(*regex);
      break;
    }
    case Config::kPathSeparatedPrefix: {
      m.path_kind_ = PathKind::kSeparatedPrefix;
      m.path_value_ = config.path_separated_prefix();
      const std::string& v = m.path_value_;
      if (v.size() < 2 || v.find_first_of("?#") != std::string::npos || v.back() == '/') {
        return invalidAt(fieldPath(path, "path_separated_prefix"),
                         absl::StrCat("'", v,
                                      "' must be at least 2 characters, contain no '?' or '#' "
                                      "and not end in '/'"));
      }
      break;
    }
    case Config::kConnectMatcher:
      m.path_kind_ = PathKind::kConnect;
      break;
    case Config::kPathMatchPolicy:
      return invalidAt(fieldPath(path, "path_match_policy"), "not supported by Remora");
    default:
      return invalidAt(path,
                       "one of prefix, path, safe_regex or path_separated_prefix is required");
  }
  m.case_sensitive_ = !config.has_case_sensitive() || config.case_sensitive().value();

  const std::string headers_path = fieldPath(path, "headers");
  for (int i = 0; i < config.headers_size(); ++i) {
    auto header = HeaderMatcher::compile(config.headers(i), indexPath(headers_path, i));
    if (!header.ok()) return header.status();
    m.headers_.push_back(std::move(*header));
  }
  const std::string query_path = fieldPath(path, "query_parameters");
  for (int i = 0; i < config.query_parameters_size(); ++i) {
    auto query =
        QueryParameterMatcher::compile(config.query_parameters(i), indexPath(query_path, i));
    if (!query.ok()) return query.status();
    m.query_parameters_.push_back(std::move(*query));
  }
  m.grpc_only_ = config.has_grpc();
  return m;
}

bool RouteMatcher::matchesPath(absl::string_view path) const {
  switch (path_kind_) {
    case PathKind::kPrefix:
      return case_sensitive_ ? absl::StartsWith(path, path_value_)
                             : absl::StartsWithIgnoreCase(path, path_value_);
    case PathKind::kPath:
      return case_sensitive_ ? path == path_value_ : absl::EqualsIgnoreCase(path, path_value_);
    case PathKind::kRegex:
      return re2::RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *path_regex_);
    case PathKind::kSeparatedPrefix: {
      const bool prefixed = case_sensitive_ ? absl::StartsWith(path, path_value_)
                                            : absl::StartsWithIgnoreCase(path, path_value_);
      return prefixed && (path.size() == path_value_.size() || path[path_value_.size()] == '/');
    }
    case PathKind::kConnect:
      return true;
  }
  return false;
}

bool RouteMatcher::matches(const http::HeaderMap& headers, const RequestPath& path) const {
  // As Envoy: CONNECT requests match connect_matcher routes only, and those match nothing else.
  if ((headers.method() == "CONNECT") != (path_kind_ == PathKind::kConnect)) return false;
  if (!matchesPath(path.match)) return false;
  for (const HeaderMatcher& h : headers_) {
    if (!h.match(headers)) return false;
  }
  for (const QueryParameterMatcher& q : query_parameters_) {
    if (!q.match(path.query)) return false;
  }
  if (grpc_only_) {
    const std::string* content_type = headers.get("content-type");
    if (content_type == nullptr || !isGrpcContentType(*content_type)) return false;
  }
  return true;
}

std::optional<size_t> RouteMatcher::matchedLength(const RequestPath& path) const {
  if (!matchesPath(path.match)) return std::nullopt;
  if (path_kind_ == PathKind::kConnect) return 0;
  return path_kind_ == PathKind::kRegex ? path.match.size() : path_value_.size();
}

}  // namespace remora::router
