#include "source/upstream/dns_clusters.h"

#include "spdlog/spdlog.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace remora::upstream {

struct DnsClusters::Target {
  const DnsClusterConfig::Target* config;  // In Entry::config, which outlives this.
  DnsQueryPtr query;                       // In flight; null while waiting for `refresh`.
  event::TimerPtr refresh;
  // The latest successful answer, with the target's port; kept through failures, as Envoy does.
  std::vector<network::Address> addresses;
  bool answered = false;  // A first answer or failure came.
  uint32_t failures = 0;  // In a row, for the back-off.
};

struct DnsClusters::Entry {
  Entry(stats::Store& store, const std::string& name)
      : update_attempt(store.counter("cluster." + name + ".update_attempt")),
        update_success(store.counter("cluster." + name + ".update_success")),
        update_failure(store.counter("cluster." + name + ".update_failure")),
        update_no_rebuild(store.counter("cluster." + name + ".update_no_rebuild")) {}

  stats::Counter& update_attempt;
  stats::Counter& update_success;
  stats::Counter& update_failure;
  stats::Counter& update_no_rebuild;
  std::string fingerprint;
  std::shared_ptr<const DnsClusterConfig> config;
  std::unique_ptr<DnsResolver> own_resolver;  // When config->resolvers names servers.
  DnsResolver* resolver = nullptr;
  std::vector<std::unique_ptr<Target>> targets;  // Pointers: callbacks hold them.
  // Bumped whenever a target's addresses change; an output is reused while its input and this
  // are unchanged.
  uint64_t version = 0;
  ClusterConstSharedPtr input;
  uint64_t output_version = 0;
  ClusterConstSharedPtr output;
  // While a restarted resolution has not heard back for every target, the version before it
  // keeps serving.
  ClusterConstSharedPtr previous;
  bool warmed = false;
};

namespace {

// Whether `now` holds the same hosts as `before`. A STRICT answer's order does not count: DNS
// servers rotate records, and a rebuild every refresh would cost workers their pools.
bool sameAddresses(const std::vector<network::Address>& before,
                   const std::vector<network::Address>& now, bool ordered) {
  if (before.size() != now.size()) return false;
  std::vector<std::string> a, b;
  for (const auto& address : before) a.push_back(address.asString());
  for (const auto& address : now) b.push_back(address.asString());
  if (!ordered) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
  }
  return a == b;
}

}  // namespace

DnsClusters::DnsClusters(event::Dispatcher& dispatcher, stats::Store& store,
                         std::function<void()> on_change, std::string hosts_file)
    : dispatcher_(dispatcher),
      store_(store),
      notify_(dispatcher, std::move(on_change)),
      hosts_file_(std::move(hosts_file)) {}

DnsClusters::~DnsClusters() = default;

void DnsClusters::changed() { notify_.trigger(); }

std::optional<DnsClusters::Clusters> DnsClusters::apply(const Clusters& clusters) {
  std::optional<Clusters> out;
  for (const auto& [name, cluster] : clusters) {
    if (cluster->dns == nullptr) continue;
    if (!out) out.emplace(clusters);
    auto& slot = entries_[name];
    if (slot == nullptr) slot = std::make_unique<Entry>(store_, name);
    Entry& entry = *slot;
    if (entry.config == nullptr || entry.fingerprint != cluster->dns_fingerprint) {
      startEntry(name, *cluster, entry);
    }
    if (entry.output == nullptr || entry.input != cluster ||
        entry.output_version != entry.version) {
      entry.output = build(*cluster, entry);
      entry.input = cluster;
      entry.output_version = entry.version;
    }
    if (!entry.warmed) {
      // Warming: served only once every target has answered (or failed), as in Envoy. Until then
      // the version before a restart serves, or, for a new cluster, none: health checks and
      // balancers then start from its first answers.
      if (entry.previous != nullptr) {
        (*out)[name] = entry.previous;
      } else {
        out->erase(name);
      }
    } else {
      entry.previous.reset();
      (*out)[name] = entry.output;
    }
  }
  absl::erase_if(entries_, [&](const auto& kv) {
    auto it = clusters.find(kv.first);
    return it == clusters.end() || it->second->dns == nullptr;
  });
  return out;
}

bool DnsClusters::warmed() const {
  return std::all_of(entries_.begin(), entries_.end(),
                     [](const auto& kv) { return kv.second->warmed; });
}

void DnsClusters::startEntry(const std::string& name, const Cluster& cluster, Entry& entry) {
  entry.targets.clear();
  entry.own_resolver.reset();
  // A restart while still warming from the previous one keeps the version from before both.
  if (entry.warmed && entry.output != nullptr) entry.previous = entry.output;
  entry.output.reset();
  entry.input.reset();
  ++entry.version;
  entry.fingerprint = cluster.dns_fingerprint;
  entry.config = cluster.dns;
  const DnsClusterConfig& config = *entry.config;
  if (!config.resolvers.empty()) {
    entry.own_resolver = std::make_unique<DnsResolver>(dispatcher_, config.resolvers, hosts_file_);
    entry.resolver = entry.own_resolver.get();
  } else {
    if (system_resolver_ == nullptr) {
      system_resolver_ =
          std::make_unique<DnsResolver>(dispatcher_, std::vector<network::Address>{}, hosts_file_);
    }
    entry.resolver = system_resolver_.get();
  }
  entry.warmed = config.targets.empty();
  for (const DnsClusterConfig::Target& target_config : config.targets) {
    auto target = std::make_unique<Target>();
    target->config = &target_config;
    Target& t = *target;
    target->refresh = dispatcher_.createTimer([this, &entry, &t] { resolve(entry, t); });
    entry.targets.push_back(std::move(target));
    resolve(entry, t);
  }
  spdlog::debug("dns: cluster {} resolving {} target(s)", name, config.targets.size());
}

void DnsClusters::resolve(Entry& entry, Target& target) {
  entry.update_attempt.inc();
  target.query = entry.resolver->resolve(
      target.config->hostname, entry.config->family,
      [this, &entry, &target](absl::Status status, std::vector<DnsAnswer> answers) {
        onResolved(entry, target, status, answers);
      });
}

void DnsClusters::onResolved(Entry& entry, Target& target, const absl::Status& status,
                             const std::vector<DnsAnswer>& answers) {
  target.query.reset();
  const DnsClusterConfig& config = *entry.config;
  bool notify = false;
  std::chrono::milliseconds next = config.refresh_rate;
  if (status.ok()) {
    entry.update_success.inc();
    target.failures = 0;
    std::vector<network::Address> resolved;
    std::chrono::seconds ttl{0};
    for (const DnsAnswer& answer : answers) {
      auto address = network::Address::fromIpPort(answer.address.ip(), target.config->port);
      if (!address.ok()) continue;
      ttl = resolved.empty() ? answer.ttl : std::min(ttl, answer.ttl);
      resolved.push_back(*std::move(address));
      if (config.logical) break;  // LOGICAL_DNS connects to the first address only.
    }
    if (sameAddresses(target.addresses, resolved, config.logical)) {
      entry.update_no_rebuild.inc();
    } else {
      target.addresses = std::move(resolved);
      ++entry.version;
      notify = true;
    }
    if (config.respect_dns_ttl && ttl.count() > 0) next = ttl;
  } else {
    entry.update_failure.inc();
    ++target.failures;
    next = failureDelay(config, target.failures);
    spdlog::debug("dns: {}; keeping {} address(es), retrying in {} ms",
                  std::string(status.message()), target.addresses.size(), next.count());
  }
  if (!target.answered) {
    target.answered = true;
    if (!entry.warmed && std::all_of(entry.targets.begin(), entry.targets.end(),
                                     [](const auto& t) { return t->answered; })) {
      entry.warmed = true;
      notify = true;
    }
  }
  if (notify) changed();
  // At least 1 ms: a zero rate would spin the loop on a name that resolves instantly.
  target.refresh->enable(std::max(next, std::chrono::milliseconds(1)));
}

std::chrono::milliseconds DnsClusters::failureDelay(const DnsClusterConfig& config,
                                                    uint32_t failures) {
  using std::chrono::milliseconds;
  if (config.failure_refresh_base.count() <= 0) return config.refresh_rate;
  const milliseconds base = config.failure_refresh_base;
  // Envoy's default when dns_failure_refresh_rate has no max_interval: ten times the base.
  const milliseconds max = config.failure_refresh_max.count() > 0
                               ? std::max(config.failure_refresh_max, base)
                               : base * 10;
  milliseconds interval = base;
  for (uint32_t i = 1; i < failures && interval < max; ++i) interval *= 2;
  interval = std::min(interval, max);
  // Jitter, so clusters that lost the same DNS server do not all retry in step.
  return milliseconds(absl::Uniform<int64_t>(absl::IntervalClosed, random_, interval.count() / 2,
                                             interval.count()));
}

ClusterConstSharedPtr DnsClusters::build(const Cluster& input, const Entry& entry) const {
  auto hosts = std::make_shared<HostSet>(entry.config->prototype);
  hosts->hosts.clear();
  for (const auto& target : entry.targets) {
    for (const network::Address& address : target->addresses) {
      Host host = target->config->prototype;
      host.address = address;
      hosts->hosts.push_back(std::move(host));
    }
  }
  auto copy = std::make_shared<Cluster>(input);
  copy->host_set = std::move(hosts);
  refreshHosts(*copy);
  return copy;
}

}  // namespace remora::upstream
