// HTTP routing end to end: the real remora binary with an http_connection_manager listener between
// a test client and in-test HTTP/1.1 upstreams. Virtual hosts, route matching, route actions,
// header mutations and the request headers the connection manager adds or sanitizes, as Envoy's
// documentation specifies them.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> splitCommaList(const std::string& value) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    items.push_back(trim(value.substr(start, end - start)));
    start = end + 1;
  }
  return items;
}

bool isUuid4(const std::string& s) {
  static const std::regex kUuid4(
      "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  return std::regex_match(s, kUuid4);
}

TEST_CASE("virtual hosts are chosen by the Host header with exact domains before wildcards",
          "[http]") {
  HttpBackend api("api");
  HttpBackend wild("wild");
  HttpBackend fallback("fallback");
  const std::string routes =
      "name: local\n"
      "virtual_hosts:\n"
      "- name: fallback\n"
      "  domains: [\"*\"]\n"
      "  routes:\n"
      "  - match: { prefix: \"/\" }\n"
      "    route: { cluster: fallback }\n"
      "- name: wildcard\n"
      "  domains: [\"*.example.com\"]\n"
      "  routes:\n"
      "  - match: { prefix: \"/\" }\n"
      "    route: { cluster: wild }\n"
      "- name: api\n"
      "  domains: [\"api.example.com\"]\n"
      "  routes:\n"
      "  - match: { prefix: \"/\" }\n"
      "    route: { cluster: api }\n";
  auto remora = startRemora(ingressBootstrap(
      routes, {staticCluster("api", {api.port()}), staticCluster("wild", {wild.port()}),
               staticCluster("fallback", {fallback.port()})}));
  const uint16_t port = ingressPort(*remora);
  const std::map<std::string, std::string> expected = {
      {"api.example.com", "api"},  {"API.Example.COM", "api"},  {"www.example.com", "wild"},
      {"a.b.example.com", "wild"}, {"example.com", "fallback"}, {"other.test", "fallback"},
  };
  for (const auto& [host, backend] : expected) {
    INFO("Host: " << host);
    ClientResponse r = fetch(port, get("/", host));
    CHECK(r.status == 200);
    CHECK(r.header("x-backend") == backend);
  }
}

TEST_CASE("routes match by exact path then safe_regex then prefix in declaration order", "[http]") {
  HttpBackend exact("exact");
  HttpBackend regex("regex");
  HttpBackend prefix("prefix");
  const std::string routes =
      "- match: { path: \"/exact\" }\n"
      "  route: { cluster: exact }\n"
      "- match: { safe_regex: { regex: \"/users/[0-9]+\" } }\n"
      "  route: { cluster: regex }\n"
      "- match: { prefix: \"/static/\" }\n"
      "  route: { cluster: prefix }\n";
  auto remora = startRemora(ingressBootstrap(
      oneVirtualHost(routes),
      {staticCluster("exact", {exact.port()}), staticCluster("regex", {regex.port()}),
       staticCluster("prefix", {prefix.port()})}));
  const uint16_t port = ingressPort(*remora);
  struct Case {
    std::string path;
    int status;
    std::string backend;
  };
  const std::vector<Case> cases = {
      {"/exact", 200, "exact"}, {"/exact?q=1", 200, "exact"}, {"/exact/more", 404, ""},
      {"/exactly", 404, ""},    {"/users/42", 200, "regex"},  {"/users/42?page=2", 200, "regex"},
      {"/users/abc", 404, ""},  {"/users/42/posts", 404, ""}, {"/static/app.css", 200, "prefix"},
      {"/static", 404, ""},
  };
  for (const auto& c : cases) {
    INFO("path " << c.path);
    ClientResponse r = fetch(port, get(c.path));
    CHECK(r.status == c.status);
    CHECK(r.header("x-backend") == c.backend);
  }
}

TEST_CASE("a route with a header matcher takes only requests carrying that header value",
          "[http]") {
  HttpBackend canary("canary");
  HttpBackend stable("stable");
  const std::string routes =
      "- match:\n"
      "    prefix: \"/\"\n"
      "    headers:\n"
      "    - name: x-canary\n"
      "      string_match: { exact: \"yes\" }\n"
      "  route: { cluster: canary }\n"
      "- match: { prefix: \"/\" }\n"
      "  route: { cluster: stable }\n";
  auto remora = startRemora(ingressBootstrap(
      oneVirtualHost(routes),
      {staticCluster("canary", {canary.port()}), staticCluster("stable", {stable.port()})}));
  const uint16_t port = ingressPort(*remora);
  ClientRequest with = get("/");
  with.headers = {{"X-Canary", "yes"}};
  CHECK(fetch(port, with).header("x-backend") == "canary");
  ClientRequest other_value = get("/");
  other_value.headers = {{"x-canary", "no"}};
  CHECK(fetch(port, other_value).header("x-backend") == "stable");
  CHECK(fetch(port, get("/")).header("x-backend") == "stable");
}

TEST_CASE("a request no route matches gets 404 and reaches no upstream", "[http]") {
  HttpBackend backend;
  const std::string routes =
      "- match: { prefix: \"/api\" }\n"
      "  route: { cluster: backend }\n";
  auto remora = startRemora(
      ingressBootstrap(oneVirtualHost(routes), {staticCluster("backend", {backend.port()})}));
  ClientResponse r = fetch(ingressPort(*remora), get("/other"));
  CHECK(r.status == 404);
  CHECK(r.complete);
  CHECK(backend.requestsReceived() == 0);
  CHECK(statReaches(*remora, "http.ingress.no_route", 1));
}

TEST_CASE("a request whose Host matches no virtual host gets 404", "[http]") {
  HttpBackend backend;
  const std::string routes =
      "name: local\n"
      "virtual_hosts:\n"
      "- name: only\n"
      "  domains: [\"only.example.com\"]\n"
      "  routes:\n"
      "  - match: { prefix: \"/\" }\n"
      "    route: { cluster: backend }\n";
  auto remora = startRemora(ingressBootstrap(routes, {staticCluster("backend", {backend.port()})}));
  const uint16_t port = ingressPort(*remora);
  CHECK(fetch(port, get("/", "only.example.com")).status == 200);
  CHECK(fetch(port, get("/", "elsewhere.example.com")).status == 404);
  CHECK(backend.requestsReceived() == 1);
}

TEST_CASE("a route to a cluster that does not exist answers 503 when validate_clusters is false",
          "[http]") {
  HttpBackend backend;
  const std::string routes =
      "- match: { prefix: \"/missing\" }\n"
      "  route: { cluster: no_such_cluster }\n"
      "- match: { prefix: \"/\" }\n"
      "  route: { cluster: backend }\n";
  auto remora = startRemora(ingressBootstrap(oneVirtualHost(routes, "validate_clusters: false\n"),
                                             {staticCluster("backend", {backend.port()})}));
  const uint16_t port = ingressPort(*remora);
  ClientResponse r = fetch(port, get("/missing"));
  CHECK(r.status == 503);
  CHECK(r.complete);
  CHECK(fetch(port, get("/")).status == 200);
}

TEST_CASE("direct_response answers with its status and inline body without an upstream", "[http]") {
  const std::string routes =
      "- match: { prefix: \"/\" }\n"
      "  direct_response:\n"
      "    status: 418\n"
      "    body: { inline_string: \"short and stout\" }\n";
  auto remora = startRemora(ingressBootstrap(oneVirtualHost(routes), {}));
  ClientResponse r = fetch(ingressPort(*remora), get("/teapot"));
  CHECK(r.status == 418);
  CHECK(r.body == "short and stout");
  CHECK(r.header("content-length") == "15");
  CHECK(statReaches(*remora, "http.ingress.rq_direct_response", 1));
}

TEST_CASE(
    "a redirect route answers 301 with a Location built from host_redirect and "
    "path_redirect",
    "[http]") {
  const std::string routes =
      "- match: { prefix: \"/old\" }\n"
      "  redirect: { host_redirect: \"new.example.com\", path_redirect: \"/new\" }\n"
      "- match: { prefix: \"/secure\" }\n"
      "  redirect: { https_redirect: true, response_code: FOUND }\n";
  auto remora = startRemora(ingressBootstrap(oneVirtualHost(routes), {}));
  const uint16_t port = ingressPort(*remora);
  ClientResponse moved = fetch(port, get("/old/page", "site.example.com"));
  CHECK(moved.status == 301);
  CHECK(moved.header("location") == "http://new.example.com/new");
  ClientResponse found = fetch(port, get("/secure/page", "site.example.com"));
  CHECK(found.status == 302);
  CHECK(found.header("location") == "https://site.example.com/secure/page");
  CHECK(statReaches(*remora, "http.ingress.rq_redirect", 2));
}

TEST_CASE("prefix_rewrite replaces the matched prefix in the path the upstream sees", "[http]") {
  HttpBackend backend;
  const std::string routes =
      "- match: { prefix: \"/api/\" }\n"
      "  route: { cluster: backend, prefix_rewrite: \"/v2/\" }\n";
  auto remora = startRemora(
      ingressBootstrap(oneVirtualHost(routes), {staticCluster("backend", {backend.port()})}));
  ClientResponse r = fetch(ingressPort(*remora), get("/api/users/7?expand=true"));
  CHECK(r.status == 200);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == "/v2/users/7?expand=true");
}

TEST_CASE("request and response headers_to_add expand %DOWNSTREAM_REMOTE_ADDRESS%", "[http]") {
  HttpBackend backend;
  const std::string routes =
      "- match: { prefix: \"/\" }\n"
      "  route: { cluster: backend }\n"
      "  request_headers_to_add:\n"
      "  - header: { key: x-client-address, value: \"%DOWNSTREAM_REMOTE_ADDRESS%\" }\n"
      "  response_headers_to_add:\n"
      "  - header: { key: x-seen-client, value: \"client=%DOWNSTREAM_REMOTE_ADDRESS%\" }\n";
  auto remora = startRemora(
      ingressBootstrap(oneVirtualHost(routes), {staticCluster("backend", {backend.port()})}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  const std::string address = "127.0.0.1:" + std::to_string(localPort(client.fd()));
  ClientResponse r = client.request(get("/"));
  CHECK(r.status == 200);
  CHECK(r.header("x-seen-client") == "client=" + address);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("x-client-address") == address);
}

TEST_CASE("weighted_clusters 90/10 splits 2000 requests within 3 percentage points", "[http]") {
  HttpBackend stable("stable");
  HttpBackend canary("canary");
  const std::string routes =
      "- match: { prefix: \"/\" }\n"
      "  route:\n"
      "    weighted_clusters:\n"
      "      clusters:\n"
      "      - { name: stable, weight: 90 }\n"
      "      - { name: canary, weight: 10 }\n";
  auto remora = startRemora(ingressBootstrap(
      oneVirtualHost(routes),
      {staticCluster("stable", {stable.port()}), staticCluster("canary", {canary.port()})}));
  const uint16_t port = ingressPort(*remora);
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 100;
  std::map<std::string, int> counts;
  for (int b = 0; b < kBatches; ++b) {
    HttpTestClient client(port);  // Weighted selection is per request, not per connection.
    REQUIRE(client.connected());
    for (int i = 0; i < kPerBatch; ++i) {
      ClientResponse r = client.request(get("/"));
      REQUIRE(r.status == 200);
      ++counts[r.header("x-backend")];
    }
  }
  const int total = kBatches * kPerBatch;
  INFO("stable " << counts["stable"] << ", canary " << counts["canary"]);
  CHECK(counts["stable"] + counts["canary"] == total);
  CHECK(counts["canary"] >= total * 7 / 100);
  CHECK(counts["canary"] <= total * 13 / 100);
}

TEST_CASE("x-request-id is generated as a UUID4 when the request has none", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}));
  const uint16_t port = ingressPort(*remora);
  CHECK(fetch(port, get("/")).status == 200);
  CHECK(fetch(port, get("/")).status == 200);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 2);
  INFO("x-request-id: " << seen[0].header("x-request-id") << " / "
                        << seen[1].header("x-request-id"));
  CHECK(isUuid4(seen[0].header("x-request-id")));
  CHECK(isUuid4(seen[1].header("x-request-id")));
  CHECK(seen[0].header("x-request-id") != seen[1].header("x-request-id"));
}

TEST_CASE("x-request-id sent by the client is preserved", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}));
  ClientRequest request = get("/");
  request.headers = {{"x-request-id", "client-chosen-id-123"}};
  CHECK(fetch(ingressPort(*remora), request).status == 200);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("x-request-id") == "client-chosen-id-123");
  CHECK(countHeader(seen[0].headers, "x-request-id") == 1);
}

TEST_CASE("use_remote_address appends the peer address to x-forwarded-for", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"),
                                             {staticCluster("backend", {backend.port()})},
                                             "use_remote_address: true\n"));
  const uint16_t port = ingressPort(*remora);
  ClientRequest forwarded = get("/");
  forwarded.headers = {{"X-Forwarded-For", "203.0.113.7"}};
  CHECK(fetch(port, forwarded).status == 200);
  CHECK(fetch(port, get("/")).status == 200);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 2);
  // Envoy appends the connection's peer, except that for a loopback peer it appends its own
  // local address instead: either way one IPv4 address.
  static const std::regex kIpv4("^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$");
  const auto appended = splitCommaList(seen[0].header("x-forwarded-for"));
  INFO("x-forwarded-for: " << seen[0].header("x-forwarded-for"));
  REQUIRE(appended.size() == 2);
  CHECK(appended[0] == "203.0.113.7");
  CHECK(std::regex_match(appended[1], kIpv4));
  const auto fresh = splitCommaList(seen[1].header("x-forwarded-for"));
  INFO("x-forwarded-for: " << seen[1].header("x-forwarded-for"));
  REQUIRE(fresh.size() == 1);
  CHECK(std::regex_match(fresh[0], kIpv4));
  CHECK(seen[0].header("x-forwarded-proto") == "http");
}

// Headers an external client must not be able to inject (Envoy's header sanitizing list).
const HeaderList kInjectedEnvoyHeaders = {
    {"x-envoy-internal", "true"},
    {"x-envoy-retry-on", "5xx"},
    {"x-envoy-max-retries", "7"},
    {"x-envoy-upstream-rq-timeout-ms", "1"},
    {"x-envoy-upstream-rq-per-try-timeout-ms", "1"},
    {"x-envoy-decorator-operation", "spoofed"},
    {"x-envoy-downstream-service-cluster", "spoofed-cluster"},
    {"x-envoy-downstream-service-node", "spoofed-node"},
    {"x-envoy-force-trace", "true"},
};

std::string sanitizingHcm(const std::string& trusted_cidr) {
  return "use_remote_address: true\n"
         "internal_address_config:\n"
         "  cidr_ranges:\n"
         "  - { address_prefix: \"" +
         trusted_cidr + "\", prefix_len: 8 }\n";
}

TEST_CASE("x-envoy request headers from an external client are stripped", "[http]") {
  HttpBackend backend;
  // 127.0.0.1 is outside 10.0.0.0/8: the client is external.
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"),
                                             {staticCluster("backend", {backend.port()})},
                                             sanitizingHcm("10.0.0.0")));
  ClientRequest request = get("/");
  request.headers = kInjectedEnvoyHeaders;
  ClientResponse r = fetch(ingressPort(*remora), request);
  CHECK(r.status == 200);  // x-envoy-upstream-rq-timeout-ms: 1 was not honoured either.
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  for (const auto& [name, value] : kInjectedEnvoyHeaders) {
    INFO(name);
    CHECK(seen[0].header(name) == "");
  }
  CHECK(seen[0].header("x-envoy-external-address") == "127.0.0.1");
}

TEST_CASE("x-envoy request headers from an internal client are kept", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"),
                                             {staticCluster("backend", {backend.port()})},
                                             sanitizingHcm("127.0.0.0")));
  ClientRequest request = get("/");
  request.headers = {{"x-envoy-downstream-service-cluster", "frontend"},
                     {"x-envoy-downstream-service-node", "frontend-1"}};
  CHECK(fetch(ingressPort(*remora), request).status == 200);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("x-envoy-downstream-service-cluster") == "frontend");
  CHECK(seen[0].header("x-envoy-downstream-service-node") == "frontend-1");
  CHECK(seen[0].header("x-envoy-internal") == "true");
  CHECK(seen[0].header("x-envoy-external-address") == "");
}

TEST_CASE("routed responses carry x-envoy-upstream-service-time in milliseconds", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}));
  ClientResponse r = fetch(ingressPort(*remora), get("/"));
  CHECK(r.status == 200);
  const std::string value = r.header("x-envoy-upstream-service-time");
  INFO("x-envoy-upstream-service-time: " << value);
  CHECK(std::regex_match(value, std::regex("^[0-9]+$")));
}

TEST_CASE("responses carry server: envoy by default replacing the upstream's server header",
          "[http]") {
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.headers = {{"server", "upstream-httpd/1.0"}};
    reply.body = "hi";
    return reply;
  });
  const std::string routes =
      "- match: { prefix: \"/direct\" }\n"
      "  direct_response: { status: 200, body: { inline_string: \"local\" } }\n"
      "- match: { prefix: \"/\" }\n"
      "  route: { cluster: backend }\n";
  auto remora = startRemora(
      ingressBootstrap(oneVirtualHost(routes), {staticCluster("backend", {backend.port()})}));
  const uint16_t port = ingressPort(*remora);
  ClientResponse proxied = fetch(port, get("/"));
  CHECK(proxied.status == 200);
  CHECK(proxied.header("server") == "envoy");
  CHECK(countHeader(proxied.headers, "server") == 1);
  ClientResponse local = fetch(port, get("/direct"));
  CHECK(local.status == 200);
  CHECK(local.header("server") == "envoy");
}

}  // namespace
}  // namespace remora::testing
