// buildOutlierDetectionConfig(): Envoy's OutlierDetection with Envoy's defaults, and refusals that
// name the offending field.
#include <catch2/catch.hpp>

#include <string>

#include "source/config/yaml_to_proto.h"
#include "source/upstream/outlier_detection_config.h"
#include "test/support/yaml_build.h"

namespace remora::upstream {
namespace {

using std::chrono::milliseconds;

const std::string kPath = "static_resources.clusters[0].outlier_detection";

absl::StatusOr<OutlierDetectionConfig> build(const std::string& yaml) {
  return testing::buildFromYaml<envoy::config::cluster::v3::OutlierDetection>(
      yaml, kPath, buildOutlierDetectionConfig);
}
OutlierDetectionConfig valid(const std::string& yaml) { return testing::requireBuilt(build(yaml)); }
std::string errorOf(const std::string& yaml) { return testing::requireRefused(build(yaml)); }

TEST_CASE("an empty outlier_detection takes every one of Envoy's defaults", "[outlier]") {
  const OutlierDetectionConfig c = valid("{}");
  CHECK(c.consecutive_5xx == 5);
  CHECK(c.interval == milliseconds(10000));
  CHECK(c.base_ejection_time == milliseconds(30000));
  CHECK(c.max_ejection_percent == 10);
  CHECK(c.enforcing_consecutive_5xx == 100);
  CHECK(c.enforcing_success_rate == 100);
  CHECK(c.success_rate_minimum_hosts == 5);
  CHECK(c.success_rate_request_volume == 100);
  CHECK(c.success_rate_stdev_factor == 1900);
  CHECK(c.consecutive_gateway_failure == 5);
  CHECK(c.enforcing_consecutive_gateway_failure == 0);
  CHECK_FALSE(c.split_external_local_origin_errors);
  CHECK(c.consecutive_local_origin_failure == 5);
  CHECK(c.enforcing_consecutive_local_origin_failure == 100);
  CHECK(c.enforcing_local_origin_success_rate == 100);
  CHECK(c.failure_percentage_threshold == 85);
  CHECK(c.enforcing_failure_percentage == 0);
  CHECK(c.enforcing_failure_percentage_local_origin == 0);
  CHECK(c.failure_percentage_minimum_hosts == 5);
  CHECK(c.failure_percentage_request_volume == 50);
  CHECK(c.max_ejection_time == milliseconds(300000));
  CHECK(c.max_ejection_time_jitter == milliseconds(0));
  CHECK(c.successful_active_health_check_uneject_host);
  CHECK_FALSE(c.always_eject_one_host);
}

TEST_CASE("every outlier_detection field set is taken as given", "[outlier]") {
  const OutlierDetectionConfig c = valid(R"(
consecutive_5xx: 7
interval: 2s
base_ejection_time: 0.5s
max_ejection_percent: 50
enforcing_consecutive_5xx: 90
enforcing_success_rate: 80
success_rate_minimum_hosts: 3
success_rate_request_volume: 20
success_rate_stdev_factor: 1000
consecutive_gateway_failure: 4
enforcing_consecutive_gateway_failure: 70
split_external_local_origin_errors: true
consecutive_local_origin_failure: 6
enforcing_consecutive_local_origin_failure: 60
enforcing_local_origin_success_rate: 50
failure_percentage_threshold: 40
enforcing_failure_percentage: 30
enforcing_failure_percentage_local_origin: 20
failure_percentage_minimum_hosts: 2
failure_percentage_request_volume: 10
max_ejection_time: 60s
max_ejection_time_jitter: 0.25s
successful_active_health_check_uneject_host: false
always_eject_one_host: true
)");
  CHECK(c.consecutive_5xx == 7);
  CHECK(c.interval == milliseconds(2000));
  CHECK(c.base_ejection_time == milliseconds(500));
  CHECK(c.max_ejection_percent == 50);
  CHECK(c.enforcing_consecutive_5xx == 90);
  CHECK(c.enforcing_success_rate == 80);
  CHECK(c.success_rate_minimum_hosts == 3);
  CHECK(c.success_rate_request_volume == 20);
  CHECK(c.success_rate_stdev_factor == 1000);
  CHECK(c.consecutive_gateway_failure == 4);
  CHECK(c.enforcing_consecutive_gateway_failure == 70);
  CHECK(c.split_external_local_origin_errors);
  CHECK(c.consecutive_local_origin_failure == 6);
  CHECK(c.enforcing_consecutive_local_origin_failure == 60);
  CHECK(c.enforcing_local_origin_success_rate == 50);
  CHECK(c.failure_percentage_threshold == 40);
  CHECK(c.enforcing_failure_percentage == 30);
  CHECK(c.enforcing_failure_percentage_local_origin == 20);
  CHECK(c.failure_percentage_minimum_hosts == 2);
  CHECK(c.failure_percentage_request_volume == 10);
  CHECK(c.max_ejection_time == milliseconds(60000));
  CHECK(c.max_ejection_time_jitter == milliseconds(250));
  CHECK_FALSE(c.successful_active_health_check_uneject_host);
  CHECK(c.always_eject_one_host);
}

TEST_CASE("a consecutive threshold of 0 is accepted", "[outlier]") {
  const OutlierDetectionConfig c = valid("consecutive_5xx: 0\nconsecutive_gateway_failure: 0\n");
  CHECK(c.consecutive_5xx == 0);
  CHECK(c.consecutive_gateway_failure == 0);
}

TEST_CASE("percentages of exactly 0 and 100 are accepted", "[outlier]") {
  const OutlierDetectionConfig c = valid("max_ejection_percent: 100\nenforcing_success_rate: 0\n");
  CHECK(c.max_ejection_percent == 100);
  CHECK(c.enforcing_success_rate == 0);
}

TEST_CASE("every percentage above 100 is refused naming its field", "[outlier]") {
  const char* fields[] = {
      "max_ejection_percent",
      "enforcing_consecutive_5xx",
      "enforcing_success_rate",
      "enforcing_consecutive_gateway_failure",
      "enforcing_consecutive_local_origin_failure",
      "enforcing_local_origin_success_rate",
      "failure_percentage_threshold",
      "enforcing_failure_percentage",
      "enforcing_failure_percentage_local_origin",
  };
  for (const char* field : fields) {
    INFO(field);
    CHECK(errorOf(std::string(field) + ": 101\n") == kPath + "." + field + ": must be at most 100");
  }
}

TEST_CASE("max_ejection_percent above 100 names the cluster's field path", "[outlier]") {
  CHECK(errorOf("max_ejection_percent: 150\n") ==
        "static_resources.clusters[0].outlier_detection.max_ejection_percent: must be at most 100");
}

TEST_CASE("interval must be positive", "[outlier]") {
  CHECK(errorOf("interval: 0s\n") == kPath + ".interval: must be greater than 0s");
  CHECK(errorOf("interval: -1s\n") == kPath + ".interval: must be greater than 0s");
}

TEST_CASE("interval shorter than a millisecond is refused", "[outlier]") {
  CHECK(errorOf("interval: 0.0001s\n") == kPath + ".interval: must be at least 1ms");
}

TEST_CASE("base_ejection_time must be positive", "[outlier]") {
  CHECK(errorOf("base_ejection_time: 0s\n") ==
        kPath + ".base_ejection_time: must be greater than 0s");
}

TEST_CASE("max_ejection_time must be positive when set", "[outlier]") {
  CHECK(errorOf("max_ejection_time: 0s\n") ==
        kPath + ".max_ejection_time: must be greater than 0s");
}

TEST_CASE("max_ejection_time_jitter must not be negative", "[outlier]") {
  CHECK(errorOf("max_ejection_time_jitter: -1s\n") ==
        kPath + ".max_ejection_time_jitter: must not be negative");
  CHECK(valid("max_ejection_time_jitter: 0s\n").max_ejection_time_jitter == milliseconds(0));
}

TEST_CASE("monitors are not supported", "[outlier]") {
  envoy::config::cluster::v3::OutlierDetection proto;
  proto.add_monitors()->set_name("envoy.outlier_detection_monitors.consecutive_errors");
  auto built = buildOutlierDetectionConfig(proto, kPath);
  REQUIRE_FALSE(built.ok());
  CHECK(built.status().message() == kPath + ".monitors: not supported");
}

TEST_CASE("an empty path reports the bare field name", "[outlier]") {
  envoy::config::cluster::v3::OutlierDetection proto;
  proto.mutable_max_ejection_percent()->set_value(101);
  auto built = buildOutlierDetectionConfig(proto, "");
  REQUIRE_FALSE(built.ok());
  CHECK(built.status().message() == "max_ejection_percent: must be at most 100");
}

}  // namespace
}  // namespace remora::upstream
