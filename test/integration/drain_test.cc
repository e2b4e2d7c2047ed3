// Graceful shutdown of the real remora binary: on SIGTERM/SIGINT /ready turns 503, listeners stop
// accepting, open connections get --drain-time-s to finish, and the process exits 0.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "test/support/backends.h"
#include "test/support/bootstrap.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kIoTimeout = 10s;

std::unique_ptr<RemoraProcess> startRemora(const std::string& config,
                                           const std::string& drain_time_s) {
  auto remora = std::make_unique<RemoraProcess>(
      REMORA_BINARY, config,
      std::vector<std::string>{"--concurrency", "1", "--drain-time-s", drain_time_s});
  if (!remora->waitReady()) FAIL(remora->error());
  return remora;
}

struct Proxied {
  std::unique_ptr<RemoraProcess> remora;
  uint16_t port;
  Fd client;
};

// remora in front of `echo`, with one client connection already carrying traffic.
Proxied startWithOpenConnection(const EchoServer& echo, const std::string& drain_time_s) {
  Proxied p;
  p.remora = startRemora(tcpProxyBootstrap({echo.port()}), drain_time_s);
  p.port = p.remora->listenerPort("ingress");
  REQUIRE(p.port != 0);
  p.client = connectTcp(p.port, kIoTimeout);
  REQUIRE(p.client.valid());
  REQUIRE(roundTrip(p.client.get(), "ping", kIoTimeout) == "ping");
  return p;
}

bool connectionRefused(uint16_t port) {
  int error = 0;
  Fd fd = connectTcp(port, 1s, &error);
  return !fd.valid() && error == ECONNREFUSED;
}

TEST_CASE(
    "SIGTERM: /ready turns 503 and new connections are refused while the open one still works",
    "[integration][drain]") {
  EchoServer echo;
  Proxied p = startWithOpenConnection(echo, "30");

  p.remora->process().signal(SIGTERM);

  bool not_ready = waitFor([&] { return p.remora->readyStatus() == 503; }, 3s);
  INFO("GET /ready after SIGTERM: " << p.remora->readyStatus());
  CHECK(not_ready);
  bool refused = waitFor([&] { return connectionRefused(p.port); }, 3s);
  CHECK(refused);
  CHECK(p.remora->process().running());
  CHECK(roundTrip(p.client.get(), "pong", kIoTimeout) == "pong");
}

TEST_CASE("SIGTERM: once the last connection closes the process exits 0 before the drain time",
          "[integration][drain]") {
  EchoServer echo;
  Proxied p = startWithOpenConnection(echo, "30");

  p.remora->process().signal(SIGTERM);
  REQUIRE(waitFor([&] { return p.remora->readyStatus() == 503; }, 3s));
  REQUIRE(roundTrip(p.client.get(), "still proxied", kIoTimeout) == "still proxied");

  auto closed_at = Clock::now();
  p.client.reset();
  std::optional<int> code = p.remora->process().waitExit(10s);
  INFO(p.remora->describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(secondsSince(closed_at) < 10.0);
}

TEST_CASE("SIGTERM with a connection held open: the process exits 0 when --drain-time-s is up",
          "[integration][drain]") {
  EchoServer echo;
  Proxied p = startWithOpenConnection(echo, "1");

  auto signalled_at = Clock::now();
  p.remora->process().signal(SIGTERM);
  std::optional<int> code = p.remora->process().waitExit(10s);
  double elapsed = secondsSince(signalled_at);
  INFO("exited after " << elapsed << "s\n" << p.remora->describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(elapsed >= 0.9);
  CHECK(elapsed < 5.0);

  // The held connection is closed, not left hanging.
  ReadResult r = readUntilEof(p.client.get(), kIoTimeout);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("SIGINT with no open connections: the process exits 0 without waiting out the drain time",
          "[integration][drain]") {
  EchoServer echo;
  auto remora = startRemora(tcpProxyBootstrap({echo.port()}), "30");

  auto signalled_at = Clock::now();
  remora->process().signal(SIGINT);
  std::optional<int> code = remora->process().waitExit(10s);
  INFO(remora->describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(secondsSince(signalled_at) < 10.0);
}

TEST_CASE(
    "SIGTERM with no open connections: the process exits 0 without waiting out the drain "
    "time",
    "[integration][drain]") {
  EchoServer echo;
  auto remora = startRemora(tcpProxyBootstrap({echo.port()}), "30");

  remora->process().signal(SIGTERM);
  std::optional<int> code = remora->process().waitExit(10s);
  INFO(remora->describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
}

}  // namespace
}  // namespace remora::testing
