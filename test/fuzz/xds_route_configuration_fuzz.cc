// libFuzzer target: bytes of an envoy.config.route.v3.RouteConfiguration as RDS delivers them,
// decoded and compiled as XdsManager::onRoutes does. Any error status is fine; a crash, a leak,
// undefined behaviour or an error without a reason is not. Matching against such tables is
// route_match_fuzz's job, where requests and routes are drawn from alphabets that meet.
#include "envoy/config/route/v3/route.pb.h"
#include "source/router/route_table.h"
#include "test/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  remora::fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (remora::fuzz::namesSpecialFile(data, size)) return -1;
  envoy::config::route::v3::RouteConfiguration proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto table = remora::router::RouteTable::compile(proto, "");
  remora::fuzz::checkRejection(table.status());
  if (table.ok()) (void)(*table)->referencedClusters();
  return 0;
}
