// Envoy-style YAML/JSON config text -> protobuf message via reflection (protobuf's JSON mapping),
// with errors and warnings that name the exact field path, e.g. "clusters[2].connect_timeout".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "yaml-cpp/yaml.h"

namespace remora::config {

// Things that are not errors but that the operator should see: unknown fields, unsupported
// fields, compatibility fix-ups. Each is "<path>: <what>".
struct ParseReport {
  std::vector<std::string> warnings;
};

// Parses YAML or JSON text (JSON is YAML) into `msg`, which is cleared first. Returns
// InvalidArgumentError("<path>: <what>"), e.g.
// "static_resources.clusters[2].connect_timeout: invalid duration 'abc' (expected e.g. '0.25s')".
// Unknown keys are warnings, not errors: our proto/ is a subset of Envoy's API.
absl::Status parseYaml(std::string_view text, google::protobuf::Message& msg, ParseReport& report);

// Same, from an already-parsed YAML node (for sub-documents); `path_prefix` is prepended to every
// path in errors and warnings. `msg` is merged into, not cleared.
absl::Status parseYamlNode(const YAML::Node& node, google::protobuf::Message& msg,
                           ParseReport& report, const std::string& path_prefix = "");

// Adds "<path>: field not supported by Remora, ignored" for every set field whose full name
// (e.g. "envoy.config.cluster.v3.Cluster.connect_timeout") is not in `supported`, and recurses
// into set message fields (and Any payloads from the generated pool) that are supported. Fields
// are left as they are so the config dump still shows them. Fields unknown to our protos (kept
// as unknown wire fields, e.g. from xDS) are reported too.
void reportUnsupportedFields(const google::protobuf::Message& msg,
                             const absl::flat_hash_set<std::string>& supported, ParseReport& report,
                             const std::string& path_prefix = "");

}  // namespace remora::config
