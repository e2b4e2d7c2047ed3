#include "tools/mock-cp/json_text.h"

#include <cstdint>
#include <cstdio>

namespace remora::mockcp {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one.
size_t utf8Length(std::string_view text, size_t i) {
  const auto b = static_cast<uint8_t>(text[i]);
  size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<uint8_t>(text[i + k]) & 0xc0) != 0x80) return 0;
  }
  return len;
}

}  // namespace

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<uint8_t>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else if (size_t len = utf8Length(text, i); len > 0) {
          out.append(text.substr(i, len));
          i += len;
          continue;
        } else {
          out += "\\ufffd";
        }
    }
    ++i;
  }
  return out + "\"";
}

std::string jsonStringList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ",";
    out += jsonString(items[i]);
  }
  return out + "]";
}

std::string jsonStringMap(const std::map<std::string, std::string>& items) {
  std::string out = "{";
  for (const auto& [key, value] : items) {
    if (out.size() > 1) out += ",";
    out += jsonString(key) + ":" + jsonString(value);
  }
  return out + "}";
}

}  // namespace remora::mockcp
