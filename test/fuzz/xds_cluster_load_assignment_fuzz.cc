// libFuzzer target: bytes of an envoy.config.endpoint.v3.ClusterLoadAssignment as EDS delivers
// them, decoded and built as XdsManager::onEndpoints does. Any error status is fine; a crash, a
// leak, undefined behaviour or an error without a reason is not.
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "source/config/cluster_builder.h"
#include "test/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  remora::fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (remora::fuzz::namesSpecialFile(data, size)) return -1;
  envoy::config::endpoint::v3::ClusterLoadAssignment proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto hosts = remora::config::buildHostSet(proto, "");
  remora::fuzz::checkRejection(hosts.status());
  return 0;
}
