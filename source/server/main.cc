// remora: parse the command line, load and validate the bootstrap, then serve (or just report,
// with --mode validate).
#include <signal.h>

#include <iostream>

#include "source/accesslog/access_log_files.h"
#include "source/config/bootstrap_loader.h"
#include "source/config/snapshot_builder.h"
#include "source/http/conn_manager_builder.h"
#include "source/server/logging.h"
#include "source/server/options.h"
#include "source/server/overload_config.h"
#include "source/server/server.h"
#include "source/xds/config_source.h"
#include "spdlog/spdlog.h"

using namespace remora;

// jemalloc's settings (build/remora links it; without it this is an unused symbol). Freed pages go
// back to the system a second after they fall idle, from jemalloc's own background thread rather
// than only when a worker next allocates: after a burst of 20,000 connections closed, RSS returned
// to within 3 MiB of its idle size in 2 s, where the defaults kept 36 MiB more indefinitely
// (test/integration/overload_test.cc measures it).
extern "C" {
__attribute__((used)) const char* malloc_conf =
    "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}

int main(int argc, char** argv) {
  auto options = server::parseOptions(argc, argv);
  if (!options.ok()) {
    std::cerr << "remora: " << options.status().message() << "\n" << server::usage();
    return 1;
  }
  if (options->help) {
    std::cout << server::usage();
    return 0;
  }
  if (options->version) {
    std::cout << "remora version: " << REMORA_VERSION << "/Clean/RELEASE/OpenSSL\n";
    return 0;
  }
  server::setUpLogging(options->log_level);
  for (const auto& flag : options->ignored_flags) {
    spdlog::info("accepted Envoy option '{}': not implemented by Remora, ignored", flag);
  }

  auto loaded = config::loadBootstrap({options->config_path, options->config_yaml,
                                       options->service_node, options->service_cluster});
  auto store = std::make_shared<stats::Store>();
  absl::StatusOr<config::SnapshotConstSharedPtr> snapshot =
      loaded.ok() ? config::buildStaticSnapshot(loaded->bootstrap, *store, loaded->report)
                  : absl::StatusOr<config::SnapshotConstSharedPtr>(loaded.status());
  if (snapshot.ok()) {
    // The xDS sources are checked now so that a bad one fails --mode validate and startup alike.
    if (auto dynamic = xds::parseDynamicResources(loaded->bootstrap); !dynamic.ok()) {
      snapshot = dynamic.status();
    } else if (auto overload = server::parseOverloadConfig(loaded->bootstrap, loaded->report);
               !overload.ok()) {
      snapshot = overload.status();
    }
  }
  if (options->mode == server::Mode::kValidate) {
    // The report goes to stdout: it is this mode's output, not a log.
    if (loaded.ok()) {
      for (const auto& w : loaded->report.warnings) std::cout << "warning: " << w << "\n";
    }
    if (!snapshot.ok()) {
      std::cout << "error: " << snapshot.status().message() << "\nconfiguration is invalid\n";
      return 1;
    }
    std::cout << "configuration '"
              << (options->config_path.empty() ? "--config-yaml" : options->config_path) << "' OK ("
              << (*snapshot)->listeners.size() << " listeners, " << (*snapshot)->clusters.size()
              << " clusters, " << loaded->report.warnings.size() << " warnings)\n";
    return 0;
  }
  if (loaded.ok()) {
    for (const auto& w : loaded->report.warnings) spdlog::warn("config: {}", w);
  }
  if (!snapshot.ok()) {
    spdlog::critical("invalid configuration: {}", std::string(snapshot.status().message()));
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);  // A peer closing mid-write must be an error code, not a death.
  spdlog::info("remora {} starting with {} worker(s)", REMORA_VERSION, options->concurrency);
  int code;
  {
    server::Server server(*std::move(options), *std::move(loaded), std::move(store),
                          *std::move(snapshot));
    code = server.run();
  }
  // Workers are gone: write out the access log lines still buffered.
  http::processAccessLogFiles().shutdown();
  return code;
}
