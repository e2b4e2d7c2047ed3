#include "source/upstream/maglev.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace remora::upstream {
namespace {

constexpr uint32_t kEmptySlot = std::numeric_limits<uint32_t>::max();

// One host while the table fills: where it is in its own order of slots, and how far its weight
// entitles it to claim them.
struct Claimant {
  uint32_t target;
  uint64_t slot;  // Next slot the host tries: offset, offset + skip, offset + 2 * skip, ... mod M.
  uint64_t skip;
  double share;      // weight / total weight.
  double quota = 0;  // The host claims in a round only if round * share has reached this.
  uint64_t count = 0;
};

}  // namespace

MaglevTable::MaglevTable(const std::vector<HashTarget>& targets, uint64_t table_size) {
  // Sizes below 2 are not prime (config rejects them); build nothing rather than divide by 0.
  if (targets.empty() || table_size < 2) return;

  // Weights are positive by contract; a stray 0 counts as 1 rather than divide by zero below.
  auto weightOf = [](const HashTarget& target) { return target.weight > 0 ? target.weight : 1.0; };
  double total_weight = 0;
  double max_weight = 0;
  for (const HashTarget& target : targets) {
    total_weight += weightOf(target);
    max_weight = std::max(max_weight, weightOf(target));
  }

  // Hosts take turns in key order, not in the order they were listed, so the table (and where
  // every request goes) does not change when EDS merely reorders the same hosts. Envoy does the
  // same; the index breaks ties between duplicate keys.
  std::vector<uint32_t> order(targets.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return targets[a].key != targets[b].key ? targets[a].key < targets[b].key : a < b;
  });

  // Each host's order of slots is offset + i * skip (mod M), from two independent hashes of its
  // key. 1 <= skip < M and M prime, so the order is a permutation of all M slots.
  std::vector<Claimant> claimants;
  claimants.reserve(targets.size());
  for (uint32_t index : order) {
    const HashTarget& target = targets[index];
    claimants.push_back({index, xxHash64(target.key, 0) % table_size,
                         xxHash64(target.key, 1) % (table_size - 1) + 1,
                         weightOf(target) / total_weight});
  }
  const double max_share = max_weight / total_weight;

  // Round after round, each host whose turn it is claims the next free slot in its own order. The
  // heaviest hosts claim every round; a host of a third of their weight claims every third round,
  // so slots come out in proportion to weight. The doubles mirror Envoy's arithmetic, so the
  // same hosts and weights fill the same table as Envoy's.
  table_.assign(table_size, kEmptySlot);
  uint64_t filled = 0;
  for (uint32_t round = 1; filled < table_size; ++round) {
    for (Claimant& claimant : claimants) {
      if (filled == table_size) break;
      if (round * claimant.share < claimant.quota) continue;
      claimant.quota += max_share;
      while (table_[claimant.slot] != kEmptySlot) {
        claimant.slot = (claimant.slot + claimant.skip) % table_size;
      }
      table_[claimant.slot] = claimant.target;
      claimant.slot = (claimant.slot + claimant.skip) % table_size;
      ++claimant.count;
      ++filled;
    }
  }

  min_entries_per_host_ = table_size;
  for (const Claimant& claimant : claimants) {
    min_entries_per_host_ = std::min(min_entries_per_host_, claimant.count);
    max_entries_per_host_ = std::max(max_entries_per_host_, claimant.count);
  }
}

std::optional<uint32_t> MaglevTable::choose(uint64_t hash, uint32_t attempt) const {
  if (table_.empty()) return std::nullopt;
  // A retry whose host was rejected flips most bits of the hash, as Envoy does, landing on an
  // unrelated slot: usually another host, though nothing guarantees it.
  if (attempt > 0) hash ^= ~0ULL - attempt + 1;
  return table_[hash % table_.size()];
}

ConsistentHashTableConstSharedPtr buildMaglev(const std::vector<HashTarget>& targets,
                                              uint64_t table_size) {
  return std::make_shared<const MaglevTable>(targets, table_size);
}

}  // namespace remora::upstream
