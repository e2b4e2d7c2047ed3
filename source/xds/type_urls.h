// The type URLs of the xDS resources Remora subscribes to.
#pragma once

#include "absl/strings/string_view.h"

namespace remora::xds {

inline constexpr absl::string_view kListenerType =
    "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr absl::string_view kRouteConfigurationType =
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr absl::string_view kClusterType =
    "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr absl::string_view kClusterLoadAssignmentType =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
// A SotW response may wrap each resource in this envelope (it carries name, version and ttl).
inline constexpr absl::string_view kResourceWrapperType =
    "type.googleapis.com/envoy.service.discovery.v3.Resource";

}  // namespace remora::xds
