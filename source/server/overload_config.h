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

enum class OverloadActionKind {
  kStopAcceptingRequests,      // New requests get 503 "envoy overloaded".
  kDisableHttpKeepalive,       // HTTP/1 responses carry Connection: close.
  kStopAcceptingConnections,   // Listeners stop calling accept(); the kernel backlog holds.
  kRejectIncomingConnections,  // Connections are accepted and closed at once.
};

struct OverloadActionConfig {
  std::string name;  // Envoy's name, e.g. "envoy.overload_actions.stop_accepting_requests".
  OverloadActionKind kind;
  double threshold;  // Active while fixed_heap pressure is at or above this, in [0, 1].
};

struct OverloadConfig {
  std::chrono::milliseconds refresh_interval{1000};
  // envoy.resource_monitors.fixed_heap: pressure is heap bytes in use / this.
  std::optional<uint64_t> max_heap_size_bytes;
  std::vector<OverloadActionConfig> actions;
  // envoy.resource_monitors.global_downstream_max_connections, or the older runtime key
  // overload.global_downstream_max_connections (the monitor wins when both are set).
  std::optional<uint64_t> global_max_connections;
  // Runtime envoy.resource_limits.listener.<name>.connection_limit, by listener name.
  absl::flat_hash_map<std::string, uint64_t> listener_connection_limits;

  bool hasHeapMonitor() const { return max_heap_size_bytes.has_value(); }
};

// Errors name the field, e.g.
// "overload_manager.actions[0].triggers[0].name: unknown resource monitor 'x'". Monitors and
// actions Remora does not implement are warnings in `report`, as other unsupported fields are.
absl::StatusOr<OverloadConfig> parseOverloadConfig(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, config::ParseReport& report);

}  // namespace remora::server
