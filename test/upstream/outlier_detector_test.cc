// OutlierDetector and OutlierHostMonitor: which outcomes eject a host, the gate every ejection
// passes, how long ejections last, and that workers can report concurrently. Time is a fake clock
// and randomness a scripted sequence, so every test is deterministic.
#include <event2/event.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "source/event/dispatcher.h"
#include "source/upstream/outlier_detector.h"

namespace remora::upstream {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Change = std::pair<std::string, bool>;

struct DetectorTest {
  // `hosts` hosts at 10.0.0.1:80, 10.0.0.1:81, ...
  explicit DetectorTest(OutlierDetectionConfig c = {}, size_t hosts = 10) : config(c) {
    for (size_t i = 0; i < hosts; ++i) {
      auto address = network::Address::fromIpPort("10.0.0.1", static_cast<uint32_t>(80 + i));
      REQUIRE(address.ok());
      addresses.push_back(*address);
    }
    start();
  }

  void start() {
    detector = std::make_unique<OutlierDetector>(
        dispatcher, config, "backend", store,
        [this](const std::string& address, bool ejected) {
          changes.emplace_back(address, ejected);
        },
        [this] { return now; },
        [this]() -> uint64_t {
          if (draws.empty()) return 0;
          const uint64_t d = draws.front();
          draws.pop_front();
          return d;
        });
    detector->setHosts(addresses);
  }

  std::string host(size_t i) const { return addresses[i].asString(); }
  OutlierHostMonitor& monitor(size_t i) { return *detector->monitor(host(i)); }

  void statuses(size_t i, uint32_t status, int n) {
    for (int k = 0; k < n; ++k) monitor(i).putHttpStatus(status);
  }
  // `total` requests, of which `failures` are 500s.
  void traffic(size_t i, int total, int failures) {
    for (int k = 0; k < total; ++k) monitor(i).putHttpStatus(k < failures ? 500 : 200);
  }

  // Runs what workers posted to this (main) thread.
  void runPosted() { event_base_loop(dispatcher.base(), EVLOOP_NONBLOCK); }
  // Turns the loop until `cond` holds; false if it did not within 10s.
  bool runUntil(const std::function<bool()>& cond) {
    const auto deadline = steady_clock::now() + 10s;
    while (!cond()) {
      if (steady_clock::now() > deadline) return false;
      event_base_loop(dispatcher.base(), EVLOOP_NONBLOCK);
      std::this_thread::yield();
    }
    return true;
  }

  // Five 500s in a row, handled: ejects the host with the default thresholds.
  void failFiveTimes(size_t i) {
    statuses(i, 500, 5);
    runPosted();
  }

  uint64_t counter(const std::string& name) {
    return store.counter("cluster.backend.outlier_detection." + name).value();
  }
  int64_t active() {
    return store.gauge("cluster.backend.outlier_detection.ejections_active").value();
  }

  OutlierDetectionConfig config;
  std::vector<network::Address> addresses;
  event::Dispatcher dispatcher{"outlier-test"};
  stats::Store store;
  steady_clock::time_point now = steady_clock::time_point(1000h);
  std::deque<uint64_t> draws;
  std::vector<Change> changes;
  std::unique_ptr<OutlierDetector> detector;  // Last: gone before the loop and the store.
};

OutlierDetectionConfig allowAll() {
  OutlierDetectionConfig c;
  c.max_ejection_percent = 100;
  return c;
}

// --- Consecutive errors ----------------------------------------------------------------------

TEST_CASE("five 5xx in a row eject a host and report it once", "[outlier]") {
  DetectorTest t;
  t.statuses(0, 500, 4);
  t.runPosted();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  t.statuses(0, 500, 1);
  CHECK_FALSE(t.detector->ejected(t.host(0)));  // Not until the main thread has run.
  t.runPosted();
  CHECK(t.detector->ejected(t.host(0)));
  CHECK(t.changes == std::vector<Change>{{t.host(0), true}});
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 1);
  CHECK(t.counter("ejections_enforced_consecutive_5xx") == 1);
  CHECK(t.counter("ejections_enforced_total") == 1);
  CHECK(t.active() == 1);
  CHECK(t.monitor(0).consecutive5xx() == 0);  // Reset by the ejection.
}

TEST_CASE("a non-5xx status resets the consecutive 5xx count", "[outlier]") {
  DetectorTest t;
  t.statuses(0, 500, 4);
  t.statuses(0, 200, 1);
  t.statuses(0, 500, 4);
  t.runPosted();
  CHECK(t.monitor(0).consecutive5xx() == 4);
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 0);
  t.statuses(0, 404, 1);
  CHECK(t.monitor(0).consecutive5xx() == 0);
}

TEST_CASE("gateway failures are detected but not enforced by default", "[outlier]") {
  OutlierDetectionConfig c;
  c.consecutive_5xx = 100;
  DetectorTest t(c);
  t.statuses(0, 502, 2);
  t.statuses(0, 503, 2);
  t.statuses(0, 504, 1);
  t.runPosted();
  CHECK(t.counter("ejections_detected_consecutive_gateway_failure") == 1);
  CHECK(t.counter("ejections_enforced_consecutive_gateway_failure") == 0);
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.changes.empty());
  CHECK(t.monitor(0).consecutiveGatewayFailures() == 0);  // Detected: the next run starts over.
}

TEST_CASE("a 500 is a 5xx but breaks a run of gateway failures", "[outlier]") {
  OutlierDetectionConfig c;
  c.consecutive_5xx = 100;
  DetectorTest t(c);
  t.statuses(0, 502, 4);
  t.statuses(0, 500, 1);
  t.statuses(0, 504, 4);
  t.runPosted();
  CHECK(t.monitor(0).consecutiveGatewayFailures() == 4);
  CHECK(t.monitor(0).consecutive5xx() == 9);
  CHECK(t.counter("ejections_detected_consecutive_gateway_failure") == 0);
}

TEST_CASE("gateway failures eject when enforced", "[outlier]") {
  OutlierDetectionConfig c;
  c.consecutive_5xx = 100;
  c.enforcing_consecutive_gateway_failure = 100;
  DetectorTest t(c);
  t.statuses(0, 503, 5);
  t.runPosted();
  CHECK(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_enforced_consecutive_gateway_failure") == 1);
  CHECK(t.counter("ejections_enforced_consecutive_5xx") == 0);
}

TEST_CASE("unsplit local-origin failures count as gateway 5xx responses", "[outlier]") {
  DetectorTest t;
  t.monitor(0).putLocalOrigin(LocalOriginResult::kConnectFailed);
  t.monitor(0).putLocalOrigin(LocalOriginResult::kReset);
  t.monitor(0).putLocalOrigin(LocalOriginResult::kTimeout);
  t.monitor(0).putLocalOrigin(LocalOriginResult::kSuccess);  // Ignored: its status follows.
  CHECK(t.monitor(0).consecutive5xx() == 3);
  CHECK(t.monitor(0).consecutiveGatewayFailures() == 3);
  CHECK(t.monitor(0).consecutiveLocalOriginFailures() == 0);
  CHECK(t.monitor(0).externalCounts().total == 3);
  CHECK(t.monitor(0).externalCounts().success == 0);
  CHECK(t.monitor(0).localOriginCounts().total == 0);
  t.monitor(0).putLocalOrigin(LocalOriginResult::kConnectFailed);
  t.monitor(0).putLocalOrigin(LocalOriginResult::kConnectFailed);
  t.runPosted();
  CHECK(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_enforced_consecutive_5xx") == 1);
  CHECK(t.counter("ejections_detected_consecutive_gateway_failure") == 1);
  CHECK(t.counter("ejections_detected_consecutive_local_origin_failure") == 0);
}

TEST_CASE("split local-origin failures are judged apart from HTTP statuses", "[outlier]") {
  OutlierDetectionConfig c;
  c.split_external_local_origin_errors = true;
  DetectorTest t(c);
  for (int i = 0; i < 4; ++i) t.monitor(0).putLocalOrigin(LocalOriginResult::kConnectFailed);
  CHECK(t.monitor(0).consecutiveLocalOriginFailures() == 4);
  CHECK(t.monitor(0).consecutive5xx() == 0);
  CHECK(t.monitor(0).externalCounts().total == 0);
  CHECK(t.monitor(0).localOriginCounts().total == 4);

  t.monitor(0).putLocalOrigin(LocalOriginResult::kSuccess);
  CHECK(t.monitor(0).consecutiveLocalOriginFailures() == 0);
  CHECK(t.monitor(0).localOriginCounts().total == 5);
  CHECK(t.monitor(0).localOriginCounts().success == 1);

  t.monitor(0).putLocalOrigin(LocalOriginResult::kTimeout);
  for (int i = 0; i < 4; ++i) t.monitor(0).putLocalOrigin(LocalOriginResult::kReset);
  t.runPosted();
  CHECK(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_enforced_consecutive_local_origin_failure") == 1);
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 0);
}

TEST_CASE("a final connect success counts as a 200 unsplit and a local success split",
          "[outlier]") {
  DetectorTest unsplit;
  unsplit.statuses(0, 503, 2);
  unsplit.monitor(0).putLocalOrigin(LocalOriginResult::kSuccessFinal);
  CHECK(unsplit.monitor(0).consecutive5xx() == 0);
  CHECK(unsplit.monitor(0).externalCounts().total == 3);
  CHECK(unsplit.monitor(0).externalCounts().success == 1);

  OutlierDetectionConfig c;
  c.split_external_local_origin_errors = true;
  DetectorTest split(c);
  split.monitor(0).putLocalOrigin(LocalOriginResult::kConnectFailed);
  split.monitor(0).putLocalOrigin(LocalOriginResult::kSuccessFinal);
  CHECK(split.monitor(0).consecutiveLocalOriginFailures() == 0);
  CHECK(split.monitor(0).localOriginCounts().success == 1);
  CHECK(split.monitor(0).externalCounts().total == 0);
}

TEST_CASE("a consecutive threshold of 0 never ejects", "[outlier]") {
  OutlierDetectionConfig c;
  c.consecutive_5xx = 0;
  c.consecutive_gateway_failure = 0;
  DetectorTest t(c);
  t.statuses(0, 503, 50);
  t.runPosted();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 0);
}

// --- Success rate and failure percentage -----------------------------------------------------

TEST_CASE("a host far below the others' success rate is ejected at the interval", "[outlier]") {
  DetectorTest t;  // 10 hosts.
  for (size_t i = 1; i < 10; ++i) t.traffic(i, 200, 0);
  // Failures spread out, so no run of five trips consecutive_5xx.
  for (int k = 0; k < 200; ++k) t.monitor(0).putHttpStatus(k % 2 == 0 ? 500 : 200);
  t.runPosted();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  // Mean 95, stdev 15: the threshold is 95 - 1.9 * 15 = 66.5, and 50 is below it.
  t.detector->evaluate();
  CHECK(t.detector->ejected(t.host(0)));
  CHECK(t.changes == std::vector<Change>{{t.host(0), true}});
  CHECK(t.counter("ejections_detected_success_rate") == 1);
  CHECK(t.counter("ejections_enforced_success_rate") == 1);
  CHECK(t.counter("ejections_detected_failure_percentage") == 0);  // 50% < 85%.
  for (size_t i = 0; i < 10; ++i) CHECK(t.monitor(i).externalCounts().total == 0);
}

TEST_CASE("success rate is not judged with fewer hosts than success_rate_minimum_hosts",
          "[outlier]") {
  DetectorTest t;
  for (size_t i = 1; i < 4; ++i) t.traffic(i, 200, 0);
  for (size_t i = 4; i < 10; ++i) t.traffic(i, 99, 0);  // Below success_rate_request_volume.
  for (int k = 0; k < 200; ++k) t.monitor(0).putHttpStatus(k % 2 == 0 ? 500 : 200);
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_detected_success_rate") == 0);
}

TEST_CASE("a host without success_rate_request_volume requests is not judged", "[outlier]") {
  DetectorTest t;
  for (size_t i = 1; i < 10; ++i) t.traffic(i, 200, 0);
  for (int k = 0; k < 98; ++k) t.monitor(0).putHttpStatus(k % 2 == 0 ? 500 : 200);
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
}

TEST_CASE("each interval is judged on its own requests", "[outlier]") {
  DetectorTest t;
  for (size_t i = 1; i < 10; ++i) t.traffic(i, 100, 0);
  t.detector->evaluate();
  for (size_t i = 1; i < 10; ++i) t.traffic(i, 100, 0);
  for (int k = 0; k < 100; ++k) t.monitor(0).putHttpStatus(k % 2 == 0 ? 500 : 200);
  t.detector->evaluate();
  CHECK(t.detector->ejected(t.host(0)));
}

TEST_CASE("a host failing failure_percentage_threshold of its requests is ejected when enforced",
          "[outlier]") {
  OutlierDetectionConfig c = allowAll();
  c.enforcing_failure_percentage = 100;
  c.consecutive_5xx = 0;  // 85 failures in 100 cannot avoid runs of five.
  DetectorTest t(c, 5);
  for (size_t i = 1; i < 5; ++i) t.traffic(i, 60, 0);
  t.traffic(0, 100, 85);  // Exactly the threshold.
  t.detector->evaluate();
  CHECK(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_detected_failure_percentage") == 1);
  CHECK(t.counter("ejections_enforced_failure_percentage") == 1);
  CHECK(t.counter("ejections_detected_success_rate") == 0);  // Too few hosts with 100 requests.
}

TEST_CASE("a host just under failure_percentage_threshold stays", "[outlier]") {
  OutlierDetectionConfig c = allowAll();
  c.enforcing_failure_percentage = 100;
  c.consecutive_5xx = 0;
  DetectorTest t(c, 5);
  for (size_t i = 1; i < 5; ++i) t.traffic(i, 60, 0);
  t.traffic(0, 100, 84);
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
}

TEST_CASE("failure percentage needs failure_percentage_minimum_hosts hosts with enough volume",
          "[outlier]") {
  OutlierDetectionConfig c = allowAll();
  c.enforcing_failure_percentage = 100;
  c.consecutive_5xx = 0;
  DetectorTest t(c, 5);
  for (size_t i = 1; i < 4; ++i) t.traffic(i, 60, 0);
  t.traffic(4, 49, 0);  // Below failure_percentage_request_volume.
  t.traffic(0, 60, 60);
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_detected_failure_percentage") == 0);
}

TEST_CASE("failure percentage is detected but not enforced by default", "[outlier]") {
  OutlierDetectionConfig c = allowAll();
  c.consecutive_5xx = 0;
  c.enforcing_success_rate = 0;
  DetectorTest t(c, 5);
  for (size_t i = 1; i < 5; ++i) t.traffic(i, 60, 0);
  t.traffic(0, 60, 51);  // 85%: the threshold itself is an outlier.
  t.detector->evaluate();
  CHECK(t.counter("ejections_detected_failure_percentage") == 1);
  CHECK(t.counter("ejections_enforced_failure_percentage") == 0);
  CHECK_FALSE(t.detector->ejected(t.host(0)));
}

TEST_CASE("local-origin success rate and failure percentage run only when split", "[outlier]") {
  OutlierDetectionConfig c = allowAll();
  c.split_external_local_origin_errors = true;
  c.enforcing_failure_percentage_local_origin = 100;
  c.enforcing_local_origin_success_rate = 0;
  c.consecutive_local_origin_failure = 0;
  DetectorTest t(c, 5);
  for (size_t i = 1; i < 5; ++i) {
    for (int k = 0; k < 60; ++k) t.monitor(i).putLocalOrigin(LocalOriginResult::kSuccess);
  }
  for (int k = 0; k < 60; ++k) {
    t.monitor(0).putLocalOrigin(k % 4 == 0 ? LocalOriginResult::kSuccess
                                           : LocalOriginResult::kConnectFailed);
  }
  for (size_t i = 0; i < 5; ++i) t.traffic(i, 200, 0);  // HTTP-wise all are fine.
  t.runPosted();
  t.detector->evaluate();
  CHECK(t.counter("ejections_detected_failure_percentage_local_origin") == 0);  // 75% < 85%.
  CHECK(t.counter("ejections_detected_local_origin_success_rate") == 0);        // Volume under 100.

  // Rates 100 (x4) and 10: mean 82, stdev 36, threshold 82 - 1.9 * 36 = 13.6.
  for (size_t i = 1; i < 5; ++i) {
    for (int k = 0; k < 100; ++k) t.monitor(i).putLocalOrigin(LocalOriginResult::kSuccess);
  }
  for (int k = 0; k < 100; ++k) {
    t.monitor(0).putLocalOrigin(k % 10 == 0 ? LocalOriginResult::kSuccess
                                            : LocalOriginResult::kTimeout);
  }
  t.runPosted();
  t.detector->evaluate();
  CHECK(t.counter("ejections_enforced_failure_percentage_local_origin") == 1);
  CHECK(t.counter("ejections_detected_local_origin_success_rate") == 1);
  CHECK(t.counter("ejections_enforced_local_origin_success_rate") == 0);
  CHECK(t.counter("ejections_detected_success_rate") == 0);
  CHECK(t.detector->ejected(t.host(0)));
}

// --- The gate --------------------------------------------------------------------------------

TEST_CASE("enforcing 0 only counts the detection", "[outlier]") {
  OutlierDetectionConfig c;
  c.enforcing_consecutive_5xx = 0;
  DetectorTest t(c);
  t.failFiveTimes(0);
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 1);
  CHECK(t.counter("ejections_enforced_consecutive_5xx") == 0);
  CHECK(t.counter("ejections_enforced_total") == 0);
  CHECK(t.active() == 0);
}

TEST_CASE("enforcing 100 always ejects", "[outlier]") {
  DetectorTest t;
  t.draws = {99, 99, 99};
  t.failFiveTimes(0);
  CHECK(t.detector->ejected(t.host(0)));
}

TEST_CASE("a partial enforcing percentage ejects when the roll is below it", "[outlier]") {
  OutlierDetectionConfig c = allowAll();
  c.enforcing_consecutive_5xx = 30;
  DetectorTest t(c);
  t.draws = {130, 129};  // 30 (not below 30), then 29.
  t.failFiveTimes(0);
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  t.failFiveTimes(0);
  CHECK(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 2);
  CHECK(t.counter("ejections_enforced_consecutive_5xx") == 1);
}

TEST_CASE("ejections beyond max_ejection_percent are refused and counted as overflow",
          "[outlier]") {
  DetectorTest t;  // 10 hosts at 10%: one may be out.
  t.failFiveTimes(0);
  t.failFiveTimes(1);
  CHECK(t.detector->ejected(t.host(0)));
  CHECK_FALSE(t.detector->ejected(t.host(1)));
  CHECK(t.counter("ejections_overflow") == 1);
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 2);
  CHECK(t.counter("ejections_enforced_consecutive_5xx") == 1);
  CHECK(t.active() == 1);
}

TEST_CASE("max_ejection_percent is strict when always_eject_one_host is off", "[outlier]") {
  DetectorTest t(OutlierDetectionConfig{}, 5);  // One of 5 is 20% > 10%.
  t.failFiveTimes(0);
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_overflow") == 1);
}

TEST_CASE("always_eject_one_host lets the first ejection through", "[outlier]") {
  OutlierDetectionConfig c;
  c.always_eject_one_host = true;
  DetectorTest t(c, 5);
  t.failFiveTimes(0);
  t.failFiveTimes(1);
  CHECK(t.detector->ejected(t.host(0)));
  CHECK_FALSE(t.detector->ejected(t.host(1)));
  CHECK(t.counter("ejections_overflow") == 1);
}

// --- Ejection time ---------------------------------------------------------------------------

TEST_CASE("a host comes back once base_ejection_time has passed", "[outlier]") {
  DetectorTest t;
  t.failFiveTimes(0);
  t.now += 30s - 1ms;
  t.detector->evaluate();
  CHECK(t.detector->ejected(t.host(0)));
  t.now += 1ms;
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.changes == std::vector<Change>{{t.host(0), true}, {t.host(0), false}});
  CHECK(t.active() == 0);
}

TEST_CASE("the second ejection lasts twice as long", "[outlier]") {
  DetectorTest t;
  t.failFiveTimes(0);
  t.now += 30s;
  t.detector->evaluate();
  REQUIRE_FALSE(t.detector->ejected(t.host(0)));
  t.failFiveTimes(0);
  REQUIRE(t.detector->ejected(t.host(0)));
  CHECK(t.detector->ejectionMultiplier(t.host(0)) == 2);
  t.now += 60s - 1ms;
  t.detector->evaluate();
  CHECK(t.detector->ejected(t.host(0)));
  t.now += 1ms;
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
}

TEST_CASE("ejection time is capped by max_ejection_time", "[outlier]") {
  OutlierDetectionConfig c;
  c.max_ejection_time = 50s;
  DetectorTest t(c);
  std::vector<milliseconds> lasted;
  for (int round = 0; round < 4; ++round) {
    t.failFiveTimes(0);
    REQUIRE(t.detector->ejected(t.host(0)));
    milliseconds waited{0};
    while (t.detector->ejected(t.host(0))) {
      t.now += 1s;
      waited += 1s;
      t.detector->evaluate();
    }
    lasted.push_back(waited);
  }
  CHECK(lasted == std::vector<milliseconds>{30s, 50s, 50s, 50s});
}

TEST_CASE("a base_ejection_time above max_ejection_time is still honoured", "[outlier]") {
  OutlierDetectionConfig c;
  c.base_ejection_time = 400s;
  DetectorTest t(c);
  t.failFiveTimes(0);
  t.now += 400s - 1ms;
  t.detector->evaluate();
  CHECK(t.detector->ejected(t.host(0)));
  t.now += 1ms;
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
}

TEST_CASE("ejection time gets random jitter up to max_ejection_time_jitter", "[outlier]") {
  OutlierDetectionConfig c;
  c.max_ejection_time_jitter = 1000ms;
  DetectorTest t(c);
  t.draws = {1500};  // 1500 % 1001 = 499.
  t.failFiveTimes(0);
  t.now += 30s + 498ms;
  t.detector->evaluate();
  CHECK(t.detector->ejected(t.host(0)));
  t.now += 1ms;
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
}

TEST_CASE("the multiplier shrinks by one per interval spent back in service", "[outlier]") {
  DetectorTest t;
  t.failFiveTimes(0);
  t.now += 30s;
  t.detector->evaluate();
  t.failFiveTimes(0);
  t.now += 60s;
  t.detector->evaluate();
  REQUIRE_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.detector->ejectionMultiplier(t.host(0)) == 2);
  t.now += 5s;  // Less than an interval since it came back.
  t.detector->evaluate();
  CHECK(t.detector->ejectionMultiplier(t.host(0)) == 2);
  t.now += 5s;
  t.detector->evaluate();
  CHECK(t.detector->ejectionMultiplier(t.host(0)) == 1);
  t.now += 10s;
  t.detector->evaluate();
  CHECK(t.detector->ejectionMultiplier(t.host(0)) == 0);
  t.now += 10s;
  t.detector->evaluate();
  CHECK(t.detector->ejectionMultiplier(t.host(0)) == 0);
  // Forgiven: the next ejection is back to base_ejection_time.
  t.failFiveTimes(0);
  t.now += 30s;
  t.detector->evaluate();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
}

TEST_CASE("a returning host's consecutive counts start from zero", "[outlier]") {
  OutlierDetectionConfig c;
  c.consecutive_gateway_failure = 100;
  DetectorTest t(c);
  t.failFiveTimes(0);
  t.statuses(0, 503, 4);  // Still reaching it while ejected (as in a panic).
  CHECK(t.monitor(0).consecutive5xx() == 4);
  t.now += 30s;
  t.detector->evaluate();
  REQUIRE_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.monitor(0).consecutive5xx() == 0);
  CHECK(t.monitor(0).consecutiveGatewayFailures() == 0);
}

// --- The interval timer and threads ----------------------------------------------------------

TEST_CASE("the interval timer brings hosts back without a direct call", "[outlier]") {
  OutlierDetectionConfig c;
  c.interval = 1ms;
  DetectorTest t(c);
  t.failFiveTimes(0);
  REQUIRE(t.detector->ejected(t.host(0)));
  t.now += 30s;
  CHECK(t.runUntil([&] { return !t.detector->ejected(t.host(0)); }));
}

TEST_CASE("a threshold reached on another thread ejects through the dispatcher", "[outlier]") {
  DetectorTest t;
  std::shared_ptr<OutlierHostMonitor> monitor = t.detector->monitor(t.host(3));
  std::thread worker([monitor] {
    for (int i = 0; i < 5; ++i) monitor->putHttpStatus(503);
  });
  CHECK(t.runUntil([&] { return t.detector->ejected(t.host(3)); }));
  worker.join();
  CHECK(t.changes == std::vector<Change>{{t.host(3), true}});
}

TEST_CASE("a notification queued for a destroyed detector is dropped", "[outlier]") {
  DetectorTest t;
  std::shared_ptr<OutlierHostMonitor> monitor = t.detector->monitor(t.host(0));
  std::thread worker([monitor] {
    for (int i = 0; i < 5; ++i) monitor->putHttpStatus(500);
  });
  worker.join();
  t.detector.reset();
  t.runPosted();
  CHECK(t.changes.empty());
  monitor->putHttpStatus(500);  // Still usable by a worker that holds it.
}

TEST_CASE("a notification for a host removed meanwhile is dropped", "[outlier]") {
  DetectorTest t;
  t.statuses(0, 500, 5);
  t.detector->setHosts({t.addresses.begin() + 1, t.addresses.end()});
  t.detector->setHosts(t.addresses);  // Back, with a fresh monitor.
  t.runPosted();
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 0);
  CHECK(t.monitor(0).consecutive5xx() == 0);
}

TEST_CASE("counts from several threads at once add up exactly", "[outlier]") {
  DetectorTest t(allowAll(), 1);
  std::shared_ptr<OutlierHostMonitor> monitor = t.detector->monitor(t.host(0));
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([monitor] {
      for (int i = 0; i < 10000; ++i) monitor->putHttpStatus(i % 2 == 0 ? 200 : 500);
    });
  }
  for (std::thread& w : workers) w.join();
  CHECK(monitor->externalCounts().total == 40000);
  CHECK(monitor->externalCounts().success == 20000);
}

TEST_CASE("a threshold crossed by several threads together notifies exactly once", "[outlier]") {
  OutlierDetectionConfig c = allowAll();
  c.consecutive_5xx = 40000;
  c.consecutive_gateway_failure = 0;
  DetectorTest t(c, 1);
  std::shared_ptr<OutlierHostMonitor> monitor = t.detector->monitor(t.host(0));
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([monitor] {
      for (int i = 0; i < 10000; ++i) monitor->putHttpStatus(503);
    });
  }
  for (std::thread& w : workers) w.join();
  CHECK(monitor->externalCounts().total == 40000);
  CHECK(monitor->consecutive5xx() == 40000);
  CHECK(t.runUntil([&] { return t.detector->ejected(t.host(0)); }));
  t.runPosted();
  CHECK(t.counter("ejections_detected_consecutive_5xx") == 1);
  CHECK(t.changes.size() == 1);
}

// --- Active health checks and host changes ---------------------------------------------------

TEST_CASE("a passing active health check brings an ejected host back at once", "[outlier]") {
  DetectorTest t;
  t.statuses(0, 500, 5);
  t.runPosted();
  REQUIRE(t.detector->ejected(t.host(0)));
  t.detector->onActiveHealthCheckPassed(t.host(0));
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.changes == std::vector<Change>{{t.host(0), true}, {t.host(0), false}});
  CHECK(t.active() == 0);
}

TEST_CASE("active health checks leave ejections alone when told to", "[outlier]") {
  OutlierDetectionConfig c;
  c.successful_active_health_check_uneject_host = false;
  DetectorTest t(c);
  t.failFiveTimes(0);
  t.detector->onActiveHealthCheckPassed(t.host(0));
  CHECK(t.detector->ejected(t.host(0)));
}

TEST_CASE("a removed ejected host is forgotten without a callback", "[outlier]") {
  DetectorTest t;
  t.failFiveTimes(0);
  REQUIRE(t.active() == 1);
  t.detector->setHosts({t.addresses.begin() + 1, t.addresses.end()});
  CHECK(t.detector->monitor(t.host(0)) == nullptr);
  CHECK_FALSE(t.detector->ejected(t.host(0)));
  CHECK(t.detector->hostCount() == 9);
  CHECK(t.active() == 0);
  CHECK(t.changes.size() == 1);
}

TEST_CASE("hosts kept across setHosts keep their monitor and ejection", "[outlier]") {
  DetectorTest t;
  std::shared_ptr<OutlierHostMonitor> before = t.detector->monitor(t.host(0));
  t.failFiveTimes(0);
  t.detector->setHosts(t.addresses);
  CHECK(t.detector->monitor(t.host(0)) == before);
  CHECK(t.detector->ejected(t.host(0)));
}

TEST_CASE("destroying the detector takes its ejections off the gauge", "[outlier]") {
  DetectorTest t;
  t.failFiveTimes(0);
  REQUIRE(t.active() == 1);
  t.detector.reset();
  CHECK(t.active() == 0);
}

}  // namespace
}  // namespace remora::upstream
