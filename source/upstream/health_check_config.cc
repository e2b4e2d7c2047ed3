#include "source/upstream/health_check_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "source/config/duration_fields.h"
#include "source/config/field_path.h"

namespace remora::upstream {

namespace {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;
using envoy::config::core::v3::HealthCheck;
using std::chrono::milliseconds;

bool inRanges(const std::vector<StatusRange>& ranges, int status) {
  for (const StatusRange& range : ranges) {
    if (range.contains(status)) return true;
  }
  return false;
}

// An optional interval: left alone when unset, else positive.
absl::Status optionalInterval(bool has, const google::protobuf::Duration& d,
                              const std::string& path, std::optional<milliseconds>& out) {
  if (!has) return absl::OkStatus();
  milliseconds value{0};
  if (absl::Status s = config::positiveMillis(d, path, value); !s.ok()) return s;
  out = value;
  return absl::OkStatus();
}

absl::Status threshold(bool has, const google::protobuf::UInt32Value& value,
                       const std::string& path, uint32_t& out) {
  if (!has) return invalidAt(path, "required");
  // Envoy takes 0 without saying what it means; a check that can never change state is a mistake.
  if (value.value() == 0) return invalidAt(path, "must be at least 1");
  out = value.value();
  return absl::OkStatus();
}

// Payload.text is hex ("000000FF"); binary is taken as is.
absl::StatusOr<std::string> payloadBytes(const HealthCheck::Payload& payload,
                                         const std::string& path) {
  switch (payload.payload_case()) {
    case HealthCheck::Payload::kText: {
      const std::string& text = payload.text();
      const std::string text_path = fieldPath(path, "text");
      if (text.empty()) return invalidAt(text_path, "must not be empty");
      if (text.size() % 2 != 0) {
        return invalidAt(text_path, "hex payload must have an even number of digits");
      }
      for (char c : text) {
        if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
          return invalidAt(text_path, absl::StrCat("'", std::string(1, c), "' is not a hex digit"));
        }
      }
      return absl::HexStringToBytes(text);
    }
    case HealthCheck::Payload::kBinary:
      return payload.binary();
    default:
      return invalidAt(path, "text or binary is required");
  }
}

absl::Status payloadList(const google::protobuf::RepeatedPtrField<HealthCheck::Payload>& payloads,
                         const std::string& path, std::vector<std::string>& out) {
  for (int i = 0; i < payloads.size(); ++i) {
    auto bytes = payloadBytes(payloads.Get(i), indexPath(path, i));
    if (!bytes.ok()) return bytes.status();
    out.push_back(*std::move(bytes));
  }
  return absl::OkStatus();
}

absl::Status statusRanges(const google::protobuf::RepeatedPtrField<envoy::type::v3::Int64Range>& in,
                          const std::string& path, std::vector<StatusRange>& out) {
  for (int i = 0; i < in.size(); ++i) {
    const auto& range = in.Get(i);
    const std::string rpath = indexPath(path, i);
    if (range.start() < 100 || range.start() >= 600) {
      return invalidAt(fieldPath(rpath, "start"), "must be in [100, 600)");
    }
    if (range.end() <= range.start() || range.end() > 600) {
      return invalidAt(fieldPath(rpath, "end"),
                       absl::StrCat("must be greater than start (", range.start(),
                                    ") and at most 600 (ranges are half-open)"));
    }
    out.push_back({range.start(), range.end()});
  }
  return absl::OkStatus();
}

bool hasControlCharacters(absl::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

// A header name the check may add or remove: not a pseudo-header and not Host, which the checker
// owns (as Envoy refuses to let header mutations touch them).
absl::Status mutableHeaderName(const std::string& name, const std::string& path) {
  if (name.empty()) return invalidAt(path, "must not be empty");
  if (name[0] == ':' || absl::AsciiStrToLower(name) == "host") {
    return invalidAt(path, absl::StrCat("'", name, "' cannot be changed by a health check"));
  }
  if (hasControlCharacters(name) || name.find(' ') != std::string::npos) {
    return invalidAt(path, "not a valid header name");
  }
  return absl::OkStatus();
}

// Header values in Envoy may hold %COMMAND% formatters. A health check has no request to format
// from, so only literal text (with %% for a percent sign) is taken.
absl::StatusOr<std::string> literalHeaderValue(const std::string& value, const std::string& path) {
  if (hasControlCharacters(value)) return invalidAt(path, "must not contain CR, LF or NUL");
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out.push_back(value[i]);
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '%') {
      out.push_back('%');
      ++i;
      continue;
    }
    return invalidAt(path,
                     "formatters (%...%) are not supported in health check headers; use %% "
                     "for a literal percent sign");
  }
  return out;
}

absl::Status buildHttp(const HealthCheck::HttpHealthCheck& proto, const std::string& path,
                       HttpHealthCheckConfig& http) {
  if (proto.path().empty()) return invalidAt(fieldPath(path, "path"), "required");
  if (hasControlCharacters(proto.path()) || proto.path().find(' ') != std::string::npos) {
    return invalidAt(fieldPath(path, "path"), "must not contain spaces, CR, LF or NUL");
  }
  http.path = proto.path();
  if (hasControlCharacters(proto.host())) {
    return invalidAt(fieldPath(path, "host"), "must not contain CR, LF or NUL");
  }
  http.host = proto.host();

  if (proto.codec_client_type() != envoy::type::v3::HTTP1) {
    return invalidAt(fieldPath(path, "codec_client_type"),
                     absl::StrCat(envoy::type::v3::CodecClientType_Name(proto.codec_client_type()),
                                  " health checks are not supported; use HTTP1"));
  }
  switch (proto.method()) {
    case envoy::config::core::v3::METHOD_UNSPECIFIED:
      http.method = "GET";
      break;
    case envoy::config::core::v3::CONNECT:
      return invalidAt(fieldPath(path, "method"), "CONNECT cannot be used for health checks");
    default:
      http.method = envoy::config::core::v3::RequestMethod_Name(proto.method());
      break;
  }

  if (absl::Status s = statusRanges(proto.expected_statuses(), fieldPath(path, "expected_statuses"),
                                    http.expected_statuses);
      !s.ok()) {
    return s;
  }
  if (http.expected_statuses.empty()) http.expected_statuses.push_back({200, 201});
  if (absl::Status s = statusRanges(proto.retriable_statuses(),
                                    fieldPath(path, "retriable_statuses"), http.retriable_statuses);
      !s.ok()) {
    return s;
  }

  const std::string adds_path = fieldPath(path, "request_headers_to_add");
  for (int i = 0; i < proto.request_headers_to_add_size(); ++i) {
    const auto& option = proto.request_headers_to_add(i);
    const std::string opath = indexPath(adds_path, i);
    const std::string hpath = fieldPath(opath, "header");
    if (absl::Status s = mutableHeaderName(option.header().key(), fieldPath(hpath, "key"));
        !s.ok()) {
      return s;
    }
    auto value = literalHeaderValue(option.header().value(), fieldPath(hpath, "value"));
    if (!value.ok()) return value.status();
    HttpHealthCheckConfig::HeaderToAdd add;
    add.key = absl::AsciiStrToLower(option.header().key());
    add.value = *std::move(value);
    add.keep_empty_value = option.keep_empty_value();
    using Action = HttpHealthCheckConfig::HeaderToAdd::Action;
    switch (option.append_action()) {
      case envoy::config::core::v3::HeaderValueOption::ADD_IF_ABSENT:
        add.action = Action::kAddIfAbsent;
        break;
      case envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD:
        add.action = Action::kOverwriteIfExistsOrAdd;
        break;
      case envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS:
        add.action = Action::kOverwriteIfExists;
        break;
      default:
        add.action = Action::kAppendIfExistsOrAdd;
        break;
    }
    http.request_headers_to_add.push_back(std::move(add));
  }
  const std::string removes_path = fieldPath(path, "request_headers_to_remove");
  for (int i = 0; i < proto.request_headers_to_remove_size(); ++i) {
    const std::string& name = proto.request_headers_to_remove(i);
    if (absl::Status s = mutableHeaderName(name, indexPath(removes_path, i)); !s.ok()) return s;
    http.request_headers_to_remove.push_back(absl::AsciiStrToLower(name));
  }

  if (absl::Status s = payloadList(proto.receive(), fieldPath(path, "receive"), http.receive);
      !s.ok()) {
    return s;
  }
  if (proto.has_response_buffer_size()) {
    http.response_buffer_size = proto.response_buffer_size().value();
  }
  return absl::OkStatus();
}

absl::Status buildTcp(const HealthCheck::TcpHealthCheck& proto, const std::string& path,
                      TcpHealthCheckConfig& tcp) {
  if (proto.has_send()) {
    auto bytes = payloadBytes(proto.send(), fieldPath(path, "send"));
    if (!bytes.ok()) return bytes.status();
    tcp.send = *std::move(bytes);
  }
  return payloadList(proto.receive(), fieldPath(path, "receive"), tcp.receive);
}

}  // namespace

bool HttpHealthCheckConfig::expects(int status) const {
  return inRanges(expected_statuses, status);
}

bool HttpHealthCheckConfig::retriable(int status) const {
  return inRanges(retriable_statuses, status);
}

absl::StatusOr<HealthCheckConfig> buildHealthCheckConfig(const HealthCheck& proto,
                                                         const std::string& path) {
  HealthCheckConfig config;
  if (!proto.has_timeout()) return invalidAt(fieldPath(path, "timeout"), "required");
  if (absl::Status s =
          config::positiveMillis(proto.timeout(), fieldPath(path, "timeout"), config.timeout);
      !s.ok()) {
    return s;
  }
  if (!proto.has_interval()) return invalidAt(fieldPath(path, "interval"), "required");
  if (absl::Status s =
          config::positiveMillis(proto.interval(), fieldPath(path, "interval"), config.interval);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = config::nonNegativeMillis(
          proto.initial_jitter(), fieldPath(path, "initial_jitter"), config.initial_jitter);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = config::nonNegativeMillis(
          proto.interval_jitter(), fieldPath(path, "interval_jitter"), config.interval_jitter);
      !s.ok()) {
    return s;
  }
  config.interval_jitter_percent = proto.interval_jitter_percent();
  if (absl::Status s =
          threshold(proto.has_unhealthy_threshold(), proto.unhealthy_threshold(),
                    fieldPath(path, "unhealthy_threshold"), config.unhealthy_threshold);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = threshold(proto.has_healthy_threshold(), proto.healthy_threshold(),
                                 fieldPath(path, "healthy_threshold"), config.healthy_threshold);
      !s.ok()) {
    return s;
  }
  if (proto.has_reuse_connection()) config.reuse_connection = proto.reuse_connection().value();

  std::optional<milliseconds> no_traffic, unhealthy, unhealthy_edge, healthy_edge;
  if (absl::Status s =
          optionalInterval(proto.has_no_traffic_interval(), proto.no_traffic_interval(),
                           fieldPath(path, "no_traffic_interval"), no_traffic);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = optionalInterval(
          proto.has_no_traffic_healthy_interval(), proto.no_traffic_healthy_interval(),
          fieldPath(path, "no_traffic_healthy_interval"), config.no_traffic_healthy_interval);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = optionalInterval(proto.has_unhealthy_interval(), proto.unhealthy_interval(),
                                        fieldPath(path, "unhealthy_interval"), unhealthy);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          optionalInterval(proto.has_unhealthy_edge_interval(), proto.unhealthy_edge_interval(),
                           fieldPath(path, "unhealthy_edge_interval"), unhealthy_edge);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          optionalInterval(proto.has_healthy_edge_interval(), proto.healthy_edge_interval(),
                           fieldPath(path, "healthy_edge_interval"), healthy_edge);
      !s.ok()) {
    return s;
  }
  if (no_traffic) config.no_traffic_interval = *no_traffic;
  config.unhealthy_interval = unhealthy.value_or(config.interval);
  config.unhealthy_edge_interval = unhealthy_edge.value_or(config.unhealthy_interval);
  config.healthy_edge_interval = healthy_edge.value_or(config.interval);

  switch (proto.health_checker_case()) {
    case HealthCheck::kHttpHealthCheck: {
      config.kind = HealthCheckConfig::Kind::kHttp;
      if (absl::Status s = buildHttp(proto.http_health_check(),
                                     fieldPath(path, "http_health_check"), config.http);
          !s.ok()) {
        return s;
      }
      break;
    }
    case HealthCheck::kTcpHealthCheck: {
      config.kind = HealthCheckConfig::Kind::kTcp;
      if (absl::Status s =
              buildTcp(proto.tcp_health_check(), fieldPath(path, "tcp_health_check"), config.tcp);
          !s.ok()) {
        return s;
      }
      break;
    }
    case HealthCheck::kGrpcHealthCheck:
      return invalidAt(fieldPath(path, "grpc_health_check"),
                       "gRPC health checks are not supported; use http_health_check or "
                       "tcp_health_check");
    case HealthCheck::kCustomHealthCheck:
      return invalidAt(fieldPath(path, "custom_health_check"),
                       "custom health checks are not supported; use http_health_check or "
                       "tcp_health_check");
    default:
      return invalidAt(path, "one of http_health_check or tcp_health_check is required");
  }
  return config;
}

}  // namespace remora::upstream
