// What the mock control plane serves right now: immutable snapshots of every resource with one
// global version, replaced as a whole on each change so streams read them without locks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/mock-cp/resources.h"

namespace remora::mockcp {

struct Snapshot {
  struct Entry {
    std::shared_ptr<const google::protobuf::Any> any;
    // The global version at which this resource last changed: its delta xDS version.
    int64_t version = 0;
  };
  using Entries = std::map<std::string, Entry>;  // by name, so responses list them in order

  // Starts at 1 and grows by one with every change; the SotW version_info.
  int64_t version = 1;
  std::map<std::string, Entries> types;  // by type URL

  // Empty when there is no resource of that type.
  const Entries& ofType(const std::string& type_url) const;
};
using SnapshotConstSharedPtr = std::shared_ptr<const Snapshot>;

// (type URL, name)
using ResourceKey = std::pair<std::string, std::string>;

class ResourceStore {
 public:
  // Called with every new snapshot, in version order. `resend`: POST /version asked for every
  // stream to be sent everything again even though nothing changed.
  using Observer = std::function<void(const SnapshotConstSharedPtr&, bool resend)>;

  ResourceStore();

  SnapshotConstSharedPtr snapshot() const;
  // Set once, before any stream opens.
  void setObserver(Observer observer) { observer_ = std::move(observer); }

  // The content to start with, at version 1; nobody is told.
  void load(const std::vector<Resource>& resources);
  // Adds or replaces each resource and bumps the version even if nothing differs (PUT /resources).
  int64_t set(const std::vector<Resource>& resources);
  // nullopt when there is no such resource; then nothing changes.
  std::optional<int64_t> remove(const ResourceKey& key);
  // A new version with the same content, sent again to every stream (POST /version).
  int64_t bump();
  // A directory reload: bumps the version only if a resource really differs afterwards.
  void apply(const std::vector<Resource>& upserts, const std::vector<ResourceKey>& removals);

 private:
  // Applies `edit` to a copy of the current snapshot and publishes it when `edit` says it changed
  // something or `always` is set. Returns the version then current.
  int64_t commit(const std::function<bool(Snapshot&)>& edit, bool always, bool resend);

  // Serializes writers so observers see snapshots in version order.
  std::mutex write_mu_;
  mutable std::mutex mu_;
  SnapshotConstSharedPtr current_;
  Observer observer_;
};

}  // namespace remora::mockcp
