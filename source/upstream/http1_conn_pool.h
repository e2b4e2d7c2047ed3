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

class Http1ConnPool {
 public:
  Http1ConnPool(event::Dispatcher& dispatcher, network::Address address, uint32_t max_idle,
                std::chrono::milliseconds idle_timeout);
  ~Http1ConnPool();

  // An idle connection handed to `callbacks` (connected() is true; reused is set), or a new one
  // that is connecting (onConnected or onFailure follows).
  http::http1::ClientConnectionPtr acquire(const Cluster& cluster,
                                           http::http1::ClientCallbacks* callbacks, bool* reused);
  // Takes back a connection after a complete exchange; it is kept if reusable and there is
  // room, else closed (deferred).
  void release(http::http1::ClientConnectionPtr conn);
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

  event::Dispatcher& dispatcher_;
  network::Address address_;
  uint32_t max_idle_;
  std::chrono::milliseconds idle_timeout_;
  std::list<Idle> idle_;  // Front: most recently used, the warmest connection.
  event::TimerPtr idle_timer_;
  bool draining_ = false;
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
