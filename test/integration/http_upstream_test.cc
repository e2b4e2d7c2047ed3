// The router's side of HTTP proxying end to end: retries, per-try and route timeouts, upstreams
// that fail or go away (with the response flags a file access log records), connection reuse,
// load balancing policies and weights, and the local replies Envoy documents for each failure.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test/support/backends.h"
#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/process.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kResetBeforeHeaders[] =
    "upstream connect error or disconnect/reset before headers. reset reason: ";

// A catch-all route table: every request goes to `cluster` with these extra route action fields
// (YAML at column 0, e.g. "timeout: 1s\n").
std::string routeTo(const std::string& cluster, const std::string& action_extra = "") {
  std::string y =
      "name: local\n"
      "virtual_hosts:\n"
      "- name: all\n"
      "  domains: [\"*\"]\n"
      "  routes:\n"
      "  - match: { prefix: \"/\" }\n"
      "    route:\n"
      "      cluster: " +
      cluster + "\n";
  size_t start = 0;
  while (start < action_extra.size()) {
    size_t end = action_extra.find('\n', start);
    if (end == std::string::npos) end = action_extra.size();
    y += "      " + action_extra.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return y;
}

constexpr char kFlagsFormat[] = "%RESPONSE_CODE% %RESPONSE_FLAGS% %UPSTREAM_HOST%\\n";

// Waits (the access log is flushed periodically) for the file's first line, without its newline.
std::string firstLogLine(const std::string& path) {
  std::string line;
  waitFor(
      [&] {
        const std::string text = readFile(path);
        const size_t nl = text.find('\n');
        if (nl == std::string::npos) return false;
        line = text.substr(0, nl);
        return true;
      },
      10s, 20ms);
  return line;
}

std::string endpoint(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

TEST_CASE("a 5xx is retried on the other endpoint and the client gets the retry's 200", "[http]") {
  std::atomic<int> answered{0};
  auto handler = [&answered](const BackendRequest&) {
    BackendReply reply;
    if (answered.fetch_add(1) == 0) reply.status = 503;  // Whichever endpoint is tried first.
    return reply;
  };
  HttpBackend a("a", handler);
  HttpBackend b("b", handler);
  auto remora = startRemora(
      ingressBootstrap(routeTo("backend", "retry_policy: { retry_on: 5xx, num_retries: 1 }\n"),
                       {staticCluster("backend", {a.port(), b.port()})}));
  ClientResponse r = fetch(ingressPort(*remora));
  CHECK(r.status == 200);
  CHECK(a.requestsReceived() == 1);
  CHECK(b.requestsReceived() == 1);
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_retry", 1));
}

TEST_CASE("a connect failure to a dead endpoint is retried on a live one", "[http]") {
  ReservedPort dead;
  HttpBackend live("live");
  auto remora = startRemora(ingressBootstrap(
      routeTo("backend", "retry_policy: { retry_on: connect-failure, num_retries: 1 }\n"),
      {staticCluster("backend", {dead.port(), live.port()})}));
  const uint16_t port = ingressPort(*remora);
  // Round robin sends one of the first two requests' first tries to the dead endpoint.
  for (int i = 0; i < 2; ++i) {
    ClientResponse r = fetch(port);
    CHECK(r.status == 200);
    CHECK(r.header("x-backend") == "live");
  }
  CHECK(live.requestsReceived() == 2);
  CHECK(remora->stat("cluster.backend.upstream_rq_retry") >= 1);
  CHECK(remora->stat("cluster.backend.upstream_cx_connect_fail") >= 1);
}

TEST_CASE("a try that exceeds per_try_timeout is abandoned and retried", "[http]") {
  std::atomic<int> answered{0};
  HttpBackend backend("backend", [&answered](const BackendRequest&) {
    BackendReply reply;
    if (answered.fetch_add(1) == 0) reply.delay = 3s;
    return reply;
  });
  auto remora = startRemora(ingressBootstrap(
      routeTo(
          "backend",
          "timeout: 5s\nretry_policy: { retry_on: 5xx, num_retries: 1, per_try_timeout: 0.2s }\n"),
      {staticCluster("backend", {backend.port()})}));
  const auto start = std::chrono::steady_clock::now();
  ClientResponse r = fetch(ingressPort(*remora));
  CHECK(r.status == 200);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_per_try_timeout", 1));
  CHECK(remora->stat("cluster.backend.upstream_rq_retry") == 1);
}

TEST_CASE("when every try exceeds per_try_timeout the client gets 504", "[http]") {
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.delay = 3s;
    return reply;
  });
  auto remora = startRemora(ingressBootstrap(
      routeTo(
          "backend",
          "timeout: 5s\nretry_policy: { retry_on: 5xx, num_retries: 1, per_try_timeout: 0.2s }\n"),
      {staticCluster("backend", {backend.port()})}));
  const auto start = std::chrono::steady_clock::now();
  ClientResponse r = fetch(ingressPort(*remora));
  CHECK(r.status == 504);
  CHECK(r.body == "upstream request timeout");
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_per_try_timeout", 2));
  CHECK(waitFor([&] { return backend.requestsReceived() == 2; }, 5s));
}

TEST_CASE("the route timeout answers 504 upstream request timeout", "[http]") {
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.delay = 3s;
    return reply;
  });
  auto remora = startRemora(ingressBootstrap(routeTo("backend", "timeout: 0.3s\n"),
                                             {staticCluster("backend", {backend.port()})}));
  const auto start = std::chrono::steady_clock::now();
  ClientResponse r = fetch(ingressPort(*remora));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(r.status == 504);
  CHECK(r.body == "upstream request timeout");
  CHECK(elapsed >= 250ms);
  CHECK(elapsed < 2s);
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_timeout", 1));
}

TEST_CASE("an upstream closing mid-response cuts the client's response and logs UC", "[http]") {
  TempDir dir;
  const std::string log = dir.file("access.log");
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.body = std::string(100000, 'x');
    reply.close_after_bytes = 1000;
    return reply;
  });
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"),
                                             {staticCluster("backend", {backend.port()})},
                                             fileAccessLog(log, kFlagsFormat)));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(ClientRequest{});
  CHECK(r.status == 200);
  CHECK_FALSE(r.complete);
  CHECK(r.closed);
  CHECK(r.body_size < 100000);
  CHECK(firstLogLine(log) == "200 UC " + endpoint(backend.port()));
}

TEST_CASE("an upstream closing without a response gives 503 and logs UC", "[http]") {
  TempDir dir;
  const std::string log = dir.file("access.log");
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.close_without_response = true;
    return reply;
  });
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"),
                                             {staticCluster("backend", {backend.port()})},
                                             fileAccessLog(log, kFlagsFormat)));
  ClientResponse r = fetch(ingressPort(*remora));
  CHECK(r.status == 503);
  CHECK(r.body == std::string(kResetBeforeHeaders) + "connection termination");
  CHECK(firstLogLine(log) == "503 UC " + endpoint(backend.port()));
}

TEST_CASE("a refused upstream connection without retries gives 503 and logs UF", "[http]") {
  TempDir dir;
  const std::string log = dir.file("access.log");
  ReservedPort dead;
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"),
                                             {staticCluster("backend", {dead.port()})},
                                             fileAccessLog(log, kFlagsFormat)));
  ClientResponse r = fetch(ingressPort(*remora));
  CHECK(r.status == 503);
  INFO("body: " << r.body);
  // Envoy 1.2x names the reason "connection failure"; later versions say "remote connection
  // failure" and append the transport failure reason.
  CHECK(r.body.rfind(kResetBeforeHeaders, 0) == 0);
  CHECK(r.body.find("connection failure") != std::string::npos);
  CHECK(firstLogLine(log) == "503 UF " + endpoint(dead.port()));
}

TEST_CASE("sequential requests from one client reuse one upstream connection", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  for (int i = 0; i < 10; ++i) {
    REQUIRE(client.request(ClientRequest{}).status == 200);
  }
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_total", 10));
  CHECK(remora->stat("cluster.backend.upstream_cx_total") == 1);
  CHECK(backend.connectionsAccepted() == 1);
}

TEST_CASE("every upstream connection stays pooled after a burst of concurrent requests", "[http]") {
  // 80 requests at once need 80 upstream connections; all of them are kept for reuse (a cap
  // below the concurrency would close some and reconnect on every later burst).
  constexpr int kClients = 80;
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.delay = 1s;  // Long enough for every request to be in flight at once.
    return reply;
  });
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}));
  std::vector<std::unique_ptr<HttpTestClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<HttpTestClient>(ingressPort(*remora)));
    REQUIRE(clients.back()->connected());
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (auto& c : clients) {
    threads.emplace_back([&ok, &c] {
      if (c->request(ClientRequest{}).status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kClients);
  CHECK(remora->stat("cluster.backend.upstream_cx_total") == kClients);
  CHECK(remora->stat("cluster.backend.upstream_cx_active") == kClients);
  CHECK(backend.openConnections() == kClients);
}

TEST_CASE(
    "after the upstream closes an idle keep-alive connection the next request uses a new "
    "one",
    "[http]") {
  HttpBackend backend;
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  REQUIRE(client.request(ClientRequest{}).status == 200);
  REQUIRE(statReaches(*remora, "cluster.backend.upstream_cx_active", 1));
  backend.closeIdleConnections();
  CHECK(waitFor([&] { return backend.openConnections() == 0; }, 5s));
  // The proxy notices the close and drops the connection from its pool.
  CHECK(statReaches(*remora, "cluster.backend.upstream_cx_active", 0));
  ClientResponse r = client.request(ClientRequest{});
  CHECK(r.status == 200);
  CHECK(backend.connectionsAccepted() == 2);
  CHECK(remora->stat("cluster.backend.upstream_cx_total") == 2);
  CHECK(remora->stat("cluster.backend.upstream_cx_destroy_remote") == 1);
}

// Sends `n` requests on one client and counts responses per x-backend.
std::map<std::string, int> spread(uint16_t port, int n) {
  std::map<std::string, int> counts;
  HttpTestClient client(port);
  REQUIRE(client.connected());
  for (int i = 0; i < n; ++i) {
    ClientResponse r = client.request(ClientRequest{});
    REQUIRE(r.status == 200);
    ++counts[r.header("x-backend")];
  }
  return counts;
}

// With every endpoint idle, RANDOM and LEAST_REQUEST (power of two random choices) both pick
// uniformly at random: every endpoint serves, and unlike round robin the same endpoint sometimes
// serves twice in a row.
void checkRandomSpread(const std::string& lb_policy) {
  HttpBackend a("a");
  HttpBackend b("b");
  HttpBackend c("c");
  ClusterSpec cluster = staticCluster("backend", {a.port(), b.port(), c.port()});
  cluster.lb_policy = lb_policy;
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"), {cluster}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  std::map<std::string, int> counts;
  std::string previous;
  int repeats = 0;
  for (int i = 0; i < 60; ++i) {
    ClientResponse r = client.request(ClientRequest{});
    REQUIRE(r.status == 200);
    const std::string served_by = r.header("x-backend");
    ++counts[served_by];
    if (served_by == previous) ++repeats;
    previous = served_by;
  }
  INFO("a " << counts["a"] << ", b " << counts["b"] << ", c " << counts["c"] << ", repeats "
            << repeats);
  CHECK(counts["a"] + counts["b"] + counts["c"] == 60);
  CHECK(counts["a"] >= 5);
  CHECK(counts["b"] >= 5);
  CHECK(counts["c"] >= 5);
  CHECK(repeats > 0);  // All 59 steps changing endpoint has probability (2/3)^59.
}

TEST_CASE("LEAST_REQUEST picks among idle endpoints at random", "[http]") {
  checkRandomSpread("LEAST_REQUEST");
}

TEST_CASE("RANDOM picks endpoints at random", "[http]") { checkRandomSpread("RANDOM"); }

TEST_CASE("ROUND_ROBIN honours load_balancing_weight 3 to 1", "[http]") {
  HttpBackend heavy("heavy");
  HttpBackend light("light");
  ClusterSpec cluster = staticCluster("backend", {heavy.port(), light.port()});
  cluster.weights = {3, 1};
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"), {cluster}));
  auto counts = spread(ingressPort(*remora), 400);
  INFO("heavy " << counts["heavy"] << ", light " << counts["light"]);
  CHECK(counts["heavy"] + counts["light"] == 400);
  CHECK(counts["heavy"] >= 288);
  CHECK(counts["heavy"] <= 312);
}

TEST_CASE("a cluster without endpoints answers 503 no healthy upstream", "[http]") {
  HttpListenerSpec listener;
  listener.hcm_yaml = hcmYaml(singleRouteConfig("empty"));
  std::string bootstrap = httpBootstrap({listener}, {});
  // httpBootstrap ends with the clusters list; add one whose load assignment has no endpoints.
  bootstrap +=
      "  - name: empty\n"
      "    type: STATIC\n"
      "    connect_timeout: 1s\n"
      "    load_assignment:\n"
      "      cluster_name: empty\n"
      "      endpoints: []\n";
  auto remora = startRemora(bootstrap);
  ClientResponse r = fetch(ingressPort(*remora));
  CHECK(r.status == 503);
  CHECK(r.body == "no healthy upstream");
  CHECK(statReaches(*remora, "cluster.empty.upstream_cx_none_healthy", 1));
}

}  // namespace
}  // namespace remora::testing

namespace remora::testing {
namespace {

TEST_CASE(
    "an upstream answering before the request body ended gets its response to the client "
    "and both connections close",
    "[http]") {
  // Reads the head and what body came with it, answers 413 at once, then waits for the close.
  TcpServer upstream([](ServerConnection& conn) {
    if (conn.read().data.empty()) return;
    conn.write("HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n");
    std::string rest;
    conn.readUntilEof(&rest);
  });
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"),
                                             {staticCluster("backend", {upstream.port()})}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  // A body announced as 1 MB of which only 1 KiB is sent: the request cannot have ended.
  REQUIRE(
      client.sendRaw("POST /upload HTTP/1.1\r\nhost: backend\r\ncontent-length: 1000000\r\n\r\n" +
                     std::string(1024, 'x')));
  ClientResponse r =
      client.readResponse(ReadOptions{.store_body = true, .timeout = {}, .method = "POST"});
  CHECK(r.status == 413);
  // HTTP/1 cannot find the next request after an unread body: the proxy closes.
  CHECK(client.waitForClose(std::chrono::seconds(5)));
  // The upstream connection was not kept for reuse either.
  CHECK(statReaches(*remora, "cluster.backend.upstream_cx_active", 0));
}

}  // namespace
}  // namespace remora::testing
