// Envoy's overload manager, for the monitors and actions in overload_config.h. Heap and
// buffered-bytes pressure are sampled on the main thread every refresh_interval and turned into
// action states that workers read with relaxed loads (reset_high_memory_stream is posted to them
// instead); the global connection limit is a counter every worker's accept path takes from.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "api/network/overload_state.h"
#include "source/event/dispatcher.h"
#include "source/server/connection_limit.h"
#include "source/server/overload_config.h"
#include "source/stats/store.h"

namespace remora::server {

class OverloadManager {
 public:
  using HeapBytes = std::function<uint64_t()>;
  using BufferedBytes = std::function<uint64_t()>;
  // Runs on the main thread with reset_high_memory_stream's value, every refresh while above 0.
  using ResetStreams = std::function<void(double value)>;
  // `set_accepting` runs on the main thread when stop_accepting_connections changes.
  OverloadManager(OverloadConfig config, event::Dispatcher& main, stats::Store& store,
                  std::function<void(bool accepting)> set_accepting, HeapBytes heap_bytes);

  // Before start(): where the buffered_bytes monitor reads, and what resets streams.
  void setBufferedBytes(BufferedBytes f) { buffered_bytes_ = std::move(f); }
  void setResetStreams(ResetStreams f) { reset_streams_ = std::move(f); }

  // Samples once at once (so the first connection already sees the state), then periodically.
  void start();
  // One sampling round.
  void refresh();

  const network::OverloadState& state() const { return state_; }
  bool accepting() const { return accepting_; }
  const OverloadConfig& config() const { return config_; }

  // Any thread. False when the global limit is reached; the connection must then be closed.
  bool tryAcquireConnection() { return connections_.tryAcquire(); }
  void releaseConnection() { connections_.release(); }
  uint64_t openConnections() const { return connections_.open(); }

 private:
  OverloadConfig config_;
  std::function<void(bool)> set_accepting_;
  HeapBytes heap_bytes_;
  BufferedBytes buffered_bytes_;
  ResetStreams reset_streams_;
  network::OverloadState state_;
  bool accepting_ = true;
  ConnectionLimit connections_;
  // overload.<monitor>.pressure in percent, by OverloadMonitor; null for monitors not configured.
  stats::Gauge* pressure_[kSampledMonitors] = {};
  // overload.<action>.active and .scale_percent, by OverloadActionKind.
  stats::Gauge* active_[kActionKinds] = {};
  stats::Gauge* scale_percent_[kActionKinds] = {};
  event::TimerPtr timer_;
};

}  // namespace remora::server
