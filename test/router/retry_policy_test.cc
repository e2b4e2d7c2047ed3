// Specification of retry policies: parsing retry_on and the back-off settings, which outcomes
// each retry_on value retries, the num_retries budget and the jittered exponential back-off.
#include "source/router/retry_policy.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "envoy/config/route/v3/route_components.pb.h"
#include "source/config/yaml_to_proto.h"

namespace remora::router {
namespace {

using std::chrono::milliseconds;

absl::StatusOr<RetryPolicy> compileYaml(const std::string& yaml) {
  envoy::config::route::v3::RetryPolicy config;
  config::ParseReport report;
  if (absl::Status s = config::parseYaml(yaml, config, report); !s.ok()) return s;
  return compileRetryPolicy(config, "retry_policy");
}

RetryPolicy policy(const std::string& yaml) {
  auto p = compileYaml(yaml);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  return *p;
}

std::string errorOf(const std::string& yaml) {
  auto p = compileYaml(yaml);
  return p.ok() ? std::string() : std::string(p.status().message());
}

// Whether a fresh state for `retry_on` would retry `status`.
bool retriesStatus(const std::string& retry_on, uint32_t status) {
  RetryPolicy p = policy("{retry_on: \"" + retry_on + "\", retriable_status_codes: [418]}");
  RetryState state(&p, 1);
  return state.shouldRetryStatus(status);
}

bool retriesFailure(const std::string& retry_on, AttemptFailure failure) {
  RetryPolicy p = policy("{retry_on: \"" + retry_on + "\"}");
  RetryState state(&p, 1);
  return state.shouldRetryFailure(failure);
}

// --- Config -------------------------------------------------------------------------------------

TEST_CASE("retry_on is a comma list whose unknown names are ignored", "[router]") {
  CHECK(parseRetryOn("5xx, gateway-error,connect-failure ,reset") ==
        (kRetry5xx | kRetryGatewayError | kRetryConnectFailure | kRetryReset));
  CHECK(parseRetryOn("retriable-status-codes,retriable-4xx,refused-stream") ==
        (kRetryRetriableStatusCodes | kRetryRetriable4xx | kRetryRefusedStream));
  CHECK(parseRetryOn("unavailable,bogus,,envoy-ratelimited") == 0);
}

TEST_CASE("a retry policy defaults to one retry and a 25 ms base back-off", "[router]") {
  RetryPolicy p = policy("{retry_on: 5xx}");
  CHECK(p.num_retries == 1);
  CHECK(p.per_try_timeout == milliseconds(0));
  CHECK(p.base_interval == milliseconds(25));
  CHECK(p.max_interval == milliseconds(250));
}

TEST_CASE("a retry policy reads num_retries per_try_timeout and status codes", "[router]") {
  RetryPolicy p = policy(
      "{retry_on: retriable-status-codes, num_retries: 3, per_try_timeout: 0.2s, "
      "retriable_status_codes: [409, 418]}");
  CHECK(p.num_retries == 3);
  CHECK(p.per_try_timeout == milliseconds(200));
  CHECK(p.retriable_status_codes == std::vector<uint32_t>{409, 418});
}

TEST_CASE("retry_back_off max_interval defaults to ten times base_interval", "[router]") {
  RetryPolicy p = policy("{retry_back_off: {base_interval: 0.1s}}");
  CHECK(p.base_interval == milliseconds(100));
  CHECK(p.max_interval == milliseconds(1000));
  RetryPolicy q = policy("{retry_back_off: {base_interval: 0.1s, max_interval: 0.3s}}");
  CHECK(q.max_interval == milliseconds(300));
}

TEST_CASE("a sub-millisecond base_interval is rounded up to 1 ms", "[router]") {
  CHECK(policy("{retry_back_off: {base_interval: 0.0001s}}").base_interval == milliseconds(1));
}

TEST_CASE("retry_back_off without base_interval is a compile error", "[router]") {
  CHECK(errorOf("{retry_back_off: {max_interval: 1s}}") ==
        "retry_policy.retry_back_off.base_interval: is required");
  CHECK(errorOf("{retry_back_off: {base_interval: 0s}}") ==
        "retry_policy.retry_back_off.base_interval: must be greater than 0");
}

TEST_CASE("a max_interval below base_interval is a compile error", "[router]") {
  CHECK(errorOf("{retry_back_off: {base_interval: 1s, max_interval: 0.5s}}") ==
        "retry_policy.retry_back_off.max_interval: must be greater than or equal to "
        "base_interval");
}

// --- Decisions ----------------------------------------------------------------------------------

TEST_CASE("5xx retries every 5xx status and no other", "[router]") {
  CHECK(retriesStatus("5xx", 500));
  CHECK(retriesStatus("5xx", 503));
  CHECK(retriesStatus("5xx", 599));
  CHECK_FALSE(retriesStatus("5xx", 409));
  CHECK_FALSE(retriesStatus("5xx", 200));
}

TEST_CASE("gateway-error retries 502 503 and 504 only", "[router]") {
  CHECK(retriesStatus("gateway-error", 502));
  CHECK(retriesStatus("gateway-error", 503));
  CHECK(retriesStatus("gateway-error", 504));
  CHECK_FALSE(retriesStatus("gateway-error", 500));
  CHECK_FALSE(retriesStatus("gateway-error", 501));
}

TEST_CASE("retriable-4xx retries 409 only", "[router]") {
  CHECK(retriesStatus("retriable-4xx", 409));
  CHECK_FALSE(retriesStatus("retriable-4xx", 404));
  CHECK_FALSE(retriesStatus("retriable-4xx", 503));
}

TEST_CASE("retriable-status-codes retries the listed statuses", "[router]") {
  CHECK(retriesStatus("retriable-status-codes", 418));
  CHECK_FALSE(retriesStatus("retriable-status-codes", 503));
  CHECK_FALSE(retriesStatus("5xx", 418));
}

TEST_CASE("a connect failure is retried under connect-failure 5xx gateway-error and reset",
          "[router]") {
  for (const char* on : {"connect-failure", "5xx", "gateway-error", "reset"}) {
    INFO(on);
    CHECK(retriesFailure(on, AttemptFailure::kConnectFailure));
  }
  CHECK_FALSE(retriesFailure("retriable-4xx,refused-stream", AttemptFailure::kConnectFailure));
}

TEST_CASE("a reset is retried under reset 5xx and gateway-error but not connect-failure",
          "[router]") {
  for (const char* on : {"reset", "5xx", "gateway-error"}) {
    INFO(on);
    CHECK(retriesFailure(on, AttemptFailure::kReset));
  }
  CHECK_FALSE(retriesFailure("connect-failure,refused-stream", AttemptFailure::kReset));
}

TEST_CASE("a refused stream is retried under refused-stream", "[router]") {
  CHECK(retriesFailure("refused-stream", AttemptFailure::kRefusedStream));
  CHECK(retriesFailure("5xx", AttemptFailure::kRefusedStream));
  CHECK_FALSE(retriesFailure("connect-failure", AttemptFailure::kRefusedStream));
}

TEST_CASE("a per-try timeout is retried under 5xx gateway-error and reset", "[router]") {
  CHECK(retriesFailure("5xx", AttemptFailure::kPerTryTimeout));
  CHECK(retriesFailure("gateway-error", AttemptFailure::kPerTryTimeout));
  CHECK(retriesFailure("reset", AttemptFailure::kPerTryTimeout));
  CHECK_FALSE(retriesFailure("connect-failure", AttemptFailure::kPerTryTimeout));
}

TEST_CASE("retries stop at num_retries and the state reports exhaustion", "[router]") {
  RetryPolicy p = policy("{retry_on: 5xx, num_retries: 2}");
  RetryState state(&p, 1);
  CHECK(state.shouldRetryStatus(503));
  CHECK(state.shouldRetryFailure(AttemptFailure::kReset));
  CHECK(state.retriesUsed() == 2);
  CHECK_FALSE(state.exhausted());
  CHECK_FALSE(state.shouldRetryStatus(503));
  CHECK(state.exhausted());
  CHECK(state.retriesUsed() == 2);
}

TEST_CASE("an outcome that is not retriable neither uses a retry nor exhausts", "[router]") {
  RetryPolicy p = policy("{retry_on: gateway-error, num_retries: 0}");
  RetryState state(&p, 1);
  CHECK_FALSE(state.shouldRetryStatus(500));
  CHECK_FALSE(state.exhausted());
  CHECK_FALSE(state.shouldRetryStatus(503));
  CHECK(state.exhausted());
}

TEST_CASE("without a retry policy nothing is retried or exhausted", "[router]") {
  RetryState state(nullptr, 1);
  CHECK_FALSE(state.shouldRetryStatus(503));
  CHECK_FALSE(state.shouldRetryFailure(AttemptFailure::kConnectFailure));
  CHECK_FALSE(state.exhausted());
  CHECK(state.nextBackoff() == milliseconds(0));
}

// --- Back-off -----------------------------------------------------------------------------------

// The largest back-off seen for the n-th retry over many seeds, and that none reached `bound`.
milliseconds largestBackoff(const RetryPolicy& p, uint32_t n, milliseconds bound) {
  milliseconds largest(0);
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    RetryState state(&p, seed);
    for (uint32_t i = 0; i < n; ++i) REQUIRE(state.shouldRetryStatus(503));
    const milliseconds b = state.nextBackoff();
    REQUIRE(b >= milliseconds(0));
    REQUIRE(b < bound);
    largest = std::max(largest, b);
  }
  return largest;
}

TEST_CASE("back-off is jittered over base times 2 to the n-1 capped at max_interval", "[router]") {
  RetryPolicy p = policy("{retry_on: 5xx, num_retries: 10}");  // 25 ms base, 250 ms max.
  // Full jitter: each bound is nearly reached but never met.
  CHECK(largestBackoff(p, 1, milliseconds(25)) >= milliseconds(23));
  CHECK(largestBackoff(p, 2, milliseconds(50)) >= milliseconds(45));
  CHECK(largestBackoff(p, 3, milliseconds(100)) >= milliseconds(90));
  CHECK(largestBackoff(p, 4, milliseconds(200)) >= milliseconds(180));
  CHECK(largestBackoff(p, 5, milliseconds(250)) >= milliseconds(225));
  CHECK(largestBackoff(p, 9, milliseconds(250)) >= milliseconds(225));
}

TEST_CASE("back-off is deterministic for a seed", "[router]") {
  RetryPolicy p = policy("{retry_on: 5xx, num_retries: 5}");
  auto sequence = [&](uint64_t seed) {
    RetryState state(&p, seed);
    std::vector<int64_t> out;
    while (state.shouldRetryStatus(503)) out.push_back(state.nextBackoff().count());
    return out;
  };
  CHECK(sequence(42) == sequence(42));
  CHECK(sequence(42).size() == 5);
  CHECK(sequence(42) != sequence(43));
}

TEST_CASE("the previous_hosts predicate makes retries avoid earlier hosts", "[router]") {
  RetryPolicy by_name =
      policy("{retry_host_predicate: [{name: envoy.retry_host_predicates.previous_hosts}]}");
  CHECK(by_name.avoid_previous_hosts);
  CHECK(by_name.host_selection_retry_max_attempts == 1);  // Envoy's default.
  RetryPolicy typed = policy(R"({retry_host_predicate: [{name: p, typed_config: {"@type":
      type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}}],
      host_selection_retry_max_attempts: 5})");
  CHECK(typed.avoid_previous_hosts);
  CHECK(typed.host_selection_retry_max_attempts == 5);
  CHECK_FALSE(policy("{retry_on: 5xx}").avoid_previous_hosts);
}

TEST_CASE("other retry host predicates are refused at their path", "[router]") {
  CHECK(
      errorOf("{retry_host_predicate: [{name: envoy.retry_host_predicates.omit_canary_hosts}]}") ==
      "retry_policy.retry_host_predicate[0].name: retry host predicate "
      "'envoy.retry_host_predicates.omit_canary_hosts' is not supported (only "
      "envoy.retry_host_predicates.previous_hosts)");
  CHECK(errorOf("{host_selection_retry_max_attempts: -1}") ==
        "retry_policy.host_selection_retry_max_attempts: must not be negative");
}

}  // namespace
}  // namespace remora::router
