// Reads the bootstrap from -c FILE and/or --config-yaml (merged over the file, as Envoy does),
// applies --service-node/--service-cluster, and reports fields Remora does not act on.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "source/config/yaml_to_proto.h"

namespace remora::config {

struct BootstrapSource {
  std::string path;
  std::string yaml;
  std::string service_node;
  std::string service_cluster;
};

struct LoadedBootstrap {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  ParseReport report;
};

absl::StatusOr<LoadedBootstrap> loadBootstrap(const BootstrapSource& source);

}  // namespace remora::config
