#include "source/upstream/least_request.h"

#include <algorithm>
#include <cmath>

namespace remora::upstream {

namespace {
// Keeps a deadline finite however large the bias or the load: such a host is put off for a very
// long time, never forever, matching Envoy's "never truly drains".
constexpr double kMinEffectiveWeight = 1e-9;
}  // namespace

LeastRequestLoadBalancer::LeastRequestLoadBalancer(HostSetConstSharedPtr hosts,
                                                   const LeastRequestConfig& config, uint64_t seed)
    : LeastRequestLoadBalancer(hosts, allHosts(*hosts), config, seed) {}

LeastRequestLoadBalancer::LeastRequestLoadBalancer(HostSetConstSharedPtr hosts, HostIndexes members,
                                                   const LeastRequestConfig& config, uint64_t seed)
    : hosts_(std::move(hosts)),
      members_(std::move(members)),
      choice_count_(std::max<uint32_t>(config.choice_count, 1)),
      active_request_bias_(config.active_request_bias),
      random_(seed),
      active_(members_.size(), 0),
      weighted_(!weightsEqual(*hosts_, members_)) {
  if (!weighted_) return;
  for (size_t i = 0; i < members_.size(); ++i) {
    schedule_.add(static_cast<uint32_t>(i), 1.0 / hosts_->hosts[members_[i]].weight);
  }
  // A random start per balancer, so workers do not all begin with the heaviest host.
  for (uint64_t i = random_.below(members_.size()); i > 0; --i) chooseWeighted();
}

const Host* LeastRequestLoadBalancer::chooseHost(const LoadBalancerContext*) {
  if (members_.empty()) return nullptr;
  return weighted_ ? chooseWeighted() : chooseUnweighted();
}

const Host* LeastRequestLoadBalancer::chooseUnweighted() {
  // Draws may repeat a host, as Envoy's do; the first of equally loaded candidates wins.
  size_t best = random_.below(members_.size());
  for (uint32_t i = 1; i < choice_count_; ++i) {
    const size_t candidate = random_.below(members_.size());
    if (active_[candidate] < active_[best]) best = candidate;
  }
  return &hosts_->hosts[members_[best]];
}

const Host* LeastRequestLoadBalancer::chooseWeighted() {
  // The picked host goes back with its weight as of now; the others keep the weight they were
  // last scheduled with until their own turn (Envoy's pick-time adjustment).
  const EdfScheduler::Due due = *schedule_.pop();
  schedule_.add(due.item, due.deadline + 1.0 / effectiveWeight(due.item));
  return &hosts_->hosts[members_[due.item]];
}

double LeastRequestLoadBalancer::effectiveWeight(size_t position) const {
  const double weight = hosts_->hosts[members_[position]].weight;
  const double load = static_cast<double>(active_[position]) + 1.0;
  double effective;
  if (active_request_bias_ == 1.0) {
    effective = weight / load;  // The default; skips pow().
  } else if (active_request_bias_ == 0.0) {
    effective = weight;
  } else {
    effective = weight / std::pow(load, active_request_bias_);
  }
  return std::max(effective, kMinEffectiveWeight);
}

std::optional<size_t> LeastRequestLoadBalancer::positionOf(const Host& host) const {
  auto index = hosts_->indexOf(host);
  return index ? memberPosition(members_, *index) : std::nullopt;
}

void LeastRequestLoadBalancer::onRequestStart(const Host& host) {
  if (auto position = positionOf(host)) ++active_[*position];
}

void LeastRequestLoadBalancer::onRequestEnd(const Host& host) {
  auto position = positionOf(host);
  if (position && active_[*position] > 0) --active_[*position];
}

uint32_t LeastRequestLoadBalancer::activeRequests(const Host& host) const {
  auto position = positionOf(host);
  return position ? active_[*position] : 0;
}

}  // namespace remora::upstream
