// CONNECT through the HTTP connection manager: a connect_matcher route and an upgrade_configs
// entry for CONNECT make the proxy open a tunnel once the upstream answers 2xx, as Envoy does.
#include <catch2/catch.hpp>

#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

std::string connectRoutes() {
  return oneVirtualHost(
      "- match: {connect_matcher: {}}\n"
      "  route: {cluster: backend}\n"
      "- match: {prefix: \"/\"}\n"
      "  route: {cluster: backend}\n");
}

ClientRequest connectRequest() {
  ClientRequest r;
  r.method = "CONNECT";
  r.path = "example.com:443";
  r.host = "example.com:443";
  return r;
}

TEST_CASE("CONNECT on a connect_matcher route tunnels bytes both ways after the upstream's 200",
          "[http]") {
  HttpBackend backend;  // Answers CONNECT with 200, then echoes every byte.
  auto remora =
      startRemora(ingressBootstrap(connectRoutes(), {staticCluster("backend", {backend.port()})},
                                   "upgrade_configs:\n- upgrade_type: CONNECT\n"));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(connectRequest());
  REQUIRE(r.status == 200);
  const std::string data = patternBytes(0, 32 * 1024);
  REQUIRE(client.sendRaw(data));
  CHECK(client.receiveExactly(data.size()).data == data);
  auto requests = backend.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "CONNECT");
  CHECK(requests[0].path == "example.com:443");
}

TEST_CASE("CONNECT without an upgrade_configs entry for it is refused with 403", "[http]") {
  HttpBackend backend;
  auto remora =
      startRemora(ingressBootstrap(connectRoutes(), {staticCluster("backend", {backend.port()})}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(connectRequest());
  CHECK(r.status == 403);
  CHECK(backend.requests().empty());
}

TEST_CASE("CONNECT matches no path route: without a connect_matcher route it gets 404", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(ingressBootstrap(
      oneVirtualHost("- match: {prefix: \"/\"}\n  route: {cluster: backend}\n"),
      {staticCluster("backend", {backend.port()})}, "upgrade_configs:\n- upgrade_type: CONNECT\n"));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(connectRequest());
  CHECK(r.status == 404);
  CHECK(backend.requests().empty());
}

}  // namespace
}  // namespace remora::testing
