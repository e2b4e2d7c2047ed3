// The xDS subscription state machine against a fake management server: what it requests, how it
// ACKs and NACKs, how it re-subscribes and backs off after a stream fails.
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "source/xds/backoff.h"
#include "source/xds/mux.h"
#include "source/xds/type_urls.h"
#include "test/xds/fake_transport.h"

namespace remora::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using testing::FakeStreamRecord;
using testing::FakeTransport;
using namespace std::chrono_literals;

const std::string kLds(kListenerType);
const std::string kCds(kClusterType);
const std::string kRds(kRouteConfigurationType);
const std::string kEds(kClusterLoadAssignmentType);

google::protobuf::Any listener(const std::string& name) {
  envoy::config::listener::v3::Listener l;
  l.set_name(name);
  google::protobuf::Any any;
  any.PackFrom(l);
  return any;
}

google::protobuf::Any cluster(const std::string& name) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(name);
  google::protobuf::Any any;
  any.PackFrom(c);
  return any;
}

google::protobuf::Any assignment(const std::string& name) {
  envoy::config::endpoint::v3::ClusterLoadAssignment c;
  c.set_cluster_name(name);
  google::protobuf::Any any;
  any.PackFrom(c);
  return any;
}

google::protobuf::Any routes(const std::string& name) {
  envoy::config::route::v3::RouteConfiguration r;
  r.set_name(name);
  google::protobuf::Any any;
  any.PackFrom(r);
  return any;
}

std::unique_ptr<DiscoveryResponse> sotw(const std::string& type_url, const std::string& version,
                                        const std::string& nonce,
                                        std::vector<google::protobuf::Any> resources) {
  auto response = std::make_unique<DiscoveryResponse>();
  response->set_type_url(type_url);
  response->set_version_info(version);
  response->set_nonce(nonce);
  for (auto& r : resources) *response->add_resources() = std::move(r);
  return response;
}

struct DeltaResource {
  std::string name;
  std::string version;
  google::protobuf::Any resource;
};

std::unique_ptr<DeltaDiscoveryResponse> delta(const std::string& type_url, const std::string& nonce,
                                              std::vector<DeltaResource> resources,
                                              std::vector<std::string> removed = {}) {
  auto response = std::make_unique<DeltaDiscoveryResponse>();
  response->set_type_url(type_url);
  response->set_nonce(nonce);
  response->set_system_version_info("sys-" + nonce);
  for (auto& r : resources) {
    auto* resource = response->add_resources();
    resource->set_name(r.name);
    resource->set_version(r.version);
    *resource->mutable_resource() = std::move(r.resource);
  }
  for (auto& name : removed) response->add_removed_resources(name);
  return response;
}

std::vector<std::string> names(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

using Names = std::vector<std::string>;

class RecordingWatcher : public ResourceWatcher {
 public:
  absl::Status onUpdate(const Update& update) override {
    updates.push_back(update);
    if (during_update) during_update(update);
    return result;
  }
  std::vector<Update> updates;
  absl::Status result;
  std::function<void(const Update&)> during_update;
};

struct MuxTest {
  explicit MuxTest(MuxOptions options = {}) {
    options.node.set_id("node-1");
    options.backoff_base = 1ms;
    auto fake = std::make_unique<FakeTransport>();
    transport = fake.get();
    mux = std::make_unique<Mux>(dispatcher, std::move(fake), std::move(options), store);
  }

  static MuxOptions deltaOptions() {
    MuxOptions options;
    options.delta = true;
    return options;
  }

  // Runs the loop until `done` holds after a stream opens, or gives up after `limit`.
  bool runUntilOpened(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = dispatcher.createTimer([this] { dispatcher.exit(); });
    deadline->enable(limit);
    auto previous = transport->on_open;
    transport->on_open = [&](FakeStreamRecord& record) {
      if (previous) previous(record);
      if (done()) dispatcher.exit();
    };
    dispatcher.run();
    transport->on_open = previous;
    return done();
  }

  // Closes the current stream and waits for the next one.
  void reconnect() {
    const int opens = transport->opens();
    mux->onStreamClosed(absl::UnavailableError("connection reset"));
    REQUIRE(runUntilOpened([&] { return transport->opens() > opens; }));
  }

  const DiscoveryRequest& lastSotw() { return transport->last().sotw.back(); }
  const DeltaDiscoveryRequest& lastDelta() { return transport->last().delta.back(); }

  event::Dispatcher dispatcher{"test"};
  stats::Store store;
  FakeTransport* transport;
  std::unique_ptr<Mux> mux;
};

// --- State of the world ------------------------------------------------------------------------

TEST_CASE("sotw sends one request per watch in addWatch order when the stream opens", "[xds]") {
  MuxTest t;
  RecordingWatcher lds, cds, eds;
  t.mux->addWatch(kCds, &cds, true, "cluster_manager.cds.");
  t.mux->addWatch(kEds, &eds, false, "cluster_manager.eds.");
  t.mux->addWatch(kLds, &lds, true, "listener_manager.lds.");
  t.mux->setResourceNames(kEds, {"b", "a"});
  t.mux->start();

  const auto& sent = t.transport->last().sotw;
  REQUIRE(sent.size() == 3);
  CHECK(sent[0].type_url() == kCds);
  CHECK(sent[0].resource_names().empty());
  CHECK(sent[1].type_url() == kEds);
  CHECK(names(sent[1].resource_names()) == Names{"a", "b"});
  CHECK(sent[2].type_url() == kLds);
  for (const auto& request : sent) {
    CHECK(request.version_info().empty());
    CHECK(request.response_nonce().empty());
  }
}

TEST_CASE("sotw named watch sends nothing until it has names", "[xds]") {
  MuxTest t;
  RecordingWatcher eds;
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->start();
  CHECK(t.transport->last().sotw.empty());

  t.mux->setResourceNames(kEds, {"a"});
  REQUIRE(t.transport->last().sotw.size() == 1);
  CHECK(names(t.lastSotw().resource_names()) == Names{"a"});
}

TEST_CASE("sotw named watch whose names go empty sends the empty list", "[xds]") {
  MuxTest t;
  RecordingWatcher eds;
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->setResourceNames(kEds, {"a"});
  t.mux->start();
  t.mux->setResourceNames(kEds, {});
  REQUIRE(t.transport->last().sotw.size() == 2);
  CHECK(t.lastSotw().type_url() == kEds);
  CHECK(t.lastSotw().resource_names().empty());
}

TEST_CASE("sotw ACK carries the response version and nonce", "[xds]") {
  MuxTest t;
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {cluster("c1"), cluster("c2")}));

  REQUIRE(cds.updates.size() == 1);
  const Update& update = cds.updates[0];
  CHECK(update.type_url == kCds);
  CHECK(update.state_of_the_world);
  CHECK(update.version_info == "v1");
  REQUIRE(update.resources.size() == 2);
  CHECK(update.resources[0].name == "c1");
  CHECK(update.resources[1].name == "c2");
  CHECK(update.resources[1].version == "v1");
  CHECK(update.resources[1].resource.type_url() == kCds);

  REQUIRE(t.transport->last().sotw.size() == 2);
  const DiscoveryRequest& ack = t.lastSotw();
  CHECK(ack.type_url() == kCds);
  CHECK(ack.version_info() == "v1");
  CHECK(ack.response_nonce() == "n1");
  CHECK_FALSE(ack.has_error_detail());
}

TEST_CASE("sotw NACK repeats the last accepted version with the new nonce and the error", "[xds]") {
  MuxTest t;
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {cluster("c1")}));
  cds.result = absl::InvalidArgumentError("cluster 'c2': connect_timeout: must be positive");
  t.mux->onSotwResponse(sotw(kCds, "v2", "n2", {cluster("c2")}));

  REQUIRE(cds.updates.size() == 2);
  const DiscoveryRequest& nack = t.lastSotw();
  CHECK(nack.version_info() == "v1");
  CHECK(nack.response_nonce() == "n2");
  REQUIRE(nack.has_error_detail());
  CHECK(nack.error_detail().code() == 3);
  CHECK(nack.error_detail().message() == "cluster 'c2': connect_timeout: must be positive");
}

TEST_CASE("sotw node goes in every request by default", "[xds]") {
  MuxTest t;
  RecordingWatcher cds, lds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->addWatch(kLds, &lds, true, "lds.");
  t.mux->start();
  t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {}));
  const auto& sent = t.transport->last().sotw;
  REQUIRE(sent.size() == 3);
  for (const auto& request : sent) CHECK(request.node().id() == "node-1");
}

TEST_CASE("sotw node goes only in the first request of each stream when asked", "[xds]") {
  MuxOptions options;
  options.set_node_on_first_message_only = true;
  MuxTest t(options);
  RecordingWatcher cds, lds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->addWatch(kLds, &lds, true, "lds.");
  t.mux->start();
  t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {}));
  {
    const auto& sent = t.transport->last().sotw;
    REQUIRE(sent.size() == 3);
    CHECK(sent[0].node().id() == "node-1");
    CHECK_FALSE(sent[1].has_node());
    CHECK_FALSE(sent[2].has_node());
  }
  t.reconnect();
  const auto& sent = t.transport->last().sotw;
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].node().id() == "node-1");
  CHECK_FALSE(sent[1].has_node());
}

TEST_CASE("sotw names change sends the full list with the last version and nonce", "[xds]") {
  MuxTest t;
  RecordingWatcher eds;
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->setResourceNames(kEds, {"a"});
  t.mux->start();
  t.mux->onSotwResponse(sotw(kEds, "v1", "n1", {assignment("a")}));
  t.mux->setResourceNames(kEds, {"a", "b"});

  const auto& sent = t.transport->last().sotw;
  REQUIRE(sent.size() == 3);
  const DiscoveryRequest& request = sent[2];
  CHECK(names(request.resource_names()) == Names{"a", "b"});
  CHECK(request.version_info() == "v1");
  CHECK(request.response_nonce() == "n1");

  // Setting the same names again sends nothing.
  t.mux->setResourceNames(kEds, {"b", "a"});
  CHECK(sent.size() == 3);
}

TEST_CASE("sotw names set inside onUpdate go out after the ACK", "[xds]") {
  MuxTest t;
  RecordingWatcher cds, eds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->start();
  cds.during_update = [&](const Update&) { t.mux->setResourceNames(kEds, {"c1"}); };
  t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {cluster("c1")}));

  const auto& sent = t.transport->last().sotw;
  REQUIRE(sent.size() == 3);
  CHECK(sent[1].type_url() == kCds);
  CHECK(sent[1].response_nonce() == "n1");
  CHECK(sent[2].type_url() == kEds);
  CHECK(names(sent[2].resource_names()) == Names{"c1"});
}

TEST_CASE("sotw wrapped Resource is decoded with the wrapper name and version", "[xds]") {
  MuxTest t;
  RecordingWatcher rds;
  t.mux->addWatch(kRds, &rds, false, "rds.");
  t.mux->setResourceNames(kRds, {"wrapped"});
  t.mux->start();

  envoy::service::discovery::v3::Resource wrapper;
  wrapper.set_name("wrapped");
  wrapper.set_version("r7");
  *wrapper.mutable_resource() = routes("inner");
  google::protobuf::Any any;
  any.PackFrom(wrapper);
  REQUIRE(any.type_url() == kResourceWrapperType);
  t.mux->onSotwResponse(sotw(kRds, "v1", "n1", {any}));

  REQUIRE(rds.updates.size() == 1);
  REQUIRE(rds.updates[0].resources.size() == 1);
  const Resource& resource = rds.updates[0].resources[0];
  CHECK(resource.name == "wrapped");
  CHECK(resource.version == "r7");
  CHECK(resource.resource.type_url() == kRds);
  CHECK_FALSE(t.lastSotw().has_error_detail());
  CHECK(t.lastSotw().version_info() == "v1");
}

TEST_CASE("sotw resource of another type is NACKed without calling the watcher", "[xds]") {
  MuxTest t;
  RecordingWatcher lds;
  t.mux->addWatch(kLds, &lds, true, "lds.");
  t.mux->start();
  t.mux->onSotwResponse(sotw(kLds, "v1", "n1", {listener("l1"), cluster("c1")}));

  CHECK(lds.updates.empty());
  const DiscoveryRequest& nack = t.lastSotw();
  CHECK(nack.version_info().empty());
  CHECK(nack.response_nonce() == "n1");
  REQUIRE(nack.has_error_detail());
  CHECK(nack.error_detail().code() == 3);
  CHECK_THAT(nack.error_detail().message(), Catch::Contains("resource 1"));
  CHECK_THAT(nack.error_detail().message(), Catch::Contains(kCds));
}

TEST_CASE("sotw undecodable resource is NACKed without calling the watcher", "[xds]") {
  MuxTest t;
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  google::protobuf::Any broken;
  broken.set_type_url(kCds);
  broken.set_value(
      std::string("\x0a\x05"
                  "ab",
                  4));  // Field 1 claims 5 bytes, has 2.
  t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {broken}));

  CHECK(cds.updates.empty());
  REQUIRE(t.lastSotw().has_error_detail());
  CHECK_THAT(t.lastSotw().error_detail().message(), Catch::Contains("resource 0"));
}

TEST_CASE("sotw duplicate resource names are NACKed without calling the watcher", "[xds]") {
  MuxTest t;
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {cluster("a"), cluster("b"), cluster("a")}));

  CHECK(cds.updates.empty());
  REQUIRE(t.lastSotw().has_error_detail());
  CHECK_THAT(t.lastSotw().error_detail().message(), Catch::Contains("resource 2"));
  CHECK_THAT(t.lastSotw().error_detail().message(), Catch::Contains("'a'"));
}

TEST_CASE("sotw response for an unwatched type is ignored without an ACK", "[xds]") {
  MuxTest t;
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  t.mux->onSotwResponse(sotw(kLds, "v1", "n1", {listener("l1")}));
  t.mux->onSotwResponse(sotw(kLds, "v2", "n2", {listener("l1")}));

  CHECK(cds.updates.empty());
  CHECK(t.transport->last().sotw.size() == 1);
}

TEST_CASE("sotw reconnect re-sends requests with the last accepted version and no nonce", "[xds]") {
  MuxTest t;
  RecordingWatcher cds, eds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->setResourceNames(kEds, {"a"});
  t.mux->start();
  t.mux->onSotwResponse(sotw(kCds, "c1", "n1", {cluster("a")}));
  t.mux->onSotwResponse(sotw(kEds, "e1", "n2", {assignment("a")}));
  eds.result = absl::InvalidArgumentError("bad");
  t.mux->onSotwResponse(sotw(kEds, "e2", "n3", {assignment("a")}));
  t.mux->setResourceNames(kEds, {"a", "b"});

  t.reconnect();
  CHECK(t.transport->stream(0).destroyed);
  const auto& sent = t.transport->last().sotw;
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].type_url() == kCds);
  CHECK(sent[0].version_info() == "c1");
  CHECK(sent[0].response_nonce().empty());
  CHECK(sent[1].type_url() == kEds);
  CHECK(sent[1].version_info() == "e1");
  CHECK(sent[1].response_nonce().empty());
  CHECK(names(sent[1].resource_names()) == Names{"a", "b"});
}

TEST_CASE("sotw reconnect skips a named watch left with no names", "[xds]") {
  MuxTest t;
  RecordingWatcher cds, eds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->setResourceNames(kEds, {"a"});
  t.mux->start();
  t.mux->setResourceNames(kEds, {});
  t.reconnect();
  const auto& sent = t.transport->last().sotw;
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].type_url() == kCds);
}

TEST_CASE("stream closed from inside send is destroyed only on the next open", "[xds]") {
  MuxTest t;
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  bool closed = false;
  t.transport->on_send = [&](FakeStreamRecord& record) {
    if (closed) return;
    closed = true;
    record.callbacks->onStreamClosed(absl::UnavailableError("reset while sending"));
    CHECK_FALSE(record.destroyed);
  };
  t.mux->start();
  CHECK_FALSE(t.transport->stream(0).destroyed);
  REQUIRE(t.runUntilOpened([&] { return t.transport->opens() == 2; }));
  CHECK(t.transport->stream(0).destroyed);
  CHECK(t.transport->last().sotw.size() == 1);
}

TEST_CASE("stream closed before open returns is retried", "[xds]") {
  MuxTest t;
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.transport->on_open = [&](FakeStreamRecord& record) {
    if (t.transport->opens() == 1) record.callbacks->onStreamClosed(absl::UnavailableError("no"));
  };
  t.mux->start();
  CHECK(t.transport->stream(0).sotw.empty());
  REQUIRE(t.runUntilOpened([&] { return t.transport->opens() == 2; }));
  CHECK(t.transport->stream(0).destroyed);
  CHECK(t.transport->last().sotw.size() == 1);
}

TEST_CASE("destroying the mux with a retry pending neither reopens nor calls back", "[xds]") {
  auto t = std::make_unique<MuxTest>();
  RecordingWatcher cds;
  t->mux->addWatch(kCds, &cds, true, "cds.");
  t->mux->start();
  t->mux->onStreamClosed(absl::UnavailableError("gone"));
  t->mux.reset();
  auto deadline = t->dispatcher.createTimer([&] { t->dispatcher.exit(); });
  deadline->enable(20ms);
  t->dispatcher.run();
  CHECK(cds.updates.empty());
}

// --- Back-off ----------------------------------------------------------------------------------

TEST_CASE("back-off ceiling doubles from the base up to the max and resets", "[xds]") {
  std::vector<uint64_t> ceilings;
  Backoff backoff(10ms, 50ms, [&](uint64_t ceiling) {
    ceilings.push_back(ceiling);
    return ceiling;
  });
  for (int i = 0; i < 5; ++i) backoff.next();
  CHECK(ceilings == std::vector<uint64_t>{10, 20, 40, 50, 50});
  backoff.reset();
  CHECK(backoff.next() == 10ms);
}

TEST_CASE("back-off waits are jittered within the ceiling", "[xds]") {
  Backoff backoff(100ms, 100ms);
  bool varied = false;
  const auto first = backoff.next();
  for (int i = 0; i < 100; ++i) {
    const auto wait = backoff.next();
    CHECK(wait >= 0ms);
    CHECK(wait <= 100ms);
    varied |= wait != first;
  }
  CHECK(varied);
}

TEST_CASE("back-off grows while streams keep failing", "[xds]") {
  MuxOptions options;
  options.backoff_max = std::chrono::hours(1);
  MuxTest t(options);
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.transport->on_open = [&](FakeStreamRecord& record) {
    t.dispatcher.post([&record] {
      if (!record.destroyed) record.callbacks->onStreamClosed(absl::UnavailableError("refused"));
    });
  };
  t.mux->start();
  // With a 1 ms base, a flat back-off would reopen hundreds of times in 300 ms; doubling
  // ceilings (1, 2, 4 ... ms) leave room for about ten attempts.
  t.runUntilOpened([] { return false; }, 300ms);
  CHECK(t.transport->opens() >= 2);
  CHECK(t.transport->opens() < 20);
}

TEST_CASE("back-off resets when a response arrives", "[xds]") {
  MuxOptions options;
  options.backoff_max = std::chrono::hours(1);
  MuxTest t(options);
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.transport->on_open = [&](FakeStreamRecord& record) {
    t.dispatcher.post([&t, &record] {
      if (record.destroyed) return;
      t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {}));
      record.callbacks->onStreamClosed(absl::UnavailableError("max age"));
    });
  };
  t.mux->start();
  // Each failure is the first after a response, so each wait is at most 1 ms; without the reset
  // 30 attempts would take many seconds.
  CHECK(t.runUntilOpened([&] { return t.transport->opens() >= 30; }));
}

// Captures what the code under test logs, at every level, while it lives.
class CapturedLogs {
 public:
  CapturedLogs() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("test", sink_);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLogs() { spdlog::set_default_logger(previous_); }

  // "<level> <message>" for each line containing `part`.
  std::vector<std::string> lines(const std::string& part) {
    std::vector<std::string> out;
    for (const auto& msg : sink_->last_raw()) {
      std::string text(msg.payload.data(), msg.payload.size());
      if (text.find(part) == std::string::npos) continue;
      const auto level = spdlog::level::to_string_view(msg.level);
      out.push_back(std::string(level.data(), level.size()) + " " + text);
    }
    return out;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_ =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(128);
};

TEST_CASE("stream failures log at warn once per outage and the reconnection at info", "[xds]") {
  MuxTest t;
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  CapturedLogs logs;
  t.reconnect();  // First failure ever.
  t.reconnect();  // Same outage.
  t.mux->onStreamConnected();
  t.mux->onStreamConnected();  // Still the same connection: no second line.
  t.reconnect();               // First failure after being connected.

  const auto lines = logs.lines("fake xds server");
  REQUIRE(lines.size() == 4);
  CHECK_THAT(lines[0], Catch::StartsWith("warning") && Catch::Contains("connection reset"));
  CHECK_THAT(lines[1], Catch::StartsWith("debug"));
  CHECK(lines[2] == "info xds: reconnected to fake xds server");
  CHECK_THAT(lines[3], Catch::StartsWith("warning"));
}

// --- Stats -------------------------------------------------------------------------------------

TEST_CASE("update counters and the connected_state gauge follow the stream", "[xds]") {
  MuxTest t;
  RecordingWatcher cds, lds;
  t.mux->addWatch(kCds, &cds, true, "cluster_manager.cds.");
  t.mux->addWatch(kLds, &lds, true, "listener_manager.lds.");
  t.mux->start();
  stats::Gauge& connected = t.store.gauge("control_plane.connected_state");
  CHECK_FALSE(t.mux->connected());
  t.mux->onStreamConnected();
  CHECK(t.mux->connected());
  CHECK(connected.value() == 1);

  t.mux->onSotwResponse(sotw(kCds, "v1", "n1", {cluster("a")}));
  cds.result = absl::InvalidArgumentError("no");
  t.mux->onSotwResponse(sotw(kCds, "v2", "n2", {cluster("a")}));
  t.mux->onSotwResponse(sotw(kCds, "v3", "n3", {cluster("a"), cluster("a")}));
  CHECK(t.store.counter("cluster_manager.cds.update_attempt").value() == 3);
  CHECK(t.store.counter("cluster_manager.cds.update_success").value() == 1);
  CHECK(t.store.counter("cluster_manager.cds.update_rejected").value() == 2);
  CHECK(t.store.counter("listener_manager.lds.update_attempt").value() == 0);

  t.reconnect();
  CHECK_FALSE(t.mux->connected());
  CHECK(connected.value() == 0);
  CHECK(t.store.counter("cluster_manager.cds.update_failure").value() == 1);
  CHECK(t.store.counter("listener_manager.lds.update_failure").value() == 1);

  cds.result = absl::OkStatus();
  t.mux->onSotwResponse(sotw(kCds, "v4", "n4", {}));
  CHECK(t.mux->connected());
  CHECK(connected.value() == 1);
}

// --- Delta -------------------------------------------------------------------------------------

TEST_CASE("delta opens with subscriptions and a wildcard request with no names", "[xds]") {
  MuxTest t(MuxTest::deltaOptions());
  RecordingWatcher cds, eds, rds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->addWatch(kRds, &rds, false, "rds.");
  t.mux->setResourceNames(kEds, {"b", "a"});
  t.mux->start();

  const auto& sent = t.transport->last().delta;
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].type_url() == kCds);
  CHECK(sent[0].resource_names_subscribe().empty());
  CHECK(sent[0].node().id() == "node-1");
  CHECK(sent[1].type_url() == kEds);
  CHECK(names(sent[1].resource_names_subscribe()) == Names{"a", "b"});
  CHECK(sent[1].initial_resource_versions().empty());
}

TEST_CASE("delta names changes send subscribe and unsubscribe diffs", "[xds]") {
  MuxTest t(MuxTest::deltaOptions());
  RecordingWatcher eds;
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->setResourceNames(kEds, {"a", "b"});
  t.mux->start();
  t.mux->setResourceNames(kEds, {"b", "c", "d"});

  const auto& sent = t.transport->last().delta;
  REQUIRE(sent.size() == 2);
  CHECK(names(sent[1].resource_names_subscribe()) == Names{"c", "d"});
  CHECK(names(sent[1].resource_names_unsubscribe()) == Names{"a"});
  CHECK(sent[1].response_nonce().empty());

  t.mux->setResourceNames(kEds, {});
  REQUIRE(sent.size() == 3);
  CHECK(sent[2].resource_names_subscribe().empty());
  CHECK(names(sent[2].resource_names_unsubscribe()) == Names{"b", "c", "d"});
}

TEST_CASE("delta names set inside onUpdate go out after the ACK", "[xds]") {
  MuxTest t(MuxTest::deltaOptions());
  RecordingWatcher cds, eds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->setResourceNames(kEds, {"a"});
  t.mux->start();
  cds.during_update = [&](const Update&) { t.mux->setResourceNames(kEds, {"b"}); };
  t.mux->onDeltaResponse(delta(kCds, "n1", {{"b", "1", cluster("b")}}));

  const auto& sent = t.transport->last().delta;
  REQUIRE(sent.size() == 4);
  CHECK(sent[2].type_url() == kCds);
  CHECK(sent[2].response_nonce() == "n1");
  CHECK(sent[3].type_url() == kEds);
  CHECK(names(sent[3].resource_names_subscribe()) == Names{"b"});
  CHECK(names(sent[3].resource_names_unsubscribe()) == Names{"a"});
}

TEST_CASE("delta ACK carries the nonce and the update its resources and removals", "[xds]") {
  MuxTest t(MuxTest::deltaOptions());
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  auto response = delta(kCds, "n1", {{"a", "3", cluster("a")}}, {"gone"});
  response->add_removed_resource_names()->set_name("also-gone");
  t.mux->onDeltaResponse(std::move(response));

  REQUIRE(cds.updates.size() == 1);
  const Update& update = cds.updates[0];
  CHECK_FALSE(update.state_of_the_world);
  CHECK(update.version_info == "sys-n1");
  REQUIRE(update.resources.size() == 1);
  CHECK(update.resources[0].name == "a");
  CHECK(update.resources[0].version == "3");
  CHECK(update.resources[0].resource.type_url() == kCds);
  CHECK(update.removed == Names{"gone", "also-gone"});

  const DeltaDiscoveryRequest& ack = t.lastDelta();
  CHECK(ack.type_url() == kCds);
  CHECK(ack.response_nonce() == "n1");
  CHECK_FALSE(ack.has_error_detail());
  CHECK(ack.resource_names_subscribe().empty());
}

TEST_CASE("delta NACK carries the nonce and the watcher's error", "[xds]") {
  MuxTest t(MuxTest::deltaOptions());
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  cds.result = absl::InvalidArgumentError("cluster 'a': type: unsupported");
  t.mux->onDeltaResponse(delta(kCds, "n1", {{"a", "3", cluster("a")}}));

  const DeltaDiscoveryRequest& nack = t.lastDelta();
  CHECK(nack.response_nonce() == "n1");
  REQUIRE(nack.has_error_detail());
  CHECK(nack.error_detail().code() == 3);
  CHECK(nack.error_detail().message() == "cluster 'a': type: unsupported");
}

TEST_CASE("delta resource without a name is NACKed without calling the watcher", "[xds]") {
  MuxTest t(MuxTest::deltaOptions());
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  t.mux->onDeltaResponse(delta(kCds, "n1", {{"a", "1", cluster("a")}, {"", "1", cluster("b")}}));

  CHECK(cds.updates.empty());
  REQUIRE(t.lastDelta().has_error_detail());
  CHECK_THAT(t.lastDelta().error_detail().message(), Catch::Contains("resource 1"));
}

TEST_CASE("delta resource without a body is NACKed without calling the watcher", "[xds]") {
  MuxTest t(MuxTest::deltaOptions());
  RecordingWatcher cds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->start();
  auto response = delta(kCds, "n1", {});
  response->add_resources()->set_name("empty");
  t.mux->onDeltaResponse(std::move(response));

  CHECK(cds.updates.empty());
  REQUIRE(t.lastDelta().has_error_detail());
  CHECK_THAT(t.lastDelta().error_detail().message(), Catch::Contains("'empty'"));
}

TEST_CASE("delta reconnect sends the versions of accepted resources still subscribed", "[xds]") {
  MuxTest t(MuxTest::deltaOptions());
  RecordingWatcher cds, eds;
  t.mux->addWatch(kCds, &cds, true, "cds.");
  t.mux->addWatch(kEds, &eds, false, "eds.");
  t.mux->setResourceNames(kEds, {"a", "b", "c"});
  t.mux->start();
  t.mux->onDeltaResponse(delta(kCds, "n1", {{"x", "1", cluster("x")}, {"y", "1", cluster("y")}}));
  t.mux->onDeltaResponse(delta(kCds, "n2", {}, {"y"}));
  t.mux->onDeltaResponse(delta(
      kEds, "n3",
      {{"a", "1", assignment("a")}, {"b", "1", assignment("b")}, {"c", "1", assignment("c")}}));
  t.mux->setResourceNames(kEds, {"a", "b", "d"});
  eds.result = absl::InvalidArgumentError("bad");
  t.mux->onDeltaResponse(delta(kEds, "n4", {{"b", "2", assignment("b")}}));

  t.reconnect();
  const auto& sent = t.transport->last().delta;
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].type_url() == kCds);
  CHECK(sent[0].response_nonce().empty());
  CHECK(sent[0].initial_resource_versions().size() == 1);
  CHECK(sent[0].initial_resource_versions().at("x") == "1");
  CHECK(sent[1].type_url() == kEds);
  CHECK(names(sent[1].resource_names_subscribe()) == Names{"a", "b", "d"});
  CHECK(sent[1].initial_resource_versions().size() == 2);
  CHECK(sent[1].initial_resource_versions().at("a") == "1");
  CHECK(sent[1].initial_resource_versions().at("b") == "1");
}

// --- resourceName ------------------------------------------------------------------------------

TEST_CASE("resourceName reads the name field of each resource type", "[xds]") {
  CHECK(resourceName(kLds, listener("l")).value() == "l");
  CHECK(resourceName(kCds, cluster("c")).value() == "c");
  CHECK(resourceName(kRds, routes("r")).value() == "r");
  CHECK(resourceName(kEds, assignment("e")).value() == "e");
  CHECK_FALSE(resourceName(kEds, cluster("c")).ok());
}

}  // namespace
}  // namespace remora::xds
