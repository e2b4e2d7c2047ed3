#include "source/server/overload_config.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.pb.h"
#include "envoy/extensions/resource_monitors/fixed_heap/v3/fixed_heap.pb.h"
#include "remora/resource_monitors/v1/buffered_bytes.pb.h"
#include "source/config/duration_fields.h"
#include "source/config/field_path.h"

namespace remora::server {
namespace {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;
using config::keyPath;

constexpr char kListenerLimitPrefix[] = "envoy.resource_limits.listener.";
constexpr char kListenerLimitSuffix[] = ".connection_limit";
constexpr char kGlobalLimitKey[] = "overload.global_downstream_max_connections";

// Envoy reads a static layer as flat keys: {a: {b: 1}} and {"a.b": 1} both set "a.b".
void flatten(const google::protobuf::Struct& s, const std::string& prefix,
             absl::flat_hash_map<std::string, google::protobuf::Value>& out) {
  for (const auto& [key, value] : s.fields()) {
    std::string name = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
    if (value.has_struct_value()) {
      flatten(value.struct_value(), name, out);
    } else {
      out[name] = value;
    }
  }
}

absl::StatusOr<uint64_t> countValue(const google::protobuf::Value& v, const std::string& path) {
  double d = v.number_value();
  if (v.kind_case() == google::protobuf::Value::kStringValue) {
    char* end = nullptr;
    d = std::strtod(v.string_value().c_str(), &end);
    if (v.string_value().empty() || *end != '\0') {
      return invalidAt(path, absl::StrCat("'", v.string_value(), "' is not a number"));
    }
  } else if (v.kind_case() != google::protobuf::Value::kNumberValue) {
    return invalidAt(path, "must be a number");
  }
  if (!(d >= 0) || d > 9.0e18 || std::floor(d) != d) {
    return invalidAt(path, "must be a whole number of connections, 0 or more");
  }
  return static_cast<uint64_t>(d);
}

absl::Status parseRuntime(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                          OverloadConfig& out, config::ParseReport& report) {
  // Later layers override earlier ones; only static layers hold values at startup.
  absl::flat_hash_map<std::string, std::pair<google::protobuf::Value, std::string>> keys;
  const auto& layers = bootstrap.layered_runtime().layers();
  for (int i = 0; i < layers.size(); ++i) {
    if (!layers[i].has_static_layer()) continue;
    absl::flat_hash_map<std::string, google::protobuf::Value> flat;
    flatten(layers[i].static_layer(), "", flat);
    const std::string layer_path =
        fieldPath(indexPath("layered_runtime.layers", i), "static_layer");
    for (auto& [key, value] : flat) keys[key] = {std::move(value), keyPath(layer_path, key)};
  }
  for (const auto& [key, entry] : keys) {
    if (key == kGlobalLimitKey) {
      auto n = countValue(entry.first, entry.second);
      if (!n.ok()) return n.status();
      out.global_max_connections = *n;
    } else if (absl::StartsWith(key, kListenerLimitPrefix) &&
               absl::EndsWith(key, kListenerLimitSuffix) &&
               key.size() > sizeof(kListenerLimitPrefix) + sizeof(kListenerLimitSuffix) - 2) {
      auto n = countValue(entry.first, entry.second);
      if (!n.ok()) return n.status();
      const size_t begin = sizeof(kListenerLimitPrefix) - 1;
      const size_t len = key.size() - begin - (sizeof(kListenerLimitSuffix) - 1);
      out.listener_connection_limits[key.substr(begin, len)] = *n;
    } else {
      report.warnings.push_back(
          config::atPath(entry.second, "runtime key not supported by Remora, ignored"));
    }
  }
  return absl::OkStatus();
}

std::optional<OverloadActionKind> actionKind(const std::string& name) {
  if (name == "envoy.overload_actions.stop_accepting_requests") {
    return OverloadActionKind::kStopAcceptingRequests;
  }
  if (name == "envoy.overload_actions.disable_http_keepalive") {
    return OverloadActionKind::kDisableHttpKeepalive;
  }
  if (name == "envoy.overload_actions.stop_accepting_connections") {
    return OverloadActionKind::kStopAcceptingConnections;
  }
  if (name == "envoy.overload_actions.reject_incoming_connections") {
    return OverloadActionKind::kRejectIncomingConnections;
  }
  if (name == "envoy.overload_actions.reset_high_memory_stream") {
    return OverloadActionKind::kResetHighMemoryStream;
  }
  return std::nullopt;
}

absl::Status checkFraction(double v, const std::string& path) {
  if (!(v >= 0.0 && v <= 1.0)) return invalidAt(path, "must be between 0 and 1");
  return absl::OkStatus();
}

}  // namespace

std::optional<uint64_t> OverloadConfig::bufferedResetBytes() const {
  if (!max_buffered_bytes || !minimum_account_to_track_power_of_two) return std::nullopt;
  std::optional<double> point;
  for (const auto& a : actions) {
    if (a.kind != OverloadActionKind::kResetHighMemoryStream) continue;
    for (const auto& t : a.triggers) {
      if (t.monitor != OverloadMonitor::kBufferedBytes) continue;
      point = std::min(point.value_or(1.0), t.saturation_threshold);
    }
  }
  if (!point) return std::nullopt;
  return static_cast<uint64_t>(*point * static_cast<double>(*max_buffered_bytes));
}

absl::StatusOr<OverloadConfig> parseOverloadConfig(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, config::ParseReport& report) {
  OverloadConfig out;
  if (absl::Status s = parseRuntime(bootstrap, out, report); !s.ok()) return s;
  if (!bootstrap.has_overload_manager()) return out;
  const auto& om = bootstrap.overload_manager();
  const std::string root = "overload_manager";
  if (om.has_refresh_interval()) {
    if (absl::Status s = config::positiveMillis(
            om.refresh_interval(), fieldPath(root, "refresh_interval"), out.refresh_interval);
        !s.ok()) {
      return s;
    }
  }
  // Monitors Remora does not implement stay known by name, so that triggers naming them are
  // reported rather than refused.
  absl::flat_hash_set<std::string> monitors, unsupported_monitors;
  for (int i = 0; i < om.resource_monitors_size(); ++i) {
    const auto& m = om.resource_monitors(i);
    const std::string path = indexPath(fieldPath(root, "resource_monitors"), i);
    if (m.name().empty()) return invalidAt(fieldPath(path, "name"), "must not be empty");
    if (!monitors.insert(m.name()).second) {
      return invalidAt(fieldPath(path, "name"), absl::StrCat("duplicate monitor '", m.name(), "'"));
    }
    const std::string cpath = fieldPath(path, "typed_config");
    if (m.name() == kFixedHeapMonitor) {
      envoy::extensions::resource_monitors::fixed_heap::v3::FixedHeapConfig c;
      if (!m.typed_config().UnpackTo(&c)) return invalidAt(cpath, "cannot decode FixedHeapConfig");
      if (c.max_heap_size_bytes() == 0) {
        return invalidAt(fieldPath(cpath, "max_heap_size_bytes"), "must be greater than 0");
      }
      out.max_heap_size_bytes = c.max_heap_size_bytes();
    } else if (m.name() == kGlobalConnectionsMonitor) {
      envoy::extensions::resource_monitors::downstream_connections::v3::DownstreamConnectionsConfig
          c;
      if (!m.typed_config().UnpackTo(&c)) {
        return invalidAt(cpath, "cannot decode DownstreamConnectionsConfig");
      }
      if (c.max_active_downstream_connections() <= 0) {
        return invalidAt(fieldPath(cpath, "max_active_downstream_connections"),
                         "must be greater than 0");
      }
      out.global_max_connections = static_cast<uint64_t>(c.max_active_downstream_connections());
    } else if (m.name() == kBufferedBytesMonitor) {
      remora::resource_monitors::v1::BufferedBytesConfig c;
      if (!m.typed_config().UnpackTo(&c)) {
        return invalidAt(cpath, "cannot decode BufferedBytesConfig");
      }
      if (c.max_buffered_bytes() == 0) {
        return invalidAt(fieldPath(cpath, "max_buffered_bytes"), "must be greater than 0");
      }
      out.max_buffered_bytes = c.max_buffered_bytes();
    } else {
      unsupported_monitors.insert(m.name());
      report.warnings.push_back(config::atPath(
          path,
          absl::StrCat("resource monitor '", m.name(), "' not supported by Remora, ignored")));
    }
  }
  if (om.has_buffer_factory_config()) {
    const uint32_t p = om.buffer_factory_config().minimum_account_to_track_power_of_two();
    // Envoy's bounds: 1 KiB, and 2^56 so that the eighth class still fits in 64 bits.
    if (p < 10 || p > 56) {
      return invalidAt(
          fieldPath(root, "buffer_factory_config.minimum_account_to_track_power_of_two"),
          absl::StrCat(p, " is not between 10 and 56"));
    }
    out.minimum_account_to_track_power_of_two = p;
  }
  for (int i = 0; i < om.actions_size(); ++i) {
    const auto& a = om.actions(i);
    const std::string path = indexPath(fieldPath(root, "actions"), i);
    const auto kind = actionKind(a.name());
    if (!kind) {
      report.warnings.push_back(config::atPath(
          path, absl::StrCat("overload action '", a.name(), "' not supported by Remora, ignored")));
      continue;
    }
    if (a.triggers_size() == 0) {
      return invalidAt(fieldPath(path, "triggers"), "needs at least one trigger");
    }
    OverloadActionConfig action{a.name(), *kind, {}};
    for (int t = 0; t < a.triggers_size(); ++t) {
      const auto& trigger = a.triggers(t);
      const std::string tpath = indexPath(fieldPath(path, "triggers"), t);
      if (!monitors.contains(trigger.name())) {
        return invalidAt(fieldPath(tpath, "name"),
                         absl::StrCat("unknown resource monitor '", trigger.name(), "'"));
      }
      if (trigger.name() == kGlobalConnectionsMonitor) {
        return invalidAt(fieldPath(tpath, "name"),
                         "the downstream connections monitor is enforced as connections are "
                         "accepted and cannot trigger actions");
      }
      OverloadTrigger parsed{OverloadMonitor::kFixedHeap, 0, 0};
      if (trigger.has_threshold()) {
        const double v = trigger.threshold().value();
        if (absl::Status s = checkFraction(v, fieldPath(tpath, "threshold.value")); !s.ok()) {
          return s;
        }
        parsed.scaling_threshold = parsed.saturation_threshold = v;
      } else if (trigger.has_scaled()) {
        const auto& sc = trigger.scaled();
        for (auto [v, name] :
             {std::pair{sc.scaling_threshold(), "scaled.scaling_threshold"},
              std::pair{sc.saturation_threshold(), "scaled.saturation_threshold"}}) {
          if (absl::Status s = checkFraction(v, fieldPath(tpath, name)); !s.ok()) return s;
        }
        if (sc.scaling_threshold() >= sc.saturation_threshold()) {
          return invalidAt(fieldPath(tpath, "scaled"),
                           "scaling_threshold must be below saturation_threshold");
        }
        parsed.scaling_threshold = sc.scaling_threshold();
        parsed.saturation_threshold = sc.saturation_threshold();
      } else {
        return invalidAt(tpath, "needs a threshold or a scaled trigger");
      }
      if (unsupported_monitors.contains(trigger.name())) continue;
      parsed.monitor = trigger.name() == kBufferedBytesMonitor ? OverloadMonitor::kBufferedBytes
                                                               : OverloadMonitor::kFixedHeap;
      action.triggers.push_back(parsed);
    }
    if (action.triggers.empty()) continue;
    if (*kind == OverloadActionKind::kResetHighMemoryStream &&
        !out.minimum_account_to_track_power_of_two) {
      // Envoy accepts this and never resets anything; say so rather than stay silent.
      report.warnings.push_back(config::atPath(path,
                                               "reset_high_memory_stream resets nothing without "
                                               "overload_manager.buffer_factory_config"));
    }
    out.actions.push_back(std::move(action));
  }
  return out;
}

}  // namespace remora::server
