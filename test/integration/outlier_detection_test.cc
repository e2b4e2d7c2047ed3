// Outlier detection through the real binary configured over xDS: a backend answering 5xx is
// ejected after consecutive_5xx failures counted across every worker, traffic leaves it, it comes
// back after base_ejection_time, and /clusters and /stats show it; a TCP proxy's connect failures
// count too.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "test/support/backends.h"
#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/sockets.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A backend that serves its name, or a 500 while `failing`.
struct FlakyBackend {
  explicit FlakyBackend(const std::string& name)
      : backend(name, [this, name](const BackendRequest&) {
          BackendReply reply;
          if (failing.load()) {
            reply.status = 500;
          } else {
            reply.body = name;
          }
          return reply;
        }) {}
  std::atomic<bool> failing{false};
  HttpBackend backend;
};

bool ejected(RemoraProcess& remora, uint16_t port) {
  const std::string text = remora.admin("GET", "/clusters").body;
  return text.find("svc::127.0.0.1:" + std::to_string(port) +
                   "::health_flags::/failed_outlier_check") != std::string::npos;
}

TEST_CASE("xDS: consecutive 5xx from every worker eject a host until base_ejection_time passes",
          "[xds]") {
  FlakyBackend a("a"), b("b");
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(p,
                resourcesYaml({rdsListener("ingress", "ingress-routes", source),
                               routeTo("ingress-routes", "svc"),
                               edsCluster("svc", source) + "  outlier_detection:\n"
                                                           "    consecutive_5xx: 4\n"
                                                           "    interval: 0.1s\n"
                                                           "    base_ejection_time: 1s\n"
                                                           "    max_ejection_percent: 50\n",
                               endpoints("svc", {a.backend.port(), b.backend.port()})}),
                {"--concurrency", "2"});
  INFO(p.remora->describe() << "\n" << p.cp.describe());

  auto by = spread(p.port, 20);
  CHECK(by["a"] == 10);
  CHECK(by["b"] == 10);

  // b fails. Each failing request comes on its own connection, so both workers see some; 4 in a
  // row in total eject b.
  b.failing = true;
  int failures = 0;
  for (int i = 0; i < 40 && !ejected(*p.remora, b.backend.port()); ++i) {
    HttpTestClient client(p.port, "127.0.0.1", 5s);
    if (client.request(get("/")).status == 500) ++failures;
  }
  const auto ejected_at = Clock::now();
  REQUIRE(waitFor([&] { return ejected(*p.remora, b.backend.port()); }, 5s));
  CHECK(failures >= 4);
  WARN(failures << " requests failed before b was ejected");
  auto stats = p.remora->stats();
  CHECK(stats["cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx"] == 1);
  CHECK(stats["cluster.svc.outlier_detection.ejections_detected_consecutive_5xx"] == 1);
  CHECK(stats["cluster.svc.outlier_detection.ejections_enforced_total"] == 1);
  CHECK(stats["cluster.svc.outlier_detection.ejections_active"] == 1);
  CHECK(stats["cluster.svc.membership_healthy"] == 1);

  // While ejected no request reaches b.
  const int b_served = b.backend.requestsReceived();
  by = spread(p.port, 50);
  CHECK(by["a"] == 50);
  CHECK(b.backend.requestsReceived() == b_served);

  // b recovers and is back once base_ejection_time (1 s) has passed, at the next 0.1 s sweep.
  b.failing = false;
  REQUIRE(waitFor([&] { return !ejected(*p.remora, b.backend.port()); }, 5s));
  const auto back_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ejected_at);
  WARN("b back in service " << back_after.count() << " ms after its ejection");
  CHECK(back_after >= 900ms);
  CHECK(p.remora->stat("cluster.svc.outlier_detection.ejections_active") == 0);
  by = spread(p.port, 20);
  CHECK(by["a"] == 10);
  CHECK(by["b"] == 10);
}

TEST_CASE("xDS: max_ejection_percent keeps the last hosts in service and counts the overflow",
          "[xds]") {
  FlakyBackend a("a"), b("b");
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(p, resourcesYaml({rdsListener("ingress", "ingress-routes", source),
                                  routeTo("ingress-routes", "svc"),
                                  edsCluster("svc", source) + "  outlier_detection:\n"
                                                              "    consecutive_5xx: 2\n"
                                                              "    max_ejection_percent: 50\n",
                                  endpoints("svc", {a.backend.port(), b.backend.port()})}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  a.failing = true;
  b.failing = true;
  // Both fail: the first to reach 2 in a row is ejected (1 of 2 hosts is 50%), the other is not.
  REQUIRE(waitFor(
      [&] {
        spread(p.port, 4);
        return p.remora->stat("cluster.svc.outlier_detection.ejections_overflow") >= 1;
      },
      5s));
  CHECK(p.remora->stat("cluster.svc.outlier_detection.ejections_active") == 1);
  CHECK(ejected(*p.remora, a.backend.port()) != ejected(*p.remora, b.backend.port()));
}

TEST_CASE("a TCP proxy's connect failures eject the dead endpoint", "[tcp]") {
  EchoServer live;
  ReservedPort dead;
  ClusterSpec cluster = staticCluster("backend", {live.port(), dead.port()});
  cluster.extra = "    outlier_detection: {consecutive_5xx: 2, max_ejection_percent: 50}\n";
  TcpProxySpec listener;
  listener.cluster = "backend";
  auto remora = startRemora(bootstrapYaml({listener}, {cluster}));
  const uint16_t port = ingressPort(*remora);
  // Round robin sends every other connection to the dead port until 2 failures in a row there
  // eject it; the connects that worked count as successes of the live host.
  auto echoes = [&] {
    Fd fd = connectTcp(port, 5s);
    return fd.valid() && roundTrip(fd.get(), "ping", 5s) == "ping";
  };
  int failed = 0;
  for (int i = 0; i < 20 && remora->stat("cluster.backend.outlier_detection.ejections_active") != 1;
       ++i) {
    if (!echoes()) ++failed;
  }
  REQUIRE(statReaches(*remora, "cluster.backend.outlier_detection.ejections_active", 1));
  CHECK(failed >= 2);
  CHECK(remora->stat("cluster.backend.outlier_detection.ejections_enforced_consecutive_5xx") == 1);
  for (int i = 0; i < 20; ++i) CHECK(echoes());
}

}  // namespace
}  // namespace remora::testing
