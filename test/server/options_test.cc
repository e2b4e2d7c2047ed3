// Command-line parsing: Envoy's flags, Remora's defaults, clear errors.
#include <catch2/catch.hpp>

#include "source/server/options.h"

namespace remora::server {
namespace {

absl::StatusOr<Options> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "remora");
  return parseOptions(static_cast<int>(args.size()), args.data());
}

TEST_CASE("the Envoy flags Remora implements are parsed", "[options]") {
  auto o = parse({"-c", "/etc/envoy.yaml", "--concurrency", "3", "--mode", "validate", "-l",
                  "debug", "--service-node", "n", "--service-cluster", "c", "--drain-time-s", "7",
                  "--admin-address-path", "/tmp/a"});
  REQUIRE(o.ok());
  CHECK(o->config_path == "/etc/envoy.yaml");
  CHECK(o->concurrency == 3);
  CHECK(o->mode == Mode::kValidate);
  CHECK(o->log_level == "debug");
  CHECK(o->service_node == "n");
  CHECK(o->service_cluster == "c");
  CHECK(o->drain_time == std::chrono::seconds(7));
  CHECK(o->admin_address_path == "/tmp/a");
}

TEST_CASE("a flag with =value works like the flag followed by its value", "[options]") {
  auto o = parse({"--config-yaml=admin: {}", "--concurrency=2"});
  REQUIRE(o.ok());
  CHECK(o->config_yaml == "admin: {}");
  CHECK(o->concurrency == 2);
}

TEST_CASE("concurrency defaults to the number of cores", "[options]") {
  auto o = parse({"-c", "x.yaml"});
  REQUIRE(o.ok());
  CHECK(o->concurrency >= 1);
  CHECK(o->drain_time == std::chrono::seconds(600));
}

TEST_CASE("Envoy flags Remora does not implement are accepted and remembered", "[options]") {
  auto o = parse({"-c", "x.yaml", "--disable-hot-restart", "--base-id", "1", "--drain-strategy",
                  "immediate", "--log-format", "%v", "--allow-unknown-static-fields"});
  REQUIRE(o.ok());
  CHECK(o->ignored_flags.size() == 5);
  CHECK(o->ignored_flags[1] == "--base-id 1");
  CHECK(o->allow_unknown_static_fields);
}

TEST_CASE("an unknown flag is an error naming it", "[options]") {
  auto o = parse({"-c", "x.yaml", "--frobnicate"});
  REQUIRE_FALSE(o.ok());
  CHECK(std::string(o.status().message()) == "unknown option '--frobnicate'");
}

TEST_CASE("a bad number or mode is an error naming the flag", "[options]") {
  CHECK(std::string(parse({"-c", "x", "--concurrency", "two"}).status().message()) ==
        "--concurrency: 'two' is not a number");
  CHECK(std::string(parse({"-c", "x", "--mode", "run"}).status().message()) ==
        "--mode: 'run' is not one of serve, validate");
  CHECK(std::string(parse({"-c"}).status().message()) == "-c: missing value");
}

TEST_CASE("a config is required unless asking for the version", "[options]") {
  CHECK_FALSE(parse({}).ok());
  auto v = parse({"--version"});
  REQUIRE(v.ok());
  CHECK(v->version);
}

}  // namespace
}  // namespace remora::server
