// MAGLEV: consistent hashing by lookup table (Eisenbud et al., "Maglev", NSDI 2016, section 3.4).
// Hosts take turns claiming slots of a prime-sized table, each in its own pseudo-random order; a
// request goes to the host in slot hash % size. Lookups are O(1) and a host-set change moves few
// slots.
#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/consistent_hash.h"

namespace remora::upstream {

class MaglevTable final : public ConsistentHashTable {
 public:
  static constexpr uint64_t kDefaultTableSize = 65537;

  // table_size must be prime (the config layer checks): then every host's order visits every
  // slot, so the table always fills.
  MaglevTable(const std::vector<HashTarget>& targets, uint64_t table_size);

  std::optional<uint32_t> choose(uint64_t hash, uint32_t attempt) const override;

  // Slots in the table (0 when built from no targets), and the fewest and most any one host holds
  // (Envoy's maglev_lb.min_entries_per_host and max_entries_per_host gauges).
  uint64_t size() const { return table_.size(); }
  uint64_t minEntriesPerHost() const { return min_entries_per_host_; }
  uint64_t maxEntriesPerHost() const { return max_entries_per_host_; }

 private:
  std::vector<uint32_t> table_;  // Target index per slot: 4 bytes a slot, not a host pointer.
  uint64_t min_entries_per_host_ = 0;
  uint64_t max_entries_per_host_ = 0;
};

ConsistentHashTableConstSharedPtr buildMaglev(const std::vector<HashTarget>& targets,
                                              uint64_t table_size = MaglevTable::kDefaultTableSize);

}  // namespace remora::upstream
