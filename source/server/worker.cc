#include "source/server/worker.h"

#include <optional>

#include "spdlog/spdlog.h"

namespace remora::server {

Worker::Worker(uint32_t index, stats::Store* store)
    : index_(index),
      store_(store),
      dispatcher_("worker_" + std::to_string(index)),
      clusters_(index) {}

Worker::~Worker() { stop(); }

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
    if (done) done();
  });
}

void Worker::addListener(std::string name, network::SocketFd fd,
                         std::shared_ptr<ListenerStats> stats) {
  int raw = fd.release();
  dispatcher_.post([this, name = std::move(name), raw, stats = std::move(stats)]() mutable {
    auto l = std::make_unique<ActiveListener>();
    l->worker = this;
    l->name = std::move(name);
    l->stats = std::move(stats);
    l->listener = evconnlistener_new(dispatcher_.base(), &Worker::onAccept, l.get(),
                                     LEV_OPT_CLOSE_ON_FREE, -1, raw);
    listeners_.push_back(std::move(l));
    bindListenerConfigs();
  });
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
      if (lc->name == l->name) l->config = lc;
    }
  }
}

void Worker::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg) {
  auto* l = static_cast<ActiveListener*>(arg);
  l->worker->accept(*l, network::SocketFd(fd), addr, len);
}

void Worker::accept(ActiveListener& l, network::SocketFd fd, const sockaddr* addr, int len) {
  l.stats->downstream_cx_total.inc();
  if (l.config == nullptr || l.config->filter_chains.empty()) {
    l.stats->no_filter_chain_match.inc();
    return;  // fd closes here.
  }
  const auto& chain = l.config->filter_chains.front();
  network::Address peer = network::Address::fromSockaddr(addr, static_cast<socklen_t>(len));
  l.stats->downstream_cx_active.inc();
  active_sessions_.fetch_add(1, std::memory_order_relaxed);
  auto session = chain.terminal_filter->createSession(*this, std::move(fd), peer, snapshot_,
                                                      l.config->per_connection_buffer_limit_bytes);
  network::Session* raw = session.get();
  sessions_.try_emplace(raw, OwnedSession{std::move(session), l.stats, false});
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
  it->second.done = true;
  it->second.stats->downstream_cx_active.dec();
  it->second.stats->downstream_cx_destroy.inc();
  active_sessions_.fetch_sub(1, std::memory_order_relaxed);
  // Destroyed on a later loop turn: we are inside one of the session's own callbacks.
  dispatcher_.post([this, key = &session] { sessions_.erase(key); });
}

}  // namespace remora::server
