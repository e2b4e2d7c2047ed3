#include "source/upstream/cluster_load_balancer.h"

#include <algorithm>

#include "source/upstream/least_request.h"
#include "source/upstream/round_robin.h"

namespace remora::upstream {

ClusterLoadBalancer::ClusterLoadBalancer(const Cluster& cluster, uint64_t seed,
                                         uint32_t worker_index)
    : priority_set_(cluster.priority_set),
      policy_(cluster.lb_policy),
      least_request_(cluster.least_request),
      worker_index_(worker_index),
      stats_(cluster.stats),
      // Consistent hashing has locality weights in its tables, not in a locality pick.
      locality_weighted_(cluster.locality_weighted && cluster.lb_policy != LbPolicy::kRingHash &&
                         cluster.lb_policy != LbPolicy::kMaglev),
      random_(seed) {}

const Host* ClusterLoadBalancer::chooseHost(const LoadBalancerContext* context) {
  const uint32_t attempts = context != nullptr ? context->hostSelectionRetryCount() + 1 : 1;
  const Host* host = nullptr;
  for (uint32_t attempt = 0; attempt < attempts; ++attempt) {
    host = chooseOnce(context, attempt);
    if (host == nullptr || context == nullptr || !context->shouldSelectAnotherHost(*host)) break;
  }
  return host;
}

const Host* ClusterLoadBalancer::chooseOnce(const LoadBalancerContext* context, uint32_t attempt) {
  if (priority_set_ == nullptr || priority_set_->empty()) return nullptr;
  if (policy_ == LbPolicy::kRingHash || policy_ == LbPolicy::kMaglev) {
    return chooseHashed(context, attempt);
  }
  const PrioritySet::Choice choice = priority_set_->choose(random_.next());
  const PriorityLevel& level = priority_set_->levels()[choice.priority];
  // As Envoy: a locality with available hosts is preferred to panic.
  if (locality_weighted_) {
    if (auto locality = chooseLocality(choice.priority, choice.source)) {
      return picker(choice.priority, choice.source, locality).chooseHost(context);
    }
  }
  HostSource source = choice.source;
  if (level.panic) {
    if (stats_) stats_->lb_healthy_panic.inc();
    source = HostSource::kAll;
  }
  return picker(choice.priority, source, std::nullopt).chooseHost(context);
}

const Host* ClusterLoadBalancer::chooseHashed(const LoadBalancerContext* context,
                                              uint32_t attempt) {
  std::optional<uint64_t> key = context != nullptr ? context->hashKey() : std::nullopt;
  // No key (no hash policy matched): any host will do, as Envoy picks with a random hash.
  const uint64_t hash = key ? *key : random_.next();
  const PrioritySet::Choice choice = priority_set_->choose(hash);
  const PriorityLevel& level = priority_set_->levels()[choice.priority];
  HostSource source = choice.source;
  if (level.panic) {
    if (stats_) stats_->lb_healthy_panic.inc();
    source = HostSource::kAll;
  }
  const auto& table = level.tables[static_cast<size_t>(source)];
  if (table == nullptr) return nullptr;
  const std::optional<uint32_t> position = table->choose(hash, attempt);
  if (!position) return nullptr;
  return &priority_set_->hostSet()
              ->hosts[level.table_hosts[static_cast<size_t>(source)][*position]];
}

std::optional<uint32_t> ClusterLoadBalancer::chooseLocality(uint32_t priority, HostSource source) {
  auto& slot = locality_schedules_[uint64_t{priority} * 2 + static_cast<uint64_t>(source)];
  const PriorityLevel& level = priority_set_->levels()[priority];
  if (!slot) {
    // A locality's effective weight: its weight scaled by how available its hosts are, the
    // overprovisioning factor stretching availability as it does for priority levels.
    slot.emplace();
    const double factor = priority_set_->hostSet()->overprovisioning_factor / 100.0;
    for (uint32_t i = 0; i < level.localities.size(); ++i) {
      const LocalityHosts& locality = level.localities[i];
      const size_t all = locality.hosts[static_cast<size_t>(HostSource::kAll)].size();
      const size_t eligible = locality.hosts[static_cast<size_t>(source)].size();
      double weight = 0;
      if (all > 0 && eligible > 0) {
        weight = locality.weight *
                 std::min(1.0, factor * static_cast<double>(eligible) / static_cast<double>(all));
      }
      slot->weights.push_back(weight);
      if (weight > 0) slot->edf.add(i, 1.0 / weight);
    }
  }
  auto due = slot->edf.pop();
  if (!due) return std::nullopt;
  slot->edf.add(due->item, due->deadline + 1.0 / slot->weights[due->item]);
  return due->item;
}

LoadBalancer& ClusterLoadBalancer::picker(uint32_t priority, HostSource source,
                                          std::optional<uint32_t> locality) {
  const uint64_t key = (uint64_t{priority} << 34) | (uint64_t{static_cast<uint8_t>(source)} << 32) |
                       (locality ? *locality + 1 : 0);
  auto& slot = pickers_[key];
  if (slot != nullptr) return *slot;
  const PriorityLevel& level = priority_set_->levels()[priority];
  HostIndexes members =
      locality ? level.localities[*locality].hosts[static_cast<size_t>(source)] : level.of(source);
  const HostSetConstSharedPtr& hosts = priority_set_->hostSet();
  switch (policy_) {
    case LbPolicy::kLeastRequest:
      slot = std::make_unique<LeastRequestLoadBalancer>(hosts, std::move(members), least_request_,
                                                        random_.next());
      break;
    case LbPolicy::kRandom:
      slot = std::make_unique<RandomLoadBalancer>(hosts, std::move(members), random_.next());
      break;
    default:
      slot = std::make_unique<RoundRobinLoadBalancer>(hosts, std::move(members), worker_index_);
      break;
  }
  return *slot;
}

void ClusterLoadBalancer::onRequestStart(const Host& host) {
  if (policy_ != LbPolicy::kLeastRequest) return;
  for (auto& [key, lb] : pickers_) lb->onRequestStart(host);
}

void ClusterLoadBalancer::onRequestEnd(const Host& host) {
  if (policy_ != LbPolicy::kLeastRequest) return;
  for (auto& [key, lb] : pickers_) lb->onRequestEnd(host);
}

}  // namespace remora::upstream
