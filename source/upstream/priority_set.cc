#include "source/upstream/priority_set.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "source/upstream/cluster.h"
#include "source/upstream/maglev.h"
#include "source/upstream/ring_hash.h"

namespace remora::upstream {

namespace {

// A level's health in percent, stretched by the overprovisioning factor and capped at 100: with
// the default 140, a level keeps all its load until fewer than 1/1.4 (71%) of its hosts are up.
uint32_t levelHealth(uint64_t part, uint64_t total, uint32_t overprovisioning_factor) {
  if (total == 0) return 0;
  return static_cast<uint32_t>(std::min<uint64_t>(100, overprovisioning_factor * part / total));
}

// Gives each level its share of `total_load` in proportion to its availability, highest
// priority first, until the load runs out. Returns the first level with any availability (or -1)
// and the load left over from rounding.
std::pair<int, uint32_t> distributeLoad(std::vector<PriorityLevel>& levels,
                                        const std::vector<uint32_t>& availability,
                                        uint32_t total_load, uint32_t total_availability,
                                        bool degraded) {
  int first = -1;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (first < 0 && availability[i] > 0) first = static_cast<int>(i);
    const uint32_t load = std::min(total_load, availability[i] * 100 / total_availability);
    (degraded ? levels[i].degraded_load : levels[i].healthy_load) = load;
    total_load -= load;
  }
  return {first, total_load};
}

// With locality_weighted_lb_config, a host's weight in the table is its share of its locality's
// hosts times its locality's share of the level's locality weights, as Envoy builds its tables
// (a locality of weight 0 gets nothing).
void buildTable(const Cluster& cluster, const HostSet& set, PriorityLevel& level,
                HostSource source) {
  const HostIndexes& indexes = level.of(source);
  HostIndexes& in_table = level.table_hosts[static_cast<size_t>(source)];
  std::vector<HashTarget> targets;
  targets.reserve(indexes.size());
  if (!cluster.locality_weighted) {
    for (uint32_t index : indexes) {
      const Host& host = set.hosts[index];
      targets.push_back({host.address.asString(), static_cast<double>(host.weight)});
    }
    in_table = indexes;
  } else {
    double locality_total = 0;
    for (const auto& locality : level.localities) locality_total += locality.weight;
    absl::flat_hash_map<uint32_t, double> host_weight_in_locality;
    for (uint32_t index : indexes) {
      host_weight_in_locality[set.hosts[index].locality] += set.hosts[index].weight;
    }
    for (uint32_t index : indexes) {
      const Host& host = set.hosts[index];
      const uint32_t locality_weight = set.localities[host.locality].weight;
      if (locality_weight == 0 || locality_total == 0) continue;
      targets.push_back({host.address.asString(),
                         static_cast<double>(host.weight) / host_weight_in_locality[host.locality] *
                             (static_cast<double>(locality_weight) / locality_total)});
      in_table.push_back(index);
    }
  }
  auto& table = level.tables[static_cast<size_t>(source)];
  if (cluster.lb_policy == LbPolicy::kMaglev) {
    table = buildMaglev(targets, cluster.maglev_table_size);
  } else {
    table = buildRingHash(targets, cluster.ring_hash);
  }
}

}  // namespace

PrioritySet::PrioritySet(const Cluster& cluster) : host_set_(cluster.host_set) {
  const HostSet& set = *host_set_;
  uint32_t level_count = 0;
  for (const Host& host : set.hosts) level_count = std::max(level_count, host.priority + 1);
  for (const Locality& locality : set.localities) {
    level_count = std::max(level_count, locality.priority + 1);
  }
  levels_.resize(std::max<uint32_t>(level_count, 1));
  // Every LocalityLbEndpoints is its own locality, even an empty one: it still has a weight.
  std::vector<int> locality_slot(set.localities.size(), -1);
  for (size_t l = 0; l < set.localities.size(); ++l) {
    auto& level = levels_[set.localities[l].priority];
    locality_slot[l] = static_cast<int>(level.localities.size());
    level.localities.push_back({static_cast<uint32_t>(l), set.localities[l].weight, {}});
  }
  for (uint32_t i = 0; i < set.hosts.size(); ++i) {
    const Host& host = set.hosts[i];
    PriorityLevel& level = levels_[host.priority];
    LocalityHosts* locality = nullptr;
    if (host.locality < locality_slot.size() && locality_slot[host.locality] >= 0) {
      locality = &level.localities[locality_slot[host.locality]];
    }
    auto add = [&](HostSource source) {
      level.hosts[static_cast<size_t>(source)].push_back(i);
      if (locality != nullptr) locality->hosts[static_cast<size_t>(source)].push_back(i);
    };
    add(HostSource::kAll);
    switch (host.health()) {
      case HostHealth::kHealthy:
        add(HostSource::kHealthy);
        ++healthy_count_;
        break;
      case HostHealth::kDegraded:
        add(HostSource::kDegraded);
        ++degraded_count_;
        break;
      case HostHealth::kUnhealthy:
        break;
    }
  }
  computeLoads(std::min<uint32_t>(cluster.healthy_panic_threshold, 100));
  if (cluster.lb_policy != LbPolicy::kRingHash && cluster.lb_policy != LbPolicy::kMaglev) return;
  for (PriorityLevel& level : levels_) {
    if (level.panic) {
      buildTable(cluster, set, level, HostSource::kAll);
      continue;
    }
    for (HostSource source : {HostSource::kHealthy, HostSource::kDegraded}) {
      if (!level.of(source).empty()) buildTable(cluster, set, level, source);
    }
  }
}

void PrioritySet::computeLoads(uint32_t panic_threshold) {
  const HostSet& set = *host_set_;
  std::vector<uint32_t> health(levels_.size()), degraded(levels_.size());
  for (size_t i = 0; i < levels_.size(); ++i) {
    const PriorityLevel& level = levels_[i];
    uint64_t healthy_part = level.of(HostSource::kHealthy).size();
    uint64_t degraded_part = level.of(HostSource::kDegraded).size();
    uint64_t total = level.of(HostSource::kAll).size();
    if (set.weighted_priority_health) {
      auto weight = [&](const HostIndexes& indexes) {
        uint64_t sum = 0;
        for (uint32_t index : indexes) sum += set.hosts[index].weight;
        return sum;
      };
      healthy_part = weight(level.of(HostSource::kHealthy));
      degraded_part = weight(level.of(HostSource::kDegraded));
      total = weight(level.of(HostSource::kAll));
    }
    health[i] = levelHealth(healthy_part, total, set.overprovisioning_factor);
    degraded[i] = levelHealth(degraded_part, total, set.overprovisioning_factor);
  }
  uint32_t availability = 0;
  for (size_t i = 0; i < levels_.size(); ++i) availability += health[i] + degraded[i];
  availability = std::min<uint32_t>(availability, 100);

  if (availability > 0) {
    const auto [first_healthy, left] = distributeLoad(levels_, health, 100, availability, false);
    const auto [first_degraded, rest] = distributeLoad(levels_, degraded, left, availability, true);
    // Rounding leftovers go to the first level that can take them, healthy before degraded.
    if (rest != 0) {
      if (first_healthy >= 0) {
        levels_[first_healthy].healthy_load += rest;
      } else {
        levels_[first_degraded].degraded_load += rest;
      }
    }
  }

  // No hosts up anywhere and panic disabled: the loads must still sum to 100, so level 0 takes
  // them, and a pick then finds no healthy host (Envoy's behaviour).
  if (panic_threshold == 0 && availability == 0) {
    levels_[0].healthy_load = 100;
    return;
  }
  bool all_panic = true;
  for (PriorityLevel& level : levels_) {
    const double all = static_cast<double>(level.of(HostSource::kAll).size());
    const double up = all == 0 ? 0.0
                               : 100.0 *
                                     static_cast<double>(level.of(HostSource::kHealthy).size() +
                                                         level.of(HostSource::kDegraded).size()) /
                                     all;
    level.panic = availability == 100 ? false : up < panic_threshold;
    all_panic = all_panic && level.panic;
  }
  if (all_panic) computeTotalPanicLoads();
}

void PrioritySet::computeTotalPanicLoads() {
  // Every level is in panic: spread load by host count across levels, ignoring health.
  const size_t total = host_set_->hosts.size();
  for (PriorityLevel& level : levels_) level.healthy_load = level.degraded_load = 0;
  if (total == 0) {
    levels_[0].healthy_load = 100;
    return;
  }
  uint32_t left = 100;
  int first = -1;
  for (size_t i = 0; i < levels_.size(); ++i) {
    const size_t count = levels_[i].of(HostSource::kAll).size();
    if (first < 0 && count > 0) first = static_cast<int>(i);
    levels_[i].healthy_load = static_cast<uint32_t>(100 * count / total);
    left -= levels_[i].healthy_load;
  }
  levels_[first].healthy_load += left;
}

PrioritySet::Choice PrioritySet::choose(uint64_t draw) const {
  const uint64_t point = draw % 100 + 1;
  uint64_t sum = 0;
  for (size_t i = 0; i < levels_.size(); ++i) {
    sum += levels_[i].healthy_load;
    if (point <= sum) return {static_cast<uint32_t>(i), HostSource::kHealthy};
  }
  for (size_t i = 0; i < levels_.size(); ++i) {
    sum += levels_[i].degraded_load;
    if (point <= sum) return {static_cast<uint32_t>(i), HostSource::kDegraded};
  }
  return {0, HostSource::kHealthy};  // Loads always sum to 100; unreachable.
}

}  // namespace remora::upstream
