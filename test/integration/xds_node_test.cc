// What the real remora binary tells an xDS server about itself: the bootstrap's node id and cluster
// with user_agent_name "remora", on every request or, with set_node_on_first_message_only, on the
// first request of each stream only. The mock control plane records only the node id, so a small
// ADS server here keeps every request whole.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "test/support/remora_process.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using envoy::config::core::v3::Node;
using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// One request as far as these tests care.
struct Seen {
  std::string type_url;
  bool acks = false;  // It carries a response nonce.
  bool has_node = false;
  Node node;
};

// Answers each type's first request with an empty resource list (so that the client finishes
// initializing with nothing) and records every request.
class RecordingAds final : public AggregatedDiscoveryService::Service {
 public:
  RecordingAds() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~RecordingAds() override { server_->Shutdown(std::chrono::system_clock::now() + 2s); }

  uint16_t port() const { return static_cast<uint16_t>(port_); }

  // Waits until `n` requests are recorded and returns them all; fewer at the deadline.
  std::vector<Seen> waitForRequests(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return seen_.size() >= n; });
    return seen_;
  }

  grpc::Status StreamAggregatedResources(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream) override {
    DiscoveryRequest request;
    while (stream->Read(&request)) {
      record(request.type_url(), !request.response_nonce().empty(), request.has_node(),
             request.node());
      if (!request.response_nonce().empty()) continue;
      DiscoveryResponse response;
      response.set_type_url(request.type_url());
      response.set_version_info("1");
      response.set_nonce("1");
      stream->Write(response);
    }
    return grpc::Status::OK;
  }

  grpc::Status DeltaAggregatedResources(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<DeltaDiscoveryResponse, DeltaDiscoveryRequest>* stream) override {
    DeltaDiscoveryRequest request;
    while (stream->Read(&request)) {
      record(request.type_url(), !request.response_nonce().empty(), request.has_node(),
             request.node());
      if (!request.response_nonce().empty()) continue;
      DeltaDiscoveryResponse response;
      response.set_type_url(request.type_url());
      response.set_system_version_info("1");
      response.set_nonce("1");
      stream->Write(response);
    }
    return grpc::Status::OK;
  }

 private:
  void record(const std::string& type_url, bool acks, bool has_node, const Node& node) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(Seen{type_url, acks, has_node, node});
    cv_.notify_all();
  }

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
};

TEST_CASE("xDS: requests carry the node id and cluster with user_agent_name remora", "[xds]") {
  const bool delta = GENERATE(false, true);
  const bool first_only = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta) << ", set_node_on_first_message_only " << first_only);
  RecordingAds server;
  REQUIRE(server.port() != 0);
  XdsBootstrapSpec spec;
  spec.xds_port = server.port();
  spec.delta = delta;
  spec.set_node_on_first_message_only = first_only;
  auto remora = launchRemora(xdsBootstrap(spec));
  INFO(remora->describe());
  REQUIRE(remora->waitReady());

  // A subscription and an ACK each for CDS and LDS, all on one stream.
  const std::vector<Seen> seen = server.waitForRequests(4, 10s);
  REQUIRE(seen.size() >= 4);
  REQUIRE(seen[0].has_node);
  CHECK(seen[0].node.id() == spec.node_id);
  CHECK(seen[0].node.cluster() == spec.node_cluster);
  CHECK(seen[0].node.user_agent_name() == "remora");
  int acks = 0;
  for (size_t i = 1; i < seen.size(); ++i) {
    INFO("request " << i << " of type " << seen[i].type_url);
    acks += seen[i].acks ? 1 : 0;
    if (first_only) {
      CHECK_FALSE(seen[i].has_node);
    } else {
      REQUIRE(seen[i].has_node);
      CHECK(seen[i].node.id() == spec.node_id);
      CHECK(seen[i].node.cluster() == spec.node_cluster);
      CHECK(seen[i].node.user_agent_name() == "remora");
    }
  }
  CHECK(acks >= 2);
}

}  // namespace
}  // namespace remora::testing
