// Text-to-value parsers for protobuf scalars and time types, following protobuf's JSON mapping.
// Errors say what was wrong with the text; the caller prepends the field path.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace remora::config {

// Integers: decimal literals, or an integral number in float notation ("1e3", "8080.0") as
// protobuf JSON allows. `type_name` ("int32", "uint64", ...) is used in messages.
absl::StatusOr<int64_t> parseSignedInt(absl::string_view text, int64_t min, int64_t max,
                                       absl::string_view type_name);
absl::StatusOr<uint64_t> parseUnsignedInt(absl::string_view text, uint64_t max,
                                          absl::string_view type_name);

// Numbers, "Infinity", "-Infinity", "NaN" (and YAML's ".inf", "-.inf", ".nan"). With
// `is_float`, finite values beyond float's range are an error rather than becoming infinity.
absl::StatusOr<double> parseFloatingPoint(absl::string_view text, bool is_float);

// "true" or "false" only: YAML 1.1's yes/no/on/off are rejected so a typo is not a silent flag.
absl::StatusOr<bool> parseBool(absl::string_view text);

// Standard or URL-safe base64, padding optional (as protobuf JSON accepts).
absl::StatusOr<std::string> parseBase64(absl::string_view text);

// google.protobuf.Duration / Timestamp as (seconds, nanos).
using SecondsAndNanos = std::pair<int64_t, int32_t>;
// "1.5s", "0.001s", "-2s": at most 9 fractional digits, within +-315576000000s.
absl::StatusOr<SecondsAndNanos> parseDurationText(absl::string_view text);
// RFC 3339, e.g. "2024-01-02T03:04:05.5Z" or with a "+05:30" offset; years 0001..9999.
absl::StatusOr<SecondsAndNanos> parseTimestampText(absl::string_view text);

// True if a plain (unquoted) YAML scalar reads as a number: what goes into a
// google.protobuf.Value as number_value rather than string_value.
bool looksLikeYamlNumber(absl::string_view text);

}  // namespace remora::config
