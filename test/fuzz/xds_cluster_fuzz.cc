// libFuzzer target: bytes of an envoy.config.cluster.v3.Cluster as CDS delivers them, decoded and
// built as XdsManager::onClusters does; an accepted cluster then takes an EDS update of its own
// load_assignment (config::withHosts), as an EDS cluster would. Any error status is fine; a
// crash, a leak, undefined behaviour or an error without a reason is not.
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "source/config/cluster_builder.h"
#include "test/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  remora::fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (remora::fuzz::namesSpecialFile(data, size)) return -1;
  envoy::config::cluster::v3::Cluster proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  remora::stats::Store store;
  remora::config::ParseReport report;
  auto built = remora::config::buildCluster(proto, "", store, report);
  remora::fuzz::checkRejection(built.status());
  if (!built.ok()) return 0;
  auto hosts = remora::config::buildHostSet(proto.load_assignment(), "load_assignment");
  remora::fuzz::checkRejection(hosts.status());
  if (hosts.ok()) (void)remora::config::withHosts(**built, *hosts);
  return 0;
}
