// Passive health checking of one cluster's hosts (Cluster.outlier_detection), as Envoy does it:
// workers report each request's outcome to the host's OutlierHostMonitor; the main thread's
// OutlierDetector ejects hosts that fail too often in a row (at once) or whose success rate or
// failure percentage stands out (every `interval`), and brings them back when their time is up.
//
// Semantics, as Envoy's:
// - Every ejection passes one gate: it is refused (ejections_overflow) when the hosts ejected
//   would then exceed max_ejection_percent of all hosts, unless always_eject_one_host and none
//   is ejected yet; otherwise it is carried out with probability enforcing_<kind>% (else it is
//   only counted as ejections_detected_<kind>).
// - An ejection lasts base_ejection_time × the host's multiplier, capped at
//   max(max_ejection_time, base_ejection_time), plus random jitter. The multiplier grows by one at
//   each ejection (until the cap is reached) and shrinks by one at every interval that finds the
//   host in service at least one interval after it came back.
// - Success rate: hosts with at least success_rate_request_volume requests in the last interval
//   take part, provided there are success_rate_minimum_hosts of them; a host whose success rate
//   is below mean − stdev × success_rate_stdev_factor / 1000 is an outlier. Failure percentage:
//   likewise with its own volume and host minimum; a host failing at least
//   failure_percentage_threshold % of its requests is an outlier. Both run for external errors
//   and, when split_external_local_origin_errors, separately for local-origin ones.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "source/event/dispatcher.h"
#include "source/network/address.h"
#include "source/stats/store.h"
#include "source/upstream/outlier_detection_config.h"

namespace remora::upstream {

// What happened to a request before (or instead of) an HTTP status from the host.
// kSuccess: connected, and a protocol on top (HTTP) will report the outcome; kSuccessFinal:
// connected and nothing more will be said (TCP proxying), which counts as a success.
enum class LocalOriginResult { kConnectFailed, kTimeout, kReset, kSuccess, kSuccessFinal };

enum class OutlierEjectionType {
  kConsecutive5xx,
  kConsecutiveGatewayFailure,
  kConsecutiveLocalOriginFailure,
  kSuccessRate,
  kSuccessRateLocalOrigin,
  kFailurePercentage,
  kFailurePercentageLocalOrigin,
};

class OutlierHostMonitor;

// Carries a monitor's "threshold reached" to the main thread. Any thread may call notify(); the
// handler runs on the dispatcher's thread, and not at all once the handler's owner has dropped it.
// The dispatcher must outlive every monitor holding this notifier.
class OutlierNotifier {
 public:
  using Handler =
      std::function<void(const std::shared_ptr<OutlierHostMonitor>&, OutlierEjectionType)>;

  OutlierNotifier(event::Dispatcher& dispatcher, std::weak_ptr<Handler> handler)
      : dispatcher_(dispatcher), handler_(std::move(handler)) {}
  void notify(std::weak_ptr<OutlierHostMonitor> monitor, OutlierEjectionType type);

 private:
  event::Dispatcher& dispatcher_;
  const std::weak_ptr<Handler> handler_;
};

// One host's request outcomes. Written by every worker at once, so it only uses atomics and
// never allocates, except to post a notification when a consecutive counter reaches its threshold.
class OutlierHostMonitor : public std::enable_shared_from_this<OutlierHostMonitor> {
 public:
  struct RequestCounts {
    uint64_t total = 0;
    uint64_t success = 0;
  };

  OutlierHostMonitor(std::string address, const OutlierDetectionConfig& config,
                     std::shared_ptr<OutlierNotifier> notifier);

  // Any thread. 5xx counts towards consecutive_5xx, and 502/503/504 also towards
  // consecutive_gateway_failure; anything else resets both. Every status counts in the external
  // success rate (5xx as a failure).
  void putHttpStatus(uint32_t status);
  // Any thread. Not split: failures count as a 503 (a timeout as a 504), kSuccessFinal as a 200,
  // and kSuccess is ignored, since the status that follows will be reported. Split: judged on
  // their own.
  void putLocalOrigin(LocalOriginResult result);

  const std::string& address() const { return address_; }
  // The current interval so far.
  RequestCounts externalCounts() const { return unpack(external_.load(std::memory_order_relaxed)); }
  RequestCounts localOriginCounts() const {
    return unpack(local_origin_.load(std::memory_order_relaxed));
  }
  uint32_t consecutive5xx() const { return consecutive_5xx_.load(std::memory_order_relaxed); }
  uint32_t consecutiveGatewayFailures() const {
    return consecutive_gateway_.load(std::memory_order_relaxed);
  }
  uint32_t consecutiveLocalOriginFailures() const {
    return consecutive_local_origin_.load(std::memory_order_relaxed);
  }

  // Main thread (the detector): ends the interval, returning its counts.
  RequestCounts takeExternalCounts() { return unpack(external_.exchange(0)); }
  RequestCounts takeLocalOriginCounts() { return unpack(local_origin_.exchange(0)); }
  void resetConsecutive(OutlierEjectionType type);
  void resetAllConsecutive();

 private:
  // A request's total and success count share one word (total high, successes low) so that ending
  // an interval takes both at the same instant.
  static constexpr uint64_t kOneRequest = uint64_t{1} << 32;
  static RequestCounts unpack(uint64_t packed) { return {packed >> 32, packed & 0xffffffffu}; }
  void bump(std::atomic<uint32_t>& counter, uint32_t threshold, OutlierEjectionType type);

  const std::string address_;
  const bool split_;
  const uint32_t consecutive_5xx_threshold_;
  const uint32_t consecutive_gateway_threshold_;
  const uint32_t consecutive_local_origin_threshold_;
  const std::shared_ptr<OutlierNotifier> notifier_;

  std::atomic<uint32_t> consecutive_5xx_{0};
  std::atomic<uint32_t> consecutive_gateway_{0};
  std::atomic<uint32_t> consecutive_local_origin_{0};
  std::atomic<uint64_t> external_{0};
  std::atomic<uint64_t> local_origin_{0};
};

// Envoy's cluster.<name>.outlier_detection.* stats.
struct OutlierDetectionStats {
  OutlierDetectionStats(stats::Store& store, const std::string& cluster_name);
  stats::Counter& enforced(OutlierEjectionType type);
  stats::Counter& detected(OutlierEjectionType type);

  stats::Gauge& ejections_active;
  stats::Counter& ejections_overflow;
  stats::Counter& ejections_enforced_total;
  stats::Counter& ejections_enforced_consecutive_5xx;
  stats::Counter& ejections_detected_consecutive_5xx;
  stats::Counter& ejections_enforced_success_rate;
  stats::Counter& ejections_detected_success_rate;
  stats::Counter& ejections_enforced_consecutive_gateway_failure;
  stats::Counter& ejections_detected_consecutive_gateway_failure;
  stats::Counter& ejections_enforced_consecutive_local_origin_failure;
  stats::Counter& ejections_detected_consecutive_local_origin_failure;
  stats::Counter& ejections_enforced_local_origin_success_rate;
  stats::Counter& ejections_detected_local_origin_success_rate;
  stats::Counter& ejections_enforced_failure_percentage;
  stats::Counter& ejections_detected_failure_percentage;
  stats::Counter& ejections_enforced_failure_percentage_local_origin;
  stats::Counter& ejections_detected_failure_percentage_local_origin;
};

// Main thread only.
class OutlierDetector {
 public:
  // Called once per change of a host's state, on the main thread. It may call setHosts() but
  // must not destroy the detector.
  using OnEjectionChange = std::function<void(const std::string& address, bool ejected)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // Uniform 64-bit draws, for the enforcing_* rolls and the jitter; empty: a seeded FastRandom.
  using Random = std::function<uint64_t()>;

  // Arms a timer that runs evaluate() every config.interval.
  OutlierDetector(event::Dispatcher& dispatcher, OutlierDetectionConfig config,
                  std::string cluster_name, stats::Store& store, OnEjectionChange on_change,
                  Clock clock = std::chrono::steady_clock::now, Random random = {});
  ~OutlierDetector();
  OutlierDetector(const OutlierDetector&) = delete;
  OutlierDetector& operator=(const OutlierDetector&) = delete;

  // New hosts get a fresh monitor; missing ones are forgotten (no callback, even if ejected);
  // the others keep their monitor and state.
  void setHosts(const std::vector<network::Address>& hosts);
  // Null for an address not in setHosts().
  std::shared_ptr<OutlierHostMonitor> monitor(const std::string& address) const;
  bool ejected(const std::string& address) const;
  // The multiplier of the host's next ejection time, less one (0: never ejected or forgiven).
  uint32_t ejectionMultiplier(const std::string& address) const;
  size_t hostCount() const { return hosts_.size(); }
  const OutlierDetectionStats& stats() const { return stats_; }

  // One sweep: brings back hosts whose time is up, forgives a step of the others' multipliers,
  // runs success-rate and failure-percentage detection over the interval just ended and starts
  // the next one.
  void evaluate();
  // An active health check passed: an ejected host is back at once, when
  // successful_active_health_check_uneject_host.
  void onActiveHealthCheckPassed(const std::string& address);

 private:
  struct HostState {
    std::shared_ptr<OutlierHostMonitor> monitor;
    bool ejected = false;
    uint32_t multiplier = 0;
    std::chrono::steady_clock::time_point ejected_at{};
    std::chrono::milliseconds ejection_duration{0};
    bool ever_unejected = false;
    std::chrono::steady_clock::time_point unejected_at{};
  };
  struct Sample {
    HostState* host;
    double success_rate;  // Percent.
  };
  using Changes = std::vector<std::pair<std::string, bool>>;

  void onThreshold(const std::shared_ptr<OutlierHostMonitor>& monitor, OutlierEjectionType type);
  void detectByRates(bool local_origin, Changes& changes);
  // Applies the gate; true when the host was ejected.
  bool tryEject(HostState& host, OutlierEjectionType type);
  void uneject(HostState& host, std::chrono::steady_clock::time_point now);
  bool roll(uint32_t percent);
  uint32_t enforcing(OutlierEjectionType type) const;
  void report(const Changes& changes);

  event::Dispatcher& dispatcher_;
  const OutlierDetectionConfig config_;
  const std::string cluster_name_;
  OutlierDetectionStats stats_;
  OnEjectionChange on_change_;
  Clock clock_;
  Random random_;
  // Ordered, so sweeps and their random draws happen in the same order every time.
  std::map<std::string, HostState> hosts_;
  size_t ejected_count_ = 0;
  // Monitors reach the detector through this; dropping it in the destructor cuts off
  // notifications still queued on the dispatcher.
  std::shared_ptr<OutlierNotifier::Handler> handler_;
  std::shared_ptr<OutlierNotifier> notifier_;
  event::TimerPtr timer_;
};

}  // namespace remora::upstream
