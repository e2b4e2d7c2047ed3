// What the xDS integration tests (test/integration/xds_*_test.cc) share: a mock control plane
// serving a resource directory, a remora subscribed to it, waits for the ACK or NACK of a push,
// and readers of what remora's admin endpoint says about its dynamic configuration.
#pragma once

#include <google/protobuf/struct.pb.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "test/support/mock_cp.h"
#include "test/support/process.h"
#include "test/support/remora_process.h"
#include "test/support/xds_bootstrap.h"

namespace remora::testing {

// Starts `binary` on `dir` after writing `initial` (a resources YAML) into it, so that a restart
// serves the same content; FAILs the test otherwise.
void startControlPlaneBinary(MockControlPlane& cp, const std::string& binary, const TempDir& dir,
                             const std::string& initial);

// Starts `binary` on one worker without waiting for it to be ready: an xDS-configured remora
// answers /ready 503 until its initial configuration is in place, which tests watch themselves.
std::unique_ptr<RemoraProcess> launchRemoraBinary(const std::string& binary,
                                                  const std::string& bootstrap,
                                                  std::vector<std::string> extra_args = {});

// Both wrappers exist only where the binaries are known (this file is also compiled into the unit
// test binary, through xds_integration.cc).
#ifdef REMORA_MOCK_CP
inline void startControlPlane(MockControlPlane& cp, const TempDir& dir,
                              const std::string& initial) {
  startControlPlaneBinary(cp, REMORA_MOCK_CP, dir, initial);
}
#endif
#ifdef REMORA_BINARY
inline std::unique_ptr<RemoraProcess> launchRemora(const std::string& bootstrap,
                                                   std::vector<std::string> extra_args = {}) {
  return launchRemoraBinary(REMORA_BINARY, bootstrap, std::move(extra_args));
}
#endif

// An EDS cluster and the ports of its endpoints.
struct EdsClusterSpec {
  std::string name;
  std::vector<uint16_t> ports;
};

// The common case: listener "ingress" whose routes ("ingress-routes", by RDS) send everything to
// `route_to`, and `clusters` with their endpoints, each from the sources `spec` says.
std::string ingressResources(const XdsBootstrapSpec& spec, const std::string& route_to,
                             const std::vector<EdsClusterSpec>& clusters);

// A mock control plane and a remora configured from it, serving on listener "ingress".
struct XdsProxy {
  XdsBootstrapSpec spec;
  TempDir dir;
  MockControlPlane cp;
  std::unique_ptr<RemoraProcess> remora;
  uint16_t port = 0;  // Of "ingress".
};

// Starts `p.cp` serving `resources`, then remora with `extra_args` on xdsBootstrap(p.spec), and
// waits until it is ready with "ingress" bound; FAILs the test otherwise.
void startXdsProxyBinaries(XdsProxy& p, const std::string& mock_cp, const std::string& remora,
                           const std::string& resources, std::vector<std::string> extra_args = {});
#if defined(REMORA_MOCK_CP) && defined(REMORA_BINARY)
inline void startXdsProxy(XdsProxy& p, const std::string& resources,
                          std::vector<std::string> extra_args = {}) {
  startXdsProxyBinaries(p, REMORA_MOCK_CP, REMORA_BINARY, resources, std::move(extra_args));
}
#endif

// GET /ready's status once the admin endpoint answers; 0 when it does not within 10 s.
int firstReadyStatus(RemoraProcess& remora);

// The seq of the last request the control plane recorded; 0 when there is none.
int64_t lastRequestSeq(MockControlPlane& cp);

// The client's answer to the push of `version` of `type_url`: the first ACK or NACK of that type
// recorded after request `after_seq`. A SotW ACK names the version it accepts; a delta ACK names
// none, so for delta any ACK after `after_seq` is taken. nullopt at the deadline.
std::optional<MockCpRequest> waitForReply(
    MockControlPlane& cp, const std::string& type_url, int64_t after_seq, int64_t version,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// PUT /resources with `yaml`, then waits for an ACK of each of `types`. False with `error` set
// when the push fails, a type is NACKed or an answer does not come in time.
bool pushAndAwaitAcks(MockControlPlane& cp, const std::string& yaml,
                      const std::vector<std::string>& types, std::string* error);

// GET /config_dump (?include_eds when asked) parsed; empty when it fails.
google::protobuf::Struct configDump(RemoraProcess& remora, bool include_eds = false);
// The items of list `field` (e.g. "dynamic_active_clusters") in the dump's config of `type`
// (e.g. "type.googleapis.com/envoy.admin.v3.ClustersConfigDump").
std::vector<google::protobuf::Struct> dumpEntries(const google::protobuf::Struct& dump,
                                                  const std::string& type,
                                                  const std::string& field);
// A string at a dotted path ("error_state.details") of `s`; "" when absent.
std::string stringAt(const google::protobuf::Struct& s, const std::string& dotted_path);
// Whether `s` has a field at a dotted path.
bool hasField(const google::protobuf::Struct& s, const std::string& dotted_path);

// Per cluster listed by GET /clusters, how many hosts it lists.
std::map<std::string, int> clusterHosts(RemoraProcess& remora);

}  // namespace remora::testing
