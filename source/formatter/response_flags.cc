// The bit-to-code table of http::ResponseFlag.
#include "source/formatter/response_flags.h"

#include <array>
#include <utility>

#include "source/http/stream_info.h"

namespace remora::formatter {
namespace {

using http::ResponseFlag;

constexpr std::array<std::pair<uint32_t, const char*>, 26> kCodes{{
    {ResponseFlag::kFailedLocalHealthCheck, "LH"},
    {ResponseFlag::kNoHealthyUpstream, "UH"},
    {ResponseFlag::kUpstreamRequestTimeout, "UT"},
    {ResponseFlag::kLocalReset, "LR"},
    {ResponseFlag::kUpstreamRemoteReset, "UR"},
    {ResponseFlag::kUpstreamConnectionFailure, "UF"},
    {ResponseFlag::kUpstreamConnectionTermination, "UC"},
    {ResponseFlag::kUpstreamOverflow, "UO"},
    {ResponseFlag::kNoRouteFound, "NR"},
    {ResponseFlag::kDelayInjected, "DI"},
    {ResponseFlag::kFaultInjected, "FI"},
    {ResponseFlag::kRateLimited, "RL"},
    {ResponseFlag::kUnauthorizedExternalService, "UAEX"},
    {ResponseFlag::kRateLimitServiceError, "RLSE"},
    {ResponseFlag::kDownstreamConnectionTermination, "DC"},
    {ResponseFlag::kUpstreamRetryLimitExceeded, "URX"},
    {ResponseFlag::kStreamIdleTimeout, "SI"},
    {ResponseFlag::kInvalidEnvoyRequestHeaders, "IH"},
    {ResponseFlag::kDownstreamProtocolError, "DPE"},
    {ResponseFlag::kUpstreamMaxStreamDurationReached, "UMSDR"},
    {ResponseFlag::kResponseFromCacheFilter, "RFCF"},
    {ResponseFlag::kNoFilterConfigFound, "NFCF"},
    {ResponseFlag::kDurationTimeout, "DT"},
    {ResponseFlag::kUpstreamProtocolError, "UPE"},
    {ResponseFlag::kNoClusterFound, "NC"},
    {ResponseFlag::kOverloadManager, "OM"},
}};

}  // namespace

void appendResponseFlags(uint32_t flags, std::string& out) {
  bool first = true;
  for (const auto& [bit, code] : kCodes) {
    if ((flags & bit) == 0) continue;
    if (!first) out.push_back(',');
    out.append(code);
    first = false;
  }
}

std::optional<uint32_t> responseFlagFromCode(absl::string_view code) {
  for (const auto& [bit, name] : kCodes) {
    if (code == name) return bit;
  }
  return std::nullopt;
}

}  // namespace remora::formatter
