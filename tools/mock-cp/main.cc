// remora-mock-cp: a real xDS management server for tests, the demo and trying configs without
// Istio. Serves Envoy YAML/JSON resources from --dir over ADS and the per-type services (SotW and
// delta), pushes a new version when a file changes or the HTTP API says so, and records every
// request. See http_api.h for the API.
#include <event2/event.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "tools/mock-cp/control_plane.h"
#include "tools/mock-cp/directory_source.h"
#include "tools/mock-cp/http_api.h"
#include "tools/mock-cp/xds_service.h"

namespace {

using namespace remora::mockcp;

constexpr const char* kUsage =
    "usage: remora-mock-cp [--dir PATH] [--xds-port N] [--xds-uds PATH] [--api-port N]\n"
    "                      [--port-file PATH]\n"
    "                      [--log-level trace|debug|info|warning|error|critical|off]\n"
    "  --dir PATH        serve the resources of every *.yaml, *.yml and *.json file in PATH\n"
    "                    (one resource with \"@type\", or a list under 'resources:'), and reload\n"
    "                    them when they change\n"
    "  --xds-port N      gRPC xDS port on 127.0.0.1 (default 0: any free port)\n"
    "  --xds-uds PATH    also serve xDS on the unix socket PATH (as Istio's bootstrap expects)\n"
    "  --api-port N      HTTP API port on 127.0.0.1 (default 0: any free port)\n"
    "  --port-file PATH  once all listen, write \"xds=<port>\\napi=<port>\\n\" to PATH\n"
    "  --log-level L     default info: one line per xDS request and response\n";

struct Options {
  std::string dir;
  uint16_t xds_port = 0;
  std::string xds_uds;
  uint16_t api_port = 0;
  std::string port_file;
  std::string log_level = "info";
};

bool parsePort(const std::string& text, uint16_t& out) {
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text, &port) || port > 65535) return false;
  out = static_cast<uint16_t>(port);
  return true;
}

// nullopt after printing what is wrong; exits for --help.
std::optional<Options> parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::cerr << "remora-mock-cp: " << flag << " needs a value\n" << kUsage;
      return std::nullopt;
    }
    bool ok = true;
    if (flag == "--dir") {
      o.dir = value;
    } else if (flag == "--xds-port") {
      ok = parsePort(value, o.xds_port);
    } else if (flag == "--xds-uds") {
      o.xds_uds = value;
      ok = !value.empty();
    } else if (flag == "--api-port") {
      ok = parsePort(value, o.api_port);
    } else if (flag == "--port-file") {
      o.port_file = value;
    } else if (flag == "--log-level") {
      o.log_level = value == "warning" ? "warn" : value;
      ok = spdlog::level::from_str(o.log_level) != spdlog::level::off || o.log_level == "off";
    } else {
      std::cerr << "remora-mock-cp: unknown flag " << flag << "\n" << kUsage;
      return std::nullopt;
    }
    if (!ok) {
      std::cerr << "remora-mock-cp: invalid value '" << value << "' for " << flag << "\n";
      return std::nullopt;
    }
  }
  return o;
}

// Written whole and renamed into place, so that a test polling for it never reads half of it.
bool writePortFile(const std::string& path, uint16_t xds_port, uint16_t api_port) {
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "xds=" << xds_port << "\napi=" << api_port << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

void onStopSignal(evutil_socket_t, short, void* base) {
  event_base_loopbreak(static_cast<event_base*>(base));
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options = parseOptions(argc, argv);
  if (!options) return 2;
  auto logger = spdlog::stderr_logger_mt("remora-mock-cp");
  logger->set_pattern("[%Y-%m-%d %T.%e][mock-cp][%l] %v");
  logger->set_level(spdlog::level::from_str(options->log_level));
  logger->flush_on(spdlog::level::trace);  // tests read the log while it runs
  spdlog::set_default_logger(logger);
  ::signal(SIGPIPE, SIG_IGN);

  ControlPlane cp;
  std::unique_ptr<DirectorySource> directory;
  if (!options->dir.empty()) {
    directory = std::make_unique<DirectorySource>(options->dir, cp.store);
    if (absl::Status s = directory->load(); !s.ok()) {
      spdlog::critical("{}", std::string(s.message()));
      return 1;
    }
  }
  event_base* base = event_base_new();
  int code = 0;
  {
    XdsServer xds(cp);
    HttpApi api(base, cp);
    absl::StatusOr<uint16_t> xds_port = xds.start(options->xds_port, options->xds_uds);
    absl::StatusOr<uint16_t> api_port =
        xds_port.ok() ? api.listen(options->api_port) : xds_port.status();
    absl::Status watching = api_port.ok() && directory ? directory->watch(base) : api_port.status();
    event* sigint = evsignal_new(base, SIGINT, &onStopSignal, base);
    event* sigterm = evsignal_new(base, SIGTERM, &onStopSignal, base);
    evsignal_add(sigint, nullptr);
    evsignal_add(sigterm, nullptr);
    if (!watching.ok()) {
      spdlog::critical("{}", std::string(watching.message()));
      code = 1;
    } else if (!options->port_file.empty() &&
               !writePortFile(options->port_file, *xds_port, *api_port)) {
      spdlog::critical("cannot write --port-file {}", options->port_file);
      code = 1;
    } else {
      spdlog::info("xDS on 127.0.0.1:{}{}, HTTP API on 127.0.0.1:{}, version {}", *xds_port,
                   options->xds_uds.empty() ? "" : " and unix:" + options->xds_uds, *api_port,
                   cp.store.snapshot()->version);
      event_base_dispatch(base);
      spdlog::info("stopping");
    }
    xds.shutdown();
    event_free(sigint);
    event_free(sigterm);
  }
  directory.reset();
  event_base_free(base);
  return code;
}
