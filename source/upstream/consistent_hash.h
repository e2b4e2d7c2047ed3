// What RING_HASH and MAGLEV have in common: a table built from the hosts once per host-set change,
// mapping a request's 64-bit hash to one of them, and the hash function both use.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace remora::upstream {

// One host as a consistent-hash table sees it: the key it is hashed by (the host's address as
// "ip:port", as Envoy hashes it) and its load_balancing_weight (>= 1).
struct HashTarget {
  std::string key;
  // Relative: a host weight, or (locality-weighted) a share of its locality's share. Only
  // ratios matter; whole numbers give the same tables as Envoy's integer weights.
  double weight = 1;
};

// Immutable once built; built once on the main thread and shared read-only by every worker, so
// the same request hash lands on the same host on every worker.
class ConsistentHashTable {
 public:
  virtual ~ConsistentHashTable() = default;
  // Index into the targets the table was built from; nullopt when it was built from none.
  // attempt > 0 (a retry whose host a retry host predicate rejected) gives an alternate host
  // deterministically, in the way Envoy does for the table type, which does not promise that the
  // alternate differs from the first choice.
  virtual std::optional<uint32_t> choose(uint64_t hash, uint32_t attempt) const = 0;
};

using ConsistentHashTableConstSharedPtr = std::shared_ptr<const ConsistentHashTable>;

// xxHash64 with seed 0: the hash of request keys (headers, cookies, source IPs) and of host keys,
// as Envoy uses, so a key picks the same place in a table as it would in Envoy's.
inline uint64_t xxHash64(absl::string_view data, uint64_t seed = 0) {
  return XXH64(data.data(), data.size(), seed);
}

}  // namespace remora::upstream
