// The xDS client over real gRPC: an in-process ADS server on loopback, the Mux on this thread's
// dispatcher and gRPC's own threads in between. Responses reach the watcher on the dispatcher's
// thread, ACKs reach the server, a stream the server ends is re-opened with the last accepted
// version, and tearing the client down mid-stream leaves no callback behind. These are the tests
// tools/test also runs under ThreadSanitizer.
#include "source/xds/grpc_transport.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "source/xds/mux.h"
#include "source/xds/type_urls.h"

namespace remora::xds {
namespace {

using namespace std::chrono_literals;
using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// Answers each stream's first request with one cluster; may end a stream after its first ACK.
class TestAds final : public envoy::service::discovery::v3::AggregatedDiscoveryService::Service {
 public:
  grpc::Status StreamAggregatedResources(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>* stream) override {
    const int id = ++streams;
    DiscoveryRequest request;
    while (stream->Read(&request)) {
      record(id, request.version_info(), request.response_nonce(), request.has_error_detail());
      if (request.response_nonce().empty()) {
        DiscoveryResponse response;
        response.set_type_url(std::string(kClusterType));
        response.set_version_info(std::to_string(id));
        response.set_nonce("nonce-" + std::to_string(id));
        envoy::config::cluster::v3::Cluster c;
        c.set_name("c" + std::to_string(id));
        response.add_resources()->PackFrom(c);
        stream->Write(response);
      } else if (end_after_ack && id == 1) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away");
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status DeltaAggregatedResources(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<DeltaDiscoveryResponse, DeltaDiscoveryRequest>* stream) override {
    const int id = ++streams;
    DeltaDiscoveryRequest request;
    while (stream->Read(&request)) {
      record(id, "", request.response_nonce(), request.has_error_detail());
      if (request.response_nonce().empty()) {
        DeltaDiscoveryResponse response;
        response.set_type_url(std::string(kClusterType));
        response.set_nonce("delta-" + std::to_string(id));
        auto* r = response.add_resources();
        r->set_name("d1");
        r->set_version("7");
        envoy::config::cluster::v3::Cluster c;
        c.set_name("d1");
        r->mutable_resource()->PackFrom(c);
        stream->Write(response);
      }
    }
    return grpc::Status::OK;
  }

  struct Seen {
    int stream;
    std::string version, nonce;
    bool nack;
  };
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> guard(lock);
    return requests;
  }

  std::atomic<int> streams{0};
  std::atomic<bool> end_after_ack{false};

 private:
  void record(int id, std::string version, std::string nonce, bool nack) {
    std::lock_guard<std::mutex> guard(lock);
    requests.push_back({id, std::move(version), std::move(nonce), nack});
  }
  std::mutex lock;
  std::vector<Seen> requests;
};

struct Server {
  Server() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~Server() { server->Shutdown(std::chrono::system_clock::now() + 1s); }
  std::string target() const { return "ipv4:127.0.0.1:" + std::to_string(port); }
  TestAds service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

struct Watcher : ResourceWatcher {
  absl::Status onUpdate(const Update& update) override {
    // Must run on the dispatcher's thread, never on one of gRPC's.
    on_dispatcher = on_dispatcher && std::this_thread::get_id() == thread;
    updates.push_back(update);
    return absl::OkStatus();
  }
  std::thread::id thread = std::this_thread::get_id();
  bool on_dispatcher = true;
  std::vector<Update> updates;
};

// Runs `dispatcher` until `done` or the deadline, polling every millisecond.
bool runUntil(event::Dispatcher& dispatcher, const std::function<bool()>& done,
              std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  event::TimerPtr poll;
  poll = dispatcher.createTimer([&] {
    if (done() || std::chrono::steady_clock::now() > deadline) {
      dispatcher.exit();
      return;
    }
    poll->enable(1ms);
  });
  poll->enable(1ms);
  dispatcher.run();
  return done();
}

std::unique_ptr<Mux> makeMux(event::Dispatcher& dispatcher, Server& server, stats::Store& store,
                             bool delta) {
  MuxOptions options;
  options.delta = delta;
  options.node.set_id("n");
  options.backoff_base = 1ms;
  options.backoff_max = 10ms;
  auto channel = grpc::CreateChannel(server.target(), grpc::InsecureChannelCredentials());
  return std::make_unique<Mux>(
      dispatcher,
      std::make_unique<GrpcTransport>(dispatcher, channel, Service::kAggregated, delta,
                                      server.target()),
      options, store);
}

bool acked(TestAds& ads, int stream, const std::string& nonce) {
  for (const auto& s : ads.seen()) {
    if (s.stream == stream && s.nonce == nonce && !s.nack) return true;
  }
  return false;
}

TEST_CASE("grpc transport: a SotW response reaches the watcher on the dispatcher and is ACKed",
          "[xds][grpc]") {
  Server server;
  event::Dispatcher dispatcher("main");
  stats::Store store;
  Watcher watcher;
  auto mux = makeMux(dispatcher, server, store, false);
  mux->addWatch(std::string(kClusterType), &watcher, true, "cluster_manager.cds.");
  mux->start();
  REQUIRE(runUntil(dispatcher, [&] { return acked(server.service, 1, "nonce-1"); }));
  REQUIRE(watcher.updates.size() == 1);
  CHECK(watcher.updates[0].resources.at(0).name == "c1");
  CHECK(watcher.on_dispatcher);
  CHECK(mux->connected());
  CHECK(store.gauge("control_plane.connected_state").value() == 1);
}

TEST_CASE("grpc transport: a stream the server ends is re-opened with the accepted version",
          "[xds][grpc]") {
  Server server;
  server.service.end_after_ack = true;
  event::Dispatcher dispatcher("main");
  stats::Store store;
  Watcher watcher;
  auto mux = makeMux(dispatcher, server, store, false);
  mux->addWatch(std::string(kClusterType), &watcher, true, "cluster_manager.cds.");
  mux->start();
  REQUIRE(runUntil(dispatcher, [&] { return acked(server.service, 2, "nonce-2"); }));
  // The second stream's first request carries the version accepted on the first.
  bool resumed = false;
  for (const auto& s : server.service.seen()) {
    if (s.stream == 2 && s.nonce.empty()) resumed = s.version == "1";
  }
  CHECK(resumed);
  CHECK(store.counter("cluster_manager.cds.update_failure").value() >= 1);
  CHECK(watcher.on_dispatcher);
}

TEST_CASE("grpc transport: a delta response is ACKed over a delta stream", "[xds][grpc]") {
  Server server;
  event::Dispatcher dispatcher("main");
  stats::Store store;
  Watcher watcher;
  auto mux = makeMux(dispatcher, server, store, true);
  mux->addWatch(std::string(kClusterType), &watcher, true, "cluster_manager.cds.");
  mux->start();
  REQUIRE(runUntil(dispatcher, [&] { return acked(server.service, 1, "delta-1"); }));
  REQUIRE(watcher.updates.size() == 1);
  CHECK(watcher.updates[0].resources.at(0).version == "7");
}

TEST_CASE("grpc transport: destroying the client mid-stream cancels it without callbacks",
          "[xds][grpc]") {
  Server server;
  event::Dispatcher dispatcher("main");
  stats::Store store;
  Watcher watcher;
  for (int i = 0; i < 5; ++i) {
    auto mux = makeMux(dispatcher, server, store, i % 2 == 1);
    mux->addWatch(std::string(kClusterType), &watcher, true, "cluster_manager.cds.");
    mux->start();
    const size_t before = watcher.updates.size();
    REQUIRE(runUntil(dispatcher, [&] { return watcher.updates.size() > before; }));
    mux.reset();  // Waits for gRPC to finish with the stream.
  }
  // Events still queued for the destroyed streams run now and must find nobody.
  runUntil(
      dispatcher, [] { return false; }, 20ms);
  CHECK(watcher.updates.size() == 5);
}

}  // namespace
}  // namespace remora::xds
