// Envoy's short response flag codes ("UH", "URX", ...) for %RESPONSE_FLAGS% and for the access log
// response_flag_filter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace remora::formatter {

// Appends the codes of the set bits in http::ResponseFlag order, joined with ",". Appends nothing
// when no flag is set.
void appendResponseFlags(uint32_t flags, std::string& out);

// The http::ResponseFlag bit for a short code, or nullopt for an unknown code.
std::optional<uint32_t> responseFlagFromCode(absl::string_view code);

}  // namespace remora::formatter
