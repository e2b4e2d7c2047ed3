// The mock control plane's gRPC server: ADS (state-of-the-world and delta) and the per-type LDS,
// RDS, CDS and EDS services, all on one loopback port (and a unix socket when asked), using the
// callback API so that any number of streams costs no thread each.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "tools/mock-cp/control_plane.h"

namespace remora::mockcp {

class XdsServer {
 public:
  explicit XdsServer(ControlPlane& cp);
  ~XdsServer();

  // Listens on 127.0.0.1:`port` (0: any free port) and, when `uds_path` is not empty, on that
  // unix socket too; returns the TCP port.
  absl::StatusOr<uint16_t> start(uint16_t port, const std::string& uds_path = "");
  // Ends every stream (UNAVAILABLE) and stops the server.
  void shutdown();

 private:
  ControlPlane& cp_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace remora::mockcp
