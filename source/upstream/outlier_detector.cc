#include "source/upstream/outlier_detector.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "source/upstream/random.h"

namespace remora::upstream {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string statName(const std::string& cluster, const char* stat) {
  return "cluster." + cluster + ".outlier_detection." + stat;
}

// Writes only when needed: a healthy host's successes then leave the cache line shared between
// workers instead of bouncing it on every request.
void clear(std::atomic<uint32_t>& counter) {
  if (counter.load(std::memory_order_relaxed) != 0) counter.store(0, std::memory_order_relaxed);
}

}  // namespace

// --- OutlierNotifier -------------------------------------------------------------------------

void OutlierNotifier::notify(std::weak_ptr<OutlierHostMonitor> monitor, OutlierEjectionType type) {
  dispatcher_.post([handler = handler_, monitor = std::move(monitor), type] {
    // Both locks happen on the handler owner's thread, so a live handler stays live for the call.
    std::shared_ptr<Handler> h = handler.lock();
    std::shared_ptr<OutlierHostMonitor> m = monitor.lock();
    if (h && m) (*h)(m, type);
  });
}

// --- OutlierHostMonitor ----------------------------------------------------------------------

OutlierHostMonitor::OutlierHostMonitor(std::string address, const OutlierDetectionConfig& config,
                                       std::shared_ptr<OutlierNotifier> notifier)
    : address_(std::move(address)),
      split_(config.split_external_local_origin_errors),
      consecutive_5xx_threshold_(config.consecutive_5xx),
      consecutive_gateway_threshold_(config.consecutive_gateway_failure),
      consecutive_local_origin_threshold_(config.consecutive_local_origin_failure),
      notifier_(std::move(notifier)) {}

void OutlierHostMonitor::bump(std::atomic<uint32_t>& counter, uint32_t threshold,
                              OutlierEjectionType type) {
  // Only the increment that lands exactly on the threshold notifies, so racing workers produce
  // one notification per crossing. Threshold 0 never trips (not even when the counter wraps).
  const uint32_t now = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  if (threshold != 0 && now == threshold && notifier_ != nullptr) {
    notifier_->notify(weak_from_this(), type);
  }
}

void OutlierHostMonitor::putHttpStatus(uint32_t status) {
  if (status >= 500 && status < 600) {
    external_.fetch_add(kOneRequest, std::memory_order_relaxed);
    if (status >= 502 && status <= 504) {
      bump(consecutive_gateway_, consecutive_gateway_threshold_,
           OutlierEjectionType::kConsecutiveGatewayFailure);
    } else {
      clear(consecutive_gateway_);
    }
    bump(consecutive_5xx_, consecutive_5xx_threshold_, OutlierEjectionType::kConsecutive5xx);
    return;
  }
  external_.fetch_add(kOneRequest + 1, std::memory_order_relaxed);
  clear(consecutive_5xx_);
  clear(consecutive_gateway_);
}

void OutlierHostMonitor::putLocalOrigin(LocalOriginResult result) {
  if (!split_) {
    switch (result) {
      case LocalOriginResult::kConnectFailed:
      case LocalOriginResult::kReset:
        putHttpStatus(503);
        return;
      case LocalOriginResult::kTimeout:
        putHttpStatus(504);
        return;
      case LocalOriginResult::kSuccess:
        return;
      case LocalOriginResult::kSuccessFinal:
        putHttpStatus(200);
        return;
    }
    return;
  }
  if (result == LocalOriginResult::kSuccess || result == LocalOriginResult::kSuccessFinal) {
    local_origin_.fetch_add(kOneRequest + 1, std::memory_order_relaxed);
    clear(consecutive_local_origin_);
    return;
  }
  local_origin_.fetch_add(kOneRequest, std::memory_order_relaxed);
  bump(consecutive_local_origin_, consecutive_local_origin_threshold_,
       OutlierEjectionType::kConsecutiveLocalOriginFailure);
}

void OutlierHostMonitor::resetConsecutive(OutlierEjectionType type) {
  switch (type) {
    case OutlierEjectionType::kConsecutive5xx:
      consecutive_5xx_.store(0, std::memory_order_relaxed);
      break;
    case OutlierEjectionType::kConsecutiveGatewayFailure:
      consecutive_gateway_.store(0, std::memory_order_relaxed);
      break;
    case OutlierEjectionType::kConsecutiveLocalOriginFailure:
      consecutive_local_origin_.store(0, std::memory_order_relaxed);
      break;
    default:
      break;
  }
}

void OutlierHostMonitor::resetAllConsecutive() {
  consecutive_5xx_.store(0, std::memory_order_relaxed);
  consecutive_gateway_.store(0, std::memory_order_relaxed);
  consecutive_local_origin_.store(0, std::memory_order_relaxed);
}

// --- OutlierDetectionStats -------------------------------------------------------------------

OutlierDetectionStats::OutlierDetectionStats(stats::Store& store, const std::string& c)
    : ejections_active(store.gauge(statName(c, "ejections_active"))),
      ejections_overflow(store.counter(statName(c, "ejections_overflow"))),
      ejections_enforced_total(store.counter(statName(c, "ejections_enforced_total"))),
      ejections_enforced_consecutive_5xx(
          store.counter(statName(c, "ejections_enforced_consecutive_5xx"))),
      ejections_detected_consecutive_5xx(
          store.counter(statName(c, "ejections_detected_consecutive_5xx"))),
      ejections_enforced_success_rate(
          store.counter(statName(c, "ejections_enforced_success_rate"))),
      ejections_detected_success_rate(
          store.counter(statName(c, "ejections_detected_success_rate"))),
      ejections_enforced_consecutive_gateway_failure(
          store.counter(statName(c, "ejections_enforced_consecutive_gateway_failure"))),
      ejections_detected_consecutive_gateway_failure(
          store.counter(statName(c, "ejections_detected_consecutive_gateway_failure"))),
      ejections_enforced_consecutive_local_origin_failure(
          store.counter(statName(c, "ejections_enforced_consecutive_local_origin_failure"))),
      ejections_detected_consecutive_local_origin_failure(
          store.counter(statName(c, "ejections_detected_consecutive_local_origin_failure"))),
      ejections_enforced_local_origin_success_rate(
          store.counter(statName(c, "ejections_enforced_local_origin_success_rate"))),
      ejections_detected_local_origin_success_rate(
          store.counter(statName(c, "ejections_detected_local_origin_success_rate"))),
      ejections_enforced_failure_percentage(
          store.counter(statName(c, "ejections_enforced_failure_percentage"))),
      ejections_detected_failure_percentage(
          store.counter(statName(c, "ejections_detected_failure_percentage"))),
      ejections_enforced_failure_percentage_local_origin(
          store.counter(statName(c, "ejections_enforced_failure_percentage_local_origin"))),
      ejections_detected_failure_percentage_local_origin(
          store.counter(statName(c, "ejections_detected_failure_percentage_local_origin"))) {}

stats::Counter& OutlierDetectionStats::enforced(OutlierEjectionType type) {
  switch (type) {
    case OutlierEjectionType::kConsecutive5xx:
      return ejections_enforced_consecutive_5xx;
    case OutlierEjectionType::kConsecutiveGatewayFailure:
      return ejections_enforced_consecutive_gateway_failure;
    case OutlierEjectionType::kConsecutiveLocalOriginFailure:
      return ejections_enforced_consecutive_local_origin_failure;
    case OutlierEjectionType::kSuccessRate:
      return ejections_enforced_success_rate;
    case OutlierEjectionType::kSuccessRateLocalOrigin:
      return ejections_enforced_local_origin_success_rate;
    case OutlierEjectionType::kFailurePercentage:
      return ejections_enforced_failure_percentage;
    case OutlierEjectionType::kFailurePercentageLocalOrigin:
      return ejections_enforced_failure_percentage_local_origin;
  }
  return ejections_enforced_consecutive_5xx;
}

stats::Counter& OutlierDetectionStats::detected(OutlierEjectionType type) {
  switch (type) {
    case OutlierEjectionType::kConsecutive5xx:
      return ejections_detected_consecutive_5xx;
    case OutlierEjectionType::kConsecutiveGatewayFailure:
      return ejections_detected_consecutive_gateway_failure;
    case OutlierEjectionType::kConsecutiveLocalOriginFailure:
      return ejections_detected_consecutive_local_origin_failure;
    case OutlierEjectionType::kSuccessRate:
      return ejections_detected_success_rate;
    case OutlierEjectionType::kSuccessRateLocalOrigin:
      return ejections_detected_local_origin_success_rate;
    case OutlierEjectionType::kFailurePercentage:
      return ejections_detected_failure_percentage;
    case OutlierEjectionType::kFailurePercentageLocalOrigin:
      return ejections_detected_failure_percentage_local_origin;
  }
  return ejections_detected_consecutive_5xx;
}

// --- OutlierDetector -------------------------------------------------------------------------

OutlierDetector::OutlierDetector(event::Dispatcher& dispatcher, OutlierDetectionConfig config,
                                 std::string cluster_name, stats::Store& store,
                                 OnEjectionChange on_change, Clock clock, Random random)
    : dispatcher_(dispatcher),
      config_(std::move(config)),
      cluster_name_(std::move(cluster_name)),
      stats_(store, cluster_name_),
      on_change_(std::move(on_change)),
      clock_(std::move(clock)),
      random_(std::move(random)) {
  if (!random_) {
    random_ = [r = FastRandom((uint64_t{std::random_device{}()} << 32) ^
                              std::random_device{}())]() mutable { return r.next(); };
  }
  handler_ = std::make_shared<OutlierNotifier::Handler>(
      [this](const std::shared_ptr<OutlierHostMonitor>& monitor, OutlierEjectionType type) {
        onThreshold(monitor, type);
      });
  notifier_ = std::make_shared<OutlierNotifier>(dispatcher_, handler_);
  timer_ = dispatcher_.createTimer([this] {
    evaluate();
    timer_->enable(config_.interval);
  });
  timer_->enable(config_.interval);
}

OutlierDetector::~OutlierDetector() {
  handler_.reset();
  timer_.reset();
  // The gauge outlives this detector in the store; a rebuilt detector starts with none ejected.
  stats_.ejections_active.dec(static_cast<int64_t>(ejected_count_));
}

void OutlierDetector::setHosts(const std::vector<network::Address>& hosts) {
  absl::flat_hash_set<std::string> wanted;
  for (const network::Address& address : hosts) {
    const std::string& key = address.asString();
    if (!wanted.insert(key).second || hosts_.contains(key)) continue;
    HostState state;
    state.monitor = std::make_shared<OutlierHostMonitor>(key, config_, notifier_);
    hosts_.emplace(key, std::move(state));
  }
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    if (it->second.ejected) {
      --ejected_count_;
      stats_.ejections_active.dec();
    }
    it = hosts_.erase(it);
  }
}

std::shared_ptr<OutlierHostMonitor> OutlierDetector::monitor(const std::string& address) const {
  auto it = hosts_.find(address);
  return it == hosts_.end() ? nullptr : it->second.monitor;
}

bool OutlierDetector::ejected(const std::string& address) const {
  auto it = hosts_.find(address);
  return it != hosts_.end() && it->second.ejected;
}

uint32_t OutlierDetector::ejectionMultiplier(const std::string& address) const {
  auto it = hosts_.find(address);
  return it == hosts_.end() ? 0 : it->second.multiplier;
}

void OutlierDetector::evaluate() {
  const steady_clock::time_point now = clock_();
  Changes changes;
  for (auto& [address, host] : hosts_) {
    if (host.ejected) {
      if (now - host.ejected_at >= host.ejection_duration) {
        uneject(host, now);
        changes.emplace_back(address, false);
      }
    } else if (host.multiplier > 0 && host.ever_unejected &&
               now - host.unejected_at >= config_.interval) {
      // Envoy forgives one step per sweep once the host has stayed back a whole interval.
      --host.multiplier;
    }
  }
  detectByRates(/*local_origin=*/false, changes);
  if (config_.split_external_local_origin_errors) detectByRates(/*local_origin=*/true, changes);
  report(changes);
}

void OutlierDetector::detectByRates(bool local_origin, Changes& changes) {
  std::vector<Sample> by_success_rate;
  std::vector<Sample> by_failure_percentage;
  double sum = 0;
  const uint64_t sr_volume = std::max<uint64_t>(config_.success_rate_request_volume, 1);
  const uint64_t fp_volume = std::max<uint64_t>(config_.failure_percentage_request_volume, 1);
  for (auto& [address, host] : hosts_) {
    // Every host's interval ends here, ejected or not, so the next one starts from zero.
    const OutlierHostMonitor::RequestCounts counts =
        local_origin ? host.monitor->takeLocalOriginCounts() : host.monitor->takeExternalCounts();
    if (host.ejected || counts.total == 0) continue;
    const double rate =
        100.0 * static_cast<double>(counts.success) / static_cast<double>(counts.total);
    if (counts.total >= sr_volume) {
      by_success_rate.push_back({&host, rate});
      sum += rate;
    }
    if (counts.total >= fp_volume) by_failure_percentage.push_back({&host, rate});
  }

  if (!by_success_rate.empty() && by_success_rate.size() >= config_.success_rate_minimum_hosts) {
    const double n = static_cast<double>(by_success_rate.size());
    const double mean = sum / n;
    double variance = 0;
    for (const Sample& s : by_success_rate)
      variance += (s.success_rate - mean) * (s.success_rate - mean);
    const double stdev = std::sqrt(variance / n);
    const double threshold = mean - stdev * (config_.success_rate_stdev_factor / 1000.0);
    const OutlierEjectionType type = local_origin ? OutlierEjectionType::kSuccessRateLocalOrigin
                                                  : OutlierEjectionType::kSuccessRate;
    for (const Sample& s : by_success_rate) {
      if (s.success_rate < threshold && tryEject(*s.host, type)) {
        changes.emplace_back(s.host->monitor->address(), true);
      }
    }
  }

  if (!by_failure_percentage.empty() &&
      by_failure_percentage.size() >= config_.failure_percentage_minimum_hosts) {
    const OutlierEjectionType type = local_origin
                                         ? OutlierEjectionType::kFailurePercentageLocalOrigin
                                         : OutlierEjectionType::kFailurePercentage;
    for (const Sample& s : by_failure_percentage) {
      // Already out by success rate this sweep: not detected twice.
      if (s.host->ejected) continue;
      if (100.0 - s.success_rate >= config_.failure_percentage_threshold &&
          tryEject(*s.host, type)) {
        changes.emplace_back(s.host->monitor->address(), true);
      }
    }
  }
}

void OutlierDetector::onThreshold(const std::shared_ptr<OutlierHostMonitor>& monitor,
                                  OutlierEjectionType type) {
  auto it = hosts_.find(monitor->address());
  // A host removed (or removed and added again) since the worker posted this.
  if (it == hosts_.end() || it->second.monitor != monitor) return;
  HostState& host = it->second;
  // Counters of an ejected host are reset when it comes back.
  if (host.ejected) return;
  const bool ejected = tryEject(host, type);
  // Detected or not, the next run of failures starts from zero.
  monitor->resetConsecutive(type);
  if (ejected) report({{it->first, true}});
}

void OutlierDetector::onActiveHealthCheckPassed(const std::string& address) {
  if (!config_.successful_active_health_check_uneject_host) return;
  auto it = hosts_.find(address);
  if (it == hosts_.end() || !it->second.ejected) return;
  uneject(it->second, clock_());
  report({{address, false}});
}

bool OutlierDetector::tryEject(HostState& host, OutlierEjectionType type) {
  stats_.detected(type).inc();
  // In integers: (ejected + 1) / hosts > max_ejection_percent / 100.
  const bool over_limit =
      (ejected_count_ + 1) * 100 > uint64_t{config_.max_ejection_percent} * hosts_.size();
  if (over_limit && !(config_.always_eject_one_host && ejected_count_ == 0)) {
    stats_.ejections_overflow.inc();
    return false;
  }
  if (!roll(enforcing(type))) return false;

  stats_.enforced(type).inc();
  stats_.ejections_enforced_total.inc();
  stats_.ejections_active.inc();
  ++ejected_count_;
  host.ejected = true;
  host.ejected_at = clock_();
  const milliseconds cap = std::max(config_.max_ejection_time, config_.base_ejection_time);
  // Stops growing at the cap so that a host that recovers is forgiven in a few intervals.
  if (config_.base_ejection_time * host.multiplier < cap) ++host.multiplier;
  milliseconds jitter{0};
  if (config_.max_ejection_time_jitter.count() > 0) {
    jitter = milliseconds(random_() %
                          (static_cast<uint64_t>(config_.max_ejection_time_jitter.count()) + 1));
  }
  host.ejection_duration = std::min(config_.base_ejection_time * host.multiplier, cap) + jitter;
  return true;
}

void OutlierDetector::uneject(HostState& host, steady_clock::time_point now) {
  host.ejected = false;
  --ejected_count_;
  stats_.ejections_active.dec();
  host.ever_unejected = true;
  host.unejected_at = now;
  // Counts near a threshold would otherwise eject it again after very few new failures.
  host.monitor->resetAllConsecutive();
}

bool OutlierDetector::roll(uint32_t percent) {
  if (percent >= 100) return true;
  if (percent == 0) return false;
  return random_() % 100 < percent;
}

uint32_t OutlierDetector::enforcing(OutlierEjectionType type) const {
  switch (type) {
    case OutlierEjectionType::kConsecutive5xx:
      return config_.enforcing_consecutive_5xx;
    case OutlierEjectionType::kConsecutiveGatewayFailure:
      return config_.enforcing_consecutive_gateway_failure;
    case OutlierEjectionType::kConsecutiveLocalOriginFailure:
      return config_.enforcing_consecutive_local_origin_failure;
    case OutlierEjectionType::kSuccessRate:
      return config_.enforcing_success_rate;
    case OutlierEjectionType::kSuccessRateLocalOrigin:
      return config_.enforcing_local_origin_success_rate;
    case OutlierEjectionType::kFailurePercentage:
      return config_.enforcing_failure_percentage;
    case OutlierEjectionType::kFailurePercentageLocalOrigin:
      return config_.enforcing_failure_percentage_local_origin;
  }
  return 0;
}

void OutlierDetector::report(const Changes& changes) {
  if (!on_change_) return;
  for (const auto& [address, ejected] : changes) {
    // An earlier callback may have changed the host set.
    auto it = hosts_.find(address);
    if (it == hosts_.end() || it->second.ejected != ejected) continue;
    on_change_(address, ejected);
  }
}

}  // namespace remora::upstream
