// request_headers_to_add / _remove and response_headers_to_add / _remove at one level (route,
// virtual host or route configuration), compiled once; values may use %VAR% formatters.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "source/formatter/formatter.h"
#include "source/http/header_map.h"
#include "source/http/stream_info.h"

namespace remora::router {

enum class AppendAction {
  kAppendIfExistsOrAdd,
  kAddIfAbsent,
  kOverwriteIfExistsOrAdd,
  kOverwriteIfExists,
};

class HeaderMutations {
 public:
  struct Add {
    std::string key;  // Lowercase.
    formatter::FormatterConstPtr value;
    AppendAction action = AppendAction::kAppendIfExistsOrAdd;
    bool keep_empty_value = false;
  };
  HeaderMutations() = default;
  HeaderMutations(std::vector<Add> adds, std::vector<std::string> removes)
      : adds_(std::move(adds)), removes_(std::move(removes)) {}

  // Removals first, then additions, as Envoy applies them. Every value is formatted before any
  // header changes; then overwrites apply, then appends. Empty values are skipped unless
  // keep_empty_value. Formatters read `info` only (point info.request_headers at the headers).
  void apply(http::HeaderMap& headers, const http::StreamInfo& info) const;
  bool empty() const { return adds_.empty() && removes_.empty(); }

 private:
  std::vector<Add> adds_;
  std::vector<std::string> removes_;
};

}  // namespace remora::router
