// Snapshot publication to a worker: new connections use the newest snapshot, a connection keeps
// the one it was accepted with, and an old snapshot is freed when its last connection ends.
#include <catch2/catch.hpp>

#include <future>

#include "source/server/worker.h"
#include "source/tcp_proxy/tcp_proxy_config.h"
#include "test/support/backends.h"
#include "test/support/sockets.h"

namespace remora::server {
namespace {

using testing::Millis;

config::SnapshotConstSharedPtr snapshotTo(stats::Store& store, uint16_t backend_port) {
  auto snapshot = std::make_shared<config::Snapshot>();
  auto cluster = std::make_shared<upstream::Cluster>();
  cluster->name = "backend";
  auto hosts = std::make_shared<upstream::HostSet>();
  hosts->hosts.push_back({*network::Address::fromIpPort("127.0.0.1", backend_port), 1});
  cluster->host_set = hosts;
  cluster->stats = std::make_shared<upstream::ClusterStats>(store, "backend");
  upstream::refreshHosts(*cluster);
  snapshot->clusters.emplace("backend", cluster);

  tcp_proxy::TcpProxyConfig tcp;
  tcp.stat_prefix = "t";
  tcp.clusters.push_back({"backend", 1});
  tcp.total_weight = 1;
  tcp.stats = std::make_shared<tcp_proxy::TcpProxyStats>(store, "t");
  auto listener = std::make_shared<config::ListenerConfig>();
  listener->name = "l";
  listener->filter_chains.push_back(
      {"", std::make_shared<tcp_proxy::TcpProxyFactory>(std::move(tcp))});
  snapshot->listeners.push_back(listener);
  return snapshot;
}

void publishAndWait(Worker& worker, config::SnapshotConstSharedPtr snapshot) {
  std::promise<void> applied;
  worker.setSnapshot(std::move(snapshot), [&] { applied.set_value(); });
  applied.get_future().wait();
}

TEST_CASE("a connection keeps its snapshot while new connections use the published one",
          "[worker]") {
  stats::Store store;
  testing::GreetingServer x("X"), y("Y");
  auto a = snapshotTo(store, x.port());
  std::weak_ptr<const config::Snapshot> weak_a = a;

  Worker worker(0);
  worker.start();
  auto bound = network::bindListener(*network::Address::fromIpPort("127.0.0.1", 0), 1);
  REQUIRE(bound.ok());
  const uint16_t port = bound->address.port();
  publishAndWait(worker, std::move(a));
  worker.addListener("l", std::move(bound->sockets[0]),
                     std::make_shared<ListenerStats>(store, "listener.test."));

  testing::Fd first = testing::connectTcp(port, Millis(2000));
  REQUIRE(first);
  CHECK(testing::readExactly(first.get(), 1, Millis(2000)).data == "X");

  publishAndWait(worker, snapshotTo(store, y.port()));
  testing::Fd second = testing::connectTcp(port, Millis(2000));
  REQUIRE(second);
  CHECK(testing::readExactly(second.get(), 1, Millis(2000)).data == "Y");

  // The first connection is still up on the old config...
  CHECK_FALSE(weak_a.expired());
  CHECK(worker.activeSessions() == 2);
  // ...and the old snapshot goes away with it.
  first.reset();
  CHECK(testing::waitFor([&] { return weak_a.expired(); }, Millis(5000)));
  CHECK(testing::waitFor([&] { return worker.activeSessions() == 1; }, Millis(5000)));
  worker.stop();
}

TEST_CASE("a connection to a listener whose snapshot has no such cluster is closed", "[worker]") {
  stats::Store store;
  auto snapshot = std::const_pointer_cast<config::Snapshot>(snapshotTo(store, 1));
  snapshot->clusters.clear();
  Worker worker(0);
  worker.start();
  auto bound = network::bindListener(*network::Address::fromIpPort("127.0.0.1", 0), 1);
  REQUIRE(bound.ok());
  publishAndWait(worker, snapshot);
  worker.addListener("l", std::move(bound->sockets[0]),
                     std::make_shared<ListenerStats>(store, "listener.test."));
  testing::Fd client = testing::connectTcp(bound->address.port(), Millis(2000));
  REQUIRE(client);
  CHECK(testing::readUntilEof(client.get(), Millis(2000)).eof);
  CHECK(store.counter("tcp.t.downstream_cx_no_route").value() == 1);
  CHECK(testing::waitFor([&] { return worker.activeSessions() == 0; }, Millis(2000)));
  worker.stop();
}

}  // namespace
}  // namespace remora::server
