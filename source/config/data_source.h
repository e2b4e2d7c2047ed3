// envoy.config.core.v3.DataSource (inline string or bytes, a file, an environment variable) read
// once at config time, with errors naming the field.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace envoy::config::core::v3 {
class DataSource;
}

namespace remora::config {

// The bytes `source` names; an unset source is "". `path` names the DataSource field.
absl::StatusOr<std::string> readDataSource(const envoy::config::core::v3::DataSource& source,
                                           const std::string& path);

}  // namespace remora::config
