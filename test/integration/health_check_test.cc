// Active health checking through the real binary: a cluster's checks, configured over CDS from the
// mock control plane or in the bootstrap, mark a failing or dead host within one interval, traffic
// leaves it, it comes back after healthy_threshold passing checks, listeners wait for the first
// round, and /clusters and /stats show it all.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A backend that serves its name, and answers /healthz with 200 or, once `sick`, 503.
struct CheckedBackend {
  explicit CheckedBackend(const std::string& name)
      : backend(name, [this, name](const BackendRequest& req) {
          if (req.path == "/healthz") {
            health_checks.fetch_add(1);
            return BackendReply{sick.load() ? 503 : 200};
          }
          BackendReply reply;
          reply.body = name;
          return reply;
        }) {}
  std::atomic<bool> sick{false};
  std::atomic<int> health_checks{0};
  HttpBackend backend;
};

// Cluster fields for an HTTP check of /healthz every 100 ms, whatever the traffic.
const char* const kHttpCheck =
    "  health_checks:\n"
    "  - timeout: 1s\n"
    "    interval: 0.1s\n"
    "    no_traffic_interval: 0.1s\n"
    "    unhealthy_threshold: 2\n"
    "    healthy_threshold: 2\n"
    "    http_health_check: {path: /healthz, host: checks.local}\n";

std::string hostFlags(RemoraProcess& remora, const std::string& cluster, uint16_t port) {
  const std::string key = cluster + "::127.0.0.1:" + std::to_string(port) + "::health_flags::";
  const std::string text = remora.admin("GET", "/clusters").body;
  const size_t at = text.find(key);
  if (at == std::string::npos) return "<absent>";
  const size_t end = text.find('\n', at);
  return text.substr(at + key.size(), end - at - key.size());
}

TEST_CASE("xDS: an HTTP health check takes a failing host out within one interval and back in",
          "[xds]") {
  CheckedBackend a("a"), b("b");
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(
      p, resourcesYaml({rdsListener("ingress", "ingress-routes", source),
                        routeTo("ingress-routes", "svc"), edsCluster("svc", source) + kHttpCheck,
                        endpoints("svc", {a.backend.port(), b.backend.port()})}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());

  // Checks run from the start and both hosts pass: traffic goes to both.
  REQUIRE(waitFor([&] { return hostFlags(*p.remora, "svc", a.backend.port()) == "healthy"; }, 5s));
  REQUIRE(waitFor([&] { return hostFlags(*p.remora, "svc", b.backend.port()) == "healthy"; }, 5s));
  auto by = spread(p.port, 100);
  CHECK(by["a"] == 50);
  CHECK(by["b"] == 50);
  const auto& requests = a.backend.requests();
  bool saw_check = false;
  for (const auto& r : requests) {
    if (r.path != "/healthz") continue;
    saw_check = true;
    CHECK(r.header("host") == "checks.local");
    CHECK(r.method == "GET");
  }
  CHECK(saw_check);

  // a starts failing: a 503 that is not in retriable_statuses makes it unhealthy at its first
  // failed check, unhealthy_threshold notwithstanding (as Envoy).
  a.sick = true;
  const auto sick_at = Clock::now();
  REQUIRE(waitFor(
      [&] { return hostFlags(*p.remora, "svc", a.backend.port()) == "/failed_active_hc"; }, 5s));
  const auto out_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sick_at);
  WARN("host marked failed_active_hc " << out_after.count() << " ms after it started failing");
  by = spread(p.port, 100);
  CHECK(by["b"] == 100);

  // a recovers: healthy_threshold (2) passing checks bring it back.
  a.sick = false;
  REQUIRE(waitFor([&] { return hostFlags(*p.remora, "svc", a.backend.port()) == "healthy"; }, 5s));
  by = spread(p.port, 100);
  CHECK(by["a"] == 50);
  CHECK(by["b"] == 50);

  auto stats = p.remora->stats();
  CHECK(stats["cluster.svc.health_check.attempt"] >= 6);
  CHECK(stats["cluster.svc.health_check.success"] >= 4);
  CHECK(stats["cluster.svc.health_check.failure"] >= 1);
  CHECK(stats["cluster.svc.health_check.network_failure"] == 0);
  CHECK(stats["cluster.svc.health_check.healthy"] == 2);
  CHECK(stats["cluster.svc.membership_healthy"] == 2);
}

TEST_CASE("xDS: a TCP health check marks a dead host and traffic leaves it under load", "[xds]") {
  HttpBackend a("a"), b("b"), c("c");
  const uint16_t c_port = c.port();
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(p, resourcesYaml({rdsListener("ingress", "ingress-routes", source),
                                  routeTo("ingress-routes", "svc"),
                                  edsCluster("svc", source) + "  health_checks:\n"
                                                              "  - timeout: 1s\n"
                                                              "    interval: 0.1s\n"
                                                              "    no_traffic_interval: 0.1s\n"
                                                              "    unhealthy_threshold: 1\n"
                                                              "    healthy_threshold: 1\n"
                                                              "    tcp_health_check: {}\n",
                                  endpoints("svc", {a.port(), b.port(), c_port})}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  REQUIRE(waitFor([&] { return hostFlags(*p.remora, "svc", c_port) == "healthy"; }, 5s));

  c.stop();  // The host dies: its port refuses connections.
  const auto died = Clock::now();
  REQUIRE(waitFor([&] { return hostFlags(*p.remora, "svc", c_port) == "/failed_active_hc"; }, 5s));
  WARN("dead host marked "
       << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - died).count()
       << " ms after it died");
  // From then on no request reaches it: every one of 300 succeeds, over a and b only.
  auto by = spread(p.port, 300);
  INFO("a " << by["a"] << " b " << by["b"]);
  CHECK(by["a"] == 150);
  CHECK(by["b"] == 150);
  auto stats = p.remora->stats();
  CHECK(stats["cluster.svc.health_check.network_failure"] >= 1);
  CHECK(stats["cluster.svc.membership_healthy"] == 2);
  CHECK(stats["cluster.svc.membership_total"] == 3);
}

TEST_CASE("listeners open only after the first round of health checks", "[http]") {
  // One host of two is dead from the start. Without warming, both would start unchecked and the
  // first requests would go to the dead one too.
  HttpBackend live("live");
  ReservedPort dead;
  const uint16_t dead_port = dead.port();
  ClusterSpec c = staticCluster("backend", {live.port(), dead_port});
  c.extra =
      "    health_checks:\n"
      "    - timeout: 1s\n"
      "      interval: 10s\n"
      "      unhealthy_threshold: 3\n"
      "      healthy_threshold: 3\n"
      "      tcp_health_check: {}\n";
  auto remora = startRemora(
      ingressBootstrap("name: local\nvirtual_hosts:\n- name: all\n  domains: [\"*\"]\n  routes:\n"
                       "  - match: { prefix: \"/\" }\n    route:\n      cluster: backend\n",
                       {c}));
  CHECK_THAT(remora->stderrText(), Catch::Contains("clusters warmed"));
  CHECK(hostFlags(*remora, "backend", dead_port) == "/failed_active_hc");
  CHECK(hostFlags(*remora, "backend", live.port()) == "healthy");
  auto by = spread(ingressPort(*remora), 50);
  CHECK(by["live"] == 50);
}

}  // namespace
}  // namespace remora::testing
