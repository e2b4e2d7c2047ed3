#include "tools/mock-cp/sotw_stream.h"

#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "tools/mock-cp/json_text.h"

namespace remora::mockcp {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

std::string SotwStream::describeJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> types;
  for (const auto& [type_url, st] : types_) types.push_back(displayType(type_url));
  return absl::StrCat("{\"stream\":", id_, ",\"api\":", jsonString(api_),
                      ",\"delta\":false,\"node_id\":", jsonString(node_id_),
                      ",\"types\":", jsonStringList(types), "}");
}

grpc::Status SotwStream::onRequestLocked(const DiscoveryRequest& request) {
  if (node_id_.empty() && request.has_node()) node_id_ = request.node().id();
  RequestRecord record;
  record.stream = id_;
  record.api = api_;
  record.type_url = request.type_url();
  record.version_info = request.version_info();
  record.response_nonce = request.response_nonce();
  record.resource_names.assign(request.resource_names().begin(), request.resource_names().end());
  record.node_id = request.has_node() ? request.node().id() : node_id_;
  if (request.has_error_detail()) {
    record.ack = false;
    record.error_detail = request.error_detail().message();
  } else if (!request.response_nonce().empty()) {
    record.ack = true;
  }
  spdlog::info("{}: {} request version=\"{}\" nonce=\"{}\" {} names=[{}]{}", logName(),
               displayType(request.type_url()), request.version_info(), request.response_nonce(),
               !record.ack   ? "SUBSCRIBE"
               : *record.ack ? "ACK"
                             : "NACK",
               absl::StrJoin(record.resource_names, ", "),
               record.error_detail ? " error_detail=\"" + *record.error_detail + "\"" : "");
  cp_.requests.add(std::move(record));

  std::string type_url;
  if (grpc::Status s = requestType(request.type_url(), type_url); !s.ok()) return s;
  TypeState& st = types_[type_url];
  const bool first = st.nonce.empty();
  if (!first && !request.response_nonce().empty()) {
    // A reply to a response that a newer one has overtaken: the client will answer that one.
    if (request.response_nonce() != st.nonce) return grpc::Status::OK;
    // A NACK is only recorded: resending what was rejected would be rejected again.
    if (request.has_error_detail()) return grpc::Status::OK;
  }
  const ResourceType* known = typeByUrl(type_url);
  std::set<std::string> names;
  bool wildcard = request.resource_names().empty() && known != nullptr && known->wildcard;
  for (const auto& name : request.resource_names()) {
    if (name == "*") {
      wildcard = true;
    } else {
      names.insert(name);
    }
  }
  const bool changed = wildcard != st.wildcard || names != st.names;
  st.wildcard = wildcard;
  st.names = std::move(names);
  // Without a nonce the client asks afresh; with one, only a new subscription needs an answer.
  if (first || request.response_nonce().empty() || changed) respondLocked(type_url, st);
  return grpc::Status::OK;
}

void SotwStream::onSnapshotLocked(bool resend) {
  for (auto& [type_url, st] : types_) {
    if (st.nonce.empty()) continue;
    const bool send =
        resend ? st.sent_version < snapshot_->version : selectionLocked(type_url, st) != st.sent;
    if (send) respondLocked(type_url, st);
  }
}

std::map<std::string, int64_t> SotwStream::selectionLocked(const std::string& type_url,
                                                           const TypeState& st) const {
  std::map<std::string, int64_t> out;
  const Snapshot::Entries& entries = snapshot_->ofType(type_url);
  if (st.wildcard) {
    for (const auto& [name, entry] : entries) out.emplace(name, entry.version);
  } else {
    for (const auto& name : st.names) {
      if (auto it = entries.find(name); it != entries.end()) out.emplace(name, it->second.version);
    }
  }
  return out;
}

void SotwStream::respondLocked(const std::string& type_url, TypeState& st) {
  DiscoveryResponse response;
  response.set_version_info(std::to_string(snapshot_->version));
  response.set_type_url(type_url);
  response.set_nonce(nextNonce());
  response.mutable_control_plane()->set_identifier("remora-mock-cp");
  st.sent = selectionLocked(type_url, st);
  const Snapshot::Entries& entries = snapshot_->ofType(type_url);
  std::vector<std::string> names;
  for (const auto& [name, version] : st.sent) {
    *response.add_resources() = *entries.at(name).any;
    names.push_back(name);
  }
  st.nonce = response.nonce();
  st.sent_version = snapshot_->version;
  spdlog::info("{}: {} response version=\"{}\" nonce=\"{}\" resources=[{}]", logName(),
               displayType(type_url), response.version_info(), response.nonce(),
               absl::StrJoin(names, ", "));
  sendLocked(std::move(response));
}

}  // namespace remora::mockcp
