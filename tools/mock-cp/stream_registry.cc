#include "tools/mock-cp/stream_registry.h"

namespace remora::mockcp {

void StreamRegistry::add(StreamSharedPtr stream) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t id = stream->id();
  streams_.emplace(id, std::move(stream));
}

void StreamRegistry::remove(int64_t id) {
  StreamSharedPtr last;  // released after the lock: it may be the stream's last reference
  std::lock_guard<std::mutex> lock(mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  last = std::move(it->second);
  streams_.erase(it);
}

std::vector<StreamSharedPtr> StreamRegistry::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StreamSharedPtr> out;
  out.reserve(streams_.size());
  for (const auto& [id, stream] : streams_) out.push_back(stream);
  return out;
}

void StreamRegistry::pushAll(const SnapshotConstSharedPtr& snapshot, bool resend) {
  for (const auto& stream : all()) stream->push(snapshot, resend);
}

size_t StreamRegistry::closeAll(const grpc::Status& status) {
  auto streams = all();
  for (const auto& stream : streams) stream->close(status);
  return streams.size();
}

}  // namespace remora::mockcp
