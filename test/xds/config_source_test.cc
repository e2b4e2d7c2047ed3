// The xDS channel's message limit: envoy_grpc.max_receive_message_length, unlimited when unset as
// in Envoy, instead of gRPC's 4 MiB default that refused large CDS and EDS responses.
#include "source/xds/config_source.h"

#include <catch2/catch.hpp>
#include <string>

#include "source/config/yaml_to_proto.h"

namespace remora::xds {
namespace {

DynamicResources parse(const std::string& grpc_service) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  config::ParseReport report;
  REQUIRE(config::parseYaml(R"(
static_resources:
  clusters:
  - name: xds_cluster
    type: STATIC
    load_assignment:
      cluster_name: xds_cluster
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 18000 } } }
dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services:
    - )" + grpc_service + R"(
  cds_config: { ads: {} }
)",
                            bootstrap, report)
              .ok());
  auto d = parseDynamicResources(bootstrap);
  REQUIRE(d.ok());
  REQUIRE(d->ads.has_value());
  return *d;
}

TEST_CASE("the xDS channel's receive limit follows envoy_grpc and is unlimited by default",
          "[xds]") {
  CHECK(parse("envoy_grpc: { cluster_name: xds_cluster }").ads->max_receive_message_length == -1);
  CHECK(parse("envoy_grpc: { cluster_name: xds_cluster, max_receive_message_length: 0 }")
            .ads->max_receive_message_length == -1);
  CHECK(parse("envoy_grpc: { cluster_name: xds_cluster, max_receive_message_length: 33554432 }")
            .ads->max_receive_message_length == 33554432);
  CHECK(parse("envoy_grpc: { cluster_name: xds_cluster, max_receive_message_length: 4294967295 }")
            .ads->max_receive_message_length == 2147483647);
  // Envoy's Google gRPC client keeps gRPC's own default.
  CHECK_FALSE(parse("google_grpc: { target_uri: \"127.0.0.1:18000\", stat_prefix: x }")
                  .ads->max_receive_message_length.has_value());
}

}  // namespace
}  // namespace remora::xds
