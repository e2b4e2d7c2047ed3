// The xDS subscription state machine for one stream to one management server: ADS (several types on
// one stream) or a per-type service (one type). It speaks the state-of-the-world or the delta
// protocol as Envoy's and gRPC's xDS clients do: ACK with version_info and response_nonce, NACK
// with the last accepted version, the new nonce and error_detail; named and wildcard subscriptions;
// delta initial_resource_versions on reconnect; reconnect with jittered exponential back-off,
// logged once per outage rather than per attempt. Main thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "api/xds/transport.h"
#include "api/xds/watcher.h"
#include "envoy/config/core/v3/base.pb.h"
#include "source/event/dispatcher.h"
#include "source/stats/store.h"

namespace remora::xds {

struct MuxOptions {
  bool delta = false;
  envoy::config::core::v3::Node node;
  bool set_node_on_first_message_only = false;
  // Re-connection back-off: the n-th consecutive failure waits a uniformly random time in
  // [0, min(max, base * 2^n)] (full jitter). Reset once a response arrives on a stream.
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_max{30000};
};

class Mux : public StreamCallbacks {
 public:
  Mux(event::Dispatcher& dispatcher, std::unique_ptr<Transport> transport, MuxOptions options,
      stats::Store& store);
  ~Mux() override;

  // Subscribes to `type_url`. A wildcard watch (LDS, CDS) asks for every resource of the type; a
  // named one (RDS, EDS) for the names given by setResourceNames(). `stat_prefix` (e.g.
  // "cluster_manager.cds.") names the update_attempt / update_success / update_rejected /
  // update_failure counters of this type. Requests go out in the order of the addWatch calls.
  void addWatch(std::string type_url, ResourceWatcher* watcher, bool wildcard,
                std::string stat_prefix);
  // Replaces the names of a named watch; sends a request if the stream is up and they changed.
  // When called from inside ResourceWatcher::onUpdate, the request goes out after that response's
  // ACK or NACK.
  void setResourceNames(absl::string_view type_url, const absl::flat_hash_set<std::string>& names);

  // Opens the first stream.
  void start();
  bool connected() const { return connected_; }
  const std::string& describe() const { return description_; }

  // --- StreamCallbacks (from the transport) -----------------------------------------------
  void onStreamConnected() override;
  void onSotwResponse(std::unique_ptr<envoy::service::discovery::v3::DiscoveryResponse>) override;
  void onDeltaResponse(
      std::unique_ptr<envoy::service::discovery::v3::DeltaDiscoveryResponse>) override;
  void onStreamClosed(const absl::Status& status) override;

 private:
  // Implementation-defined: per-type state (watcher, wildcard, names, SotW version and nonce,
  // delta resource versions, stats), the stream, the retry timer.
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string description_;
  bool connected_ = false;
};

// The name of a resource as carried inside it (Listener.name, Cluster.name,
// RouteConfiguration.name, ClusterLoadAssignment.cluster_name), or of a wrapping
// envoy.service.discovery.v3.Resource; an error when the Any cannot be decoded as `type_url`.
absl::StatusOr<std::string> resourceName(absl::string_view type_url,
                                         const google::protobuf::Any& any);

}  // namespace remora::xds
