// An xDS server behind a unix socket, as Istio deploys it: the bootstrap's static xds cluster has a
// pipe address (./etc/istio/proxy/XDS, served by the pilot-agent), and envoy_grpc reaches the
// control plane through it. The mock control plane serves the socket with --xds-uds.
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/mock_cp.h"
#include "test/support/process.h"
#include "test/support/sockets.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

TEST_CASE("xDS: config arrives over ADS through the unix socket of the xds cluster's pipe address",
          "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  XdsBootstrapSpec spec;
  spec.delta = delta;
  TempDir dir;
  // Apart from the resource directory, so that the socket never shows up among watched files.
  TempDir sockets;
  spec.xds_pipe = sockets.file("XDS");
  dir.write("initial.yaml", ingressResources(spec, "alpha", {{"alpha", {a1.port()}}}));
  MockControlPlane cp;
  if (!cp.start(REMORA_MOCK_CP, dir.path(), spec.xds_pipe)) FAIL(cp.error());
  // spec.xds_port stays 0: the bootstrap names no TCP address, so the socket is the only way in.
  auto remora = launchRemora(xdsBootstrap(spec));
  INFO(remora->describe() << "\n" << cp.describe());
  REQUIRE(remora->waitReady());
  uint16_t port = 0;
  REQUIRE(waitFor([&] { return (port = remora->listenerPort("ingress")) != 0; }, 5s));
  ClientResponse response = fetch(port, "/");
  INFO(response.error);
  CHECK(response.status == 200);
  CHECK(response.body == "a1");
  const auto requests = cp.requests();
  REQUIRE_FALSE(requests.empty());
  for (const auto& r : requests) {
    CHECK(r.api == "ads");
    CHECK(r.delta == delta);
    CHECK(r.node_id == spec.node_id);
  }
}

TEST_CASE("remora --mode validate accepts an ADS bootstrap whose xds cluster is a pipe address",
          "[xds]") {
  XdsBootstrapSpec spec;
  // Istio's own path, relative to the proxy's working directory; validation connects to nothing.
  spec.xds_pipe = "./etc/istio/proxy/XDS";
  TempDir dir;
  Process remora(REMORA_BINARY,
                 {"-c", dir.write("bootstrap.yaml", xdsBootstrap(spec)), "--mode", "validate"});
  std::optional<int> code = remora.waitExit(10s);
  INFO(remora.describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
}

}  // namespace
}  // namespace remora::testing
