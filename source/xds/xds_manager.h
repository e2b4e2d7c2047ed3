// The main thread's owner of dynamic configuration: subscribes to LDS, CDS, RDS and EDS (over ADS
// or per-type servers), validates every update into the compiled model (a bad resource rejects its
// whole update, which is NACKed while the last good config stays), warms listeners until their
// routes and clusters until their endpoints arrive (or initial_fetch_timeout passes), and builds a
// new immutable Snapshot after each accepted change, reusing every unchanged part by pointer.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "api/xds/watcher.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "grpcpp/channel.h"
#include "source/admin/dynamic_config_state.h"
#include "source/config/snapshot.h"
#include "source/event/dispatcher.h"
#include "source/stats/store.h"
#include "source/xds/config_source.h"
#include "source/xds/grpc_transport.h"
#include "source/xds/mux.h"

namespace remora::xds {

class XdsManager {
 public:
  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    // A new snapshot is ready; `received` is when the update behind it arrived.
    virtual void onSnapshot(config::SnapshotConstSharedPtr snapshot,
                            std::chrono::steady_clock::time_point received) = 0;
    // The initial configuration is in place (first LDS and CDS responses, everything warmed or
    // timed out): time to open the listeners.
    virtual void onInitialized() = 0;
  };

  struct Options {
    // How long a replaced or removed listener is shown as draining in config dumps.
    std::chrono::milliseconds drain_time{600000};
    // Stream re-connection back-off (tests shorten it).
    std::chrono::milliseconds backoff_base{500};
    std::chrono::milliseconds backoff_max{30000};
    // Opens the transport of each stream; unset: gRPC. Tests put an in-memory one here.
    std::function<std::unique_ptr<Transport>(const ApiSource&, Service)> transport_factory;
  };

  XdsManager(event::Dispatcher& dispatcher,
             const envoy::config::bootstrap::v3::Bootstrap& bootstrap, DynamicResources resources,
             config::SnapshotConstSharedPtr static_snapshot, stats::Store& store,
             Callbacks& callbacks, Options options);
  ~XdsManager();

  void start();
  bool initialized() const { return initialized_; }
  admin::DynamicConfigState state() const;

 private:
  struct Meta {
    std::string version;
    google::protobuf::Timestamp last_updated;
    google::protobuf::Any raw;
  };
  struct ListenerVersion {
    Meta meta;
    config::ListenerConfigConstSharedPtr config;
    std::vector<std::string> rds_names;
    std::vector<Source> rds_sources;  // Parallel to rds_names.
  };
  struct ListenerSlot {
    std::optional<ListenerVersion> active;
    std::optional<ListenerVersion> warming;
  };
  struct ClusterVersion {
    Meta meta;
    upstream::ClusterConstSharedPtr base;  // EDS clusters: without hosts.
    std::optional<Source> eds_source;
  };
  struct ClusterSlot {
    std::optional<ClusterVersion> active;
    std::optional<ClusterVersion> warming;
    // The active one with its endpoints; rebuilt only when either changes.
    upstream::ClusterConstSharedPtr effective;
    const upstream::Cluster* effective_base = nullptr;
    const upstream::HostSet* effective_hosts = nullptr;
  };
  struct RouteSlot {
    Meta meta;
    std::shared_ptr<const router::RouteTable> table;
  };
  struct EndpointSlot {
    Meta meta;
    upstream::HostSetConstSharedPtr hosts;
  };
  struct Draining {
    admin::DynamicResourceInfo info;
    std::chrono::steady_clock::time_point until;
  };
  class TypeWatcher;

  absl::Status onListeners(const Update& update);
  absl::Status onClusters(const Update& update);
  absl::Status onRoutes(const Update& update);
  absl::Status onEndpoints(const Update& update);

  Mux* muxFor(const Source& source, absl::string_view type_url);
  Mux* ensureMux(const ApiSource& api, absl::string_view type_url, bool aggregated);
  std::unique_ptr<Transport> makeTransport(const ApiSource& api, Service service);
  void recordError(absl::flat_hash_map<std::string, admin::ResourceErrorInfo>& errors,
                   const std::string& name, const std::string& details, const Update& update,
                   const google::protobuf::Any* raw);
  bool routesReady(const ListenerVersion& v) const;
  bool endpointsReady(const ClusterVersion& v) const;
  void promoteWarming();
  void retireListener(const std::string& name, const ListenerVersion& v);
  void updateSubscriptions();
  void startFetchTimer(absl::flat_hash_map<std::string, event::TimerPtr>& timers,
                       absl::flat_hash_set<std::string>& timed_out, const std::string& name,
                       std::chrono::milliseconds timeout);
  void rebuild(std::chrono::steady_clock::time_point received);
  void checkInitialized();

  event::Dispatcher& dispatcher_;
  const envoy::config::bootstrap::v3::Bootstrap& bootstrap_;
  DynamicResources resources_;
  config::SnapshotConstSharedPtr static_;
  stats::Store& store_;
  Callbacks& callbacks_;
  Options options_;
  MuxOptions mux_options_;

  absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>> channels_;  // By target.
  // Every (mux, type) with a named watch (RDS, EDS), to tell each its names.
  std::vector<std::pair<Mux*, std::string>> named_watches_;
  std::vector<std::unique_ptr<TypeWatcher>> watchers_;
  std::unique_ptr<Mux> ads_;
  // Per-type streams to api_config_source servers, by ApiSource::key() and type.
  std::map<std::string, std::unique_ptr<Mux>> api_muxes_;
  std::vector<Mux*> started_;

  std::map<std::string, ListenerSlot> listeners_;
  std::map<std::string, ClusterSlot> clusters_;
  std::map<std::string, RouteSlot> routes_;
  std::map<std::string, EndpointSlot> endpoints_;
  std::vector<Draining> draining_;
  absl::flat_hash_map<std::string, admin::ResourceErrorInfo> listener_errors_, cluster_errors_,
      route_errors_, endpoint_errors_;
  std::string lds_version_, cds_version_;

  // initial_fetch_timeout of RDS and EDS names not received yet.
  absl::flat_hash_map<std::string, event::TimerPtr> rds_timers_, eds_timers_;
  absl::flat_hash_set<std::string> rds_timed_out_, eds_timed_out_;
  event::TimerPtr lds_timer_, cds_timer_;
  bool lds_first_ = false, cds_first_ = false;
  bool initialized_ = false;
  uint64_t version_ = 0;
};

}  // namespace remora::xds
