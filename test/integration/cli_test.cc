// The remora command line and admin basics, Envoy-compatible: --version, config errors that name
// the field path, --mode validate, accepted-but-unimplemented Envoy flags, --config-yaml, JSON
// bootstraps, POST /quitquitquit and 404s for unknown admin paths.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "test/support/backends.h"
#include "test/support/bootstrap.h"
#include "test/support/process.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kExitTimeout = 10s;
constexpr auto kIoTimeout = 10s;
constexpr uint16_t kPlaceholderPort = 65001;

// A valid bootstrap whose single cluster endpoint has port kPlaceholderPort (nothing listens).
std::string validBootstrap() { return tcpProxyBootstrap({kPlaceholderPort}); }

std::string replaceOnce(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Runs remora to completion with `config` in a file plus `args`; fails the test if it keeps
// running.
struct Finished {
  int code;
  std::string out;  // stdout + stderr
  std::string err;  // stderr alone
};
Finished runToExit(const std::string& config, std::vector<std::string> args) {
  TempDir dir;
  std::vector<std::string> argv = {"-c", dir.write("bootstrap.yaml", config)};
  argv.insert(argv.end(), args.begin(), args.end());
  Process remora(REMORA_BINARY, argv);
  std::optional<int> code = remora.waitExit(kExitTimeout);
  INFO(remora.describe());
  REQUIRE(code.has_value());
  return {*code, remora.stdoutText() + remora.stderrText(), remora.stderrText()};
}

std::unique_ptr<RemoraProcess> startRemora(RemoraOptions options) {
  auto remora = std::make_unique<RemoraProcess>(std::move(options));
  if (!remora->waitReady()) FAIL(remora->error());
  return remora;
}

RemoraOptions options(const std::string& config, std::vector<std::string> args = {}) {
  RemoraOptions o;
  o.binary = REMORA_BINARY;
  o.config = config;
  o.extra_args = std::move(args);
  return o;
}

std::unique_ptr<RemoraProcess> startRemora(const std::string& config,
                                           std::vector<std::string> args = {}) {
  return startRemora(options(config, std::move(args)));
}

// One echo round trip through listener "ingress".
void checkProxies(RemoraProcess& remora) {
  uint16_t port = remora.listenerPort("ingress");
  REQUIRE(port != 0);
  Fd client = connectTcp(port, kIoTimeout);
  REQUIRE(client.valid());
  CHECK(roundTrip(client.get(), "through the proxy", kIoTimeout) == "through the proxy");
}

const std::string kEndpointPort =
    "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address."
    "socket_address.port_value";

TEST_CASE("remora --version prints the version and exits 0", "[integration][cli]") {
  Process remora(REMORA_BINARY, {"--version"});
  std::optional<int> code = remora.waitExit(kExitTimeout);
  INFO(remora.describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  std::string out = remora.stdoutText() + remora.stderrText();
#ifdef REMORA_VERSION
  CHECK_THAT(out, Catch::Matchers::Contains(REMORA_VERSION));
#else
  CHECK_THAT(out, Catch::Matchers::Matches("(.|\\n)*[0-9]+\\.[0-9]+\\.[0-9]+(.|\\n)*"));
#endif
}

TEST_CASE("an endpoint port_value above 65535 is rejected with its field path",
          "[integration][cli][config_error]") {
  std::string config = replaceOnce(
      validBootstrap(), "port_value: " + std::to_string(kPlaceholderPort), "port_value: 70000");
  Finished run = runToExit(config, {});
  CHECK(run.code != 0);
  CHECK_THAT(run.err, Catch::Matchers::Contains(kEndpointPort));
}

TEST_CASE("a cluster without a name is rejected with its field path",
          "[integration][cli][config_error]") {
  std::string config =
      replaceOnce(validBootstrap(), "  - name: backend\n    type: STATIC", "  - type: STATIC");
  Finished run = runToExit(config, {});
  CHECK(run.code != 0);
  CHECK_THAT(run.err, Catch::Matchers::Contains("static_resources.clusters[0].name"));
}

TEST_CASE("an unknown lb_policy is rejected with its field path",
          "[integration][cli][config_error]") {
  std::string config =
      replaceOnce(validBootstrap(), "lb_policy: ROUND_ROBIN", "lb_policy: NOT_A_POLICY");
  Finished run = runToExit(config, {});
  CHECK(run.code != 0);
  CHECK_THAT(run.err, Catch::Matchers::Contains("static_resources.clusters[0].lb_policy"));
}

TEST_CASE("remora --mode validate exits 0 for a valid config", "[integration][cli][validate]") {
  Finished run = runToExit(validBootstrap(), {"--mode", "validate"});
  INFO(run.out);
  CHECK(run.code == 0);
}

TEST_CASE("remora --mode validate exits 1 for an invalid config and reports the field path",
          "[integration][cli][validate]") {
  std::string config = replaceOnce(
      validBootstrap(), "port_value: " + std::to_string(kPlaceholderPort), "port_value: 70000");
  Finished run = runToExit(config, {"--mode", "validate"});
  CHECK(run.code == 1);
  CHECK_THAT(run.out, Catch::Matchers::Contains(kEndpointPort));
}

TEST_CASE("Envoy flags remora does not implement are accepted and the server still serves",
          "[integration][cli]") {
  EchoServer echo;
  const std::vector<std::string> ignored = {"--disable-hot-restart", "--base-id",
                                            "--drain-strategy", "--log-format",
                                            "--allow-unknown-static-fields"};
  auto remora = startRemora(
      tcpProxyBootstrap({echo.port()}),
      {"--disable-hot-restart", "--base-id", "1", "--drain-strategy", "immediate", "--log-format",
       "[%Y-%m-%d %T.%e][%l] %v", "--allow-unknown-static-fields", "--log-level", "info"});
  checkProxies(*remora);
  // Each is logged once, so an operator can see it had no effect.
  std::string log = remora->stderrText();
  for (const auto& flag : ignored) {
    INFO(flag << " in:\n" << log);
    size_t first = log.find(flag);
    CHECK(first != std::string::npos);
    CHECK(log.find(flag, first + 1) == std::string::npos);
  }
}

TEST_CASE("the common Envoy flags are accepted and the server serves", "[integration][cli]") {
  EchoServer echo;
  auto remora = startRemora(tcpProxyBootstrap({echo.port()}),
                            {"--concurrency", "2", "-l", "debug", "--service-node", "node-1",
                             "--service-cluster", "cluster-1", "--drain-time-s", "5"});
  checkProxies(*remora);
  auto other = startRemora(tcpProxyBootstrap({echo.port()}), {"--log-level", "warn"});
  checkProxies(*other);
}

TEST_CASE("a bootstrap given inline with --config-yaml is served", "[integration][cli]") {
  EchoServer echo;
  RemoraOptions inline_config = options(tcpProxyBootstrap({echo.port()}));
  inline_config.config_inline = true;
  auto remora = startRemora(inline_config);
  checkProxies(*remora);
}

TEST_CASE("a JSON bootstrap file is accepted", "[integration][cli]") {
  EchoServer echo;
  std::string port = std::to_string(echo.port());
  std::string json = R"({
  "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
  "static_resources": {
    "listeners": [{
      "name": "ingress",
      "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
      "filter_chains": [{"filters": [{
        "name": "envoy.filters.network.tcp_proxy",
        "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
          "stat_prefix": "ingress",
          "cluster": "backend"
        }
      }]}]
    }],
    "clusters": [{
      "name": "backend",
      "type": "STATIC",
      "connect_timeout": "1s",
      "lb_policy": "ROUND_ROBIN",
      "load_assignment": {
        "cluster_name": "backend",
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address":
          {"address": "127.0.0.1", "port_value": )" +
                     port + R"(}}}}]}]
      }
    }]
  }
})";
  RemoraOptions json_file = options(json);
  json_file.config_file_name = "bootstrap.json";
  auto remora = startRemora(json_file);
  checkProxies(*remora);
}

TEST_CASE("POST /quitquitquit makes the process exit 0", "[integration][cli][admin]") {
  auto remora = startRemora(validBootstrap());
  HttpResponse response = remora->admin("POST", "/quitquitquit");
  CHECK(response.status == 200);
  std::optional<int> code = remora->process().waitExit(kExitTimeout);
  INFO(remora->describe());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
}

TEST_CASE("the admin endpoint answers 404 for an unknown path", "[integration][cli][admin]") {
  auto remora = startRemora(validBootstrap());
  CHECK(remora->admin("GET", "/nonexistent").status == 404);
  CHECK(remora->admin("GET", "/ready").body == "LIVE\n");
}

}  // namespace
}  // namespace remora::testing
