// Builds the field paths used in config errors and warnings:
// static_resources.clusters[2].metadata.filter_metadata["envoy.lb"].
#pragma once

#include <cstddef>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace remora::config {

inline std::string fieldPath(const std::string& parent, absl::string_view name) {
  return parent.empty() ? std::string(name) : absl::StrCat(parent, ".", name);
}

inline std::string indexPath(const std::string& parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

inline std::string keyPath(const std::string& parent, absl::string_view key) {
  return absl::StrCat(parent, "[\"", absl::StrReplaceAll(key, {{"\\", "\\\\"}, {"\"", "\\\""}}),
                      "\"]");
}

// "<path>: <what>", or just "<what>" at the root where there is no path to name.
inline std::string atPath(const std::string& path, absl::string_view what) {
  return path.empty() ? std::string(what) : absl::StrCat(path, ": ", what);
}

inline absl::Status invalidAt(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(atPath(path, what));
}

}  // namespace remora::config
