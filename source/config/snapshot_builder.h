// Builds the first snapshot from bootstrap static_resources, checking what only the whole config
// can tell: duplicate names and addresses, references to clusters that do not exist.
#pragma once

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "source/config/snapshot.h"
#include "source/config/yaml_to_proto.h"
#include "source/stats/store.h"

namespace remora::config {

absl::StatusOr<SnapshotConstSharedPtr> buildStaticSnapshot(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, stats::Store& store,
    ParseReport& report);

}  // namespace remora::config
