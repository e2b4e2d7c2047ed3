// A worker thread: its own event loop, its own listen sockets (SO_REUSEPORT), the snapshot it
// currently serves with, and the sessions it owns. The main thread talks to it only by posting.
#pragma once

#include <event2/listener.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "api/network/filter.h"
#include "source/config/snapshot.h"
#include "source/event/dispatcher.h"
#include "source/network/listen_socket.h"
#include "source/server/listener_stats.h"
#include "source/server/overload_manager.h"
#include "source/upstream/http1_conn_pool.h"
#include "source/upstream/worker_clusters.h"

namespace remora::server {

class Worker : public network::WorkerContext {
 public:
  // `store`, when given, gets a stats shard for this worker's thread (increments without atomic
  // read-modify-writes); without one, stats still count, through the shared shard.
  // `overload`, when given, outlives the worker; without one, nothing limits connections.
  explicit Worker(uint32_t index, stats::Store* store = nullptr,
                  OverloadManager* overload = nullptr);
  ~Worker() override;

  void start();
  // Closes every session and joins the thread.
  void stop();

  // --- Called on the main thread; each posts to the worker and returns at once. ---------------
  // Swaps the snapshot used for new connections; `done` runs on the worker afterwards.
  void setSnapshot(config::SnapshotConstSharedPtr snapshot, std::function<void()> done);
  void addListener(std::string name, network::SocketFd fd, std::shared_ptr<ListenerStats> stats);
  // Stops accepting on listener `name` and drains its connections: they are told to finish
  // (HTTP answers with Connection: close) and closed after `drain_time`.
  void removeListener(std::string name, std::chrono::milliseconds drain_time);
  // The listener `name` now serves a new config: drains the connections accepted under `old`.
  void drainListenerConfig(std::string name, config::ListenerConfigConstSharedPtr old,
                           std::chrono::milliseconds drain_time);
  // Stops accepting on every listener (drain); `done` runs on the worker afterwards.
  void stopListeners(std::function<void()> done);
  // The overload manager's stop_accepting_connections: listeners stop or resume accepting.
  void setAccepting(bool accepting);
  // reset_high_memory_stream at `value`: resets this worker's streams holding the most buffered
  // bytes (buffer::MemoryTracker::resetGivenPressure), counted in
  // overload.envoy.overload_actions.reset_high_memory_stream.count.
  void resetHighMemoryStreams(double value);
  // Before start(): once this worker's buffers hold more than `bytes`, it runs a saturated
  // reset_high_memory_stream round on its next loop turn, without waiting for the overload
  // manager's refresh (buffer::MemoryTracker::setLimit).
  void setBufferedBytesLimit(uint64_t bytes);
  // Bytes buffered by this worker's connections and streams; any thread.
  uint64_t bufferedBytes() const { return dispatcher_.bufferTracker().total(); }
  // Sessions not yet finished; read from the main thread while draining.
  size_t activeSessions() const { return active_sessions_.load(std::memory_order_relaxed); }

  // --- network::WorkerContext ----------------------------------------------------------------
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  upstream::WorkerClusters& clusters() override { return clusters_; }
  upstream::Http1ConnPools& httpPools() override { return http_pools_; }
  uint32_t workerIndex() const override { return index_; }
  const config::SnapshotConstSharedPtr& currentSnapshot() const override { return snapshot_; }
  void sessionDone(network::Session& session) override;
  const network::OverloadState& overload() const override {
    return overload_ != nullptr ? overload_->state() : network::OverloadState::none();
  }

  // The first pause after accept() runs out of file descriptors; it doubles while it keeps
  // failing, up to the maximum.
  static constexpr std::chrono::milliseconds kMinAcceptBackoff{10};
  static constexpr std::chrono::milliseconds kMaxAcceptBackoff{1000};

 private:
  struct ActiveListener {
    Worker* worker;
    std::shared_ptr<const std::string> name;
    evconnlistener* listener;
    config::ListenerConfigConstSharedPtr config;  // From the current snapshot; null if removed.
    std::shared_ptr<ListenerStats> stats;
    // Armed while accepting is paused after EMFILE and the like.
    event::TimerPtr backoff_timer;
    std::chrono::milliseconds backoff{0};
  };
  struct OwnedSession {
    std::unique_ptr<network::Session> session;
    // Shared: a draining worker drops its listeners while their sessions are still open.
    std::shared_ptr<ListenerStats> stats;
    bool done;
    // What it was accepted under, to find the connections of a removed or changed listener.
    std::shared_ptr<const std::string> listener_name;
    const config::ListenerConfig* listener_config;
  };
  static void onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  static void onAcceptError(evconnlistener*, void* arg);
  void acceptFailed(ActiveListener& listener, int error);
  // A session is over: marked done, counted in its listener's stats, and its slots in the
  // listener's and the global connection limits given back.
  void settle(OwnedSession& session);
  void accept(ActiveListener& listener, network::SocketFd fd, const sockaddr* addr, int len);
  void bindListenerConfigs();
  // Tells the matching sessions to drain, and closes those still open after `drain_time`.
  void drainSessions(std::function<bool(const OwnedSession&)> matches,
                     std::chrono::milliseconds drain_time);
  void closeSession(network::Session* session);
  // One reset_high_memory_stream round on this thread, counted.
  void resetStreams(double value);

  uint32_t index_;
  stats::Store* store_;
  OverloadManager* overload_;
  stats::Counter* streams_reset_ = nullptr;
  bool accepting_ = true;
  event::Dispatcher dispatcher_;
  std::thread thread_;
  config::SnapshotConstSharedPtr snapshot_;
  upstream::WorkerClusters clusters_;
  upstream::Http1ConnPools http_pools_{dispatcher_};
  // Drops ORIGINAL_DST hosts idle past their cleanup_interval, checked this often while there
  // are any.
  static constexpr std::chrono::milliseconds kSweepPeriod{1000};
  void sweepOriginalDst();
  event::TimerPtr original_dst_sweep_ = dispatcher_.createTimer([this] { sweepOriginalDst(); });
  // Armed by the buffered-bytes limit; after dispatcher_, so that it goes first.
  event::TimerPtr reset_round_;
  std::vector<std::unique_ptr<ActiveListener>> listeners_;
  absl::flat_hash_map<network::Session*, OwnedSession> sessions_;
  absl::flat_hash_set<network::Session*> pending_done_;
  std::atomic<size_t> active_sessions_{0};
  std::vector<event::TimerPtr> drain_timers_;
  bool stopping_ = false;
};

}  // namespace remora::server
