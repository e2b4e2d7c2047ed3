#include "source/upstream/http1_conn_pool.h"

#include <limits>

namespace remora::upstream {

using http::http1::ClientConnection;
using http::http1::ClientConnectionPtr;

Http1ConnPool::Http1ConnPool(event::Dispatcher& dispatcher, network::Address address,
                             uint32_t max_idle, std::chrono::milliseconds idle_timeout)
    : dispatcher_(dispatcher),
      address_(std::move(address)),
      max_idle_(max_idle),
      idle_timeout_(idle_timeout),
      idle_timer_(dispatcher.createTimer([this] { onIdleTimer(); })) {}

Http1ConnPool::~Http1ConnPool() = default;

Http1ConnPool::Acquired Http1ConnPool::acquire(const Cluster& cluster,
                                               http::http1::ClientCallbacks* callbacks,
                                               PoolWaiter* waiter, RoutingPriority priority) {
  draining_ = false;
  while (!idle_.empty()) {
    ClientConnectionPtr conn = std::move(idle_.front().conn);
    idle_.pop_front();
    if (conn->closed() || conn->idleBroken()) {
      dispatcher_.deferredDelete(std::move(conn));
      continue;
    }
    conn->activate(callbacks);
    return {Outcome::kReady, std::move(conn), true};
  }
  ResourceManager* breakers = cluster.resources ? &cluster.resources->at(priority) : nullptr;
  if (breakers != nullptr && !breakers->pendingRequests().canCreate()) {
    return {Outcome::kOverflow, nullptr, false};
  }
  if (breakers != nullptr && !breakers->connections().canCreate()) {
    if (cluster.stats) cluster.stats->upstream_cx_overflow.inc();
    waiters_.push_back({waiter, callbacks, &cluster, priority});
    return {Outcome::kQueued, nullptr, false};
  }
  return {Outcome::kReady, connect(cluster, callbacks, priority), false};
}

ClientConnectionPtr Http1ConnPool::connect(const Cluster& cluster,
                                           http::http1::ClientCallbacks* callbacks,
                                           RoutingPriority priority) {
  auto conn =
      std::make_unique<ClientConnection>(dispatcher_, address_, cluster.connect_timeout,
                                         cluster.per_connection_buffer_limit_bytes, callbacks);
  if (cluster.stats) conn->setStats(cluster.stats);
  if (cluster.resources) {
    conn->holdConnectionSlot(cluster.resources, cluster.resources->at(priority).connections());
  }
  return conn;
}

void Http1ConnPool::cancel(PoolWaiter* waiter) {
  std::erase_if(waiters_, [&](const Waiter& w) { return w.waiter == waiter; });
}

void Http1ConnPool::onConnectionClosed() { serveWaiter(); }

void Http1ConnPool::serveWaiter() {
  if (waiters_.empty()) return;
  const Waiter& next = waiters_.front();
  const Cluster& cluster = *next.cluster;
  if (cluster.resources && !cluster.resources->at(next.priority).connections().canCreate()) {
    return;
  }
  Waiter waiter = next;
  waiters_.pop_front();
  waiter.waiter->onPoolReady(connect(cluster, waiter.callbacks, waiter.priority), false);
}

void Http1ConnPool::drain() {
  draining_ = true;
  while (!idle_.empty()) {
    idle_.back().conn->close();
    dispatcher_.deferredDelete(std::move(idle_.back().conn));
    idle_.pop_back();
  }
}

void Http1ConnPool::release(ClientConnectionPtr conn) {
  if (!waiters_.empty() && !draining_ && conn->reusable()) {
    Waiter waiter = waiters_.front();
    waiters_.pop_front();
    conn->prepareForReuse();
    conn->activate(waiter.callbacks);
    waiter.waiter->onPoolReady(std::move(conn), true);
    return;
  }
  if (draining_ || !conn->reusable() || idle_.size() >= max_idle_) {
    conn->close();
    dispatcher_.deferredDelete(std::move(conn));
    serveWaiter();
    return;
  }
  conn->prepareForReuse();
  idle_.emplace_front(*this, std::move(conn));
  Idle& entry = idle_.front();
  entry.self = idle_.begin();
  entry.since = std::chrono::steady_clock::now();
  entry.conn->setIdleCallbacks(&entry);
  if (idle_timeout_.count() > 0 && !idle_timer_->enabled()) idle_timer_->enable(idle_timeout_);
}

void Http1ConnPool::Idle::onFailure(http::http1::UpstreamFailure) {
  // The server closed a connection we were keeping: forget it. `this` dies with the erase.
  Http1ConnPool& p = pool;
  p.dispatcher_.deferredDelete(std::move(conn));
  p.idle_.erase(self);
}

void Http1ConnPool::onIdleTimer() {
  const auto now = std::chrono::steady_clock::now();
  // Oldest at the back: close those idle for the whole timeout, re-arm for the next one.
  while (!idle_.empty() && now - idle_.back().since >= idle_timeout_) {
    idle_.back().conn->close();
    dispatcher_.deferredDelete(std::move(idle_.back().conn));
    idle_.pop_back();
  }
  if (!idle_.empty()) {
    auto left = idle_timeout_ -
                std::chrono::duration_cast<std::chrono::milliseconds>(now - idle_.back().since);
    idle_timer_->enable(std::max(left, std::chrono::milliseconds(1)));
  }
}

Http1ConnPool& Http1ConnPools::pool(const Cluster& cluster, const Host& host) {
  auto& by_address = pools_[cluster.name];
  auto it = by_address.find(host.address.asString());
  if (it != by_address.end()) return *it->second;
  // No idle cap of our own, as in Envoy: every connection, idle ones included, holds a slot of
  // the cluster's max_connections breaker, which bounds the pool. A smaller cap closed and
  // reopened upstream connections on every request once more than it were busy at once.
  auto pool = std::make_unique<Http1ConnPool>(dispatcher_, host.address,
                                              std::numeric_limits<uint32_t>::max(),
                                              std::chrono::milliseconds(3600 * 1000));
  Http1ConnPool& ref = *pool;
  by_address.emplace(host.address.asString(), std::move(pool));
  return ref;
}

}  // namespace remora::upstream
