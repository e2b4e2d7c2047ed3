#include "source/xds/grpc_transport.h"

#include <condition_variable>
#include <deque>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "envoy/service/cluster/v3/cds.grpc.pb.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "envoy/service/endpoint/v3/eds.grpc.pb.h"
#include "envoy/service/listener/v3/lds.grpc.pb.h"
#include "envoy/service/route/v3/rds.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"

namespace remora::xds {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// One stub per service: a callback RPC refers to its stub's method description for its lifetime.
struct GrpcTransport::Stubs {
  explicit Stubs(const std::shared_ptr<grpc::Channel>& channel)
      : ads(channel), lds(channel), rds(channel), cds(channel), eds(channel) {}
  envoy::service::discovery::v3::AggregatedDiscoveryService::Stub ads;
  envoy::service::listener::v3::ListenerDiscoveryService::Stub lds;
  envoy::service::route::v3::RouteDiscoveryService::Stub rds;
  envoy::service::cluster::v3::ClusterDiscoveryService::Stub cds;
  envoy::service::endpoint::v3::EndpointDiscoveryService::Stub eds;
};

// Counts reactors gRPC still holds, so the transport can wait for the last one before it goes.
struct GrpcTransport::Shared {
  std::mutex lock;
  std::condition_variable idle;
  int live = 0;
};

namespace {

class ReactorBase {
 public:
  virtual ~ReactorBase() = default;
  virtual void cancel() = 0;
};

// What a Stream handle and its reactor share. `callbacks` is read and cleared only on the owner's
// thread (posted closures run there), so it needs no lock. `reactor` is cleared by the reactor
// just before it deletes itself; the handle reaches the reactor only under `lock`.
struct Link {
  explicit Link(StreamCallbacks* cb) : callbacks(cb) {}
  StreamCallbacks* callbacks;
  std::mutex lock;
  ReactorBase* reactor = nullptr;
};

absl::Status toAbsl(const grpc::Status& s) {
  if (s.ok()) return absl::UnavailableError("stream closed by the server");
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

template <class Req, class Resp>
class Reactor : public grpc::ClientBidiReactor<Req, Resp>, public ReactorBase {
 public:
  Reactor(event::Dispatcher& dispatcher, std::shared_ptr<Link> link,
          std::shared_ptr<GrpcTransport::Shared> shared)
      : dispatcher_(dispatcher), link_(std::move(link)), shared_(std::move(shared)) {
    {
      std::lock_guard<std::mutex> guard(shared_->lock);
      ++shared_->live;
    }
    std::lock_guard<std::mutex> guard(link_->lock);
    link_->reactor = this;
  }

  grpc::ClientContext& context() { return context_; }

  // After the RPC was bound to this reactor.
  void begin() {
    // The hold lets writes start outside reactions; released once reading ends or on cancel.
    this->AddHold();
    this->StartRead(&incoming_);
    this->StartCall();
  }

  void send(const Req& request) {
    std::lock_guard<std::mutex> guard(lock_);
    if (finishing_) return;
    queue_.push_back(request);
    if (!writing_) startNextWriteLocked();
  }

  void cancel() override {
    context_.TryCancel();
    std::lock_guard<std::mutex> guard(lock_);
    releaseHoldLocked();
  }

  void OnReadInitialMetadataDone(bool ok) override {
    if (!ok) return;
    post([](StreamCallbacks& cb) { cb.onStreamConnected(); });
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard<std::mutex> guard(lock_);
      releaseHoldLocked();
      return;
    }
    auto message = std::make_shared<std::unique_ptr<Resp>>(std::make_unique<Resp>());
    (*message)->Swap(&incoming_);
    post([message](StreamCallbacks& cb) { deliver(cb, std::move(*message)); });
    this->StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> guard(lock_);
    writing_ = false;
    if (!queue_.empty()) queue_.pop_front();
    if (!ok) {
      releaseHoldLocked();
      return;
    }
    startNextWriteLocked();
  }

  void OnDone(const grpc::Status& status) override {
    absl::Status closed = toAbsl(status);
    post([closed](StreamCallbacks& cb) { cb.onStreamClosed(closed); });
    {
      std::lock_guard<std::mutex> guard(link_->lock);
      link_->reactor = nullptr;
    }
    auto shared = shared_;
    delete this;
    std::lock_guard<std::mutex> guard(shared->lock);
    if (--shared->live == 0) shared->idle.notify_all();
  }

 private:
  static void deliver(StreamCallbacks& cb, std::unique_ptr<DiscoveryResponse> r) {
    cb.onSotwResponse(std::move(r));
  }
  static void deliver(StreamCallbacks& cb, std::unique_ptr<DeltaDiscoveryResponse> r) {
    cb.onDeltaResponse(std::move(r));
  }

  template <class F>
  void post(F f) {
    dispatcher_.post([link = link_, f = std::move(f)]() mutable {
      if (link->callbacks != nullptr) f(*link->callbacks);
    });
  }

  void startNextWriteLocked() {
    if (finishing_ || queue_.empty()) return;
    writing_ = true;
    this->StartWrite(&queue_.front());
  }

  void releaseHoldLocked() {
    if (finishing_) return;
    finishing_ = true;
    this->RemoveHold();
  }

  event::Dispatcher& dispatcher_;
  std::shared_ptr<Link> link_;
  std::shared_ptr<GrpcTransport::Shared> shared_;
  grpc::ClientContext context_;
  Resp incoming_;
  std::mutex lock_;
  // The front element is being written; it stays in place until OnWriteDone.
  std::deque<Req> queue_;
  bool writing_ = false;
  bool finishing_ = false;
};

template <class Req, class Resp>
class GrpcStream : public Stream {
 public:
  explicit GrpcStream(std::shared_ptr<Link> link) : link_(std::move(link)) {}
  ~GrpcStream() override {
    // Posted events still queued for this stream must find nobody to call.
    link_->callbacks = nullptr;
    std::lock_guard<std::mutex> guard(link_->lock);
    if (link_->reactor != nullptr) link_->reactor->cancel();
  }
  void send(const DiscoveryRequest& request) override { sendAs(request); }
  void send(const DeltaDiscoveryRequest& request) override { sendAs(request); }

 private:
  template <class M>
  void sendAs(const M& request) {
    if constexpr (std::is_same_v<M, Req>) {
      std::lock_guard<std::mutex> guard(link_->lock);
      if (link_->reactor != nullptr)
        static_cast<Reactor<Req, Resp>*>(link_->reactor)->send(request);
    }
  }
  std::shared_ptr<Link> link_;
};

}  // namespace

GrpcTransport::GrpcTransport(event::Dispatcher& dispatcher, std::shared_ptr<grpc::Channel> channel,
                             Service service, bool delta, std::string target)
    : dispatcher_(dispatcher),
      channel_(std::move(channel)),
      service_(service),
      delta_(delta),
      target_(std::move(target)),
      shared_(std::make_shared<Shared>()),
      stubs_(std::make_unique<Stubs>(channel_)) {}

GrpcTransport::~GrpcTransport() {
  // Streams were cancelled by their handles; wait for gRPC to report each one done.
  std::unique_lock<std::mutex> guard(shared_->lock);
  shared_->idle.wait(guard, [this] { return shared_->live == 0; });
}

std::string GrpcTransport::describe() const {
  const char* name = "ads";
  switch (service_) {
    case Service::kAggregated:
      name = "ads";
      break;
    case Service::kListeners:
      name = "lds";
      break;
    case Service::kRoutes:
      name = "rds";
      break;
    case Service::kClusters:
      name = "cds";
      break;
    case Service::kEndpoints:
      name = "eds";
      break;
  }
  return absl::StrCat(name, delta_ ? " (delta)" : "", " at ", target_);
}

std::unique_ptr<Stream> GrpcTransport::open(StreamCallbacks& callbacks) {
  auto link = std::make_shared<Link>(&callbacks);
  if (delta_) {
    auto* reactor =
        new Reactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>(dispatcher_, link, shared_);
    switch (service_) {
      case Service::kAggregated:
        stubs_->ads.async()->DeltaAggregatedResources(&reactor->context(), reactor);
        break;
      case Service::kListeners:
        stubs_->lds.async()->DeltaListeners(&reactor->context(), reactor);
        break;
      case Service::kRoutes:
        stubs_->rds.async()->DeltaRoutes(&reactor->context(), reactor);
        break;
      case Service::kClusters:
        stubs_->cds.async()->DeltaClusters(&reactor->context(), reactor);
        break;
      case Service::kEndpoints:
        stubs_->eds.async()->DeltaEndpoints(&reactor->context(), reactor);
        break;
    }
    reactor->begin();
    return std::make_unique<GrpcStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>>(link);
  }
  auto* reactor = new Reactor<DiscoveryRequest, DiscoveryResponse>(dispatcher_, link, shared_);
  switch (service_) {
    case Service::kAggregated:
      stubs_->ads.async()->StreamAggregatedResources(&reactor->context(), reactor);
      break;
    case Service::kListeners:
      stubs_->lds.async()->StreamListeners(&reactor->context(), reactor);
      break;
    case Service::kRoutes:
      stubs_->rds.async()->StreamRoutes(&reactor->context(), reactor);
      break;
    case Service::kClusters:
      stubs_->cds.async()->StreamClusters(&reactor->context(), reactor);
      break;
    case Service::kEndpoints:
      stubs_->eds.async()->StreamEndpoints(&reactor->context(), reactor);
      break;
  }
  reactor->begin();
  return std::make_unique<GrpcStream<DiscoveryRequest, DiscoveryResponse>>(link);
}

}  // namespace remora::xds
