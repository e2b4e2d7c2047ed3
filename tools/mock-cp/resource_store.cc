#include "tools/mock-cp/resource_store.h"

namespace remora::mockcp {
namespace {

// Sets `r` in `s` at `version` unless the same bytes are already there; true when it changed.
bool upsert(Snapshot& s, const Resource& r, int64_t version) {
  Snapshot::Entry& entry = s.types[r.any.type_url()][r.name];
  if (entry.any != nullptr && entry.any->value() == r.any.value()) return false;
  entry.any = std::make_shared<const google::protobuf::Any>(r.any);
  entry.version = version;
  return true;
}

bool erase(Snapshot& s, const ResourceKey& key) {
  auto type = s.types.find(key.first);
  if (type == s.types.end() || type->second.erase(key.second) == 0) return false;
  if (type->second.empty()) s.types.erase(type);
  return true;
}

}  // namespace

const Snapshot::Entries& Snapshot::ofType(const std::string& type_url) const {
  static const Entries* empty = new Entries();
  auto it = types.find(type_url);
  return it == types.end() ? *empty : it->second;
}

ResourceStore::ResourceStore() : current_(std::make_shared<const Snapshot>()) {}

SnapshotConstSharedPtr ResourceStore::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void ResourceStore::load(const std::vector<Resource>& resources) {
  auto next = std::make_shared<Snapshot>();
  for (const Resource& r : resources) upsert(*next, r, next->version);
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(next);
}

int64_t ResourceStore::commit(const std::function<bool(Snapshot&)>& edit, bool always,
                              bool resend) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  auto next = std::make_shared<Snapshot>(*snapshot());
  ++next->version;
  if (!edit(*next) && !always) return next->version - 1;
  SnapshotConstSharedPtr published = std::move(next);
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = published;
  }
  if (observer_) observer_(published, resend);
  return published->version;
}

int64_t ResourceStore::set(const std::vector<Resource>& resources) {
  return commit(
      [&](Snapshot& s) {
        for (const Resource& r : resources) upsert(s, r, s.version);
        return true;
      },
      /*always=*/true, /*resend=*/false);
}

std::optional<int64_t> ResourceStore::remove(const ResourceKey& key) {
  bool removed = false;
  int64_t version = commit(
      [&](Snapshot& s) {
        removed = erase(s, key);
        return removed;
      },
      /*always=*/false, /*resend=*/false);
  if (!removed) return std::nullopt;
  return version;
}

int64_t ResourceStore::bump() {
  return commit([](Snapshot&) { return true; }, /*always=*/true, /*resend=*/true);
}

void ResourceStore::apply(const std::vector<Resource>& upserts,
                          const std::vector<ResourceKey>& removals) {
  commit(
      [&](Snapshot& s) {
        bool changed = false;
        for (const ResourceKey& key : removals) changed |= erase(s, key);
        for (const Resource& r : upserts) changed |= upsert(s, r, s.version);
        return changed;
      },
      /*always=*/false, /*resend=*/false);
}

}  // namespace remora::mockcp
