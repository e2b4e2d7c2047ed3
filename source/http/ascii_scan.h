// Byte-class checks and ASCII lowercasing over header names and values, eight bytes at a time.
// Every header byte of every request and response passes through these (parse, store, encode),
// so they work on 64-bit words with the classic "has a zero byte" bit tricks and fall back to
// one byte at a time only for the tail and for words that may hold an exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"

namespace remora::http::ascii {

namespace detail {

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

inline uint64_t load(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

// Nonzero when some byte of `w` is zero.
constexpr uint64_t zeroByte(uint64_t w) { return (w - kOnes) & ~w & kHighs; }
// Nonzero when some byte of `w` is below `n` (n <= 128).
constexpr uint64_t byteBelow(uint64_t w, uint8_t n) { return (w - kOnes * n) & ~w & kHighs; }

// The high bit of each byte of `w` that is an ASCII uppercase letter. Bytes are taken as 7 bits
// (bytes with the high bit set are masked out at the end), so no sum carries into the next byte.
constexpr uint64_t upperBytes(uint64_t w) {
  const uint64_t low7 = w & ~kHighs;
  const uint64_t at_least_a = low7 + kOnes * (0x80 - 'A');
  const uint64_t past_z = low7 + kOnes * (0x80 - 'Z' - 1);
  return (at_least_a ^ past_z) & ~w & kHighs;
}

constexpr bool crLfNul(char c) { return c == '\r' || c == '\n' || c == '\0'; }
// field-vchar, SP and HTAB (RFC 9110 section 5.5); obs-text bytes pass as opaque.
constexpr bool fieldValue(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace detail

// Whether some byte of `s` satisfies `byte`. `word` must be nonzero for every 8-byte word that
// holds such a byte; it may be nonzero for others too, whose bytes are then checked one by one.
template <typename WordTest, typename ByteTest>
inline bool anyByte(absl::string_view s, WordTest word, ByteTest byte) {
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    if (word(detail::load(p))) {
      for (int i = 0; i < 8; ++i) {
        if (byte(p[i])) return true;
      }
    }
  }
  for (; n > 0; ++p, --n) {
    if (byte(*p)) return true;
  }
  return false;
}

// Whether `s` holds a CR, LF or NUL: bytes that would end a field or a message if written.
inline bool hasCrLfNul(absl::string_view s) {
  using namespace detail;
  return anyByte(
      s,
      [](uint64_t w) {
        return zeroByte(w) | zeroByte(w ^ (kOnes * '\r')) | zeroByte(w ^ (kOnes * '\n'));
      },
      crLfNul);
}

// Whether every byte of `s` may appear in a field value.
inline bool allFieldValue(absl::string_view s) {
  using namespace detail;
  // A control byte (below 0x20, HTAB included) or DEL flags the word for a closer look.
  return !anyByte(
      s, [](uint64_t w) { return byteBelow(w, 0x20) | zeroByte(w ^ (kOnes * 0x7f)); },
      [](char c) { return !fieldValue(c); });
}

// Writes `n` bytes of `in` to `out` with ASCII uppercase letters lowered; other bytes unchanged.
inline void lowercase(const char* in, size_t n, char* out) {
  using namespace detail;
  for (; n >= 8; in += 8, out += 8, n -= 8) {
    const uint64_t w = load(in);
    const uint64_t lowered = w | (upperBytes(w) >> 2);  // 0x80 >> 2 is 0x20, the case bit.
    std::memcpy(out, &lowered, sizeof(lowered));
  }
  for (; n > 0; ++in, ++out, --n) {
    const char c = *in;
    *out = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  }
}

inline bool hasUppercase(absl::string_view s) {
  using namespace detail;
  return anyByte(s, upperBytes, [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace remora::http::ascii
