// libFuzzer target: bytes of an envoy.config.listener.v3.Listener as LDS delivers them, decoded
// and built as XdsManager::onListeners does. Any error status is fine; a crash, a leak, undefined
// behaviour or an error without a reason is not.
#include "envoy/config/listener/v3/listener.pb.h"
#include "source/config/listener_builder.h"
#include "test/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  remora::fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (remora::fuzz::namesSpecialFile(data, size)) return -1;
  envoy::config::listener::v3::Listener proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  remora::stats::Store store;
  remora::config::ParseReport report;
  auto built = remora::config::buildListener(proto, "", store, report);
  remora::fuzz::checkRejection(built.status());
  if (built.ok()) (void)(*built)->address.asString();
  return 0;
}
