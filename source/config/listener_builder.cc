#include "source/config/listener_builder.h"

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "source/config/address_builder.h"
#include "source/config/field_path.h"
#include "source/http/conn_manager_builder.h"
#include "source/tcp_proxy/tcp_proxy_builder.h"

namespace remora::config {

namespace {

constexpr char kTcpProxyType[] = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
constexpr char kHcmType[] =
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

std::string typeName(const google::protobuf::Any& any) {
  const auto& url = any.type_url();
  return url.substr(url.rfind('/') + 1);
}

absl::StatusOr<FilterChainConfig> buildFilterChain(
    const envoy::config::listener::v3::FilterChain& proto, const std::string& path,
    stats::Store& store, ParseReport& report) {
  FilterChainConfig chain;
  chain.name = proto.name();
  if (proto.has_transport_socket()) {
    return invalidAt(fieldPath(path, "transport_socket"),
                     "downstream TLS is not supported yet; refusing to serve plaintext instead");
  }
  const std::string fpath = fieldPath(path, "filters");
  if (proto.filters().empty()) return invalidAt(fpath, "at least one network filter is required");
  for (int i = 0; i < proto.filters_size(); ++i) {
    const auto& filter = proto.filters(i);
    const std::string ipath = indexPath(fpath, i);
    if (!filter.has_typed_config()) {
      return invalidAt(fieldPath(ipath, "typed_config"),
                       absl::StrCat("required (filter '", filter.name(), "')"));
    }
    const std::string type = typeName(filter.typed_config());
    const std::string tpath = fieldPath(ipath, "typed_config");
    const bool last = i + 1 == proto.filters_size();
    if (type == kTcpProxyType) {
      if (!last) return invalidAt(ipath, "tcp_proxy is a terminal filter and must be last");
      envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
      if (!filter.typed_config().UnpackTo(&tcp)) return invalidAt(tpath, "cannot decode TcpProxy");
      auto factory = tcp_proxy::buildTcpProxy(tcp, tpath, store);
      if (!factory.ok()) return factory.status();
      chain.terminal_filter = *std::move(factory);
    } else if (type == kHcmType) {
      if (!last) {
        return invalidAt(ipath, "http_connection_manager is a terminal filter and must be last");
      }
      envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
      if (!filter.typed_config().UnpackTo(&hcm)) {
        return invalidAt(tpath, "cannot decode HttpConnectionManager");
      }
      auto factory = http::buildConnManager(hcm, tpath, store, report);
      if (!factory.ok()) return factory.status();
      chain.terminal_filter = *std::move(factory);
    } else {
      return invalidAt(tpath, absl::StrCat("unsupported network filter type '", type, "'"));
    }
  }
  return chain;
}

}  // namespace

absl::StatusOr<ListenerConfigConstSharedPtr> buildListener(
    const envoy::config::listener::v3::Listener& proto, const std::string& path,
    stats::Store& store, ParseReport& report) {
  auto listener = std::make_shared<ListenerConfig>();
  listener->name = proto.name();
  if (!proto.has_address()) return invalidAt(fieldPath(path, "address"), "required");
  auto address = buildAddress(proto.address(), fieldPath(path, "address"), PortRule::kAnyPort);
  if (!address.ok()) return address.status();
  listener->address = *std::move(address);
  if (listener->name.empty()) listener->name = listener->address.asString();
  listener->stat_prefix = proto.stat_prefix();
  if (proto.has_per_connection_buffer_limit_bytes()) {
    if (proto.per_connection_buffer_limit_bytes().value() == 0) {
      return invalidAt(fieldPath(path, "per_connection_buffer_limit_bytes"), "must be at least 1");
    }
    listener->per_connection_buffer_limit_bytes = proto.per_connection_buffer_limit_bytes().value();
  }
  if (proto.has_tcp_backlog_size()) {
    if (proto.tcp_backlog_size().value() == 0) {
      return invalidAt(fieldPath(path, "tcp_backlog_size"), "must be at least 1");
    }
    listener->tcp_backlog_size = proto.tcp_backlog_size().value();
  }
  listener->use_original_dst = proto.use_original_dst().value();
  for (int i = 0; i < proto.listener_filters_size(); ++i) {
    const auto& filter = proto.listener_filters(i);
    const bool original_dst =
        filter.name() == "envoy.filters.listener.original_dst" ||
        (filter.has_typed_config() &&
         filter.typed_config().type_url() ==
             "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst");
    if (original_dst) {
      listener->use_original_dst = true;
      continue;
    }
    // Istio's listeners carry tls_inspector and http_inspector: refusing them would refuse
    // the listener; they only feed filter chain matching, which is not implemented yet.
    report.warnings.push_back(
        atPath(indexPath(fieldPath(path, "listener_filters"), i),
               absl::StrCat("listener filter '", filter.name(), "' is not supported, ignored")));
  }
  if (proto.filter_chains().empty()) {
    return invalidAt(fieldPath(path, "filter_chains"), "at least one filter chain is required");
  }
  if (proto.filter_chains_size() > 1) {
    report.warnings.push_back(
        atPath(fieldPath(path, "filter_chains"),
               "filter chain matching is not supported yet; the first chain serves every "
               "connection"));
  }
  for (int i = 0; i < proto.filter_chains_size(); ++i) {
    auto chain = buildFilterChain(proto.filter_chains(i),
                                  indexPath(fieldPath(path, "filter_chains"), i), store, report);
    if (!chain.ok()) return chain.status();
    listener->filter_chains.push_back(*std::move(chain));
  }
  return listener;
}

}  // namespace remora::config
