// What the admin endpoint needs from the running server. The server implements it; admin handlers
// and their tests program against it, so the admin code never reaches into server internals.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "source/admin/dynamic_config_state.h"
#include "source/stats/store.h"

namespace remora::admin {

// Envoy's server states, as /server_info reports them.
enum class ServerState { kPreInitializing, kInitializing, kLive, kDraining };

struct ListenerStatus {
  std::string name;
  std::string address;  // Bound address, e.g. "127.0.0.1:15001" (the real port when 0 was asked).
  uint32_t port = 0;    // 0 for pipe listeners.
  std::string ip;       // Empty for pipe listeners.
};

class AdminContext {
 public:
  virtual ~AdminContext() = default;
  virtual ServerState state() const = 0;
  virtual std::string version() const = 0;
  virtual std::chrono::seconds uptime() const = 0;
  // The command line as given (argv joined with spaces).
  virtual std::string commandLine() const = 0;
  // The node id and cluster from bootstrap / --service-node / --service-cluster.
  virtual std::string nodeId() const = 0;
  virtual std::string nodeCluster() const = 0;
  virtual const stats::Store& stats() const = 0;
  // JSON in the shape of envoy.admin.v3.ConfigDump; the EndpointsConfigDump only when
  // include_eds (?include_eds), as in Envoy.
  virtual std::string configDumpJson(bool include_eds) const = 0;
  // Every active cluster with its hosts, for GET /clusters.
  virtual std::vector<ClusterInfo> clusters() const = 0;
  virtual std::vector<ListenerStatus> listeners() const = 0;
  // POST /quitquitquit: begin an orderly shutdown (called on the main thread).
  virtual void requestShutdown() = 0;
};

}  // namespace remora::admin
