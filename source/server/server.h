// The server: loads the bootstrap, starts the workers, publishes snapshots to them, runs the admin
// endpoint and the signal-driven drain, all from the main thread's event loop.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/timestamp.pb.h"
#include "source/admin/admin_context.h"
#include "source/admin/admin_server.h"
#include "source/config/bootstrap_loader.h"
#include "source/config/snapshot.h"
#include "source/event/dispatcher.h"
#include "source/server/options.h"
#include "source/server/overload_manager.h"
#include "source/server/worker.h"
#include "source/stats/store.h"
#include "source/upstream/dns_clusters.h"
#include "source/upstream/host_health_overlay.h"
#include "source/xds/xds_manager.h"

namespace remora::server {

class Server : public admin::AdminContext, public xds::XdsManager::Callbacks {
 public:
  // `store` holds the stats that `first` was built with.
  Server(Options options, config::LoadedBootstrap bootstrap, std::shared_ptr<stats::Store> store,
         config::SnapshotConstSharedPtr first);
  ~Server() override;

  // Binds, starts the workers and serves until shutdown; returns the process exit code.
  int run();

  // --- admin::AdminContext -----------------------------------------------------------------
  admin::ServerState state() const override { return state_.load(); }
  std::string version() const override;
  std::chrono::seconds uptime() const override;
  std::string commandLine() const override { return options_.command_line; }
  std::string nodeId() const override { return bootstrap_.bootstrap.node().id(); }
  std::string nodeCluster() const override { return bootstrap_.bootstrap.node().cluster(); }
  const stats::Store& stats() const override { return *store_; }
  std::string configDumpJson(bool include_eds) const override;
  std::vector<admin::ClusterInfo> clusters() const override;
  std::vector<admin::ListenerStatus> listeners() const override;
  void requestShutdown() override;

 private:
  // --- xds::XdsManager::Callbacks ----------------------------------------------------------
  void onSnapshot(config::SnapshotConstSharedPtr snapshot,
                  std::chrono::steady_clock::time_point received) override;
  void onInitialized() override;

  // Makes the workers' listeners match the snapshot's: binds new ones (the socket of an unchanged
  // address is kept), drains the connections of changed and removed ones. At startup a bind
  // failure is fatal; later it is logged and the listener skipped.
  absl::Status reconcileListeners(bool startup);
  // Binds the snapshot's listeners at startup and goes live; a bind failure ends the process.
  void openListeners();
  void goLive();
  // Listeners open once every DNS cluster has its first answers and every health-checked cluster
  // has finished its first round of checks (Envoy's cluster warming); `open` runs then, at once
  // when there is nothing to wait for.
  void whenWarmed(std::function<void()> open);
  bool warmed() const;
  // `source` with DNS clusters' resolved hosts and the health verdicts laid over its clusters.
  config::SnapshotConstSharedPtr withRuntimeHosts(const config::SnapshotConstSharedPtr& source);
  void onHostsChanged();
  absl::Status startAdmin();
  void publish(config::SnapshotConstSharedPtr snapshot);
  // Runs `done` on the main thread once every worker has processed what was posted to it before.
  void afterAllWorkers(std::function<void()> done);
  void startDrain(const char* why);
  void checkDrained();
  void exitLoop();

  Options options_;
  config::LoadedBootstrap bootstrap_;
  // What workers run: source_snapshot_ (the static config, or the xDS manager's latest) with host
  // health applied.
  config::SnapshotConstSharedPtr snapshot_;
  config::SnapshotConstSharedPtr source_snapshot_;
  config::SnapshotConstSharedPtr static_snapshot_;
  std::unique_ptr<xds::XdsManager> xds_;
  struct BoundListener {
    network::Address configured;
    config::ListenerConfigConstSharedPtr config;
    admin::ListenerStatus status;
  };
  std::map<std::string, BoundListener> bound_;
  stats::Histogram* apply_time_ = nullptr;
  stats::Counter* listener_create_failure_ = nullptr;
  std::shared_ptr<stats::Store> store_;
  google::protobuf::Timestamp loaded_at_;
  std::chrono::steady_clock::time_point started_;
  event::Dispatcher main_{"main"};
  // Before workers_, which use it until they stop; after main_, whose timer it holds.
  std::unique_ptr<OverloadManager> overload_;
  std::vector<std::unique_ptr<Worker>> workers_;
  // After main_: their timers, queries and connections live on the main loop.
  std::unique_ptr<upstream::DnsClusters> dns_;
  std::unique_ptr<upstream::HostHealthOverlay> health_;
  std::function<void()> open_when_warmed_;
  int exit_code_ = 0;
  std::vector<admin::ListenerStatus> bound_listeners_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::atomic<admin::ServerState> state_{admin::ServerState::kPreInitializing};
  std::vector<::event*> signal_events_;
  event::TimerPtr drain_deadline_;
  event::TimerPtr drain_poll_;
  bool exiting_ = false;
};

}  // namespace remora::server
