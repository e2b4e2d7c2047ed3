// Shared by the ring hash and Maglev table tests: targets 10.0.0.<i>:8080 and a fixed set of
// request keys, with where each key lands.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "source/upstream/consistent_hash.h"

namespace remora::upstream {

inline constexpr int kKeys = 10000;

inline std::vector<HashTarget> weightedTargets(const std::vector<uint32_t>& weights) {
  std::vector<HashTarget> targets;
  for (size_t i = 0; i < weights.size(); ++i) {
    targets.push_back(
        {"10.0.0." + std::to_string(i + 1) + ":8080", static_cast<double>(weights[i])});
  }
  return targets;
}

inline std::vector<HashTarget> targets(int n) {
  return weightedTargets(std::vector<uint32_t>(n, 1));
}

inline uint64_t requestHash(int i) { return xxHash64("key-" + std::to_string(i)); }

// Which target each of the kKeys request keys goes to.
inline std::vector<uint32_t> choices(const ConsistentHashTable& table, uint32_t attempt = 0) {
  std::vector<uint32_t> chosen;
  for (int i = 0; i < kKeys; ++i) chosen.push_back(*table.choose(requestHash(i), attempt));
  return chosen;
}

inline std::vector<int> countPerTarget(const std::vector<uint32_t>& chosen, size_t targets) {
  std::vector<int> counts(targets, 0);
  for (uint32_t index : chosen) ++counts.at(index);
  return counts;
}

// `all` without its third target (index 2): the one the removal tests take away.
inline std::vector<HashTarget> withoutThird(std::vector<HashTarget> all) {
  all.erase(all.begin() + 2);
  return all;
}

// Between the choices with every target and those without the third: how many keys were on the
// removed target, and how many others changed target (indexes above 2 shift down by one).
struct Moves {
  int on_removed = 0;
  int others_moved = 0;
};
inline Moves movesWithoutThird(const std::vector<uint32_t>& before,
                               const std::vector<uint32_t>& after) {
  Moves moves;
  for (int i = 0; i < kKeys; ++i) {
    const uint32_t now = after[i] >= 2 ? after[i] + 1 : after[i];
    if (before[i] == 2) {
      ++moves.on_removed;
    } else {
      moves.others_moved += now != before[i];
    }
  }
  return moves;
}

// Keys spread over targets of weights 1, 2 and 3: 1,667 / 3,333 / 5,000 of them, each within 10%.
inline void checkWeightedSpread(const ConsistentHashTable& table) {
  const auto counts = countPerTarget(choices(table), 3);
  const double expected[] = {kKeys / 6.0, kKeys * 2 / 6.0, kKeys * 3 / 6.0};
  for (int i = 0; i < 3; ++i) {
    CHECK(counts[i] >= expected[i] * 0.9);
    CHECK(counts[i] <= expected[i] * 1.1);
  }
}

}  // namespace remora::upstream
