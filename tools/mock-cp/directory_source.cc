#include "tools/mock-cp/directory_source.h"

#include <event2/event.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace remora::mockcp {
namespace {

// Several files written together (cp *.yaml) become one reload, and one new version.
constexpr timeval kSettleTime = {0, 50 * 1000};

bool isResourceFile(const std::filesystem::directory_entry& entry) {
  const std::string name = entry.path().filename().string();
  const std::string ext = entry.path().extension().string();
  std::error_code ec;
  // Dot files are editors' and Kubernetes' scratch (".x.yaml.swp", "..data").
  return !name.starts_with(".") && (ext == ".yaml" || ext == ".yml" || ext == ".json") &&
         entry.is_regular_file(ec);
}

bool readText(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

}  // namespace

DirectorySource::DirectorySource(std::string dir, ResourceStore& store)
    : dir_(std::move(dir)), store_(store) {}

DirectorySource::~DirectorySource() {
  if (inotify_event_ != nullptr) event_free(inotify_event_);
  if (settle_timer_ != nullptr) event_free(settle_timer_);
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

absl::Status DirectorySource::load() {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec)) {
    return absl::NotFoundError(absl::StrCat("--dir ", dir_, ": not a readable directory"));
  }
  merged_ = readAll();
  std::vector<Resource> all;
  for (const auto& [key, resource] : merged_) all.push_back(resource);
  store_.load(all);
  spdlog::info("{}: {} resource(s) from {} file(s)", dir_, all.size(), files_.size());
  return absl::OkStatus();
}

std::map<ResourceKey, Resource> DirectorySource::readAll() {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (isResourceFile(entry)) names.insert(entry.path().filename().string());
  }
  if (ec) spdlog::error("{}: cannot list: {}", dir_, ec.message());

  std::map<std::string, File> next;
  for (const std::string& name : names) {
    const std::string path = dir_ + "/" + name;
    auto previous = files_.find(name);
    std::string text;
    if (!readText(path, text)) {
      spdlog::error("{}: cannot read; keeping its previous content", path);
      if (previous != files_.end()) next.emplace(name, previous->second);
      continue;
    }
    if (previous != files_.end() && previous->second.text == text) {
      next.emplace(name, previous->second);
      continue;
    }
    absl::StatusOr<ParsedResources> parsed = parseResources(text);
    if (!parsed.ok()) {
      spdlog::error("{}: {}; keeping its previous content", path,
                    std::string(parsed.status().message()));
      File kept{text, {}};
      if (previous != files_.end()) kept.resources = previous->second.resources;
      next.emplace(name, std::move(kept));
      continue;
    }
    for (const auto& warning : parsed->warnings) spdlog::warn("{}: {}", path, warning);
    next.emplace(name, File{text, std::move(parsed->resources)});
  }
  files_ = std::move(next);

  std::map<ResourceKey, Resource> merged;
  std::map<ResourceKey, std::string> origin;
  for (const auto& [name, file] : files_) {
    for (const Resource& r : file.resources) {
      ResourceKey key{r.any.type_url(), r.name};
      if (auto it = origin.find(key); it != origin.end() && it->second != name) {
        spdlog::warn("{}/{}: {} '{}' is also in {}; using this one", dir_, name,
                     displayType(key.first), key.second, it->second);
      }
      origin[key] = name;
      merged[key] = r;
    }
  }
  return merged;
}

void DirectorySource::reload() {
  std::map<ResourceKey, Resource> merged = readAll();
  std::vector<Resource> upserts;
  std::vector<ResourceKey> removals;
  for (const auto& [key, resource] : merged) {
    auto old = merged_.find(key);
    if (old == merged_.end() || old->second.any.value() != resource.any.value()) {
      upserts.push_back(resource);
    }
  }
  for (const auto& [key, resource] : merged_) {
    if (!merged.contains(key)) removals.push_back(key);
  }
  merged_ = std::move(merged);
  if (upserts.empty() && removals.empty()) return;
  spdlog::info("{}: {} resource(s) changed, {} removed", dir_, upserts.size(), removals.size());
  store_.apply(upserts, removals);
}

absl::Status DirectorySource::watch(event_base* base) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    return absl::InternalError(absl::StrCat("inotify_init1: ", std::strerror(errno)));
  }
  // Not IN_MODIFY: it fires mid-write, and a half-written file may parse as fewer resources.
  const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                        IN_DELETE_SELF | IN_MOVE_SELF;
  if (::inotify_add_watch(inotify_fd_, dir_.c_str(), mask) < 0) {
    return absl::InternalError(
        absl::StrCat("inotify_add_watch ", dir_, ": ", std::strerror(errno)));
  }
  inotify_event_ = event_new(base, inotify_fd_, EV_READ | EV_PERSIST, &onInotify, this);
  settle_timer_ = evtimer_new(base, &onSettled, this);
  if (inotify_event_ == nullptr || settle_timer_ == nullptr ||
      event_add(inotify_event_, nullptr) != 0) {
    return absl::InternalError("cannot watch the directory's inotify events");
  }
  return absl::OkStatus();
}

void DirectorySource::onInotify(int fd, short, void* arg) {
  auto* self = static_cast<DirectorySource*>(arg);
  alignas(inotify_event) char buf[16384];
  bool relevant = false;
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
    for (char* p = buf; p < buf + n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + e->len;
      if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        spdlog::warn("{}: the directory itself was removed or moved; no more reloads", self->dir_);
        continue;
      }
      if (e->mask & IN_CREATE) {
        // A new regular file is still empty: its IN_CLOSE_WRITE follows. A new symlink (how
        // Kubernetes mounts a ConfigMap's keys) gets no other event.
        struct stat st;
        const std::string path = self->dir_ + "/" + (e->len > 0 ? e->name : "");
        if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
      }
      relevant = true;
    }
  }
  if (relevant && !evtimer_pending(self->settle_timer_, nullptr)) {
    evtimer_add(self->settle_timer_, &kSettleTime);
  }
}

void DirectorySource::onSettled(int, short, void* arg) {
  static_cast<DirectorySource*>(arg)->reload();
}

}  // namespace remora::mockcp
