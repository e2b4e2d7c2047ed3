#include "tools/mock-cp/xds_service.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "envoy/service/cluster/v3/cds.grpc.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "envoy/service/endpoint/v3/eds.grpc.pb.h"
#include "envoy/service/listener/v3/lds.grpc.pb.h"
#include "envoy/service/route/v3/rds.grpc.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "tools/mock-cp/delta_stream.h"
#include "tools/mock-cp/sotw_stream.h"

namespace remora::mockcp {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using SotwReactor = grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>;
using DeltaReactor = grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

// Per-type services serve the type of their API; ADS serves any.
std::string serviceTypeUrl(std::string_view api) {
  for (const auto& t : knownTypes()) {
    if (t.api == api) return std::string(t.type_url);
  }
  return "";
}

SotwReactor* startSotw(ControlPlane& cp, std::string_view api) {
  return SotwStream::start<SotwStream>(cp, std::string(api), serviceTypeUrl(api));
}

DeltaReactor* startDelta(ControlPlane& cp, std::string_view api) {
  return DeltaStream::start<DeltaStream>(cp, std::string(api), serviceTypeUrl(api));
}

class AdsService final
    : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  explicit AdsService(ControlPlane& cp) : cp_(cp) {}
  SotwReactor* StreamAggregatedResources(grpc::CallbackServerContext*) override {
    return startSotw(cp_, "ads");
  }
  DeltaReactor* DeltaAggregatedResources(grpc::CallbackServerContext*) override {
    return startDelta(cp_, "ads");
  }

 private:
  ControlPlane& cp_;
};

class LdsService final
    : public envoy::service::listener::v3::ListenerDiscoveryService::CallbackService {
 public:
  explicit LdsService(ControlPlane& cp) : cp_(cp) {}
  SotwReactor* StreamListeners(grpc::CallbackServerContext*) override {
    return startSotw(cp_, "lds");
  }
  DeltaReactor* DeltaListeners(grpc::CallbackServerContext*) override {
    return startDelta(cp_, "lds");
  }

 private:
  ControlPlane& cp_;
};

class RdsService final : public envoy::service::route::v3::RouteDiscoveryService::CallbackService {
 public:
  explicit RdsService(ControlPlane& cp) : cp_(cp) {}
  SotwReactor* StreamRoutes(grpc::CallbackServerContext*) override { return startSotw(cp_, "rds"); }
  DeltaReactor* DeltaRoutes(grpc::CallbackServerContext*) override {
    return startDelta(cp_, "rds");
  }

 private:
  ControlPlane& cp_;
};

class CdsService final
    : public envoy::service::cluster::v3::ClusterDiscoveryService::CallbackService {
 public:
  explicit CdsService(ControlPlane& cp) : cp_(cp) {}
  SotwReactor* StreamClusters(grpc::CallbackServerContext*) override {
    return startSotw(cp_, "cds");
  }
  DeltaReactor* DeltaClusters(grpc::CallbackServerContext*) override {
    return startDelta(cp_, "cds");
  }

 private:
  ControlPlane& cp_;
};

class EdsService final
    : public envoy::service::endpoint::v3::EndpointDiscoveryService::CallbackService {
 public:
  explicit EdsService(ControlPlane& cp) : cp_(cp) {}
  SotwReactor* StreamEndpoints(grpc::CallbackServerContext*) override {
    return startSotw(cp_, "eds");
  }
  DeltaReactor* DeltaEndpoints(grpc::CallbackServerContext*) override {
    return startDelta(cp_, "eds");
  }

 private:
  ControlPlane& cp_;
};

}  // namespace

XdsServer::XdsServer(ControlPlane& cp) : cp_(cp) {}

XdsServer::~XdsServer() { shutdown(); }

absl::StatusOr<uint16_t> XdsServer::start(uint16_t port, const std::string& uds_path) {
  services_.push_back(std::make_unique<AdsService>(cp_));
  services_.push_back(std::make_unique<LdsService>(cp_));
  services_.push_back(std::make_unique<RdsService>(cp_));
  services_.push_back(std::make_unique<CdsService>(cp_));
  services_.push_back(std::make_unique<EdsService>(cp_));
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                           &bound);
  // Istio's bootstrap reaches its xDS server through a unix socket (a pipe address); serving one
  // lets tests take that path. gRPC unlinks a stale socket file first, so a restart can rebind.
  int uds_bound = 0;
  if (!uds_path.empty()) {
    builder.AddListeningPort(absl::StrCat("unix:", uds_path), grpc::InsecureServerCredentials(),
                             &uds_bound);
  }
  // gRPC sets SO_REUSEPORT by default: a second mock control plane on a taken port would then
  // share it silently instead of failing.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (auto& service : services_) builder.RegisterService(service.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound == 0 || (!uds_path.empty() && uds_bound == 0)) {
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen for xDS on 127.0.0.1:", port,
                     uds_path.empty() ? "" : absl::StrCat(" and unix:", uds_path)));
  }
  return static_cast<uint16_t>(bound);
}

void XdsServer::shutdown() {
  if (server_ == nullptr) return;
  // Ending the streams first lets Shutdown return without waiting out its deadline.
  cp_.streams.closeAll(grpc::Status(grpc::StatusCode::UNAVAILABLE, "mock control plane stopping"));
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_.reset();
}

}  // namespace remora::mockcp
