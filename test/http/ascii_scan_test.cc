#include "source/http/ascii_scan.h"

#include <catch2/catch.hpp>
#include <string>

namespace remora::http::ascii {
namespace {

// The word-at-a-time paths must agree with the obvious byte-at-a-time definitions for every
// byte value, at every position of a word and in the tail, and for every length up to two words.
bool slowHasCrLfNul(absl::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

bool slowAllFieldValue(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (!(u == '\t' || (u >= 0x20 && u != 0x7f))) return false;
  }
  return true;
}

std::string slowLowercase(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

TEST_CASE("ascii scans agree with byte-at-a-time definitions for every byte and place", "[http]") {
  int mismatches = 0;
  for (size_t len = 1; len <= 17; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        // Background of ordinary value bytes, including uppercase and high bytes.
        std::string s;
        for (size_t i = 0; i < len; ++i) s.push_back("aZ-9 \x80~"[i % 7]);
        s[pos] = static_cast<char>(b);
        if (hasCrLfNul(s) != slowHasCrLfNul(s)) ++mismatches;
        if (allFieldValue(s) != slowAllFieldValue(s)) ++mismatches;
        std::string lowered(s.size(), '\0');
        lowercase(s.data(), s.size(), lowered.data());
        if (lowered != slowLowercase(s)) ++mismatches;
        if (hasUppercase(s) != (slowLowercase(s) != s)) ++mismatches;
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("ascii scans handle empty input", "[http]") {
  CHECK_FALSE(hasCrLfNul(""));
  CHECK(allFieldValue(""));
  CHECK_FALSE(hasUppercase(""));
}

}  // namespace
}  // namespace remora::http::ascii
