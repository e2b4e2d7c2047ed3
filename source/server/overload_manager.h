// Envoy's overload manager, for the monitors and actions in overload_config.h. Heap pressure is
// sampled on the main thread every refresh_interval and turned into action states that workers
// read with relaxed loads; the global connection limit is a counter every worker's accept path
// takes from.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "api/network/overload_state.h"
#include "source/event/dispatcher.h"
#include "source/server/overload_config.h"
#include "source/stats/store.h"

namespace remora::server {

class OverloadManager {
 public:
  using HeapBytes = std::function<uint64_t()>;
  // `set_accepting` runs on the main thread when stop_accepting_connections changes.
  OverloadManager(OverloadConfig config, event::Dispatcher& main, stats::Store& store,
                  std::function<void(bool accepting)> set_accepting, HeapBytes heap_bytes);

  // Samples once at once (so the first connection already sees the state), then periodically.
  void start();
  // One sampling round.
  void refresh();

  const network::OverloadState& state() const { return state_; }
  bool accepting() const { return accepting_; }
  const OverloadConfig& config() const { return config_; }

  // Any thread. False when the global limit is reached; the connection must then be closed.
  bool tryAcquireConnection() {
    if (!config_.global_max_connections) return true;
    uint64_t open = open_connections_.fetch_add(1, std::memory_order_relaxed);
    if (open < *config_.global_max_connections) return true;
    open_connections_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void releaseConnection() {
    if (config_.global_max_connections) open_connections_.fetch_sub(1, std::memory_order_relaxed);
  }
  uint64_t openConnections() const { return open_connections_.load(std::memory_order_relaxed); }

 private:
  OverloadConfig config_;
  std::function<void(bool)> set_accepting_;
  HeapBytes heap_bytes_;
  network::OverloadState state_;
  bool accepting_ = true;
  std::atomic<uint64_t> open_connections_{0};
  stats::Gauge* heap_pressure_ = nullptr;  // Percent, as Envoy's overload.<monitor>.pressure.
  // overload.<action>.active, by OverloadActionKind.
  stats::Gauge* active_[4] = {};
  event::TimerPtr timer_;
};

}  // namespace remora::server
