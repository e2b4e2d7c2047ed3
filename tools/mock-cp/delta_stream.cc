#include "tools/mock-cp/delta_stream.h"

#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "tools/mock-cp/json_text.h"

namespace remora::mockcp {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;

std::string DeltaStream::describeJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> types;
  for (const auto& [type_url, st] : types_) types.push_back(displayType(type_url));
  return absl::StrCat("{\"stream\":", id_, ",\"api\":", jsonString(api_),
                      ",\"delta\":true,\"node_id\":", jsonString(node_id_),
                      ",\"types\":", jsonStringList(types), "}");
}

grpc::Status DeltaStream::onRequestLocked(const DeltaDiscoveryRequest& request) {
  if (node_id_.empty() && request.has_node()) node_id_ = request.node().id();
  RequestRecord record;
  record.stream = id_;
  record.api = api_;
  record.delta = true;
  record.type_url = request.type_url();
  record.response_nonce = request.response_nonce();
  record.subscribe.assign(request.resource_names_subscribe().begin(),
                          request.resource_names_subscribe().end());
  record.unsubscribe.assign(request.resource_names_unsubscribe().begin(),
                            request.resource_names_unsubscribe().end());
  record.initial_resource_versions.insert(request.initial_resource_versions().begin(),
                                          request.initial_resource_versions().end());
  record.node_id = request.has_node() ? request.node().id() : node_id_;
  if (request.has_error_detail()) {
    record.ack = false;
    record.error_detail = request.error_detail().message();
  } else if (!request.response_nonce().empty()) {
    record.ack = true;
  }
  std::vector<std::string> initial;
  for (const auto& [name, version] : record.initial_resource_versions) {
    initial.push_back(name + "@" + version);
  }
  spdlog::info("{}: {} request nonce=\"{}\" {} subscribe=[{}] unsubscribe=[{}] initial=[{}]{}",
               logName(), displayType(request.type_url()), request.response_nonce(),
               !record.ack   ? "SUBSCRIBE"
               : *record.ack ? "ACK"
                             : "NACK",
               absl::StrJoin(record.subscribe, ", "), absl::StrJoin(record.unsubscribe, ", "),
               absl::StrJoin(initial, ", "),
               record.error_detail ? " error_detail=\"" + *record.error_detail + "\"" : "");
  cp_.requests.add(std::move(record));

  std::string type_url;
  if (grpc::Status s = requestType(request.type_url(), type_url); !s.ok()) return s;
  auto [it, first] = types_.try_emplace(type_url);
  TypeState& st = it->second;
  if (first) {
    // The legacy wildcard: a first request that names nothing asks for everything.
    st.wildcard = request.resource_names_subscribe().empty();
    st.client_has.insert(request.initial_resource_versions().begin(),
                         request.initial_resource_versions().end());
  }
  for (const auto& name : request.resource_names_subscribe()) {
    if (name == "*") {
      st.wildcard = true;
    } else {
      st.names.insert(name);
    }
  }
  for (const auto& name : request.resource_names_unsubscribe()) {
    if (name == "*") {
      st.wildcard = false;
    } else {
      st.names.erase(name);
      st.client_has.erase(name);
    }
  }
  // A NACK is only recorded: resending what was rejected would be rejected again.
  if (request.has_error_detail()) return grpc::Status::OK;
  // The first answer goes out even when empty: the client's initialization waits for it.
  respondLocked(type_url, st, /*resend=*/false, /*even_if_empty=*/first);
  return grpc::Status::OK;
}

void DeltaStream::onSnapshotLocked(bool resend) {
  for (auto& [type_url, st] : types_) {
    respondLocked(type_url, st, resend && st.sent_version < snapshot_->version,
                  /*even_if_empty=*/false);
  }
}

void DeltaStream::respondLocked(const std::string& type_url, TypeState& st, bool resend,
                                bool even_if_empty) {
  DeltaDiscoveryResponse response;
  std::vector<std::string> sent;
  const Snapshot::Entries& entries = snapshot_->ofType(type_url);
  auto consider = [&](const std::string& name, const Snapshot::Entry& entry) {
    std::string version = std::to_string(entry.version);
    auto has = st.client_has.find(name);
    if (!resend && has != st.client_has.end() && has->second == version) return;
    auto* resource = response.add_resources();
    resource->set_name(name);
    resource->set_version(version);
    *resource->mutable_resource() = *entry.any;
    sent.push_back(name + "@" + version);
    st.client_has[name] = std::move(version);
  };
  if (st.wildcard) {
    for (const auto& [name, entry] : entries) consider(name, entry);
  } else {
    for (const auto& name : st.names) {
      if (auto it = entries.find(name); it != entries.end()) consider(name, it->second);
    }
  }
  for (auto it = st.client_has.begin(); it != st.client_has.end();) {
    if (entries.contains(it->first)) {
      ++it;
      continue;
    }
    response.add_removed_resources(it->first);
    it = st.client_has.erase(it);
  }
  if (response.resources().empty() && response.removed_resources().empty() && !even_if_empty) {
    return;
  }
  response.set_system_version_info(std::to_string(snapshot_->version));
  response.set_type_url(type_url);
  response.set_nonce(nextNonce());
  response.mutable_control_plane()->set_identifier("remora-mock-cp");
  st.sent_version = snapshot_->version;
  spdlog::info("{}: {} response version=\"{}\" nonce=\"{}\" resources=[{}] removed=[{}]", logName(),
               displayType(type_url), response.system_version_info(), response.nonce(),
               absl::StrJoin(sent, ", "), absl::StrJoin(response.removed_resources(), ", "));
  sendLocked(std::move(response));
}

}  // namespace remora::mockcp
