#!/usr/bin/env bash
# Writes the generated seed corpora (the others are hand-written): for the xDS fuzz targets,
# realistic resources in protobuf text format encoded to the binary form a control plane sends
# (protoc --encode with the protos of proto/); for route_match, fixed pseudo-random byte strings
# of a few sizes, which route_match_fuzz.cc reads as tables of 1 to 4 virtual hosts. The files
# are checked in; run this again after changing a resource below.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
corpus="$top/test/fuzz/corpus"
protos=$(cd "$top/proto" && find envoy -name '*.proto' | sort)

# seed TARGET NAME MESSAGE_TYPE < text
seed() {
  mkdir -p "$corpus/$1"
  (cd "$top/proto" && protoc -I. --encode="$3" $protos) >"$corpus/$1/$2.bin"
}

L=envoy.config.listener.v3.Listener
HCM=type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
ROUTER=type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
TCP=type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy

seed xds_listener http_rds $L <<PB
name: "ingress_http"
address { socket_address { address: "0.0.0.0" port_value: 8080 } }
filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
  [$HCM] {
    stat_prefix: "ingress" codec_type: AUTO
    rds { route_config_name: "routes" config_source { ads {} resource_api_version: V3 } }
    http_filters { name: "envoy.filters.http.router" typed_config { [$ROUTER] {} } }
  } } } }
PB
seed xds_listener http_inline_routes $L <<PB
name: "inline"
address { socket_address { address: "127.0.0.1" port_value: 10001 } }
per_connection_buffer_limit_bytes { value: 32768 }
filter_chains { filters { name: "envoy.filters.network.http_connection_manager" typed_config {
  [$HCM] {
    stat_prefix: "inline" use_remote_address { value: true } xff_num_trusted_hops: 1
    stream_idle_timeout { seconds: 300 } request_timeout { seconds: 10 }
    common_http_protocol_options { idle_timeout { seconds: 60 } max_headers_count { value: 50 } }
    route_config { name: "local" virtual_hosts {
      name: "all" domains: "*"
      routes { match { prefix: "/api/" case_sensitive { value: false } }
               route { cluster: "api" timeout { seconds: 3 } prefix_rewrite: "/" } }
      routes { match { path: "/" } direct_response { status: 200 body { inline_string: "hi" } } }
    } }
    http_filters { name: "envoy.filters.http.router" typed_config { [$ROUTER] {} } }
  } } } }
PB
seed xds_listener tcp_sni_chains $L <<PB
name: "tls_passthrough"
address { socket_address { address: "::" port_value: 8443 ipv4_compat: true } }
listener_filters { name: "envoy.filters.listener.tls_inspector" typed_config {
  [type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector] {} } }
filter_chains {
  filter_chain_match { server_names: "a.example.com" server_names: "*.b.example.com" }
  filters { name: "envoy.filters.network.tcp_proxy" typed_config {
    [$TCP] { stat_prefix: "a" cluster: "a" idle_timeout { seconds: 30 } } } }
}
filter_chains {
  filter_chain_match { destination_port { value: 8443 } prefix_ranges { address_prefix: "10.0.0.0" prefix_len { value: 8 } } }
  filters { name: "envoy.filters.network.tcp_proxy" typed_config {
    [$TCP] { stat_prefix: "b" weighted_clusters { clusters { name: "b1" weight: 1 } clusters { name: "b2" weight: 2 } } } } }
}
PB
seed xds_listener pipe_original_dst $L <<PB
name: "outbound"
address { pipe { path: "/tmp/remora-fuzz.sock" mode: 420 } }
use_original_dst { value: true }
filter_chains { filters { name: "envoy.filters.network.tcp_proxy" typed_config { [$TCP] { stat_prefix: "o" cluster: "passthrough" } } } }
PB

C=envoy.config.cluster.v3.Cluster
seed xds_cluster eds_round_robin $C <<PB
name: "app-v1" type: EDS
eds_cluster_config { eds_config { ads {} resource_api_version: V3 } }
connect_timeout { nanos: 250000000 } lb_policy: ROUND_ROBIN
PB
seed xds_cluster static_ring_hash $C <<PB
name: "cache" type: STATIC lb_policy: RING_HASH
ring_hash_lb_config { minimum_ring_size { value: 64 } maximum_ring_size { value: 1024 } }
circuit_breakers { thresholds { max_connections { value: 100 } max_pending_requests { value: 10 } max_retries { value: 3 } } }
outlier_detection { consecutive_5xx { value: 3 } interval { seconds: 5 } base_ejection_time { seconds: 30 } }
load_assignment { cluster_name: "cache" endpoints {
  locality { region: "r" zone: "z1" } load_balancing_weight { value: 2 }
  lb_endpoints { endpoint { address { socket_address { address: "10.0.0.1" port_value: 6379 } } } load_balancing_weight { value: 3 } }
  lb_endpoints { endpoint { address { socket_address { address: "10.0.0.2" port_value: 6379 } } } health_status: DRAINING }
} }
PB
seed xds_cluster strict_dns_h2 $C <<PB
name: "payments" type: STRICT_DNS dns_lookup_family: V4_ONLY dns_refresh_rate { seconds: 10 }
lb_policy: LEAST_REQUEST least_request_lb_config { choice_count { value: 3 } }
typed_extension_protocol_options { key: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" value {
  [type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions] { explicit_http_config { http2_protocol_options {} } } } }
health_checks { timeout { seconds: 1 } interval { seconds: 5 } unhealthy_threshold { value: 2 } healthy_threshold { value: 1 }
  http_health_check { path: "/healthz" } }
load_assignment { cluster_name: "payments" endpoints { lb_endpoints { endpoint {
  address { socket_address { address: "payments.internal" port_value: 443 } } } } } }
PB
seed xds_cluster original_dst $C <<PB
name: "passthrough" type: ORIGINAL_DST lb_policy: CLUSTER_PROVIDED
original_dst_lb_config { use_http_header: true }
cleanup_interval { seconds: 5 }
PB

E=envoy.config.endpoint.v3.ClusterLoadAssignment
seed xds_cluster_load_assignment two_hosts $E <<PB
cluster_name: "app-v1"
endpoints { lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: 8001 } } } }
            lb_endpoints { endpoint { address { socket_address { address: "::1" port_value: 8002 } } hostname: "b.local" } } }
PB
seed xds_cluster_load_assignment localities_priorities $E <<PB
cluster_name: "app"
endpoints { locality { region: "eu" zone: "a" } load_balancing_weight { value: 3 } priority: 0
  lb_endpoints { endpoint { address { socket_address { address: "10.1.0.1" port_value: 80 } } } health_status: HEALTHY load_balancing_weight { value: 5 } }
  lb_endpoints { endpoint { address { socket_address { address: "10.1.0.2" port_value: 80 } } } health_status: UNHEALTHY } }
endpoints { locality { region: "us" zone: "b" } priority: 1
  lb_endpoints { endpoint { address { socket_address { address: "10.2.0.1" port_value: 80 } } } } }
policy { overprovisioning_factor { value: 140 } drop_overloads { category: "throttle" drop_percentage { numerator: 5 denominator: HUNDRED } } }
PB
seed xds_cluster_load_assignment pipe_endpoint $E <<PB
cluster_name: "unix" endpoints { lb_endpoints { endpoint { address { pipe { path: "/run/app.sock" } } } } }
PB

R=envoy.config.route.v3.RouteConfiguration
seed xds_route_configuration canary $R <<PB
name: "demo_routes"
virtual_hosts { name: "app" domains: "*"
  routes { match { prefix: "/" } route { weighted_clusters { clusters { name: "app-v1" weight { value: 90 } } clusters { name: "app-v2" weight { value: 10 } } } } } }
PB
seed xds_route_configuration many_matchers $R <<PB
name: "api" most_specific_header_mutations_wins: true ignore_port_in_host_matching: true
request_headers_to_add { header { key: "x-route" value: "%REQ(:path)%" } }
virtual_hosts { name: "api" domains: "api.example.com" domains: "*.api.example.com" domains: "api.*"
  retry_policy { retry_on: "5xx,connect-failure" num_retries { value: 2 } per_try_timeout { seconds: 1 } }
  routes { name: "grpc" match { prefix: "/pkg.Service/" grpc {} } route { cluster: "grpc" timeout {} } }
  routes { match { safe_regex { regex: "/v[0-9]+/users/([^/]+)" } headers { name: "x-tenant" string_match { prefix: "t-" ignore_case: true } } }
           route { cluster: "users" regex_rewrite { pattern { regex: "/v[0-9]+/users/([^/]+)" } substitution: "/users/\\\\1" } } }
  routes { match { path_separated_prefix: "/admin" query_parameters { name: "debug" present_match: true } }
           route { cluster_header: "x-cluster" cluster_not_found_response_code: NOT_FOUND } }
  routes { match { prefix: "/old" headers { name: ":method" string_match { exact: "GET" } invert_match: true } }
           redirect { path_redirect: "/new" response_code: PERMANENT_REDIRECT strip_query: true } }
  routes { match { prefix: "/h" headers { name: "x-n" range_match { start: 1 end: 10 } } }
           route { cluster: "hashed" hash_policy { header { header_name: "x-user" } } hash_policy { connection_properties { source_ip: true } terminal: true } } }
  routes { match { connect_matcher {} } route { cluster: "tunnel" upgrade_configs { upgrade_type: "CONNECT" } } }
}
virtual_hosts { name: "www" domains: "www.example.com" domains: "example.com:8080"
  response_headers_to_add { header { key: "strict-transport-security" value: "max-age=31536000" } }
  routes { match { prefix: "/" } redirect { https_redirect: true host_redirect: "secure.example.com" port_redirect: 8443 } } }
PB

# route_match reads its decisions from the input's end and its choices from FuzzedDataProvider;
# any bytes make a table. Sizes from one small virtual host to several hosts of 16+ routes.
mkdir -p "$corpus/route_match"
python3 - "$corpus/route_match" <<'PY'
import random, sys
for name, size, seed in [("small", 48, 1), ("medium", 300, 2), ("large", 1500, 3),
                         ("indexed", 3000, 4), ("zeros", 512, None), ("ones", 512, None)]:
    if seed is None:
        data = bytes([0 if name == "zeros" else 0xFF]) * size
    else:
        data = random.Random(seed).randbytes(size)
    open(f"{sys.argv[1]}/{name}.bin", "wb").write(data)
PY
