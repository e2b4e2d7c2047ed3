// A cap on the bytes the real remora binary buffers: clients that stop reading large responses
// fill their connections' buffers up to per_connection_buffer_limit_bytes each, so without a cap
// the total grows with their number. With remora.resource_monitors.buffered_bytes, buffer
// accounting (buffer_factory_config) and envoy.overload_actions.reset_high_memory_stream, the
// streams holding the most are reset as the total crosses the limit, and other requests go on.
#include <sys/socket.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "test/support/endless_response_server.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/load_clients.h"
#include "test/support/process.h"
#include "test/support/rss_sampler.h"
#include "test/support/sanitizer.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kMiB = 1024 * 1024;
constexpr uint32_t kConnectionLimit = 4 * kMiB;  // per_connection_buffer_limit_bytes, both sides
constexpr int kStalled = 12;
constexpr char kResetCount[] = "overload.envoy.overload_actions.reset_high_memory_stream.count";

// 8 MiB at most, reset from 6 MiB (0.75); streams of 64 KiB and more are candidates.
constexpr char kCap[] = R"(
overload_manager:
  refresh_interval: 0.05s
  buffer_factory_config: { minimum_account_to_track_power_of_two: 16 }
  resource_monitors:
  - name: remora.resource_monitors.buffered_bytes
    typed_config:
      "@type": type.googleapis.com/remora.resource_monitors.v1.BufferedBytesConfig
      max_buffered_bytes: 8388608
  actions:
  - name: envoy.overload_actions.reset_high_memory_stream
    triggers:
    - name: remora.resource_monitors.buffered_bytes
      threshold: { value: 0.75 }
)";

std::string bootstrap(uint16_t backend, uint16_t endless, const std::string& log, bool cap) {
  ClusterSpec big = staticCluster("big", {endless});
  big.per_connection_buffer_limit_bytes = kConnectionLimit;
  const std::string routes = oneVirtualHost(
      "- match: { prefix: \"/big\" }\n"
      "  route: { cluster: big, timeout: 0s }\n"
      "- match: { prefix: \"/\" }\n"
      "  route: { cluster: backend }\n");
  return ingressBootstrap(
             routes, {staticCluster("backend", {backend}), big},
             fileAccessLog(log, "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %REQ(:PATH)%\\n"),
             kConnectionLimit) +
         (cap ? kCap : "");
}

// Clients that ask for an endless response and never read it. A small receive buffer keeps the
// kernel from absorbing what the proxy holds.
std::vector<std::unique_ptr<HttpTestClient>> stall(uint16_t port, int n) {
  std::vector<std::unique_ptr<HttpTestClient>> clients;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<HttpTestClient>(port, "127.0.0.1", 10s);
    REQUIRE(c->connected());
    const int rcvbuf = 16 * 1024;
    ::setsockopt(c->fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    REQUIRE(c->sendRaw("GET /big HTTP/1.1\r\nHost: backend\r\n\r\n"));
    clients.push_back(std::move(c));
  }
  return clients;
}

int64_t warmedBaseline(RemoraProcess& remora, uint16_t port) {
  for (int i = 0; i < 20; ++i) REQUIRE(fetch(port).status == 200);
  REQUIRE(waitFor([&] { return remora.stat("http.ingress.downstream_cx_active") == 0; }, 5s));
  return remora.process().rssKb();
}

size_t countLines(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST_CASE("a cap on buffered bytes resets the streams holding the most and spares the others",
          "[integration][overload]") {
  HttpBackend backend;
  EndlessResponseServer endless;
  TempDir dir;

  // Without a cap: each stalled stream holds up to its connections' limits, so the total grows
  // with their number. Only printed, for comparison; a sanitizer's RSS is not the proxy's.
  int64_t uncapped_growth_kb = 0;
  if (!kSanitized) {
    auto remora = startRemora(bootstrap(backend.port(), endless.port(), dir.file("a.log"), false));
    const uint16_t port = ingressPort(*remora);
    const int64_t base_kb = warmedBaseline(*remora, port);
    RssSampler sampler(remora->process());
    auto stalled = stall(port, kStalled);
    // Until three quarters of what the limits allow is held (or the deadline says otherwise).
    waitFor(
        [&] {
          return remora->process().rssKb() - base_kb > kStalled * kConnectionLimit / 1024 * 3 / 4;
        },
        20s, 20ms);
    uncapped_growth_kb = sampler.stop() - base_kb;
  }

  auto remora = startRemora(bootstrap(backend.port(), endless.port(), dir.file("b.log"), true));
  const uint16_t port = ingressPort(*remora);
  const int64_t base_kb = warmedBaseline(*remora, port);
  RssSampler sampler(remora->process());
  LoadClients others(port, 2);
  auto stalled = stall(port, kStalled);
  // Two stalled streams together pass the 6 MiB point, so at most one can be left standing.
  REQUIRE(waitFor([&] { return remora->stat(kResetCount) >= kStalled - 1; }, 30s));
  REQUIRE(others.waitForMore(100, 10s));
  int64_t resets = 0;
  CHECK(waitFor(
      [&] {
        resets = remora->stat(kResetCount);
        return remora->stat("http.ingress.downstream_cx_active") == 2 + kStalled - resets;
      },
      10s));
  others.stop();
  const int64_t peak_kb = sampler.stop();
  const std::string log_path = dir.file("b.log");
  // Each reset stream is logged as Envoy logs it: flag OM, details "overload".
  CHECK(waitFor(
      [&] {
        return countLines(readFile(log_path), "OM overload /big") == static_cast<size_t>(resets);
      },
      5s));
  CHECK(remora->stat("http.ingress.downstream_rq_tx_reset") >= resets);

  std::printf(
      "buffered bytes cap: %d stalled clients, %lld streams reset; remora RSS +%lld KiB at peak "
      "with a cap of 8 MiB (reset from 6 MiB), +%lld KiB without it; others: %s\n",
      kStalled, static_cast<long long>(resets), static_cast<long long>(peak_kb - base_kb),
      static_cast<long long>(uncapped_growth_kb), others.summary().c_str());
  for (const auto& f : others.firstFailures()) UNSCOPED_INFO(f);
  CHECK(others.failed() == 0);
  // Only /big streams grow past 64 KiB: no small request was ever a candidate.
  CHECK(countLines(readFile(log_path), "OM overload /\n") == 0);
  if (!kSanitized) {
    // 12 stalled streams at 4 MiB each would be 48 MiB; the cap holds the buffers near 6 MiB,
    // plus what one loop turn reads before the reset round runs.
    CHECK(peak_kb - base_kb < 16 * 1024);
  }
  // The streams that are left still get their bytes, and a new request is served.
  CHECK(fetch(port).status == 200);
  // Once every client is gone, nothing stays charged: no drift from resets, moves between
  // accounts or upstream connections returned to the pool.
  stalled.clear();
  CHECK(waitFor(
      [&] {
        return remora->stat("http.ingress.downstream_cx_active") == 0 &&
               remora->stat("overload.remora.resource_monitors.buffered_bytes.pressure") == 0;
      },
      10s));
}

TEST_CASE(
    "reset_high_memory_stream on a fixed_heap trigger resets large streams and spares small ones",
    "[integration][overload]") {
  // Envoy's own configuration shape: heap pressure (always saturated with a 1-byte heap here),
  // sampled every refresh_interval, resets every tracked stream; small requests stay untracked.
  HttpBackend backend;
  EndlessResponseServer endless;
  TempDir dir;
  auto remora = startRemora(bootstrap(backend.port(), endless.port(), dir.file("c.log"), false) +
                            R"(
overload_manager:
  refresh_interval: 0.05s
  buffer_factory_config: { minimum_account_to_track_power_of_two: 16 }
  resource_monitors:
  - name: envoy.resource_monitors.fixed_heap
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig
      max_heap_size_bytes: 1
  actions:
  - name: envoy.overload_actions.reset_high_memory_stream
    triggers: [{ name: envoy.resource_monitors.fixed_heap, threshold: { value: 0.9 } }]
)");
  const uint16_t port = ingressPort(*remora);
  HttpTestClient small(port);
  for (int i = 0; i < 20; ++i) REQUIRE(small.request(get()).status == 200);
  auto stalled = stall(port, 2);
  CHECK(statReaches(*remora, kResetCount, 2));
  CHECK(remora->stat("overload.envoy.overload_actions.reset_high_memory_stream.active") == 1);
  for (auto& c : stalled) CHECK(c->waitForClose(10s));
  for (int i = 0; i < 20; ++i) CHECK(small.request(get()).status == 200);
  CHECK(remora->stat(kResetCount) == 2);
  CHECK(waitFor([&] { return countLines(readFile(dir.file("c.log")), "OM overload /big") == 2; },
                5s));
}

}  // namespace
}  // namespace remora::testing
