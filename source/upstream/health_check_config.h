// One entry of Cluster.health_checks (envoy.config.core.v3.HealthCheck), validated once into the
// values upstream::HealthChecker runs on: intervals resolved to their defaults, payloads decoded.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/core/v3/health_check.pb.h"

namespace remora::upstream {

// A half-open range of HTTP statuses, [start, end).
struct StatusRange {
  int64_t start;
  int64_t end;
  bool contains(int status) const { return status >= start && status < end; }
};

struct HttpHealthCheckConfig {
  // A request header the check adds, with Envoy's append_action semantics.
  struct HeaderToAdd {
    enum class Action {
      kAppendIfExistsOrAdd,
      kAddIfAbsent,
      kOverwriteIfExistsOrAdd,
      kOverwriteIfExists
    };
    std::string key;  // Lowercase.
    std::string value;
    Action action = Action::kAppendIfExistsOrAdd;
    bool keep_empty_value = false;
  };

  std::string host;  // The Host header; empty: the cluster's name.
  std::string path;
  std::string method = "GET";
  // A status in one of these passes; default [200, 201).
  std::vector<StatusRange> expected_statuses;
  // A status in one of these (and in no expected range) fails like a network error, counting
  // towards unhealthy_threshold; any other status marks the host unhealthy at once.
  std::vector<StatusRange> retriable_statuses;
  std::vector<HeaderToAdd> request_headers_to_add;
  std::vector<std::string> request_headers_to_remove;  // Lowercase.
  // Blocks the body must contain, in this order though not necessarily adjacent, within its first
  // response_buffer_size bytes (0: the whole body). Empty: the body is not looked at.
  std::vector<std::string> receive;
  uint64_t response_buffer_size = 1024;

  bool expects(int status) const;
  bool retriable(int status) const;
};

struct TcpHealthCheckConfig {
  // Both empty: the check is the connect alone. Otherwise `send` is written once connected and the
  // check passes when what comes back contains every `receive` block, in order.
  std::string send;
  std::vector<std::string> receive;
};

struct HealthCheckConfig {
  enum class Kind { kHttp, kTcp };

  Kind kind = Kind::kTcp;
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds interval{0};
  // The first check of a host waits a random time in [0, initial_jitter).
  std::chrono::milliseconds initial_jitter{0};
  // Every wait grows by a random time in [0, interval_jitter) and another in
  // [0, wait * interval_jitter_percent / 100).
  std::chrono::milliseconds interval_jitter{0};
  uint32_t interval_jitter_percent = 0;
  uint32_t unhealthy_threshold = 1;
  uint32_t healthy_threshold = 1;
  bool reuse_connection = true;
  // While the cluster has had no traffic this replaces every other interval; once a host passes,
  // no_traffic_healthy_interval (when set) replaces it for that host.
  std::chrono::milliseconds no_traffic_interval{60000};
  std::optional<std::chrono::milliseconds> no_traffic_healthy_interval;
  // Resolved to their defaults: unhealthy_interval → interval; unhealthy_edge_interval →
  // unhealthy_interval; healthy_edge_interval → interval.
  std::chrono::milliseconds unhealthy_interval{0};
  std::chrono::milliseconds unhealthy_edge_interval{0};
  std::chrono::milliseconds healthy_edge_interval{0};

  HttpHealthCheckConfig http;  // kHttp only.
  TcpHealthCheckConfig tcp;    // kTcp only.
};

// Validates `proto`; errors name the field under `path` (e.g.
// "static_resources.clusters[0].health_checks[1].interval: required"). gRPC and custom checks are
// refused, as are settings that would make the check mean something else than in Envoy (HTTP/2,
// CONNECT, header formatters).
absl::StatusOr<HealthCheckConfig> buildHealthCheckConfig(
    const envoy::config::core::v3::HealthCheck& proto, const std::string& path);

}  // namespace remora::upstream
