#include "source/server/worker.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <optional>

#include "source/network/original_dst.h"
#include "spdlog/spdlog.h"

namespace remora::server {

Worker::Worker(uint32_t index, stats::Store* store, OverloadManager* overload)
    : index_(index),
      store_(store),
      overload_(overload),
      dispatcher_("worker_" + std::to_string(index)),
      clusters_(index) {
  if (overload_ != nullptr) {
    dispatcher_.bufferTracker().setEnabled(overload_->config().needsBufferAccounting());
    dispatcher_.bufferTracker().setMinimumToTrack(
        overload_->config().minimum_account_to_track_power_of_two);
  }
  if (store_ != nullptr) {
    streams_reset_ =
        &store_->counter("overload.envoy.overload_actions.reset_high_memory_stream.count");
  }
}

void Worker::setBufferedBytesLimit(uint64_t bytes) {
  reset_round_ = dispatcher_.createTimer([this] {
    resetStreams(1.0);
    dispatcher_.bufferTracker().rearm();
  });
  dispatcher_.bufferTracker().setLimit(bytes, [this] { reset_round_->activate(); });
}

void Worker::resetHighMemoryStreams(double value) {
  dispatcher_.post([this, value] { resetStreams(value); });
}

void Worker::resetStreams(double value) {
  const uint64_t n = dispatcher_.bufferTracker().resetGivenPressure(value);
  if (n > 0 && streams_reset_ != nullptr) streams_reset_->inc(n);
}

Worker::~Worker() {
  stop();
  // Whatever the dispatcher still destroys must not reach the timer that goes before it.
  dispatcher_.bufferTracker().setLimit(std::numeric_limits<uint64_t>::max(), nullptr);
  reset_round_.reset();
}

void Worker::sweepOriginalDst() {
  // Pairs, not structured bindings: clang 14 (the ASan tree) cannot capture those in a lambda.
  for (const auto& dropped : clusters_.sweepOriginalDst(std::chrono::steady_clock::now())) {
    http_pools_.drainIf([&](const std::string& c, const std::string& a) {
      return c == dropped.first && a == dropped.second;
    });
  }
  if (clusters_.hasOriginalDstHosts()) original_dst_sweep_->enable(kSweepPeriod);
}

void Worker::start() {
  thread_ = std::thread([this] {
    std::optional<stats::ThreadShard> shard;
    if (store_ != nullptr) shard.emplace(*store_);
    dispatcher_.run();
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  dispatcher_.post([this] {
    stopping_ = true;
    for (auto& l : listeners_) evconnlistener_free(l->listener);
    listeners_.clear();
    drain_timers_.clear();
    original_dst_sweep_.reset();
    sessions_.clear();  // Sessions close their sockets as they are destroyed.
    active_sessions_ = 0;
    snapshot_.reset();
  });
  dispatcher_.exit();
  thread_.join();
}

void Worker::setSnapshot(config::SnapshotConstSharedPtr snapshot, std::function<void()> done) {
  dispatcher_.post([this, snapshot = std::move(snapshot), done = std::move(done)]() mutable {
    snapshot_ = std::move(snapshot);
    bindListenerConfigs();
    clusters_.retainIf([&](const std::string& name) { return snapshot_->findCluster(name); });
    // Connections to hosts and clusters that are gone close once their requests end.
    bool original_dst = false;
    for (const auto& [name, cluster] : snapshot_->clusters) {
      original_dst = original_dst || cluster->original_dst != nullptr;
    }
    if (original_dst && !original_dst_sweep_->enabled()) original_dst_sweep_->enable(kSweepPeriod);
    http_pools_.drainIf([&](const std::string& cluster, const std::string& address) {
      const upstream::Cluster* c = snapshot_->findCluster(cluster);
      if (c == nullptr) return true;
      // Their hosts are not in the snapshot: the sweep below drains what goes unused.
      if (c->original_dst != nullptr) return false;
      for (const auto& h : c->host_set->hosts) {
        if (h.address.asString() == address) return false;
      }
      return true;
    });
    if (done) done();
  });
}

void Worker::addListener(std::string name, network::SocketFd fd,
                         std::shared_ptr<ListenerStats> stats) {
  int raw = fd.release();
  dispatcher_.post([this, name = std::move(name), raw, stats = std::move(stats)]() mutable {
    auto l = std::make_unique<ActiveListener>();
    l->worker = this;
    l->name = std::make_shared<const std::string>(std::move(name));
    l->stats = std::move(stats);
    // Backlog 0: the socket already listens with the configured tcp_backlog_size; -1 would make
    // libevent call listen() again with its own default of 128.
    l->listener = evconnlistener_new(dispatcher_.base(), &Worker::onAccept, l.get(),
                                     LEV_OPT_CLOSE_ON_FREE, 0, raw);
    evconnlistener_set_error_cb(l->listener, &Worker::onAcceptError);
    if (!accepting_) evconnlistener_disable(l->listener);
    listeners_.push_back(std::move(l));
    bindListenerConfigs();
  });
}

void Worker::removeListener(std::string name, std::chrono::milliseconds drain_time) {
  dispatcher_.post([this, name = std::move(name), drain_time] {
    // Matched by identity, not by name: a listener of the same name may be added right after
    // (a new address), and its sessions must not be closed at this one's drain deadline.
    std::shared_ptr<const std::string> removed;
    for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
      if (*(*it)->name != name) continue;
      removed = (*it)->name;
      evconnlistener_free((*it)->listener);
      listeners_.erase(it);
      break;
    }
    if (removed == nullptr) return;
    drainSessions([removed](const OwnedSession& s) { return s.listener_name == removed; },
                  drain_time);
  });
}

void Worker::drainListenerConfig(std::string name, config::ListenerConfigConstSharedPtr old,
                                 std::chrono::milliseconds drain_time) {
  dispatcher_.post([this, name = std::move(name), old = std::move(old), drain_time] {
    drainSessions(
        [name, old](const OwnedSession& s) {
          return *s.listener_name == name && s.listener_config == old.get();
        },
        drain_time);
  });
}

void Worker::drainSessions(std::function<bool(const OwnedSession&)> matches,
                           std::chrono::milliseconds drain_time) {
  std::vector<network::Session*> draining;
  for (auto& [ptr, owned] : sessions_) {
    if (!owned.done && matches(owned)) draining.push_back(ptr);
  }
  if (draining.empty()) return;
  for (auto* s : draining) {
    if (sessions_.contains(s)) s->drain();
  }
  // Whatever has not finished by the deadline is closed. A session's address may be reused by a
  // new session by then, so match by the same rule again rather than by pointer alone.
  auto cell = std::make_shared<event::Timer*>(nullptr);
  auto timer = dispatcher_.createTimer([this, draining = std::move(draining), matches, cell] {
    for (auto* s : draining) {
      auto it = sessions_.find(s);
      if (it != sessions_.end() && !it->second.done && matches(it->second)) closeSession(s);
    }
    // Not from inside the timer's own callback.
    dispatcher_.post([this, raw = *cell] {
      std::erase_if(drain_timers_, [raw](const event::TimerPtr& t) { return t.get() == raw; });
    });
  });
  *cell = timer.get();
  timer->enable(drain_time);
  drain_timers_.push_back(std::move(timer));
}

void Worker::closeSession(network::Session* session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end() || it->second.done) return;
  settle(it->second);
  // Destroying a session closes its sockets; not from inside one of its own callbacks (this runs
  // from a timer), so at once.
  sessions_.erase(it);
}

void Worker::stopListeners(std::function<void()> done) {
  dispatcher_.post([this, done = std::move(done)] {
    for (auto& l : listeners_) evconnlistener_free(l->listener);
    listeners_.clear();
    // Copy the keys: a session may finish (and be queued for deletion) while being told.
    std::vector<network::Session*> sessions;
    sessions.reserve(sessions_.size());
    for (auto& [ptr, owned] : sessions_) {
      if (!owned.done) sessions.push_back(ptr);
    }
    for (auto* s : sessions) s->drain();
    if (done) done();
  });
}

// Resolving each listener's config once per snapshot keeps the accept path free of lookups.
void Worker::bindListenerConfigs() {
  for (auto& l : listeners_) {
    l->config.reset();
    if (snapshot_ == nullptr) continue;
    for (const auto& lc : snapshot_->listeners) {
      if (lc->name == *l->name) l->config = lc;
    }
  }
}

void Worker::setAccepting(bool accepting) {
  dispatcher_.post([this, accepting] {
    accepting_ = accepting;
    for (auto& l : listeners_) {
      // A listener backing off after EMFILE resumes when its timer fires.
      if (l->backoff_timer != nullptr && l->backoff_timer->enabled()) continue;
      if (accepting) {
        evconnlistener_enable(l->listener);
      } else {
        evconnlistener_disable(l->listener);
      }
    }
  });
}

void Worker::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg) {
  auto* l = static_cast<ActiveListener*>(arg);
  l->worker->accept(*l, network::SocketFd(fd), addr, len);
}

void Worker::onAcceptError(evconnlistener*, void* arg) {
  auto* l = static_cast<ActiveListener*>(arg);
  l->worker->acceptFailed(*l, EVUTIL_SOCKET_ERROR());
}

void Worker::acceptFailed(ActiveListener& l, int error) {
  if (error != EMFILE && error != ENFILE && error != ENOBUFS && error != ENOMEM) {
    spdlog::warn("listener '{}': accept: {}", *l.name, evutil_socket_error_to_string(error));
    return;
  }
  // The pending connection stays in the backlog, so the socket stays readable: retrying at once
  // would spin the loop until a descriptor frees up. Pause, and try again later.
  if (l.backoff.count() == 0) {
    spdlog::warn("listener '{}': accept: {}; pausing accepts until descriptors free up", *l.name,
                 evutil_socket_error_to_string(error));
  }
  l.backoff = std::clamp(l.backoff * 2, kMinAcceptBackoff, kMaxAcceptBackoff);
  l.stats->downstream_cx_accept_backoff.inc();
  evconnlistener_disable(l.listener);
  if (l.backoff_timer == nullptr) {
    l.backoff_timer = dispatcher_.createTimer([this, listener = &l] {
      if (accepting_) evconnlistener_enable(listener->listener);
    });
  }
  l.backoff_timer->enable(l.backoff);
}

void Worker::settle(OwnedSession& session) {
  session.done = true;
  session.stats->downstream_cx_active.dec();
  session.stats->downstream_cx_destroy.inc();
  session.stats->connections.release();
  if (overload_ != nullptr) overload_->releaseConnection();
  active_sessions_.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::accept(ActiveListener& l, network::SocketFd fd, const sockaddr* addr, int len) {
  l.backoff = std::chrono::milliseconds(0);
  if (l.config == nullptr || l.config->filter_chains.empty()) {
    l.stats->downstream_cx_total.inc();
    l.stats->no_filter_chain_match.inc();
    return;  // fd closes here.
  }
  // Over a limit the connection is closed as soon as it is accepted, as Envoy does: the client
  // sees the close at once instead of waiting in a backlog.
  if (overload_ != nullptr &&
      overload_->state().reject_incoming_connections.load(std::memory_order_relaxed)) {
    l.stats->downstream_cx_overload_reject.inc();
    return;
  }
  if (!l.stats->connections.tryAcquire()) {
    l.stats->downstream_cx_overflow.inc();
    return;
  }
  if (overload_ != nullptr && !overload_->tryAcquireConnection()) {
    l.stats->connections.release();
    l.stats->downstream_global_cx_overflow.inc();
    return;
  }
  l.stats->downstream_cx_total.inc();
  const auto& chain = l.config->filter_chains.front();
  network::Address peer = network::Address::fromSockaddr(addr, static_cast<socklen_t>(len));
  l.stats->downstream_cx_active.inc();
  active_sessions_.fetch_add(1, std::memory_order_relaxed);
  const network::Address local = network::localAddressOf(fd.get(), l.config->use_original_dst);
  auto session = chain.terminal_filter->createSession(*this, std::move(fd), peer, local, snapshot_,
                                                      l.config->per_connection_buffer_limit_bytes);
  network::Session* raw = session.get();
  sessions_.try_emplace(raw,
                        OwnedSession{std::move(session), l.stats, false, l.name, l.config.get()});
  // A session that failed at once (no cluster, no host) finished inside createSession.
  auto pending = pending_done_.find(raw);
  if (pending != pending_done_.end()) {
    pending_done_.erase(pending);
    sessionDone(*raw);
  }
}

void Worker::sessionDone(network::Session& session) {
  if (stopping_) return;
  auto it = sessions_.find(&session);
  if (it == sessions_.end()) {
    // Finished during createSession, before it was registered; settled right after.
    pending_done_.insert(&session);
    return;
  }
  if (it->second.done) return;
  settle(it->second);
  // Destroyed on a later loop turn: we are inside one of the session's own callbacks.
  dispatcher_.post([this, key = &session] { sessions_.erase(key); });
}

}  // namespace remora::server
