#include "source/tcp_proxy/tcp_proxy_config.h"

#include "source/config/snapshot.h"
#include "source/network/listen_socket.h"
#include "source/tcp_proxy/tcp_proxy_session.h"

namespace remora::tcp_proxy {

namespace {
std::string statName(const std::string& prefix, const char* stat) {
  return "tcp." + prefix + "." + stat;
}
}  // namespace

TcpProxyStats::TcpProxyStats(stats::Store& store, const std::string& p)
    : downstream_cx_total(store.counter(statName(p, "downstream_cx_total"))),
      downstream_cx_no_route(store.counter(statName(p, "downstream_cx_no_route"))),
      downstream_cx_rx_bytes_total(store.counter(statName(p, "downstream_cx_rx_bytes_total"))),
      downstream_cx_tx_bytes_total(store.counter(statName(p, "downstream_cx_tx_bytes_total"))),
      idle_timeout(store.counter(statName(p, "idle_timeout"))),
      upstream_flush_total(store.counter(statName(p, "upstream_flush_total"))) {}

const std::string& TcpProxyConfig::pickCluster(uint64_t random) const {
  if (clusters.size() == 1 || total_weight == 0) return clusters.front().name;
  uint64_t point = random % total_weight;
  for (const auto& c : clusters) {
    if (point < c.weight) return c.name;
    point -= c.weight;
  }
  return clusters.back().name;
}

std::unique_ptr<network::Session> TcpProxyFactory::createSession(
    network::WorkerContext& worker, network::SocketFd fd, const network::Address&,
    const network::Address& local, std::shared_ptr<const config::Snapshot> snapshot,
    uint32_t buffer_limit) const {
  auto session =
      std::make_unique<TcpProxySession>(worker, config_, std::move(snapshot), buffer_limit);
  session->start(std::move(fd), local);
  return session;
}

}  // namespace remora::tcp_proxy
