#include "source/server/overload_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace remora::server {

OverloadManager::OverloadManager(OverloadConfig config, event::Dispatcher& main,
                                 stats::Store& store, std::function<void(bool)> set_accepting,
                                 HeapBytes heap_bytes)
    : config_(std::move(config)),
      set_accepting_(std::move(set_accepting)),
      heap_bytes_(std::move(heap_bytes)) {
  if (config_.global_max_connections) connections_.setMax(*config_.global_max_connections);
  if (config_.hasHeapMonitor()) {
    heap_pressure_ = &store.gauge(absl::StrCat("overload.", kFixedHeapMonitor, ".pressure"));
    timer_ = main.createTimer([this] {
      refresh();
      timer_->enable(config_.refresh_interval);
    });
  }
  for (const auto& a : config_.actions) {
    active_[static_cast<int>(a.kind)] = &store.gauge(absl::StrCat("overload.", a.name, ".active"));
  }
}

void OverloadManager::start() {
  if (timer_ == nullptr) return;
  refresh();
  timer_->enable(config_.refresh_interval);
}

void OverloadManager::refresh() {
  if (!config_.hasHeapMonitor()) return;
  const double pressure = std::min(
      1.0, static_cast<double>(heap_bytes_()) / static_cast<double>(*config_.max_heap_size_bytes));
  heap_pressure_->set(static_cast<int64_t>(pressure * 100));
  bool active[4] = {};
  for (const auto& a : config_.actions) {
    if (pressure >= a.threshold) active[static_cast<int>(a.kind)] = true;
  }
  for (int k = 0; k < 4; ++k) {
    if (active_[k] != nullptr) active_[k]->set(active[k] ? 1 : 0);
  }
  auto publish = [&](std::atomic<bool>& flag, OverloadActionKind kind, const char* what) {
    const bool on = active[static_cast<int>(kind)];
    if (flag.load(std::memory_order_relaxed) != on) {
      spdlog::warn("overload: heap pressure {:.2f}: {} {}", pressure, what, on ? "on" : "off");
      flag.store(on, std::memory_order_relaxed);
    }
  };
  publish(state_.stop_accepting_requests, OverloadActionKind::kStopAcceptingRequests,
          "stop_accepting_requests");
  publish(state_.disable_http_keepalive, OverloadActionKind::kDisableHttpKeepalive,
          "disable_http_keepalive");
  publish(state_.reject_incoming_connections, OverloadActionKind::kRejectIncomingConnections,
          "reject_incoming_connections");
  const bool accept = !active[static_cast<int>(OverloadActionKind::kStopAcceptingConnections)];
  if (accept != accepting_) {
    accepting_ = accept;
    spdlog::warn("overload: heap pressure {:.2f}: {} new connections", pressure,
                 accept ? "accepting" : "not accepting");
    if (set_accepting_) set_accepting_(accept);
  }
}

}  // namespace remora::server
