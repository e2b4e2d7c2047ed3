// ORIGINAL_DST clusters as buildCluster() reads them: CLUSTER_PROVIDED balancing, no endpoints,
// original_dst_lb_config and cleanup_interval with Envoy's defaults, errors naming the field.
#include <catch2/catch.hpp>

#include "test/config/cluster_build_fixture.h"

namespace remora::config {
namespace {

TEST_CASE("an ORIGINAL_DST cluster takes Envoy's defaults", "[config]") {
  Built b = build("lb_policy: CLUSTER_PROVIDED\n", "", "ORIGINAL_DST");
  REQUIRE(b.cluster.ok());
  const auto& od = (*b.cluster)->original_dst;
  REQUIRE(od != nullptr);
  CHECK_FALSE(od->use_http_header);
  CHECK(od->http_header_name == "x-envoy-original-dst-host");
  CHECK(od->upstream_port_override == 0);
  CHECK(od->cleanup_interval == std::chrono::milliseconds(5000));
  CHECK((*b.cluster)->original_dst_hosts != nullptr);
  CHECK((*b.cluster)->host_set->hosts.empty());
  CHECK(b.report.warnings.empty());
}

TEST_CASE("original_dst_lb_config and cleanup_interval are read", "[config]") {
  Built b = build(
      "lb_policy: CLUSTER_PROVIDED\ncleanup_interval: 0.5s\noriginal_dst_lb_config:\n"
      "  use_http_header: true\n  http_header_name: X-Dest\n  upstream_port_override: 8443\n",
      "", "ORIGINAL_DST");
  REQUIRE(b.cluster.ok());
  const auto& od = *(*b.cluster)->original_dst;
  CHECK(od.use_http_header);
  CHECK(od.http_header_name == "x-dest");
  CHECK(od.upstream_port_override == 8443);
  CHECK(od.cleanup_interval == std::chrono::milliseconds(500));
  CHECK(b.report.warnings.empty());
}

TEST_CASE("ORIGINAL_DST cluster errors name the field", "[config]") {
  CHECK(build("", "", "ORIGINAL_DST").cluster.status().message() ==
        "static_resources.clusters[0].lb_policy: ROUND_ROBIN is not valid for an ORIGINAL_DST "
        "cluster; only CLUSTER_PROVIDED is");
  CHECK(build("lb_policy: CLUSTER_PROVIDED\n", kOneEndpoint, "ORIGINAL_DST")
            .cluster.status()
            .message() ==
        "static_resources.clusters[0].load_assignment: an ORIGINAL_DST cluster takes no "
        "endpoints: it sends each request where it was going");
  CHECK(build("lb_policy: CLUSTER_PROVIDED\noriginal_dst_lb_config: {upstream_port_override: "
              "70000}\n",
              "", "ORIGINAL_DST")
            .cluster.status()
            .message() ==
        "static_resources.clusters[0].original_dst_lb_config.upstream_port_override: must be in "
        "[1, 65535]");
  CHECK(build("lb_policy: CLUSTER_PROVIDED\ncleanup_interval: 0s\n", "", "ORIGINAL_DST")
            .cluster.status()
            .message() == "static_resources.clusters[0].cleanup_interval: must be greater than 0s");
}

}  // namespace
}  // namespace remora::config
