#include "source/xds/xds_manager.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "source/config/cluster_builder.h"
#include "source/config/listener_builder.h"
#include "source/http/conn_manager.h"
#include "source/router/route_table.h"
#include "source/xds/grpc_transport.h"
#include "source/xds/type_urls.h"
#include "spdlog/spdlog.h"

namespace remora::xds {

namespace {

using google::protobuf::util::TimeUtil;

constexpr int kListeners = 0, kClusters = 1, kRoutes = 2, kEndpoints = 3;

Service serviceFor(absl::string_view type_url) {
  if (type_url == kListenerType) return Service::kListeners;
  if (type_url == kClusterType) return Service::kClusters;
  if (type_url == kRouteConfigurationType) return Service::kRoutes;
  return Service::kEndpoints;
}

std::string statPrefixFor(absl::string_view type_url) {
  if (type_url == kListenerType) return "listener_manager.lds.";
  if (type_url == kClusterType) return "cluster_manager.cds.";
  if (type_url == kRouteConfigurationType) return "control_plane.rds.";
  return "control_plane.eds.";
}

// An EDS cluster whose endpoints never came (initial_fetch_timeout) serves with none.
const upstream::HostSetConstSharedPtr& noHosts() {
  static const auto* empty =
      new upstream::HostSetConstSharedPtr(std::make_shared<upstream::HostSet>());
  return *empty;
}

// Joins the messages of a rejected update into one error_detail.
absl::Status rejected(const std::vector<std::string>& errors) {
  return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
}

}  // namespace

class XdsManager::TypeWatcher : public ResourceWatcher {
 public:
  explicit TypeWatcher(std::function<absl::Status(const Update&)> on) : on_(std::move(on)) {}
  absl::Status onUpdate(const Update& update) override { return on_(update); }

 private:
  std::function<absl::Status(const Update&)> on_;
};

XdsManager::XdsManager(event::Dispatcher& dispatcher,
                       const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                       DynamicResources resources, config::SnapshotConstSharedPtr static_snapshot,
                       stats::Store& store, Callbacks& callbacks, Options options)
    : dispatcher_(dispatcher),
      bootstrap_(bootstrap),
      resources_(std::move(resources)),
      static_(std::move(static_snapshot)),
      store_(store),
      callbacks_(callbacks),
      options_(options) {
  mux_options_.node = bootstrap.node();
  mux_options_.node.set_user_agent_name("remora");
  auto* build = mux_options_.node.mutable_user_agent_build_version();
  int major = 0, minor = 0, patch = 0;
  if (std::sscanf(REMORA_VERSION, "%d.%d.%d", &major, &minor, &patch) == 3) {
    build->mutable_version()->set_major_number(major);
    build->mutable_version()->set_minor_number(minor);
    build->mutable_version()->set_patch(patch);
  }
  (*build->mutable_metadata()->mutable_fields())["build.type"].set_string_value("RELEASE");
  (*build->mutable_metadata()->mutable_fields())["ssl.version"].set_string_value("OpenSSL");
  mux_options_.backoff_base = options.backoff_base;
  mux_options_.backoff_max = options.backoff_max;

  watchers_.push_back(
      std::make_unique<TypeWatcher>([this](const Update& u) { return onListeners(u); }));
  watchers_.push_back(
      std::make_unique<TypeWatcher>([this](const Update& u) { return onClusters(u); }));
  watchers_.push_back(
      std::make_unique<TypeWatcher>([this](const Update& u) { return onRoutes(u); }));
  watchers_.push_back(
      std::make_unique<TypeWatcher>([this](const Update& u) { return onEndpoints(u); }));

  // Envoy's order on an ADS stream: clusters and their endpoints first, then listeners and their
  // routes, so that what listeners route to exists when they start.
  if (resources_.ads) {
    const ApiSource& api = *resources_.ads;
    ads_ = std::make_unique<Mux>(
        dispatcher_, makeTransport(api, Service::kAggregated),
        [&] {
          MuxOptions o = mux_options_;
          o.delta = api.delta;
          o.set_node_on_first_message_only = api.set_node_on_first_message_only;
          return o;
        }(),
        store_);
    if (resources_.cds && resources_.cds->ads) {
      ads_->addWatch(std::string(kClusterType), watchers_[kClusters].get(), true,
                     statPrefixFor(kClusterType));
    }
    ads_->addWatch(std::string(kClusterLoadAssignmentType), watchers_[kEndpoints].get(), false,
                   statPrefixFor(kClusterLoadAssignmentType));
    named_watches_.emplace_back(ads_.get(), std::string(kClusterLoadAssignmentType));
    if (resources_.lds && resources_.lds->ads) {
      ads_->addWatch(std::string(kListenerType), watchers_[kListeners].get(), true,
                     statPrefixFor(kListenerType));
    }
    ads_->addWatch(std::string(kRouteConfigurationType), watchers_[kRoutes].get(), false,
                   statPrefixFor(kRouteConfigurationType));
    named_watches_.emplace_back(ads_.get(), std::string(kRouteConfigurationType));
  }
  if (resources_.cds && !resources_.cds->ads) ensureMux(resources_.cds->api, kClusterType, false);
  if (resources_.lds && !resources_.lds->ads) ensureMux(resources_.lds->api, kListenerType, false);
}

XdsManager::~XdsManager() {
  // Streams first (their transports wait for gRPC), then everything they reported to.
  ads_.reset();
  api_muxes_.clear();
}

Mux* XdsManager::ensureMux(const ApiSource& api, absl::string_view type_url, bool) {
  const std::string key = absl::StrCat(api.key(), "|", type_url);
  auto it = api_muxes_.find(key);
  if (it != api_muxes_.end()) return it->second.get();
  MuxOptions o = mux_options_;
  o.delta = api.delta;
  o.set_node_on_first_message_only = api.set_node_on_first_message_only;
  auto mux =
      std::make_unique<Mux>(dispatcher_, makeTransport(api, serviceFor(type_url)), o, store_);
  const bool wildcard = type_url == kListenerType || type_url == kClusterType;
  int index = kEndpoints;
  if (type_url == kListenerType) index = kListeners;
  if (type_url == kClusterType) index = kClusters;
  if (type_url == kRouteConfigurationType) index = kRoutes;
  mux->addWatch(std::string(type_url), watchers_[index].get(), wildcard, statPrefixFor(type_url));
  Mux* raw = mux.get();
  if (!wildcard) named_watches_.emplace_back(raw, std::string(type_url));
  api_muxes_.emplace(key, std::move(mux));
  if (!started_.empty()) {
    started_.push_back(raw);
    raw->start();
  }
  return raw;
}

std::unique_ptr<Transport> XdsManager::makeTransport(const ApiSource& api, Service service) {
  if (options_.transport_factory) return options_.transport_factory(api, service);
  // One channel per server (and message limit): gRPC multiplexes the streams of every type over
  // it.
  auto& channel =
      channels_[absl::StrCat(api.target, "|", api.max_receive_message_length.value_or(0))];
  if (channel == nullptr) {
    grpc::ChannelArguments args;
    if (api.max_receive_message_length) {
      args.SetMaxReceiveMessageSize(*api.max_receive_message_length);
    }
    channel = grpc::CreateCustomChannel(api.target, api.credentials, args);
  }
  return std::make_unique<GrpcTransport>(dispatcher_, channel, service, api.delta, api.target);
}

Mux* XdsManager::muxFor(const Source& source, absl::string_view type_url) {
  if (source.ads) return ads_.get();
  return ensureMux(source.api, type_url, false);
}

void XdsManager::start() {
  auto fetch_timer = [this](const std::optional<Source>& source, bool& first) {
    if (!source || source->initial_fetch_timeout.count() == 0) return event::TimerPtr();
    auto timer = dispatcher_.createTimer([this, &first] {
      if (first) return;
      spdlog::warn("xds: no initial response within initial_fetch_timeout; continuing without");
      first = true;
      checkInitialized();
    });
    timer->enable(source->initial_fetch_timeout);
    return timer;
  };
  cds_timer_ = fetch_timer(resources_.cds, cds_first_);
  lds_timer_ = fetch_timer(resources_.lds, lds_first_);
  if (ads_ != nullptr) started_.push_back(ads_.get());
  for (auto& [key, mux] : api_muxes_) started_.push_back(mux.get());
  for (Mux* m : started_) m->start();
  checkInitialized();
}

void XdsManager::recordError(absl::flat_hash_map<std::string, admin::ResourceErrorInfo>& errors,
                             const std::string& name, const std::string& details,
                             const Update& update, const google::protobuf::Any* raw) {
  admin::ResourceErrorInfo& e = errors[name];
  e.name = name;
  e.details = details;
  e.version_info = update.version_info;
  e.last_update_attempt = TimeUtil::GetCurrentTime();
  if (raw != nullptr) e.failed_configuration = *raw;
}

// --- Clusters and endpoints -----------------------------------------------------------------

absl::Status XdsManager::onClusters(const Update& update) {
  const auto received = std::chrono::steady_clock::now();
  struct Pending {
    const Resource* r;
    upstream::ClusterConstSharedPtr built;
    std::optional<Source> eds_source;
  };
  std::vector<Pending> pending;
  std::vector<std::string> errors;
  for (const Resource& r : update.resources) {
    envoy::config::cluster::v3::Cluster proto;
    auto fail = [&](absl::string_view why) {
      std::string msg = absl::StrCat("Cluster '", r.name, "': ", why);
      recordError(cluster_errors_, r.name, msg, update, &r.resource);
      errors.push_back(std::move(msg));
    };
    if (!r.resource.UnpackTo(&proto)) {
      fail("cannot be decoded as envoy.config.cluster.v3.Cluster");
      continue;
    }
    if (static_->clusters.contains(r.name)) {
      fail("a static cluster has this name; static clusters cannot be changed over CDS");
      continue;
    }
    auto slot = clusters_.find(r.name);
    if (slot != clusters_.end()) {
      const auto& current = slot->second.warming ? slot->second.warming : slot->second.active;
      if (current && current->meta.raw.value() == r.resource.value()) continue;  // Unchanged.
    }
    config::ParseReport report;
    auto built = config::buildCluster(proto, "", store_, report);
    if (!built.ok()) {
      fail(built.status().message());
      continue;
    }
    std::optional<Source> eds_source;
    if ((*built)->eds) {
      auto source = parseSource(proto.eds_cluster_config().eds_config(),
                                "eds_cluster_config.eds_config", bootstrap_, ads_ != nullptr);
      if (!source.ok()) {
        fail(source.status().message());
        continue;
      }
      eds_source = *std::move(source);
    }
    for (const auto& w : report.warnings) spdlog::warn("cds: Cluster '{}': {}", r.name, w);
    pending.push_back(Pending{&r, *std::move(built), std::move(eds_source)});
  }
  cds_first_ = true;
  if (!errors.empty()) {
    checkInitialized();
    return rejected(errors);
  }

  const auto now = TimeUtil::GetCurrentTime();
  for (Pending& p : pending) {
    cluster_errors_.erase(p.r->name);
    ClusterVersion v{Meta{p.r->version, now, p.r->resource}, std::move(p.built),
                     std::move(p.eds_source)};
    ClusterSlot& slot = clusters_[p.r->name];
    if (endpointsReady(v)) {
      slot.active = std::move(v);
      slot.warming.reset();
    } else {
      slot.warming = std::move(v);
    }
  }
  if (update.state_of_the_world) {
    absl::flat_hash_set<std::string> present;
    for (const Resource& r : update.resources) present.insert(r.name);
    std::erase_if(clusters_, [&](const auto& kv) { return !present.contains(kv.first); });
  } else {
    for (const auto& name : update.removed) clusters_.erase(name);
  }
  cds_version_ = update.version_info;
  updateSubscriptions();
  promoteWarming();
  rebuild(received);
  checkInitialized();
  return absl::OkStatus();
}

bool XdsManager::endpointsReady(const ClusterVersion& v) const {
  if (!v.base->eds) return true;
  return endpoints_.contains(v.base->eds_service_name) ||
         eds_timed_out_.contains(v.base->eds_service_name);
}

absl::Status XdsManager::onEndpoints(const Update& update) {
  const auto received = std::chrono::steady_clock::now();
  absl::flat_hash_set<std::string> wanted;
  for (const auto& [name, slot] : clusters_) {
    for (const auto* v : {&slot.active, &slot.warming}) {
      if (*v && (*v)->base->eds) wanted.insert((*v)->base->eds_service_name);
    }
  }
  struct Pending {
    const Resource* r;
    upstream::HostSetConstSharedPtr hosts;
  };
  std::vector<Pending> pending;
  std::vector<std::string> errors;
  for (const Resource& r : update.resources) {
    if (!wanted.contains(r.name)) continue;  // Not (or no longer) subscribed: ignored, as Envoy.
    envoy::config::endpoint::v3::ClusterLoadAssignment proto;
    auto fail = [&](absl::string_view why) {
      std::string msg = absl::StrCat("ClusterLoadAssignment '", r.name, "': ", why);
      recordError(endpoint_errors_, r.name, msg, update, &r.resource);
      errors.push_back(std::move(msg));
    };
    if (!r.resource.UnpackTo(&proto)) {
      fail("cannot be decoded as envoy.config.endpoint.v3.ClusterLoadAssignment");
      continue;
    }
    auto slot = endpoints_.find(r.name);
    if (slot != endpoints_.end() && slot->second.meta.raw.value() == r.resource.value()) continue;
    auto hosts = config::buildHostSet(proto, "");
    if (!hosts.ok()) {
      fail(hosts.status().message());
      continue;
    }
    pending.push_back(Pending{&r, *std::move(hosts)});
  }
  if (!errors.empty()) {
    return rejected(errors);
  }
  const auto now = TimeUtil::GetCurrentTime();
  for (Pending& p : pending) {
    endpoint_errors_.erase(p.r->name);
    endpoints_[p.r->name] = EndpointSlot{Meta{p.r->version, now, p.r->resource}, p.hosts};
    eds_timers_.erase(p.r->name);
  }
  for (const auto& name : update.removed) endpoints_.erase(name);
  if (pending.empty() && update.removed.empty()) return absl::OkStatus();
  promoteWarming();
  rebuild(received);
  checkInitialized();
  return absl::OkStatus();
}

// --- Listeners and routes -------------------------------------------------------------------

absl::Status XdsManager::onListeners(const Update& update) {
  const auto received = std::chrono::steady_clock::now();
  struct Pending {
    const Resource* r;
    ListenerVersion v;
  };
  std::vector<Pending> pending;
  std::vector<std::string> errors;
  // Addresses in use by listeners that stay: static ones, and dynamic ones not in this update.
  absl::flat_hash_map<std::string, std::string> addresses;
  for (const auto& l : static_->listeners) {
    if (l->address.port() != 0 || l->address.isPipe()) addresses[l->address.asString()] = l->name;
  }
  absl::flat_hash_set<std::string> in_update;
  for (const Resource& r : update.resources) in_update.insert(r.name);
  for (const auto& [name, slot] : listeners_) {
    if (in_update.contains(name)) continue;
    if (update.state_of_the_world) continue;  // Absent from a full update: being removed.
    for (const auto* v : {&slot.active, &slot.warming}) {
      if (*v && ((*v)->config->address.port() != 0 || (*v)->config->address.isPipe())) {
        addresses[(*v)->config->address.asString()] = name;
      }
    }
  }
  for (const Resource& r : update.resources) {
    envoy::config::listener::v3::Listener proto;
    auto fail = [&](absl::string_view why) {
      std::string msg = absl::StrCat("Listener '", r.name, "': ", why);
      recordError(listener_errors_, r.name, msg, update, &r.resource);
      errors.push_back(std::move(msg));
    };
    if (!r.resource.UnpackTo(&proto)) {
      fail("cannot be decoded as envoy.config.listener.v3.Listener");
      continue;
    }
    if (static_->findListener(r.name) != nullptr) {
      fail("a static listener has this name; static listeners cannot be changed over LDS");
      continue;
    }
    auto slot = listeners_.find(r.name);
    if (slot != listeners_.end()) {
      const auto& current = slot->second.warming ? slot->second.warming : slot->second.active;
      if (current && current->meta.raw.value() == r.resource.value()) {
        const auto& a = current->config->address;
        if (a.port() != 0 || a.isPipe()) addresses[a.asString()] = r.name;
        continue;
      }
    }
    config::ParseReport report;
    auto built = config::buildListener(proto, "", store_, report);
    if (!built.ok()) {
      fail(built.status().message());
      continue;
    }
    const auto& address = (*built)->address;
    if (address.port() != 0 || address.isPipe()) {
      auto [it, fresh] = addresses.emplace(address.asString(), r.name);
      if (!fresh && it->second != r.name) {
        fail(absl::StrCat("address: ", address.asString(), " is already used by listener '",
                          it->second, "'"));
        continue;
      }
    }
    ListenerVersion v;
    v.config = *built;
    bool bad = false;
    for (size_t c = 0; c < v.config->filter_chains.size() && !bad; ++c) {
      const auto* hcm = dynamic_cast<const http::ConnManagerFactory*>(
          v.config->filter_chains[c].terminal_filter.get());
      if (hcm == nullptr || hcm->config().rds_name.empty()) continue;
      auto source = parseSource(
          hcm->config().rds_config_source,
          absl::StrCat("filter_chains[", c, "].filters[0].typed_config.rds.config_source"),
          bootstrap_, ads_ != nullptr);
      if (!source.ok()) {
        fail(source.status().message());
        bad = true;
        break;
      }
      v.rds_names.push_back(hcm->config().rds_name);
      v.rds_sources.push_back(*std::move(source));
    }
    if (bad) continue;
    for (const auto& w : report.warnings) spdlog::warn("lds: Listener '{}': {}", r.name, w);
    pending.push_back(Pending{&r, std::move(v)});
  }
  lds_first_ = true;
  if (!errors.empty()) {
    checkInitialized();
    return rejected(errors);
  }

  const auto now = TimeUtil::GetCurrentTime();
  for (Pending& p : pending) {
    listener_errors_.erase(p.r->name);
    p.v.meta = Meta{p.r->version, now, p.r->resource};
    ListenerSlot& slot = listeners_[p.r->name];
    if (routesReady(p.v)) {
      if (slot.active) retireListener(p.r->name, *slot.active);
      slot.active = std::move(p.v);
      slot.warming.reset();
    } else {
      slot.warming = std::move(p.v);
    }
  }
  auto remove = [&](const std::string& name) {
    auto it = listeners_.find(name);
    if (it == listeners_.end()) return;
    if (it->second.active) retireListener(name, *it->second.active);
    listeners_.erase(it);
  };
  if (update.state_of_the_world) {
    std::vector<std::string> gone;
    for (const auto& [name, slot] : listeners_) {
      if (!in_update.contains(name)) gone.push_back(name);
    }
    for (const auto& name : gone) remove(name);
  } else {
    for (const auto& name : update.removed) remove(name);
  }
  lds_version_ = update.version_info;
  updateSubscriptions();
  promoteWarming();
  rebuild(received);
  checkInitialized();
  return absl::OkStatus();
}

bool XdsManager::routesReady(const ListenerVersion& v) const {
  for (const auto& name : v.rds_names) {
    if (!routes_.contains(name) && !rds_timed_out_.contains(name)) return false;
  }
  return true;
}

void XdsManager::retireListener(const std::string& name, const ListenerVersion& v) {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(draining_, [now](const Draining& d) { return d.until <= now; });
  Draining d;
  d.info.name = name;
  d.info.version_info = v.meta.version;
  d.info.last_updated = v.meta.last_updated;
  d.info.resource = v.meta.raw;
  d.until = now + options_.drain_time;
  draining_.push_back(std::move(d));
}

absl::Status XdsManager::onRoutes(const Update& update) {
  const auto received = std::chrono::steady_clock::now();
  absl::flat_hash_set<std::string> wanted;
  for (const auto& [name, slot] : listeners_) {
    for (const auto* v : {&slot.active, &slot.warming}) {
      if (*v) wanted.insert((*v)->rds_names.begin(), (*v)->rds_names.end());
    }
  }
  struct Pending {
    const Resource* r;
    std::shared_ptr<const router::RouteTable> table;
  };
  std::vector<Pending> pending;
  std::vector<std::string> errors;
  for (const Resource& r : update.resources) {
    if (!wanted.contains(r.name)) continue;
    envoy::config::route::v3::RouteConfiguration proto;
    auto fail = [&](absl::string_view why) {
      std::string msg = absl::StrCat("RouteConfiguration '", r.name, "': ", why);
      recordError(route_errors_, r.name, msg, update, &r.resource);
      errors.push_back(std::move(msg));
    };
    if (!r.resource.UnpackTo(&proto)) {
      fail("cannot be decoded as envoy.config.route.v3.RouteConfiguration");
      continue;
    }
    auto slot = routes_.find(r.name);
    if (slot != routes_.end() && slot->second.meta.raw.value() == r.resource.value()) continue;
    auto table = router::RouteTable::compile(proto, "");
    if (!table.ok()) {
      fail(table.status().message());
      continue;
    }
    pending.push_back(Pending{&r, *std::move(table)});
  }
  if (!errors.empty()) {
    return rejected(errors);
  }
  const auto now = TimeUtil::GetCurrentTime();
  for (Pending& p : pending) {
    route_errors_.erase(p.r->name);
    routes_[p.r->name] = RouteSlot{Meta{p.r->version, now, p.r->resource}, p.table};
    rds_timers_.erase(p.r->name);
  }
  for (const auto& name : update.removed) routes_.erase(name);
  if (pending.empty() && update.removed.empty()) return absl::OkStatus();
  promoteWarming();
  rebuild(received);
  checkInitialized();
  return absl::OkStatus();
}

// --- Warming, subscriptions, snapshots ------------------------------------------------------

void XdsManager::promoteWarming() {
  for (auto& [name, slot] : listeners_) {
    if (slot.warming && routesReady(*slot.warming)) {
      if (slot.active) retireListener(name, *slot.active);
      slot.active = std::move(slot.warming);
      slot.warming.reset();
    }
  }
  for (auto& [name, slot] : clusters_) {
    if (slot.warming && endpointsReady(*slot.warming)) {
      slot.active = std::move(slot.warming);
      slot.warming.reset();
    }
  }
}

void XdsManager::startFetchTimer(absl::flat_hash_map<std::string, event::TimerPtr>& timers,
                                 absl::flat_hash_set<std::string>& timed_out,
                                 const std::string& name, std::chrono::milliseconds timeout) {
  if (timeout.count() == 0 || timers.contains(name)) return;
  auto timer = dispatcher_.createTimer([this, &timers, &timed_out, name] {
    spdlog::warn("xds: '{}' did not arrive within initial_fetch_timeout; using it empty", name);
    timed_out.insert(name);
    // Not from inside the timer's own callback.
    dispatcher_.post([&timers, name] { timers.erase(name); });
    promoteWarming();
    rebuild(std::chrono::steady_clock::now());
    checkInitialized();
  });
  timer->enable(timeout);
  timers.emplace(name, std::move(timer));
}

void XdsManager::updateSubscriptions() {
  absl::flat_hash_map<Mux*, absl::flat_hash_set<std::string>> rds, eds;
  absl::flat_hash_map<std::string, std::chrono::milliseconds> rds_wanted, eds_wanted;
  for (const auto& [name, slot] : listeners_) {
    for (const auto* v : {&slot.active, &slot.warming}) {
      if (!*v) continue;
      for (size_t i = 0; i < (*v)->rds_names.size(); ++i) {
        rds[muxFor((*v)->rds_sources[i], kRouteConfigurationType)].insert((*v)->rds_names[i]);
        rds_wanted.emplace((*v)->rds_names[i], (*v)->rds_sources[i].initial_fetch_timeout);
      }
    }
  }
  for (const auto& [name, slot] : clusters_) {
    for (const auto* v : {&slot.active, &slot.warming}) {
      if (!*v || !(*v)->base->eds) continue;
      eds[muxFor(*(*v)->eds_source, kClusterLoadAssignmentType)].insert(
          (*v)->base->eds_service_name);
      eds_wanted.emplace((*v)->base->eds_service_name, (*v)->eds_source->initial_fetch_timeout);
    }
  }
  for (const auto& [mux, type] : named_watches_) {
    const auto& names = type == kRouteConfigurationType ? rds : eds;
    auto it = names.find(mux);
    mux->setResourceNames(type,
                          it == names.end() ? absl::flat_hash_set<std::string>() : it->second);
  }
  // Forget what nobody references any more; start the clock on what has not arrived.
  std::erase_if(routes_, [&](const auto& kv) { return !rds_wanted.contains(kv.first); });
  std::erase_if(endpoints_, [&](const auto& kv) { return !eds_wanted.contains(kv.first); });
  absl::erase_if(rds_timers_, [&](const auto& kv) { return !rds_wanted.contains(kv.first); });
  absl::erase_if(eds_timers_, [&](const auto& kv) { return !eds_wanted.contains(kv.first); });
  absl::erase_if(rds_timed_out_, [&](const auto& n) { return !rds_wanted.contains(n); });
  absl::erase_if(eds_timed_out_, [&](const auto& n) { return !eds_wanted.contains(n); });
  for (const auto& [name, timeout] : rds_wanted) {
    if (!routes_.contains(name) && !rds_timed_out_.contains(name)) {
      startFetchTimer(rds_timers_, rds_timed_out_, name, timeout);
    }
  }
  for (const auto& [name, timeout] : eds_wanted) {
    if (!endpoints_.contains(name) && !eds_timed_out_.contains(name)) {
      startFetchTimer(eds_timers_, eds_timed_out_, name, timeout);
    }
  }
}

void XdsManager::rebuild(std::chrono::steady_clock::time_point received) {
  auto snapshot = std::make_shared<config::Snapshot>();
  snapshot->version = ++version_;
  snapshot->listeners = static_->listeners;
  for (const auto& [name, slot] : listeners_) {
    if (slot.active) snapshot->listeners.push_back(slot.active->config);
  }
  snapshot->clusters = static_->clusters;
  for (auto& [name, slot] : clusters_) {
    if (!slot.active) continue;
    const upstream::Cluster* base = slot.active->base.get();
    const upstream::HostSetConstSharedPtr* hosts = &base->host_set;
    if (base->eds) {
      auto it = endpoints_.find(base->eds_service_name);
      hosts = it != endpoints_.end() ? &it->second.hosts : &noHosts();
    }
    if (slot.effective_base != base || slot.effective_hosts != hosts->get()) {
      slot.effective = base->eds ? config::withHosts(*base, *hosts) : slot.active->base;
      slot.effective_base = base;
      slot.effective_hosts = hosts->get();
    }
    snapshot->clusters[name] = slot.effective;
  }
  snapshot->routes = static_->routes;
  for (const auto& [name, slot] : routes_) snapshot->routes[name] = slot.table;
  callbacks_.onSnapshot(std::move(snapshot), received);
}

void XdsManager::checkInitialized() {
  if (initialized_) return;
  if (resources_.cds && !cds_first_) return;
  if (resources_.lds && !lds_first_) return;
  for (const auto& [name, slot] : clusters_) {
    if (slot.warming && !slot.active) return;
  }
  for (const auto& [name, slot] : listeners_) {
    if (slot.warming && !slot.active) return;
  }
  initialized_ = true;
  cds_timer_.reset();
  lds_timer_.reset();
  spdlog::info(
      "xds: initial configuration in place ({} dynamic listener(s), {} dynamic "
      "cluster(s))",
      listeners_.size(), clusters_.size());
  callbacks_.onInitialized();
}

admin::DynamicConfigState XdsManager::state() const {
  admin::DynamicConfigState out;
  out.lds_version_info = lds_version_;
  out.cds_version_info = cds_version_;
  auto info = [](const std::string& name, const Meta& m) {
    admin::DynamicResourceInfo i;
    i.name = name;
    i.version_info = m.version;
    i.last_updated = m.last_updated;
    i.resource = m.raw;
    return i;
  };
  for (const auto& [name, slot] : listeners_) {
    if (slot.active) out.active_listeners.push_back(info(name, slot.active->meta));
    if (slot.warming) out.warming_listeners.push_back(info(name, slot.warming->meta));
  }
  const auto now = std::chrono::steady_clock::now();
  for (const auto& d : draining_) {
    if (d.until > now) out.draining_listeners.push_back(d.info);
  }
  for (const auto& [name, slot] : clusters_) {
    if (slot.active) out.active_clusters.push_back(info(name, slot.active->meta));
    if (slot.warming) out.warming_clusters.push_back(info(name, slot.warming->meta));
  }
  for (const auto& [name, slot] : routes_) out.route_configs.push_back(info(name, slot.meta));
  for (const auto& [name, slot] : endpoints_) out.endpoint_configs.push_back(info(name, slot.meta));
  auto errors = [](const absl::flat_hash_map<std::string, admin::ResourceErrorInfo>& from,
                   std::vector<admin::ResourceErrorInfo>& to) {
    for (const auto& [name, e] : from) to.push_back(e);
    std::sort(to.begin(), to.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  };
  errors(listener_errors_, out.listener_errors);
  errors(cluster_errors_, out.cluster_errors);
  errors(route_errors_, out.route_errors);
  errors(endpoint_errors_, out.endpoint_errors);
  return out;
}

}  // namespace remora::xds
