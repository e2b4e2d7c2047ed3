// Command operator implementations: plain StreamInfo fields through a name table, plus the few
// operators that carry state from their argument (headers, START_TIME, HOSTNAME).
#include "source/formatter/operators.h"

#include <unistd.h>

#include <array>
#include <climits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "source/formatter/response_flags.h"
#include "source/formatter/time_format.h"
#include "source/http/header_map.h"

namespace remora::formatter {
namespace {

using http::StreamInfo;
using AppendFn = bool (*)(const StreamInfo&, std::string&);

// A value-initialized Address (no socket behind it) has length 0.
bool isSet(const network::Address& a) { return a.sockLen() != 0; }

bool appendAddress(const network::Address& a, std::string& out) {
  if (!isSet(a)) return false;
  out.append(a.asString());
  return true;
}

// A pipe has no port to drop, so it prints its path as Envoy does.
bool appendAddressWithoutPort(const network::Address& a, std::string& out) {
  if (!isSet(a)) return false;
  out.append(a.isPipe() ? a.asString() : a.ip());
  return true;
}

bool appendPort(const network::Address& a, std::string& out) {
  if (!isSet(a) || a.isPipe()) return false;
  absl::StrAppend(&out, a.port());
  return true;
}

bool appendNonEmpty(const std::string& s, std::string& out) {
  if (s.empty()) return false;
  out.append(s);
  return true;
}

bool appendMillis(std::optional<std::chrono::milliseconds> d, std::string& out) {
  if (!d) return false;
  absl::StrAppend(&out, d->count());
  return true;
}

bool appendHeadersBytes(const http::HeaderMap* headers, std::string& out) {
  absl::StrAppend(&out, headers == nullptr ? 0 : headers->byteSize());
  return true;
}

struct FieldSpec {
  AppendFn fn;
  bool numeric;
};

// Operators that read one StreamInfo field and take no argument.
const absl::flat_hash_map<absl::string_view, FieldSpec>& fieldOperators() {
  static const auto* table = new absl::flat_hash_map<absl::string_view, FieldSpec>{
      {"RESPONSE_CODE",
       {[](const StreamInfo& i, std::string& o) {
          absl::StrAppend(&o, i.response_code);
          return true;
        },
        true}},
      {"RESPONSE_CODE_DETAILS",
       {[](const StreamInfo& i, std::string& o) {
          return appendNonEmpty(i.response_code_details, o);
        },
        false}},
      {"RESPONSE_FLAGS",
       {[](const StreamInfo& i, std::string& o) {
          // Envoy prints "-" for no flags even where other missing values are null or empty.
          if (i.response_flags == 0) {
            o.push_back('-');
          } else {
            appendResponseFlags(i.response_flags, o);
          }
          return true;
        },
        false}},
      {"BYTES_RECEIVED",
       {[](const StreamInfo& i, std::string& o) {
          absl::StrAppend(&o, i.bytes_received);
          return true;
        },
        true}},
      {"BYTES_SENT",
       {[](const StreamInfo& i, std::string& o) {
          absl::StrAppend(&o, i.bytes_sent);
          return true;
        },
        true}},
      {"DURATION",
       {[](const StreamInfo& i, std::string& o) {
          return appendMillis(i.durationTo(i.last_downstream_tx_byte), o);
        },
        true}},
      {"REQUEST_DURATION",
       {[](const StreamInfo& i, std::string& o) {
          return appendMillis(i.durationTo(i.last_downstream_rx_byte), o);
        },
        true}},
      {"RESPONSE_DURATION",
       {[](const StreamInfo& i, std::string& o) {
          return appendMillis(i.durationTo(i.first_upstream_rx_byte), o);
        },
        true}},
      {"RESPONSE_TX_DURATION",
       {[](const StreamInfo& i, std::string& o) {
          if (!i.first_upstream_rx_byte || !i.last_downstream_tx_byte) return false;
          return appendMillis(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  *i.last_downstream_tx_byte - *i.first_upstream_rx_byte),
                              o);
        },
        true}},
      {"UPSTREAM_HOST",
       {[](const StreamInfo& i, std::string& o) {
          return i.upstream_host && appendAddress(*i.upstream_host, o);
        },
        false}},
      {"UPSTREAM_REMOTE_ADDRESS",
       {[](const StreamInfo& i, std::string& o) {
          return i.upstream_host && appendAddress(*i.upstream_host, o);
        },
        false}},
      {"UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
       {[](const StreamInfo& i, std::string& o) {
          return i.upstream_host && appendAddressWithoutPort(*i.upstream_host, o);
        },
        false}},
      {"UPSTREAM_CLUSTER",
       {[](const StreamInfo& i, std::string& o) { return appendNonEmpty(i.upstream_cluster, o); },
        false}},
      {"UPSTREAM_LOCAL_ADDRESS",
       {[](const StreamInfo& i, std::string& o) {
          return i.upstream_local_address && appendAddress(*i.upstream_local_address, o);
        },
        false}},
      {"UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
       {[](const StreamInfo& i, std::string& o) {
          return i.upstream_local_address && appendAddressWithoutPort(*i.upstream_local_address, o);
        },
        false}},
      {"UPSTREAM_TRANSPORT_FAILURE_REASON",
       {[](const StreamInfo& i, std::string& o) {
          return appendNonEmpty(i.upstream_transport_failure_reason, o);
        },
        false}},
      {"UPSTREAM_REQUEST_ATTEMPT_COUNT",
       {[](const StreamInfo& i, std::string& o) {
          absl::StrAppend(&o, i.attempt_count);
          return true;
        },
        true}},
      {"DOWNSTREAM_REMOTE_ADDRESS",
       {[](const StreamInfo& i, std::string& o) {
          return appendAddress(i.downstream_remote_address, o);
        },
        false}},
      {"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
       {[](const StreamInfo& i, std::string& o) {
          return appendAddressWithoutPort(i.downstream_remote_address, o);
        },
        false}},
      {"DOWNSTREAM_REMOTE_PORT",
       {[](const StreamInfo& i, std::string& o) {
          return appendPort(i.downstream_remote_address, o);
        },
        true}},
      {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS",
       {[](const StreamInfo& i, std::string& o) {
          return appendAddress(i.downstream_direct_remote_address, o);
        },
        false}},
      {"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
       {[](const StreamInfo& i, std::string& o) {
          return appendAddressWithoutPort(i.downstream_direct_remote_address, o);
        },
        false}},
      {"DOWNSTREAM_DIRECT_REMOTE_PORT",
       {[](const StreamInfo& i, std::string& o) {
          return appendPort(i.downstream_direct_remote_address, o);
        },
        true}},
      {"DOWNSTREAM_LOCAL_ADDRESS",
       {[](const StreamInfo& i, std::string& o) {
          return appendAddress(i.downstream_local_address, o);
        },
        false}},
      {"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
       {[](const StreamInfo& i, std::string& o) {
          return appendAddressWithoutPort(i.downstream_local_address, o);
        },
        false}},
      {"DOWNSTREAM_LOCAL_PORT",
       {[](const StreamInfo& i, std::string& o) {
          return appendPort(i.downstream_local_address, o);
        },
        true}},
      {"PROTOCOL",
       {[](const StreamInfo& i, std::string& o) { return appendNonEmpty(i.protocol, o); }, false}},
      {"ROUTE_NAME",
       {[](const StreamInfo& i, std::string& o) { return appendNonEmpty(i.route_name, o); },
        false}},
      {"REQUEST_HEADERS_BYTES",
       {[](const StreamInfo& i, std::string& o) {
          return appendHeadersBytes(i.request_headers, o);
        },
        true}},
      {"RESPONSE_HEADERS_BYTES",
       {[](const StreamInfo& i, std::string& o) {
          return appendHeadersBytes(i.response_headers, o);
        },
        true}},
      {"RESPONSE_TRAILERS_BYTES",
       {[](const StreamInfo& i, std::string& o) {
          return appendHeadersBytes(i.response_trailers, o);
        },
        true}},
  };
  return *table;
}

// Envoy operators that Remora recognizes but does not implement, so the error says so rather than
// calling a real Envoy operator unknown.
constexpr std::array<absl::string_view, 24> kUnsupported = {
    "UPSTREAM_METADATA",
    "DYNAMIC_METADATA",
    "CLUSTER_METADATA",
    "UPSTREAM_HOST_METADATA",
    "FILTER_STATE",
    "UPSTREAM_FILTER_STATE",
    "PER_REQUEST_STATE",
    "REQUESTED_SERVER_NAME",
    "DOWNSTREAM_PEER_SUBJECT",
    "DOWNSTREAM_PEER_URI_SAN",
    "DOWNSTREAM_LOCAL_URI_SAN",
    "DOWNSTREAM_TLS_VERSION",
    "DOWNSTREAM_TLS_CIPHER",
    "DOWNSTREAM_PEER_CERT",
    "UPSTREAM_PEER_SUBJECT",
    "UPSTREAM_TLS_VERSION",
    "GRPC_STATUS",
    "GRPC_STATUS_NUMBER",
    "LOCAL_REPLY_BODY",
    "CONNECTION_ID",
    "STREAM_ID",
    "UPSTREAM_CONNECTION_ID",
    "ENVIRONMENT",
    "CONNECTION_TERMINATION_DETAILS",
};

class FieldOperator : public Operator {
 public:
  explicit FieldOperator(FieldSpec spec) : spec_(spec) {}
  bool append(const StreamInfo& info, std::string& out) const override {
    return spec_.fn(info, out);
  }
  bool numeric() const override { return spec_.numeric; }

 private:
  FieldSpec spec_;
};

enum class HeaderSource { kRequest, kResponse, kTrailers };

class HeaderOperator : public Operator {
 public:
  HeaderOperator(HeaderSource source, std::string name, std::string alternative)
      : source_(source), name_(std::move(name)), alternative_(std::move(alternative)) {}

  bool append(const StreamInfo& info, std::string& out) const override {
    const http::HeaderMap* headers = source_ == HeaderSource::kRequest    ? info.request_headers
                                     : source_ == HeaderSource::kResponse ? info.response_headers
                                                                          : info.response_trailers;
    if (headers == nullptr) return false;
    const std::string* value = headers->get(name_);
    if (value == nullptr && !alternative_.empty()) value = headers->get(alternative_);
    if (value == nullptr) return false;
    out.append(*value);
    return true;
  }

 private:
  HeaderSource source_;
  std::string name_;         // Lowercase, as HeaderMap stores keys.
  std::string alternative_;  // Tried when name_ is absent; empty for none.
};

class StartTimeOperator : public Operator {
 public:
  explicit StartTimeOperator(const std::string& format) : format_(format) {}
  bool append(const StreamInfo& info, std::string& out) const override {
    format_.format(info.start_time, out);
    return true;
  }

 private:
  TimeFormat format_;
};

// The host name cannot change under a running proxy, so it is read once per format.
class ConstantOperator : public Operator {
 public:
  explicit ConstantOperator(std::string value) : value_(std::move(value)) {}
  bool append(const StreamInfo&, std::string& out) const override {
    return appendNonEmpty(value_, out);
  }

 private:
  std::string value_;
};

std::string hostName() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

std::optional<HeaderSource> headerSource(absl::string_view name) {
  if (name == "REQ" || name == "REQUEST_HEADER") return HeaderSource::kRequest;
  if (name == "RESP" || name == "RESPONSE_HEADER") return HeaderSource::kResponse;
  if (name == "TRAILER" || name == "RESPONSE_TRAILER") return HeaderSource::kTrailers;
  return std::nullopt;
}

absl::StatusOr<OperatorPtr> makeHeaderOperator(HeaderSource source, absl::string_view name,
                                               std::optional<absl::string_view> arg) {
  if (!arg || arg->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("%", name, "% needs a header name, e.g. %", name, "(x-request-id)%"));
  }
  std::vector<absl::string_view> names = absl::StrSplit(*arg, '?');
  if (names.size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "%", name, "(", *arg, ")% names more than one alternative header (at most X?Y)"));
  }
  for (absl::string_view n : names) {
    if (n.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("%", name, "(", *arg, ")% has an empty header name"));
    }
  }
  return std::make_unique<HeaderOperator>(source, absl::AsciiStrToLower(names[0]),
                                          names.size() == 2 ? absl::AsciiStrToLower(names[1]) : "");
}

}  // namespace

absl::StatusOr<OperatorPtr> makeOperator(absl::string_view name,
                                         std::optional<absl::string_view> arg,
                                         bool has_max_length) {
  if (auto source = headerSource(name)) return makeHeaderOperator(*source, name, arg);

  // Only header values are long enough for truncation to be useful; Envoy rejects it elsewhere.
  if (has_max_length) {
    return absl::InvalidArgumentError(absl::StrCat("%", name, "% does not take a max length"));
  }
  if (name == "START_TIME") {
    return std::make_unique<StartTimeOperator>(arg ? std::string(*arg) : std::string());
  }
  auto field = fieldOperators().find(name);
  const bool known = field != fieldOperators().end() || name == "HOSTNAME";
  if (known && arg) {
    return absl::InvalidArgumentError(absl::StrCat("%", name, "% does not take an argument"));
  }
  if (field != fieldOperators().end()) return std::make_unique<FieldOperator>(field->second);
  if (name == "HOSTNAME") return std::make_unique<ConstantOperator>(hostName());
  for (absl::string_view unsupported : kUnsupported) {
    if (name == unsupported) {
      return absl::InvalidArgumentError(
          absl::StrCat("command operator %", name, "% is not supported by Remora"));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown command operator %", name, "%"));
}

}  // namespace remora::formatter
