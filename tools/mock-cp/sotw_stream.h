// A state-of-the-world xDS stream (StreamAggregatedResources or a per-type Stream*): answers each
// type when first asked and when the subscription changes, pushes when the subscribed resources
// change, and leaves NACKs and plain ACKs unanswered.
#pragma once

#include <map>
#include <set>
#include <string>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "tools/mock-cp/stream_reactor.h"

namespace remora::mockcp {

class SotwStream final : public StreamReactor<envoy::service::discovery::v3::DiscoveryRequest,
                                              envoy::service::discovery::v3::DiscoveryResponse> {
 public:
  // `service_type_url` is empty on ADS.
  SotwStream(ControlPlane& cp, std::string api, std::string service_type_url)
      : StreamReactor(cp, std::move(api), std::move(service_type_url), /*delta=*/false) {}

  std::string describeJson() const override;

 private:
  struct TypeState {
    bool wildcard = false;
    std::set<std::string> names;
    std::string nonce;  // of the last response; empty until the first
    int64_t sent_version = 0;
    std::map<std::string, int64_t> sent;  // name -> resource version, as last sent
  };

  grpc::Status onRequestLocked(const envoy::service::discovery::v3::DiscoveryRequest& r) override;
  void onSnapshotLocked(bool resend) override;

  // What this subscription gets from snapshot_: name -> resource version.
  std::map<std::string, int64_t> selectionLocked(const std::string& type_url,
                                                 const TypeState& st) const;
  void respondLocked(const std::string& type_url, TypeState& st);

  std::map<std::string, TypeState> types_;
};

}  // namespace remora::mockcp
