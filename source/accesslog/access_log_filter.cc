// AccessLogFilter implementations. Runtime keys in comparisons are ignored: Remora has no runtime
// layer, so the default_value always applies.
#include "source/accesslog/access_log_filter.h"

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "source/config/field_path.h"
#include "source/formatter/response_flags.h"

namespace remora::accesslog {
namespace {

using envoy::config::accesslog::v3::AccessLogFilter;
using envoy::config::accesslog::v3::ComparisonFilter;

class ComparisonMatch {
 public:
  explicit ComparisonMatch(const ComparisonFilter& c)
      : op_(c.op()), value_(c.value().default_value()) {}
  bool matches(uint64_t actual) const {
    switch (op_) {
      case ComparisonFilter::GE:
        return actual >= value_;
      case ComparisonFilter::LE:
        return actual <= value_;
      default:
        return actual == value_;
    }
  }

 private:
  ComparisonFilter::Op op_;
  uint64_t value_;
};

class StatusCodeFilter : public Filter {
 public:
  explicit StatusCodeFilter(const ComparisonFilter& c) : comparison_(c) {}
  bool matches(const http::StreamInfo& info) const override {
    return comparison_.matches(info.response_code);
  }

 private:
  ComparisonMatch comparison_;
};

class DurationFilter : public Filter {
 public:
  explicit DurationFilter(const ComparisonFilter& c) : comparison_(c) {}
  bool matches(const http::StreamInfo& info) const override {
    // A request logged before its response finished (a reset) counts its duration so far.
    auto duration = info.durationTo(info.last_downstream_tx_byte);
    if (!duration) duration = info.durationTo(http::StreamInfo::Clock::now());
    return comparison_.matches(std::max<int64_t>(0, duration->count()));
  }

 private:
  ComparisonMatch comparison_;
};

// Envoy marks health checks only through its health_check HTTP filter, which Remora does not
// have, so no request is a health check.
class NotHealthCheckFilter : public Filter {
 public:
  bool matches(const http::StreamInfo&) const override { return true; }
};

class ResponseFlagFilter : public Filter {
 public:
  explicit ResponseFlagFilter(uint32_t mask) : mask_(mask) {}
  bool matches(const http::StreamInfo& info) const override {
    return (info.response_flags & mask_) != 0;
  }

 private:
  uint32_t mask_;  // Every flag when the config lists none.
};

class AllOfFilter : public Filter {
 public:
  AllOfFilter(std::vector<FilterConstPtr> filters, bool all)
      : filters_(std::move(filters)), all_(all) {}
  bool matches(const http::StreamInfo& info) const override {
    for (const auto& f : filters_) {
      if (f->matches(info) != all_) return !all_;
    }
    return all_;
  }

 private:
  std::vector<FilterConstPtr> filters_;
  bool all_;  // and_filter when true, or_filter when false.
};

absl::StatusOr<FilterConstPtr> buildList(
    const google::protobuf::RepeatedPtrField<AccessLogFilter>& configs, bool all,
    const std::string& path) {
  std::vector<FilterConstPtr> filters;
  for (int i = 0; i < configs.size(); ++i) {
    auto f = buildFilter(configs[i], config::indexPath(config::fieldPath(path, "filters"), i));
    if (!f.ok()) return f.status();
    filters.push_back(*std::move(f));
  }
  return std::make_unique<AllOfFilter>(std::move(filters), all);
}

absl::StatusOr<FilterConstPtr> buildResponseFlagFilter(
    const envoy::config::accesslog::v3::ResponseFlagFilter& config, const std::string& path) {
  if (config.flags_size() == 0) return std::make_unique<ResponseFlagFilter>(~uint32_t{0});
  uint32_t mask = 0;
  for (int i = 0; i < config.flags_size(); ++i) {
    auto bit = formatter::responseFlagFromCode(config.flags(i));
    if (!bit) {
      return config::invalidAt(config::indexPath(config::fieldPath(path, "flags"), i),
                               absl::StrCat("unknown response flag \"", config.flags(i), "\""));
    }
    mask |= *bit;
  }
  return std::make_unique<ResponseFlagFilter>(mask);
}

}  // namespace

absl::StatusOr<FilterConstPtr> buildFilter(const AccessLogFilter& config, const std::string& path) {
  switch (config.filter_specifier_case()) {
    case AccessLogFilter::kStatusCodeFilter:
      return std::make_unique<StatusCodeFilter>(config.status_code_filter().comparison());
    case AccessLogFilter::kDurationFilter:
      return std::make_unique<DurationFilter>(config.duration_filter().comparison());
    case AccessLogFilter::kNotHealthCheckFilter:
      return std::make_unique<NotHealthCheckFilter>();
    case AccessLogFilter::kAndFilter:
      return buildList(config.and_filter().filters(), true, config::fieldPath(path, "and_filter"));
    case AccessLogFilter::kOrFilter:
      return buildList(config.or_filter().filters(), false, config::fieldPath(path, "or_filter"));
    case AccessLogFilter::kResponseFlagFilter:
      return buildResponseFlagFilter(config.response_flag_filter(),
                                     config::fieldPath(path, "response_flag_filter"));
    case AccessLogFilter::FILTER_SPECIFIER_NOT_SET:
      return config::invalidAt(path, "no filter is set");
    default:
      break;
  }
  const auto* field = config.GetDescriptor()->FindFieldByNumber(config.filter_specifier_case());
  return config::invalidAt(config::fieldPath(path, field->name()), "not supported");
}

}  // namespace remora::accesslog
