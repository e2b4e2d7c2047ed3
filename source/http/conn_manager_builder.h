// envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager → the
// connection manager's compiled config and network filter factory.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "source/config/yaml_to_proto.h"
#include "source/http/conn_manager.h"
#include "source/stats/store.h"

namespace envoy::extensions::filters::network::http_connection_manager::v3 {
class HttpConnectionManager;
}

namespace remora::accesslog {
class AccessLogFiles;
}

namespace remora::http {

// One set of access log files for the whole process: every config version appends to the same
// open files, and main() flushes them at exit.
accesslog::AccessLogFiles& processAccessLogFiles();

// `path` names the typed_config, e.g. "static_resources.listeners[0].filter_chains[0]
// .filters[0].typed_config". Unsupported-but-harmless settings become warnings in `report`.
absl::StatusOr<std::shared_ptr<const ConnManagerFactory>> buildConnManager(
    const envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager&
        proto,
    const std::string& path, stats::Store& store, config::ParseReport& report);

}  // namespace remora::http
