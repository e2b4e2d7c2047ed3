// The mock xDS control plane (tools/mock-cp) as an xDS client sees it, through a small gRPC client
// written here: state-of-the-world and delta ADS, a per-type service, ACK/NACK recording, pushes on
// file changes and API calls, deletions, and a restart on the same port.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/service/cluster/v3/cds.grpc.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "test/support/mock_cp.h"
#include "test/support/process.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr auto kTimeout = 10s;
// How long "no response" is watched for. A response would come within milliseconds.
constexpr auto kQuiet = 300ms;
constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

// One xDS stream of a blocking gRPC client: a thread reads responses into a queue, so a test
// waits for the next one with a deadline.
template <class Request, class Response>
class ClientStream {
 public:
  using Open = std::function<std::unique_ptr<grpc::ClientReaderWriter<Request, Response>>(
      grpc::ClientContext*)>;

  explicit ClientStream(const Open& open) {
    // Across a control-plane restart the channel is briefly down: wait instead of failing.
    context_.set_wait_for_ready(true);
    stream_ = open(&context_);
    reader_ = std::thread([this] {
      Response response;
      while (stream_->Read(&response)) {
        std::lock_guard<std::mutex> lock(mu_);
        responses_.push_back(response);
        cv_.notify_all();
      }
      grpc::Status status = stream_->Finish();
      std::lock_guard<std::mutex> lock(mu_);
      status_ = status;
      cv_.notify_all();
    });
  }
  ~ClientStream() {
    context_.TryCancel();
    reader_.join();
  }

  bool send(const Request& request) { return stream_->Write(request); }

  std::optional<Response> next(std::chrono::milliseconds timeout = kTimeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return !responses_.empty() || status_.has_value(); });
    if (responses_.empty()) return std::nullopt;
    Response response = std::move(responses_.front());
    responses_.pop_front();
    return response;
  }

  // The status the server ended the stream with; nullopt while it is open.
  std::optional<grpc::Status> waitClosed(std::chrono::milliseconds timeout = kTimeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return status_.has_value(); });
    return status_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Response> responses_;
  std::optional<grpc::Status> status_;
};
using SotwStream = ClientStream<DiscoveryRequest, DiscoveryResponse>;
using DeltaStream = ClientStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

std::shared_ptr<grpc::Channel> channelTo(const MockControlPlane& cp) {
  return grpc::CreateChannel(cp.xdsAddress(), grpc::InsecureChannelCredentials());
}

std::unique_ptr<SotwStream> openAds(AggregatedDiscoveryService::Stub& stub) {
  return std::make_unique<SotwStream>(
      [&](grpc::ClientContext* c) { return stub.StreamAggregatedResources(c); });
}

std::unique_ptr<DeltaStream> openDeltaAds(AggregatedDiscoveryService::Stub& stub) {
  return std::make_unique<DeltaStream>(
      [&](grpc::ClientContext* c) { return stub.DeltaAggregatedResources(c); });
}

DiscoveryRequest request(const std::string& type_url, std::vector<std::string> names = {},
                         const std::string& version = "", const std::string& nonce = "") {
  DiscoveryRequest r;
  r.mutable_node()->set_id("test-node");
  r.set_type_url(type_url);
  for (auto& name : names) r.add_resource_names(std::move(name));
  r.set_version_info(version);
  r.set_response_nonce(nonce);
  return r;
}

// The ACK of `response`, asking for the same names.
DiscoveryRequest ack(const DiscoveryResponse& response, std::vector<std::string> names = {}) {
  return request(response.type_url(), std::move(names), response.version_info(), response.nonce());
}

// Each resource's name (ClusterLoadAssignment: cluster_name), read from its Any by reflection.
std::string resourceName(const google::protobuf::Any& any) {
  const std::string type = any.type_url().substr(any.type_url().rfind('/') + 1);
  const auto* d = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
  if (d == nullptr) return "<unknown type " + type + ">";
  std::unique_ptr<google::protobuf::Message> msg(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
  msg->ParseFromString(any.value());
  const auto* f = d->FindFieldByName(
      type == "envoy.config.endpoint.v3.ClusterLoadAssignment" ? "cluster_name" : "name");
  return msg->GetReflection()->GetString(*msg, f);
}

std::set<std::string> names(const DiscoveryResponse& response) {
  std::set<std::string> out;
  for (const auto& any : response.resources()) out.insert(resourceName(any));
  return out;
}

std::set<std::string> names(const DeltaDiscoveryResponse& response) {
  std::set<std::string> out;
  for (const auto& resource : response.resources()) out.insert(resource.name());
  return out;
}

std::string clusterItem(const std::string& name, int connect_timeout_s = 1) {
  return "- '@type': " + std::string(kClusterType) + "\n  name: " + name +
         "\n  connect_timeout: " + std::to_string(connect_timeout_s) + "s\n";
}

std::string routeItem(const std::string& name, const std::string& cluster = "backend") {
  return "- '@type': " + std::string(kRouteType) + "\n  name: " + name +
         "\n  virtual_hosts:\n  - name: all\n    domains: ['*']\n    routes:\n" +
         "    - match: {prefix: /}\n      route: {cluster: " + cluster + "}\n";
}

std::string resources(const std::string& items) { return "resources:\n" + items; }

// A started mock control plane serving the files written into dir first.
struct Fixture {
  TempDir dir;
  MockControlPlane cp;

  void start() {
    if (!cp.start(REMORA_MOCK_CP, dir.path())) FAIL(cp.error());
  }
};

TEST_CASE("mock control plane serves the directory's clusters to a wildcard SotW CDS request",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha") + clusterItem("beta")));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));

  auto response = ads->next();
  INFO(f.cp.describe());
  REQUIRE(response);
  CHECK(response->type_url() == kClusterType);
  CHECK(response->version_info() == "1");
  CHECK_FALSE(response->nonce().empty());
  CHECK(names(*response) == std::set<std::string>{"alpha", "beta"});
  auto recorded = f.cp.requests();
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].api == "ads");
  CHECK(recorded[0].node_id == "test-node");
  CHECK_FALSE(recorded[0].ack.has_value());
}

TEST_CASE("mock control plane records an ACK and a NACK with its error_detail", "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha")));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));
  auto first = ads->next();
  REQUIRE(first);
  REQUIRE(ads->send(ack(*first)));
  REQUIRE(f.cp.setResources(resources(clusterItem("alpha", 5))) == 2);
  auto second = ads->next();
  REQUIRE(second);
  DiscoveryRequest nack = request(kClusterType, {}, first->version_info(), second->nonce());
  nack.mutable_error_detail()->set_message("alpha: connect_timeout too long");
  REQUIRE(ads->send(nack));

  auto recorded = f.cp.waitForRequest([](const auto& r) { return r.ack == false; }, kTimeout);
  INFO(f.cp.describe());
  REQUIRE(recorded);
  CHECK(recorded->error_detail == "alpha: connect_timeout too long");
  CHECK(recorded->response_nonce == second->nonce());
  auto all = f.cp.requests();
  REQUIRE(all.size() == 3);
  CHECK(all[1].ack == true);
  CHECK_FALSE(all[1].error_detail.has_value());
  CHECK(all[1].version_info == "1");
  // A NACK is not answered: the same content would be rejected again.
  CHECK_FALSE(ads->next(kQuiet));
}

TEST_CASE("mock control plane pushes a new version when a resource file changes", "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha", 1)));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));
  auto first = ads->next();
  REQUIRE(first);
  REQUIRE(ads->send(ack(*first)));

  f.dir.write("clusters.yaml", resources(clusterItem("alpha", 7)));
  auto pushed = ads->next();
  INFO(f.cp.describe());
  REQUIRE(pushed);
  CHECK(pushed->version_info() == "2");
  REQUIRE(pushed->resources_size() == 1);
  envoy::config::cluster::v3::Cluster cluster;
  REQUIRE(pushed->resources(0).UnpackTo(&cluster));
  CHECK(cluster.connect_timeout().seconds() == 7);
}

TEST_CASE("mock control plane keeps a bad file's previous content", "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha")));
  f.dir.write("more.yaml", resources(clusterItem("beta")));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));
  auto first = ads->next();
  REQUIRE(first);
  REQUIRE(ads->send(ack(*first)));

  f.dir.write("clusters.yaml", "resources: [ {'@type': nonsense");
  f.dir.write("more.yaml", resources(clusterItem("beta") + clusterItem("gamma")));
  auto pushed = ads->next();
  INFO(f.cp.describe());
  REQUIRE(pushed);
  CHECK(names(*pushed) == std::set<std::string>{"alpha", "beta", "gamma"});
  CHECK_THAT(f.cp.describe(),
             Catch::Contains("clusters.yaml") && Catch::Contains("keeping its previous content"));
}

TEST_CASE("mock control plane pushes resources set with PUT /resources", "[mock_cp]") {
  Fixture f;
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));
  auto empty = ads->next();
  REQUIRE(empty);
  CHECK(empty->resources_size() == 0);  // still answered, so a client can finish initializing
  REQUIRE(ads->send(ack(*empty)));

  const int64_t version = f.cp.setResources(resources(clusterItem("added")));
  INFO(f.cp.error());
  REQUIRE(version == 2);
  auto pushed = ads->next();
  REQUIRE(pushed);
  CHECK(pushed->version_info() == "2");
  CHECK(names(*pushed) == std::set<std::string>{"added"});
}

TEST_CASE("mock control plane leaves a deleted cluster out of the next SotW CDS response",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha") + clusterItem("beta")));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));
  auto first = ads->next();
  REQUIRE(first);
  REQUIRE(ads->send(ack(*first)));

  REQUIRE(f.cp.removeResource("cluster", "alpha") == 2);
  auto pushed = ads->next();
  REQUIRE(pushed);
  CHECK(pushed->version_info() == "2");
  CHECK(names(*pushed) == std::set<std::string>{"beta"});
  CHECK(f.cp.removeResource("cluster", "alpha") == 0);  // already gone: 404
}

TEST_CASE("mock control plane sends removed_resources for a deleted cluster on a delta stream",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha") + clusterItem("beta")));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto delta = openDeltaAds(*stub);
  DeltaDiscoveryRequest subscribe;
  subscribe.mutable_node()->set_id("test-node");
  subscribe.set_type_url(kClusterType);
  REQUIRE(delta->send(subscribe));
  auto first = delta->next();
  REQUIRE(first);
  CHECK(names(*first) == std::set<std::string>{"alpha", "beta"});
  DeltaDiscoveryRequest ack_first;
  ack_first.set_type_url(kClusterType);
  ack_first.set_response_nonce(first->nonce());
  REQUIRE(delta->send(ack_first));

  REQUIRE(f.cp.removeResource("cluster", "alpha") == 2);
  auto pushed = delta->next();
  INFO(f.cp.describe());
  REQUIRE(pushed);
  CHECK(pushed->resources_size() == 0);
  REQUIRE(pushed->removed_resources_size() == 1);
  CHECK(pushed->removed_resources(0) == "alpha");
  CHECK(pushed->system_version_info() == "2");
  auto recorded = f.cp.requests();
  REQUIRE(recorded.size() == 2);
  CHECK(recorded[0].delta);
  CHECK(recorded[1].ack == true);
}

TEST_CASE("mock control plane does not resend resources whose initial_resource_versions match",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha") + clusterItem("beta")));
  f.start();
  // alpha changes at version 2; beta stays at 1.
  REQUIRE(f.cp.setResources(resources(clusterItem("alpha", 9))) == 2);
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto delta = openDeltaAds(*stub);
  DeltaDiscoveryRequest reconnect;
  reconnect.mutable_node()->set_id("test-node");
  reconnect.set_type_url(kClusterType);
  (*reconnect.mutable_initial_resource_versions())["alpha"] = "1";
  (*reconnect.mutable_initial_resource_versions())["beta"] = "1";
  REQUIRE(delta->send(reconnect));

  auto response = delta->next();
  INFO(f.cp.describe());
  REQUIRE(response);
  REQUIRE(response->resources_size() == 1);
  CHECK(response->resources(0).name() == "alpha");
  CHECK(response->resources(0).version() == "2");
  CHECK(response->removed_resources_size() == 0);
  auto recorded = f.cp.requests();
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].initial_resource_versions.at("beta") == "1");
}

TEST_CASE("mock control plane serves clusters on the per-type ClusterDiscoveryService",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.json", R"({"resources": [{"@type": ")" + std::string(kClusterType) +
                                   R"(", "name": "from-json", "connect_timeout": "2s"}]})");
  f.start();
  auto stub = envoy::service::cluster::v3::ClusterDiscoveryService::NewStub(channelTo(f.cp));
  SotwStream cds([&](grpc::ClientContext* c) { return stub->StreamClusters(c); });
  // Per-type services may leave type_url empty.
  REQUIRE(cds.send(request("")));

  auto response = cds.next();
  INFO(f.cp.describe());
  REQUIRE(response);
  CHECK(response->type_url() == kClusterType);
  CHECK(names(*response) == std::set<std::string>{"from-json"});
  auto recorded = f.cp.requests();
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].api == "cds");
}

TEST_CASE("mock control plane answers named RDS requests with only the routes named", "[mock_cp]") {
  Fixture f;
  f.dir.write("routes.yaml", resources(routeItem("one") + routeItem("two") + routeItem("three")));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kRouteType, {"one", "three", "missing"})));

  auto response = ads->next();
  REQUIRE(response);
  CHECK(names(*response) == std::set<std::string>{"one", "three"});
  // A new subscription is answered even in an ACK.
  REQUIRE(ads->send(ack(*response, {"two"})));
  auto resubscribed = ads->next();
  REQUIRE(resubscribed);
  CHECK(names(*resubscribed) == std::set<std::string>{"two"});
}

TEST_CASE("mock control plane pushes only to streams whose subscribed resources changed",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("routes.yaml", resources(routeItem("one") + routeItem("two")));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kRouteType, {"one"})));
  auto first = ads->next();
  REQUIRE(first);
  REQUIRE(ads->send(ack(*first, {"one"})));

  REQUIRE(f.cp.setResources(resources(routeItem("two", "elsewhere"))) == 2);
  CHECK_FALSE(ads->next(kQuiet));
  REQUIRE(f.cp.setResources(resources(routeItem("one", "elsewhere"))) == 3);
  auto pushed = ads->next();
  REQUIRE(pushed);
  CHECK(pushed->version_info() == "3");
  CHECK(names(*pushed) == std::set<std::string>{"one"});
}

TEST_CASE("mock control plane resends the same content with a new version on POST /version",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha")));
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));
  auto first = ads->next();
  REQUIRE(first);
  REQUIRE(ads->send(ack(*first)));

  REQUIRE(f.cp.bumpVersion() == 2);
  auto pushed = ads->next();
  REQUIRE(pushed);
  CHECK(pushed->version_info() == "2");
  CHECK(pushed->nonce() != first->nonce());
  CHECK(names(*pushed) == std::set<std::string>{"alpha"});
}

TEST_CASE("mock control plane ends open streams with UNAVAILABLE on POST /close-streams",
          "[mock_cp]") {
  Fixture f;
  f.start();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));
  REQUIRE(ads->next());
  CHECK(f.cp.openStreams() == 1);

  CHECK(f.cp.closeStreams() == 1);
  auto status = ads->waitClosed();
  REQUIRE(status);
  CHECK(status->error_code() == grpc::StatusCode::UNAVAILABLE);
  // The server forgets a stream once gRPC is done with it, a moment after the client sees the end.
  auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (f.cp.openStreams() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(f.cp.openStreams() == 0);
}

TEST_CASE("mock control plane restarts on the same xDS port and serves a reconnecting client",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha")));
  f.start();
  const uint16_t xds_port = f.cp.xdsPort();
  auto stub = AggregatedDiscoveryService::NewStub(channelTo(f.cp));
  auto before = openAds(*stub);
  REQUIRE(before->send(request(kClusterType)));
  REQUIRE(before->next());

  if (!f.cp.restart()) FAIL(f.cp.error());
  CHECK(f.cp.xdsPort() == xds_port);
  auto ended = before->waitClosed();
  REQUIRE(ended);
  CHECK_FALSE(ended->ok());
  // The same channel, so the same port. A stream opened before the client noticed the old
  // connection close fails at once; like any xDS client, open another.
  std::optional<DiscoveryResponse> response;
  std::string failures;
  for (auto deadline = std::chrono::steady_clock::now() + kTimeout;
       !response && std::chrono::steady_clock::now() < deadline;) {
    auto after = openAds(*stub);
    after->send(request(kClusterType));
    response = after->next();
    if (auto status = after->waitClosed(0ms)) {
      failures += status->error_message() + "; ";
      std::this_thread::sleep_for(50ms);
    }
  }
  INFO(f.cp.describe());
  INFO("failed streams: " << failures);
  REQUIRE(response);
  CHECK(response->version_info() == "1");
  CHECK(names(*response) == std::set<std::string>{"alpha"});
}

TEST_CASE("mock control plane also serves xDS on the unix socket given with --xds-uds",
          "[mock_cp]") {
  Fixture f;
  f.dir.write("clusters.yaml", resources(clusterItem("alpha")));
  TempDir sockets;
  const std::string uds = sockets.file("XDS");
  if (!f.cp.start(REMORA_MOCK_CP, f.dir.path(), uds)) FAIL(f.cp.error());
  auto stub = AggregatedDiscoveryService::NewStub(
      grpc::CreateChannel("unix:" + uds, grpc::InsecureChannelCredentials()));
  auto ads = openAds(*stub);
  REQUIRE(ads->send(request(kClusterType)));

  auto response = ads->next();
  INFO(f.cp.describe());
  REQUIRE(response);
  CHECK(names(*response) == std::set<std::string>{"alpha"});
  CHECK(f.cp.requests().size() == 1);
}

}  // namespace
}  // namespace remora::testing
