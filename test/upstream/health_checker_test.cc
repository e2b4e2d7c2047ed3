// HealthChecker against real loopback backends: when hosts turn healthy and unhealthy, what the
// checks send, how they are spaced, and that the callback reports changes only.
#include <event2/event.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "source/config/yaml_to_proto.h"
#include "source/event/dispatcher.h"
#include "source/upstream/health_checker.h"
#include "test/support/backends.h"
#include "test/support/event_loop.h"
#include "test/support/http_backend.h"
#include "test/support/sockets.h"

namespace remora::upstream {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using testing::BackendReply;

// Checks every 20 ms, so a test sees many rounds quickly; tests adjust the rest in code.
HealthCheckConfig fastConfig(const std::string& kind_yaml) {
  envoy::config::core::v3::HealthCheck proto;
  config::ParseReport report;
  REQUIRE(config::parseYaml(R"(
timeout: 1s
interval: 0.02s
unhealthy_threshold: 3
healthy_threshold: 2
)" + kind_yaml,
                            proto, report)
              .ok());
  auto built = buildHealthCheckConfig(proto, "health_checks[0]");
  INFO(built.status().ToString());
  REQUIRE(built.ok());
  return *std::move(built);
}

HealthCheckConfig fastHttp() { return fastConfig("http_health_check: {path: /healthz}\n"); }

network::Address loopback(uint16_t port) {
  auto address = network::Address::fromIpPort("127.0.0.1", port);
  REQUIRE(address.ok());
  return *address;
}

BackendReply status(int code) {
  BackendReply reply;
  reply.status = code;
  return reply;
}

// An HTTP backend whose n-th request (counting from 1) gets script(n).
struct ScriptedBackend {
  explicit ScriptedBackend(std::function<BackendReply(int)> script =
                               [](int) { return status(200); })
      : backend("hc-backend",
                [this, script](const testing::BackendRequest&) { return script(++requests); }) {}
  network::Address address() const { return loopback(backend.port()); }

  std::atomic<int> requests{0};  // Before `backend`: its thread may count as soon as it exists.
  testing::HttpBackend backend;
};

struct Change {
  std::string address;
  bool healthy;
  int requests_then;  // What `requests_seen` said when the change was reported.
};

struct CheckerTest {
  // As the server's main does: a backend closing while a check writes is an error, not a death.
  CheckerTest() { ::signal(SIGPIPE, SIG_IGN); }

  // A checker named "backend_cluster" that has had traffic (so `interval` applies).
  void start(HealthCheckConfig config, const std::vector<network::Address>& hosts) {
    checker = std::make_unique<HealthChecker>(
        dispatcher, std::move(config), "backend_cluster", store,
        [this](const std::string& address, bool healthy) {
          changes.push_back({address, healthy, requests_seen ? requests_seen() : 0});
          if (on_change) on_change(address, healthy);
        });
    checker->setHadTraffic(true);
    checker->setHosts(hosts);
  }

  // Turns the event loop in this thread until `cond` holds; false if it never did.
  bool runUntil(const std::function<bool()>& cond, milliseconds limit = 10s) {
    return testing::runLoopUntil(dispatcher, cond, limit);
  }

  uint64_t counter(const std::string& name) {
    return store.counter("cluster.backend_cluster.health_check." + name).value();
  }
  int64_t healthyGauge() {
    return store.gauge("cluster.backend_cluster.health_check.healthy").value();
  }

  event::Dispatcher dispatcher{"health-check-test"};
  stats::Store store;
  std::vector<Change> changes;
  std::function<int()> requests_seen;
  std::function<void(const std::string&, bool)> on_change;
  std::unique_ptr<HealthChecker> checker;  // Last: gone before the loop and the store.
};

// --- Health transitions ----------------------------------------------------------------------

TEST_CASE("a new host is unhealthy until its first check passes and one pass is enough",
          "[health]") {
  ScriptedBackend b;
  CheckerTest t;
  t.requests_seen = [&] { return b.requests.load(); };
  t.start(fastHttp(), {b.address()});  // healthy_threshold 2, yet one pass at startup will do.
  CHECK(t.checker->healthy(b.address().asString()) == false);
  REQUIRE(t.runUntil([&] { return !t.changes.empty(); }));
  CHECK(t.changes[0].address == b.address().asString());
  CHECK(t.changes[0].healthy);
  CHECK(t.changes[0].requests_then == 1);
  CHECK(t.checker->healthy(b.address().asString()) == true);
  CHECK(t.healthyGauge() == 1);
  CHECK(t.counter("attempt") >= 1);
  CHECK(t.counter("success") >= 1);
}

TEST_CASE("retriable failures need unhealthy_threshold in a row and recovery healthy_threshold",
          "[health]") {
  // 200, then three 503s, then 200s.
  ScriptedBackend b([](int n) { return status(n >= 2 && n <= 4 ? 503 : 200); });
  CheckerTest t;
  t.requests_seen = [&] { return b.requests.load(); };
  HealthCheckConfig config = fastHttp();
  config.unhealthy_threshold = 3;
  config.healthy_threshold = 2;
  config.http.retriable_statuses = {{503, 504}};
  t.start(config, {b.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() >= 3; }));
  CHECK(t.changes[0].healthy);
  CHECK(t.changes[0].requests_then == 1);
  CHECK_FALSE(t.changes[1].healthy);
  CHECK(t.changes[1].requests_then == 4);  // The third 503 in a row.
  CHECK(t.changes[2].healthy);
  CHECK(t.changes[2].requests_then == 6);  // The second 200 after them.
  CHECK(t.counter("failure") == 3);
  CHECK(t.counter("network_failure") == 0);
}

TEST_CASE("a status neither expected nor retriable makes a healthy host unhealthy at once",
          "[health]") {
  ScriptedBackend b([](int n) { return status(n == 1 ? 200 : 503); });
  CheckerTest t;
  t.requests_seen = [&] { return b.requests.load(); };
  HealthCheckConfig config = fastHttp();
  config.unhealthy_threshold = 3;
  t.start(config, {b.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() >= 2; }));
  CHECK_FALSE(t.changes[1].healthy);
  CHECK(t.changes[1].requests_then == 2);
}

TEST_CASE("a status passes when any expected_statuses range holds it", "[health]") {
  ScriptedBackend no_content([](int) { return status(204); });
  ScriptedBackend redirect([](int) { return status(302); });
  ScriptedBackend reset_content([](int) { return status(205); });
  CheckerTest t;
  HealthCheckConfig config = fastHttp();
  config.http.expected_statuses = {{200, 205}, {300, 303}};
  t.start(config, {no_content.address(), redirect.address(), reset_content.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() >= 2 && reset_content.requests >= 3; }));
  CHECK(t.checker->healthy(no_content.address().asString()) == true);
  CHECK(t.checker->healthy(redirect.address().asString()) == true);
  CHECK(t.checker->healthy(reset_content.address().asString()) == false);
  CHECK(t.changes.size() == 2);
}

TEST_CASE("a body without the receive blocks fails the check", "[health]") {
  ScriptedBackend good([](int) {
    BackendReply reply;
    reply.body = "status: ok, ready";
    return reply;
  });
  ScriptedBackend bad([](int) {
    BackendReply reply;
    reply.body = "ready? not ok";
    return reply;
  });
  CheckerTest t;
  HealthCheckConfig config = fastHttp();
  config.http.receive = {"ok", "ready"};
  t.start(config, {good.address(), bad.address()});
  REQUIRE(t.runUntil([&] { return !t.changes.empty() && bad.requests >= 3; }));
  CHECK(t.checker->healthy(good.address().asString()) == true);
  CHECK(t.checker->healthy(bad.address().asString()) == false);
}

// --- Network failures and timeouts -------------------------------------------------------------

TEST_CASE("a host on a port nobody listens on fails with network failures and stays unhealthy",
          "[health]") {
  testing::ReservedPort dead;
  CheckerTest t;
  t.start(fastHttp(), {loopback(dead.port())});
  REQUIRE(t.runUntil([&] { return t.counter("network_failure") >= 3; }));
  CHECK(t.checker->healthy(loopback(dead.port()).asString()) == false);
  CHECK(t.changes.empty());
  CHECK(t.counter("failure") >= 3);
  CHECK(t.counter("success") == 0);
  CHECK(t.healthyGauge() == 0);
}

TEST_CASE("a backend that stops listening turns unhealthy after unhealthy_threshold failures",
          "[health]") {
  ScriptedBackend b;
  CheckerTest t;
  HealthCheckConfig config = fastHttp();
  config.unhealthy_threshold = 3;
  t.start(config, {b.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() == 1; }));
  b.backend.stop();
  REQUIRE(t.runUntil([&] { return t.changes.size() == 2; }));
  CHECK_FALSE(t.changes[1].healthy);
  CHECK(t.counter("network_failure") >= 3);
  CHECK(t.healthyGauge() == 0);
}

TEST_CASE("a backend that accepts but never answers fails each check by timeout", "[health]") {
  ScriptedBackend b([](int n) {
    BackendReply reply;
    reply.no_response = n > 1;
    return reply;
  });
  CheckerTest t;
  HealthCheckConfig config = fastHttp();
  config.timeout = 100ms;
  config.unhealthy_threshold = 2;
  t.start(config, {b.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() == 1; }));
  const auto healthy_at = std::chrono::steady_clock::now();
  REQUIRE(t.runUntil([&] { return t.changes.size() == 2; }));
  CHECK_FALSE(t.changes[1].healthy);
  CHECK(std::chrono::steady_clock::now() - healthy_at >= 2 * config.timeout);
  CHECK(t.counter("network_failure") == 2);
  CHECK(b.requests >= 3);  // Each timed-out check reached the backend on a fresh connection.
}

// --- TCP -------------------------------------------------------------------------------------

TEST_CASE("TCP connect checks pass against a listening port and fail against a closed one",
          "[health]") {
  testing::Fd listening = testing::listenTcp();  // The kernel completes handshakes unaccepted.
  REQUIRE(listening.valid());
  testing::ReservedPort closed;
  const network::Address up = loopback(testing::localPort(listening.get()));
  const network::Address down = loopback(closed.port());
  CheckerTest t;
  t.start(fastConfig("tcp_health_check: {}\n"), {up, down});
  REQUIRE(t.runUntil([&] { return !t.changes.empty() && t.counter("network_failure") >= 3; }));
  CHECK(t.changes.size() == 1);
  CHECK(t.changes[0].address == up.asString());
  CHECK(t.checker->healthy(up.asString()) == true);
  CHECK(t.checker->healthy(down.asString()) == false);
}

TEST_CASE("TCP checks send their payload and pass when the reply holds the receive blocks",
          "[health]") {
  testing::EchoServer echo;
  CheckerTest t;
  // "PING" out; "PI" then "NG" expected back.
  t.start(fastConfig(R"(
tcp_health_check:
  send: {text: "50494e47"}
  receive: [{text: "5049"}, {text: "4e47"}]
)"),
          {loopback(echo.port())});
  REQUIRE(t.runUntil([&] { return !t.changes.empty() && t.counter("success") >= 3; }));
  CHECK(t.changes.size() == 1);
  CHECK(t.changes[0].healthy);
  CHECK(t.counter("failure") == 0);
  CHECK(echo.acceptedConnections() == 1);  // reuse_connection: one connection for every check.
}

TEST_CASE("a TCP reply without the receive blocks fails the check by timeout", "[health]") {
  testing::EchoServer echo;
  CheckerTest t;
  HealthCheckConfig config = fastConfig(R"(
tcp_health_check:
  send: {text: "50494e47"}
  receive: [{text: "504f4e47"}]
)");
  config.timeout = 50ms;
  t.start(config, {loopback(echo.port())});
  REQUIRE(t.runUntil([&] { return t.counter("network_failure") >= 2; }));
  CHECK(t.changes.empty());
  CHECK(t.counter("success") == 0);
}

// --- Membership, callback and stats ------------------------------------------------------------

TEST_CASE("the first round is done once every host has a first result pass or fail", "[health]") {
  ScriptedBackend b;
  testing::ReservedPort dead;
  const uint16_t closed = dead.port();
  CheckerTest t;
  HealthCheckConfig config = fastHttp();
  config.interval = 10s;  // One check per host within the test.
  int rounds = 0;
  t.checker =
      std::make_unique<HealthChecker>(t.dispatcher, config, "backend_cluster", t.store, nullptr);
  t.checker->setOnFirstRoundDone([&] { ++rounds; });
  CHECK(t.checker->firstRoundDone());  // No hosts, nothing to wait for.
  t.checker->setHosts({b.address(), loopback(closed)});
  CHECK_FALSE(t.checker->firstRoundDone());
  REQUIRE(t.runUntil([&] { return rounds == 1; }));
  CHECK(t.checker->firstRoundDone());
  CHECK(t.checker->healthy(b.address().asString()) == true);
  CHECK(t.checker->healthy(loopback(closed).asString()) == false);
  // A host added later makes the round pending again until it is checked.
  ScriptedBackend c;
  t.checker->setHosts({b.address(), loopback(closed), c.address()});
  CHECK_FALSE(t.checker->firstRoundDone());
  REQUIRE(t.runUntil([&] { return rounds == 2; }));
  // Removing an unchecked host also ends the wait for it.
  ScriptedBackend d;
  t.checker->setHosts({b.address(), d.address()});
  CHECK_FALSE(t.checker->firstRoundDone());
  t.checker->setHosts({b.address()});
  CHECK(t.checker->firstRoundDone());
}

TEST_CASE("removing a host stops its checks at once", "[health]") {
  ScriptedBackend removed;
  ScriptedBackend kept;
  CheckerTest t;
  int removed_requests_then = -1;
  // Removed from inside the callback, right after its first check: none is in flight.
  t.on_change = [&](const std::string& address, bool) {
    if (address == removed.address().asString()) {
      removed_requests_then = removed.requests;
      t.checker->setHosts({kept.address()});
    }
  };
  t.start(fastHttp(), {removed.address(), kept.address()});
  REQUIRE(t.runUntil([&] { return removed_requests_then >= 0 && kept.requests >= 6; }));
  CHECK(removed.requests == removed_requests_then);
  CHECK(t.checker->hostCount() == 1);
  CHECK_FALSE(t.checker->healthy(removed.address().asString()).has_value());
}

TEST_CASE("the callback fires only when a host's health changes", "[health]") {
  ScriptedBackend b;
  CheckerTest t;
  t.start(fastHttp(), {b.address()});
  REQUIRE(t.runUntil([&] { return b.requests >= 6; }));
  CHECK(t.changes.size() == 1);
  CHECK(t.counter("success") >= 5);
}

TEST_CASE("setting the same hosts again keeps their state and schedule", "[health]") {
  ScriptedBackend b;
  CheckerTest t;
  t.start(fastHttp(), {b.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() == 1; }));
  t.checker->setHosts({b.address()});
  CHECK(t.checker->healthy(b.address().asString()) == true);
  REQUIRE(t.runUntil([&] { return b.requests >= 4; }));
  CHECK(t.changes.size() == 1);
}

TEST_CASE("the healthy gauge counts the hosts currently healthy", "[health]") {
  ScriptedBackend a;
  ScriptedBackend b;
  CheckerTest t;
  t.start(fastHttp(), {a.address(), b.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() == 2; }));
  CHECK(t.healthyGauge() == 2);
  t.checker->setHosts({a.address()});
  CHECK(t.healthyGauge() == 1);
  t.checker.reset();
  CHECK(t.healthyGauge() == 0);
}

// --- Scheduling ------------------------------------------------------------------------------

TEST_CASE("without traffic checks are spaced by no_traffic_interval until traffic starts",
          "[health]") {
  ScriptedBackend idle;
  ScriptedBackend busy;
  CheckerTest t;
  t.start(fastHttp(), {idle.address()});
  t.checker->setHadTraffic(false);  // no_traffic_interval stays at its 60 s default.
  // A second checker with traffic on the same loop is the clock: several of its rounds pass.
  HealthChecker clock(t.dispatcher, fastHttp(), "clock_cluster", t.store, {});
  clock.setHadTraffic(true);
  clock.setHosts({busy.address()});
  REQUIRE(t.runUntil([&] { return idle.requests >= 1 && busy.requests >= 6; }));
  CHECK(idle.requests == 1);  // Only the first check, which runs at once.
  t.checker->setHadTraffic(true);
  REQUIRE(t.runUntil([&] { return idle.requests >= 3; }));
}

TEST_CASE("the wait before a check follows traffic and health and the edges", "[health]") {
  HealthCheckConfig c = fastHttp();
  c.interval = 100ms;
  c.unhealthy_interval = 200ms;
  c.unhealthy_edge_interval = 300ms;
  c.healthy_edge_interval = 400ms;
  c.no_traffic_interval = 500ms;
  CHECK(baseInterval(c, true, true, false) == 100ms);
  CHECK(baseInterval(c, true, false, false) == 200ms);
  CHECK(baseInterval(c, true, false, true) == 300ms);
  CHECK(baseInterval(c, true, true, true) == 400ms);
  CHECK(baseInterval(c, false, true, false) == 500ms);
  CHECK(baseInterval(c, false, false, true) == 500ms);
  c.no_traffic_healthy_interval = 600ms;
  CHECK(baseInterval(c, false, true, false) == 600ms);
  CHECK(baseInterval(c, false, false, false) == 500ms);
}

TEST_CASE("jitter adds up to interval_jitter plus interval_jitter_percent of the wait",
          "[health]") {
  HealthCheckConfig c = fastHttp();
  c.interval_jitter = 10ms;
  c.interval_jitter_percent = 50;
  FastRandom random(42);
  milliseconds low = 1h, high = 0ms;
  for (int i = 0; i < 2000; ++i) {
    const milliseconds wait = withJitter(100ms, c, random);
    low = std::min(low, wait);
    high = std::max(high, wait);
  }
  CHECK(low >= 100ms);
  CHECK(low < 110ms);
  CHECK(high < 100ms + 50ms + 10ms);
  CHECK(high > 140ms);
  c.interval_jitter = 0ms;
  c.interval_jitter_percent = 0;
  CHECK(withJitter(100ms, c, random) == 100ms);
}

// --- What an HTTP check sends ------------------------------------------------------------------

TEST_CASE("an HTTP check is GET path with the cluster as Host and user-agent Envoy/HC",
          "[health]") {
  ScriptedBackend b;
  CheckerTest t;
  HealthCheckConfig config = fastHttp();
  config.http.request_headers_to_add.push_back({"x-check", "yes"});
  t.start(config, {b.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() == 1; }));
  const std::vector<testing::BackendRequest> requests = b.backend.requests();
  REQUIRE(!requests.empty());
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].path == "/healthz");
  CHECK(requests[0].version == "HTTP/1.1");
  CHECK(requests[0].header("host") == "backend_cluster");
  CHECK(requests[0].header("user-agent") == "Envoy/HC");
  CHECK(requests[0].header("x-check") == "yes");
  CHECK(requests[0].body_size == 0);
}

TEST_CASE("the Host of an HTTP check is http_health_check.host when set", "[health]") {
  ScriptedBackend b;
  CheckerTest t;
  HealthCheckConfig config = fastHttp();
  config.http.host = "hc.example.com";
  t.start(config, {b.address()});
  REQUIRE(t.runUntil([&] { return t.changes.size() == 1; }));
  const std::vector<testing::BackendRequest> requests = b.backend.requests();
  REQUIRE(!requests.empty());
  CHECK(requests[0].header("host") == "hc.example.com");
}

TEST_CASE("HTTP checks reuse one keep-alive connection", "[health]") {
  ScriptedBackend b;
  CheckerTest t;
  t.start(fastHttp(), {b.address()});
  REQUIRE(t.runUntil([&] { return b.requests >= 4; }));
  CHECK(b.backend.connectionsAccepted() == 1);
  CHECK(t.counter("failure") == 0);
}

TEST_CASE("with reuse_connection false every HTTP check opens its own connection", "[health]") {
  ScriptedBackend b;
  CheckerTest t;
  HealthCheckConfig config = fastHttp();
  config.reuse_connection = false;
  t.start(config, {b.address()});
  REQUIRE(t.runUntil([&] { return b.requests >= 3; }));
  CHECK(b.backend.connectionsAccepted() >= 3);
  const std::vector<testing::BackendRequest> requests = b.backend.requests();
  REQUIRE(!requests.empty());
  CHECK(requests[0].header("connection") == "close");
  CHECK(t.counter("failure") == 0);
}

TEST_CASE("a response with connection close passes and the next check reconnects", "[health]") {
  ScriptedBackend b([](int) {
    BackendReply reply;
    reply.keep_alive = false;
    return reply;
  });
  CheckerTest t;
  t.start(fastHttp(), {b.address()});
  REQUIRE(t.runUntil([&] { return b.requests >= 4; }));
  CHECK(t.changes.size() == 1);
  CHECK(t.counter("failure") == 0);
  CHECK(b.backend.connectionsAccepted() >= 4);
}

}  // namespace
}  // namespace remora::upstream
