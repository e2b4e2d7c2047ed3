// What happened to one HTTP request (or TCP connection): times, addresses, upstream choice,
// response code, flags and byte counts. Filled in by the connection manager and the router;
// read by access logs and by the %VAR% header formatters.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "source/network/address.h"

namespace remora::http {

class HeaderMap;

// Envoy's %RESPONSE_FLAGS%: one bit each, printed as the short codes in this order.
enum ResponseFlag : uint32_t {
  kFailedLocalHealthCheck = 1u << 0,             // LH
  kNoHealthyUpstream = 1u << 1,                  // UH
  kUpstreamRequestTimeout = 1u << 2,             // UT
  kLocalReset = 1u << 3,                         // LR
  kUpstreamRemoteReset = 1u << 4,                // UR
  kUpstreamConnectionFailure = 1u << 5,          // UF
  kUpstreamConnectionTermination = 1u << 6,      // UC
  kUpstreamOverflow = 1u << 7,                   // UO
  kNoRouteFound = 1u << 8,                       // NR
  kDelayInjected = 1u << 9,                      // DI
  kFaultInjected = 1u << 10,                     // FI
  kRateLimited = 1u << 11,                       // RL
  kUnauthorizedExternalService = 1u << 12,       // UAEX
  kRateLimitServiceError = 1u << 13,             // RLSE
  kDownstreamConnectionTermination = 1u << 14,   // DC
  kUpstreamRetryLimitExceeded = 1u << 15,        // URX
  kStreamIdleTimeout = 1u << 16,                 // SI
  kInvalidEnvoyRequestHeaders = 1u << 17,        // IH
  kDownstreamProtocolError = 1u << 18,           // DPE
  kUpstreamMaxStreamDurationReached = 1u << 19,  // UMSDR
  kResponseFromCacheFilter = 1u << 20,           // RFCF
  kNoFilterConfigFound = 1u << 21,               // NFCF
  kDurationTimeout = 1u << 22,                   // DT
  kUpstreamProtocolError = 1u << 23,             // UPE
  kNoClusterFound = 1u << 24,                    // NC
  kOverloadManager = 1u << 25,                   // OM
};

struct StreamInfo {
  using Clock = std::chrono::steady_clock;

  // Wall-clock start for %START_TIME%; steady start for durations.
  std::chrono::system_clock::time_point start_time;
  Clock::time_point start_steady;
  std::optional<Clock::time_point> last_downstream_rx_byte;  // Request fully received.
  std::optional<Clock::time_point> first_upstream_tx_byte;
  std::optional<Clock::time_point> first_upstream_rx_byte;
  std::optional<Clock::time_point> last_downstream_tx_byte;  // Response fully sent.

  network::Address downstream_remote_address;         // After x-forwarded-for processing.
  network::Address downstream_direct_remote_address;  // The socket peer.
  network::Address downstream_local_address;
  std::optional<network::Address> upstream_host;  // The endpoint the last attempt went to.
  std::optional<network::Address> upstream_local_address;
  std::string upstream_cluster;  // Empty when no cluster was chosen.
  std::string route_name;
  std::string protocol = "HTTP/1.1";  // %PROTOCOL%: "HTTP/1.0", "HTTP/1.1", "HTTP/2".
  std::string response_code_details;  // %RESPONSE_CODE_DETAILS%, e.g. "via_upstream".
  std::string upstream_transport_failure_reason;
  std::string request_id;  // x-request-id as forwarded.

  uint32_t response_code = 0;   // 0 when no response was sent.
  uint32_t response_flags = 0;  // ResponseFlag bits.
  uint32_t attempt_count = 0;   // Upstream tries, including retries.
  uint64_t bytes_received = 0;  // Request body bytes from downstream.
  uint64_t bytes_sent = 0;      // Response body bytes to downstream.
  uint64_t upstream_bytes_sent = 0;
  uint64_t upstream_bytes_received = 0;

  // Set while the request is live; null for TCP connections.
  const HeaderMap* request_headers = nullptr;
  const HeaderMap* response_headers = nullptr;
  const HeaderMap* response_trailers = nullptr;

  void setFlag(ResponseFlag f) { response_flags |= f; }
  bool hasFlag(ResponseFlag f) const { return (response_flags & f) != 0; }
  // From start to now or to the given point, for %DURATION% etc.
  std::optional<std::chrono::milliseconds> durationTo(
      const std::optional<Clock::time_point>& t) const {
    if (!t) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(*t - start_steady);
  }
};

}  // namespace remora::http
