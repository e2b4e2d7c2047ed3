// The overload manager turns heap pressure into action states and enforces the global connection
// limit; the heap is a fake here so that pressure can be set exactly.
#include <catch2/catch.hpp>

#include <vector>

#include "source/server/overload_manager.h"

namespace remora::server {
namespace {

OverloadConfig heapConfig(uint64_t max_heap) {
  OverloadConfig c;
  c.max_heap_size_bytes = max_heap;
  c.actions.push_back({"envoy.overload_actions.disable_http_keepalive",
                       OverloadActionKind::kDisableHttpKeepalive,
                       {{OverloadMonitor::kFixedHeap, 0.5, 0.5}}});
  c.actions.push_back({"envoy.overload_actions.stop_accepting_requests",
                       OverloadActionKind::kStopAcceptingRequests,
                       {{OverloadMonitor::kFixedHeap, 0.9, 0.9}}});
  c.actions.push_back({"envoy.overload_actions.stop_accepting_connections",
                       OverloadActionKind::kStopAcceptingConnections,
                       {{OverloadMonitor::kFixedHeap, 0.95, 0.95}}});
  c.actions.push_back({"envoy.overload_actions.reject_incoming_connections",
                       OverloadActionKind::kRejectIncomingConnections,
                       {{OverloadMonitor::kFixedHeap, 1.0, 1.0}}});
  return c;
}

TEST_CASE("heap pressure switches each action at its threshold and back", "[overload]") {
  event::Dispatcher main("main");
  stats::Store store;
  uint64_t heap = 100;
  std::vector<bool> accepting_calls;
  OverloadManager om(
      heapConfig(1000), main, store, [&](bool a) { accepting_calls.push_back(a); },
      [&] { return heap; });
  const auto& s = om.state();
  auto gauge = [&](const std::string& name) { return store.gauge("overload." + name).value(); };

  om.refresh();
  CHECK(gauge("envoy.resource_monitors.fixed_heap.pressure") == 10);
  CHECK_FALSE(s.disable_http_keepalive.load());
  CHECK_FALSE(s.stop_accepting_requests.load());

  heap = 500;  // Exactly at a threshold counts, as in Envoy.
  om.refresh();
  CHECK(s.disable_http_keepalive.load());
  CHECK(gauge("envoy.overload_actions.disable_http_keepalive.active") == 1);
  CHECK_FALSE(s.stop_accepting_requests.load());
  CHECK(accepting_calls.empty());

  heap = 960;
  om.refresh();
  CHECK(s.stop_accepting_requests.load());
  CHECK_FALSE(s.reject_incoming_connections.load());
  CHECK_FALSE(om.accepting());
  CHECK(accepting_calls == std::vector<bool>{false});

  heap = 5000;  // Pressure is capped at 1.
  om.refresh();
  CHECK(gauge("envoy.resource_monitors.fixed_heap.pressure") == 100);
  CHECK(s.reject_incoming_connections.load());
  CHECK(accepting_calls == std::vector<bool>{false});  // Only changes are told.

  heap = 10;
  om.refresh();
  CHECK_FALSE(s.disable_http_keepalive.load());
  CHECK_FALSE(s.stop_accepting_requests.load());
  CHECK_FALSE(s.reject_incoming_connections.load());
  CHECK(om.accepting());
  CHECK(accepting_calls == std::vector<bool>{false, true});
  CHECK(gauge("envoy.overload_actions.stop_accepting_requests.active") == 0);
}

TEST_CASE("start samples at once so the first connection already sees the state", "[overload]") {
  event::Dispatcher main("main");
  stats::Store store;
  OverloadManager om(heapConfig(1), main, store, nullptr, [] { return uint64_t{64}; });
  CHECK_FALSE(om.state().stop_accepting_requests.load());
  om.start();
  CHECK(om.state().stop_accepting_requests.load());
}

TEST_CASE("the global connection limit admits up to its maximum and frees on release",
          "[overload]") {
  event::Dispatcher main("main");
  stats::Store store;
  OverloadConfig c;
  c.global_max_connections = 2;
  OverloadManager om(c, main, store, nullptr, nullptr);
  CHECK(om.tryAcquireConnection());
  CHECK(om.tryAcquireConnection());
  CHECK_FALSE(om.tryAcquireConnection());
  CHECK(om.openConnections() == 2);
  om.releaseConnection();
  CHECK(om.tryAcquireConnection());
  CHECK_FALSE(om.tryAcquireConnection());
}

TEST_CASE("without a limit every connection is admitted", "[overload]") {
  event::Dispatcher main("main");
  stats::Store store;
  OverloadManager om(OverloadConfig{}, main, store, nullptr, nullptr);
  for (int i = 0; i < 1000; ++i) REQUIRE(om.tryAcquireConnection());
  om.start();  // No heap monitor: nothing to sample, and no timer.
  CHECK_FALSE(om.state().stop_accepting_requests.load());
}

TEST_CASE("buffered bytes pressure drives reset_high_memory_stream with its scaled value",
          "[overload]") {
  event::Dispatcher main("main");
  stats::Store store;
  OverloadConfig c;
  c.max_buffered_bytes = 1000;
  c.minimum_account_to_track_power_of_two = 10;
  c.actions.push_back({"envoy.overload_actions.reset_high_memory_stream",
                       OverloadActionKind::kResetHighMemoryStream,
                       {{OverloadMonitor::kBufferedBytes, 0.5, 1.0}}});
  c.actions.push_back({"envoy.overload_actions.stop_accepting_requests",
                       OverloadActionKind::kStopAcceptingRequests,
                       {{OverloadMonitor::kBufferedBytes, 0.95, 0.95}}});
  OverloadManager om(std::move(c), main, store, nullptr, [] { return uint64_t{0}; });
  uint64_t buffered = 0;
  std::vector<double> resets;
  om.setBufferedBytes([&] { return buffered; });
  om.setResetStreams([&](double v) { resets.push_back(v); });
  auto gauge = [&](const std::string& name) { return store.gauge("overload." + name).value(); };

  om.refresh();
  CHECK(resets.empty());
  CHECK(gauge("remora.resource_monitors.buffered_bytes.pressure") == 0);

  buffered = 750;  // Halfway from 0.5 to 1.0.
  om.refresh();
  REQUIRE(resets.size() == 1);
  CHECK(resets[0] == Approx(0.5));
  CHECK(gauge("envoy.overload_actions.reset_high_memory_stream.scale_percent") == 50);
  CHECK(gauge("envoy.overload_actions.reset_high_memory_stream.active") == 0);
  CHECK_FALSE(om.state().stop_accepting_requests.load());

  // Asked again on every refresh while the pressure lasts, not only when it changes.
  om.refresh();
  CHECK(resets.size() == 2);

  buffered = 1000;
  om.refresh();
  CHECK(resets.back() == 1.0);
  CHECK(gauge("envoy.overload_actions.reset_high_memory_stream.active") == 1);
  CHECK(om.state().stop_accepting_requests.load());
  CHECK(gauge("remora.resource_monitors.buffered_bytes.pressure") == 100);

  buffered = 100;
  om.refresh();
  CHECK(resets.size() == 3);
  CHECK_FALSE(om.state().stop_accepting_requests.load());
  CHECK(gauge("envoy.overload_actions.reset_high_memory_stream.scale_percent") == 0);
}

TEST_CASE("an action's value is the largest of its triggers'", "[overload]") {
  event::Dispatcher main("main");
  stats::Store store;
  OverloadConfig c;
  c.max_buffered_bytes = 1000;
  c.max_heap_size_bytes = 1000;
  c.actions.push_back(
      {"envoy.overload_actions.stop_accepting_requests",
       OverloadActionKind::kStopAcceptingRequests,
       {{OverloadMonitor::kBufferedBytes, 0.9, 0.9}, {OverloadMonitor::kFixedHeap, 0.9, 0.9}}});
  uint64_t heap = 0, buffered = 0;
  OverloadManager om(std::move(c), main, store, nullptr, [&] { return heap; });
  om.setBufferedBytes([&] { return buffered; });
  om.refresh();
  CHECK_FALSE(om.state().stop_accepting_requests.load());
  buffered = 950;
  om.refresh();
  CHECK(om.state().stop_accepting_requests.load());
  buffered = 0;
  heap = 950;
  om.refresh();
  CHECK(om.state().stop_accepting_requests.load());
  heap = 0;
  om.refresh();
  CHECK_FALSE(om.state().stop_accepting_requests.load());
}

}  // namespace
}  // namespace remora::server
