// Formatters built from a SubstitutionFormatString (an access log's log_format, a local reply's
// body_format), and the compile options that message adds to formatter.h's functions.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/core/v3/substitution_format_string.pb.h"
#include "source/formatter/formatter.h"

namespace remora::formatter {

struct FormatOptions {
  // Missing values print "" instead of "-" in text, and their keys are left out in JSON.
  bool omit_empty_values = false;
};

absl::StatusOr<FormatterConstPtr> compileText(const std::string& format,
                                              const FormatOptions& options);
// Errors name the key under `path`, e.g. `<path>["upstream"]["host"]: unknown command operator`.
absl::StatusOr<FormatterConstPtr> compileJson(const google::protobuf::Struct& format,
                                              const FormatOptions& options,
                                              const std::string& path);

// text_format_source (inline_string, inline_bytes, filename, environment_variable) or
// json_format, with omit_empty_values; errors name the field under `path`. Extension formatters
// are rejected; content_type and json_format_options change nothing (JSON keys are always sorted).
absl::StatusOr<FormatterConstPtr> compileSubstitutionFormatString(
    const envoy::config::core::v3::SubstitutionFormatString& config, const std::string& path);

}  // namespace remora::formatter
