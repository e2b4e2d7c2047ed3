#include "source/server/server.h"

#include <signal.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/time_util.h"
#include "source/admin/config_dump.h"
#include "source/admin/handlers.h"
#include "source/network/listen_socket.h"
#include "source/server/heap_usage.h"
#include "spdlog/spdlog.h"

namespace remora::server {

Server::Server(Options options, config::LoadedBootstrap bootstrap,
               std::shared_ptr<stats::Store> store, config::SnapshotConstSharedPtr first)
    : options_(std::move(options)),
      bootstrap_(std::move(bootstrap)),
      snapshot_(std::move(first)),
      source_snapshot_(snapshot_),
      static_snapshot_(snapshot_),
      store_(std::move(store)),
      loaded_at_(google::protobuf::util::TimeUtil::GetCurrentTime()),
      started_(std::chrono::steady_clock::now()) {}

Server::~Server() {
  for (::event* ev : signal_events_) event_free(ev);
}

std::string Server::version() const {
  return absl::StrCat(REMORA_VERSION, "/Clean/RELEASE/OpenSSL");
}

std::chrono::seconds Server::uptime() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                          started_);
}

std::string Server::configDumpJson(bool include_eds) const {
  if (xds_ == nullptr) {
    return admin::configDumpJson(bootstrap_.bootstrap, loaded_at_, nullptr, include_eds);
  }
  const admin::DynamicConfigState state = xds_->state();
  return admin::configDumpJson(bootstrap_.bootstrap, loaded_at_, &state, include_eds);
}

std::vector<admin::ClusterInfo> Server::clusters() const {
  std::vector<admin::ClusterInfo> out;
  for (const auto& [name, cluster] : snapshot_->clusters) {
    admin::ClusterInfo info;
    info.name = name;
    info.added_via_api = !static_snapshot_->clusters.contains(name);
    const upstream::HostSet& set = *cluster->host_set;
    for (const auto& host : set.hosts) {
      admin::ClusterHostInfo h;
      h.address = host.address.asString();
      h.weight = host.weight;
      h.priority = host.priority;
      if (host.locality < set.localities.size()) {
        const upstream::Locality& locality = set.localities[host.locality];
        h.region = locality.region;
        h.zone = locality.zone;
        h.sub_zone = locality.sub_zone;
      }
      h.eds_health_status = upstream::edsHealthStatusName(host.eds_health);
      h.failed_active_health_check = host.failed_active_health_check;
      h.failed_outlier_check = host.outlier_ejected;
      info.hosts.push_back(std::move(h));
    }
    if (cluster->original_dst_hosts != nullptr) {
      // Made by workers as requests arrive, not part of the snapshot.
      for (const std::string& address : cluster->original_dst_hosts->addresses()) {
        admin::ClusterHostInfo h;
        h.address = address;
        info.hosts.push_back(std::move(h));
      }
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::vector<admin::ListenerStatus> Server::listeners() const { return bound_listeners_; }

int Server::run() {
  if (absl::Status s = startAdmin(); !s.ok()) {
    spdlog::critical("admin: {}", std::string(s.message()));
    return 1;
  }
  state_ = admin::ServerState::kInitializing;
  // main() has checked it already (startup and --mode validate fail alike on a bad one).
  config::ParseReport overload_report;
  auto overload = parseOverloadConfig(bootstrap_.bootstrap, overload_report);
  if (!overload.ok()) {
    spdlog::critical("{}", std::string(overload.status().message()));
    return 1;
  }
  overload_ = std::make_unique<OverloadManager>(
      *std::move(overload), main_, *store_,
      [this](bool accepting) {
        for (auto& w : workers_) w->setAccepting(accepting);
      },
      currentHeapBytes);
  // Health-check connections on this loop count towards the total too (admin is evhttp's own).
  main_.bufferTracker().setEnabled(overload_->config().needsBufferAccounting());
  overload_->setBufferedBytes([this] {
    uint64_t total = main_.bufferTracker().total();
    for (const auto& w : workers_) total += w->bufferedBytes();
    return total;
  });
  overload_->setResetStreams([this](double value) {
    for (auto& w : workers_) w->resetHighMemoryStreams(value);
  });
  overload_->start();
  for (uint32_t i = 0; i < options_.concurrency; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, store_.get(), overload_.get()));
    if (auto bytes = overload_->config().bufferedResetBytes()) {
      workers_.back()->setBufferedBytesLimit(*bytes / options_.concurrency);
    }
    workers_.back()->start();
  }
  dns_ = std::make_unique<upstream::DnsClusters>(main_, *store_, [this] { onHostsChanged(); });
  health_ =
      std::make_unique<upstream::HostHealthOverlay>(main_, *store_, [this] { onHostsChanged(); });
  snapshot_ = withRuntimeHosts(source_snapshot_);
  // The snapshot goes out before the listeners so no worker ever accepts without a config.
  publish(snapshot_);
  apply_time_ = &store_->histogram("control_plane.config_apply_ms");
  listener_create_failure_ = &store_->counter("listener_manager.listener_create_failure");
  auto dynamic = xds::parseDynamicResources(bootstrap_.bootstrap);
  if (!dynamic.ok()) {
    spdlog::critical("{}", std::string(dynamic.status().message()));
    for (auto& w : workers_) w->stop();
    return 1;
  }
  if (dynamic->ads || dynamic->lds || dynamic->cds) {
    // Listeners open once the initial configuration is in place (onInitialized), as in Envoy:
    // until then /ready answers 503.
    xds::XdsManager::Options xds_options;
    xds_options.drain_time =
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.drain_time);
    xds_ = std::make_unique<xds::XdsManager>(main_, bootstrap_.bootstrap, *std::move(dynamic),
                                             static_snapshot_, *store_, *this, xds_options);
    xds_->start();
  } else {
    whenWarmed([this] { openListeners(); });
  }

  for (int sig : {SIGTERM, SIGINT}) {
    ::event* ev = evsignal_new(
        main_.base(), sig,
        [](evutil_socket_t signo, short, void* arg) {
          static_cast<Server*>(arg)->startDrain(signo == SIGTERM ? "SIGTERM" : "SIGINT");
        },
        this);
    evsignal_add(ev, nullptr);
    signal_events_.push_back(ev);
  }

  main_.run();

  if (exit_code_ == 0) spdlog::info("shutting down");
  xds_.reset();
  for (auto& w : workers_) w->stop();
  workers_.clear();
  health_.reset();
  dns_.reset();
  admin_.reset();
  return exit_code_;
}

absl::Status Server::startAdmin() {
  if (!bootstrap_.bootstrap.admin().has_address()) return absl::OkStatus();
  const auto& sa = bootstrap_.bootstrap.admin().address().socket_address();
  admin_ = std::make_unique<admin::AdminServer>(main_, *this);
  admin::registerDefaultHandlers(*admin_, *this);
  if (absl::Status s = admin_->bind(sa.address(), static_cast<uint16_t>(sa.port_value()));
      !s.ok()) {
    return s;
  }
  spdlog::info("admin address: {}", admin_->address());
  if (!options_.admin_address_path.empty()) {
    std::ofstream out(options_.admin_address_path);
    out << admin_->address();
    if (!out) {
      return absl::InternalError(
          absl::StrCat("cannot write --admin-address-path ", options_.admin_address_path));
    }
  }
  return absl::OkStatus();
}

void Server::openListeners() {
  if (absl::Status s = reconcileListeners(true); !s.ok()) {
    spdlog::critical("{}", std::string(s.message()));
    exit_code_ = 1;
    exitLoop();
    return;
  }
  goLive();
}

void Server::goLive() {
  afterAllWorkers([this] {
    if (state_ != admin::ServerState::kInitializing) return;
    state_ = admin::ServerState::kLive;
    spdlog::info("all {} workers serving {} listener(s); remora is live", workers_.size(),
                 bound_.size());
  });
}

void Server::whenWarmed(std::function<void()> open) {
  if (warmed()) {
    open();
    return;
  }
  spdlog::info(
      "waiting for DNS clusters' first answers and active health checks' first round "
      "before opening listeners");
  open_when_warmed_ = std::move(open);
}

bool Server::warmed() const { return dns_->warmed() && health_->warmed(); }

config::SnapshotConstSharedPtr Server::withRuntimeHosts(
    const config::SnapshotConstSharedPtr& source) {
  auto resolved = dns_->apply(source->clusters);
  auto checked = health_->apply(resolved ? *resolved : source->clusters);
  if (!resolved && !checked) return source;
  auto out = std::make_shared<config::Snapshot>(*source);
  out->clusters = checked ? *std::move(checked) : *std::move(resolved);
  return out;
}

void Server::onHostsChanged() {
  auto next = withRuntimeHosts(source_snapshot_);
  if (next != snapshot_) {
    snapshot_ = std::move(next);
    publish(snapshot_);
  }
  if (open_when_warmed_ && warmed()) {
    spdlog::info("clusters warmed: DNS answered and active health checks' first round done");
    std::exchange(open_when_warmed_, nullptr)();
  }
}

void Server::onSnapshot(config::SnapshotConstSharedPtr snapshot,
                        std::chrono::steady_clock::time_point received) {
  source_snapshot_ = std::move(snapshot);
  snapshot_ = withRuntimeHosts(source_snapshot_);
  publish(snapshot_);
  // The update may have removed what warming waited for.
  if (open_when_warmed_ && warmed()) std::exchange(open_when_warmed_, nullptr)();
  // The time from receiving the update to every worker running with it.
  afterAllWorkers([this, received] {
    const auto elapsed = std::chrono::steady_clock::now() - received;
    apply_time_->record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  });
  if (xds_ != nullptr && xds_->initialized() && !open_when_warmed_ &&
      state_ != admin::ServerState::kDraining) {
    (void)reconcileListeners(false);
  }
}

void Server::onInitialized() {
  whenWarmed([this] { openListeners(); });
}

absl::Status Server::reconcileListeners(bool startup) {
  const int count = static_cast<int>(workers_.size());
  const auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(options_.drain_time);
  absl::flat_hash_set<std::string> present;
  std::vector<admin::ListenerStatus> statuses;
  for (size_t i = 0; i < snapshot_->listeners.size(); ++i) {
    const config::ListenerConfigConstSharedPtr& lc = snapshot_->listeners[i];
    present.insert(lc->name);
    auto it = bound_.find(lc->name);
    if (it != bound_.end() && it->second.configured.asString() == lc->address.asString()) {
      // Same address: the sockets stay; connections accepted under the old config drain.
      if (it->second.config != lc) {
        for (auto& w : workers_) w->drainListenerConfig(lc->name, it->second.config, drain);
        it->second.config = lc;
        spdlog::info("listener '{}' updated", lc->name);
      }
      statuses.push_back(it->second.status);
      continue;
    }
    if (it != bound_.end()) {
      // A new address is a new listener under the old name: the old one drains.
      for (auto& w : workers_) w->removeListener(lc->name, drain);
      bound_.erase(it);
    }
    auto bound = network::bindListener(
        lc->address, count, static_cast<int>(std::min<uint32_t>(lc->tcp_backlog_size, INT32_MAX)));
    if (!bound.ok()) {
      std::string why = absl::StrCat("listener '", lc->name, "': ", bound.status().message());
      if (startup && static_snapshot_->findListener(lc->name) != nullptr) {
        return absl::UnavailableError(absl::StrCat("static_resources.listeners[", i, "] '",
                                                   lc->name, "': ", bound.status().message()));
      }
      spdlog::error("{}", why);
      listener_create_failure_->inc();
      continue;
    }
    // Envoy names listener stats after the bound address, with ':' made '_'.
    const std::string prefix = absl::StrCat(
        "listener.",
        lc->stat_prefix.empty() ? absl::StrReplaceAll(bound->address.asString(), {{":", "_"}})
                                : lc->stat_prefix,
        ".");
    auto stats = std::make_shared<ListenerStats>(*store_, prefix);
    const auto& limits = overload_->config().listener_connection_limits;
    if (auto limit = limits.find(lc->name); limit != limits.end()) {
      stats->connections.setMax(limit->second);
    }
    for (int w = 0; w < count; ++w) {
      workers_[w]->addListener(lc->name, std::move(bound->sockets[w]), stats);
    }
    BoundListener b;
    b.configured = lc->address;
    b.config = lc;
    b.status.name = lc->name;
    b.status.address = bound->address.asString();
    b.status.ip = bound->address.ip();
    b.status.port = bound->address.port();
    statuses.push_back(b.status);
    bound_[lc->name] = std::move(b);
    spdlog::info("listener '{}' on {}", lc->name, bound->address.asString());
  }
  for (auto it = bound_.begin(); it != bound_.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("listener '{}' removed; draining its connections", it->first);
    for (auto& w : workers_) w->removeListener(it->first, drain);
    it = bound_.erase(it);
  }
  bound_listeners_ = std::move(statuses);
  return absl::OkStatus();
}

void Server::publish(config::SnapshotConstSharedPtr snapshot) {
  for (auto& w : workers_) w->setSnapshot(snapshot, nullptr);
}

void Server::afterAllWorkers(std::function<void()> done) {
  auto remaining = std::make_shared<size_t>(workers_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& w : workers_) {
    w->dispatcher().post([this, remaining, shared_done] {
      main_.post([remaining, shared_done] {
        if (--*remaining == 0) (*shared_done)();
      });
    });
  }
}

void Server::startDrain(const char* why) {
  if (state_ == admin::ServerState::kDraining) return;
  state_ = admin::ServerState::kDraining;
  spdlog::info("{}: draining for up to {}s", why, options_.drain_time.count());
  for (auto& w : workers_) w->stopListeners(nullptr);
  drain_deadline_ = main_.createTimer([this] {
    spdlog::info("drain time elapsed");
    exitLoop();
  });
  drain_deadline_->enable(
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.drain_time));
  // Count open connections only after every worker has stopped accepting.
  afterAllWorkers([this] {
    drain_poll_ = main_.createTimer([this] { checkDrained(); });
    checkDrained();
  });
}

void Server::checkDrained() {
  size_t open = 0;
  for (const auto& w : workers_) open += w->activeSessions();
  if (open == 0) {
    spdlog::info("all connections closed");
    exitLoop();
    return;
  }
  drain_poll_->enable(std::chrono::milliseconds(50));
}

void Server::requestShutdown() {
  spdlog::info("shutdown requested through the admin endpoint");
  state_ = admin::ServerState::kDraining;
  exitLoop();
}

void Server::exitLoop() {
  if (exiting_) return;
  exiting_ = true;
  main_.exit();
}

}  // namespace remora::server
