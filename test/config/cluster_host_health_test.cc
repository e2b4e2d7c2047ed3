// Cluster.health_checks and outlier_detection as buildCluster() reads them: validated with their
// field paths, with fingerprints that tell a changed setting from the same one in a new cluster
// version.
#include <catch2/catch.hpp>

#include "source/config/cluster_builder.h"
#include "source/upstream/health_check_config.h"
#include "source/upstream/outlier_detection_config.h"
#include "test/config/cluster_build_fixture.h"

namespace remora::config {
namespace {

constexpr char kTcpCheck[] =
    "health_checks:\n- {timeout: 1s, interval: 2s, unhealthy_threshold: 3, healthy_threshold: 2,"
    " tcp_health_check: {}}\n";

TEST_CASE("a cluster without health_checks has no checker config", "[config]") {
  Built b = build("");
  REQUIRE(b.cluster.ok());
  CHECK((*b.cluster)->health_check == nullptr);
  CHECK((*b.cluster)->health_check_fingerprint.empty());
}

TEST_CASE("health_checks with one check is built with its settings and no warning", "[config]") {
  Built b = build(kTcpCheck);
  REQUIRE(b.cluster.ok());
  const auto& check = (*b.cluster)->health_check;
  REQUIRE(check != nullptr);
  CHECK(check->kind == upstream::HealthCheckConfig::Kind::kTcp);
  CHECK(check->interval == std::chrono::milliseconds(2000));
  CHECK(check->unhealthy_threshold == 3);
  CHECK(check->healthy_threshold == 2);
  CHECK_FALSE((*b.cluster)->health_check_fingerprint.empty());
  CHECK(b.report.warnings.empty());
}

TEST_CASE("the health check fingerprint changes with the check and only with it", "[config]") {
  Built first = build(kTcpCheck);
  Built same = build(std::string(kTcpCheck) + "connect_timeout: 3s\n");
  Built other = build(
      "health_checks:\n- {timeout: 1s, interval: 5s, unhealthy_threshold: 3, healthy_threshold: 2,"
      " tcp_health_check: {}}\n");
  REQUIRE(first.cluster.ok());
  REQUIRE(same.cluster.ok());
  REQUIRE(other.cluster.ok());
  CHECK((*first.cluster)->health_check_fingerprint == (*same.cluster)->health_check_fingerprint);
  CHECK((*first.cluster)->health_check_fingerprint != (*other.cluster)->health_check_fingerprint);
}

TEST_CASE("a second health check is refused naming its index", "[config]") {
  Built b = build(std::string(kTcpCheck) +
                  "- {timeout: 1s, interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1,"
                  " tcp_health_check: {}}\n");
  REQUIRE_FALSE(b.cluster.ok());
  CHECK(b.cluster.status().message() ==
        "static_resources.clusters[0].health_checks[1]: only one health check per cluster is "
        "supported");
}

TEST_CASE("an invalid health check is refused with the field path inside the list", "[config]") {
  Built b = build(
      "health_checks:\n- {timeout: 1s, unhealthy_threshold: 1, healthy_threshold: 1,"
      " tcp_health_check: {}}\n");
  REQUIRE_FALSE(b.cluster.ok());
  CHECK_THAT(std::string(b.cluster.status().message()),
             Catch::StartsWith("static_resources.clusters[0].health_checks[0].interval"));
}

TEST_CASE("outlier_detection is built with Envoy's defaults for what it leaves out", "[config]") {
  Built b = build("outlier_detection: {consecutive_5xx: 3, base_ejection_time: 2s}\n");
  REQUIRE(b.cluster.ok());
  const auto& od = (*b.cluster)->outlier_detection;
  REQUIRE(od != nullptr);
  CHECK(od->consecutive_5xx == 3);
  CHECK(od->base_ejection_time == std::chrono::milliseconds(2000));
  CHECK(od->interval == std::chrono::milliseconds(10000));
  CHECK(od->max_ejection_percent == 10);
  CHECK(b.report.warnings.empty());
  CHECK((*build("").cluster)->outlier_detection == nullptr);
}

TEST_CASE("an empty outlier_detection turns detection on with every default", "[config]") {
  Built b = build("outlier_detection: {}\n");
  REQUIRE(b.cluster.ok());
  REQUIRE((*b.cluster)->outlier_detection != nullptr);
  CHECK((*b.cluster)->outlier_detection->consecutive_5xx == 5);
}

TEST_CASE("an invalid outlier_detection is refused with the cluster's field path", "[config]") {
  Built b = build("outlier_detection: {max_ejection_percent: 101}\n");
  REQUIRE_FALSE(b.cluster.ok());
  CHECK(b.cluster.status().message() ==
        "static_resources.clusters[0].outlier_detection.max_ejection_percent: must be at most 100");
}

}  // namespace
}  // namespace remora::config
