#include "source/tcp_proxy/tcp_proxy_session.h"

#include "source/upstream/worker_clusters.h"

namespace remora::tcp_proxy {

namespace {
// Weighted cluster picks need speed, not cryptographic quality: splitmix64 per thread.
uint64_t nextRandom() {
  thread_local uint64_t state = reinterpret_cast<uintptr_t>(&state) ^ 0x9e3779b97f4a7c15ULL;
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

TcpProxySession::TcpProxySession(network::WorkerContext& worker, const TcpProxyConfig& config,
                                 config::SnapshotConstSharedPtr snapshot,
                                 uint32_t downstream_buffer_limit)
    : worker_(worker),
      config_(config),
      snapshot_(std::move(snapshot)),
      downstream_buffer_limit_(downstream_buffer_limit) {}

TcpProxySession::~TcpProxySession() {
  // A session torn down by shutdown rather than by finish() still settles its stats.
  finish();
}

void TcpProxySession::start(network::SocketFd fd, const network::Address& local) {
  config_.stats->downstream_cx_total.inc();
  downstream_ =
      std::make_unique<network::Connection>(worker_.dispatcher(), std::move(fd), downstream_side_);
  downstream_->setBufferLimit(downstream_buffer_limit_);

  cluster_ = snapshot_->findCluster(config_.pickCluster(nextRandom()));
  if (cluster_ == nullptr) {
    config_.stats->downstream_cx_no_route.inc();
    finish();
    return;
  }
  const upstream::Host* host = nullptr;
  if (cluster_->original_dst != nullptr) {
    // The client's destination: this listener, or the original address of redirected traffic.
    original_dst_host_ = worker_.clusters().originalDstHost(*cluster_, local);
    host = original_dst_host_.get();
  } else {
    host = worker_.clusters().loadBalancer(*cluster_).chooseHost(nullptr);
  }
  if (host == nullptr) {
    cluster_->stats->upstream_cx_none_healthy.inc();
    finish();
    return;
  }
  outlier_ = host->outlier.get();
  cluster_->stats->upstream_cx_total.inc();
  cluster_->stats->upstream_cx_active.inc();
  upstream_ = network::Connection::connect(worker_.dispatcher(), host->address, upstream_side_,
                                           cluster_->connect_timeout);
  upstream_->setBufferLimit(cluster_->per_connection_buffer_limit_bytes);
  last_activity_ = std::chrono::steady_clock::now();
  if (config_.idle_timeout.count() > 0) {
    idle_timer_ = worker_.dispatcher().createTimer([this] { onIdleTimer(); });
    idle_timer_->enable(config_.idle_timeout);
  }
}

void TcpProxySession::onUpstreamConnected() {
  upstream_connected_ = true;
  reportOutlier(upstream::LocalOriginResult::kSuccessFinal);
  downstream_->readEnable(true);
  upstream_->readEnable(true);
}

void TcpProxySession::reportOutlier(upstream::LocalOriginResult result) {
  if (outlier_ != nullptr) outlier_->putLocalOrigin(result);
}

void TcpProxySession::onIdleTimer() {
  const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - last_activity_);
  if (idle < config_.idle_timeout) {
    idle_timer_->enable(config_.idle_timeout - idle);
    return;
  }
  config_.stats->idle_timeout.inc();
  finish();
}

void TcpProxySession::finish() {
  if (done_) return;
  done_ = true;
  if (idle_timer_) idle_timer_->disable();
  if (downstream_) {
    // Unread client bytes would turn our FIN into a RST; the client should see a clean close.
    if (!upstream_connected_) downstream_->discardPendingInput();
    downstream_->close();
  }
  if (upstream_) {
    upstream_->close();
    cluster_->stats->upstream_cx_active.dec();
    cluster_->stats->upstream_cx_destroy.inc();
  }
  if (original_dst_host_ != nullptr)
    worker_.clusters().onRequestEnd(*cluster_, *original_dst_host_);
  worker_.sessionDone(*this);
}

void TcpProxySession::Side::onData(network::Connection& conn) {
  const size_t n = evbuffer_get_length(conn.input());
  session.last_activity_ = std::chrono::steady_clock::now();
  if (downstream) {
    session.config_.stats->downstream_cx_rx_bytes_total.inc(n);
    session.cluster_->stats->upstream_cx_tx_bytes_total.inc(n);
  } else {
    session.config_.stats->downstream_cx_tx_bytes_total.inc(n);
    session.cluster_->stats->upstream_cx_rx_bytes_total.inc(n);
  }
  session.peerOf(downstream).write(conn.input());
}

void TcpProxySession::Side::onEvent(network::Connection&, network::ConnectionEvent event) {
  using network::ConnectionEvent;
  switch (event) {
    case ConnectionEvent::kConnected:
      session.onUpstreamConnected();
      return;
    case ConnectionEvent::kRemoteEof:
      eof = true;
      session.peerOf(downstream).shutdownWrite();
      break;
    case ConnectionEvent::kWriteShutdown:
      fin_sent = true;
      break;
    case ConnectionEvent::kConnectTimeout:
    case ConnectionEvent::kConnectFailed:
      if (event == ConnectionEvent::kConnectTimeout) {
        session.cluster_->stats->upstream_cx_connect_timeout.inc();
      }
      session.cluster_->stats->upstream_cx_connect_fail.inc();
      session.reportOutlier(event == ConnectionEvent::kConnectTimeout
                                ? upstream::LocalOriginResult::kTimeout
                                : upstream::LocalOriginResult::kConnectFailed);
      session.finish();
      return;
    case ConnectionEvent::kError:
      session.finish();
      return;
  }
  const Side& d = session.downstream_side_;
  const Side& u = session.upstream_side_;
  if (d.eof && u.eof && d.fin_sent && u.fin_sent) session.finish();
}

void TcpProxySession::Side::onAboveWriteBufferHighWatermark(network::Connection&) {
  // This side cannot take more: stop reading from the side that feeds it.
  (downstream ? session.upstream_ : session.downstream_)->readEnable(false);
}

void TcpProxySession::Side::onBelowWriteBufferLowWatermark(network::Connection&) {
  (downstream ? session.upstream_ : session.downstream_)->readEnable(true);
}

}  // namespace remora::tcp_proxy
