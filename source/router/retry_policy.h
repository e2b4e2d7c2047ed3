// A route's retry_policy compiled, and the per-request retry state that decides whether an
// attempt's outcome is retried and after what back-off.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace envoy::config::route::v3 {
class RetryPolicy;
}

namespace remora::router {

enum RetryOn : uint32_t {
  kRetry5xx = 1u << 0,
  kRetryGatewayError = 1u << 1,  // 502, 503, 504.
  kRetryConnectFailure = 1u << 2,
  kRetryReset = 1u << 3,  // Upstream reset/closed before a response head.
  kRetryRetriableStatusCodes = 1u << 4,
  kRetryRetriable4xx = 1u << 5,  // 409.
  kRetryRefusedStream = 1u << 6,
};

struct RetryPolicy {
  uint32_t retry_on = 0;
  uint32_t num_retries = 1;                      // Envoy's default when retry_policy is present.
  std::chrono::milliseconds per_try_timeout{0};  // 0: none (route timeout only).
  std::chrono::milliseconds base_interval{25};
  std::chrono::milliseconds max_interval{250};  // Default 10 × base_interval.
  std::vector<uint32_t> retriable_status_codes;
  // retry_host_predicate envoy.retry_host_predicates.previous_hosts: a retry's host selection
  // rejects hosts earlier attempts used, reselecting up to host_selection_retry_max_attempts
  // times (Envoy's default: once).
  bool avoid_previous_hosts = false;
  uint32_t host_selection_retry_max_attempts = 1;
};

// Envoy's retry_on / x-envoy-retry-on list ("5xx,reset") as RetryOn bits. Names Remora does not
// act on (retriable-headers, envoy-ratelimited, the gRPC ones, ...) are ignored, as Envoy ignores
// unknown names.
uint32_t parseRetryOn(absl::string_view list);

// Validates and compiles a route or virtual host retry_policy; errors name fields under `path`.
absl::StatusOr<RetryPolicy> compileRetryPolicy(const envoy::config::route::v3::RetryPolicy& config,
                                               const std::string& path);

// What ended an upstream attempt without a usable response head. kRefusedStream is an HTTP/2
// REFUSED_STREAM reset (the upstream did not process the request).
enum class AttemptFailure { kConnectFailure, kReset, kPerTryTimeout, kRefusedStream };

class RetryState {
 public:
  // `policy` may be null (no retries).
  RetryState(const RetryPolicy* policy, uint64_t seed);

  // Whether this response status should be retried (and a retry is left). Consumes one retry
  // when it says yes.
  bool shouldRetryStatus(uint32_t status);
  // Connect failures, resets and per-try timeouts: retried under 5xx, gateway-error and reset
  // (Envoy turns them into a local 503); connect failures also under connect-failure, refused
  // streams also under refused-stream.
  bool shouldRetryFailure(AttemptFailure failure);
  // Back-off before the next try: full jitter over an exponentially growing interval
  // (base × 2^(n-1), capped at max_interval), as Envoy's. n is retriesUsed() (at least 1), so
  // call it after a shouldRetry* that said yes; the result is uniform in [0, interval).
  std::chrono::milliseconds nextBackoff();
  uint32_t retriesUsed() const { return used_; }
  // A retry was wanted but none was left (for URX).
  bool exhausted() const { return exhausted_; }

 private:
  // Takes a retry from the budget when `wanted`; records exhaustion when none is left.
  bool consume(bool wanted);
  uint64_t nextRandom();

  const RetryPolicy* policy_;
  uint64_t rng_;
  uint32_t used_ = 0;
  bool exhausted_ = false;
};

}  // namespace remora::router
