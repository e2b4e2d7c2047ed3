// The gRPC side of one xDS stream (callback API): reads requests one after another, writes queued
// responses one at a time, and finishes exactly once. The state-of-the-world and delta streams
// derive from it and decide what a request or a new snapshot makes them send.
//
// gRPC may run a reaction (OnWriteDone, OnDone, ...) inline inside StartWrite or Finish, so those
// are never called with mu_ held; the queue keeps responses in the order they were decided.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/support/server_callback.h"
#include "grpcpp/support/status.h"
#include "tools/mock-cp/control_plane.h"

namespace remora::mockcp {

template <class Request, class Response>
class StreamReactor : public grpc::ServerBidiReactor<Request, Response>, public Stream {
 public:
  // Creates a stream, registers it and starts reading. gRPC holds the returned reactor until
  // OnDone; the registry may hold it a little longer.
  template <class Derived, class... Args>
  static grpc::ServerBidiReactor<Request, Response>* start(ControlPlane& cp, Args&&... args) {
    auto stream = std::make_shared<Derived>(cp, std::forward<Args>(args)...);
    stream->self_ = stream;
    cp.streams.add(stream);
    stream->StartRead(&stream->request_);
    return stream.get();
  }

  int64_t id() const override { return id_; }

  void push(const SnapshotConstSharedPtr& snapshot, bool resend) override {
    const Response* write = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return;
      // A request may have taken a newer snapshot from the store meanwhile; never go back.
      if (snapshot->version < snapshot_->version) return;
      snapshot_ = snapshot;
      onSnapshotLocked(resend);
      write = takeWriteLocked();
    }
    if (write != nullptr) this->StartWrite(write);
  }

  void close(const grpc::Status& status) override { finish(status); }

 protected:
  StreamReactor(ControlPlane& cp, std::string api, std::string service_type_url, bool delta)
      : cp_(cp),
        id_(cp.streams.nextId()),
        api_(std::move(api)),
        service_type_url_(std::move(service_type_url)),
        delta_(delta),
        snapshot_(cp.store.snapshot()) {}

  // Handles one request, queueing responses with sendLocked(). A non-OK status ends the stream.
  virtual grpc::Status onRequestLocked(const Request& request) = 0;
  // snapshot_ has just become newer: queue what changed for this stream.
  virtual void onSnapshotLocked(bool resend) = 0;

  void sendLocked(Response response) { queue_.push_back(std::move(response)); }

  // The type a request is about. Per-type services serve their own type (clients may leave it
  // empty there); ADS needs it on every request.
  grpc::Status requestType(const std::string& type_url, std::string& out) const {
    if (service_type_url_.empty()) {
      if (type_url.empty()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ADS requests need a type_url");
      }
      out = type_url;
    } else {
      if (!type_url.empty() && type_url != service_type_url_) {
        return grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("this service serves ", service_type_url_, ", not ", type_url));
      }
      out = service_type_url_;
    }
    return grpc::Status::OK;
  }

  // Unique across streams, so a nonce in the log points at one response.
  static std::string nextNonce() {
    static std::atomic<int64_t> next{1};
    return std::to_string(next++);
  }

  // "stream 3 (ads delta)": how log lines name this stream.
  std::string logName() const {
    return absl::StrCat("stream ", id_, " (", api_, delta_ ? " delta" : "", ")");
  }

  ControlPlane& cp_;
  const int64_t id_;
  const std::string api_;
  const std::string service_type_url_;  // empty on ADS
  const bool delta_;

  mutable std::mutex mu_;
  // The newest snapshot this stream has seen, from a push or from the store on a request.
  SnapshotConstSharedPtr snapshot_;
  std::string node_id_;  // the first one a request carried

 private:
  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed or went away
      finish(grpc::Status::OK);
      return;
    }
    const Response* write = nullptr;
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return;
      if (SnapshotConstSharedPtr latest = cp_.store.snapshot();
          latest->version > snapshot_->version) {
        snapshot_ = std::move(latest);
      }
      status = onRequestLocked(request_);
      write = takeWriteLocked();
    }
    if (write != nullptr) this->StartWrite(write);
    if (!status.ok()) {
      finish(status);
      return;
    }
    this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    const Response* next = nullptr;
    bool finish_now = false;
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.pop_front();
      if (!ok && !closing_) {  // the call is gone; Finish is still owed
        closing_ = true;
        finish_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      }
      if (closing_) {
        writing_ = false;
        queue_.clear();
        finish_now = !finished_;
        finished_ = true;
        status = finish_status_;
      } else if (!queue_.empty()) {
        next = &queue_.front();
      } else {
        writing_ = false;
      }
    }
    if (next != nullptr) this->StartWrite(next);
    if (finish_now) this->Finish(status);
  }

  void OnDone() override {
    cp_.streams.remove(id_);
    std::shared_ptr<StreamReactor> self;  // the last reference may go with it, at return
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    self = std::move(self_);
  }

  // The response to write next, if no write is in flight; the caller starts it after unlocking.
  const Response* takeWriteLocked() {
    if (writing_ || closing_ || queue_.empty()) return nullptr;
    writing_ = true;
    return &queue_.front();
  }

  void finish(const grpc::Status& status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return;
      closing_ = true;
      finish_status_ = status;
      if (writing_) {
        // OnWriteDone finishes once the write in flight is done; nothing else goes out.
        queue_.erase(queue_.begin() + 1, queue_.end());
        return;
      }
      queue_.clear();
      finished_ = true;
    }
    this->Finish(status);
  }

  std::shared_ptr<StreamReactor> self_;  // gRPC's reference, dropped in OnDone
  Request request_;
  // Responses decided but not yet written; the front one is in flight while writing_.
  std::deque<Response> queue_;
  bool writing_ = false;
  bool closing_ = false;  // no more requests are handled nor responses queued
  bool finished_ = false;
  grpc::Status finish_status_;
};

}  // namespace remora::mockcp
