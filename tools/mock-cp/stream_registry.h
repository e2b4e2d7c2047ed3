// Every open xDS stream, so that a new snapshot, GET /streams and POST /close-streams reach them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grpcpp/support/status.h"
#include "tools/mock-cp/resource_store.h"

namespace remora::mockcp {

class Stream {
 public:
  virtual ~Stream() = default;
  virtual int64_t id() const = 0;
  // {"stream":1,"api":"ads","delta":false,"node_id":"...","types":["cluster",...]}
  virtual std::string describeJson() const = 0;
  // Sends what `snapshot` changed for this stream's subscriptions (`resend`: everything it
  // subscribed to, unless it already has this version).
  virtual void push(const SnapshotConstSharedPtr& snapshot, bool resend) = 0;
  // Ends the stream with `status` once the write in flight, if any, is done.
  virtual void close(const grpc::Status& status) = 0;
};
using StreamSharedPtr = std::shared_ptr<Stream>;

class StreamRegistry {
 public:
  int64_t nextId() { return next_id_++; }
  void add(StreamSharedPtr stream);
  void remove(int64_t id);
  std::vector<StreamSharedPtr> all() const;
  // Calls each stream outside the registry's lock: a stream may end, and unregister, meanwhile.
  void pushAll(const SnapshotConstSharedPtr& snapshot, bool resend);
  size_t closeAll(const grpc::Status& status);

 private:
  std::atomic<int64_t> next_id_{1};
  mutable std::mutex mu_;
  std::map<int64_t, StreamSharedPtr> streams_;
};

}  // namespace remora::mockcp
