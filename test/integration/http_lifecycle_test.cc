// An HTTP connection's life in the real remora binary: graceful drain on SIGTERM, the request,
// stream-idle and connection-idle timeouts, response trailers, retries on reset and the buffer
// limit that stops them, router-added headers, HEAD on a kept-alive upstream and the JSON access
// log.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

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
using Clock = std::chrono::steady_clock;

constexpr uint64_t kMiB = 1024 * 1024;

// Every request to cluster "backend", with `action` fields in the route action (a YAML flow
// mapping body, e.g. "timeout: 0s").
std::string routeToBackend(const std::string& action) {
  return oneVirtualHost("- match: { prefix: \"/\" }\n  route: { cluster: backend, " + action +
                        " }\n");
}

// Drain ------------------------------------------------------------------------------------------

TEST_CASE(
    "SIGTERM closes an idle keep-alive HTTP connection and the process exits before the "
    "drain time",
    "[integration][http][drain]") {
  HttpBackend backend;
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}),
      {"--drain-time-s", "30"});
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  REQUIRE(client.request(get()).status == 200);  // Kept alive and now idle.

  const auto signalled_at = Clock::now();
  remora->process().signal(SIGTERM);
  CHECK(client.waitForClose(3s));
  const double closed_after = secondsSince(signalled_at);
  std::optional<int> code = remora->process().waitExit(10s);
  const double exited_after = secondsSince(signalled_at);
  INFO("closed after " << closed_after << "s, exited after " << exited_after << "s\n"
                       << remora->describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(closed_after < 3.0);
  CHECK(exited_after < 10.0);
}

TEST_CASE("a request in flight during SIGTERM drain completes with connection: close",
          "[integration][http][drain]") {
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.delay = 1s;  // Still waiting for this when SIGTERM arrives.
    reply.body = "finished";
    return reply;
  });
  auto remora = startRemora(
      ingressBootstrap(routeToBackend("timeout: 0s"), {staticCluster("backend", {backend.port()})}),
      {"--drain-time-s", "30"});
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  REQUIRE(client.send(get("/slow")));
  REQUIRE(waitFor([&] { return backend.requestsReceived() == 1; }, 5s));

  remora->process().signal(SIGTERM);
  ClientResponse r = client.readResponse();
  INFO(r.error << "\n" << remora->describe());
  CHECK(r.status == 200);
  CHECK(r.complete);
  CHECK(r.body == "finished");
  CHECK(r.header("connection") == "close");
  CHECK(client.waitForClose(5s));
  std::optional<int> code = remora->process().waitExit(10s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
}

// Timeouts ---------------------------------------------------------------------------------------

TEST_CASE("request_timeout answers 408 when the request body never completes",
          "[integration][http][timeout]") {
  HttpBackend backend;
  auto remora = startRemora(ingressBootstrap(routeToBackend("timeout: 0s"),
                                             {staticCluster("backend", {backend.port()})},
                                             "request_timeout: 0.5s\n"));
  HttpTestClient client(ingressPort(*remora), "127.0.0.1", 5s);
  REQUIRE(client.connected());
  const auto start = Clock::now();
  REQUIRE(client.sendRaw(
      "POST /upload HTTP/1.1\r\nHost: backend\r\nContent-Length: 100\r\n\r\nonly ten b"));
  ReadOptions post;
  post.method = "POST";
  ClientResponse r = client.readResponse(post);
  const double elapsed = secondsSince(start);
  INFO("answered after " << elapsed << "s: " << r.error);
  CHECK(r.status == 408);
  CHECK(r.body == "request timeout");
  CHECK(elapsed >= 0.4);
  CHECK(elapsed < 4.0);
  CHECK(statReaches(*remora, "http.ingress.downstream_rq_timeout", 1));
}

TEST_CASE("a route's idle_timeout overrides the connection manager's stream_idle_timeout",
          "[integration][http][timeout]") {
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.delay = 800ms;  // Longer than the route's idle_timeout, shorter than the HCM's.
    reply.body = "slow answer";
    return reply;
  });
  const std::string routes =
      "- match: { prefix: \"/short\" }\n"
      "  route: { cluster: backend, timeout: 0s, idle_timeout: 0.2s }\n"
      "- match: { prefix: \"/\" }\n"
      "  route: { cluster: backend, timeout: 0s }\n";
  auto remora = startRemora(ingressBootstrap(oneVirtualHost(routes),
                                             {staticCluster("backend", {backend.port()})},
                                             "stream_idle_timeout: 10s\n"));
  const uint16_t port = ingressPort(*remora);

  HttpTestClient short_client(port, "127.0.0.1", 5s);
  REQUIRE(short_client.connected());
  const auto start = Clock::now();
  ClientResponse timed_out = short_client.request(get("/short"));
  const double elapsed = secondsSince(start);
  INFO("/short answered after " << elapsed << "s");
  CHECK(timed_out.status == 408);
  CHECK(timed_out.body == "stream timeout");
  CHECK(elapsed < 0.75);

  HttpTestClient other_client(port, "127.0.0.1", 5s);
  REQUIRE(other_client.connected());
  ClientResponse unaffected = other_client.request(get("/other"));
  CHECK(unaffected.status == 200);
  CHECK(unaffected.body == "slow answer");
  CHECK(statReaches(*remora, "http.ingress.downstream_rq_idle_timeout", 1));
}

// The client's connection closes after at least `min_idle_s` without a request, and the idle
// timeout is what closed it.
void checkClosedForIdleness(HttpTestClient& client, RemoraProcess& remora, double min_idle_s) {
  const auto idle_since = Clock::now();
  CHECK(client.waitForClose(5s));
  const double elapsed = secondsSince(idle_since);
  INFO("closed after " << elapsed << "s idle");
  CHECK(elapsed >= min_idle_s);
  CHECK(elapsed < 3.0);
  CHECK(statReaches(remora, "http.ingress.downstream_cx_idle_timeout", 1));
}

TEST_CASE("common_http_protocol_options idle_timeout closes an idle downstream connection",
          "[integration][http][timeout]") {
  HttpBackend backend;
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})},
                       "common_http_protocol_options: { idle_timeout: 0.3s }\n"));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  REQUIRE(client.request(get()).status == 200);
  checkClosedForIdleness(client, *remora, 0.2);
}

TEST_CASE("the downstream idle_timeout counts from the last request and spares one in progress",
          "[integration][http][timeout]") {
  HttpBackend backend("backend", [](const BackendRequest& request) {
    BackendReply reply;
    if (request.path == "/slow") reply.delay = 1500ms;  // Longer than the idle timeout.
    return reply;
  });
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})},
                       "common_http_protocol_options: { idle_timeout: 1s }\n"));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  // Requests 0.6 s apart: the connection outlives the first deadline because each request
  // moves it (the timer is re-armed lazily, from the last activity, not per request).
  for (int i = 0; i < 4; ++i) {
    INFO("request " << i);
    REQUIRE(client.request(get()).status == 200);
    std::this_thread::sleep_for(600ms);
  }
  // A request outlasting the timeout is not idleness.
  REQUIRE(client.request(get("/slow")).status == 200);
  checkClosedForIdleness(client, *remora, 0.8);
}

// Trailers ---------------------------------------------------------------------------------------

BackendReply chunkedWithTrailers() {
  BackendReply reply;
  reply.body = "hello trailers";
  reply.chunked = 2;
  reply.trailers = {{"x-checksum", "abc123"}, {"grpc-status", "0"}};
  return reply;
}

TEST_CASE("response trailers from a chunked upstream are dropped by default",
          "[integration][http][trailers]") {
  HttpBackend backend("backend", [](const BackendRequest&) { return chunkedWithTrailers(); });
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(get());
  CHECK(r.status == 200);
  CHECK(r.complete);
  CHECK(r.body == "hello trailers");
  CHECK(r.trailers.empty());
}

TEST_CASE("response trailers from a chunked upstream reach the client with enable_trailers",
          "[integration][http][trailers]") {
  HttpBackend backend("backend", [](const BackendRequest&) { return chunkedWithTrailers(); });
  auto remora = startRemora(ingressBootstrap(singleRouteConfig("backend"),
                                             {staticCluster("backend", {backend.port()})},
                                             "http_protocol_options: { enable_trailers: true }\n"));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(get());
  CHECK(r.status == 200);
  CHECK(r.complete);
  CHECK(r.chunked);
  CHECK(r.body == "hello trailers");
  CHECK(findHeader(r.trailers, "x-checksum") == "abc123");
  CHECK(findHeader(r.trailers, "grpc-status") == "0");
  // The connection stays usable after the trailer section.
  CHECK(client.request(get()).status == 200);
}

// Retries ----------------------------------------------------------------------------------------

TEST_CASE("retry_on reset retries a try whose connection was reset without a response",
          "[integration][http][retry]") {
  std::atomic<int> seen{0};
  auto handler = [&seen](const BackendRequest&) {
    BackendReply reply;
    if (seen.fetch_add(1) == 0) reply.reset = true;  // Whichever endpoint is tried first.
    return reply;
  };
  HttpBackend a("a", handler);
  HttpBackend b("b", handler);
  auto remora = startRemora(
      ingressBootstrap(routeToBackend("retry_policy: { retry_on: reset, num_retries: 1 }"),
                       {staticCluster("backend", {a.port(), b.port()})}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(get());
  CHECK(r.status == 200);
  CHECK(a.requestsReceived() == 1);
  CHECK(b.requestsReceived() == 1);
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_retry", 1));
}

TEST_CASE("a request body within the listener buffer limit is retried on 5xx",
          "[integration][http][retry]") {
  std::atomic<int> seen{0};
  HttpBackend backend("backend", [&seen](const BackendRequest&) {
    BackendReply reply;
    if (seen.fetch_add(1) == 0) reply.status = 503;
    return reply;
  });
  auto remora = startRemora(
      ingressBootstrap(routeToBackend("retry_policy: { retry_on: 5xx, num_retries: 2 }"),
                       {staticCluster("backend", {backend.port()})}, "", 64 * 1024));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientRequest upload = get("/upload");
  upload.method = "POST";
  upload.upload_bytes = 16 * 1024;
  ClientResponse r = client.request(upload);
  CHECK(r.status == 200);
  auto requests = backend.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].body_size == 16 * 1024);
  CHECK(requests[1].body_checksum == checksumOfPattern(16 * 1024));
  CHECK(statReaches(*remora, "cluster.backend.upstream_rq_retry", 1));
}

TEST_CASE("a request body over the listener buffer limit is not retried",
          "[integration][http][retry]") {
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.status = 503;
    reply.body = "unavailable";
    return reply;
  });
  auto remora = startRemora(
      ingressBootstrap(routeToBackend("retry_policy: { retry_on: 5xx, num_retries: 2 }"),
                       {staticCluster("backend", {backend.port()})}, "", 64 * 1024));
  HttpTestClient client(ingressPort(*remora), "127.0.0.1", 20s);
  REQUIRE(client.connected());
  ClientRequest upload = get("/upload");
  upload.method = "POST";
  upload.upload_bytes = 2 * kMiB;
  ClientResponse r = client.request(upload);
  INFO(r.error);
  CHECK(r.status == 503);
  CHECK(r.body == "unavailable");
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].complete);
  CHECK(seen[0].body_size == 2 * kMiB);
  CHECK(seen[0].body_checksum == checksumOfPattern(2 * kMiB));
  // The counter is read after the response, when any retry would have been counted already.
  CHECK(remora->stat("cluster.backend.upstream_rq_retry") == 0);
  CHECK(backend.requestsReceived() == 1);
}

// Router headers ---------------------------------------------------------------------------------

TEST_CASE("router suppress_envoy_headers leaves out x-envoy-upstream-service-time",
          "[integration][http]") {
  HttpBackend backend;
  HttpListenerSpec listener;
  listener.hcm_yaml =
      "stat_prefix: ingress\n"
      "http_filters:\n"
      "- name: envoy.filters.http.router\n"
      "  typed_config:\n"
      "    \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n"
      "    suppress_envoy_headers: true\n"
      "route_config:\n"
      "  name: local\n"
      "  virtual_hosts:\n"
      "  - name: all\n"
      "    domains: [\"*\"]\n"
      "    routes:\n"
      "    - match: { prefix: \"/\" }\n"
      "      route: { cluster: backend }\n";
  auto remora =
      startRemora(httpBootstrap({listener}, {staticCluster("backend", {backend.port()})}));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(get());
  CHECK(r.status == 200);
  CHECK(countHeader(r.headers, "x-envoy-upstream-service-time") == 0);
}

// HEAD -------------------------------------------------------------------------------------------

TEST_CASE("after a HEAD response the upstream connection is reused without waiting for a body",
          "[integration][http]") {
  // The codec test covers the client side of HEAD; this covers the upstream side: a large
  // Content-Length on a HEAD response must not make the proxy wait for (or discard) body bytes.
  HttpBackend backend("backend", [](const BackendRequest& q) {
    BackendReply reply;
    reply.body = q.method == "HEAD" ? std::string(kMiB, 'x') : "after head";
    return reply;
  });
  auto remora = startRemora(
      ingressBootstrap(singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}));
  HttpTestClient client(ingressPort(*remora), "127.0.0.1", 5s);
  REQUIRE(client.connected());
  ClientRequest head = get("/big");
  head.method = "HEAD";
  ClientResponse r = client.request(head);
  CHECK(r.status == 200);
  CHECK(r.complete);
  CHECK(r.header("content-length") == std::to_string(kMiB));
  CHECK(r.body_size == 0);
  ClientResponse next = client.request(get("/next"));
  CHECK(next.status == 200);
  CHECK(next.body == "after head");
  CHECK(backend.connectionsAccepted() == 1);
}

// Access log -------------------------------------------------------------------------------------

TEST_CASE(
    "a json_format access log writes one JSON object per request with a numeric "
    "response_code",
    "[integration][http][accesslog]") {
  TempDir dir;
  const std::string log = dir.file("access.json");
  HttpBackend backend("backend", [](const BackendRequest& q) {
    BackendReply reply;
    if (q.path == "/missing") reply.status = 404;
    return reply;
  });
  const std::string access_log =
      "access_log:\n"
      "- name: envoy.access_loggers.file\n"
      "  typed_config:\n"
      "    \"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
      "    path: " +
      log +
      "\n"
      "    log_format:\n"
      "      json_format:\n"
      "        response_code: \"%RESPONSE_CODE%\"\n"
      "        method: \"%REQ(:METHOD)%\"\n"
      "        path: \"%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%\"\n";
  auto remora = startRemora(ingressBootstrap(
      singleRouteConfig("backend"), {staticCluster("backend", {backend.port()})}, access_log));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  REQUIRE(client.request(get("/found")).status == 200);
  REQUIRE(client.request(get("/missing")).status == 404);

  std::vector<std::string> lines;
  const bool two_lines = waitFor(
      [&] {
        lines.clear();
        const std::string text = readFile(log);
        size_t start = 0;
        for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
          lines.push_back(text.substr(start, nl - start));
          start = nl + 1;
        }
        return lines.size() >= 2;
      },
      10s, 20ms);
  INFO("access log:\n" << readFile(log));
  REQUIRE(two_lines);
  CHECK(lines.size() == 2);
  const std::regex object("^\\{.*\\}$");
  const std::regex code200("\"response_code\":\\s*200[,}]");
  const std::regex code404("\"response_code\":\\s*404[,}]");
  CHECK(std::regex_match(lines[0], object));
  CHECK(std::regex_match(lines[1], object));
  CHECK(std::regex_search(lines[0], code200));
  CHECK(std::regex_search(lines[1], code404));
  CHECK(lines[0].find("\"method\":\"GET\"") != std::string::npos);
  CHECK(lines[0].find("\"path\":\"/found\"") != std::string::npos);
  CHECK(lines[1].find("\"path\":\"/missing\"") != std::string::npos);
}

}  // namespace
}  // namespace remora::testing
