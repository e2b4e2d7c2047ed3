// One proxied TCP connection: downstream ⇄ upstream with bounded buffers, backpressure through
// read-disable on watermarks, half-close forwarded in each direction, idle and connect timeouts.
#pragma once

#include <chrono>
#include <memory>

#include "source/config/snapshot.h"
#include "source/network/connection.h"
#include "source/tcp_proxy/tcp_proxy_config.h"
#include "source/upstream/cluster.h"
#include "source/upstream/outlier_detector.h"

namespace remora::tcp_proxy {

class TcpProxySession : public network::Session {
 public:
  TcpProxySession(network::WorkerContext& worker, const TcpProxyConfig& config,
                  config::SnapshotConstSharedPtr snapshot, uint32_t downstream_buffer_limit);
  ~TcpProxySession() override;
  // `local`: where the client was going, the destination of ORIGINAL_DST clusters.
  void start(network::SocketFd fd, const network::Address& local);

 private:
  // Separate callback objects: the same events mean different things on each side.
  struct Side : network::ConnectionCallbacks {
    Side(TcpProxySession& s, bool is_downstream) : session(s), downstream(is_downstream) {}
    void onData(network::Connection& conn) override;
    void onEvent(network::Connection& conn, network::ConnectionEvent event) override;
    void onAboveWriteBufferHighWatermark(network::Connection& conn) override;
    void onBelowWriteBufferLowWatermark(network::Connection& conn) override;
    TcpProxySession& session;
    bool downstream;
    bool eof = false;       // This side's peer sent us FIN.
    bool fin_sent = false;  // We sent FIN to this side.
  };

  network::Connection& peerOf(bool downstream) { return downstream ? *upstream_ : *downstream_; }
  void onUpstreamConnected();
  // To the outlier detector of the chosen host, when its cluster has one.
  void reportOutlier(upstream::LocalOriginResult result);
  void onIdleTimer();
  void finish();

  network::WorkerContext& worker_;
  const TcpProxyConfig& config_;  // Owned by the factory, which the snapshot keeps alive.
  config::SnapshotConstSharedPtr snapshot_;
  const upstream::Cluster* cluster_ = nullptr;
  // The chosen host's, which the snapshot (or original_dst_host_) keeps alive.
  upstream::OutlierHostMonitor* outlier_ = nullptr;
  std::shared_ptr<const upstream::Host> original_dst_host_;  // ORIGINAL_DST clusters only.
  uint32_t downstream_buffer_limit_;
  Side downstream_side_{*this, true};
  Side upstream_side_{*this, false};
  network::ConnectionPtr downstream_;
  network::ConnectionPtr upstream_;
  event::TimerPtr idle_timer_;
  // Bytes moving only stamp the time; the timer re-arms itself for the remainder when it fires,
  // so a busy connection costs no timer operations per read.
  std::chrono::steady_clock::time_point last_activity_;
  bool upstream_connected_ = false;
  bool done_ = false;
};

}  // namespace remora::tcp_proxy
