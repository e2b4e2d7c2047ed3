#include "source/router/retry_policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "source/config/field_path.h"

namespace remora::router {
namespace {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;

std::chrono::milliseconds toMillis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

bool isNegative(const google::protobuf::Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

}  // namespace

uint32_t parseRetryOn(absl::string_view list) {
  uint32_t bits = 0;
  for (absl::string_view name : absl::StrSplit(list, ',')) {
    name = absl::StripAsciiWhitespace(name);
    if (name == "5xx") {
      bits |= kRetry5xx;
    } else if (name == "gateway-error") {
      bits |= kRetryGatewayError;
    } else if (name == "connect-failure") {
      bits |= kRetryConnectFailure;
    } else if (name == "reset") {
      bits |= kRetryReset;
    } else if (name == "retriable-status-codes") {
      bits |= kRetryRetriableStatusCodes;
    } else if (name == "retriable-4xx") {
      bits |= kRetryRetriable4xx;
    } else if (name == "refused-stream") {
      bits |= kRetryRefusedStream;
    }
  }
  return bits;
}

absl::StatusOr<RetryPolicy> compileRetryPolicy(const envoy::config::route::v3::RetryPolicy& config,
                                               const std::string& path) {
  RetryPolicy policy;
  policy.retry_on = parseRetryOn(config.retry_on());
  if (config.has_num_retries()) policy.num_retries = config.num_retries().value();
  if (config.has_per_try_timeout()) {
    if (isNegative(config.per_try_timeout())) {
      return invalidAt(fieldPath(path, "per_try_timeout"), "must not be negative");
    }
    policy.per_try_timeout = toMillis(config.per_try_timeout());
  }
  if (config.has_retry_back_off()) {
    const auto& back_off = config.retry_back_off();
    const std::string back_off_path = fieldPath(path, "retry_back_off");
    if (!back_off.has_base_interval()) {
      return invalidAt(fieldPath(back_off_path, "base_interval"), "is required");
    }
    const auto& base = back_off.base_interval();
    if (isNegative(base) || (base.seconds() == 0 && base.nanos() == 0)) {
      return invalidAt(fieldPath(back_off_path, "base_interval"), "must be greater than 0");
    }
    // Envoy rounds sub-millisecond intervals up to 1 ms.
    policy.base_interval = std::max(toMillis(base), std::chrono::milliseconds(1));
    policy.max_interval = policy.base_interval * 10;
    if (back_off.has_max_interval()) {
      const auto& max = back_off.max_interval();
      if (isNegative(max) || (max.seconds() == 0 && max.nanos() == 0)) {
        return invalidAt(fieldPath(back_off_path, "max_interval"), "must be greater than 0");
      }
      policy.max_interval = std::max(toMillis(max), std::chrono::milliseconds(1));
      if (policy.max_interval < policy.base_interval) {
        return invalidAt(fieldPath(back_off_path, "max_interval"),
                         "must be greater than or equal to base_interval");
      }
    }
  }
  policy.retriable_status_codes.assign(config.retriable_status_codes().begin(),
                                       config.retriable_status_codes().end());
  for (int i = 0; i < config.retry_host_predicate_size(); ++i) {
    const auto& predicate = config.retry_host_predicate(i);
    const std::string predicate_path = indexPath(fieldPath(path, "retry_host_predicate"), i);
    const bool previous_hosts =
        predicate.name() == "envoy.retry_host_predicates.previous_hosts" ||
        (predicate.has_typed_config() &&
         predicate.typed_config().type_url() ==
             "type.googleapis.com/"
             "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate");
    if (!previous_hosts) {
      return invalidAt(fieldPath(predicate_path, "name"),
                       absl::StrCat("retry host predicate '", predicate.name(),
                                    "' is not supported (only "
                                    "envoy.retry_host_predicates.previous_hosts)"));
    }
    policy.avoid_previous_hosts = true;
  }
  if (config.host_selection_retry_max_attempts() < 0) {
    return invalidAt(fieldPath(path, "host_selection_retry_max_attempts"), "must not be negative");
  }
  if (config.host_selection_retry_max_attempts() > 0) {
    // Each reselection is one balancer pick; beyond a hundred nothing more is learned.
    policy.host_selection_retry_max_attempts =
        static_cast<uint32_t>(std::min<int64_t>(config.host_selection_retry_max_attempts(), 100));
  }
  return policy;
}

RetryState::RetryState(const RetryPolicy* policy, uint64_t seed) : policy_(policy), rng_(seed) {}

bool RetryState::consume(bool wanted) {
  if (!wanted) return false;
  if (used_ >= policy_->num_retries) {
    exhausted_ = true;
    return false;
  }
  ++used_;
  return true;
}

bool RetryState::shouldRetryStatus(uint32_t status) {
  if (policy_ == nullptr) return false;
  const uint32_t on = policy_->retry_on;
  bool wanted = false;
  if ((on & kRetry5xx) && status >= 500 && status <= 599) wanted = true;
  if ((on & kRetryGatewayError) && (status == 502 || status == 503 || status == 504)) wanted = true;
  if ((on & kRetryRetriable4xx) && status == 409) wanted = true;
  if (on & kRetryRetriableStatusCodes) {
    const auto& codes = policy_->retriable_status_codes;
    if (std::find(codes.begin(), codes.end(), status) != codes.end()) wanted = true;
  }
  return consume(wanted);
}

bool RetryState::shouldRetryFailure(AttemptFailure failure) {
  if (policy_ == nullptr) return false;
  const uint32_t on = policy_->retry_on;
  bool wanted = (on & (kRetry5xx | kRetryGatewayError | kRetryReset)) != 0;
  if (failure == AttemptFailure::kConnectFailure && (on & kRetryConnectFailure)) wanted = true;
  if (failure == AttemptFailure::kRefusedStream && (on & kRetryRefusedStream)) wanted = true;
  return consume(wanted);
}

uint64_t RetryState::nextRandom() {
  // splitmix64: small, fast and fully determined by the seed, which is all tests need.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::chrono::milliseconds RetryState::nextBackoff() {
  if (policy_ == nullptr) return std::chrono::milliseconds(0);
  const uint64_t max = static_cast<uint64_t>(std::max<int64_t>(policy_->max_interval.count(), 0));
  uint64_t interval = static_cast<uint64_t>(std::max<int64_t>(policy_->base_interval.count(), 0));
  // Doubling saturates at max_interval, so the loop ends within ~64 steps whatever used_ is.
  for (uint32_t n = 1; n < used_ && interval < max; ++n) {
    interval = interval < max / 2 ? interval * 2 : max;
  }
  interval = std::min(interval, max);
  if (interval == 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(nextRandom() % interval);
}

}  // namespace remora::router
