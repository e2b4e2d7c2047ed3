// The mock xDS control plane (build/remora-mock-cp) for integration tests: starts it on a resource
// directory, waits (with a deadline) for its port file, and drives its HTTP API: set and remove
// resources, bump the version, read the requests it received, close its streams, restart it on
// the same ports.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "test/support/http_client.h"
#include "test/support/process.h"

namespace remora::testing {

// One xDS request as the mock control plane recorded it (GET /requests).
struct MockCpRequest {
  int64_t seq = 0;  // 1, 2, ... in arrival order, across clearRequests()
  int64_t stream = 0;
  std::string api;  // "ads", "lds", "rds", "cds", "eds"
  bool delta = false;
  std::string type_url;
  std::string version_info;
  std::string response_nonce;
  std::vector<std::string> resource_names;                       // SotW
  std::vector<std::string> subscribe;                            // delta
  std::vector<std::string> unsubscribe;                          // delta
  std::map<std::string, std::string> initial_resource_versions;  // delta
  std::string node_id;
  std::optional<bool> ack;  // nullopt: no nonce (a first request or a subscription change)
  std::optional<std::string> error_detail;
};

class MockControlPlane {
 public:
  MockControlPlane() = default;
  ~MockControlPlane() { stop(); }
  MockControlPlane(const MockControlPlane&) = delete;
  MockControlPlane& operator=(const MockControlPlane&) = delete;

  // Runs `binary` (tests pass REMORA_MOCK_CP) serving the files of `dir` (may be empty: none) on
  // free ports. False when it does not write its port file in time; error() tells why.
  bool start(const std::string& binary, const std::string& dir,
             std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // As above, and also serving xDS on the unix socket `xds_uds` (none when empty).
  bool start(const std::string& binary, const std::string& dir, const std::string& xds_uds,
             std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Stops it (SIGTERM, then SIGKILL after a deadline) and starts it again on the same ports.
  bool restart(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void stop();

  uint16_t xdsPort() const { return xds_port_; }
  uint16_t apiPort() const { return api_port_; }
  // "127.0.0.1:<xds port>", for a gRPC channel or a bootstrap.
  std::string xdsAddress() const;

  // PUT /resources with a YAML/JSON `resources: [...]` body. Each returns the new version, or 0
  // when the call failed (error() tells why).
  int64_t setResources(const std::string& yaml);
  // `type`: listener, route, cluster, endpoint or secret.
  int64_t removeResource(const std::string& type, const std::string& name);
  int64_t bumpVersion();

  std::vector<MockCpRequest> requests();
  bool clearRequests();
  // Polls GET /requests until one satisfies `match`; nullopt at the deadline.
  std::optional<MockCpRequest> waitForRequest(
      const std::function<bool(const MockCpRequest&)>& match, std::chrono::milliseconds timeout);
  // GET /streams' "open" count; -1 when the call failed.
  int openStreams();
  // POST /close-streams: every open stream ends with UNAVAILABLE. Returns how many.
  int closeStreams();

  HttpResponse api(const std::string& method, const std::string& path,
                   const std::string& body = "");
  const std::string& error() const { return error_; }
  // The command line, exit state and log: for failure messages.
  std::string describe() const;

 private:
  bool launch(std::chrono::milliseconds timeout);
  // The "version" of a 200 JSON answer, or 0 (and error_ set).
  int64_t versionOf(const HttpResponse& response, const std::string& what);

  std::string binary_;
  std::string dir_;
  std::string xds_uds_;
  TempDir work_;  // holds the port file
  std::unique_ptr<Process> process_;
  uint16_t xds_port_ = 0;
  uint16_t api_port_ = 0;
  std::string error_;
};

}  // namespace remora::testing
