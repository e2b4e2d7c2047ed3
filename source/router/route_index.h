// Which of a virtual host's routes can match a request path, so that a table of thousands of
// prefix and exact-path routes is not tried one by one (Envoy tries every route in order). Routes
// keep their first-match order: candidates are visited in ascending route index, and the caller
// still runs each candidate's full match (headers, query parameters, CONNECT, separators).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"

namespace remora::router {

class RouteIndex {
 public:
  // What a route's path condition needs of the path, as far as the index is concerned.
  struct Key {
    enum class Kind {
      kPrefix,  // The path starts with `value` (case-sensitive).
      kExact,   // The path is `value` (case-sensitive).
      kAlways,  // Anything else (regex, case-insensitive, CONNECT): always a candidate.
    };
    Kind kind = Kind::kAlways;
    std::string value;
  };

  // Below this many routes a plain scan is as fast and the index is not built.
  static constexpr size_t kMinRoutes = 16;

  explicit RouteIndex(const std::vector<Key>& keys);

  // Calls visit(i) for each route i whose key admits `path`, in ascending order, until visit
  // returns true; returns whether one did.
  template <typename Visit>
  bool forEachCandidate(absl::string_view path, Visit&& visit) const;

 private:
  using Bucket = std::vector<uint32_t>;  // Route indices, ascending.
  struct PrefixLevel {
    size_t length;
    absl::flat_hash_map<std::string, Bucket> by_prefix;
  };

  Bucket always_;
  absl::flat_hash_map<std::string, Bucket> exact_;
  std::vector<PrefixLevel> prefix_levels_;  // Ascending length.
};

template <typename Visit>
bool RouteIndex::forEachCandidate(absl::string_view path, Visit&& visit) const {
  // The buckets that apply to this path, merged on the fly by smallest next index.
  struct Cursor {
    const uint32_t* next;
    const uint32_t* end;
  };
  absl::InlinedVector<Cursor, 8> cursors;
  auto take = [&](const Bucket& b) {
    if (!b.empty()) cursors.push_back({b.data(), b.data() + b.size()});
  };
  take(always_);
  if (auto it = exact_.find(path); it != exact_.end()) take(it->second);
  for (const PrefixLevel& level : prefix_levels_) {
    if (level.length > path.size()) break;
    if (auto it = level.by_prefix.find(path.substr(0, level.length)); it != level.by_prefix.end()) {
      take(it->second);
    }
  }
  while (!cursors.empty()) {
    size_t best = 0;
    for (size_t c = 1; c < cursors.size(); ++c) {
      if (*cursors[c].next < *cursors[best].next) best = c;
    }
    const uint32_t index = *cursors[best].next++;
    if (cursors[best].next == cursors[best].end) {
      cursors[best] = cursors.back();
      cursors.pop_back();
    }
    if (visit(index)) return true;
  }
  return false;
}

}  // namespace remora::router
