// Specifies /server_info's JSON and the command-line options read back out of the command line.
#include <catch2/catch.hpp>

#include "source/admin/server_info.h"
#include "test/admin/fake_admin_context.h"

namespace remora::admin {
namespace {

TEST_CASE("state names are Envoy's upper-case ServerInfo.State names", "[admin]") {
  CHECK(serverStateName(ServerState::kPreInitializing) == "PRE_INITIALIZING");
  CHECK(serverStateName(ServerState::kInitializing) == "INITIALIZING");
  CHECK(serverStateName(ServerState::kLive) == "LIVE");
  CHECK(serverStateName(ServerState::kDraining) == "DRAINING");
}

TEST_CASE("server_info carries version, state, uptimes, options and node", "[admin]") {
  FakeAdminContext ctx;
  ctx.setState(ServerState::kDraining);
  CHECK(serverInfoJson(ctx) ==
        R"({"version":"abc123/0.1.0/Clean/RELEASE/BoringSSL","state":"DRAINING",)"
        R"("uptime_current_epoch":"42s","uptime_all_epochs":"42s",)"
        R"("hot_restart_version":"disabled",)"
        R"("command_line_options":{"concurrency":2,"config_path":"/etc/remora.yaml"},)"
        R"("node":{"id":"node-1","cluster":"cluster-a"}})"
        "\n");
}

TEST_CASE("command line options map Envoy flags to CommandLineOptions fields", "[admin]") {
  CHECK(commandLineOptionsJson(
            "remora --config-path=/c.yaml -l debug --service-node n1 --service-cluster c1 "
            "--drain-time-s 30 --mode validate --disable-hot-restart --base-id 7 "
            "--file-flush-interval-msec 10 --restart-epoch 0") ==
        R"({"base_id":"7","config_path":"/c.yaml","log_level":"debug",)"
        R"("service_cluster":"c1","service_node":"n1","file_flush_interval":"0.010s",)"
        R"("drain_time":"30s","mode":"Validate","disable_hot_restart":true,"restart_epoch":0})");
}

TEST_CASE("repeated and list flags become arrays", "[admin]") {
  CHECK(commandLineOptionsJson("remora --stats-tag a:1 --stats-tag b:2 "
                               "--disable-extensions x.y,z.w") ==
        R"({"disabled_extensions":["x.y","z.w"],"stats_tag":["a:1","b:2"]})");
}

TEST_CASE("unknown flags, bad values and a missing last value are skipped", "[admin]") {
  CHECK(commandLineOptionsJson("remora --unknown 1 --concurrency many --mode bogus -c") == "{}");
  CHECK(commandLineOptionsJson("") == "{}");
  CHECK(commandLineOptionsJson("remora") == "{}");
}

TEST_CASE("a scalar flag given twice keeps its last value", "[admin]") {
  CHECK(commandLineOptionsJson("remora --concurrency 1 --concurrency 4") == R"({"concurrency":4})");
}

}  // namespace
}  // namespace remora::admin
