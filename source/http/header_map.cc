#include "source/http/header_map.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "source/http/ascii_scan.h"

namespace remora::http {

namespace {

// Lowered while copied, without a second pass or a temporary.
std::string lowercaseCopy(absl::string_view key) {
  std::string out(key.size(), '\0');
  ascii::lowercase(key.data(), key.size(), out.data());
  return out;
}

}  // namespace

void HeaderMap::add(absl::string_view key, absl::string_view value) {
  if (!key.empty() && key[0] == ':') {
    auto pos = std::find_if(entries_.begin(), entries_.end(),
                            [](const HeaderEntry& e) { return e.key.empty() || e.key[0] != ':'; });
    entries_.insert(pos, HeaderEntry{lowercaseCopy(key), std::string(value)});
    return;
  }
  // Copied before the vector may grow: `key` or `value` may point into one of its entries.
  entries_.push_back(HeaderEntry{lowercaseCopy(key), std::string(value)});
}

void HeaderMap::addFront(absl::string_view key, absl::string_view value) {
  entries_.insert(entries_.begin(), HeaderEntry{std::string(key), std::string(value)});
}

bool HeaderMap::renameToFront(absl::string_view from, absl::string_view to) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const HeaderEntry& e) { return e.key == from; });
  if (it == entries_.end()) return false;
  it->key.assign(to.data(), to.size());
  std::rotate(entries_.begin(), it, it + 1);
  return true;
}

void HeaderMap::set(absl::string_view key, absl::string_view value) {
  std::string lowered;
  if (ascii::hasUppercase(key)) {
    lowered = lowercaseCopy(key);
    key = lowered;
  }
  auto first = std::find_if(entries_.begin(), entries_.end(),
                            [&](const HeaderEntry& e) { return e.key == key; });
  if (first == entries_.end()) {
    add(key, value);
    return;
  }
  first->value.assign(value.data(), value.size());
  // Compared against the kept entry's own key: `key` may point into an entry that moves.
  const std::string& kept = first->key;
  entries_.erase(std::remove_if(first + 1, entries_.end(),
                                [&](const HeaderEntry& e) { return e.key == kept; }),
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
  if (s == nullptr || s->size() != 3) return 0;
  int code = 0;
  for (char c : *s) {
    if (c < '0' || c > '9') return 0;
    code = code * 10 + (c - '0');
  }
  return code;
}

bool hasToken(absl::string_view list, absl::string_view token) {
  for (absl::string_view part : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(part), token)) return true;
  }
  return false;
}

}  // namespace remora::http
