#include "source/xds/mux.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "google/rpc/status.pb.h"
#include "source/xds/backoff.h"
#include "source/xds/type_urls.h"

namespace remora::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr int kInvalidArgument = 3;  // google.rpc.Code.INVALID_ARGUMENT

template <class Message, class NameOf>
absl::StatusOr<std::string> parseName(const google::protobuf::Any& any, NameOf name_of) {
  Message message;
  if (!message.ParseFromString(any.value())) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode as ", any.type_url()));
  }
  return std::string(name_of(message));
}

// `any` must be exactly of `type_url`, not a wrapper.
absl::StatusOr<std::string> bareResourceName(absl::string_view type_url,
                                             const google::protobuf::Any& any) {
  if (any.type_url() != type_url) {
    return absl::InvalidArgumentError(
        absl::StrCat("type ", any.type_url(), " where ", type_url, " was expected"));
  }
  if (type_url == kListenerType) {
    return parseName<envoy::config::listener::v3::Listener>(
        any, [](const auto& m) -> const std::string& { return m.name(); });
  }
  if (type_url == kClusterType) {
    return parseName<envoy::config::cluster::v3::Cluster>(
        any, [](const auto& m) -> const std::string& { return m.name(); });
  }
  if (type_url == kRouteConfigurationType) {
    return parseName<envoy::config::route::v3::RouteConfiguration>(
        any, [](const auto& m) -> const std::string& { return m.name(); });
  }
  if (type_url == kClusterLoadAssignmentType) {
    return parseName<envoy::config::endpoint::v3::ClusterLoadAssignment>(
        any, [](const auto& m) -> const std::string& { return m.cluster_name(); });
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported resource type ", type_url));
}

// Requests list names sorted so that the same subscription always produces the same bytes (and
// tests can compare them).
std::vector<std::string> sortedNames(const absl::flat_hash_set<std::string>& names) {
  std::vector<std::string> sorted(names.begin(), names.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

google::rpc::Status invalidArgument(const absl::Status& status) {
  google::rpc::Status detail;
  detail.set_code(kInvalidArgument);
  detail.set_message(std::string(status.message()));
  return detail;
}

struct TypeState {
  TypeState(std::string type_url, ResourceWatcher* watcher, bool wildcard, stats::Store& store,
            const std::string& prefix)
      : type_url(std::move(type_url)),
        watcher(watcher),
        wildcard(wildcard),
        update_attempt(store.counter(prefix + "update_attempt")),
        update_success(store.counter(prefix + "update_success")),
        update_rejected(store.counter(prefix + "update_rejected")),
        update_failure(store.counter(prefix + "update_failure")) {}

  // A named watch sends nothing until it has a name: an empty resource_names list would read as
  // a wildcard subscription to the server.
  bool wantsRequest() const { return wildcard || !names.empty(); }

  const std::string type_url;
  ResourceWatcher* const watcher;
  const bool wildcard;
  stats::Counter& update_attempt;
  stats::Counter& update_success;
  stats::Counter& update_rejected;
  stats::Counter& update_failure;

  absl::flat_hash_set<std::string> names;  // What the watcher wants now (named watches).

  // Per stream, cleared when a new one opens.
  bool requested = false;                       // The first request went out on this stream.
  absl::flat_hash_set<std::string> sent_names;  // What this stream's server was last told.
  std::string nonce;                            // SotW: the last one received.

  // Kept across streams, so that a reconnect resumes from what was accepted.
  std::string version;                                              // SotW version_info.
  absl::flat_hash_map<std::string, std::string> resource_versions;  // Delta: name -> version.
};

}  // namespace

struct Mux::Impl {
  Impl(Mux& mux, event::Dispatcher& dispatcher, std::unique_ptr<Transport> transport,
       MuxOptions options, stats::Store& store)
      : mux(mux),
        transport(std::move(transport)),
        options(std::move(options)),
        store(store),
        connected_state(store.gauge("control_plane.connected_state")),
        backoff(this->options.backoff_base, this->options.backoff_max),
        retry_timer(dispatcher.createTimer([this] { openStream(); })) {}

  TypeState* find(absl::string_view type_url) {
    auto it = by_type.find(type_url);
    return it == by_type.end() ? nullptr : it->second;
  }

  void openStream();
  void sendInitialRequest(TypeState& type);
  void sendNamesUpdate(TypeState& type);
  void flushPendingNames();
  template <class Request>
  void send(Request& request);
  void markConnected();
  // False when the response is to be ignored (no ACK).
  bool acceptResponseFor(TypeState* type, absl::string_view type_url);
  absl::Status deliver(TypeState& type, const Update& update);
  absl::Status decodeSotw(DiscoveryResponse& response, std::vector<Resource>& out);
  absl::Status decodeDelta(DeltaDiscoveryResponse& response, Update& out);

  Mux& mux;
  std::unique_ptr<Transport> transport;
  const MuxOptions options;
  stats::Store& store;
  stats::Gauge& connected_state;
  std::vector<std::unique_ptr<TypeState>> types;  // In addWatch order.
  absl::flat_hash_map<std::string, TypeState*> by_type;
  absl::flat_hash_set<std::string> warned_unknown_types;

  bool started = false;
  std::unique_ptr<Stream> stream;
  // A stream that reported its close, possibly from inside one of its own methods: destroyed
  // only when the next one opens, from the retry timer.
  std::unique_ptr<Stream> closed_stream;
  bool opening = false;
  bool closed_while_opening = false;
  bool node_sent = false;  // On this stream.

  // Set while a watcher runs: names it changes go out after that response's ACK or NACK, so the
  // server sees the ACK of the update that caused them first.
  bool dispatching = false;
  bool names_pending = false;

  Backoff backoff;
  event::TimerPtr retry_timer;
  // A failure was logged at warn and no stream has connected since: further ones are debug.
  bool in_outage = false;
};

void Mux::Impl::openStream() {
  closed_stream.reset();
  for (auto& type : types) {
    type->requested = false;
    type->sent_names.clear();
    type->nonce.clear();
  }
  node_sent = false;
  opening = true;
  closed_while_opening = false;
  std::unique_ptr<Stream> opened = transport->open(mux);
  opening = false;
  if (closed_while_opening) {
    closed_stream = std::move(opened);
    return;
  }
  stream = std::move(opened);
  // Requests go out at once rather than on onStreamConnected: a server may hold its response
  // headers until it has something to answer.
  for (auto& type : types) {
    if (type->wantsRequest()) sendInitialRequest(*type);
  }
}

void Mux::Impl::sendInitialRequest(TypeState& type) {
  type.requested = true;
  type.sent_names = type.names;
  if (options.delta) {
    DeltaDiscoveryRequest request;
    request.set_type_url(type.type_url);
    if (!type.wildcard) {
      for (auto& name : sortedNames(type.names))
        request.add_resource_names_subscribe(std::move(name));
    }
    auto& initial = *request.mutable_initial_resource_versions();
    for (const auto& [name, version] : type.resource_versions) {
      if (type.wildcard || type.names.contains(name)) initial[name] = version;
    }
    send(request);
  } else {
    DiscoveryRequest request;
    request.set_type_url(type.type_url);
    request.set_version_info(type.version);
    request.set_response_nonce(type.nonce);
    if (!type.wildcard) {
      for (auto& name : sortedNames(type.names)) request.add_resource_names(std::move(name));
    }
    send(request);
  }
}

void Mux::Impl::sendNamesUpdate(TypeState& type) {
  if (stream == nullptr) return;
  if (!type.requested) {
    if (type.wantsRequest()) sendInitialRequest(type);
    return;
  }
  if (type.names == type.sent_names) return;
  if (options.delta) {
    DeltaDiscoveryRequest request;
    request.set_type_url(type.type_url);
    for (auto& name : sortedNames(type.names)) {
      if (!type.sent_names.contains(name)) request.add_resource_names_subscribe(std::move(name));
    }
    for (auto& name : sortedNames(type.sent_names)) {
      if (!type.names.contains(name)) request.add_resource_names_unsubscribe(std::move(name));
    }
    type.sent_names = type.names;
    send(request);
  } else {
    // SotW has no unsubscribe: the full list replaces the old one, even when it is now empty.
    DiscoveryRequest request;
    request.set_type_url(type.type_url);
    request.set_version_info(type.version);
    request.set_response_nonce(type.nonce);
    for (auto& name : sortedNames(type.names)) request.add_resource_names(std::move(name));
    type.sent_names = type.names;
    send(request);
  }
}

void Mux::Impl::flushPendingNames() {
  if (!names_pending) return;
  names_pending = false;
  for (auto& type : types) sendNamesUpdate(*type);
}

template <class Request>
void Mux::Impl::send(Request& request) {
  if (stream == nullptr) return;
  if (!options.set_node_on_first_message_only || !node_sent) {
    *request.mutable_node() = options.node;
    node_sent = true;
  }
  stream->send(request);
}

void Mux::Impl::markConnected() {
  connected_state.set(1);
  if (mux.connected_) return;
  mux.connected_ = true;
  if (in_outage) {
    spdlog::info("xds: reconnected to {}", mux.description_);
    in_outage = false;
  }
}

bool Mux::Impl::acceptResponseFor(TypeState* type, absl::string_view type_url) {
  // A response can only come from the current stream; one reported while open() has not yet
  // returned has no stream to ACK on.
  if (stream == nullptr) return false;
  markConnected();
  backoff.reset();
  if (type == nullptr) {
    if (warned_unknown_types.insert(std::string(type_url)).second) {
      spdlog::warn("xds: {} sent {} which nothing watches; ignored", mux.description_,
                   std::string(type_url));
    }
    return false;
  }
  type->update_attempt.inc();
  return true;
}

absl::Status Mux::Impl::deliver(TypeState& type, const Update& update) {
  dispatching = true;
  absl::Status status = type.watcher->onUpdate(update);
  dispatching = false;
  return status;
}

absl::Status Mux::Impl::decodeSotw(DiscoveryResponse& response, std::vector<Resource>& out) {
  const std::string& type_url = response.type_url();
  absl::flat_hash_set<std::string> seen;
  out.reserve(response.resources_size());
  for (int i = 0; i < response.resources_size(); ++i) {
    google::protobuf::Any& any = *response.mutable_resources(i);
    absl::StatusOr<std::string> name = resourceName(type_url, any);
    if (!name.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource ", i, ": ", name.status().message()));
    }
    if (name->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("resource ", i, ": name is empty"));
    }
    if (!seen.insert(*name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource ", i, ": duplicate name '", *name, "'"));
    }
    Resource& resource = out.emplace_back();
    resource.name = std::move(*name);
    resource.version = response.version_info();
    if (any.type_url() == kResourceWrapperType) {
      envoy::service::discovery::v3::Resource wrapper;
      any.UnpackTo(&wrapper);  // resourceName() decoded it already.
      if (!wrapper.version().empty()) resource.version = wrapper.version();
      resource.resource = std::move(*wrapper.mutable_resource());
    } else {
      resource.resource = std::move(any);
    }
  }
  return absl::OkStatus();
}

absl::Status Mux::Impl::decodeDelta(DeltaDiscoveryResponse& response, Update& out) {
  const std::string& type_url = response.type_url();
  absl::flat_hash_set<std::string> seen;
  out.resources.reserve(response.resources_size());
  for (int i = 0; i < response.resources_size(); ++i) {
    envoy::service::discovery::v3::Resource& wrapper = *response.mutable_resources(i);
    if (wrapper.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("resource ", i, ": name is required"));
    }
    const std::string where = absl::StrCat("resource ", i, " ('", wrapper.name(), "'): ");
    if (!wrapper.has_resource()) {
      return absl::InvalidArgumentError(absl::StrCat(where, "resource is not set"));
    }
    // A bare resource only: the delta Resource is the wrapper already.
    absl::StatusOr<std::string> decoded = bareResourceName(type_url, wrapper.resource());
    if (!decoded.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, decoded.status().message()));
    }
    if (!seen.insert(wrapper.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, "duplicate name"));
    }
    Resource& resource = out.resources.emplace_back();
    resource.name = wrapper.name();
    resource.version = wrapper.version();
    resource.resource = std::move(*wrapper.mutable_resource());
  }
  for (auto& name : *response.mutable_removed_resources()) out.removed.push_back(std::move(name));
  for (auto& name : *response.mutable_removed_resource_names()) {
    out.removed.push_back(std::move(*name.mutable_name()));
  }
  return absl::OkStatus();
}

Mux::Mux(event::Dispatcher& dispatcher, std::unique_ptr<Transport> transport, MuxOptions options,
         stats::Store& store)
    : description_(transport->describe()) {
  impl_ =
      std::make_unique<Impl>(*this, dispatcher, std::move(transport), std::move(options), store);
}

Mux::~Mux() {
  // Timer first, so nothing reopens; then the streams, which report nothing once destroyed.
  impl_->retry_timer.reset();
  impl_->stream.reset();
  impl_->closed_stream.reset();
}

void Mux::addWatch(std::string type_url, ResourceWatcher* watcher, bool wildcard,
                   std::string stat_prefix) {
  if (impl_->find(type_url) != nullptr) {
    spdlog::error("xds: {} is already watched; second watch ignored", type_url);
    return;
  }
  auto& type = impl_->types.emplace_back(std::make_unique<TypeState>(
      std::move(type_url), watcher, wildcard, impl_->store, stat_prefix));
  impl_->by_type[type->type_url] = type.get();
  if (impl_->stream != nullptr && type->wantsRequest()) impl_->sendInitialRequest(*type);
}

void Mux::setResourceNames(absl::string_view type_url,
                           const absl::flat_hash_set<std::string>& names) {
  TypeState* type = impl_->find(type_url);
  if (type == nullptr || type->wildcard) {
    spdlog::debug("xds: names for {} ignored: not a named watch", std::string(type_url));
    return;
  }
  if (type->names == names) return;
  for (const auto& name : type->names) {
    if (!names.contains(name)) type->resource_versions.erase(name);
  }
  type->names = names;
  if (impl_->dispatching) {
    impl_->names_pending = true;
    return;
  }
  impl_->sendNamesUpdate(*type);
}

void Mux::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->openStream();
}

void Mux::onStreamConnected() {
  if (impl_->stream == nullptr && !impl_->opening) return;
  impl_->markConnected();
}

void Mux::onSotwResponse(std::unique_ptr<DiscoveryResponse> response) {
  TypeState* type = impl_->find(response->type_url());
  if (!impl_->acceptResponseFor(type, response->type_url())) return;
  type->nonce = response->nonce();

  Update update;
  update.type_url = type->type_url;
  update.state_of_the_world = true;
  update.version_info = response->version_info();
  absl::Status status = impl_->decodeSotw(*response, update.resources);
  if (status.ok()) status = impl_->deliver(*type, update);

  DiscoveryRequest request;
  request.set_type_url(type->type_url);
  request.set_response_nonce(type->nonce);
  if (!type->wildcard) {
    for (auto& name : sortedNames(type->sent_names)) request.add_resource_names(std::move(name));
  }
  if (status.ok()) {
    type->version = response->version_info();
    type->update_success.inc();
  } else {
    type->update_rejected.inc();
    spdlog::warn("xds: rejected {} version '{}' from {}: {}", type->type_url,
                 response->version_info(), description_, std::string(status.message()));
    *request.mutable_error_detail() = invalidArgument(status);
  }
  request.set_version_info(type->version);
  impl_->send(request);
  impl_->flushPendingNames();
}

void Mux::onDeltaResponse(std::unique_ptr<DeltaDiscoveryResponse> response) {
  TypeState* type = impl_->find(response->type_url());
  if (!impl_->acceptResponseFor(type, response->type_url())) return;

  Update update;
  update.type_url = type->type_url;
  update.state_of_the_world = false;
  update.version_info = response->system_version_info();
  absl::Status status = impl_->decodeDelta(*response, update);
  if (status.ok()) status = impl_->deliver(*type, update);

  DeltaDiscoveryRequest request;
  request.set_type_url(type->type_url);
  request.set_response_nonce(response->nonce());
  if (status.ok()) {
    type->update_success.inc();
    for (const auto& resource : update.resources) {
      type->resource_versions[resource.name] = resource.version;
    }
    for (const auto& name : update.removed) type->resource_versions.erase(name);
  } else {
    type->update_rejected.inc();
    spdlog::warn("xds: rejected {} delta '{}' from {}: {}", type->type_url, response->nonce(),
                 description_, std::string(status.message()));
    *request.mutable_error_detail() = invalidArgument(status);
  }
  impl_->send(request);
  impl_->flushPendingNames();
}

void Mux::onStreamClosed(const absl::Status& status) {
  Impl& impl = *impl_;
  if (impl.stream == nullptr && !impl.opening) return;
  const bool was_connected = connected_;
  connected_ = false;
  impl.connected_state.set(0);
  for (auto& type : impl.types) type->update_failure.inc();
  impl.closed_stream = std::move(impl.stream);
  if (impl.opening) impl.closed_while_opening = true;

  const std::chrono::milliseconds wait = impl.backoff.next();
  if (!impl.in_outage) {
    spdlog::warn("xds: stream to {} {}: {}; retrying in {} ms", description_,
                 was_connected ? "closed" : "failed", status.ToString(), wait.count());
    impl.in_outage = true;
  } else {
    spdlog::debug("xds: stream to {} failed again: {}; retrying in {} ms", description_,
                  status.ToString(), wait.count());
  }
  impl.retry_timer->enable(wait);
}

absl::StatusOr<std::string> resourceName(absl::string_view type_url,
                                         const google::protobuf::Any& any) {
  if (any.type_url() != kResourceWrapperType) return bareResourceName(type_url, any);
  envoy::service::discovery::v3::Resource wrapper;
  if (!any.UnpackTo(&wrapper)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot decode as ", kResourceWrapperType));
  }
  if (!wrapper.has_resource()) {
    return absl::InvalidArgumentError("the Resource wrapper has no resource");
  }
  absl::StatusOr<std::string> inner = bareResourceName(type_url, wrapper.resource());
  if (!inner.ok() || wrapper.name().empty()) return inner;
  return wrapper.name();
}

}  // namespace remora::xds
