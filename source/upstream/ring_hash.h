// RING_HASH: Ketama-style consistent hashing. Each host owns points on a 64-bit ring in proportion
// to its weight; a request goes to the first point at or after its hash.
#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/consistent_hash.h"

namespace remora::upstream {

// Cluster.RingHashLbConfig minimum_ring_size / maximum_ring_size, with Envoy's defaults. The
// config layer rejects min_ring_size > max_ring_size.
struct RingHashConfig {
  uint64_t min_ring_size = 1024;
  uint64_t max_ring_size = 8 * 1024 * 1024;
};

class RingHashTable final : public ConsistentHashTable {
 public:
  RingHashTable(const std::vector<HashTarget>& targets, const RingHashConfig& config);

  std::optional<uint32_t> choose(uint64_t hash, uint32_t attempt) const override;

  // Points on the ring, and the fewest and most any one host got (Envoy's ring_hash_lb.size,
  // min_hashes_per_host and max_hashes_per_host gauges; a low minimum means a skewed spread).
  uint64_t size() const { return ring_.size(); }
  uint64_t minHashesPerHost() const { return min_hashes_per_host_; }
  uint64_t maxHashesPerHost() const { return max_hashes_per_host_; }

 private:
  struct Point {
    uint64_t hash;
    uint32_t target;
  };

  std::vector<Point> ring_;  // Sorted by hash.
  uint64_t min_hashes_per_host_ = 0;
  uint64_t max_hashes_per_host_ = 0;
};

ConsistentHashTableConstSharedPtr buildRingHash(const std::vector<HashTarget>& targets,
                                                const RingHashConfig& config);

}  // namespace remora::upstream
