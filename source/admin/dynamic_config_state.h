// What the xDS side of the server shows through the admin endpoint: every dynamic resource with
// the version it came with and when, its lifecycle state, and the resources last rejected with
// why. Filled on the main thread, where admin handlers run.
#pragma once

#include <string>
#include <vector>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace remora::admin {

struct DynamicResourceInfo {
  std::string name;
  std::string version_info;
  google::protobuf::Timestamp last_updated;
  google::protobuf::Any resource;  // The resource as received (a Listener, Cluster, ...).
};

// The last rejected update of one resource (envoy.admin.v3.UpdateFailureState).
struct ResourceErrorInfo {
  std::string name;
  std::string details;       // The error_detail sent in the NACK.
  std::string version_info;  // The version that was rejected.
  google::protobuf::Timestamp last_update_attempt;
  google::protobuf::Any failed_configuration;
};

struct DynamicConfigState {
  std::string lds_version_info;  // Of the last accepted LDS / CDS update.
  std::string cds_version_info;
  std::vector<DynamicResourceInfo> active_listeners;
  std::vector<DynamicResourceInfo> warming_listeners;
  std::vector<DynamicResourceInfo> draining_listeners;
  std::vector<DynamicResourceInfo> active_clusters;
  std::vector<DynamicResourceInfo> warming_clusters;
  std::vector<DynamicResourceInfo> route_configs;
  std::vector<DynamicResourceInfo> endpoint_configs;  // ClusterLoadAssignments
  std::vector<ResourceErrorInfo> listener_errors;
  std::vector<ResourceErrorInfo> cluster_errors;
  std::vector<ResourceErrorInfo> route_errors;
  std::vector<ResourceErrorInfo> endpoint_errors;
};

// One cluster as GET /clusters lists it.
struct ClusterHostInfo {
  std::string address;  // "127.0.0.1:8080" or a pipe path.
  uint32_t weight = 1;
  uint32_t priority = 0;
  std::string region, zone, sub_zone;
  // envoy.config.core.v3.HealthStatus name as EDS gave it: "UNKNOWN", "HEALTHY", "DEGRADED"...
  std::string eds_health_status = "UNKNOWN";
  bool failed_active_health_check = false;
  bool failed_outlier_check = false;
};
struct ClusterInfo {
  std::string name;
  bool added_via_api = false;
  std::vector<ClusterHostInfo> hosts;
};

}  // namespace remora::admin
