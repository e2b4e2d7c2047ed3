// tcp_proxy timeouts end to end: idle_timeout closes a quiet connection, connect_timeout gives up
// on an upstream that never answers the handshake.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "test/support/backends.h"
#include "test/support/bootstrap.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<RemoraProcess> start(const std::string& config) {
  auto remora = std::make_unique<RemoraProcess>(REMORA_BINARY, config,
                                                std::vector<std::string>{"--concurrency", "1"});
  if (!remora->waitReady()) FAIL(remora->error());
  return remora;
}

TEST_CASE("tcp_proxy idle_timeout closes a connection that stays quiet",
          "[integration][tcp_proxy]") {
  EchoServer echo;
  TcpProxySpec spec;
  spec.cluster = "backend";
  spec.idle_timeout = "0.3s";
  auto remora = start(bootstrapYaml({spec}, {staticCluster("backend", {echo.port()})}));
  Fd client = connectTcp(remora->listenerPort("ingress"), 5s);
  REQUIRE(client);
  // Traffic keeps it open past one idle period...
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(150ms);  // Models a client pausing between messages.
    CHECK(roundTrip(client.get(), "ping", 5s) == "ping");
  }
  // ...and silence closes it.
  const auto quiet_since = std::chrono::steady_clock::now();
  ReadResult r = readUntilEof(client.get(), 10s);
  CHECK(r.eof);
  CHECK(std::chrono::steady_clock::now() - quiet_since >= 250ms);
  CHECK(remora->stat("tcp.ingress.idle_timeout") == 1);
}

TEST_CASE(
    "tcp_proxy connect_timeout closes the client when the upstream never completes the "
    "handshake",
    "[integration][tcp_proxy]") {
  // A listener whose accept queue is full drops further SYNs: the handshake never completes.
  Fd blackhole = listenTcp(0);
  Fd filler = connectTcp(localPort(blackhole.get()), 5s);
  REQUIRE(filler);
  ClusterSpec cluster = staticCluster("backend", {localPort(blackhole.get())});
  cluster.connect_timeout = "0.25s";
  TcpProxySpec spec;
  spec.cluster = "backend";
  auto remora = start(bootstrapYaml({spec}, {cluster}));
  Fd client = connectTcp(remora->listenerPort("ingress"), 5s);
  REQUIRE(client);
  ReadResult r = readUntilEof(client.get(), 10s);
  CHECK(r.eof);
  CHECK(r.data.empty());
  CHECK(waitFor([&] { return remora->stat("cluster.backend.upstream_cx_connect_timeout") == 1; },
                5s));
  CHECK(remora->stat("cluster.backend.upstream_cx_connect_fail") == 1);
}

}  // namespace
}  // namespace remora::testing
