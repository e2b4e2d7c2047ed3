// envoy.filters.network.tcp_proxy end to end: the real remora binary between a test client and
// in-test upstream servers, everything on 127.0.0.1 with ephemeral ports.
#include <sys/socket.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "test/support/backends.h"
#include "test/support/bootstrap.h"
#include "test/support/remora_process.h"
#include "test/support/sanitizer.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kIoTimeout = 10s;
constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

// Starts remora on one worker (so load balancing order is deterministic) and waits until it serves.
std::unique_ptr<RemoraProcess> startRemora(const std::string& config,
                                           std::vector<std::string> args = {"--concurrency", "1"}) {
  auto remora = std::make_unique<RemoraProcess>(REMORA_BINARY, config, std::move(args));
  if (!remora->waitReady()) FAIL(remora->error());
  return remora;
}

uint16_t listenerPort(RemoraProcess& remora, const std::string& name = "ingress") {
  uint16_t port = remora.listenerPort(name);
  INFO(remora.describe());
  REQUIRE(port != 0);
  return port;
}

Fd connectTo(uint16_t port) {
  int error = 0;
  Fd fd = connectTcp(port, kIoTimeout, &error);
  INFO("connect to 127.0.0.1:" << port << " failed: errno " << error);
  REQUIRE(fd.valid());
  return fd;
}

// The id a GreetingServer sends first on a fresh proxied connection.
std::string greetingThrough(uint16_t port) {
  Fd client = connectTo(port);
  ReadResult r = readExactly(client.get(), 1, kIoTimeout);
  REQUIRE(r.data.size() == 1);
  return r.data;
}

TEST_CASE("tcp_proxy carries bytes of every size to the upstream and back",
          "[integration][tcp_proxy]") {
  EchoServer echo;
  auto remora = startRemora(tcpProxyBootstrap({echo.port()}));
  uint16_t port = listenerPort(*remora);

  const std::vector<size_t> sizes = {1, 100, 16 * kKiB, 256 * kKiB + 7, kMiB};
  for (size_t size : sizes) {
    INFO("payload of " << size << " bytes");
    Fd client = connectTo(port);
    std::string payload = patternBytes(size, size);
    std::string received = roundTrip(client.get(), payload, 30s);
    REQUIRE(received.size() == payload.size());
    bool intact = received == payload;
    CHECK(intact);
  }
  CHECK(echo.acceptedConnections() == static_cast<int>(sizes.size()));
}

TEST_CASE("tcp_proxy carries many messages back and forth on one connection",
          "[integration][tcp_proxy]") {
  EchoServer echo;
  auto remora = startRemora(tcpProxyBootstrap({echo.port()}));
  Fd client = connectTo(listenerPort(*remora));
  for (int i = 0; i < 50; ++i) {
    std::string message = "message " + std::to_string(i);
    REQUIRE(roundTrip(client.get(), message, kIoTimeout) == message);
  }
  CHECK(echo.acceptedConnections() == 1);
}

TEST_CASE("round robin sends every third connection to each of 3 endpoints in endpoint order",
          "[integration][tcp_proxy][round_robin]") {
  GreetingServer a("A"), b("B"), c("C");
  auto remora = startRemora(tcpProxyBootstrap({a.port(), b.port(), c.port()}));
  uint16_t port = listenerPort(*remora);

  std::string seen;
  for (int i = 0; i < 9; ++i) seen += greetingThrough(port);

  // The first pick may be any endpoint; from there the endpoints take turns in config order.
  const std::string order = "ABC";
  size_t start = order.find(seen[0]);
  REQUIRE(start != std::string::npos);
  std::string expected;
  for (size_t i = 0; i < 9; ++i) expected += order[(start + i) % 3];
  CHECK(seen == expected);
  CHECK(a.acceptedConnections() == 3);
  CHECK(b.acceptedConnections() == 3);
  CHECK(c.acceptedConnections() == 3);
}

TEST_CASE("a client's half-close reaches the upstream which can still answer",
          "[integration][tcp_proxy][half_close]") {
  HalfCloseServer upstream(HalfCloseServer::Mode::kReplyAfterEof);
  auto remora = startRemora(tcpProxyBootstrap({upstream.port()}));
  Fd client = connectTo(listenerPort(*remora));

  REQUIRE(writeAll(client.get(), "hello upstream", kIoTimeout));
  shutdownWrite(client.get());
  ReadResult reply = readUntilEof(client.get(), kIoTimeout);
  CHECK(reply.data == "received:hello upstream");
  CHECK(reply.eof);
  CHECK(upstream.completed() == std::vector<std::string>{"hello upstream"});
}

TEST_CASE("an upstream's half-close reaches the client which can still send",
          "[integration][tcp_proxy][half_close]") {
  HalfCloseServer upstream(HalfCloseServer::Mode::kCloseFirst, "bye");
  auto remora = startRemora(tcpProxyBootstrap({upstream.port()}));
  Fd client = connectTo(listenerPort(*remora));

  ReadResult greeting = readUntilEof(client.get(), kIoTimeout);
  CHECK(greeting.data == "bye");
  REQUIRE(greeting.eof);

  REQUIRE(writeAll(client.get(), "still here", kIoTimeout));
  shutdownWrite(client.get());
  bool upstream_saw_it = waitFor([&] { return !upstream.completed().empty(); }, kIoTimeout);
  REQUIRE(upstream_saw_it);
  CHECK(upstream.completed() == std::vector<std::string>{"still here"});
}

TEST_CASE("a refused upstream connection closes the client's connection cleanly",
          "[integration][tcp_proxy][connect_fail]") {
  ReservedPort nobody_listens;
  auto remora = startRemora(tcpProxyBootstrap({nobody_listens.port()}));
  Fd client = connectTo(listenerPort(*remora));

  ReadResult r = readUntilEof(client.get(), kIoTimeout);
  CHECK(r.data.empty());
  CHECK(r.eof);
  CHECK_FALSE(r.reset);
  CHECK_FALSE(r.timed_out);

  bool counted = waitFor(
      [&] { return remora->stat("cluster.backend.upstream_cx_connect_fail") == 1; }, kIoTimeout);
  INFO("upstream_cx_connect_fail = " << remora->stat("cluster.backend.upstream_cx_connect_fail"));
  CHECK(counted);
  CHECK(remora->stat("cluster.backend.upstream_cx_total") == 1);
}

TEST_CASE("upstream_cx_total counts each proxied connection", "[integration][tcp_proxy][stats]") {
  EchoServer echo;
  auto remora = startRemora(tcpProxyBootstrap({echo.port()}));
  uint16_t port = listenerPort(*remora);
  for (int i = 0; i < 3; ++i) {
    Fd client = connectTo(port);
    REQUIRE(roundTrip(client.get(), "x", kIoTimeout) == "x");
  }
  bool counted =
      waitFor([&] { return remora->stat("cluster.backend.upstream_cx_total") == 3; }, kIoTimeout);
  INFO("upstream_cx_total = " << remora->stat("cluster.backend.upstream_cx_total"));
  CHECK(counted);
  CHECK(remora->stat("cluster.backend.upstream_cx_connect_fail") == 0);
}

// Envoy requires every weight >= 1, so "all to one cluster" is a 10^7 : 1 split: the light cluster
// would get one of 20 connections with probability 2e-6.
TEST_CASE("weighted_clusters sends (practically) every connection to the overwhelming weight",
          "[integration][tcp_proxy][weighted_clusters]") {
  GreetingServer heavy("H"), light("L");
  TcpProxySpec listener;
  listener.weighted_clusters = {{"heavy", 10'000'000}, {"light", 1}};
  auto remora = startRemora(bootstrapYaml({listener}, {staticCluster("heavy", {heavy.port()}),
                                                       staticCluster("light", {light.port()})}));
  uint16_t port = listenerPort(*remora);

  std::string seen;
  for (int i = 0; i < 20; ++i) seen += greetingThrough(port);
  CHECK(seen == std::string(20, 'H'));
  CHECK(light.acceptedConnections() == 0);
}

TEST_CASE("weighted_clusters with equal weights uses both clusters",
          "[integration][tcp_proxy][weighted_clusters]") {
  GreetingServer left("1"), right("2");
  TcpProxySpec listener;
  listener.weighted_clusters = {{"left", 50}, {"right", 50}};
  auto remora = startRemora(bootstrapYaml(
      {listener}, {staticCluster("left", {left.port()}), staticCluster("right", {right.port()})}));
  uint16_t port = listenerPort(*remora);

  std::string seen;
  for (int i = 0; i < 40; ++i) seen += greetingThrough(port);
  INFO("clusters picked: " << seen);
  // Each side gets at least one of 40 fair coin flips except with probability 2^-39.
  CHECK(std::count(seen.begin(), seen.end(), '1') > 0);
  CHECK(std::count(seen.begin(), seen.end(), '2') > 0);
  CHECK(left.acceptedConnections() + right.acceptedConnections() == 40);
}

constexpr size_t kBigTransfer = 64 * kMiB;
constexpr size_t kSlowChunk = 64 * kKiB;
constexpr int64_t kMaxRssGrowthKb = 32 * 1024;

// The proxy's peak RSS over a transfer, against its RSS once it was ready.
struct RssWatch {
  explicit RssWatch(RemoraProcess& remora) : remora(remora), baseline_kb(remora.process().rssKb()) {
    peak_kb = baseline_kb;
  }
  void sample() { peak_kb = std::max(peak_kb, remora.process().rssKb()); }
  void checkBounded() const {
    INFO("RSS baseline " << baseline_kb << " KiB, peak " << peak_kb << " KiB");
    REQUIRE(baseline_kb > 0);
    if (kSanitized) {
      WARN("sanitizer build: RSS growth of " << (peak_kb - baseline_kb) << " KiB not checked");
    } else {
      CHECK(peak_kb - baseline_kb < kMaxRssGrowthKb);
    }
  }
  RemoraProcess& remora;
  int64_t baseline_kb;
  int64_t peak_kb;
};

TEST_CASE(
    "a fast upstream feeding a slow client: 64 MiB arrive intact and proxy memory stays bounded",
    "[integration][tcp_proxy][backpressure]") {
  BlastServer upstream(kBigTransfer);
  auto remora = startRemora(tcpProxyBootstrap({upstream.port()}, kMiB));
  uint16_t port = listenerPort(*remora);
  RssWatch rss(*remora);

  Fd client = connectTo(port);
  // A small receive buffer keeps the slow reader's kernel from soaking up the transfer for it.
  int rcvbuf = 256 * kKiB;
  ::setsockopt(client.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

  Checksum checksum;
  size_t received = 0;
  for (int reads = 1;; ++reads) {
    ReadResult r = readExactly(client.get(), kSlowChunk, kIoTimeout);
    checksum.update(r.data);
    received += r.data.size();
    if (r.eof || r.reset || r.timed_out) {
      INFO("received " << received << " bytes; eof " << r.eof << ", reset " << r.reset
                       << ", timed out " << r.timed_out);
      REQUIRE(r.eof);
      break;
    }
    if (reads % 16 == 0) rss.sample();
    std::this_thread::sleep_for(2ms);  // the slow reader, not a readiness wait
  }

  REQUIRE(received == kBigTransfer);
  CHECK(checksum.value() == upstream.expectedChecksum());
  rss.checkBounded();
}

TEST_CASE(
    "a fast client feeding a slow upstream: 64 MiB arrive intact and proxy memory stays bounded",
    "[integration][tcp_proxy][backpressure]") {
  SlowSinkServer upstream(kSlowChunk, 2ms);
  auto remora = startRemora(tcpProxyBootstrap({upstream.port()}, kMiB));
  uint16_t port = listenerPort(*remora);
  RssWatch rss(*remora);

  Fd client = connectTo(port);
  int sndbuf = 256 * kKiB;
  ::setsockopt(client.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

  Checksum checksum;
  for (size_t offset = 0, writes = 1; offset < kBigTransfer; offset += kSlowChunk, ++writes) {
    std::string chunk = patternBytes(offset, kSlowChunk);
    checksum.update(chunk);
    INFO("writing at offset " << offset << "; the upstream has received "
                              << upstream.bytesReceived());
    REQUIRE(writeAll(client.get(), chunk, kIoTimeout));
    if (writes % 16 == 0) rss.sample();
  }
  shutdownWrite(client.get());
  bool all_arrived = waitFor([&] { return upstream.done(); }, 30s);
  INFO("the upstream has received " << upstream.bytesReceived() << " bytes");
  REQUIRE(all_arrived);
  CHECK(upstream.bytesReceived() == kBigTransfer);
  CHECK(upstream.checksum() == checksum.value());
  rss.checkBounded();
}

}  // namespace
}  // namespace remora::testing
