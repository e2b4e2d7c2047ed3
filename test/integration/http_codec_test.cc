// The HTTP/1.1 codec and connection manager end to end: pipelining, large streamed bodies in
// bounded memory, bodyless responses, 100-continue, HTTP/1.0, upgrades, request smuggling vectors,
// header limits, request timeouts, connection manager stats and the default access log format.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
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
#include "test/support/sanitizer.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kBigBody = 100 * kMiB;
constexpr int64_t kMaxRssGrowthKb = 32 * 1024;

// A bootstrap routing everything to cluster "backend" at `backend_port`, with extra HCM fields.
std::string proxyTo(uint16_t backend_port, const std::string& hcm_extra = "",
                    const std::string& route_config = singleRouteConfig("backend")) {
  return ingressBootstrap(route_config, {staticCluster("backend", {backend_port})}, hcm_extra);
}

// The default route timeout (15 s) covers the whole response; a loaded CI machine may need longer
// for 100 MiB, and the timeout is not what these tests are about.
const std::string kUntimedRoute =
    oneVirtualHost("- match: { prefix: \"/\" }\n  route: { cluster: backend, timeout: 0s }\n");

// ASan quarantines freed memory (256 MiB by default), so the bound holds only in normal builds.
void checkRssGrowth(int64_t baseline, int64_t peak) {
  INFO("RSS baseline " << baseline << " KiB, peak " << peak << " KiB");
  REQUIRE(baseline > 0);
  if (kSanitized) {
    WARN("sanitizer build: RSS growth of " << (peak - baseline) << " KiB not checked");
    return;
  }
  CHECK(peak - baseline < kMaxRssGrowthKb);
}

// Samples a process's VmRSS on its own thread and keeps the peak.
class RssSampler {
 public:
  explicit RssSampler(const Process& process) : process_(process) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        const int64_t kb = process_.rssKb();
        if (kb > peak_.load()) peak_.store(kb);
        std::this_thread::sleep_for(10ms);  // Sampling period, not a wait for readiness.
      }
    });
  }
  ~RssSampler() { stopNow(); }
  int64_t stopNow() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return peak_.load();
  }

 private:
  const Process& process_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_{-1};
  std::thread thread_;
};

TEST_CASE("pipelined requests are answered in order", "[http]") {
  HttpBackend backend("backend", [](const BackendRequest& q) {
    BackendReply reply;
    reply.body = q.path;
    if (q.path == "/1") reply.delay = 100ms;  // The first answer is the slowest.
    return reply;
  });
  auto remora = startRemora(proxyTo(backend.port()));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  REQUIRE(client.sendPipelined({get("/1"), get("/2"), get("/3")}));
  auto responses = client.readResponses(3);
  REQUIRE(responses.size() == 3);
  for (int i = 0; i < 3; ++i) {
    INFO("response " << i);
    CHECK(responses[i].status == 200);
    CHECK(responses[i].body == "/" + std::to_string(i + 1));
  }
}

TEST_CASE("a 100 MiB chunked upload reaches the upstream intact in bounded proxy memory",
          "[http]") {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port(), "", kUntimedRoute));
  HttpTestClient client(ingressPort(*remora), "127.0.0.1", 60s);
  REQUIRE(client.connected());
  REQUIRE(client.request(get("/warmup")).status == 200);
  const int64_t baseline = remora->process().rssKb();
  REQUIRE(baseline > 0);
  RssSampler sampler(remora->process());
  ClientRequest upload;
  upload.method = "POST";
  upload.path = "/upload";
  upload.upload_bytes = kBigBody;
  upload.chunked = true;
  ClientResponse r = client.request(upload);
  const int64_t peak = sampler.stopNow();
  INFO("client: " << r.error << " " << client.error());
  CHECK(r.status == 200);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 2);
  INFO("upstream saw content-length '" << seen[1].header("content-length")
                                       << "' transfer-encoding '"
                                       << seen[1].header("transfer-encoding") << "'");
  CHECK(seen[1].complete);
  CHECK(seen[1].body_size == kBigBody);
  CHECK(seen[1].body_checksum == checksumOfPattern(kBigBody));
  checkRssGrowth(baseline, peak);
}

TEST_CASE("a 100 MiB chunked download reaches the client intact in bounded proxy memory",
          "[http]") {
  HttpBackend backend("backend", [](const BackendRequest& q) {
    BackendReply reply;
    if (q.path == "/download") {
      reply.stream_bytes = kBigBody;
      reply.chunked = 1600;  // 64 KiB chunks.
    }
    return reply;
  });
  auto remora = startRemora(proxyTo(backend.port(), "", kUntimedRoute));
  HttpTestClient client(ingressPort(*remora), "127.0.0.1", 60s);
  REQUIRE(client.connected());
  REQUIRE(client.request(get("/warmup")).status == 200);
  const int64_t baseline = remora->process().rssKb();
  REQUIRE(baseline > 0);
  RssSampler sampler(remora->process());
  ReadOptions options;
  options.store_body = false;
  ClientResponse r = client.request(get("/download"), options);
  const int64_t peak = sampler.stopNow();
  CHECK(r.status == 200);
  CHECK(r.complete);
  CHECK(r.chunked);
  CHECK(r.body_size == kBigBody);
  CHECK(r.body_checksum == checksumOfPattern(kBigBody));
  checkRssGrowth(baseline, peak);
}

TEST_CASE("a HEAD response carries its Content-Length but no body", "[http]") {
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.body = "hello world";
    return reply;
  });
  auto remora = startRemora(proxyTo(backend.port()));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientRequest head = get("/");
  head.method = "HEAD";
  ClientResponse r = client.request(head);
  CHECK(r.status == 200);
  CHECK(r.complete);
  CHECK(r.header("content-length") == "11");
  CHECK(r.body_size == 0);
  // Nothing stray follows: the next response on the connection parses cleanly.
  ClientResponse next = client.request(get("/"));
  CHECK(next.status == 200);
  CHECK(next.body == "hello world");
}

TEST_CASE("204 and 304 responses carry no body", "[http]") {
  HttpBackend backend("backend", [](const BackendRequest& q) {
    BackendReply reply;
    reply.body = "backend";
    if (q.path == "/204") reply.status = 204;
    if (q.path == "/304") {
      reply.status = 304;
      reply.headers = {{"etag", "\"v1\""}};
    }
    return reply;
  });
  auto remora = startRemora(proxyTo(backend.port()));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse no_content = client.request(get("/204"));
  CHECK(no_content.status == 204);
  CHECK(no_content.complete);
  CHECK(no_content.body_size == 0);
  CHECK(no_content.header("transfer-encoding") == "");
  ClientResponse not_modified = client.request(get("/304"));
  CHECK(not_modified.status == 304);
  CHECK(not_modified.complete);
  CHECK(not_modified.body_size == 0);
  CHECK(not_modified.header("etag") == "\"v1\"");
  ClientResponse next = client.request(get("/"));
  INFO("third response: " << next.status << " " << next.error);
  CHECK(next.status == 200);
  CHECK(next.body == "backend");
}

TEST_CASE("Expect 100-continue gets 100 Continue and the request succeeds", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port()));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientRequest post = get("/submit");
  post.method = "POST";
  post.body = "the payload";
  post.expect_continue = true;
  ClientResponse r = client.request(post);
  CHECK(client.bodySent());
  CHECK(r.status == 200);
  REQUIRE(r.interim.size() == 1);
  CHECK(r.interim[0].status == 100);
  auto seen = backend.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].body == "the payload");
}

TEST_CASE("an HTTP/1.0 request is refused with 426 by default and the connection closes",
          "[http]") {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port()));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientRequest old = get("/");
  old.version = "HTTP/1.0";
  ClientResponse r = client.request(old);
  CHECK(r.status == 426);
  CHECK(client.waitForClose(5s));
  CHECK(backend.requestsReceived() == 0);
}

constexpr char kAcceptHttp10[] = "http_protocol_options: { accept_http_10: true }\n";

TEST_CASE("with accept_http_10 an HTTP/1.0 request is proxied and its connection closes",
          "[http]") {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port(), kAcceptHttp10));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientRequest old = get("/");
  old.version = "HTTP/1.0";
  ClientResponse r = client.request(old);
  CHECK(r.status == 200);
  CHECK(r.body == "backend");
  CHECK(client.waitForClose(5s));
}

TEST_CASE("with accept_http_10 an HTTP/1.0 keep-alive request keeps its connection open",
          "[http]") {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port(), kAcceptHttp10));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientRequest old = get("/");
  old.version = "HTTP/1.0";
  old.headers = {{"Connection", "keep-alive"}};
  ClientResponse first = client.request(old);
  CHECK(first.status == 200);
  CHECK(first.body == "backend");
  CHECK_FALSE(first.closed);
  ClientResponse second = client.request(old);
  CHECK(second.status == 200);
  CHECK(second.body == "backend");
}

ClientRequest websocketUpgrade() {
  ClientRequest r = get("/chat");
  r.headers = {{"Upgrade", "websocket"},
               {"Connection", "Upgrade"},
               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
               {"Sec-WebSocket-Version", "13"}};
  return r;
}

TEST_CASE("a WebSocket upgrade allowed by upgrade_configs tunnels bytes both ways", "[http]") {
  HttpBackend backend;  // Accepts upgrades and echoes every tunnelled byte.
  auto remora =
      startRemora(proxyTo(backend.port(), "upgrade_configs:\n- upgrade_type: websocket\n"));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(websocketUpgrade());
  REQUIRE(r.status == 101);
  CHECK(r.header("upgrade") == "websocket");
  const std::string hello = "hello through the tunnel";
  REQUIRE(client.sendRaw(hello));
  CHECK(client.receiveExactly(hello.size()).data == hello);
  const std::string big = patternBytes(0, 64 * 1024);
  REQUIRE(client.sendRaw(big));
  CHECK(client.receiveExactly(big.size()).data == big);
}

TEST_CASE("a WebSocket upgrade without upgrade_configs is refused with 403", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port()));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientResponse r = client.request(websocketUpgrade());
  CHECK(r.status == 403);
  CHECK(backend.requestsReceived() == 0);
}

// Sends `bytes` raw on a fresh connection; the proxy must answer 400 and close.
void expectRejected(const std::string& bytes, bool upstream_sees_nothing = true) {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port()));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  REQUIRE(client.sendRaw(bytes));
  ClientResponse r = client.readResponse();
  CHECK(r.status == 400);
  CHECK(client.waitForClose(5s));
  if (upstream_sees_nothing) CHECK(backend.requestsReceived() == 0);
}

TEST_CASE("a request with both Content-Length and Transfer-Encoding gets 400 and is closed",
          "[http]") {
  expectRejected(
      "POST / HTTP/1.1\r\nHost: backend\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: backend\r\n\r\n");
}

TEST_CASE("a request with two differing Content-Length fields gets 400 and is closed", "[http]") {
  expectRejected(
      "POST / HTTP/1.1\r\nHost: backend\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
      "hello!");
}

TEST_CASE("a chunked body with an invalid chunk size gets 400 and is closed", "[http]") {
  // The head is valid, so the upstream may already have seen it.
  expectRejected(
      "POST / HTTP/1.1\r\nHost: backend\r\nTransfer-Encoding: chunked\r\n\r\n"
      "zz\r\nhello\r\n0\r\n\r\n",
      /*upstream_sees_nothing=*/false);
}

TEST_CASE("a header folded with obs-fold gets 400 and is closed", "[http]") {
  expectRejected("GET / HTTP/1.1\r\nHost: backend\r\nX-Folded: first\r\n second\r\n\r\n");
}

TEST_CASE("a header name followed by whitespace before the colon gets 400 and is closed",
          "[http]") {
  expectRejected("GET / HTTP/1.1\r\nHost: backend\r\nX-Spaced : value\r\n\r\n");
}

ClientRequest withHeaders(int count, size_t value_size = 8) {
  ClientRequest r = get("/");
  for (int i = 0; i < count; ++i) {
    r.headers.emplace_back("x-extra-" + std::to_string(i), std::string(value_size, 'v'));
  }
  return r;
}

TEST_CASE("more headers than max_headers_count get 431", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(
      proxyTo(backend.port(), "common_http_protocol_options: { max_headers_count: 20 }\n"));
  const uint16_t port = ingressPort(*remora);
  {
    HttpTestClient client(port);
    REQUIRE(client.connected());
    CHECK(client.request(withHeaders(10)).status == 200);
  }
  HttpTestClient client(port);
  REQUIRE(client.connected());
  CHECK(client.request(withHeaders(30)).status == 431);
  CHECK(backend.requestsReceived() == 1);
}

TEST_CASE("request headers larger than max_request_headers_kb get 431", "[http]") {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port(), "max_request_headers_kb: 1\n"));
  const uint16_t port = ingressPort(*remora);
  {
    HttpTestClient client(port);
    REQUIRE(client.connected());
    CHECK(client.request(withHeaders(2, 100)).status == 200);
  }
  HttpTestClient client(port);
  REQUIRE(client.connected());
  CHECK(client.request(withHeaders(1, 2048)).status == 431);
  CHECK(backend.requestsReceived() == 1);
}

TEST_CASE(
    "a client that never finishes its request head is answered 408 and disconnected after "
    "request_headers_timeout",
    "[http]") {
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port(), "request_headers_timeout: 1s\n"));
  HttpTestClient client(ingressPort(*remora), "127.0.0.1", 5s);
  REQUIRE(client.connected());
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(client.sendRaw("GET / HTTP/1.1\r\nHost: backend\r\nX-Slow: "));
  ClientResponse r = client.readResponse();
  CHECK(r.status == 408);
  CHECK(r.body == "request header timeout");
  CHECK(client.waitForClose(5s));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= 900ms);
  CHECK(elapsed < 4s);
  CHECK(backend.requestsReceived() == 0);
}

TEST_CASE("stream_idle_timeout answers 408 when the upstream never responds", "[http]") {
  HttpBackend backend("backend", [](const BackendRequest&) {
    BackendReply reply;
    reply.no_response = true;
    return reply;
  });
  const std::string routes =
      "name: local\n"
      "virtual_hosts:\n"
      "- name: all\n"
      "  domains: [\"*\"]\n"
      "  routes:\n"
      "  - match: { prefix: \"/\" }\n"
      "    route: { cluster: backend, timeout: 0s }\n";
  auto remora = startRemora(proxyTo(backend.port(), "stream_idle_timeout: 0.3s\n", routes));
  HttpTestClient client(ingressPort(*remora), "127.0.0.1", 5s);
  REQUIRE(client.connected());
  const auto start = std::chrono::steady_clock::now();
  ClientResponse r = client.request(get("/"));
  CHECK(r.status == 408);
  CHECK(std::chrono::steady_clock::now() - start >= 250ms);
  CHECK(waitFor([&] { return remora->stat("http.ingress.downstream_rq_idle_timeout") == 1; }, 5s));
}

TEST_CASE("the connection manager counts requests by response class", "[http]") {
  HttpBackend backend("backend", [](const BackendRequest& q) {
    BackendReply reply;
    if (q.path == "/missing") reply.status = 404;
    if (q.path == "/broken") reply.status = 503;
    return reply;
  });
  auto remora = startRemora(proxyTo(backend.port()));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  CHECK(client.request(get("/ok")).status == 200);
  CHECK(client.request(get("/ok")).status == 200);
  CHECK(client.request(get("/missing")).status == 404);
  CHECK(client.request(get("/broken")).status == 503);
  CHECK(waitFor([&] { return remora->stat("http.ingress.downstream_rq_total") == 4; }, 5s));
  CHECK(remora->stat("http.ingress.downstream_rq_2xx") == 2);
  CHECK(remora->stat("http.ingress.downstream_rq_4xx") == 1);
  CHECK(remora->stat("http.ingress.downstream_rq_5xx") == 1);
}

TEST_CASE("a file access log without a format writes Envoy's default format line", "[http]") {
  TempDir dir;
  const std::string log = dir.file("access.log");
  HttpBackend backend;
  auto remora = startRemora(proxyTo(backend.port(), fileAccessLog(log)));
  HttpTestClient client(ingressPort(*remora));
  REQUIRE(client.connected());
  ClientRequest post = get("/logged?x=1");
  post.method = "POST";
  post.host = "logged.example";
  post.headers = {{"User-Agent", "remora-test/1.0"}};
  post.body = "hello";
  REQUIRE(client.request(post).status == 200);
  std::string line;
  CHECK(waitFor(
      [&] {
        line = readFile(log);
        return !line.empty() && line.back() == '\n';
      },
      10s, 20ms));
  if (!line.empty() && line.back() == '\n') line.pop_back();
  const std::regex expected(
      "^\\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z\\] "
      "\"POST /logged\\?x=1 HTTP/1\\.1\" 200 - 5 7 [0-9]+ [0-9]+ \"-\" \"remora-test/1\\.0\" "
      "\"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\" \"logged\\.example\" "
      "\"127\\.0\\.0\\.1:" +
      std::to_string(backend.port()) + "\"$");
  INFO("access log: " << line);
  CHECK(std::regex_match(line, expected));
}

}  // namespace
}  // namespace remora::testing
