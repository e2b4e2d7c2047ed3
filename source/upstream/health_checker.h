// Active health checking of one cluster's hosts (Cluster.health_checks, HTTP/1.1 or TCP), run on
// the main thread's event loop. It reports each change of a host's health; whoever owns the
// cluster turns that into Host::failed_active_health_check in the next published host set.
//
// Semantics, as Envoy's:
// - A host starts unhealthy when it is added (Envoy marks every host of a health-checked cluster
//   as failing active health checks until checked). Its first check runs as soon as the loop
//   turns (after a random wait within initial_jitter, when set); if that first check passes, the
//   host is healthy at once, whatever healthy_threshold says.
// - After every check the next one waits, from the moment the result is known:
//   no_traffic_interval while the cluster has had no traffic (no_traffic_healthy_interval, when
//   set, for a healthy host); otherwise interval for a healthy host, unhealthy_interval for an
//   unhealthy one, and healthy_edge_interval / unhealthy_edge_interval for the first check after
//   a host changed state. Each wait gets random jitter on top (interval_jitter and
//   interval_jitter_percent of the wait).
// - A check that has no answer within `timeout` fails like a network error and its connection
//   is closed.
// - An unhealthy host becomes healthy after healthy_threshold passing checks in a row. A healthy
//   host becomes unhealthy after unhealthy_threshold failed checks in a row, where a failure is a
//   network error, a timeout or a status in retriable_statuses; any other answer that fails (a
//   status outside expected_statuses, a body without the `receive` blocks) makes it unhealthy at
//   once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "source/event/dispatcher.h"
#include "source/network/address.h"
#include "source/stats/store.h"
#include "source/upstream/health_check_config.h"
#include "source/upstream/random.h"

namespace remora::upstream {

// Envoy's cluster.<name>.health_check.* stats.
struct HealthCheckStats {
  HealthCheckStats(stats::Store& store, const std::string& cluster_name);
  stats::Counter& attempt;
  stats::Counter& success;
  stats::Counter& failure;          // Every failed check, network failures included.
  stats::Counter& network_failure;  // Connect errors, resets, protocol errors and timeouts.
  stats::Counter& passive_failure;  // Envoy's x-envoy-immediate-health-check-fail; always 0 here.
  stats::Counter& verify_cluster;   // service_name_matcher checks; always 0 here.
  stats::Gauge& healthy;            // Hosts this checker currently considers healthy.
};

// The wait before a host's next check, before jitter (see the rules above).
std::chrono::milliseconds baseInterval(const HealthCheckConfig& config, bool had_traffic,
                                       bool healthy, bool just_changed);
// `base` plus random jitter: [0, interval_jitter) and [0, base * interval_jitter_percent / 100).
std::chrono::milliseconds withJitter(std::chrono::milliseconds base,
                                     const HealthCheckConfig& config, FastRandom& random);

class HealthChecker {
 public:
  // Called only when a host's health changes: `healthy` is its new state. It may call setHosts()
  // but must not destroy the checker.
  using OnHealthChange = std::function<void(const std::string& address, bool healthy)>;

  // Checks nothing until setHosts(). `cluster_name` names the stats and is the HTTP Host header
  // when http_health_check.host is empty.
  HealthChecker(event::Dispatcher& dispatcher, HealthCheckConfig config, std::string cluster_name,
                stats::Store& store, OnHealthChange on_change);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // The hosts to check, by address: new ones start (unhealthy, first check soon), missing ones
  // stop at once (a check in flight is abandoned), the others keep their state and schedule.
  void setHosts(const std::vector<network::Address>& hosts);
  // Whether the cluster has carried traffic (Envoy: any upstream connection ever made). Until it
  // has, checks are spaced by no_traffic_interval. Starts false. Pending waits are redone with
  // the new interval when this changes.
  void setHadTraffic(bool had_traffic);

  // Called when the last host not yet checked gets its first result (the first round is done).
  // The same rules as OnHealthChange apply.
  void setOnFirstRoundDone(std::function<void()> done) { on_first_round_ = std::move(done); }
  // Called after every passing check (outlier detection may then bring an ejected host back).
  void setOnCheckPassed(std::function<void(const std::string& address)> passed) {
    on_check_passed_ = std::move(passed);
  }
  // Every host has had at least one check.
  bool firstRoundDone() const { return unchecked_ == 0; }

  // The health of a host being checked; nullopt for an address not in setHosts().
  std::optional<bool> healthy(const std::string& address) const;
  size_t hostCount() const { return sessions_.size(); }
  const HealthCheckStats& stats() const { return stats_; }

 private:
  class Session;
  class HttpSession;
  class TcpSession;

  std::unique_ptr<Session> makeSession(const network::Address& address);
  void onFirstResult();

  event::Dispatcher& dispatcher_;
  const HealthCheckConfig config_;
  const std::string cluster_name_;
  HealthCheckStats stats_;
  OnHealthChange on_change_;
  FastRandom random_;
  bool had_traffic_ = false;
  std::function<void()> on_first_round_;
  std::function<void(const std::string&)> on_check_passed_;
  size_t unchecked_ = 0;  // Sessions whose first check has not ended.
  absl::flat_hash_map<std::string, std::unique_ptr<Session>> sessions_;  // By address text.
};

}  // namespace remora::upstream
