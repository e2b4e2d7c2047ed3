// A cluster's hosts arranged for balancing, as Envoy arranges them: by priority level, each split
// into healthy, degraded and all hosts (and by locality), with the share of load every level takes
// given its health (overprovisioning_factor spills load to the next level as health drops;
// healthy_panic_threshold sends a level's load to all its hosts when too few are healthy).
// Built once per host set or config change on the main thread, shared read-only by every worker;
// workers keep only their cursors (ClusterLoadBalancer).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "source/upstream/consistent_hash.h"
#include "source/upstream/host_set.h"

namespace remora::upstream {

struct Cluster;

// Which of a level's hosts a pick draws from: healthy or degraded, or all of them in panic.
enum class HostSource : uint8_t { kHealthy = 0, kDegraded = 1, kAll = 2 };

struct LocalityHosts {
  uint32_t locality;  // Index into HostSet::localities.
  uint32_t weight;
  std::array<HostIndexes, 3> hosts;  // By HostSource.
};

struct PriorityLevel {
  std::array<HostIndexes, 3> hosts;  // By HostSource.
  std::vector<LocalityHosts> localities;
  // Percent of all load this level takes from its healthy, then its degraded hosts.
  uint32_t healthy_load = 0;
  uint32_t degraded_load = 0;
  // Too few healthy and degraded hosts (below healthy_panic_threshold): balance over all hosts.
  bool panic = false;
  // RING_HASH and MAGLEV only: the table over each source's hosts that a pick may use, and the
  // hosts a table position stands for (a locality of weight 0 has none in the table).
  std::array<ConsistentHashTableConstSharedPtr, 3> tables;
  std::array<HostIndexes, 3> table_hosts;

  const HostIndexes& of(HostSource source) const { return hosts[static_cast<size_t>(source)]; }
};

class PrioritySet {
 public:
  struct Choice {
    uint32_t priority;
    HostSource source;  // kHealthy or kDegraded: the load bucket the draw fell into.
  };

  // Builds the levels, their loads and panic flags for `cluster`'s host set and settings; the
  // consistent-hash tables too when its lb_policy hashes.
  explicit PrioritySet(const Cluster& cluster);

  const HostSetConstSharedPtr& hostSet() const { return host_set_; }
  const std::vector<PriorityLevel>& levels() const { return levels_; }
  bool empty() const { return host_set_->hosts.empty(); }
  // The level and bucket a draw (a random number, or a request's hash) falls into, by Envoy's
  // rule: draw % 100 + 1 against the running sum of healthy loads, then degraded loads.
  Choice choose(uint64_t draw) const;

  // Counts over all levels, for membership_healthy / membership_degraded.
  uint32_t healthyCount() const { return healthy_count_; }
  uint32_t degradedCount() const { return degraded_count_; }

 private:
  void computeLoads(uint32_t panic_threshold);
  void computeTotalPanicLoads();

  HostSetConstSharedPtr host_set_;
  std::vector<PriorityLevel> levels_;
  uint32_t healthy_count_ = 0;
  uint32_t degraded_count_ = 0;
};
using PrioritySetConstSharedPtr = std::shared_ptr<const PrioritySet>;

}  // namespace remora::upstream
