#include "test/support/http_integration.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "test/support/sockets.h"

namespace remora::testing {

using namespace std::chrono_literals;

std::unique_ptr<RemoraProcess> startRemoraBinary(const std::string& binary,
                                                 const std::string& config,
                                                 std::vector<std::string> extra_args) {
  std::vector<std::string> args = {"--concurrency", "1"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto remora = std::make_unique<RemoraProcess>(binary, config, std::move(args));
  if (!remora->waitReady()) FAIL(remora->error() << "\n" << remora->describe());
  return remora;
}

uint16_t ingressPort(RemoraProcess& remora) {
  uint16_t port = remora.listenerPort("ingress");
  INFO(remora.describe());
  REQUIRE(port != 0);
  return port;
}

bool statReaches(RemoraProcess& remora, const std::string& name, int64_t value) {
  return waitFor([&] { return remora.stat(name) == value; }, 5s, 10ms);
}

std::map<std::string, int> spread(uint16_t port, int n) {
  std::map<std::string, int> by;
  HttpTestClient client(port, "127.0.0.1", std::chrono::seconds(5));
  for (int i = 0; i < n; ++i) {
    ClientResponse r = client.request(get("/"));
    ++by[r.status == 200 ? r.body : "status " + std::to_string(r.status)];
  }
  return by;
}

ClientRequest get(std::string path) {
  ClientRequest r;
  r.path = std::move(path);
  return r;
}

ClientRequest get(std::string path, std::string host) {
  ClientRequest r = get(std::move(path));
  r.host = std::move(host);
  return r;
}

ClientResponse fetch(uint16_t port, const ClientRequest& request) {
  HttpTestClient client(port);
  REQUIRE(client.connected());
  return client.request(request);
}

ClientResponse fetch(uint16_t port, const std::string& path) { return fetch(port, get(path)); }

std::string ingressBootstrap(const std::string& route_config,
                             const std::vector<ClusterSpec>& clusters, const std::string& hcm_extra,
                             std::optional<uint32_t> listener_buffer_limit) {
  HttpListenerSpec listener;
  listener.hcm_yaml = hcmYaml(route_config, hcm_extra);
  listener.per_connection_buffer_limit_bytes = listener_buffer_limit;
  return httpBootstrap({listener}, clusters);
}

std::string oneVirtualHost(const std::string& routes, const std::string& table_extra) {
  std::string y = "name: local\n" + table_extra +
                  "virtual_hosts:\n"
                  "- name: all\n"
                  "  domains: [\"*\"]\n"
                  "  routes:\n";
  size_t start = 0;
  while (start < routes.size()) {
    size_t end = routes.find('\n', start);
    if (end == std::string::npos) end = routes.size();
    y += "  " + routes.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return y;
}

std::string fileAccessLog(const std::string& path, const std::optional<std::string>& format) {
  std::string y =
      "access_log:\n"
      "- name: envoy.access_loggers.file\n"
      "  typed_config:\n"
      "    \"@type\": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
      "    path: " +
      path + "\n";
  if (format) {
    y += "    log_format:\n"
         "      text_format_source:\n"
         "        inline_string: \"" +
         *format + "\"\n";
  }
  return y;
}

}  // namespace remora::testing
