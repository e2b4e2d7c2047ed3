// HostHealthOverlay against real loopback ports: verdicts become failed_active_health_check in a
// new host set, unchanged inputs come back as the same pointers, a new cluster waits for its first
// round, a changed check keeps the previous version serving until then, and changes are batched.
#include <event2/event.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "source/config/yaml_to_proto.h"
#include "source/event/dispatcher.h"
#include "source/upstream/health_check_config.h"
#include "source/upstream/host_health_overlay.h"
#include "source/upstream/outlier_detection_config.h"
#include "source/upstream/outlier_detector.h"
#include "source/upstream/priority_set.h"
#include "test/support/event_loop.h"
#include "test/support/http_backend.h"
#include "test/support/sockets.h"

namespace remora::upstream {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

std::shared_ptr<const HealthCheckConfig> tcpCheck(const std::string& interval = "0.02s") {
  envoy::config::core::v3::HealthCheck proto;
  config::ParseReport report;
  REQUIRE(config::parseYaml("timeout: 1s\ninterval: " + interval +
                                "\nno_traffic_interval: " + interval +
                                "\nunhealthy_threshold: 1\nhealthy_threshold: 1\n"
                                "tcp_health_check: {}\n",
                            proto, report)
              .ok());
  auto built = buildHealthCheckConfig(proto, "health_checks[0]");
  REQUIRE(built.ok());
  return std::make_shared<const HealthCheckConfig>(*std::move(built));
}

// Ejects after 3 consecutive 5xx, whatever the share of hosts ejected.
std::shared_ptr<const OutlierDetectionConfig> outlierConfig() {
  OutlierDetectionConfig config;
  config.consecutive_5xx = 3;
  config.max_ejection_percent = 100;
  return std::make_shared<const OutlierDetectionConfig>(config);
}

struct OverlayTest {
  OverlayTest() { ::signal(SIGPIPE, SIG_IGN); }

  ClusterConstSharedPtr cluster(const std::string& name, const std::vector<uint16_t>& ports,
                                std::shared_ptr<const HealthCheckConfig> check,
                                const std::string& fingerprint = "check-1") {
    auto c = std::make_shared<Cluster>();
    c->name = name;
    auto hosts = std::make_shared<HostSet>();
    for (uint16_t port : ports) {
      Host h;
      auto address = network::Address::fromIpPort("127.0.0.1", port);
      REQUIRE(address.ok());
      h.address = *address;
      hosts->hosts.push_back(h);
    }
    c->host_set = std::move(hosts);
    c->health_check = std::move(check);
    c->health_check_fingerprint = c->health_check != nullptr ? fingerprint : "";
    c->stats = std::make_shared<ClusterStats>(store, name);
    refreshHosts(*c);
    return c;
  }

  bool runUntil(const std::function<bool()>& cond, milliseconds limit = 10s) {
    return testing::runLoopUntil(dispatcher, cond, limit);
  }

  // The overlay's answer for `clusters`, with unchecked clusters filled in as the server does.
  HostHealthOverlay::Clusters apply(const HostHealthOverlay::Clusters& clusters) {
    auto out = overlay->apply(clusters);
    return out ? *out : clusters;
  }

  event::Dispatcher dispatcher{"overlay-test"};
  stats::Store store;
  int notified = 0;
  std::unique_ptr<HostHealthOverlay> overlay =
      std::make_unique<HostHealthOverlay>(dispatcher, store, [this] { ++notified; });
};

bool failed(const ClusterConstSharedPtr& c, size_t i) {
  return c->host_set->hosts.at(i).failed_active_health_check;
}

TEST_CASE("clusters without health checks pass through untouched", "[health]") {
  OverlayTest t;
  HostHealthOverlay::Clusters in = {{"plain", t.cluster("plain", {1000}, nullptr)}};
  CHECK_FALSE(t.overlay->apply(in).has_value());
  CHECK(t.overlay->warmed());
}

TEST_CASE("a checked cluster is held back until its first round and then flags dead hosts",
          "[health]") {
  OverlayTest t;
  testing::HttpBackend live("live");
  testing::ReservedPort dead;
  HostHealthOverlay::Clusters in = {
      {"svc", t.cluster("svc", {live.port(), dead.port()}, tcpCheck())},
      {"plain", t.cluster("plain", {1000}, nullptr)}};
  auto out = t.apply(in);
  CHECK_FALSE(out.contains("svc"));  // Warming: no verdict yet.
  CHECK(out.at("plain") == in.at("plain"));
  CHECK_FALSE(t.overlay->warmed());

  REQUIRE(t.runUntil([&] { return t.overlay->warmed() && t.notified > 0; }));
  out = t.apply(in);
  REQUIRE(out.contains("svc"));
  const ClusterConstSharedPtr& svc = out.at("svc");
  CHECK(svc != in.at("svc"));
  CHECK_FALSE(failed(svc, 0));
  CHECK(failed(svc, 1));
  CHECK(svc->stats->membership_healthy.value() == 1);
  CHECK(svc->priority_set != nullptr);
  // The input is never modified: workers may hold it.
  CHECK_FALSE(in.at("svc")->host_set->hosts[1].failed_active_health_check);

  // Nothing changed: the same pointer, so workers keep their balancers.
  CHECK(t.apply(in).at("svc") == svc);
}

TEST_CASE("a host that dies is flagged in a new version and the change is notified once",
          "[health]") {
  OverlayTest t;
  testing::HttpBackend a("a"), b("b");
  HostHealthOverlay::Clusters in = {{"svc", t.cluster("svc", {a.port(), b.port()}, tcpCheck())}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.overlay->warmed(); }));
  auto before = t.apply(in).at("svc");
  REQUIRE_FALSE(failed(before, 1));
  const int notified = t.notified;
  b.stop();
  REQUIRE(t.runUntil([&] { return t.notified > notified; }));
  auto after = t.apply(in).at("svc");
  CHECK(after != before);
  CHECK(failed(after, 1));
  CHECK_FALSE(failed(after, 0));
}

TEST_CASE("new endpoints keep the verdicts of hosts that stay", "[health]") {
  OverlayTest t;
  testing::HttpBackend a("a"), b("b");
  auto check = tcpCheck("10s");  // One check per host within the test.
  HostHealthOverlay::Clusters in = {{"svc", t.cluster("svc", {a.port()}, check)}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.overlay->warmed(); }));
  CHECK_FALSE(failed(t.apply(in).at("svc"), 0));

  // An EDS update adds b: a keeps its verdict at once, b is unverified until checked.
  in["svc"] = t.cluster("svc", {a.port(), b.port()}, check);
  auto out = t.apply(in).at("svc");
  CHECK_FALSE(failed(out, 0));
  CHECK(failed(out, 1));
  REQUIRE(t.runUntil([&] { return !failed(t.apply(in).at("svc"), 1); }));
}

TEST_CASE("a changed check keeps the previous version serving until its first round", "[health]") {
  OverlayTest t;
  testing::HttpBackend a("a");
  HostHealthOverlay::Clusters in = {{"svc", t.cluster("svc", {a.port()}, tcpCheck("10s"))}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.overlay->warmed(); }));
  auto served = t.apply(in).at("svc");

  HostHealthOverlay::Clusters changed = {
      {"svc", t.cluster("svc", {a.port()}, tcpCheck("5s"), "check-2")}};
  CHECK(t.apply(changed).at("svc") == served);
  REQUIRE(t.runUntil([&] { return t.overlay->warmed(); }));
  auto now = t.apply(changed).at("svc");
  CHECK(now != served);
  CHECK_FALSE(failed(now, 0));

  // The same check in a new cluster version (another setting changed) keeps the verdicts.
  HostHealthOverlay::Clusters same = {
      {"svc", t.cluster("svc", {a.port()}, tcpCheck("5s"), "check-2")}};
  CHECK(t.overlay->warmed());
  auto kept = t.apply(same).at("svc");
  CHECK(kept != now);
  CHECK_FALSE(failed(kept, 0));
}

TEST_CASE("dropping the checks of a warming cluster that keeps outlier detection serves it",
          "[health]") {
  OverlayTest t;
  testing::ReservedPort dead;  // Its check fails, but only after the connect is refused.
  auto checked = std::make_shared<Cluster>(*t.cluster("svc", {dead.port()}, tcpCheck("10s")));
  checked->outlier_detection = outlierConfig();
  checked->outlier_detection_fingerprint = "od-1";
  HostHealthOverlay::Clusters in = {{"svc", checked}};
  CHECK_FALSE(t.apply(in).contains("svc"));
  auto unchecked = std::make_shared<Cluster>(*t.cluster("svc", {dead.port()}, nullptr));
  unchecked->outlier_detection = outlierConfig();
  unchecked->outlier_detection_fingerprint = "od-1";
  in["svc"] = unchecked;
  auto out = t.apply(in);
  REQUIRE(out.contains("svc"));
  CHECK_FALSE(out.at("svc")->host_set->hosts[0].failed_active_health_check);
  CHECK(t.overlay->warmed());
}

TEST_CASE("a removed cluster stops its checks", "[health]") {
  OverlayTest t;
  testing::HttpBackend a("a");
  HostHealthOverlay::Clusters in = {{"svc", t.cluster("svc", {a.port()}, tcpCheck())}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return a.connectionsAccepted() >= 2; }));
  CHECK_FALSE(t.overlay->apply({}).has_value());
  // A check connected just before the removal may still be accepted by the backend's thread.
  t.runUntil([] { return false; }, 50ms);
  const int accepted = a.connectionsAccepted();
  // Checks every 20 ms would have connected about ten times more in this window.
  t.runUntil([] { return false; }, 200ms);
  CHECK(a.connectionsAccepted() == accepted);
}

TEST_CASE("outlier detection gives every host a monitor that survives endpoint updates",
          "[outlier]") {
  OverlayTest t;
  auto with_od = [&](const std::vector<uint16_t>& ports) {
    auto c = std::make_shared<Cluster>(*t.cluster("svc", ports, nullptr));
    c->outlier_detection = outlierConfig();
    c->outlier_detection_fingerprint = "od-1";
    return ClusterConstSharedPtr(c);
  };
  HostHealthOverlay::Clusters in = {{"svc", with_od({1001, 1002})}};
  auto out = t.apply(in).at("svc");  // No warming without active checks.
  REQUIRE(out->host_set->hosts[0].outlier != nullptr);
  REQUIRE(out->host_set->hosts[1].outlier != nullptr);
  CHECK(out->host_set->hosts[0].outlier != out->host_set->hosts[1].outlier);
  CHECK(in.at("svc")->host_set->hosts[0].outlier == nullptr);
  const auto kept = out->host_set->hosts[1].outlier;

  in["svc"] = with_od({1002, 1003});
  out = t.apply(in).at("svc");
  CHECK(out->host_set->hosts[0].outlier == kept);
  CHECK(out->host_set->hosts[1].outlier != nullptr);
}

TEST_CASE("an ejection reported by a worker thread makes a version with the host ejected",
          "[outlier]") {
  OverlayTest t;
  auto c = std::make_shared<Cluster>(*t.cluster("svc", {1001, 1002}, nullptr));
  c->outlier_detection = outlierConfig();
  c->outlier_detection_fingerprint = "od-1";
  HostHealthOverlay::Clusters in = {{"svc", c}};
  auto before = t.apply(in).at("svc");
  auto monitor = before->host_set->hosts[1].outlier;
  std::thread worker([&] {
    for (int i = 0; i < 3; ++i) monitor->putHttpStatus(503);
  });
  worker.join();
  REQUIRE(t.runUntil([&] { return t.notified > 0; }));
  auto after = t.apply(in).at("svc");
  CHECK(after != before);
  CHECK(after->host_set->hosts[1].outlier_ejected);
  CHECK_FALSE(after->host_set->hosts[0].outlier_ejected);
  CHECK(after->host_set->hosts[1].outlier == monitor);
  CHECK(after->stats->membership_healthy.value() == 1);
}

TEST_CASE("a passing active check brings an ejected host back at once", "[outlier]") {
  OverlayTest t;
  testing::HttpBackend a("a");
  auto c = std::make_shared<Cluster>(*t.cluster("svc", {a.port()}, tcpCheck()));
  c->outlier_detection = outlierConfig();
  c->outlier_detection_fingerprint = "od-1";
  HostHealthOverlay::Clusters in = {{"svc", c}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.overlay->warmed(); }));
  auto monitor = t.apply(in).at("svc")->host_set->hosts[0].outlier;
  for (int i = 0; i < 3; ++i) monitor->putHttpStatus(500);
  // Ejected, then back at the next passing check 20 ms later: the store counts both.
  REQUIRE(t.runUntil([&] {
    return t.store.counter("cluster.svc.outlier_detection.ejections_enforced_total").value() == 1 &&
           t.store.gauge("cluster.svc.outlier_detection.ejections_active").value() == 0;
  }));
  CHECK_FALSE(t.apply(in).at("svc")->host_set->hosts[0].outlier_ejected);
}

}  // namespace
}  // namespace remora::upstream
