#include "tools/mock-cp/request_log.h"

#include "absl/strings/str_cat.h"
#include "tools/mock-cp/json_text.h"

namespace remora::mockcp {
namespace {

std::string recordJson(const RequestRecord& r) {
  std::string out = absl::StrCat(
      "{\"seq\":", r.seq, ",\"stream\":", r.stream, ",\"api\":", jsonString(r.api),
      ",\"delta\":", r.delta ? "true" : "false", ",\"type_url\":", jsonString(r.type_url));
  if (r.delta) {
    absl::StrAppend(&out, ",\"resource_names_subscribe\":", jsonStringList(r.subscribe),
                    ",\"resource_names_unsubscribe\":", jsonStringList(r.unsubscribe),
                    ",\"initial_resource_versions\":", jsonStringMap(r.initial_resource_versions));
  } else {
    absl::StrAppend(&out, ",\"version_info\":", jsonString(r.version_info),
                    ",\"resource_names\":", jsonStringList(r.resource_names));
  }
  absl::StrAppend(&out, ",\"response_nonce\":", jsonString(r.response_nonce),
                  ",\"node_id\":", jsonString(r.node_id), ",\"ack\":",
                  !r.ack   ? "null"
                  : *r.ack ? "true"
                           : "false",
                  ",\"error_detail\":", r.error_detail ? jsonString(*r.error_detail) : "null", "}");
  return out;
}

}  // namespace

void RequestLog::add(RequestRecord record) {
  std::lock_guard<std::mutex> lock(mu_);
  record.seq = next_seq_++;
  records_.push_back(std::move(record));
}

void RequestLog::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  records_.clear();
}

size_t RequestLog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

std::string RequestLog::json() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = "[";
  for (size_t i = 0; i < records_.size(); ++i) {
    if (i > 0) out += ",\n";
    out += recordJson(records_[i]);
  }
  return out + "]\n";
}

}  // namespace remora::mockcp
