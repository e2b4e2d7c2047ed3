// The main thread's STRICT_DNS and LOGICAL_DNS clusters: it keeps resolving every target of every
// cluster that has a DnsClusterConfig, on its refresh schedule, and gives back those clusters
// with host_set built from the latest answers. Workers see new addresses only through the next
// published snapshot.
//
// Expects in upstream::Cluster (source/upstream/cluster.h), after eds_service_name:
//   std::shared_ptr<const DnsClusterConfig> dns;  // null unless STRICT_DNS or LOGICAL_DNS.
//   std::string dns_fingerprint;  // Changes whenever anything in `dns` does.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "source/event/coalesced_callback.h"
#include "source/event/dispatcher.h"
#include "source/stats/store.h"
#include "source/upstream/cluster.h"
#include "source/upstream/dns_cluster_config.h"
#include "source/upstream/dns_resolver.h"

namespace remora::upstream {

class DnsClusters {
 public:
  using Clusters = absl::flat_hash_map<std::string, ClusterConstSharedPtr>;

  // `on_change` runs on the main loop, at most once per loop turn, when apply() would now give a
  // different answer or the last DNS cluster finished warming. `hosts_file` is what resolvers
  // read before asking DNS.
  DnsClusters(event::Dispatcher& dispatcher, stats::Store& store, std::function<void()> on_change,
              std::string hosts_file = "/etc/hosts");
  ~DnsClusters();
  DnsClusters(const DnsClusters&) = delete;
  DnsClusters& operator=(const DnsClusters&) = delete;

  // Starts, restarts (new dns_fingerprint) or stops resolution to match `clusters`, and returns
  // them with every DNS cluster's host_set built from its latest answers; nullopt when none has
  // DNS. A cluster whose input and resolved addresses are unchanged since the last call comes
  // back as the same pointer, so workers keep their balancers and pools. A new cluster is left
  // out until every target has answered or failed once; a restarted one keeps its previous
  // version until then, as a warming cluster does in Envoy.
  std::optional<Clusters> apply(const Clusters& clusters);

  // Every target of every DNS cluster has had a first answer or a first failure.
  bool warmed() const;

 private:
  struct Target;
  struct Entry;

  void changed();
  void startEntry(const std::string& name, const Cluster& cluster, Entry& entry);
  void resolve(Entry& entry, Target& target);
  void onResolved(Entry& entry, Target& target, const absl::Status& status,
                  const std::vector<DnsAnswer>& answers);
  std::chrono::milliseconds failureDelay(const DnsClusterConfig& config, uint32_t failures);
  ClusterConstSharedPtr build(const Cluster& input, const Entry& entry) const;

  event::Dispatcher& dispatcher_;
  stats::Store& store_;
  event::CoalescedCallback notify_;  // on_change, once per loop turn.
  const std::string hosts_file_;
  absl::BitGen random_;  // Back-off jitter.
  // For clusters without their own resolvers: made on first use, shared by all of them.
  std::unique_ptr<DnsResolver> system_resolver_;
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace remora::upstream
