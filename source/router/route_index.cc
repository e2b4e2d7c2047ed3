#include "source/router/route_index.h"

#include <algorithm>

namespace remora::router {

RouteIndex::RouteIndex(const std::vector<Key>& keys) {
  absl::flat_hash_map<size_t, size_t> level_of_length;
  for (uint32_t i = 0; i < keys.size(); ++i) {
    const Key& key = keys[i];
    switch (key.kind) {
      case Key::Kind::kAlways:
        always_.push_back(i);
        break;
      case Key::Kind::kExact:
        exact_[key.value].push_back(i);
        break;
      case Key::Kind::kPrefix: {
        auto [it, added] = level_of_length.try_emplace(key.value.size(), prefix_levels_.size());
        if (added) prefix_levels_.push_back(PrefixLevel{key.value.size(), {}});
        prefix_levels_[it->second].by_prefix[key.value].push_back(i);
        break;
      }
    }
  }
  // Indices went in ascending, so every bucket is already sorted; only the levels need ordering.
  std::sort(prefix_levels_.begin(), prefix_levels_.end(),
            [](const PrefixLevel& a, const PrefixLevel& b) { return a.length < b.length; });
}

}  // namespace remora::router
