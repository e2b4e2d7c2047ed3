// Request, response and trailer headers in wire order. Keys are stored lowercase; HTTP/1 requests
// carry Envoy's pseudo-headers (:method, :path, :authority, :scheme; :status on responses) so
// route matching, header formatters and access logs see one model for HTTP/1 and HTTP/2.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace remora::http {

struct HeaderEntry {
  std::string key;  // Lowercase.
  std::string value;
};

class HeaderMap {
 public:
  using const_iterator = std::vector<HeaderEntry>::const_iterator;

  // Appends; `key` is lowercased. Pseudo-headers (":x") go before regular ones, as on the wire.
  void add(absl::string_view key, absl::string_view value);
  // Inserts before every other entry (pseudo-headers included); `key` must be lowercase.
  void addFront(absl::string_view key, absl::string_view value);
  // Renames the first entry named `from` to `to` and moves it before every other entry, keeping
  // its value without a copy; false when there is none.
  bool renameToFront(absl::string_view from, absl::string_view to);
  // Replaces every entry named `key` with one entry (at the first one's place), or appends.
  void set(absl::string_view key, absl::string_view value);
  // Removes every entry named `key`; returns how many.
  size_t remove(absl::string_view key);
  // Removes entries whose key starts with `prefix` (e.g. "x-envoy-"); returns how many.
  size_t removePrefix(absl::string_view prefix);
  // The first value named `key` (lowercase expected), or nullptr.
  const std::string* get(absl::string_view key) const;
  // Every value named `key`, joined with "," as RFC 9110 allows for list-valued fields.
  std::string getJoined(absl::string_view key) const;
  bool has(absl::string_view key) const { return get(key) != nullptr; }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Bytes of keys and values, as counted against max_request_headers_kb.
  size_t byteSize() const;
  void clear() { entries_.clear(); }
  void reserve(size_t n) { entries_.reserve(n); }

  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }

  // Shorthands for the pseudo-headers; empty when absent.
  absl::string_view method() const { return valueOr(":method"); }
  absl::string_view path() const { return valueOr(":path"); }
  absl::string_view authority() const { return valueOr(":authority"); }
  absl::string_view scheme() const { return valueOr(":scheme"); }
  // :status as a number; 0 when absent or malformed.
  int status() const;

 private:
  absl::string_view valueOr(absl::string_view key) const {
    const std::string* v = get(key);
    return v ? absl::string_view(*v) : absl::string_view();
  }
  std::vector<HeaderEntry> entries_;
};

// Whether a comma-separated list value (Connection, Upgrade) holds `token`, case-insensitively.
bool hasToken(absl::string_view list, absl::string_view token);

}  // namespace remora::http
