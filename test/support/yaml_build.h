// Tests of config builders: a YAML snippet parsed into its proto, handed to the builder, and the
// result required to succeed or to fail.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "source/config/yaml_to_proto.h"

namespace remora::testing {

// `builder(proto, path)` on `yaml` parsed as a Proto (which must parse).
template <class Proto, class Builder>
auto buildFromYaml(const std::string& yaml, const std::string& path, Builder builder) {
  Proto proto;
  config::ParseReport report;
  const absl::Status parsed = config::parseYaml(yaml, proto, report);
  INFO(parsed.ToString());
  REQUIRE(parsed.ok());
  return builder(proto, path);
}

template <class T>
T requireBuilt(absl::StatusOr<T> built) {
  INFO(built.status().ToString());
  REQUIRE(built.ok());
  return *std::move(built);
}

// The message of an InvalidArgument the build must have failed with.
template <class T>
std::string requireRefused(const absl::StatusOr<T>& built) {
  REQUIRE_FALSE(built.ok());
  CHECK(built.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(built.status().message());
}

}  // namespace remora::testing
