// The xDS client of the real remora binary across a control-plane outage (the last config keeps
// serving, the stream comes back and resubscribes) and listeners that come and go over LDS (a new
// one opens and serves; a removed one stops accepting and drains).
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/mock_cp.h"
#include "test/support/sockets.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kTimeout = 10s;
// Remora's stream back-off and gRPC's own reconnect back-off both run during an outage.
constexpr auto kReconnectTimeout = 30s;

bool connectionRefused(uint16_t port) {
  int error = 0;
  Fd fd = connectTcp(port, 1s, &error);
  return !fd.valid() && error == ECONNREFUSED;
}

TEST_CASE(
    "xDS: traffic keeps flowing while the control plane is down and the stream resubscribes "
    "after its restart",
    "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  HttpBackend b1("b1");
  XdsProxy p;
  p.spec.delta = delta;
  startXdsProxy(p,
                ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}, {"beta", {b1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  REQUIRE(statReaches(*p.remora, "control_plane.connected_state", 1));
  HttpTestClient kept(p.port);
  REQUIRE(kept.request(get("/")).body == "a1");

  p.cp.stop();
  CHECK(statReaches(*p.remora, "control_plane.connected_state", 0));
  for (int i = 0; i < 5; ++i) {
    CHECK(fetch(p.port, "/").body == "a1");
    CHECK(kept.request(get("/")).body == "a1");
  }

  REQUIRE(p.cp.restart());
  CHECK(waitFor([&] { return p.remora->stat("control_plane.connected_state") == 1; },
                kReconnectTimeout, 20ms));
  // The restarted control plane has a fresh request log: all of it comes from the new stream.
  for (const char* type : {kListenerType, kRouteType, kClusterType, kEndpointType}) {
    INFO("resubscription to " << type);
    auto first = p.cp.waitForRequest(
        [&](const MockCpRequest& r) { return r.type_url == type && !r.ack.has_value(); }, kTimeout);
    REQUIRE(first);
    if (delta) {
      // It tells the server what it has, so that only what changed is sent again.
      CHECK_FALSE(first->initial_resource_versions.empty());
    } else {
      CHECK(first->version_info == "1");
    }
  }
  CHECK(fetch(p.port, "/").body == "a1");

  std::string error;
  REQUIRE(pushAndAwaitAcks(p.cp, resourcesYaml({routeTo("ingress-routes", "beta")}), {kRouteType},
                           &error));
  CHECK(fetch(p.port, "/").body == "b1");
  CHECK(kept.request(get("/")).body == "b1");
}

TEST_CASE(
    "xDS: a listener added over LDS serves and once removed refuses connections and shows "
    "as draining",
    "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  XdsProxy p;
  p.spec.delta = delta;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}}),
                {"--drain-time-s", "30"});
  INFO(p.remora->describe() << "\n" << p.cp.describe());

  std::string error;
  REQUIRE(pushAndAwaitAcks(
      p.cp, resourcesYaml({rdsListener("second", "ingress-routes", configSource(p.spec))}),
      {kListenerType}, &error));
  uint16_t second = 0;
  REQUIRE(waitFor([&] { return (second = p.remora->listenerPort("second")) != 0; }, 5s));
  CHECK(second != p.port);
  CHECK(fetch(second, "/").body == "a1");

  const int64_t before = lastRequestSeq(p.cp);
  const int64_t version = p.cp.removeResource("listener", "second");
  REQUIRE(version > 0);
  auto reply = waitForReply(p.cp, kListenerType, before, version);
  REQUIRE(reply);
  CHECK(reply->ack == true);
  CHECK(waitFor([&] { return connectionRefused(second); }, 5s));
  CHECK(p.remora->listenerPort("second") == 0);
  CHECK(fetch(p.port, "/").body == "a1");

  bool draining = false;
  for (const auto& entry :
       dumpEntries(configDump(*p.remora), "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
                   "dynamic_listeners")) {
    if (stringAt(entry, "name") != "second") continue;
    draining = hasField(entry, "draining_state");
    CHECK_FALSE(hasField(entry, "active_state"));
  }
  CHECK(draining);
}

}  // namespace
}  // namespace remora::testing
