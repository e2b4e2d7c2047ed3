// SubstitutionFormatString → Formatter: picks the text or JSON compiler and resolves the text
// format's DataSource at config time.
#include "source/formatter/substitution_format_string.h"

#include "source/config/data_source.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "source/config/field_path.h"

namespace remora::formatter {
namespace {

using envoy::config::core::v3::DataSource;
using envoy::config::core::v3::SubstitutionFormatString;

}  // namespace

absl::StatusOr<FormatterConstPtr> compileSubstitutionFormatString(
    const SubstitutionFormatString& config, const std::string& path) {
  if (config.formatters_size() > 0) {
    return config::invalidAt(config::fieldPath(path, "formatters"),
                             "formatter extensions are not supported by Remora");
  }
  const FormatOptions options{config.omit_empty_values()};
  switch (config.format_case()) {
    case SubstitutionFormatString::kJsonFormat:
      return compileJson(config.json_format(), options, config::fieldPath(path, "json_format"));
    case SubstitutionFormatString::kTextFormatSource: {
      const std::string source_path = config::fieldPath(path, "text_format_source");
      auto text = config::readDataSource(config.text_format_source(), source_path);
      if (!text.ok()) return text.status();
      auto formatter = compileText(*text, options);
      if (!formatter.ok()) {
        const char* field = config.text_format_source().has_inline_string()  ? "inline_string"
                            : config.text_format_source().has_inline_bytes() ? "inline_bytes"
                            : config.text_format_source().has_filename()     ? "filename"
                                                                         : "environment_variable";
        return config::invalidAt(config::fieldPath(source_path, field),
                                 formatter.status().message());
      }
      return formatter;
    }
    case SubstitutionFormatString::FORMAT_NOT_SET:
      break;
  }
  return config::invalidAt(path, "one of text_format_source or json_format is required");
}

}  // namespace remora::formatter
