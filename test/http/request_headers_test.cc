// Specification of the request header edits the connection manager makes before any filter runs:
// x-forwarded-for and the trusted client address, x-forwarded-proto, trust (x-envoy-* stripping,
// x-envoy-internal, x-envoy-external-address), x-request-id, via and hop-by-hop fields.
#include "source/http/request_headers.h"

#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>

#include "source/http/conn_manager_config.h"
#include "source/http/header_map.h"
#include "source/http/stream_info.h"
#include "source/network/address.h"
#include "source/network/cidr.h"

namespace remora::http {
namespace {

constexpr char kExternalPeer[] = "203.0.113.9";
constexpr char kInternalPeer[] = "10.1.2.3";

network::Address addr(const std::string& ip, uint32_t port = 40000) {
  auto a = network::Address::fromIpPort(ip, port);
  REQUIRE(a.ok());
  return *a;
}

// A config for an edge proxy (use_remote_address) or a proxy behind others (false).
ConnManagerConfig edgeConfig(bool use_remote_address) {
  ConnManagerConfig config;
  config.stat_prefix = "ingress";
  config.use_remote_address = use_remote_address;
  return config;
}

// A request as the codec hands it over.
HeaderMap request(std::initializer_list<std::pair<const char*, const char*>> extra = {}) {
  HeaderMap h;
  h.add(":method", "GET");
  h.add(":path", "/");
  h.add(":authority", "backend");
  h.add(":scheme", "http");
  for (const auto& [k, v] : extra) h.add(k, v);
  return h;
}

struct Applied {
  HeaderMap headers;
  StreamInfo info;
};

Applied apply(const ConnManagerConfig& config, const std::string& peer, HeaderMap headers) {
  Applied out{std::move(headers), {}};
  const network::Address peer_address = addr(peer);
  RequestHeaderContext ctx{config, peer_address};
  applyDownstreamRequestHeaders(ctx, out.headers, out.info);
  return out;
}

std::string value(const HeaderMap& h, const std::string& key) {
  const std::string* v = h.get(key);
  return v == nullptr ? "<absent>" : *v;
}

bool isUuid4(const std::string& s) {
  static const std::regex kUuid4(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(s, kUuid4);
}

// x-forwarded-for -------------------------------------------------------------------------------

TEST_CASE("use_remote_address appends the peer to an existing x-forwarded-for", "[http][xff]") {
  Applied a = apply(edgeConfig(true), kExternalPeer, request({{"x-forwarded-for", "192.0.2.1"}}));
  CHECK(value(a.headers, "x-forwarded-for") == "192.0.2.1,203.0.113.9");
  CHECK(a.info.downstream_remote_address.ip() == kExternalPeer);
}

TEST_CASE("use_remote_address sets x-forwarded-for to the peer when the request has none",
          "[http][xff]") {
  Applied a = apply(edgeConfig(true), kExternalPeer, request());
  CHECK(value(a.headers, "x-forwarded-for") == kExternalPeer);
}

TEST_CASE("skip_xff_append leaves x-forwarded-for as the client sent it", "[http][xff]") {
  ConnManagerConfig config = edgeConfig(true);
  config.skip_xff_append = true;
  Applied with = apply(config, kExternalPeer, request({{"x-forwarded-for", "192.0.2.1"}}));
  CHECK(value(with.headers, "x-forwarded-for") == "192.0.2.1");
  Applied without = apply(config, kExternalPeer, request());
  CHECK_FALSE(without.headers.has("x-forwarded-for"));
  // The client address is still the peer.
  CHECK(with.info.downstream_remote_address.ip() == kExternalPeer);
}

TEST_CASE("without use_remote_address x-forwarded-for is forwarded unchanged", "[http][xff]") {
  Applied a = apply(edgeConfig(false), kInternalPeer,
                    request({{"x-forwarded-for", "192.0.2.1, 10.0.0.1"}}));
  CHECK(value(a.headers, "x-forwarded-for") == "192.0.2.1, 10.0.0.1");
}

TEST_CASE("xff_num_trusted_hops 0 takes the rightmost x-forwarded-for address as the client",
          "[http][xff]") {
  ConnManagerConfig config = edgeConfig(false);
  config.xff_num_trusted_hops = 0;
  Applied a = apply(config, kInternalPeer,
                    request({{"x-forwarded-for", "192.0.2.10, 198.51.100.2, 198.51.100.3"}}));
  CHECK(a.info.downstream_remote_address.ip() == "198.51.100.3");
}

TEST_CASE("xff_num_trusted_hops 1 skips one trusted hop from the right of x-forwarded-for",
          "[http][xff]") {
  ConnManagerConfig config = edgeConfig(false);
  config.xff_num_trusted_hops = 1;
  Applied a = apply(config, kInternalPeer,
                    request({{"x-forwarded-for", "192.0.2.10, 198.51.100.2, 198.51.100.3"}}));
  CHECK(a.info.downstream_remote_address.ip() == "198.51.100.2");
}

TEST_CASE("xff_num_trusted_hops 2 skips two trusted hops from the right of x-forwarded-for",
          "[http][xff]") {
  ConnManagerConfig config = edgeConfig(false);
  config.xff_num_trusted_hops = 2;
  Applied a = apply(config, kInternalPeer,
                    request({{"x-forwarded-for", "192.0.2.10, 198.51.100.2, 198.51.100.3"}}));
  CHECK(a.info.downstream_remote_address.ip() == "192.0.2.10");
}

TEST_CASE("xff_num_trusted_hops counts addresses across repeated x-forwarded-for fields",
          "[http][xff]") {
  ConnManagerConfig config = edgeConfig(false);
  config.xff_num_trusted_hops = 1;
  Applied a =
      apply(config, kInternalPeer,
            request({{"x-forwarded-for", "192.0.2.10"}, {"x-forwarded-for", "198.51.100.3"}}));
  CHECK(a.info.downstream_remote_address.ip() == "192.0.2.10");
}

TEST_CASE(
    "use_remote_address with xff_num_trusted_hops 1 takes the last x-forwarded-for address "
    "the trusted hop sent as the client",
    "[http][xff]") {
  // Envoy's documentation: with use_remote_address true and xff_num_trusted_hops N > 0, the
  // trusted client address is the Nth address from the right of the incoming x-forwarded-for.
  ConnManagerConfig config = edgeConfig(true);
  config.xff_num_trusted_hops = 1;
  Applied a = apply(config, kExternalPeer, request({{"x-forwarded-for", "192.0.2.10"}}));
  CHECK(a.info.downstream_remote_address.ip() == "192.0.2.10");
  CHECK(value(a.headers, "x-forwarded-for") == "192.0.2.10,203.0.113.9");
}

// x-forwarded-proto -----------------------------------------------------------------------------

TEST_CASE("at the edge x-forwarded-proto is set to the connection's scheme over the client's",
          "[http][proto]") {
  Applied sent = apply(edgeConfig(true), kExternalPeer, request({{"x-forwarded-proto", "https"}}));
  CHECK(value(sent.headers, "x-forwarded-proto") == "http");
  Applied absent = apply(edgeConfig(true), kExternalPeer, request());
  CHECK(value(absent.headers, "x-forwarded-proto") == "http");
}

TEST_CASE("behind a trusted proxy x-forwarded-proto is preserved", "[http][proto]") {
  Applied a = apply(edgeConfig(false), kInternalPeer,
                    request({{"x-forwarded-for", "10.0.0.1"}, {"x-forwarded-proto", "https"}}));
  CHECK(value(a.headers, "x-forwarded-proto") == "https");
}

TEST_CASE("behind a trusted proxy x-forwarded-proto is added when absent", "[http][proto]") {
  Applied a = apply(edgeConfig(false), kInternalPeer, request());
  CHECK(value(a.headers, "x-forwarded-proto") == "http");
}

// Trust -----------------------------------------------------------------------------------------

TEST_CASE("an external client at the edge loses every x-envoy header it sent", "[http][trust]") {
  Applied a = apply(edgeConfig(true), kExternalPeer,
                    request({{"x-envoy-retry-on", "5xx"},
                             {"x-envoy-internal", "true"},
                             {"x-envoy-upstream-rq-timeout-ms", "1"},
                             {"x-envoy-external-address", "1.2.3.4"},
                             {"x-other", "kept"}}));
  CHECK_FALSE(a.headers.has("x-envoy-retry-on"));
  CHECK_FALSE(a.headers.has("x-envoy-internal"));
  CHECK_FALSE(a.headers.has("x-envoy-upstream-rq-timeout-ms"));
  CHECK(value(a.headers, "x-other") == "kept");
}

TEST_CASE("an external client at the edge gets x-envoy-external-address set to its address",
          "[http][trust]") {
  Applied a =
      apply(edgeConfig(true), kExternalPeer, request({{"x-envoy-external-address", "1.2.3.4"}}));
  CHECK(value(a.headers, "x-envoy-external-address") == kExternalPeer);
}

TEST_CASE("an internal client at the edge keeps its x-envoy headers and gets x-envoy-internal",
          "[http][trust]") {
  Applied a = apply(edgeConfig(true), kInternalPeer, request({{"x-envoy-retry-on", "5xx"}}));
  CHECK(value(a.headers, "x-envoy-retry-on") == "5xx");
  CHECK(value(a.headers, "x-envoy-internal") == "true");
  CHECK_FALSE(a.headers.has("x-envoy-external-address"));
}

TEST_CASE("internal_address_config decides which peers are internal", "[http][trust]") {
  ConnManagerConfig config = edgeConfig(true);
  config.internal_ranges_set = true;
  auto range = network::CidrRange::create("203.0.113.0", 24);
  REQUIRE(range.ok());
  config.internal_ranges.push_back(*range);
  Applied listed = apply(config, kExternalPeer, request());
  CHECK(value(listed.headers, "x-envoy-internal") == "true");
  // 10.1.2.3 is private but not listed: external once ranges are configured.
  Applied unlisted = apply(config, kInternalPeer, request({{"x-envoy-retry-on", "5xx"}}));
  CHECK_FALSE(unlisted.headers.has("x-envoy-internal"));
  CHECK_FALSE(unlisted.headers.has("x-envoy-retry-on"));
}

TEST_CASE(
    "without use_remote_address a single internal x-forwarded-for address makes the "
    "request internal",
    "[http][trust]") {
  // Envoy: the request is internal when XFF holds exactly one internal address, and an internal
  // request gets x-envoy-internal: true.
  Applied a = apply(edgeConfig(false), kInternalPeer, request({{"x-forwarded-for", "10.0.0.7"}}));
  CHECK(value(a.headers, "x-envoy-internal") == "true");
}

TEST_CASE(
    "without use_remote_address a client-sent x-envoy-internal is removed from an external "
    "request",
    "[http][trust]") {
  Applied a = apply(edgeConfig(false), kInternalPeer,
                    request({{"x-forwarded-for", "192.0.2.1"}, {"x-envoy-internal", "true"}}));
  CHECK_FALSE(a.headers.has("x-envoy-internal"));
}

TEST_CASE("isInternalAddress trusts private and loopback ranges by default", "[http][trust]") {
  ConnManagerConfig config = edgeConfig(true);
  CHECK(isInternalAddress(config, addr("10.0.0.1")));
  CHECK(isInternalAddress(config, addr("172.16.5.4")));
  CHECK(isInternalAddress(config, addr("192.168.1.1")));
  CHECK(isInternalAddress(config, addr("127.0.0.1")));
  CHECK(isInternalAddress(config, addr("::1")));
  CHECK(isInternalAddress(config, addr("fd00::1")));
  CHECK_FALSE(isInternalAddress(config, addr("8.8.8.8")));
  CHECK_FALSE(isInternalAddress(config, addr("172.32.0.1")));
  CHECK_FALSE(isInternalAddress(config, addr("2001:db8::1")));
}

TEST_CASE("isInternalAddress with configured ranges trusts only those ranges", "[http][trust]") {
  ConnManagerConfig config = edgeConfig(true);
  config.internal_ranges_set = true;
  auto range = network::CidrRange::create("192.0.2.0", 24);
  REQUIRE(range.ok());
  config.internal_ranges.push_back(*range);
  CHECK(isInternalAddress(config, addr("192.0.2.200")));
  CHECK_FALSE(isInternalAddress(config, addr("127.0.0.1")));
  CHECK_FALSE(isInternalAddress(config, addr("10.0.0.1")));
}

// x-request-id ----------------------------------------------------------------------------------

TEST_CASE("generateUuid4 produces distinct version 4 variant 1 UUIDs", "[http][request-id]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = generateUuid4();
    INFO(id);
    REQUIRE(isUuid4(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("x-request-id is generated as a UUID4 when the request has none", "[http][request-id]") {
  Applied a = apply(edgeConfig(false), kInternalPeer, request());
  const std::string id = value(a.headers, "x-request-id");
  INFO(id);
  CHECK(isUuid4(id));
  CHECK(a.info.request_id == id);
}

TEST_CASE("an empty x-request-id is replaced by a generated one", "[http][request-id]") {
  Applied a = apply(edgeConfig(false), kInternalPeer, request({{"x-request-id", ""}}));
  CHECK(isUuid4(value(a.headers, "x-request-id")));
}

TEST_CASE("x-request-id from an internal client is kept", "[http][request-id]") {
  Applied behind = apply(edgeConfig(false), kInternalPeer, request({{"x-request-id", "abc-123"}}));
  CHECK(value(behind.headers, "x-request-id") == "abc-123");
  CHECK(behind.info.request_id == "abc-123");
  Applied edge = apply(edgeConfig(true), kInternalPeer, request({{"x-request-id", "abc-123"}}));
  CHECK(value(edge.headers, "x-request-id") == "abc-123");
}

TEST_CASE("x-request-id from an external client at the edge is regenerated", "[http][request-id]") {
  Applied a = apply(edgeConfig(true), kExternalPeer, request({{"x-request-id", "abc-123"}}));
  const std::string id = value(a.headers, "x-request-id");
  CHECK(id != "abc-123");
  CHECK(isUuid4(id));
  CHECK(a.info.request_id == id);
}

TEST_CASE("preserve_external_request_id keeps an external client's x-request-id",
          "[http][request-id]") {
  ConnManagerConfig config = edgeConfig(true);
  config.preserve_external_request_id = true;
  Applied a = apply(config, kExternalPeer, request({{"x-request-id", "abc-123"}}));
  CHECK(value(a.headers, "x-request-id") == "abc-123");
}

TEST_CASE("generate_request_id false adds no x-request-id", "[http][request-id]") {
  ConnManagerConfig config = edgeConfig(false);
  config.generate_request_id = false;
  Applied a = apply(config, kInternalPeer, request());
  CHECK_FALSE(a.headers.has("x-request-id"));
}

// via -------------------------------------------------------------------------------------------

TEST_CASE("via is added when configured", "[http][via]") {
  ConnManagerConfig config = edgeConfig(false);
  config.via = "remora";
  Applied a = apply(config, kInternalPeer, request());
  CHECK(value(a.headers, "via") == "remora");
}

TEST_CASE("via is appended to an existing via header", "[http][via]") {
  ConnManagerConfig config = edgeConfig(false);
  config.via = "remora";
  Applied a = apply(config, kInternalPeer, request({{"via", "1.1 front"}}));
  CHECK(value(a.headers, "via") == "1.1 front, remora");
}

TEST_CASE("no via is added when none is configured", "[http][via]") {
  Applied a = apply(edgeConfig(false), kInternalPeer, request());
  CHECK_FALSE(a.headers.has("via"));
}

// Hop-by-hop fields -----------------------------------------------------------------------------

TEST_CASE("hop-by-hop headers are removed", "[http][hop-by-hop]") {
  Applied a = apply(edgeConfig(false), kInternalPeer,
                    request({{"connection", "keep-alive"},
                             {"keep-alive", "timeout=5"},
                             {"proxy-connection", "keep-alive"},
                             {"transfer-encoding", "chunked"},
                             {"upgrade", "h2c"},
                             {"x-end-to-end", "kept"}}));
  CHECK_FALSE(a.headers.has("connection"));
  CHECK_FALSE(a.headers.has("keep-alive"));
  CHECK_FALSE(a.headers.has("proxy-connection"));
  CHECK_FALSE(a.headers.has("transfer-encoding"));
  CHECK_FALSE(a.headers.has("upgrade"));
  CHECK(value(a.headers, "x-end-to-end") == "kept");
}

TEST_CASE("headers named in Connection are removed", "[http][hop-by-hop]") {
  Applied a = apply(edgeConfig(false), kInternalPeer,
                    request({{"connection", "X-Private-Hop, x-other-hop"},
                             {"x-private-hop", "1"},
                             {"x-other-hop", "2"},
                             {"x-end-to-end", "kept"}}));
  CHECK_FALSE(a.headers.has("x-private-hop"));
  CHECK_FALSE(a.headers.has("x-other-hop"));
  CHECK_FALSE(a.headers.has("connection"));
  CHECK(value(a.headers, "x-end-to-end") == "kept");
}

TEST_CASE("an upgrade request keeps upgrade with connection: upgrade", "[http][hop-by-hop]") {
  Applied a = apply(edgeConfig(false), kInternalPeer,
                    request({{"connection", "keep-alive, Upgrade"}, {"upgrade", "websocket"}}));
  CHECK(value(a.headers, "upgrade") == "websocket");
  CHECK(value(a.headers, "connection") == "upgrade");
}

TEST_CASE("te: trailers is kept", "[http][hop-by-hop]") {
  Applied a = apply(edgeConfig(false), kInternalPeer, request({{"te", "trailers"}}));
  CHECK(value(a.headers, "te") == "trailers");
}

TEST_CASE("te other than trailers is removed", "[http][hop-by-hop]") {
  Applied a = apply(edgeConfig(false), kInternalPeer, request({{"te", "gzip"}}));
  CHECK_FALSE(a.headers.has("te"));
}

}  // namespace
}  // namespace remora::http
