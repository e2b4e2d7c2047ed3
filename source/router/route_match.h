// The match half of a route, compiled: path (prefix, path, safe_regex, path_separated_prefix),
// headers, query parameters and grpc. Internal to source/router.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "source/http/header_map.h"

namespace envoy::config::route::v3 {
class HeaderMatcher;
class QueryParameterMatcher;
class RouteMatch;
}  // namespace envoy::config::route::v3

namespace envoy::type::matcher::v3 {
class StringMatcher;
}

namespace remora::router {

// Envoy's default re2.max_program_size.error_level: larger regexes are rejected at config time
// because their matching cost is hard to bound.
inline constexpr int kMaxRegexProgramSize = 100;

// Compiles with RE2's defaults; errors name `path` (the field holding the regex text).
absl::StatusOr<std::unique_ptr<const re2::RE2>> compileRegex(const std::string& regex,
                                                             const std::string& path);

// Where the ":port" of a host or :authority value starts ("[::1]:80" -> 5), or npos when it has
// no port. A bracketed IPv6 literal without a port has none.
size_t hostPortStart(absl::string_view host);

// The pieces of :path that matching looks at, split once per request.
struct RequestPath {
  absl::string_view full;   // :path as received.
  absl::string_view path;   // Before '?' or '#'.
  absl::string_view match;  // `path`, cut at ';' when ignore_path_parameters_in_path_matching.
  absl::string_view query;  // After '?', before '#'; empty when none.

  static RequestPath split(absl::string_view full, bool ignore_path_parameters);
};

class StringMatcher {
 public:
  static absl::StatusOr<StringMatcher> compile(
      const envoy::type::matcher::v3::StringMatcher& config, const std::string& path);
  bool match(absl::string_view value) const;

 private:
  enum class Kind { kExact, kPrefix, kSuffix, kContains, kRegex };
  Kind kind_ = Kind::kExact;
  bool ignore_case_ = false;
  std::string pattern_;
  std::unique_ptr<const re2::RE2> regex_;
};

class HeaderMatcher {
 public:
  static absl::StatusOr<HeaderMatcher> compile(
      const envoy::config::route::v3::HeaderMatcher& config, const std::string& path);
  bool match(const http::HeaderMap& headers) const;

 private:
  enum class Kind { kPresent, kRange, kString };
  bool matchValue(absl::string_view value) const;

  std::string name_;  // Lowercase.
  Kind kind_ = Kind::kPresent;
  bool present_ = true;
  int64_t range_start_ = 0;
  int64_t range_end_ = 0;
  std::unique_ptr<StringMatcher> string_;
  bool invert_ = false;
  bool missing_as_empty_ = false;
};

class QueryParameterMatcher {
 public:
  static absl::StatusOr<QueryParameterMatcher> compile(
      const envoy::config::route::v3::QueryParameterMatcher& config, const std::string& path);
  bool match(absl::string_view query) const;

 private:
  std::string name_;
  std::unique_ptr<StringMatcher> string_;  // Null: presence only.
};

class RouteMatcher {
 public:
  // kConnect: connect_matcher, which matches CONNECT requests (they carry no path) and nothing
  // else.
  enum class PathKind { kPrefix, kPath, kRegex, kSeparatedPrefix, kConnect };

  static absl::StatusOr<RouteMatcher> compile(const envoy::config::route::v3::RouteMatch& config,
                                              const std::string& path);
  bool matches(const http::HeaderMap& headers, const RequestPath& path) const;

  PathKind pathKind() const { return path_kind_; }
  bool caseSensitive() const { return case_sensitive_; }
  // The prefix or path of kPrefix, kPath and kSeparatedPrefix.
  const std::string& pathValue() const { return path_value_; }
  // How many leading bytes of the request path a prefix_rewrite replaces: the configured prefix
  // or path, or the whole matched path for safe_regex. nullopt when the path does not match.
  std::optional<size_t> matchedLength(const RequestPath& path) const;

 private:
  bool matchesPath(absl::string_view path) const;

  PathKind path_kind_ = PathKind::kPrefix;
  std::string path_value_;
  std::unique_ptr<const re2::RE2> path_regex_;
  bool case_sensitive_ = true;
  std::vector<HeaderMatcher> headers_;
  std::vector<QueryParameterMatcher> query_parameters_;
  bool grpc_only_ = false;
};

}  // namespace remora::router
