// A route's hash_policy compiled: which parts of a request (headers, cookies, the client's IP,
// query parameters) make up the 64-bit key RING_HASH and MAGLEV balancers place it by.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "source/http/header_map.h"
#include "source/http/stream_info.h"

namespace envoy::config::route::v3 {
class RouteAction;
}

namespace remora::router {

class HashPolicy {
 public:
  // Compiles action.hash_policy, or returns nullptr when the list is empty. Errors name fields
  // under `action_path` (the RouteAction's own path, e.g. "...routes[0].route"). filter_state is
  // refused: Remora has no per-request filter state to read it from.
  static absl::StatusOr<std::unique_ptr<const HashPolicy>> compile(
      const envoy::config::route::v3::RouteAction& action, const std::string& action_path);

  // The request's hash, or nullopt when no policy produced one (the balancer then picks as if
  // there were no policy). Policies are tried in order; each hash found is combined into the
  // running value by rotating that value left one bit and XORing the new one, so the order
  // matters and a policy listed twice does not cancel itself out. A terminal policy ends the list
  // once any hash exists (produced by it or an earlier policy).
  //
  // Reads `headers` (including :path for query parameters) and, from `info`, the remote address
  // after x-forwarded-for processing (source_ip) and the socket's two ends (generated cookies).
  // A cookie policy with a ttl whose cookie the request lacks generates a value, hashes it, and
  // appends the Set-Cookie header value for the response to `set_cookies`. Nothing else is
  // allocated unless a header policy rewrites values or a header appears more than four times.
  std::optional<uint64_t> generateHash(const http::HeaderMap& headers, const http::StreamInfo& info,
                                       std::vector<std::string>& set_cookies) const;

  // The cookie value Envoy generates for a connection: xxHash64 of the direct remote address
  // followed by the local address ("10.0.0.1:5000" "10.0.0.2:80"), as 16 lowercase hex digits.
  // Requests on one connection get the same cookie, so concurrent streams agree on it.
  static std::string generatedCookieValue(const http::StreamInfo& info);

  // `name="value"` with "; Max-Age=<seconds>" unless max_age is 0 (a session cookie), "; Path="
  // when path is set, each attribute as "; name" or "; name=value", then "; HttpOnly".
  struct CookieAttribute {
    std::string name;
    std::string value;
  };
  static std::string setCookieValue(absl::string_view name, absl::string_view value,
                                    absl::string_view path, std::chrono::seconds max_age,
                                    const std::vector<CookieAttribute>& attributes);

  ~HashPolicy();

 private:
  enum class Kind { kHeader, kCookie, kSourceIp, kQueryParameter };
  struct Policy {
    Kind kind = Kind::kHeader;
    bool terminal = false;
    std::string name;  // Header (lowercase), cookie or query parameter name.
    // Header: regex_rewrite applied to every value before hashing.
    std::unique_ptr<const re2::RE2> rewrite;
    std::string substitution;
    // Cookie: generate one when absent if ttl is set.
    std::optional<std::chrono::seconds> ttl;
    std::string path;
    std::vector<CookieAttribute> attributes;
  };

  HashPolicy() = default;
  std::optional<uint64_t> evaluate(const Policy& policy, const http::HeaderMap& headers,
                                   const http::StreamInfo& info,
                                   std::vector<std::string>& set_cookies) const;

  std::vector<Policy> policies_;
};

}  // namespace remora::router
