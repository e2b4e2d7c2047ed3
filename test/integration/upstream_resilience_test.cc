// Upstream resilience through the real binary: circuit breakers answer 503 with
// x-envoy-overloaded at once instead of queueing past their limits, a waiting request gets a
// connection when one frees up, the retry breaker stops retries, previous_hosts sends a retry to
// another host, and consistent hashing keeps a key on one backend.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Holds every request in the backend's handler until opened.
class Gate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

std::string routes(const std::string& action_extra = "") {
  return "name: local\nvirtual_hosts:\n- name: all\n  domains: [\"*\"]\n  routes:\n"
         "  - match: { prefix: \"/\" }\n    route:\n      cluster: backend\n" +
         action_extra;
}

ClusterSpec cluster(std::vector<uint16_t> ports, std::string extra,
                    std::string lb_policy = "ROUND_ROBIN") {
  ClusterSpec c = staticCluster("backend", std::move(ports));
  c.extra = std::move(extra);
  c.lb_policy = std::move(lb_policy);
  return c;
}

// A request sent from its own thread; the response is read when `get()` is called.
class AsyncRequest {
 public:
  AsyncRequest(uint16_t port, std::string path) {
    thread_ = std::thread([this, port, path] {
      HttpTestClient client(port, "127.0.0.1", 10s);
      response_ = client.request(get(path));
    });
  }
  ~AsyncRequest() {
    if (thread_.joinable()) thread_.join();
  }
  ClientResponse response() {
    thread_.join();
    return response_;
  }

 private:
  std::thread thread_;
  ClientResponse response_;
};

// A backend whose requests wait at `gate`, behind a remora whose cluster has `thresholds` (one
// flow-mapping item of circuit_breakers.thresholds), with a first request held at the gate.
struct GatedProxy {
  explicit GatedProxy(const std::string& thresholds)
      : backend("b", [this](const BackendRequest&) {
          gate.wait();
          return BackendReply{};
        }) {
    remora = startRemora(ingressBootstrap(
        routes(), {cluster({backend.port()}, "    circuit_breakers:\n      thresholds:\n      - " +
                                                 thresholds + "\n")}));
    port = ingressPort(*remora);
    first = std::make_unique<AsyncRequest>(port, "/1");
    REQUIRE(waitFor([&] { return gate.waiting() == 1; }, 5s));
  }
  ~GatedProxy() { gate.open(); }

  Gate gate;
  HttpBackend backend;
  std::unique_ptr<RemoraProcess> remora;
  uint16_t port = 0;
  std::unique_ptr<AsyncRequest> first;
};

TEST_CASE("max_connections queues a request and max_pending_requests answers 503 at once",
          "[http]") {
  GatedProxy p("{max_connections: 1, max_pending_requests: 1}");
  auto& remora = p.remora;
  const uint16_t port = p.port;
  auto& backend = p.backend;
  auto& gate = p.gate;
  AsyncRequest& first = *p.first;
  AsyncRequest second(port, "/2");  // No connection left: waits in the pool.
  REQUIRE(statReaches(*remora, "cluster.backend.upstream_cx_overflow", 1));
  CHECK(statReaches(*remora, "cluster.backend.circuit_breakers.default.rq_pending_open", 1));
  CHECK(statReaches(*remora, "cluster.backend.circuit_breakers.default.cx_open", 1));

  const auto start = Clock::now();
  ClientResponse third = fetch(port, "/3");  // The pending slot is taken too: refused.
  const auto took = Clock::now() - start;
  CHECK(third.status == 503);
  CHECK(third.header("x-envoy-overloaded") == "true");
  CHECK(third.body ==
        "upstream connect error or disconnect/reset before headers. reset reason: overflow");
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_pending_overflow", 1));
  const double took_ms = std::chrono::duration<double, std::milli>(took).count();
  INFO("overflow answered in " << took_ms << " ms");

  gate.open();
  CHECK(first.response().status == 200);
  CHECK(second.response().status == 200);
  // The queued request took over the first one's connection.
  CHECK(backend.connectionsAccepted() == 1);
  CHECK(statReaches(*remora, "cluster.backend.circuit_breakers.default.cx_open", 1));
  CHECK(statReaches(*remora, "cluster.backend.circuit_breakers.default.rq_pending_open", 0));
}

TEST_CASE("max_requests answers a request over the limit 503 with x-envoy-overloaded", "[http]") {
  GatedProxy p("{max_requests: 1, track_remaining: true}");
  auto& remora = p.remora;
  const uint16_t port = p.port;
  auto& gate = p.gate;
  AsyncRequest& first = *p.first;
  CHECK(statReaches(*remora, "cluster.backend.circuit_breakers.default.remaining_rq", 0));
  ClientResponse second = fetch(port, "/2");
  CHECK(second.status == 503);
  CHECK(second.header("x-envoy-overloaded") == "true");
  gate.open();
  CHECK(first.response().status == 200);
  CHECK(statReaches(*remora, "cluster.backend.circuit_breakers.default.remaining_rq", 1));
  CHECK(statReaches(*remora, "cluster.backend.circuit_breakers.default.rq_open", 0));
}

TEST_CASE("HIGH priority routes use the HIGH thresholds", "[http]") {
  HttpBackend backend("b");
  auto remora = startRemora(ingressBootstrap(
      routes("      priority: HIGH\n"), {cluster({backend.port()},
                                                 "    circuit_breakers:\n      thresholds:\n"
                                                 "      - {priority: DEFAULT, max_requests: 0}\n"
                                                 "      - {priority: HIGH, max_requests: 5}\n")}));
  CHECK(fetch(ingressPort(*remora), "/").status == 200);
}

TEST_CASE("the max_retries breaker stops retries and counts them", "[http]") {
  HttpBackend a("a", [](const BackendRequest&) { return BackendReply{503}; });
  auto remora = startRemora(ingressBootstrap(
      routes("      retry_policy: {retry_on: 5xx, num_retries: 3}\n"),
      {cluster({a.port()},
               "    circuit_breakers:\n      thresholds:\n      - {max_retries: 0}\n")}));
  ClientResponse r = fetch(ingressPort(*remora), "/");
  CHECK(r.status == 503);
  CHECK(a.requestsReceived() == 1);
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_retry_overflow", 1));
}

TEST_CASE("a retry with the previous_hosts predicate goes to another host", "[http]") {
  // Every path fails on its first try and succeeds on its second; who served each is recorded.
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> served;
  auto handler = [&](const std::string& name) {
    return [&, name](const BackendRequest& req) {
      std::lock_guard<std::mutex> lock(mu);
      auto& tries = served[req.path];
      tries.push_back(name);
      return BackendReply{tries.size() == 1 ? 503 : 200};
    };
  };
  HttpBackend a("a", handler("a")), b("b", handler("b")), c("c", handler("c"));
  auto remora = startRemora(ingressBootstrap(
      routes("      retry_policy:\n        retry_on: 5xx\n        num_retries: 1\n"
             "        retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]\n"
             "        host_selection_retry_max_attempts: 10\n"),
      {cluster({a.port(), b.port(), c.port()}, "", "RANDOM")}));
  const uint16_t port = ingressPort(*remora);
  for (int i = 0; i < 30; ++i) {
    ClientResponse r = fetch(port, "/r" + std::to_string(i));
    CHECK(r.status == 200);
  }
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(served.size() == 30);
  for (const auto& [path, tries] : served) {
    INFO(path);
    REQUIRE(tries.size() == 2);
    CHECK(tries[0] != tries[1]);
  }
}

TEST_CASE("a consistent-hash cluster keeps each header key on one backend", "[http]") {
  const std::string policy = GENERATE(std::string("RING_HASH"), std::string("MAGLEV"));
  INFO(policy);
  HttpBackend a("a"), b("b"), c("c");
  auto remora =
      startRemora(ingressBootstrap(routes("      hash_policy: [{header: {header_name: x-user}}]\n"),
                                   {cluster({a.port(), b.port(), c.port()}, "", policy)}));
  const uint16_t port = ingressPort(*remora);
  std::set<std::string> used;
  HttpTestClient client(port, "127.0.0.1", 5s);
  for (int user = 0; user < 30; ++user) {
    std::set<std::string> backends;
    for (int i = 0; i < 4; ++i) {
      ClientRequest req = get("/");
      req.headers.push_back({"x-user", "user-" + std::to_string(user)});
      ClientResponse r = client.request(req);
      REQUIRE(r.status == 200);
      backends.insert(r.body);
    }
    INFO("user " << user);
    CHECK(backends.size() == 1);
    used.insert(*backends.begin());
  }
  CHECK(used.size() == 3);
}

}  // namespace
}  // namespace remora::testing
