#include "source/server/server.h"

#include <signal.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/time_util.h"
#include "source/admin/config_dump.h"
#include "source/admin/handlers.h"
#include "source/network/listen_socket.h"
#include "spdlog/spdlog.h"

namespace remora::server {

Server::Server(Options options, config::LoadedBootstrap bootstrap,
               std::shared_ptr<stats::Store> store, config::SnapshotConstSharedPtr first)
    : options_(std::move(options)),
      bootstrap_(std::move(bootstrap)),
      snapshot_(std::move(first)),
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

std::string Server::configDumpJson() const {
  return admin::staticConfigDumpJson(bootstrap_.bootstrap, loaded_at_);
}

std::vector<admin::ListenerStatus> Server::listeners() const { return bound_listeners_; }

int Server::run() {
  if (absl::Status s = startAdmin(); !s.ok()) {
    spdlog::critical("admin: {}", std::string(s.message()));
    return 1;
  }
  state_ = admin::ServerState::kInitializing;
  for (uint32_t i = 0; i < options_.concurrency; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, store_.get()));
    workers_.back()->start();
  }
  // The snapshot goes out before the listeners so no worker ever accepts without a config.
  publish(snapshot_);
  if (absl::Status s = bindListeners(); !s.ok()) {
    spdlog::critical("{}", std::string(s.message()));
    for (auto& w : workers_) w->stop();
    return 1;
  }
  afterAllWorkers([this] {
    if (state_ != admin::ServerState::kInitializing) return;
    state_ = admin::ServerState::kLive;
    spdlog::info("all {} workers serving {} listener(s); remora is live", workers_.size(),
                 bound_listeners_.size());
  });

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

  spdlog::info("shutting down");
  for (auto& w : workers_) w->stop();
  workers_.clear();
  admin_.reset();
  return 0;
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

absl::Status Server::bindListeners() {
  const int count = static_cast<int>(workers_.size());
  for (size_t i = 0; i < snapshot_->listeners.size(); ++i) {
    const config::ListenerConfig& lc = *snapshot_->listeners[i];
    auto bound = network::bindListener(lc.address, count);
    if (!bound.ok()) {
      return absl::UnavailableError(absl::StrCat("static_resources.listeners[", i, "] '", lc.name,
                                                 "': ", bound.status().message()));
    }
    // Envoy names listener stats after the bound address, with ':' made '_'.
    const std::string prefix = absl::StrCat(
        "listener.",
        lc.stat_prefix.empty() ? absl::StrReplaceAll(bound->address.asString(), {{":", "_"}})
                               : lc.stat_prefix,
        ".");
    auto stats = std::make_shared<ListenerStats>(*store_, prefix);
    for (int w = 0; w < count; ++w) {
      workers_[w]->addListener(lc.name, std::move(bound->sockets[w]), stats);
    }
    admin::ListenerStatus status;
    status.name = lc.name;
    status.address = bound->address.asString();
    status.ip = bound->address.ip();
    status.port = bound->address.port();
    bound_listeners_.push_back(std::move(status));
    spdlog::info("listener '{}' on {}", lc.name, bound->address.asString());
  }
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
