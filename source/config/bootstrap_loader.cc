#include "source/config/bootstrap_loader.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "source/config/supported_fields.h"

namespace remora::config {

absl::StatusOr<LoadedBootstrap> loadBootstrap(const BootstrapSource& source) {
  LoadedBootstrap loaded;
  if (!source.path.empty()) {
    std::ifstream in(source.path);
    if (!in)
      return absl::NotFoundError(absl::StrCat("cannot read config file '", source.path, "'"));
    std::stringstream text;
    text << in.rdbuf();
    absl::Status status = parseYaml(text.str(), loaded.bootstrap, loaded.report);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(source.path, ": ", status.message()));
    }
  }
  if (!source.yaml.empty()) {
    envoy::config::bootstrap::v3::Bootstrap overlay;
    absl::Status status = parseYaml(source.yaml, overlay, loaded.report);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--config-yaml: ", status.message()));
    }
    loaded.bootstrap.MergeFrom(overlay);
  }
  auto* node = loaded.bootstrap.mutable_node();
  if (!source.service_node.empty()) node->set_id(source.service_node);
  if (!source.service_cluster.empty()) node->set_cluster(source.service_cluster);
  if (node->user_agent_name().empty()) node->set_user_agent_name("remora");
  reportUnsupportedFields(loaded.bootstrap, supportedFields(), loaded.report);
  return loaded;
}

}  // namespace remora::config
