#include "source/router/hash_policy.h"

#include <sys/socket.h>

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "source/config/field_path.h"
#include "source/router/route_match.h"
#include "source/upstream/consistent_hash.h"

namespace remora::router {
namespace {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;
using HashPolicyProto = envoy::config::route::v3::RouteAction::HashPolicy;

// Text that ends up in a request or response header must not be able to split it.
absl::Status checkHeaderText(const std::string& text, const std::string& path) {
  if (text.find_first_of("\0\r\n", 0, 3) != std::string::npos) {
    return invalidAt(path, "must not contain NUL, CR or LF");
  }
  return absl::OkStatus();
}

absl::Status checkName(const std::string& name, const std::string& path) {
  if (name.empty()) return invalidAt(path, "must not be empty");
  return checkHeaderText(name, path);
}

// The value of the first cookie called `name` across the request's cookie headers, without the
// double quotes it may be wrapped in; empty when there is none. Pieces without '=' are skipped.
absl::string_view findCookie(const http::HeaderMap& headers, absl::string_view name) {
  for (const http::HeaderEntry& entry : headers) {
    if (entry.key != "cookie") continue;
    absl::string_view rest = entry.value;
    while (!rest.empty()) {
      const size_t semicolon = rest.find(';');
      absl::string_view piece = rest.substr(0, semicolon);
      rest =
          semicolon == absl::string_view::npos ? absl::string_view() : rest.substr(semicolon + 1);
      const size_t start = piece.find_first_not_of(' ');
      if (start == absl::string_view::npos) continue;
      piece.remove_prefix(start);
      const size_t equals = piece.find('=');
      if (equals == absl::string_view::npos || piece.substr(0, equals) != name) continue;
      absl::string_view value = piece.substr(equals + 1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
  }
  return absl::string_view();
}

// The first value of query parameter `name` as sent (not percent-decoded; "" for a bare "name"),
// or nullopt when the query does not have it.
std::optional<absl::string_view> findQueryParameter(absl::string_view query,
                                                    absl::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const absl::string_view param = query.substr(0, amp);
    query = amp == absl::string_view::npos ? absl::string_view() : query.substr(amp + 1);
    const size_t equals = param.find('=');
    if (param.substr(0, equals) != name) continue;
    return equals == absl::string_view::npos ? absl::string_view() : param.substr(equals + 1);
  }
  return std::nullopt;
}

// The IP of an address without its port, read from its text form so nothing is allocated:
// "10.0.0.1:80" -> "10.0.0.1", "[::1]:80" -> "::1". Empty for pipes and unset addresses.
absl::string_view ipText(const network::Address& address) {
  const absl::string_view text = address.asString();
  if (address.family() == AF_INET) {
    const size_t colon = text.rfind(':');
    return colon == absl::string_view::npos ? text : text.substr(0, colon);
  }
  if (address.family() == AF_INET6) {
    const size_t bracket = text.rfind(']');
    if (text.empty() || text.front() != '[' || bracket == absl::string_view::npos) return text;
    return text.substr(1, bracket - 1);
  }
  return absl::string_view();
}

}  // namespace

HashPolicy::~HashPolicy() = default;

absl::StatusOr<std::unique_ptr<const HashPolicy>> HashPolicy::compile(
    const envoy::config::route::v3::RouteAction& action, const std::string& action_path) {
  if (action.hash_policy_size() == 0) return std::unique_ptr<const HashPolicy>();
  std::unique_ptr<HashPolicy> compiled(new HashPolicy());
  const std::string list_path = fieldPath(action_path, "hash_policy");
  for (int i = 0; i < action.hash_policy_size(); ++i) {
    const HashPolicyProto& config = action.hash_policy(i);
    const std::string path = indexPath(list_path, i);
    Policy policy;
    policy.terminal = config.terminal();
    switch (config.policy_specifier_case()) {
      case HashPolicyProto::kHeader: {
        const auto& header = config.header();
        const std::string hpath = fieldPath(path, "header");
        if (absl::Status s = checkName(header.header_name(), fieldPath(hpath, "header_name"));
            !s.ok()) {
          return s;
        }
        policy.kind = Kind::kHeader;
        policy.name = absl::AsciiStrToLower(header.header_name());
        if (header.has_regex_rewrite()) {
          const auto& rewrite = header.regex_rewrite();
          const std::string rpath = fieldPath(hpath, "regex_rewrite");
          auto regex = compileRegex(rewrite.pattern().regex(), fieldPath(rpath, "pattern.regex"));
          if (!regex.ok()) return regex.status();
          std::string error;
          if (!(*regex)->CheckRewriteString(rewrite.substitution(), &error)) {
            return invalidAt(fieldPath(rpath, "substitution"),
                             absl::StrCat("'", rewrite.substitution(), "': ", error));
          }
          policy.rewrite = std::move(*regex);
          policy.substitution = rewrite.substitution();
        }
        break;
      }
      case HashPolicyProto::kCookie: {
        const auto& cookie = config.cookie();
        const std::string cpath = fieldPath(path, "cookie");
        if (absl::Status s = checkName(cookie.name(), fieldPath(cpath, "name")); !s.ok()) return s;
        if (absl::Status s = checkHeaderText(cookie.path(), fieldPath(cpath, "path")); !s.ok()) {
          return s;
        }
        policy.kind = Kind::kCookie;
        policy.name = cookie.name();
        policy.path = cookie.path();
        if (cookie.has_ttl()) {
          if (cookie.ttl().seconds() < 0 || cookie.ttl().nanos() < 0) {
            return invalidAt(fieldPath(cpath, "ttl"), "must not be negative");
          }
          // Max-Age counts whole seconds; Envoy drops the fraction.
          policy.ttl = std::chrono::seconds(cookie.ttl().seconds());
        }
        const std::string apath = fieldPath(cpath, "attributes");
        for (int a = 0; a < cookie.attributes_size(); ++a) {
          const auto& attribute = cookie.attributes(a);
          const std::string epath = indexPath(apath, a);
          if (absl::Status s = checkName(attribute.name(), fieldPath(epath, "name")); !s.ok()) {
            return s;
          }
          if (absl::Status s = checkHeaderText(attribute.value(), fieldPath(epath, "value"));
              !s.ok()) {
            return s;
          }
          policy.attributes.push_back({attribute.name(), attribute.value()});
        }
        break;
      }
      case HashPolicyProto::kConnectionProperties:
        // source_ip is its only property; without it the entry hashes nothing, as in Envoy.
        if (!config.connection_properties().source_ip()) continue;
        policy.kind = Kind::kSourceIp;
        break;
      case HashPolicyProto::kQueryParameter: {
        const std::string qpath = fieldPath(fieldPath(path, "query_parameter"), "name");
        if (absl::Status s = checkName(config.query_parameter().name(), qpath); !s.ok()) return s;
        policy.kind = Kind::kQueryParameter;
        policy.name = config.query_parameter().name();
        break;
      }
      case HashPolicyProto::kFilterState:
        return invalidAt(fieldPath(path, "filter_state"), "not supported by Remora");
      default:
        return invalidAt(path,
                         "one of header, cookie, connection_properties, query_parameter or "
                         "filter_state is required");
    }
    compiled->policies_.push_back(std::move(policy));
  }
  if (compiled->policies_.empty()) return std::unique_ptr<const HashPolicy>();
  return std::unique_ptr<const HashPolicy>(std::move(compiled));
}

std::optional<uint64_t> HashPolicy::generateHash(const http::HeaderMap& headers,
                                                 const http::StreamInfo& info,
                                                 std::vector<std::string>& set_cookies) const {
  std::optional<uint64_t> hash;
  for (const Policy& policy : policies_) {
    if (const std::optional<uint64_t> part = evaluate(policy, headers, info, set_cookies)) {
      // Rotating first keeps the order significant and keeps two equal parts from cancelling.
      const uint64_t running = hash ? (*hash << 1) | (*hash >> 63) : 0;
      hash = running ^ *part;
    }
    if (policy.terminal && hash) break;
  }
  return hash;
}

std::optional<uint64_t> HashPolicy::evaluate(const Policy& policy, const http::HeaderMap& headers,
                                             const http::StreamInfo& info,
                                             std::vector<std::string>& set_cookies) const {
  switch (policy.kind) {
    case Kind::kHeader: {
      absl::InlinedVector<absl::string_view, 4> values;
      for (const http::HeaderEntry& entry : headers) {
        if (entry.key == policy.name) values.push_back(entry.value);
      }
      if (values.empty()) return std::nullopt;
      absl::InlinedVector<std::string, 1> rewritten;
      if (policy.rewrite != nullptr) {
        // Reserved up front: the views below point into these strings.
        rewritten.reserve(values.size());
        for (absl::string_view& value : values) {
          rewritten.emplace_back(value);
          re2::RE2::GlobalReplace(&rewritten.back(), *policy.rewrite, policy.substitution);
          value = rewritten.back();
        }
      }
      // Sorted, so a header repeated in a different order hashes the same; each value seeds the
      // next one's hash.
      std::sort(values.begin(), values.end());
      uint64_t chained = 0;
      for (absl::string_view value : values) chained = upstream::xxHash64(value, chained);
      return chained;
    }
    case Kind::kCookie: {
      const absl::string_view value = findCookie(headers, policy.name);
      if (!value.empty()) return upstream::xxHash64(value);
      if (!policy.ttl) return std::nullopt;
      const std::string generated = generatedCookieValue(info);
      set_cookies.push_back(
          setCookieValue(policy.name, generated, policy.path, *policy.ttl, policy.attributes));
      return upstream::xxHash64(generated);
    }
    case Kind::kSourceIp: {
      const absl::string_view ip = ipText(info.downstream_remote_address);
      if (ip.empty()) return std::nullopt;
      return upstream::xxHash64(ip);
    }
    case Kind::kQueryParameter: {
      const absl::string_view query = RequestPath::split(headers.path(), false).query;
      const std::optional<absl::string_view> value = findQueryParameter(query, policy.name);
      if (!value) return std::nullopt;
      return upstream::xxHash64(*value);
    }
  }
  return std::nullopt;
}

std::string HashPolicy::generatedCookieValue(const http::StreamInfo& info) {
  const uint64_t hash = upstream::xxHash64(absl::StrCat(
      info.downstream_direct_remote_address.asString(), info.downstream_local_address.asString()));
  return absl::StrCat(absl::Hex(hash, absl::kZeroPad16));
}

std::string HashPolicy::setCookieValue(absl::string_view name, absl::string_view value,
                                       absl::string_view path, std::chrono::seconds max_age,
                                       const std::vector<CookieAttribute>& attributes) {
  std::string out = absl::StrCat(name, "=\"", value, "\"");
  if (max_age.count() != 0) absl::StrAppend(&out, "; Max-Age=", max_age.count());
  if (!path.empty()) absl::StrAppend(&out, "; Path=", path);
  for (const CookieAttribute& attribute : attributes) {
    if (attribute.value.empty()) {
      absl::StrAppend(&out, "; ", attribute.name);
    } else {
      absl::StrAppend(&out, "; ", attribute.name, "=", attribute.value);
    }
  }
  absl::StrAppend(&out, "; HttpOnly");
  return out;
}

}  // namespace remora::router
