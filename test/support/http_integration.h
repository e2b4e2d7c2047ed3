// What the HTTP integration tests (test/integration/http_*_test.cc) share: starting the real remora
// binary, the bootstraps and requests they send it, and deadlines on what it reports.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "test/support/bootstrap.h"
#include "test/support/http_test_client.h"
#include "test/support/remora_process.h"

namespace remora::testing {

// Starts `binary` on one worker (so per-connection behaviour and stats are deterministic) and
// waits until it serves; FAILs the test with its output otherwise.
std::unique_ptr<RemoraProcess> startRemoraBinary(const std::string& binary,
                                                 const std::string& config,
                                                 std::vector<std::string> extra_args = {});

// REMORA_BINARY is only defined for the integration test target; this file is compiled into the
// unit binary too (through http_integration.cc), so the wrapper exists only where it can work.
#ifdef REMORA_BINARY
inline std::unique_ptr<RemoraProcess> startRemora(const std::string& config,
                                                  std::vector<std::string> extra_args = {}) {
  return startRemoraBinary(REMORA_BINARY, config, std::move(extra_args));
}
#endif

// The bound port of listener "ingress"; REQUIREs that it is listed.
uint16_t ingressPort(RemoraProcess& remora);

// Stats are flushed asynchronously, so a counter is polled (5 s deadline) rather than read once.
bool statReaches(RemoraProcess& remora, const std::string& name, int64_t value);

// Sends `n` GET / on one kept-alive connection to `port`; counts the answers by body (backends
// answer with their name) or, for anything but a 200, as "status <code>".
std::map<std::string, int> spread(uint16_t port, int n);

// A GET of `path`; ClientRequest's defaults (Host: backend) for the rest.
ClientRequest get(std::string path = "/");
ClientRequest get(std::string path, std::string host);

// One request on a fresh connection, so no earlier request's connection state is involved.
ClientResponse fetch(uint16_t port, const ClientRequest& request);
ClientResponse fetch(uint16_t port, const std::string& path = "/");

// One HCM listener "ingress" serving `route_config` with `hcm_extra` fields, in front of
// `clusters`.
std::string ingressBootstrap(const std::string& route_config,
                             const std::vector<ClusterSpec>& clusters,
                             const std::string& hcm_extra = "",
                             std::optional<uint32_t> listener_buffer_limit = {});

// A route table with one catch-all virtual host holding `routes` (YAML list items at column 0);
// `table_extra` (column 0) adds route configuration fields.
std::string oneVirtualHost(const std::string& routes, const std::string& table_extra = "");

// HCM fields for a file access log at `path`; `format` is a text_format_source inline string (a
// YAML double-quoted string body), and without one Envoy's default format applies.
std::string fileAccessLog(const std::string& path,
                          const std::optional<std::string>& format = std::nullopt);

}  // namespace remora::testing
