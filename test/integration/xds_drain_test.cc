// What happens to open connections when the configuration they were made under goes away over
// xDS: downstream connections of a listener removed or changed over LDS drain (an idle one closes
// at once, a busy one gets Connection: close on its response, and what is left closes at
// --drain-time-s), and upstream keep-alive connections to a cluster removed over CDS, or to a host
// that left its cluster over EDS, close (at once when idle, after their response when in use).
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
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
using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = 10s;

// An HTTP backend whose responses wait until the test opens its gate, so that a request stays in
// flight across a config change for as long as the test needs and no longer. Its thread blocks
// meanwhile and serves nothing else: give it a cluster of its own.
class GatedBackend {
 public:
  explicit GatedBackend(const std::string& name)
      : backend_(name, [this, name](const BackendRequest&) {
          std::unique_lock<std::mutex> lock(mu_);
          ++arrived_;
          cv_.notify_all();
          // Bounded, so that a failed test still ends.
          cv_.wait_for(lock, 30s, [this] { return open_; });
          BackendReply reply;
          reply.body = name;
          return reply;
        }) {}
  // Before backend_ joins its thread, which may be waiting here.
  ~GatedBackend() { open(); }

  uint16_t port() const { return backend_.port(); }
  int openConnections() const { return backend_.openConnections(); }
  // Whether `n` requests have reached the gate by the deadline.
  bool waitArrived(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return arrived_ >= n; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool open_ = false;
  HttpBackend backend_;  // Last: destroyed first, while the gate it waits on still exists.
};

// RouteConfiguration `name`: paths under /held to cluster "held", everything else to `cluster`.
std::string routesWithHeld(const std::string& name, const std::string& cluster) {
  return std::string("- \"@type\": ") + kRouteType + "\n  name: " + name +
         "\n"
         "  virtual_hosts:\n"
         "  - name: all\n"
         "    domains: [\"*\"]\n"
         "    routes:\n"
         "    - match: {prefix: /held}\n"
         "      route: {cluster: held}\n"
         "    - match: {prefix: /}\n"
         "      route: {cluster: " +
         cluster + "}\n";
}

// Listener "ingress" routing / to cluster "alpha" (endpoint `alpha_port`) and /held to cluster
// "held" (endpoint `held_port`).
std::string heldResources(const XdsBootstrapSpec& spec, uint16_t alpha_port, uint16_t held_port) {
  const std::string source = configSource(spec);
  return resourcesYaml({rdsListener("ingress", "ingress-routes", source),
                        routesWithHeld("ingress-routes", "alpha"), edsCluster("alpha", source),
                        endpoints("alpha", {alpha_port}), edsCluster("held", source),
                        endpoints("held", {held_port})});
}

// `listener` (rdsListener's YAML) with its HTTP connection manager's stat_prefix set to `prefix`:
// a change that keeps name, address and routes, visible in which http.<prefix>.* stats count.
std::string withHcmStatPrefix(std::string listener, const std::string& prefix) {
  const std::string field = "        stat_prefix: ";
  const size_t at = listener.find(field);
  REQUIRE(at != std::string::npos);
  const size_t end = listener.find('\n', at);
  return listener.replace(at + field.size(), end - at - field.size(), prefix);
}

bool connectionRefused(uint16_t port) {
  int error = 0;
  Fd fd = connectTcp(port, 1s, &error);
  return !fd.valid() && error == ECONNREFUSED;
}

// Removes resource `name` of `type` ("listener", "cluster", ...) and waits for the ACK of
// `type_url`; FAILs the test otherwise.
void removeAndAwaitAck(MockControlPlane& cp, const std::string& type, const std::string& name,
                       const std::string& type_url) {
  const int64_t before = lastRequestSeq(cp);
  const int64_t version = cp.removeResource(type, name);
  INFO(cp.error());
  REQUIRE(version > 0);
  auto reply = waitForReply(cp, type_url, before, version);
  REQUIRE(reply);
  REQUIRE(reply->ack == true);
}

// Checks that remora still answers on its admin endpoint; when it died, its exit status says how.
void checkStillServing(RemoraProcess& remora) {
  const int ready = remora.readyStatus();
  INFO(remora.describe());
  CHECK(ready == 200);
}

TEST_CASE("xDS: an idle keep-alive connection on a listener removed over LDS is closed", "[xds]") {
  HttpBackend a1("a1");
  XdsProxy p;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}}),
                {"--drain-time-s", "1"});
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  HttpTestClient kept(p.port);
  ClientResponse first = kept.request(get("/"));
  REQUIRE(first.body == "a1");
  REQUIRE(first.header("connection") != "close");
  // Kept alive: whatever closes it later is the removal.
  REQUIRE_FALSE(kept.waitForClose(100ms));

  removeAndAwaitAck(p.cp, "listener", "ingress", kListenerType);
  CHECK(kept.waitForClose(kTimeout));
  CHECK(waitFor([&] { return connectionRefused(p.port); }, 5s));
  checkStillServing(*p.remora);
}

TEST_CASE(
    "xDS: a connection busy with a request on a listener removed over LDS is closed when "
    "--drain-time-s is up",
    "[xds]") {
  HttpBackend a1("a1");
  GatedBackend held("held");
  XdsProxy p;
  startXdsProxy(p, heldResources(p.spec, a1.port(), held.port()), {"--drain-time-s", "1"});
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  HttpTestClient kept(p.port);
  REQUIRE(kept.request(get("/")).body == "a1");
  REQUIRE(kept.send(get("/held")));
  REQUIRE(held.waitArrived(1, kTimeout));

  const auto removed_at = Clock::now();
  removeAndAwaitAck(p.cp, "listener", "ingress", kListenerType);
  REQUIRE(waitFor([&] { return connectionRefused(p.port); }, 5s));
  // The request never finishes, so only the drain deadline ends the connection.
  ClientResponse r = kept.readResponse();
  const double elapsed = secondsSince(removed_at);
  INFO("closed " << elapsed << " s after the removal was pushed");
  CHECK(r.status == 0);
  CHECK(r.closed);
  CHECK(elapsed >= 0.9);
  CHECK(elapsed < 10.0);
  checkStillServing(*p.remora);
}

TEST_CASE(
    "xDS: a listener changed in place over LDS keeps its port and serves new connections with "
    "the new config while its old connection gets connection close",
    "[xds]") {
  HttpBackend a1("a1");
  GatedBackend held("held");
  XdsProxy p;
  // Long enough that only the drain itself, not its deadline, can close the old connection.
  startXdsProxy(p, heldResources(p.spec, a1.port(), held.port()), {"--drain-time-s", "30"});
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  const uint16_t port_before = p.port;
  HttpTestClient old_conn(p.port);
  REQUIRE(old_conn.request(get("/")).body == "a1");
  // In flight across the change: an idle connection would be closed at once by the drain.
  REQUIRE(old_conn.send(get("/held")));
  REQUIRE(held.waitArrived(1, kTimeout));

  std::string error;
  REQUIRE(pushAndAwaitAcks(
      p.cp,
      resourcesYaml({withHcmStatPrefix(
          rdsListener("ingress", "ingress-routes", configSource(p.spec)), "ingress_v2")}),
      {kListenerType}, &error));
  // New connections count under the new stat_prefix once the worker runs the new config.
  CHECK(waitFor(
      [&] {
        fetch(p.port, "/");
        return p.remora->stat("http.ingress_v2.downstream_rq_total") >= 1;
      },
      kTimeout, 50ms));
  CHECK(p.remora->listenerPort("ingress") == port_before);
  HttpTestClient new_conn(p.port);
  ClientResponse fresh = new_conn.request(get("/"));
  CHECK(fresh.body == "a1");
  CHECK(fresh.header("connection") != "close");
  CHECK_FALSE(new_conn.waitForClose(100ms));

  held.open();
  ClientResponse last = old_conn.readResponse();
  INFO(last.error);
  CHECK(last.status == 200);
  CHECK(last.body == "held");
  CHECK(last.header("connection") == "close");
  CHECK(old_conn.waitForClose(5s));
  checkStillServing(*p.remora);
}

TEST_CASE(
    "xDS: removing a cluster over CDS closes the idle upstream keep-alive connections to its "
    "hosts",
    "[xds]") {
  HttpBackend a1("a1");
  HttpBackend b1("b1");
  XdsProxy p;
  startXdsProxy(p,
                ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}, {"beta", {b1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  REQUIRE(fetch(p.port, "/").body == "a1");
  REQUIRE(waitFor([&] { return a1.openConnections() == 1; }, kTimeout));
  REQUIRE(statReaches(*p.remora, "cluster.alpha.upstream_cx_active", 1));

  std::string error;
  REQUIRE(pushAndAwaitAcks(p.cp, resourcesYaml({routeTo("ingress-routes", "beta")}), {kRouteType},
                           &error));
  REQUIRE(waitFor([&] { return fetch(p.port, "/").body == "b1"; }, kTimeout));
  // Routing away from a cluster leaves its pool alone: only its removal closes the connection.
  CHECK(a1.openConnections() == 1);

  removeAndAwaitAck(p.cp, "cluster", "alpha", kClusterType);
  CHECK(waitFor([&] { return a1.openConnections() == 0; }, kTimeout));
  CHECK(statReaches(*p.remora, "cluster.alpha.upstream_cx_active", 0));
  CHECK(fetch(p.port, "/").body == "b1");
  CHECK(b1.openConnections() == 1);
  checkStillServing(*p.remora);
}

TEST_CASE(
    "xDS: a host leaving its cluster over EDS has its idle upstream keep-alive connections "
    "closed",
    "[xds]") {
  HttpBackend a1("a1");
  HttpBackend a2("a2");
  XdsProxy p;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  REQUIRE(fetch(p.port, "/").body == "a1");
  REQUIRE(waitFor([&] { return a1.openConnections() == 1; }, kTimeout));

  std::string error;
  REQUIRE(pushAndAwaitAcks(p.cp, resourcesYaml({endpoints("alpha", {a2.port()})}), {kEndpointType},
                           &error));
  CHECK(waitFor([&] { return a1.openConnections() == 0; }, kTimeout));
  CHECK(statReaches(*p.remora, "cluster.alpha.upstream_cx_active", 0));
  CHECK(fetch(p.port, "/").body == "a2");
  CHECK(a1.connectionsAccepted() == 1);
  checkStillServing(*p.remora);
}

TEST_CASE(
    "xDS: an upstream connection in use when its host leaves the cluster over EDS closes once "
    "its response is through",
    "[xds]") {
  GatedBackend held("held");
  HttpBackend a2("a2");
  XdsProxy p;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {held.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  HttpTestClient client(p.port);
  REQUIRE(client.send(get("/")));
  REQUIRE(held.waitArrived(1, kTimeout));

  std::string error;
  REQUIRE(pushAndAwaitAcks(p.cp, resourcesYaml({endpoints("alpha", {a2.port()})}), {kEndpointType},
                           &error));
  // The worker has the new hosts once a new request goes to a2.
  REQUIRE(waitFor([&] { return fetch(p.port, "/").body == "a2"; }, kTimeout));
  // Its request still needs it.
  CHECK(held.openConnections() == 1);

  held.open();
  ClientResponse r = client.readResponse();
  INFO(r.error);
  CHECK(r.status == 200);
  CHECK(r.body == "held");
  // The downstream connection is not what drains.
  CHECK(r.header("connection") != "close");
  CHECK(waitFor([&] { return held.openConnections() == 0; }, kTimeout));
  // Closed by remora, not by its exit.
  checkStillServing(*p.remora);
  CHECK(client.request(get("/")).body == "a2");
}

TEST_CASE(
    "xDS: a request in flight when its cluster is removed over CDS completes and then its "
    "upstream connection closes",
    "[xds]") {
  HttpBackend a1("a1");
  GatedBackend held("held");
  XdsProxy p;
  startXdsProxy(p, heldResources(p.spec, a1.port(), held.port()));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  HttpTestClient client(p.port);
  REQUIRE(client.send(get("/held")));
  REQUIRE(held.waitArrived(1, kTimeout));

  removeAndAwaitAck(p.cp, "cluster", "held", kClusterType);
  // The worker runs without the cluster once a new request for it finds none.
  REQUIRE(waitFor([&] { return fetch(p.port, "/held").status == 503; }, kTimeout));
  CHECK(held.openConnections() == 1);

  held.open();
  ClientResponse r = client.readResponse();
  INFO(r.error);
  CHECK(r.status == 200);
  CHECK(r.body == "held");
  CHECK(waitFor([&] { return held.openConnections() == 0; }, kTimeout));
  checkStillServing(*p.remora);
  CHECK(client.request(get("/")).body == "a1");
}

}  // namespace
}  // namespace remora::testing
