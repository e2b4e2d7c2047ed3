// envoy.filters.network.tcp_proxy as compiled from config: which cluster(s) a connection goes to,
// its timeouts and its stats (tcp.<stat_prefix>.*).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/network/filter.h"
#include "source/stats/store.h"

namespace remora::tcp_proxy {

struct TcpProxyStats {
  TcpProxyStats(stats::Store& store, const std::string& stat_prefix);
  stats::Counter& downstream_cx_total;
  stats::Counter& downstream_cx_no_route;
  stats::Counter& downstream_cx_rx_bytes_total;
  stats::Counter& downstream_cx_tx_bytes_total;
  stats::Counter& idle_timeout;
  stats::Counter& upstream_flush_total;
};

struct TcpProxyConfig {
  struct WeightedCluster {
    std::string name;
    uint32_t weight;
  };
  std::string stat_prefix;
  // One entry for `cluster`, several for `weighted_clusters`.
  std::vector<WeightedCluster> clusters;
  uint64_t total_weight = 0;
  // Envoy's default is one hour; zero disables.
  std::chrono::milliseconds idle_timeout{std::chrono::hours(1)};
  std::shared_ptr<TcpProxyStats> stats;

  // The cluster for a connection, given a random number.
  const std::string& pickCluster(uint64_t random) const;
};

class TcpProxyFactory : public network::NetworkFilterFactory {
 public:
  explicit TcpProxyFactory(TcpProxyConfig config) : config_(std::move(config)) {}
  std::unique_ptr<network::Session> createSession(network::WorkerContext& worker,
                                                  network::SocketFd fd,
                                                  const network::Address& peer,
                                                  const network::Address& local,
                                                  std::shared_ptr<const config::Snapshot> snapshot,
                                                  uint32_t buffer_limit) const override;
  const TcpProxyConfig& config() const { return config_; }

 private:
  TcpProxyConfig config_;
};

}  // namespace remora::tcp_proxy
