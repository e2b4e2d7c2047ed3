// libFuzzer target: a bootstrap as YAML or JSON text (the --config-yaml path of loadBootstrap),
// then the first snapshot built from its static_resources, as the server does at start. Any
// error status is fine; a crash, a leak, undefined behaviour or an error without a reason is not.
#include <string>

#include "source/config/bootstrap_loader.h"
#include "source/config/snapshot_builder.h"
#include "test/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  remora::fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The file-reading half of loadBootstrap takes its text from the same parser.
  if (size == 0 || remora::fuzz::namesSpecialFile(data, size)) return -1;
  remora::config::BootstrapSource source;
  source.yaml.assign(reinterpret_cast<const char*>(data), size);
  auto loaded = remora::config::loadBootstrap(source);
  remora::fuzz::checkRejection(loaded.status());
  if (!loaded.ok()) return 0;
  remora::stats::Store store;
  auto snapshot = remora::config::buildStaticSnapshot(loaded->bootstrap, store, loaded->report);
  remora::fuzz::checkRejection(snapshot.status());
  return 0;
}
