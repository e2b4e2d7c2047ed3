// The bootstrap's overload_manager and connection-limit runtime keys: what is taken, what is
// reported as not supported, and errors that name the field.
#include <catch2/catch.hpp>

#include "source/server/overload_config.h"

namespace remora::server {
namespace {

absl::StatusOr<OverloadConfig> parse(const std::string& yaml,
                                     config::ParseReport* report_out = nullptr) {
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  config::ParseReport report;
  absl::Status s = config::parseYaml(yaml, bootstrap, report);
  REQUIRE(s.ok());
  auto out = parseOverloadConfig(bootstrap, report);
  if (report_out != nullptr) *report_out = report;
  return out;
}

std::string errorOf(const std::string& yaml) {
  auto c = parse(yaml);
  REQUIRE_FALSE(c.ok());
  return std::string(c.status().message());
}

constexpr char kMonitors[] = R"(
overload_manager:
  refresh_interval: 0.25s
  resource_monitors:
  - name: envoy.resource_monitors.fixed_heap
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig
      max_heap_size_bytes: 1048576
  - name: envoy.resource_monitors.global_downstream_max_connections
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig
      max_active_downstream_connections: 100
)";

TEST_CASE("no overload_manager and no runtime: nothing is limited", "[overload]") {
  auto c = parse("node: { id: n }\n");
  REQUIRE(c.ok());
  CHECK_FALSE(c->hasHeapMonitor());
  CHECK_FALSE(c->global_max_connections.has_value());
  CHECK(c->actions.empty());
  CHECK(c->listener_connection_limits.empty());
  CHECK(c->refresh_interval == std::chrono::milliseconds(1000));
}

TEST_CASE("the fixed_heap and downstream connections monitors and threshold actions",
          "[overload]") {
  auto c = parse(std::string(kMonitors) + R"(
  actions:
  - name: envoy.overload_actions.disable_http_keepalive
    triggers: [{ name: envoy.resource_monitors.fixed_heap, threshold: { value: 0.8 } }]
  - name: envoy.overload_actions.stop_accepting_requests
    triggers:
    - name: envoy.resource_monitors.fixed_heap
      scaled: { scaling_threshold: 0.85, saturation_threshold: 0.95 }
)");
  REQUIRE(c.ok());
  CHECK(c->refresh_interval == std::chrono::milliseconds(250));
  CHECK(c->max_heap_size_bytes == 1048576u);
  CHECK(c->global_max_connections == 100u);
  REQUIRE(c->actions.size() == 2);
  CHECK(c->actions[0].kind == OverloadActionKind::kDisableHttpKeepalive);
  REQUIRE(c->actions[0].triggers.size() == 1);
  CHECK(c->actions[0].triggers[0].monitor == OverloadMonitor::kFixedHeap);
  CHECK(c->actions[0].triggers[0].scaling_threshold == 0.8);
  CHECK(c->actions[0].triggers[0].saturation_threshold == 0.8);
  // A scaled trigger applies these actions once saturated, as Envoy does.
  CHECK(c->actions[1].kind == OverloadActionKind::kStopAcceptingRequests);
  REQUIRE(c->actions[1].triggers.size() == 1);
  CHECK(c->actions[1].triggers[0].scaling_threshold == 0.85);
  CHECK(c->actions[1].triggers[0].saturation_threshold == 0.95);
}

TEST_CASE("runtime keys set the global and per-listener connection limits", "[overload]") {
  auto c = parse(R"(
layered_runtime:
  layers:
  - name: base
    static_layer:
      overload: { global_downstream_max_connections: 50 }
      envoy.resource_limits.listener.ingress.connection_limit: 10
      envoy.resource_limits.listener.other.connection_limit: 3
  - name: override
    static_layer:
      envoy:
        resource_limits:
          listener:
            ingress: { connection_limit: 20 }
)");
  REQUIRE(c.ok());
  CHECK(c->global_max_connections == 50u);
  CHECK(c->listener_connection_limits.at("ingress") == 20u);
  CHECK(c->listener_connection_limits.at("other") == 3u);
}

TEST_CASE("the downstream connections monitor wins over the runtime key", "[overload]") {
  auto c = parse(std::string(kMonitors) + R"(
layered_runtime:
  layers:
  - name: base
    static_layer: { overload.global_downstream_max_connections: 7 }
)");
  REQUIRE(c.ok());
  CHECK(c->global_max_connections == 100u);
}

TEST_CASE("unsupported monitors actions and runtime keys are warnings", "[overload]") {
  config::ParseReport report;
  auto c = parse(R"(
layered_runtime:
  layers:
  - name: base
    static_layer: { re2.max_program_size.error_level: 1000 }
overload_manager:
  resource_monitors:
  - name: envoy.resource_monitors.injected_resource
  actions:
  - name: envoy.overload_actions.shrink_heap
    triggers: [{ name: envoy.resource_monitors.injected_resource, threshold: { value: 0.9 } }]
  - name: envoy.overload_actions.stop_accepting_requests
    triggers: [{ name: envoy.resource_monitors.injected_resource, threshold: { value: 0.9 } }]
)",
                 &report);
  REQUIRE(c.ok());
  CHECK(c->actions.empty());
  REQUIRE(report.warnings.size() == 3);
  CHECK(report.warnings[0] ==
        "layered_runtime.layers[0].static_layer[\"re2.max_program_size.error_level\"]: runtime "
        "key not supported by Remora, ignored");
  CHECK(report.warnings[1] ==
        "overload_manager.resource_monitors[0]: resource monitor "
        "'envoy.resource_monitors.injected_resource' not supported by Remora, ignored");
  CHECK(report.warnings[2] ==
        "overload_manager.actions[0]: overload action 'envoy.overload_actions.shrink_heap' not "
        "supported by Remora, ignored");
}

TEST_CASE("bad overload settings are errors naming the field", "[overload]") {
  CHECK(errorOf(R"(
overload_manager:
  resource_monitors:
  - name: envoy.resource_monitors.global_downstream_max_connections
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig
)") == "overload_manager.resource_monitors[0].typed_config.max_active_downstream_connections: "
       "must be greater than 0");
  CHECK(errorOf(R"(
overload_manager:
  resource_monitors:
  - name: envoy.resource_monitors.fixed_heap
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig
)") == "overload_manager.resource_monitors[0].typed_config.max_heap_size_bytes: must be greater "
       "than 0");
  CHECK(errorOf(std::string(kMonitors) + R"(
  actions:
  - name: envoy.overload_actions.stop_accepting_requests
    triggers: [{ name: envoy.resource_monitors.nope, threshold: { value: 0.5 } }]
)") == "overload_manager.actions[0].triggers[0].name: unknown resource monitor "
       "'envoy.resource_monitors.nope'");
  CHECK(errorOf(std::string(kMonitors) + R"(
  actions:
  - name: envoy.overload_actions.stop_accepting_requests
    triggers: [{ name: envoy.resource_monitors.fixed_heap, threshold: { value: 1.5 } }]
)") == "overload_manager.actions[0].triggers[0].threshold.value: must be between 0 and 1");
  CHECK(errorOf(std::string(kMonitors) + R"(
  actions:
  - name: envoy.overload_actions.stop_accepting_requests
    triggers: [{ name: envoy.resource_monitors.global_downstream_max_connections, threshold: { value: 0.5 } }]
)")
            .starts_with("overload_manager.actions[0].triggers[0].name: the downstream connections "
                         "monitor is enforced"));
  CHECK(errorOf(std::string(kMonitors) + R"(
  actions:
  - name: envoy.overload_actions.stop_accepting_requests
)") == "overload_manager.actions[0].triggers: needs at least one trigger");
  CHECK(errorOf(std::string(kMonitors) + R"(
  - name: envoy.resource_monitors.fixed_heap
)") == "overload_manager.resource_monitors[2].name: duplicate monitor "
       "'envoy.resource_monitors.fixed_heap'");
  CHECK(errorOf(R"(
layered_runtime:
  layers:
  - name: base
    static_layer: { envoy.resource_limits.listener.x.connection_limit: -1 }
)") == "layered_runtime.layers[0].static_layer[\"envoy.resource_limits.listener.x."
       "connection_limit\"]: must be a whole number of connections, 0 or more");
  CHECK(errorOf(R"(
overload_manager:
  refresh_interval: 0s
)") == "overload_manager.refresh_interval: must be greater than 0s");
}

constexpr char kBuffered[] = R"(
overload_manager:
  refresh_interval: 0.1s
  buffer_factory_config: { minimum_account_to_track_power_of_two: 20 }
  resource_monitors:
  - name: remora.resource_monitors.buffered_bytes
    typed_config:
      "@type": type.googleapis.com/remora.resource_monitors.v1.BufferedBytesConfig
      max_buffered_bytes: 67108864
  - name: envoy.resource_monitors.fixed_heap
    typed_config:
      "@type": type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig
      max_heap_size_bytes: 1073741824
)";

TEST_CASE("buffered bytes, buffer accounting and reset_high_memory_stream with two triggers",
          "[overload]") {
  config::ParseReport report;
  auto c = parse(std::string(kBuffered) + R"(
  actions:
  - name: envoy.overload_actions.reset_high_memory_stream
    triggers:
    - name: remora.resource_monitors.buffered_bytes
      scaled: { scaling_threshold: 0.8, saturation_threshold: 0.95 }
    - name: envoy.resource_monitors.fixed_heap
      threshold: { value: 0.99 }
)",
                 &report);
  REQUIRE(c.ok());
  CHECK(report.warnings.empty());
  CHECK(c->max_buffered_bytes == 64u << 20);
  CHECK(c->minimum_account_to_track_power_of_two == 20u);
  REQUIRE(c->actions.size() == 1);
  const auto& a = c->actions[0];
  CHECK(a.kind == OverloadActionKind::kResetHighMemoryStream);
  REQUIRE(a.triggers.size() == 2);
  CHECK(a.triggers[0].monitor == OverloadMonitor::kBufferedBytes);
  CHECK(a.triggers[1].monitor == OverloadMonitor::kFixedHeap);
  // Envoy's scaled value: 0 up to the scaling threshold, then linear to 1 at saturation.
  CHECK(a.triggers[0].value(0.5) == 0.0);
  CHECK(a.triggers[0].value(0.875) == Approx(0.5));
  CHECK(a.triggers[0].value(0.95) == 1.0);
  CHECK(a.triggers[1].value(0.98) == 0.0);
  CHECK(a.triggers[1].value(0.99) == 1.0);
  // Workers enforce the buffered_bytes saturation point themselves, as bytes arrive.
  CHECK(c->bufferedResetBytes() == static_cast<uint64_t>(0.95 * (64 << 20)));
}

TEST_CASE("reset_high_memory_stream without buffer accounting is accepted with a warning",
          "[overload]") {
  config::ParseReport report;
  auto c = parse(std::string(kMonitors) + R"(
  actions:
  - name: envoy.overload_actions.reset_high_memory_stream
    triggers: [{ name: envoy.resource_monitors.fixed_heap, threshold: { value: 0.9 } }]
)",
                 &report);
  REQUIRE(c.ok());
  CHECK_FALSE(c->minimum_account_to_track_power_of_two.has_value());
  CHECK_FALSE(c->bufferedResetBytes().has_value());
  REQUIRE(report.warnings.size() == 1);
  CHECK(report.warnings[0] ==
        "overload_manager.actions[0]: reset_high_memory_stream resets nothing without "
        "overload_manager.buffer_factory_config");
}

TEST_CASE("bad buffer accounting values name their field", "[overload]") {
  CHECK(errorOf(R"(
overload_manager:
  buffer_factory_config: { minimum_account_to_track_power_of_two: 9 }
)") == "overload_manager.buffer_factory_config.minimum_account_to_track_power_of_two: 9 is not "
       "between 10 and 56");
  CHECK(errorOf(R"(
overload_manager:
  buffer_factory_config: { minimum_account_to_track_power_of_two: 57 }
)") == "overload_manager.buffer_factory_config.minimum_account_to_track_power_of_two: 57 is not "
       "between 10 and 56");
  CHECK(errorOf(R"(
overload_manager:
  resource_monitors:
  - name: remora.resource_monitors.buffered_bytes
    typed_config:
      "@type": type.googleapis.com/remora.resource_monitors.v1.BufferedBytesConfig
)") == "overload_manager.resource_monitors[0].typed_config.max_buffered_bytes: must be greater "
       "than 0");
}

}  // namespace
}  // namespace remora::server
