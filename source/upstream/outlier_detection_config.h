// Cluster.outlier_detection (envoy.config.cluster.v3.OutlierDetection), validated once and resolved
// to Envoy's defaults: the values upstream::OutlierDetector runs on.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/outlier_detection.pb.h"

namespace remora::upstream {

// Percentages are 0..100. A consecutive_* threshold of 0 never trips (Envoy takes 0 without saying
// what it means; counting up to it never reaches it there either).
struct OutlierDetectionConfig {
  std::chrono::milliseconds interval{10000};
  std::chrono::milliseconds base_ejection_time{30000};
  // An ejection lasts base_ejection_time × the host's ejection multiplier, capped at
  // max(max_ejection_time, base_ejection_time), plus a random [0, max_ejection_time_jitter].
  std::chrono::milliseconds max_ejection_time{300000};
  std::chrono::milliseconds max_ejection_time_jitter{0};
  uint32_t max_ejection_percent = 10;
  // Lets the first ejection through even when max_ejection_percent would refuse it.
  bool always_eject_one_host = false;

  uint32_t consecutive_5xx = 5;
  uint32_t enforcing_consecutive_5xx = 100;
  uint32_t consecutive_gateway_failure = 5;
  uint32_t enforcing_consecutive_gateway_failure = 0;

  uint32_t enforcing_success_rate = 100;
  uint32_t success_rate_minimum_hosts = 5;
  uint32_t success_rate_request_volume = 100;
  uint32_t success_rate_stdev_factor = 1900;  // Thousandths: 1900 is 1.9 standard deviations.

  uint32_t failure_percentage_threshold = 85;
  uint32_t enforcing_failure_percentage = 0;
  uint32_t failure_percentage_minimum_hosts = 5;
  uint32_t failure_percentage_request_volume = 50;

  // When false, connect failures, resets and timeouts count as 503/504 responses; when true they
  // are judged apart, by the three local-origin settings below.
  bool split_external_local_origin_errors = false;
  uint32_t consecutive_local_origin_failure = 5;
  uint32_t enforcing_consecutive_local_origin_failure = 100;
  uint32_t enforcing_local_origin_success_rate = 100;
  uint32_t enforcing_failure_percentage_local_origin = 0;

  bool successful_active_health_check_uneject_host = true;
};

// Validates `proto`; errors name the field under `path` (e.g.
// "static_resources.clusters[0].outlier_detection.max_ejection_percent: must be at most 100").
// `monitors` (not implemented in Envoy either) is refused.
absl::StatusOr<OutlierDetectionConfig> buildOutlierDetectionConfig(
    const envoy::config::cluster::v3::OutlierDetection& proto, const std::string& path);

}  // namespace remora::upstream
