// The xDS resources the mock control plane serves: their types (type URL, short name, which
// service serves them) and how they are read from Envoy YAML/JSON, in a file or an HTTP body.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"

namespace remora::mockcp {

struct ResourceType {
  std::string_view short_name;  // as in DELETE /resources/<short_name>/<name>
  std::string_view type_url;
  std::string_view api;  // the per-type service, as the request log names it: "lds"
  // State-of-the-world LDS and CDS requests that name nothing ask for every resource.
  bool wildcard;
};

// The types with a short name; resources of any other type with a `name` field are served too,
// but only on ADS.
const std::vector<ResourceType>& knownTypes();
const ResourceType* typeByUrl(std::string_view type_url);
const ResourceType* typeByShortName(std::string_view short_name);
// The short name when the type has one, else the type URL.
std::string displayType(std::string_view type_url);

struct Resource {
  std::string name;
  // type_url is canonical ("type.googleapis.com/<full name>") and value is serialized
  // deterministically, so equal content means equal bytes.
  google::protobuf::Any any;
};

struct ParsedResources {
  std::vector<Resource> resources;
  // Unknown or dropped fields: what a client will not get. Each names the field path.
  std::vector<std::string> warnings;
};

// Reads `resources: [ {"@type": ..., ...}, ... ]`, a bare list of such items, or one item. An
// empty document holds no resources. Errors name the path, e.g. "resources[1].name: ...".
absl::StatusOr<ParsedResources> parseResources(std::string_view text);

}  // namespace remora::mockcp
