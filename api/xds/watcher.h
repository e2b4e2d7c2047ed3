// What an xDS subscription hands to the part of Remora that owns a resource type (the config
// store): decoded updates to validate and accept, or reject with a reason that becomes the NACK's
// error_detail. Called on the main thread.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/any.pb.h"

namespace remora::xds {

struct Resource {
  std::string name;
  std::string version;  // Delta: the resource's own version; SotW: the response's version_info.
  google::protobuf::Any resource;
};

struct Update {
  std::string type_url;
  // SotW: every resource of the response; for LDS and CDS that is the whole set (anything absent
  // is removed), for RDS and EDS only the named ones present. Delta: the added or changed ones.
  std::vector<Resource> resources;
  std::vector<std::string> removed;  // Delta only: removed_resources.
  bool state_of_the_world = false;
  std::string version_info;  // SotW version_info, or delta system_version_info.
};

class ResourceWatcher {
 public:
  virtual ~ResourceWatcher() = default;
  // Validates and applies the whole update, or nothing of it: a non-OK status rejects the update
  // (NACK) and its message, naming the resource and field, becomes error_detail.
  virtual absl::Status onUpdate(const Update& update) = 0;
};

}  // namespace remora::xds
