// envoy.config.listener.v3.Listener → config::ListenerConfig with its filter chains compiled.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "source/config/snapshot.h"
#include "source/config/yaml_to_proto.h"
#include "source/stats/store.h"

namespace remora::config {

// `path` names the listener, e.g. "static_resources.listeners[0]".
absl::StatusOr<ListenerConfigConstSharedPtr> buildListener(
    const envoy::config::listener::v3::Listener& proto, const std::string& path,
    stats::Store& store, ParseReport& report);

}  // namespace remora::config
