#include "source/http/request_headers.h"

#include <random>
#include <vector>

#include <optional>
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace remora::http {

namespace {

// Per thread so that workers never share generator state or take a lock.
std::mt19937_64& threadRng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

// The addresses listed in x-forwarded-for, left to right, trimmed.
std::vector<absl::string_view> xffEntries(const std::string& joined) {
  std::vector<absl::string_view> out;
  for (absl::string_view part : absl::StrSplit(joined, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

std::optional<network::Address> parseIp(absl::string_view text) {
  auto addr = network::Address::fromIpPort(std::string(text), 0);
  if (!addr.ok()) return std::nullopt;
  return *addr;
}

}  // namespace

std::string generateUuid4() {
  uint64_t hi = threadRng()();
  uint64_t lo = threadRng()();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // Version 4.
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](uint64_t v, int nibbles_from, int count) {
    for (int i = 0; i < count; ++i) {
      if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
      out[pos++] = kHex[(v >> ((nibbles_from - i) * 4)) & 0xf];
    }
  };
  put(hi, 15, 16);
  put(lo, 15, 16);
  return out;
}

bool isInternalAddress(const ConnManagerConfig& config, const network::Address& address) {
  if (address.isPipe()) return config.internal_unix_sockets || !config.internal_ranges_set;
  if (!config.internal_ranges_set) return network::isPrivateOrLoopback(address);
  for (const auto& range : config.internal_ranges) {
    if (range.contains(address)) return true;
  }
  return false;
}

void applyDownstreamRequestHeaders(const RequestHeaderContext& ctx, HeaderMap& headers,
                                   StreamInfo& info) {
  const ConnManagerConfig& config = ctx.config;
  // Connection-specific fields never travel past this hop; upgrade stays for tunnels.
  const std::string* connection = headers.get("connection");
  const bool upgrade =
      connection != nullptr && hasToken(*connection, "upgrade") && headers.has("upgrade");
  if (connection != nullptr) {
    // Fields named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
    for (absl::string_view name : absl::StrSplit(*connection, ',')) {
      std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
      if (lower.empty() || lower == "upgrade" || lower == "close" || lower == "keep-alive" ||
          lower[0] == ':' || lower == "te") {
        continue;
      }
      headers.remove(lower);
    }
  }
  headers.remove("connection");
  headers.remove("keep-alive");
  headers.remove("proxy-connection");
  headers.remove("transfer-encoding");
  if (upgrade) {
    headers.add("connection", "upgrade");
  } else {
    headers.remove("upgrade");
  }
  const std::string* te = headers.get("te");
  if (te != nullptr && !absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(*te), "trailers")) {
    headers.remove("te");
  }

  // The addresses earlier hops listed, before this hop appends its own.
  std::string joined;
  std::vector<absl::string_view> entries;
  if (headers.has("x-forwarded-for")) {
    joined = headers.getJoined("x-forwarded-for");
    entries = xffEntries(joined);
  }
  const uint32_t hops = config.xff_num_trusted_hops;
  bool internal;
  if (config.use_remote_address) {
    info.downstream_remote_address = ctx.peer;
    // As Envoy: with N trusted hops in front of us, the client is the Nth address from the
    // right of what they sent; with none, it is the socket peer.
    if (hops > 0 && entries.size() >= hops) {
      auto addr = parseIp(entries[entries.size() - hops]);
      if (addr) info.downstream_remote_address = *addr;
    }
    internal = isInternalAddress(config, ctx.peer);
    if (!config.skip_xff_append && !ctx.peer.isPipe()) {
      headers.set("x-forwarded-for",
                  joined.empty() ? ctx.peer.ip() : absl::StrCat(joined, ",", ctx.peer.ip()));
    }
    // This hop is the edge: the scheme is what the client used with us.
    headers.set("x-forwarded-proto", "http");
  } else {
    // The last N entries were added by proxies we trust; the one before them is the client.
    if (entries.size() > hops) {
      auto addr = parseIp(entries[entries.size() - 1 - hops]);
      if (addr) info.downstream_remote_address = *addr;
    }
    // As Envoy: without use_remote_address, a request is internal only when x-forwarded-for
    // holds exactly one address and it is internal.
    internal = false;
    if (entries.size() == 1) {
      auto addr = parseIp(entries[0]);
      internal = addr && isInternalAddress(config, *addr);
    }
    if (!headers.has("x-forwarded-proto")) headers.add("x-forwarded-proto", "http");
  }

  const bool edge_external = config.use_remote_address && !internal;
  if (edge_external) {
    // An untrusted client must not steer retries, timeouts or routing through x-envoy-*.
    headers.removePrefix("x-envoy-");
    if (!ctx.peer.isPipe()) {
      headers.set("x-envoy-external-address", info.downstream_remote_address.ip());
    }
  }
  if (internal) {
    headers.set("x-envoy-internal", "true");
  } else {
    headers.remove("x-envoy-internal");
  }

  const std::string* id = headers.get("x-request-id");
  if (config.generate_request_id &&
      (id == nullptr || id->empty() || (edge_external && !config.preserve_external_request_id))) {
    headers.set("x-request-id", generateUuid4());
    id = headers.get("x-request-id");
  }
  if (id != nullptr) info.request_id = *id;

  if (!config.via.empty()) {
    const std::string* via = headers.get("via");
    headers.set("via", via == nullptr ? config.via : absl::StrCat(*via, ", ", config.via));
  }
}

}  // namespace remora::http
