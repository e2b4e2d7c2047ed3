// ServerInfo JSON, including a best-effort reading of Envoy's flags back out of the command line.
#include "source/admin/server_info.h"

#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "source/admin/json_escape.h"

namespace remora::admin {
namespace {

// How a flag's value is written in the proto's JSON mapping.
enum class Kind {
  kBool,       // Presence flag: true.
  kString,     //
  kUint32,     // Number.
  kUint64,     // Quoted decimal, as proto3 JSON writes 64-bit integers.
  kSeconds,    // google.protobuf.Duration from whole seconds: "600s".
  kMillis,     // Duration from milliseconds: "0.010s".
  kEnum,       // Mapped through Option::enum_values.
  kList,       // Repeated string, one value per occurrence.
  kCommaList,  // Repeated string from one comma-separated value.
};

// absl::string_view, not std::string_view: Debian's abseil does not alias the two, and the flag
// text goes through absl's splitting and number parsing.
struct Option {
  absl::string_view field;
  Kind kind;
  absl::string_view long_flag;
  absl::string_view short_flag = {};
  std::vector<std::pair<absl::string_view, absl::string_view>> enum_values = {};
};

std::string quoteJson(absl::string_view s) {
  return jsonString(std::string_view(s.data(), s.size()));
}

// In CommandLineOptions field order, so the JSON reads like Envoy's.
const std::vector<Option>& options() {
  static const auto* kOptions = new std::vector<Option>{
      {"base_id", Kind::kUint64, "--base-id"},
      {"use_dynamic_base_id", Kind::kBool, "--use-dynamic-base-id"},
      {"base_id_path", Kind::kString, "--base-id-path"},
      {"concurrency", Kind::kUint32, "--concurrency"},
      {"config_path", Kind::kString, "--config-path", "-c"},
      {"config_yaml", Kind::kString, "--config-yaml"},
      {"allow_unknown_static_fields", Kind::kBool, "--allow-unknown-static-fields"},
      {"reject_unknown_dynamic_fields", Kind::kBool, "--reject-unknown-dynamic-fields"},
      {"ignore_unknown_dynamic_fields", Kind::kBool, "--ignore-unknown-dynamic-fields"},
      {"admin_address_path", Kind::kString, "--admin-address-path"},
      {"local_address_ip_version",
       Kind::kEnum,
       "--local-address-ip-version",
       {},
       {{"v4", "v4"}, {"v6", "v6"}}},
      {"log_level", Kind::kString, "--log-level", "-l"},
      {"component_log_level", Kind::kString, "--component-log-level"},
      {"log_format", Kind::kString, "--log-format"},
      {"log_format_escaped", Kind::kBool, "--log-format-escaped"},
      {"log_path", Kind::kString, "--log-path"},
      {"service_cluster", Kind::kString, "--service-cluster"},
      {"service_node", Kind::kString, "--service-node"},
      {"service_zone", Kind::kString, "--service-zone"},
      {"drain_strategy",
       Kind::kEnum,
       "--drain-strategy",
       {},
       {{"gradual", "Gradual"}, {"immediate", "Immediate"}}},
      {"file_flush_interval", Kind::kMillis, "--file-flush-interval-msec"},
      {"drain_time", Kind::kSeconds, "--drain-time-s"},
      {"parent_shutdown_time", Kind::kSeconds, "--parent-shutdown-time-s"},
      {"mode",
       Kind::kEnum,
       "--mode",
       {},
       {{"serve", "Serve"}, {"validate", "Validate"}, {"init_only", "InitOnly"}}},
      {"disable_hot_restart", Kind::kBool, "--disable-hot-restart"},
      {"enable_mutex_tracing", Kind::kBool, "--enable-mutex-tracing"},
      {"restart_epoch", Kind::kUint32, "--restart-epoch"},
      {"cpuset_threads", Kind::kBool, "--cpuset-threads"},
      {"disabled_extensions", Kind::kCommaList, "--disable-extensions"},
      {"enable_fine_grain_logging", Kind::kBool, "--enable-fine-grain-logging"},
      {"socket_path", Kind::kString, "--socket-path"},
      {"enable_core_dump", Kind::kBool, "--enable-core-dump"},
      {"stats_tag", Kind::kList, "--stats-tag"},
  };
  return *kOptions;
}

const Option* findOption(absl::string_view flag) {
  for (const Option& o : options()) {
    if (flag == o.long_flag || (!o.short_flag.empty() && flag == o.short_flag)) return &o;
  }
  return nullptr;
}

// The JSON value for one occurrence, or empty when the value does not parse.
std::string jsonValue(const Option& o, absl::string_view value) {
  uint64_t n = 0;
  switch (o.kind) {
    case Kind::kBool:
      return "true";
    case Kind::kString:
    case Kind::kList:
      return quoteJson(value);
    case Kind::kUint32:
      return absl::SimpleAtoi(value, &n) && n <= UINT32_MAX ? absl::StrCat(n) : "";
    case Kind::kUint64:
      return absl::SimpleAtoi(value, &n) ? quoteJson(absl::StrCat(n)) : "";
    case Kind::kSeconds:
      return absl::SimpleAtoi(value, &n) ? quoteJson(absl::StrCat(n, "s")) : "";
    case Kind::kMillis:
      if (!absl::SimpleAtoi(value, &n)) return "";
      return quoteJson(n % 1000 == 0 ? absl::StrCat(n / 1000, "s")
                                     : absl::StrFormat("%d.%03ds", n / 1000, n % 1000));
    case Kind::kEnum:
      for (const auto& [flag_value, name] : o.enum_values) {
        if (value == flag_value) return quoteJson(name);
      }
      return "";
    case Kind::kCommaList: {
      std::vector<std::string> items;
      for (absl::string_view item : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        items.push_back(quoteJson(item));
      }
      return absl::StrCat("[", absl::StrJoin(items, ","), "]");
    }
  }
  return "";
}

}  // namespace

std::string_view serverStateName(ServerState state) {
  switch (state) {
    case ServerState::kPreInitializing:
      return "PRE_INITIALIZING";
    case ServerState::kInitializing:
      return "INITIALIZING";
    case ServerState::kLive:
      return "LIVE";
    case ServerState::kDraining:
      return "DRAINING";
  }
  return "UNKNOWN";
}

std::string commandLineOptionsJson(std::string_view command_line) {
  const std::vector<absl::string_view> args = absl::StrSplit(
      absl::string_view(command_line.data(), command_line.size()), ' ', absl::SkipEmpty());
  // Values per option in occurrence order; for a scalar the last occurrence wins, as with TCLAP.
  std::map<const Option*, std::vector<std::string>> seen;
  for (size_t i = 1; i < args.size(); ++i) {
    absl::string_view flag = args[i];
    absl::string_view value;
    bool inline_value = false;
    if (absl::StartsWith(flag, "--")) {
      if (const size_t eq = flag.find('='); eq != absl::string_view::npos) {
        value = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
        inline_value = true;
      }
    }
    const Option* o = findOption(flag);
    if (o == nullptr) continue;
    if (o->kind != Kind::kBool && !inline_value) {
      if (i + 1 >= args.size()) break;
      value = args[++i];
    }
    std::string json = jsonValue(*o, value);
    if (!json.empty()) seen[o].push_back(std::move(json));
  }
  std::vector<std::string> fields;
  for (const Option& o : options()) {
    const auto it = seen.find(&o);
    if (it == seen.end()) continue;
    std::string value;
    if (o.kind == Kind::kList) {
      value = absl::StrCat("[", absl::StrJoin(it->second, ","), "]");
    } else {
      value = it->second.back();
    }
    fields.push_back(absl::StrCat(quoteJson(o.field), ":", value));
  }
  return absl::StrCat("{", absl::StrJoin(fields, ","), "}");
}

std::string serverInfoJson(const AdminContext& context) {
  const std::string uptime = jsonString(absl::StrCat(context.uptime().count(), "s"));
  return absl::StrCat("{\"version\":", jsonString(context.version()),
                      ",\"state\":", jsonString(serverStateName(context.state())),
                      // Without hot restart every uptime is the current epoch's.
                      ",\"uptime_current_epoch\":", uptime, ",\"uptime_all_epochs\":", uptime,
                      ",\"hot_restart_version\":\"disabled\"",
                      ",\"command_line_options\":", commandLineOptionsJson(context.commandLine()),
                      ",\"node\":{\"id\":", jsonString(context.nodeId()),
                      ",\"cluster\":", jsonString(context.nodeCluster()), "}}\n");
}

}  // namespace remora::admin
