// Specification of RouteAction.hash_policy: what each policy kind hashes, how several combine,
// when terminal stops the list, the cookies generated for clients that lack one, and the config
// errors, all as Envoy defines them.
#include "source/router/hash_policy.h"

#include <xxhash.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "google/protobuf/descriptor.h"
#include "source/config/supported_fields.h"
#include "source/config/yaml_to_proto.h"
#include "test/router/route_test_util.h"

namespace remora::router {
namespace {

using test::request;

uint64_t xxh(absl::string_view s, uint64_t seed = 0) { return XXH64(s.data(), s.size(), seed); }
uint64_t rotl1(uint64_t v) { return (v << 1) | (v >> 63); }

absl::StatusOr<std::unique_ptr<const HashPolicy>> compileYaml(const std::string& action_yaml) {
  envoy::config::route::v3::RouteAction action;
  config::ParseReport report;
  if (absl::Status s = config::parseYaml(action_yaml, action, report); !s.ok()) return s;
  return HashPolicy::compile(action, "route");
}

// `policies_yaml` is the hash_policy list, e.g. "[{header: {header_name: x}}]".
std::unique_ptr<const HashPolicy> policy(const std::string& policies_yaml) {
  auto compiled = compileYaml("hash_policy: " + policies_yaml);
  INFO(compiled.status().ToString());
  REQUIRE(compiled.ok());
  REQUIRE(*compiled != nullptr);
  return std::move(*compiled);
}

std::string errorOf(const std::string& policies_yaml) {
  auto compiled = compileYaml("hash_policy: " + policies_yaml);
  return compiled.ok() ? std::string() : std::string(compiled.status().message());
}

network::Address address(const std::string& ip, uint32_t port) {
  auto a = network::Address::fromIpPort(ip, port);
  REQUIRE(a.ok());
  return *a;
}

// A client at 10.0.0.1:5000 connected to 10.0.0.2:80, not behind another proxy.
http::StreamInfo client() {
  http::StreamInfo info;
  info.downstream_direct_remote_address = address("10.0.0.1", 5000);
  info.downstream_remote_address = info.downstream_direct_remote_address;
  info.downstream_local_address = address("10.0.0.2", 80);
  return info;
}

struct Result {
  std::optional<uint64_t> hash;
  std::vector<std::string> set_cookies;
};

Result hashOf(const HashPolicy& p, const http::HeaderMap& headers,
              const http::StreamInfo& info = client()) {
  Result r;
  r.hash = p.generateHash(headers, info, r.set_cookies);
  return r;
}

std::optional<uint64_t> hashFor(const std::string& policies_yaml, const http::HeaderMap& headers,
                                const http::StreamInfo& info = client()) {
  return hashOf(*policy(policies_yaml), headers, info).hash;
}

std::string hex16(uint64_t v) { return absl::StrFormat("%016x", v); }

// The cookie value generated for client(): the hash of its remote then local address, in hex.
const std::string kClientCookie = hex16(xxh("10.0.0.1:500010.0.0.2:80"));

// --- header --------------------------------------------------------------------------------------

TEST_CASE("a header policy hashes the header value with xxHash64 seed 0", "[router][hash]") {
  CHECK(hashFor("[{header: {header_name: x-user}}]", request("h", "/", {{"x-user", "alice"}})) ==
        xxh("alice"));
}

TEST_CASE("a header policy on an absent header produces no hash", "[router][hash]") {
  CHECK_FALSE(hashFor("[{header: {header_name: x-user}}]", request("h", "/")).has_value());
}

TEST_CASE("a header present with an empty value is hashed", "[router][hash]") {
  CHECK(hashFor("[{header: {header_name: x-user}}]", request("h", "/", {{"x-user", ""}})) ==
        xxh(""));
}

TEST_CASE("a header policy names its header case-insensitively", "[router][hash]") {
  CHECK(hashFor("[{header: {header_name: X-User}}]", request("h", "/", {{"x-user", "alice"}})) ==
        xxh("alice"));
}

TEST_CASE("a header policy may hash a pseudo-header such as :authority", "[router][hash]") {
  CHECK(hashFor("[{header: {header_name: \":authority\"}}]", request("example.com", "/")) ==
        xxh("example.com"));
}

TEST_CASE("a repeated header hashes its sorted values each seeding the next", "[router][hash]") {
  const uint64_t expected = xxh("b", xxh("a"));
  CHECK(hashFor("[{header: {header_name: x-k}}]",
                request("h", "/", {{"x-k", "b"}, {"x-k", "a"}})) == expected);
  CHECK(hashFor("[{header: {header_name: x-k}}]",
                request("h", "/", {{"x-k", "a"}, {"x-k", "b"}})) == expected);
}

TEST_CASE("a header regex_rewrite rewrites the value before it is hashed", "[router][hash]") {
  const std::string p =
      R"([{header: {header_name: x-session, regex_rewrite: {pattern: {regex: "^(\\w+)-.*$"},
          substitution: "\\1"}}}])";
  CHECK(hashFor(p, request("h", "/", {{"x-session", "alice-123"}})) == xxh("alice"));
  CHECK(hashFor(p, request("h", "/", {{"x-session", "alice-456"}})) == xxh("alice"));
  CHECK(hashFor(p, request("h", "/", {{"x-session", "plain"}})) == xxh("plain"));
}

TEST_CASE("a header regex_rewrite replaces every match in every value", "[router][hash]") {
  const std::string p =
      R"([{header: {header_name: x-k, regex_rewrite: {pattern: {regex: "[0-9]"},
          substitution: "#"}}}])";
  CHECK(hashFor(p, request("h", "/", {{"x-k", "a1b22"}, {"x-k", "7"}})) == xxh("a#b##", xxh("#")));
}

// --- cookie --------------------------------------------------------------------------------------

TEST_CASE("a cookie policy hashes the value of the named cookie", "[router][hash]") {
  CHECK(hashFor("[{cookie: {name: session}}]",
                request("h", "/", {{"cookie", "a=1; session=xyz; b=2"}})) == xxh("xyz"));
}

TEST_CASE("a cookie value in double quotes is hashed without them", "[router][hash]") {
  CHECK(hashFor("[{cookie: {name: session}}]",
                request("h", "/", {{"cookie", "session=\"xyz\""}})) == xxh("xyz"));
}

TEST_CASE("a cookie is found in any of the request's cookie headers", "[router][hash]") {
  CHECK(hashFor("[{cookie: {name: session}}]",
                request("h", "/", {{"cookie", "a=1"}, {"cookie", "session=xyz"}})) == xxh("xyz"));
}

TEST_CASE("cookie names are matched exactly and the first cookie of that name counts",
          "[router][hash]") {
  CHECK(
      hashFor("[{cookie: {name: session}}]",
              request("h", "/", {{"cookie", "Session=no; xsession=no; session=yes; session=2"}})) ==
      xxh("yes"));
}

TEST_CASE("an absent cookie without ttl produces no hash and no set-cookie", "[router][hash]") {
  auto p = policy("[{cookie: {name: session}}]");
  Result r = hashOf(*p, request("h", "/", {{"cookie", "other=1"}}));
  CHECK_FALSE(r.hash.has_value());
  CHECK(r.set_cookies.empty());
}

TEST_CASE("a cookie present in the request is used and no set-cookie is generated",
          "[router][hash]") {
  auto p = policy("[{cookie: {name: session, ttl: 3600s, path: /}}]");
  Result r = hashOf(*p, request("h", "/", {{"cookie", "session=abc"}}));
  CHECK(r.hash == xxh("abc"));
  CHECK(r.set_cookies.empty());
}

TEST_CASE("an absent cookie with ttl is generated from the connection and hashed",
          "[router][hash]") {
  auto p = policy("[{cookie: {name: session, ttl: 3600s, path: /app}}]");
  Result r = hashOf(*p, request("h", "/"));
  CHECK(r.hash == xxh(kClientCookie));
  CHECK(r.set_cookies == std::vector<std::string>{"session=\"" + kClientCookie +
                                                  "\"; Max-Age=3600; Path=/app; HttpOnly"});
}

TEST_CASE("a generated cookie without a path has no Path attribute", "[router][hash]") {
  auto p = policy("[{cookie: {name: session, ttl: 60s}}]");
  CHECK(hashOf(*p, request("h", "/")).set_cookies ==
        std::vector<std::string>{"session=\"" + kClientCookie + "\"; Max-Age=60; HttpOnly"});
}

TEST_CASE("a ttl of 0 generates a session cookie without Max-Age", "[router][hash]") {
  auto p = policy("[{cookie: {name: session, ttl: 0s, path: /}}]");
  CHECK(hashOf(*p, request("h", "/")).set_cookies ==
        std::vector<std::string>{"session=\"" + kClientCookie + "\"; Path=/; HttpOnly"});
}

TEST_CASE("a ttl counts whole seconds in Max-Age", "[router][hash]") {
  auto p = policy("[{cookie: {name: s, ttl: 90.9s}}]");
  CHECK(hashOf(*p, request("h", "/")).set_cookies ==
        std::vector<std::string>{"s=\"" + kClientCookie + "\"; Max-Age=90; HttpOnly"});
}

TEST_CASE("cookie attributes follow Path in order and one without a value is its name alone",
          "[router][hash]") {
  auto p = policy(
      "[{cookie: {name: s, ttl: 10s, path: /, attributes: [{name: SameSite, value: Strict}, "
      "{name: Secure}]}}]");
  CHECK(hashOf(*p, request("h", "/")).set_cookies ==
        std::vector<std::string>{"s=\"" + kClientCookie +
                                 "\"; Max-Age=10; Path=/; SameSite=Strict; Secure; HttpOnly"});
}

TEST_CASE("a cookie present with an empty value is regenerated when ttl is set", "[router][hash]") {
  auto p = policy("[{cookie: {name: session, ttl: 10s}}]");
  Result r = hashOf(*p, request("h", "/", {{"cookie", "session="}}));
  CHECK(r.hash == xxh(kClientCookie));
  CHECK(r.set_cookies.size() == 1);
}

TEST_CASE("requests on one connection get the same generated cookie and another port another",
          "[router][hash]") {
  auto p = policy("[{cookie: {name: session, ttl: 10s}}]");
  Result first = hashOf(*p, request("h", "/a"));
  Result second = hashOf(*p, request("h", "/b"));
  CHECK(first.hash == second.hash);
  CHECK(first.set_cookies == second.set_cookies);
  http::StreamInfo other = client();
  other.downstream_direct_remote_address = address("10.0.0.1", 5001);
  other.downstream_remote_address = other.downstream_direct_remote_address;
  CHECK(hashOf(*p, request("h", "/a"), other).hash != first.hash);
}

TEST_CASE("the generated cookie is the hex xxHash64 of the remote then local address",
          "[router][hash]") {
  CHECK(HashPolicy::generatedCookieValue(client()) == kClientCookie);
  CHECK(kClientCookie.size() == 16);
  http::StreamInfo v6;
  v6.downstream_direct_remote_address = address("::1", 4000);
  v6.downstream_local_address = address("::1", 8080);
  CHECK(HashPolicy::generatedCookieValue(v6) == hex16(xxh("[::1]:4000[::1]:8080")));
}

TEST_CASE("setCookieValue writes Envoy's set-cookie form", "[router][hash]") {
  using std::chrono::seconds;
  CHECK(HashPolicy::setCookieValue("n", "v", "", seconds(0), {}) == "n=\"v\"; HttpOnly");
  CHECK(HashPolicy::setCookieValue("n", "v", "/p", seconds(5), {{"Domain", "example.com"}}) ==
        "n=\"v\"; Max-Age=5; Path=/p; Domain=example.com; HttpOnly");
}

// --- connection_properties.source_ip -------------------------------------------------------------

TEST_CASE("source_ip hashes the client IP without its port", "[router][hash]") {
  http::StreamInfo a = client();
  http::StreamInfo b = client();
  b.downstream_remote_address = address("10.0.0.1", 6000);
  const std::string p = "[{connection_properties: {source_ip: true}}]";
  CHECK(hashFor(p, request("h", "/"), a) == xxh("10.0.0.1"));
  CHECK(hashFor(p, request("h", "/"), b) == xxh("10.0.0.1"));
}

TEST_CASE("source_ip of an IPv6 client hashes the address without brackets", "[router][hash]") {
  http::StreamInfo info = client();
  info.downstream_remote_address = address("2001:db8::1", 443);
  CHECK(hashFor("[{connection_properties: {source_ip: true}}]", request("h", "/"), info) ==
        xxh("2001:db8::1"));
}

TEST_CASE("source_ip uses the address found by x-forwarded-for processing", "[router][hash]") {
  http::StreamInfo info = client();
  info.downstream_remote_address = address("203.0.113.5", 0);
  CHECK(hashFor("[{connection_properties: {source_ip: true}}]", request("h", "/"), info) ==
        xxh("203.0.113.5"));
}

TEST_CASE("source_ip without an IP address produces no hash", "[router][hash]") {
  http::StreamInfo info;  // No remote address at all.
  CHECK_FALSE(
      hashFor("[{connection_properties: {source_ip: true}}]", request("h", "/"), info).has_value());
  auto pipe = network::Address::fromPipe("/tmp/remora-hash-test.sock");
  REQUIRE(pipe.ok());
  info.downstream_remote_address = *pipe;
  CHECK_FALSE(
      hashFor("[{connection_properties: {source_ip: true}}]", request("h", "/"), info).has_value());
}

TEST_CASE("connection_properties without source_ip hashes nothing", "[router][hash]") {
  auto compiled = compileYaml("hash_policy: [{connection_properties: {}}]");
  REQUIRE(compiled.ok());
  CHECK(*compiled == nullptr);
  CHECK(hashFor("[{connection_properties: {source_ip: false}, terminal: true}, "
                "{header: {header_name: x}}]",
                request("h", "/", {{"x", "v"}})) == xxh("v"));
}

// --- query_parameter -----------------------------------------------------------------------------

TEST_CASE("a query_parameter policy hashes the first value as sent without decoding",
          "[router][hash]") {
  CHECK(hashFor("[{query_parameter: {name: user}}]",
                request("h", "/p?a=1&user=bob%20x&user=eve")) == xxh("bob%20x"));
}

TEST_CASE("a query parameter without '=' hashes the empty value", "[router][hash]") {
  CHECK(hashFor("[{query_parameter: {name: flag}}]", request("h", "/p?x=1&flag&y=2")) == xxh(""));
}

TEST_CASE("an absent query parameter produces no hash", "[router][hash]") {
  const std::string p = "[{query_parameter: {name: user}}]";
  CHECK_FALSE(hashFor(p, request("h", "/p")).has_value());
  CHECK_FALSE(hashFor(p, request("h", "/p?User=1&users=2")).has_value());
  CHECK_FALSE(hashFor(p, request("h", "/user=1")).has_value());
}

TEST_CASE("the fragment is not part of the hashed query", "[router][hash]") {
  CHECK(hashFor("[{query_parameter: {name: u}}]", request("h", "/p?u=1#top")) == xxh("1"));
}

// --- combining and terminal ----------------------------------------------------------------------

TEST_CASE("hashes of several policies combine by rotating left one bit then XORing",
          "[router][hash]") {
  const auto headers = request("h", "/", {{"x-a", "one"}, {"x-b", "two"}, {"x-c", "three"}});
  CHECK(hashFor("[{header: {header_name: x-a}}, {header: {header_name: x-b}}, "
                "{header: {header_name: x-c}}]",
                headers) == (rotl1(rotl1(xxh("one")) ^ xxh("two")) ^ xxh("three")));
}

TEST_CASE("the combination depends on the order of the policies", "[router][hash]") {
  const auto headers = request("h", "/", {{"x-a", "one"}, {"x-b", "two"}});
  const auto ab = hashFor("[{header: {header_name: x-a}}, {header: {header_name: x-b}}]", headers);
  const auto ba = hashFor("[{header: {header_name: x-b}}, {header: {header_name: x-a}}]", headers);
  REQUIRE(ab.has_value());
  REQUIRE(ba.has_value());
  CHECK(*ab != *ba);
  CHECK(*ba == (rotl1(xxh("two")) ^ xxh("one")));
}

TEST_CASE("the same policy listed twice does not cancel itself out", "[router][hash]") {
  const auto h = hashFor("[{header: {header_name: x-a}}, {header: {header_name: x-a}}]",
                         request("h", "/", {{"x-a", "one"}}));
  CHECK(h == (rotl1(xxh("one")) ^ xxh("one")));
  CHECK(h != uint64_t{0});
}

TEST_CASE("a policy that produces nothing leaves the running hash unchanged", "[router][hash]") {
  CHECK(hashFor("[{header: {header_name: x-missing}}, {header: {header_name: x-b}}]",
                request("h", "/", {{"x-b", "two"}})) == xxh("two"));
  CHECK(hashFor("[{header: {header_name: x-b}}, {header: {header_name: x-missing}}]",
                request("h", "/", {{"x-b", "two"}})) == xxh("two"));
}

TEST_CASE("no policy producing a hash means no hash", "[router][hash]") {
  CHECK_FALSE(hashFor("[{header: {header_name: x-a}}, {cookie: {name: c}}, "
                      "{query_parameter: {name: q}}]",
                      request("h", "/"))
                  .has_value());
}

TEST_CASE("a terminal policy that produced a hash ends the list", "[router][hash]") {
  CHECK(hashFor("[{header: {header_name: x-a}, terminal: true}, {header: {header_name: x-b}}]",
                request("h", "/", {{"x-a", "one"}, {"x-b", "two"}})) == xxh("one"));
}

TEST_CASE("a terminal policy without a hash lets the later policies run", "[router][hash]") {
  CHECK(hashFor("[{header: {header_name: x-a}, terminal: true}, {header: {header_name: x-b}}]",
                request("h", "/", {{"x-b", "two"}})) == xxh("two"));
}

TEST_CASE("a terminal policy ends the list when an earlier policy produced the hash",
          "[router][hash]") {
  CHECK(hashFor("[{header: {header_name: x-a}}, {header: {header_name: x-b}, terminal: true}, "
                "{header: {header_name: x-c}}]",
                request("h", "/", {{"x-a", "one"}, {"x-c", "three"}})) == xxh("one"));
}

TEST_CASE("policies after a terminal hash generate no cookie", "[router][hash]") {
  auto p = policy("[{header: {header_name: x-a}, terminal: true}, {cookie: {name: s, ttl: 10s}}]");
  Result with = hashOf(*p, request("h", "/", {{"x-a", "one"}}));
  CHECK(with.hash == xxh("one"));
  CHECK(with.set_cookies.empty());
  Result without = hashOf(*p, request("h", "/"));
  CHECK(without.hash == xxh(kClientCookie));
  CHECK(without.set_cookies.size() == 1);
}

TEST_CASE("the same request always hashes the same", "[router][hash]") {
  auto p = policy(
      "[{header: {header_name: x-a}}, {cookie: {name: s}}, "
      "{connection_properties: {source_ip: true}}, {query_parameter: {name: q}}]");
  const auto headers = request("h", "/p?q=7", {{"x-a", "one"}, {"cookie", "s=abc"}});
  const auto first = hashOf(*p, headers).hash;
  REQUIRE(first.has_value());
  for (int i = 0; i < 5; ++i) CHECK(hashOf(*p, headers).hash == first);
  CHECK(*first == (rotl1(rotl1(rotl1(xxh("one")) ^ xxh("abc")) ^ xxh("10.0.0.1")) ^ xxh("7")));
}

// --- config --------------------------------------------------------------------------------------

TEST_CASE("a route action without hash_policy compiles to no policy", "[router][hash]") {
  auto compiled = compileYaml("cluster: a");
  REQUIRE(compiled.ok());
  CHECK(*compiled == nullptr);
}

TEST_CASE("filter_state is refused naming its field path", "[router][hash]") {
  CHECK(errorOf("[{header: {header_name: x}}, {filter_state: {key: k}}]") ==
        "route.hash_policy[1].filter_state: not supported by Remora");
}

TEST_CASE("a hash policy without a kind is a compile error", "[router][hash]") {
  CHECK(errorOf("[{terminal: true}]") ==
        "route.hash_policy[0]: one of header, cookie, connection_properties, query_parameter or "
        "filter_state is required");
}

TEST_CASE("an empty header_name is a compile error", "[router][hash]") {
  CHECK(errorOf("[{header: {header_name: \"\"}}]") ==
        "route.hash_policy[0].header.header_name: must not be empty");
}

TEST_CASE("an invalid header regex_rewrite pattern is a compile error naming the pattern",
          "[router][hash]") {
  const std::string error = errorOf(
      "[{header: {header_name: x, regex_rewrite: {pattern: {regex: \"(\"}, "
      "substitution: y}}}]");
  CHECK_THAT(error, Catch::StartsWith(
                        "route.hash_policy[0].header.regex_rewrite.pattern.regex: invalid regex"));
}

TEST_CASE("a header regex_rewrite substitution naming a missing group is a compile error",
          "[router][hash]") {
  const std::string error =
      errorOf(R"([{header: {header_name: x, regex_rewrite: {pattern: {regex: "a"},
              substitution: "\\1"}}}])");
  CHECK_THAT(error,
             Catch::StartsWith("route.hash_policy[0].header.regex_rewrite.substitution: '\\1'"));
}

TEST_CASE("an empty cookie name is a compile error", "[router][hash]") {
  CHECK(errorOf("[{cookie: {ttl: 1s}}]") == "route.hash_policy[0].cookie.name: must not be empty");
}

TEST_CASE("a negative cookie ttl is a compile error", "[router][hash]") {
  CHECK(errorOf("[{cookie: {name: s, ttl: -1s}}]") ==
        "route.hash_policy[0].cookie.ttl: must not be negative");
}

TEST_CASE("a cookie attribute without a name is a compile error", "[router][hash]") {
  CHECK(errorOf("[{cookie: {name: s, attributes: [{name: Secure}, {value: x}]}}]") ==
        "route.hash_policy[0].cookie.attributes[1].name: must not be empty");
}

TEST_CASE("a cookie path with a line break is a compile error", "[router][hash]") {
  CHECK(errorOf("[{cookie: {name: s, path: \"/a\\r\\nx: y\"}}]") ==
        "route.hash_policy[0].cookie.path: must not contain NUL, CR or LF");
}

TEST_CASE("an empty query parameter name is a compile error", "[router][hash]") {
  CHECK(errorOf("[{query_parameter: {}}]") ==
        "route.hash_policy[0].query_parameter.name: must not be empty");
}

TEST_CASE("the hash_policy fields Remora supports are fields of the API", "[router][hash]") {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  int checked = 0;
  for (const std::string& field : config::supportedFields()) {
    if (field.find("HashPolicy") == std::string::npos &&
        field.find("hash_policy") == std::string::npos) {
      continue;
    }
    INFO(field);
    CHECK(pool->FindFieldByName(field) != nullptr);
    ++checked;
  }
  CHECK(checked == 16);
}

}  // namespace
}  // namespace remora::router
