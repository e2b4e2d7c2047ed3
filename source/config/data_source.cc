#include "source/config/data_source.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "envoy/config/core/v3/base.pb.h"
#include "source/config/field_path.h"

namespace remora::config {

absl::StatusOr<std::string> readDataSource(const envoy::config::core::v3::DataSource& source,
                                           const std::string& path) {
  using Source = envoy::config::core::v3::DataSource;
  switch (source.specifier_case()) {
    case Source::kInlineString:
      return source.inline_string();
    case Source::kInlineBytes:
      return source.inline_bytes();
    case Source::kFilename: {
      std::ifstream in(source.filename(), std::ios::binary);
      if (!in) {
        return invalidAt(fieldPath(path, "filename"),
                         absl::StrCat("cannot read '", source.filename(), "'"));
      }
      std::ostringstream body;
      body << in.rdbuf();
      return body.str();
    }
    case Source::kEnvironmentVariable: {
      const char* value = std::getenv(source.environment_variable().c_str());
      if (value == nullptr) {
        return invalidAt(fieldPath(path, "environment_variable"),
                         absl::StrCat("'", source.environment_variable(), "' is not set"));
      }
      return std::string(value);
    }
    default:
      return std::string();
  }
}

}  // namespace remora::config
