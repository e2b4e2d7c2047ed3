// Building one cluster from YAML for the cluster_builder tests: a STATIC cluster named "c" at
// static_resources.clusters[0], so errors and warnings carry that path.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "source/config/cluster_builder.h"
#include "source/config/yaml_to_proto.h"

namespace remora::config {

constexpr char kPath[] = "static_resources.clusters[0]";

struct Built {
  std::shared_ptr<stats::Store> store = std::make_shared<stats::Store>();  // Outlives cluster.
  absl::StatusOr<upstream::ClusterConstSharedPtr> cluster;
  ParseReport report;
};

constexpr char kOneEndpoint[] = R"(
load_assignment:
  endpoints:
  - lb_endpoints:
    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
)";

// A cluster named c of `type` with `endpoints` and then `extra` YAML lines.
inline Built build(const std::string& extra, const std::string& endpoints = kOneEndpoint,
                   const std::string& type = "STATIC") {
  const std::string yaml = "name: c\ntype: " + type + "\n" + endpoints + extra;
  envoy::config::cluster::v3::Cluster proto;
  Built out;
  const absl::Status parsed = parseYaml(yaml, proto, out.report);
  REQUIRE(parsed.ok());
  out.cluster = buildCluster(proto, kPath, *out.store, out.report);
  return out;
}

}  // namespace remora::config
