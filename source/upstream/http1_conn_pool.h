// A worker's HTTP/1.1 connections to one upstream host of one cluster: idle keep-alive
// connections are reused, newest first; a connection being used belongs to its request.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "source/event/dispatcher.h"
#include "source/http/http1/client_connection.h"
#include "source/upstream/cluster.h"

namespace remora::upstream {

// A request waiting in a pool for a connection, because the cluster is at max_connections.
class PoolWaiter {
 public:
  virtual ~PoolWaiter() = default;
  // Its connection, activated for the waiter's callbacks: connected already when `reused`, else
  // connecting (onConnected or onFailure follows).
  virtual void onPoolReady(http::http1::ClientConnectionPtr conn, bool reused) = 0;
};

class Http1ConnPool {
 public:
  // What acquire() did: handed a connection (reused, or connecting), queued the request until
  // one frees up, or refused it because the max_pending_requests breaker is open.
  enum class Outcome { kReady, kQueued, kOverflow };
  struct Acquired {
    Outcome outcome;
    http::http1::ClientConnectionPtr conn;  // kReady only.
    bool reused = false;
  };

  Http1ConnPool(event::Dispatcher& dispatcher, network::Address address, uint32_t max_idle,
                std::chrono::milliseconds idle_timeout);
  ~Http1ConnPool();

  // An idle connection handed to `callbacks` (connected() is true; reused is set), or a new one
  // that is connecting (onConnected or onFailure follows). Unless reused, the request waits for
  // its connection and counts as pending: refused (kOverflow) when the max_pending_requests
  // breaker at `priority` is open; queued (kQueued, onPoolReady follows) when the cluster is at
  // max_connections.
  Acquired acquire(const Cluster& cluster, http::http1::ClientCallbacks* callbacks,
                   PoolWaiter* waiter, RoutingPriority priority);
  // A queued request gave up (timeout, reset).
  void cancel(PoolWaiter* waiter);
  // Takes back a connection after a complete exchange: handed to a waiting request, or kept if
  // reusable and there is room, else closed (deferred).
  void release(http::http1::ClientConnectionPtr conn);
  // A connection of this pool was closed by its request: a waiting request may now get a new one.
  void onConnectionClosed();
  size_t waiting() const { return waiters_.size(); }
  size_t idleCount() const { return idle_.size(); }
  // The host left its cluster (or the cluster went away): close idle connections now and those
  // in use when their request ends. A later acquire() (the host is back) ends draining.
  void drain();

 private:
  struct Idle : http::http1::ClientCallbacks {
    Idle(Http1ConnPool& p, http::http1::ClientConnectionPtr c) : pool(p), conn(std::move(c)) {}
    void onConnected(http::http1::ClientConnection&) override {}
    void onResponseHeaders(http::HeaderMap&&, const http::http1::MessageHead&) override {}
    void onResponseData(evbuffer*) override {}
    void onResponseTrailers(http::HeaderMap&&) override {}
    void onResponseComplete() override {}
    void onFailure(http::http1::UpstreamFailure) override;
    void onAboveWriteBufferHighWatermark() override {}
    void onBelowWriteBufferLowWatermark() override {}
    Http1ConnPool& pool;
    http::http1::ClientConnectionPtr conn;
    std::chrono::steady_clock::time_point since;
    std::list<Idle>::iterator self;
  };
  void onIdleTimer();
  http::http1::ClientConnectionPtr connect(const Cluster& cluster,
                                           http::http1::ClientCallbacks* callbacks,
                                           RoutingPriority priority);
  void serveWaiter();

  struct Waiter {
    PoolWaiter* waiter;
    http::http1::ClientCallbacks* callbacks;
    // Its cluster version: the waiting request's snapshot keeps it alive, and a request leaving
    // the queue cancels first.
    const Cluster* cluster;
    RoutingPriority priority;
  };

  event::Dispatcher& dispatcher_;
  network::Address address_;
  uint32_t max_idle_;
  std::chrono::milliseconds idle_timeout_;
  std::list<Idle> idle_;  // Front: most recently used, the warmest connection.
  event::TimerPtr idle_timer_;
  bool draining_ = false;
  std::list<Waiter> waiters_;  // Oldest first.
};

// Every pool on one worker, by cluster and host address. Pools outlive config changes: the same
// address in a new snapshot keeps its warm connections.
class Http1ConnPools {
 public:
  explicit Http1ConnPools(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  Http1ConnPool& pool(const Cluster& cluster, const Host& host);
  // After a config change: drains the pools of hosts and clusters `is_live(cluster, address)`
  // says are gone. Pools stay allocated: a request in flight still returns its connection.
  template <class Pred>
  void drainIf(Pred is_gone) {
    for (auto& [cluster, by_address] : pools_) {
      for (auto& [address, pool] : by_address) {
        if (is_gone(cluster, address)) pool->drain();
      }
    }
  }

 private:
  event::Dispatcher& dispatcher_;
  // Cluster name, then host address: both looked up by view, so finding a pool never allocates.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::unique_ptr<Http1ConnPool>>>
      pools_;
};

}  // namespace remora::upstream
