// JSON string quoting for the admin endpoint's hand-built JSON bodies (stats, listeners,
// server_info), so none of them needs a JSON library or a proto round trip.
#pragma once

#include <string>
#include <string_view>

namespace remora::admin {

// Appends s as a quoted JSON string literal. Control characters become escapes and bytes that are
// not valid UTF-8 become U+FFFD, so the output is always valid JSON whatever a name holds.
void appendJsonString(std::string& out, std::string_view s);

// The quoted JSON string literal for s.
std::string jsonString(std::string_view s);

}  // namespace remora::admin
