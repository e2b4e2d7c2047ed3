// An incremental (delta) xDS stream (DeltaAggregatedResources or a per-type Delta*): tracks per
// type what the client subscribed to and which version of each resource it has, and sends only
// resources it lacks or has an older version of, plus removed_resources for deleted ones it had.
#pragma once

#include <map>
#include <set>
#include <string>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "tools/mock-cp/stream_reactor.h"

namespace remora::mockcp {

class DeltaStream final
    : public StreamReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                           envoy::service::discovery::v3::DeltaDiscoveryResponse> {
 public:
  // `service_type_url` is empty on ADS.
  DeltaStream(ControlPlane& cp, std::string api, std::string service_type_url)
      : StreamReactor(cp, std::move(api), std::move(service_type_url), /*delta=*/true) {}

  std::string describeJson() const override;

 private:
  struct TypeState {
    bool wildcard = false;
    std::set<std::string> names;
    // name -> version the client has: from initial_resource_versions, then what was sent.
    std::map<std::string, std::string> client_has;
    int64_t sent_version = 0;
  };

  grpc::Status onRequestLocked(
      const envoy::service::discovery::v3::DeltaDiscoveryRequest& r) override;
  void onSnapshotLocked(bool resend) override;
  // Queues the resources the client lacks (all in scope when `resend`) and the removals; an empty
  // response only when `even_if_empty`.
  void respondLocked(const std::string& type_url, TypeState& st, bool resend, bool even_if_empty);

  std::map<std::string, TypeState> types_;
};

}  // namespace remora::mockcp
