#include "source/upstream/outlier_detection_config.h"

#include "source/config/duration_fields.h"
#include "source/config/field_path.h"

namespace remora::upstream {

namespace {

using config::fieldPath;
using config::invalidAt;
using envoy::config::cluster::v3::OutlierDetection;
using std::chrono::milliseconds;

// Left alone when unset.
absl::Status positiveDuration(bool has, const google::protobuf::Duration& d,
                              const std::string& path, milliseconds& out) {
  return has ? config::positiveMillis(d, path, out) : absl::OkStatus();
}

absl::Status nonNegativeDuration(bool has, const google::protobuf::Duration& d,
                                 const std::string& path, milliseconds& out) {
  return has ? config::nonNegativeMillis(d, path, out) : absl::OkStatus();
}

void count(bool has, const google::protobuf::UInt32Value& value, uint32_t& out) {
  if (has) out = value.value();
}

absl::Status percent(bool has, const google::protobuf::UInt32Value& value, const std::string& path,
                     uint32_t& out) {
  if (!has) return absl::OkStatus();
  if (value.value() > 100) return invalidAt(path, "must be at most 100");
  out = value.value();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OutlierDetectionConfig> buildOutlierDetectionConfig(const OutlierDetection& proto,
                                                                   const std::string& path) {
  OutlierDetectionConfig c;
  // Each entry is (has, value, name, out); the first failure is the one reported, in field order.
  const struct {
    bool has;
    const google::protobuf::UInt32Value& value;
    const char* name;
    uint32_t& out;
  } percents[] = {
      {proto.has_max_ejection_percent(), proto.max_ejection_percent(), "max_ejection_percent",
       c.max_ejection_percent},
      {proto.has_enforcing_consecutive_5xx(), proto.enforcing_consecutive_5xx(),
       "enforcing_consecutive_5xx", c.enforcing_consecutive_5xx},
      {proto.has_enforcing_success_rate(), proto.enforcing_success_rate(), "enforcing_success_rate",
       c.enforcing_success_rate},
      {proto.has_enforcing_consecutive_gateway_failure(),
       proto.enforcing_consecutive_gateway_failure(), "enforcing_consecutive_gateway_failure",
       c.enforcing_consecutive_gateway_failure},
      {proto.has_enforcing_consecutive_local_origin_failure(),
       proto.enforcing_consecutive_local_origin_failure(),
       "enforcing_consecutive_local_origin_failure", c.enforcing_consecutive_local_origin_failure},
      {proto.has_enforcing_local_origin_success_rate(), proto.enforcing_local_origin_success_rate(),
       "enforcing_local_origin_success_rate", c.enforcing_local_origin_success_rate},
      {proto.has_failure_percentage_threshold(), proto.failure_percentage_threshold(),
       "failure_percentage_threshold", c.failure_percentage_threshold},
      {proto.has_enforcing_failure_percentage(), proto.enforcing_failure_percentage(),
       "enforcing_failure_percentage", c.enforcing_failure_percentage},
      {proto.has_enforcing_failure_percentage_local_origin(),
       proto.enforcing_failure_percentage_local_origin(),
       "enforcing_failure_percentage_local_origin", c.enforcing_failure_percentage_local_origin},
  };
  for (const auto& p : percents) {
    if (absl::Status s = percent(p.has, p.value, fieldPath(path, p.name), p.out); !s.ok()) {
      return s;
    }
  }

  if (absl::Status s = positiveDuration(proto.has_interval(), proto.interval(),
                                        fieldPath(path, "interval"), c.interval);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          positiveDuration(proto.has_base_ejection_time(), proto.base_ejection_time(),
                           fieldPath(path, "base_ejection_time"), c.base_ejection_time);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = positiveDuration(proto.has_max_ejection_time(), proto.max_ejection_time(),
                                        fieldPath(path, "max_ejection_time"), c.max_ejection_time);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = nonNegativeDuration(
          proto.has_max_ejection_time_jitter(), proto.max_ejection_time_jitter(),
          fieldPath(path, "max_ejection_time_jitter"), c.max_ejection_time_jitter);
      !s.ok()) {
    return s;
  }

  count(proto.has_consecutive_5xx(), proto.consecutive_5xx(), c.consecutive_5xx);
  count(proto.has_consecutive_gateway_failure(), proto.consecutive_gateway_failure(),
        c.consecutive_gateway_failure);
  count(proto.has_consecutive_local_origin_failure(), proto.consecutive_local_origin_failure(),
        c.consecutive_local_origin_failure);
  count(proto.has_success_rate_minimum_hosts(), proto.success_rate_minimum_hosts(),
        c.success_rate_minimum_hosts);
  count(proto.has_success_rate_request_volume(), proto.success_rate_request_volume(),
        c.success_rate_request_volume);
  count(proto.has_success_rate_stdev_factor(), proto.success_rate_stdev_factor(),
        c.success_rate_stdev_factor);
  count(proto.has_failure_percentage_minimum_hosts(), proto.failure_percentage_minimum_hosts(),
        c.failure_percentage_minimum_hosts);
  count(proto.has_failure_percentage_request_volume(), proto.failure_percentage_request_volume(),
        c.failure_percentage_request_volume);

  c.split_external_local_origin_errors = proto.split_external_local_origin_errors();
  if (proto.has_successful_active_health_check_uneject_host()) {
    c.successful_active_health_check_uneject_host =
        proto.successful_active_health_check_uneject_host().value();
  }
  if (proto.has_always_eject_one_host()) {
    c.always_eject_one_host = proto.always_eject_one_host().value();
  }
  if (proto.monitors_size() > 0) {
    return invalidAt(fieldPath(path, "monitors"), "not supported");
  }
  return c;
}

}  // namespace remora::upstream
