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
  if (config_.max_heap_size_bytes) {
    pressure_[static_cast<int>(OverloadMonitor::kFixedHeap)] =
        &store.gauge(absl::StrCat("overload.", kFixedHeapMonitor, ".pressure"));
  }
  if (config_.max_buffered_bytes) {
    pressure_[static_cast<int>(OverloadMonitor::kBufferedBytes)] =
        &store.gauge(absl::StrCat("overload.", kBufferedBytesMonitor, ".pressure"));
  }
  if (config_.hasSampledMonitor()) {
    timer_ = main.createTimer([this] {
      refresh();
      timer_->enable(config_.refresh_interval);
    });
  }
  for (const auto& a : config_.actions) {
    const int k = static_cast<int>(a.kind);
    active_[k] = &store.gauge(absl::StrCat("overload.", a.name, ".active"));
    scale_percent_[k] = &store.gauge(absl::StrCat("overload.", a.name, ".scale_percent"));
  }
}

void OverloadManager::start() {
  if (timer_ == nullptr) return;
  refresh();
  timer_->enable(config_.refresh_interval);
}

namespace {
double fraction(uint64_t used, uint64_t max) {
  return std::min(1.0, static_cast<double>(used) / static_cast<double>(max));
}
}  // namespace

void OverloadManager::refresh() {
  if (!config_.hasSampledMonitor()) return;
  double pressure[kSampledMonitors] = {};
  if (config_.max_heap_size_bytes) {
    pressure[static_cast<int>(OverloadMonitor::kFixedHeap)] =
        fraction(heap_bytes_(), *config_.max_heap_size_bytes);
  }
  if (config_.max_buffered_bytes) {
    pressure[static_cast<int>(OverloadMonitor::kBufferedBytes)] =
        fraction(buffered_bytes_ ? buffered_bytes_() : 0, *config_.max_buffered_bytes);
  }
  for (int m = 0; m < kSampledMonitors; ++m) {
    if (pressure_[m] != nullptr) pressure_[m]->set(static_cast<int64_t>(pressure[m] * 100));
  }
  // Envoy's action value: the largest of its triggers' values.
  double value[kActionKinds] = {};
  for (const auto& a : config_.actions) {
    double& v = value[static_cast<int>(a.kind)];
    for (const auto& t : a.triggers) {
      v = std::max(v, t.value(pressure[static_cast<int>(t.monitor)]));
    }
  }
  bool active[kActionKinds] = {};
  for (int k = 0; k < kActionKinds; ++k) {
    active[k] = value[k] >= 1.0;
    if (active_[k] != nullptr) active_[k]->set(active[k] ? 1 : 0);
    if (scale_percent_[k] != nullptr) scale_percent_[k]->set(static_cast<int64_t>(value[k] * 100));
  }
  auto publish = [&](std::atomic<bool>& flag, OverloadActionKind kind, const char* what) {
    const bool on = active[static_cast<int>(kind)];
    if (flag.load(std::memory_order_relaxed) != on) {
      spdlog::warn("overload: {} {}", what, on ? "on" : "off");
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
    spdlog::warn("overload: {} new connections", accept ? "accepting" : "not accepting");
    if (set_accepting_) set_accepting_(accept);
  }
  // Every refresh while pressure lasts, not only when the value changes: streams that grew since
  // the last round are reset too, so the total keeps being pushed back under the limit.
  const double reset = value[static_cast<int>(OverloadActionKind::kResetHighMemoryStream)];
  if (reset > 0 && reset_streams_) reset_streams_(reset);
}

}  // namespace remora::server
