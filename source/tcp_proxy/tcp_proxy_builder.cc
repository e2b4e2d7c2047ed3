#include "source/tcp_proxy/tcp_proxy_builder.h"

#include "google/protobuf/util/time_util.h"
#include "source/config/field_path.h"

namespace remora::tcp_proxy {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;
using TcpProxyProto = envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy;

absl::StatusOr<std::shared_ptr<const TcpProxyFactory>> buildTcpProxy(const TcpProxyProto& proto,
                                                                     const std::string& path,
                                                                     stats::Store& store) {
  TcpProxyConfig config;
  if (proto.stat_prefix().empty()) return invalidAt(fieldPath(path, "stat_prefix"), "required");
  config.stat_prefix = proto.stat_prefix();
  switch (proto.cluster_specifier_case()) {
    case TcpProxyProto::kCluster:
      if (proto.cluster().empty())
        return invalidAt(fieldPath(path, "cluster"), "must not be empty");
      config.clusters.push_back({proto.cluster(), 1});
      config.total_weight = 1;
      break;
    case TcpProxyProto::kWeightedClusters: {
      const std::string wpath = fieldPath(fieldPath(path, "weighted_clusters"), "clusters");
      const auto& clusters = proto.weighted_clusters().clusters();
      if (clusters.empty()) return invalidAt(wpath, "at least one cluster is required");
      for (int i = 0; i < clusters.size(); ++i) {
        if (clusters[i].name().empty()) {
          return invalidAt(fieldPath(indexPath(wpath, i), "name"), "required");
        }
        if (clusters[i].weight() == 0) {
          return invalidAt(fieldPath(indexPath(wpath, i), "weight"), "must be at least 1");
        }
        config.clusters.push_back({clusters[i].name(), clusters[i].weight()});
        config.total_weight += clusters[i].weight();
      }
      break;
    }
    case TcpProxyProto::CLUSTER_SPECIFIER_NOT_SET:
      return invalidAt(path, "one of cluster or weighted_clusters is required");
  }
  if (proto.has_idle_timeout()) {
    const int64_t ms =
        google::protobuf::util::TimeUtil::DurationToMilliseconds(proto.idle_timeout());
    if (ms < 0) return invalidAt(fieldPath(path, "idle_timeout"), "must not be negative");
    config.idle_timeout = std::chrono::milliseconds(ms);
  }
  config.stats = std::make_shared<TcpProxyStats>(store, config.stat_prefix);
  return std::make_shared<const TcpProxyFactory>(std::move(config));
}

}  // namespace remora::tcp_proxy
