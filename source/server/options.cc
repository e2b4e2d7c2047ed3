#include "source/server/options.h"

#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace remora::server {

namespace {

// Envoy flags that Remora does not implement, split by whether they take a value.
const absl::flat_hash_set<std::string>& ignoredWithValue() {
  static const auto* s = new absl::flat_hash_set<std::string>{"--base-id",
                                                              "--base-id-path",
                                                              "--drain-strategy",
                                                              "--log-format",
                                                              "--log-path",
                                                              "--parent-shutdown-time-s",
                                                              "--restart-epoch",
                                                              "--service-zone",
                                                              "--file-flush-interval-msec",
                                                              "--component-log-level",
                                                              "--local-address-ip-version",
                                                              "--max-obj-name-len",
                                                              "--max-stats",
                                                              "--socket-path",
                                                              "--socket-mode",
                                                              "--stats-tag",
                                                              "--disable-extensions",
                                                              "--bootstrap-version",
                                                              "--hot-restart-version",
                                                              "--config-yaml-path",
                                                              "--concurrency-cpuset"};
  return *s;
}
const absl::flat_hash_set<std::string>& ignoredBoolean() {
  static const auto* s = new absl::flat_hash_set<std::string>{"--disable-hot-restart",
                                                              "--use-dynamic-base-id",
                                                              "--ignore-unknown-dynamic-fields",
                                                              "--reject-unknown-dynamic-fields",
                                                              "--enable-mutex-tracing",
                                                              "--cpuset-threads",
                                                              "--enable-fine-grain-logging",
                                                              "--log-format-escaped",
                                                              "--enable-core-dump",
                                                              "--log-format-prefix-with-location",
                                                              "--skip-hot-restart-on-no-parent",
                                                              "--skip-hot-restart-parent-stats",
                                                              "--disable-hot-restart-on-no-parent"};
  return *s;
}

absl::StatusOr<uint64_t> parseNumber(const std::string& flag, const std::string& value) {
  uint64_t n;
  if (!absl::SimpleAtoi(value, &n)) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": '", value, "' is not a number"));
  }
  return n;
}

}  // namespace

std::string usage() {
  return "usage: remora (-c FILE | --config-yaml YAML) [--concurrency N] [--mode serve|validate]\n"
         "              [-l|--log-level trace|debug|info|warning|error|critical|off]\n"
         "              [--service-node ID] [--service-cluster NAME] [--drain-time-s N]\n"
         "              [--admin-address-path FILE] [--version]\n"
         "Other Envoy flags (--base-id, --disable-hot-restart, ...) are accepted and ignored.\n";
}

absl::StatusOr<Options> parseOptions(int argc, const char* const* argv) {
  Options o;
  std::vector<std::string> args(argv, argv + argc);
  o.command_line = absl::StrJoin(args, " ");
  for (size_t i = 1; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    bool has_inline_value = false;
    if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_inline_value = true;
    }
    auto take = [&]() -> absl::StatusOr<std::string> {
      if (has_inline_value) return value;
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(flag + ": missing value");
      return args[++i];
    };
    if (flag == "-c" || flag == "--config-path") {
      auto v = take();
      if (!v.ok()) return v.status();
      o.config_path = *v;
    } else if (flag == "--config-yaml") {
      auto v = take();
      if (!v.ok()) return v.status();
      o.config_yaml = *v;
    } else if (flag == "--concurrency") {
      auto v = take();
      if (!v.ok()) return v.status();
      auto n = parseNumber(flag, *v);
      if (!n.ok()) return n.status();
      o.concurrency = static_cast<uint32_t>(*n);
    } else if (flag == "--mode") {
      auto v = take();
      if (!v.ok()) return v.status();
      if (*v == "serve") {
        o.mode = Mode::kServe;
      } else if (*v == "validate") {
        o.mode = Mode::kValidate;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--mode: '", *v, "' is not one of serve, validate"));
      }
    } else if (flag == "-l" || flag == "--log-level") {
      auto v = take();
      if (!v.ok()) return v.status();
      static const absl::flat_hash_set<std::string> levels = {
          "trace", "debug", "info", "warn", "warning", "error", "critical", "off"};
      if (!levels.contains(*v)) {
        return absl::InvalidArgumentError(absl::StrCat(flag, ": unknown level '", *v, "'"));
      }
      o.log_level = *v;
    } else if (flag == "--service-node") {
      auto v = take();
      if (!v.ok()) return v.status();
      o.service_node = *v;
    } else if (flag == "--service-cluster") {
      auto v = take();
      if (!v.ok()) return v.status();
      o.service_cluster = *v;
    } else if (flag == "--drain-time-s") {
      auto v = take();
      if (!v.ok()) return v.status();
      auto n = parseNumber(flag, *v);
      if (!n.ok()) return n.status();
      o.drain_time = std::chrono::seconds(*n);
    } else if (flag == "--admin-address-path") {
      auto v = take();
      if (!v.ok()) return v.status();
      o.admin_address_path = *v;
    } else if (flag == "--allow-unknown-static-fields") {
      o.allow_unknown_static_fields = true;
      o.ignored_flags.push_back(flag);
    } else if (flag == "--version") {
      o.version = true;
    } else if (flag == "-h" || flag == "--help") {
      o.help = true;
    } else if (ignoredWithValue().contains(flag)) {
      auto v = take();
      if (!v.ok()) return v.status();
      o.ignored_flags.push_back(absl::StrCat(flag, " ", *v));
    } else if (ignoredBoolean().contains(flag)) {
      o.ignored_flags.push_back(flag);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '", flag, "'"));
    }
  }
  if (o.concurrency == 0) o.concurrency = std::max(1u, std::thread::hardware_concurrency());
  if (!o.version && !o.help && o.config_path.empty() && o.config_yaml.empty()) {
    return absl::InvalidArgumentError("no configuration: give -c FILE or --config-yaml YAML");
  }
  return o;
}

}  // namespace remora::server
