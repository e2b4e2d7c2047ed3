// The Envoy API fields this version of Remora acts on. Anything else that a config sets is reported
// with its path as "not supported, ignored", so nothing is silently dropped.
#pragma once

#include <string>

#include "absl/container/flat_hash_set.h"

namespace remora::config {

const absl::flat_hash_set<std::string>& supportedFields();

}  // namespace remora::config
