#include "source/http/header_map.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace remora::http {

void HeaderMap::add(absl::string_view key, absl::string_view value) {
  HeaderEntry entry{absl::AsciiStrToLower(key), std::string(value)};
  if (!entry.key.empty() && entry.key[0] == ':') {
    auto pos = std::find_if(entries_.begin(), entries_.end(),
                            [](const HeaderEntry& e) { return e.key.empty() || e.key[0] != ':'; });
    entries_.insert(pos, std::move(entry));
    return;
  }
  entries_.push_back(std::move(entry));
}

void HeaderMap::set(absl::string_view key, absl::string_view value) {
  std::string lower = absl::AsciiStrToLower(key);
  auto first = std::find_if(entries_.begin(), entries_.end(),
                            [&](const HeaderEntry& e) { return e.key == lower; });
  if (first == entries_.end()) {
    add(lower, value);
    return;
  }
  first->value.assign(value.data(), value.size());
  entries_.erase(std::remove_if(first + 1, entries_.end(),
                                [&](const HeaderEntry& e) { return e.key == lower; }),
                 entries_.end());
}

size_t HeaderMap::remove(absl::string_view key) {
  size_t before = entries_.size();
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const HeaderEntry& e) { return e.key == key; }),
                 entries_.end());
  return before - entries_.size();
}

size_t HeaderMap::removePrefix(absl::string_view prefix) {
  size_t before = entries_.size();
  entries_.erase(
      std::remove_if(entries_.begin(), entries_.end(),
                     [&](const HeaderEntry& e) { return absl::StartsWith(e.key, prefix); }),
      entries_.end());
  return before - entries_.size();
}

const std::string* HeaderMap::get(absl::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

std::string HeaderMap::getJoined(absl::string_view key) const {
  std::string out;
  bool first = true;
  for (const auto& e : entries_) {
    if (e.key != key) continue;
    if (!first) out.push_back(',');
    out.append(e.value);
    first = false;
  }
  return out;
}

size_t HeaderMap::byteSize() const {
  size_t n = 0;
  for (const auto& e : entries_) n += e.key.size() + e.value.size();
  return n;
}

int HeaderMap::status() const {
  const std::string* s = get(":status");
  int code = 0;
  if (s == nullptr || s->size() != 3 || !absl::SimpleAtoi(*s, &code)) return 0;
  return code;
}

bool hasToken(absl::string_view list, absl::string_view token) {
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(part), token)) return true;
  }
  return false;
}

}  // namespace remora::http
