// The bootstrap's overload_manager and the runtime keys that limit connections, checked once and
// turned into what the overload manager and the workers' accept paths need.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "source/config/yaml_to_proto.h"

namespace remora::server {

inline constexpr char kFixedHeapMonitor[] = "envoy.resource_monitors.fixed_heap";
inline constexpr char kGlobalConnectionsMonitor[] =
    "envoy.resource_monitors.global_downstream_max_connections";
// Remora's own: bytes held in every connection and stream buffer (BufferedBytesConfig).
inline constexpr char kBufferedBytesMonitor[] = "remora.resource_monitors.buffered_bytes";

// The monitors that can trigger actions, sampled every refresh_interval.
enum class OverloadMonitor { kFixedHeap, kBufferedBytes };
inline constexpr int kSampledMonitors = 2;

enum class OverloadActionKind {
  kStopAcceptingRequests,      // New requests get 503 "envoy overloaded".
  kDisableHttpKeepalive,       // HTTP/1 responses carry Connection: close.
  kStopAcceptingConnections,   // Listeners stop calling accept(); the kernel backlog holds.
  kRejectIncomingConnections,  // Connections are accepted and closed at once.
  kResetHighMemoryStream,      // Streams holding the most buffered bytes are reset.
};
inline constexpr int kActionKinds = 5;

// A threshold trigger is a scaled one whose two thresholds are equal.
struct OverloadTrigger {
  OverloadMonitor monitor;
  double scaling_threshold;     // Above this pressure the trigger's value rises from 0 ...
  double saturation_threshold;  // ... to 1 (saturated) at this one.

  // Envoy's trigger value for a monitor's pressure, in [0, 1].
  double value(double pressure) const {
    if (pressure >= saturation_threshold) return 1.0;
    if (pressure <= scaling_threshold) return 0.0;
    return (pressure - scaling_threshold) / (saturation_threshold - scaling_threshold);
  }
};

struct OverloadActionConfig {
  std::string name;  // Envoy's name, e.g. "envoy.overload_actions.stop_accepting_requests".
  OverloadActionKind kind;
  // The action's value is the largest of its triggers'. reset_high_memory_stream uses the value
  // itself; the other actions apply while it is 1 (saturated).
  std::vector<OverloadTrigger> triggers;
};

struct OverloadConfig {
  std::chrono::milliseconds refresh_interval{1000};
  // envoy.resource_monitors.fixed_heap: pressure is heap bytes in use / this.
  std::optional<uint64_t> max_heap_size_bytes;
  // remora.resource_monitors.buffered_bytes: pressure is bytes buffered / this.
  std::optional<uint64_t> max_buffered_bytes;
  // buffer_factory_config.minimum_account_to_track_power_of_two.
  std::optional<uint32_t> minimum_account_to_track_power_of_two;
  std::vector<OverloadActionConfig> actions;
  // envoy.resource_monitors.global_downstream_max_connections, or the older runtime key
  // overload.global_downstream_max_connections (the monitor wins when both are set).
  std::optional<uint64_t> global_max_connections;
  // Runtime envoy.resource_limits.listener.<name>.connection_limit, by listener name.
  absl::flat_hash_map<std::string, uint64_t> listener_connection_limits;

  bool hasHeapMonitor() const { return max_heap_size_bytes.has_value(); }
  // Whether connections and streams must account for their buffers.
  bool needsBufferAccounting() const {
    return max_buffered_bytes.has_value() || minimum_account_to_track_power_of_two.has_value();
  }
  // The buffered bytes at which reset_high_memory_stream saturates on the buffered_bytes monitor
  // (its lowest such saturation point), if it has such a trigger. Workers enforce their share of
  // it as bytes are buffered, without waiting for a refresh.
  std::optional<uint64_t> bufferedResetBytes() const;
  bool hasSampledMonitor() const {
    return max_heap_size_bytes.has_value() || max_buffered_bytes.has_value();
  }
};

// Errors name the field, e.g.
// "overload_manager.actions[0].triggers[0].name: unknown resource monitor 'x'". Monitors and
// actions Remora does not implement are warnings in `report`, as other unsupported fields are.
absl::StatusOr<OverloadConfig> parseOverloadConfig(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, config::ParseReport& report);

}  // namespace remora::server
