// The resource files of --dir: every *.yaml, *.yml and *.json directly in it, read at start and
// again whenever inotify reports a finished write, a rename or a removal there. A file that fails
// to parse is reported and keeps the content it had; a change made through the HTTP API stays
// until a file changes that resource.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/mock-cp/resource_store.h"

struct event;
struct event_base;

namespace remora::mockcp {

class DirectorySource {
 public:
  DirectorySource(std::string dir, ResourceStore& store);
  ~DirectorySource();
  DirectorySource(const DirectorySource&) = delete;
  DirectorySource& operator=(const DirectorySource&) = delete;

  // Reads every file into the store as its version 1. Fails only when the directory cannot be
  // read; bad files are reported and skipped.
  absl::Status load();
  // Reloads on every change in the directory from now on.
  absl::Status watch(event_base* base);

 private:
  struct File {
    std::string text;  // as last read, so that an unchanged file is not parsed again
    std::vector<Resource> resources;
  };

  // Reads the directory again; returns the union of the files' resources.
  std::map<ResourceKey, Resource> readAll();
  void reload();
  static void onInotify(int fd, short what, void* arg);
  static void onSettled(int fd, short what, void* arg);

  const std::string dir_;
  ResourceStore& store_;
  std::map<std::string, File> files_;       // by file name
  std::map<ResourceKey, Resource> merged_;  // what the files held at the last reload
  int inotify_fd_ = -1;
  event* inotify_event_ = nullptr;
  event* settle_timer_ = nullptr;
};

}  // namespace remora::mockcp
