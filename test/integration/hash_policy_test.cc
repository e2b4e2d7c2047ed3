// RouteAction.hash_policy end to end: the real remora binary generates the cookie of a cookie
// policy with a ttl for clients that lack it, in Envoy's Set-Cookie form. Which host a hash picks
// is the consistent-hash balancers' part and is tested with them.
#include <xxhash.h>

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

// The value Envoy generates for a connection: xxHash64 of "<client ip:port><proxy ip:port>".
std::string generatedCookie(uint16_t client_port, uint16_t proxy_port) {
  const std::string key = absl::StrCat("127.0.0.1:", client_port, "127.0.0.1:", proxy_port);
  return absl::StrFormat("%016x", XXH64(key.data(), key.size(), 0));
}

std::string cookieRoute(const std::string& cookie_yaml) {
  return oneVirtualHost(
      "- match: { prefix: \"/\" }\n"
      "  route:\n"
      "    cluster: backend\n"
      "    hash_policy:\n"
      "    - cookie: " +
      cookie_yaml + "\n");
}

// The cookie is only generated for a cluster whose balancer hashes, as in Envoy.
ClusterSpec hashingCluster(uint16_t port) {
  ClusterSpec c = staticCluster("backend", {port});
  c.lb_policy = "RING_HASH";
  return c;
}

TEST_CASE("a cookie hash_policy with ttl sets the generated cookie on the upstream response",
          "[http]") {
  HttpBackend backend("backend");
  auto remora = startRemora(ingressBootstrap(cookieRoute("{ name: sticky, ttl: 3600s, path: / }"),
                                             {hashingCluster(backend.port())}));
  const uint16_t port = ingressPort(*remora);
  HttpTestClient client(port);
  REQUIRE(client.connected());
  const std::string expected =
      absl::StrCat("sticky=\"", generatedCookie(localPort(client.fd()), port),
                   "\"; Max-Age=3600; Path=/; HttpOnly");
  ClientResponse first = client.request(get("/"));
  CHECK(first.status == 200);
  CHECK(countHeader(first.headers, "set-cookie") == 1);
  CHECK(first.header("set-cookie") == expected);
  // Another request on the connection that still lacks the cookie is given the same one.
  ClientResponse second = client.request(get("/again"));
  CHECK(second.status == 200);
  CHECK(second.header("set-cookie") == expected);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].header("set-cookie").empty());
}

TEST_CASE("a cookie hash_policy with a ttl of 0 sets a session cookie without Max-Age", "[http]") {
  HttpBackend backend("backend");
  auto remora = startRemora(
      ingressBootstrap(cookieRoute("{ name: sticky, ttl: 0s }"), {hashingCluster(backend.port())}));
  const uint16_t port = ingressPort(*remora);
  HttpTestClient client(port);
  REQUIRE(client.connected());
  ClientResponse r = client.request(get("/"));
  CHECK(r.status == 200);
  CHECK(r.header("set-cookie") ==
        absl::StrCat("sticky=\"", generatedCookie(localPort(client.fd()), port), "\"; HttpOnly"));
}

TEST_CASE("a request that carries the hash cookie gets no generated set-cookie", "[http]") {
  HttpBackend backend("backend");
  auto remora = startRemora(ingressBootstrap(cookieRoute("{ name: sticky, ttl: 3600s, path: / }"),
                                             {hashingCluster(backend.port())}));
  ClientRequest request = get("/");
  request.headers = {{"cookie", "sticky=\"0123456789abcdef\""}};
  ClientResponse r = fetch(ingressPort(*remora), request);
  CHECK(r.status == 200);
  CHECK(countHeader(r.headers, "set-cookie") == 0);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("cookie") == "sticky=\"0123456789abcdef\"");
}

TEST_CASE("a cookie hash_policy generates no cookie when the cluster does not hash", "[http]") {
  HttpBackend backend("backend");
  auto remora = startRemora(ingressBootstrap(cookieRoute("{ name: sticky, ttl: 3600s, path: / }"),
                                             {staticCluster("backend", {backend.port()})}));
  ClientResponse r = fetch(ingressPort(*remora), get("/"));
  CHECK(r.status == 200);
  CHECK(countHeader(r.headers, "set-cookie") == 0);
}

}  // namespace
}  // namespace remora::testing
