#include "source/admin/clusters_handler.h"

#include <charconv>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "source/admin/json_escape.h"

namespace remora::admin {
namespace {

// Envoy's flag names, concatenated; "healthy" when none is set.
std::string healthFlags(const ClusterHostInfo& host) {
  std::string flags;
  if (host.failed_active_health_check) flags += "/failed_active_hc";
  if (host.failed_outlier_check) flags += "/failed_outlier_check";
  const std::string& eds = host.eds_health_status;
  if (eds == "UNHEALTHY" || eds == "TIMEOUT") flags += "/failed_eds_health";
  if (eds == "DEGRADED") flags += "/degraded_eds_health";
  if (eds == "DRAINING") flags += "/eds_status_draining";
  return flags.empty() ? "healthy" : flags;
}

bool parsePort(std::string_view digits, uint32_t& port) {
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
}

// "ip:port" or "[ipv6]:port" into ip and port; false for anything else.
bool splitSocketAddress(std::string_view address, std::string_view& ip, uint32_t& port) {
  if (address.starts_with('[')) {
    const size_t close = address.find("]:");
    if (close == std::string_view::npos || !parsePort(address.substr(close + 2), port))
      return false;
    ip = address.substr(1, close - 1);
    return true;
  }
  // Exactly one colon: an unbracketed IPv6 literal is never followed by a port.
  const size_t colon = address.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon != address.rfind(':') ||
      !parsePort(address.substr(colon + 1), port)) {
    return false;
  }
  ip = address.substr(0, colon);
  return true;
}

// An Address message; a path or "@abstract" name is a pipe even when it holds a colon.
void appendAddressJson(std::string& out, std::string_view address) {
  std::string_view ip;
  uint32_t port = 0;
  const bool path = address.starts_with('/') || address.starts_with('@');
  if (path || !splitSocketAddress(address, ip, port)) {
    absl::StrAppend(&out, "{\"pipe\":{\"path\":", jsonString(address), "}}");
    return;
  }
  absl::StrAppend(&out, "{\"socket_address\":{\"address\":", jsonString(ip));
  if (port != 0) absl::StrAppend(&out, ",\"port_value\":", port);
  out.append("}}");
}

}  // namespace

std::string clustersText(const std::vector<ClusterInfo>& clusters) {
  std::string out;
  for (const ClusterInfo& c : clusters) {
    absl::StrAppend(&out, c.name, "::added_via_api::", c.added_via_api ? "true" : "false", "\n");
    for (const ClusterHostInfo& h : c.hosts) {
      absl::StrAppend(&out, c.name, "::", h.address, "::health_flags::", healthFlags(h), "\n");
      absl::StrAppend(&out, c.name, "::", h.address, "::weight::", h.weight, "\n");
      absl::StrAppend(&out, c.name, "::", h.address, "::region::", h.region, "\n");
      absl::StrAppend(&out, c.name, "::", h.address, "::zone::", h.zone, "\n");
      absl::StrAppend(&out, c.name, "::", h.address, "::sub_zone::", h.sub_zone, "\n");
      absl::StrAppend(&out, c.name, "::", h.address, "::priority::", h.priority, "\n");
    }
  }
  return out;
}

std::string clustersJson(const std::vector<ClusterInfo>& clusters) {
  std::string out = "{\"cluster_statuses\":[";
  for (size_t i = 0; i < clusters.size(); ++i) {
    const ClusterInfo& c = clusters[i];
    if (i > 0) out.push_back(',');
    absl::StrAppend(&out, "{\"name\":", jsonString(c.name));
    if (c.added_via_api) out.append(",\"added_via_api\":true");
    if (!c.hosts.empty()) {
      out.append(",\"host_statuses\":[");
      for (size_t j = 0; j < c.hosts.size(); ++j) {
        const ClusterHostInfo& h = c.hosts[j];
        if (j > 0) out.push_back(',');
        out.append("{\"address\":");
        appendAddressJson(out, h.address);
        absl::StrAppend(&out, ",\"health_status\":{\"eds_health_status\":\"", h.eds_health_status,
                        "\"");
        if (h.failed_active_health_check) out.append(",\"failed_active_health_check\":true");
        if (h.failed_outlier_check) out.append(",\"failed_outlier_check\":true");
        out.push_back('}');
        if (h.weight != 0) absl::StrAppend(&out, ",\"weight\":", h.weight);
        if (!h.region.empty() || !h.zone.empty() || !h.sub_zone.empty()) {
          out.append(",\"locality\":{");
          const char* sep = "";
          for (const auto& [key, value] :
               {std::pair<const char*, const std::string*>{"region", &h.region},
                {"zone", &h.zone},
                {"sub_zone", &h.sub_zone}}) {
            if (value->empty()) continue;
            absl::StrAppend(&out, sep, "\"", key, "\":", jsonString(*value));
            sep = ",";
          }
          out.push_back('}');
        }
        if (h.priority != 0) absl::StrAppend(&out, ",\"priority\":", h.priority);
        out.push_back('}');
      }
      out.push_back(']');
    }
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

}  // namespace remora::admin
