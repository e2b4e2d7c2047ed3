// Helpers for router tests: a RouteConfiguration from YAML compiled into a RouteTable, and
// request headers built in one line.
#pragma once

#include <catch2/catch.hpp>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "envoy/config/route/v3/route.pb.h"
#include "source/config/yaml_to_proto.h"
#include "source/http/header_map.h"
#include "source/router/route_table.h"

namespace remora::router::test {

inline absl::StatusOr<std::shared_ptr<const RouteTable>> compileYaml(const std::string& yaml) {
  envoy::config::route::v3::RouteConfiguration config;
  config::ParseReport report;
  if (absl::Status s = config::parseYaml(yaml, config, report); !s.ok()) return s;
  return RouteTable::compile(config, "route_config");
}

inline std::shared_ptr<const RouteTable> mustCompile(const std::string& yaml) {
  auto table = compileYaml(yaml);
  INFO(table.status().ToString());
  REQUIRE(table.ok());
  return *table;
}

// The compile error's message ("" when it compiled).
inline std::string compileError(const std::string& yaml) {
  auto table = compileYaml(yaml);
  return table.ok() ? std::string() : std::string(table.status().message());
}

using Headers = std::initializer_list<std::pair<std::string, std::string>>;

inline http::HeaderMap request(const std::string& authority, const std::string& path,
                               Headers extra = {}) {
  http::HeaderMap h;
  h.add(":method", "GET");
  h.add(":scheme", "http");
  h.add(":authority", authority);
  h.add(":path", path);
  for (const auto& [key, value] : extra) h.add(key, value);
  return h;
}

// The matched route's name, or "none".
inline std::string routed(const RouteTable& table, const http::HeaderMap& headers) {
  const Route* route = table.route(headers);
  return route != nullptr ? route->name() : std::string("none");
}

// The matched route's virtual host name, or "none".
inline std::string vhostFor(const RouteTable& table, const std::string& authority) {
  const Route* route = table.route(request(authority, "/"));
  return route != nullptr ? route->virtualHost().name() : std::string("none");
}

}  // namespace remora::router::test
