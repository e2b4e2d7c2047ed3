#include "test/support/mock_cp.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <sstream>
#include <thread>

namespace remora::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The integer after "<key>=" on its own line of the port file; 0 when absent or partial.
uint16_t portFromFile(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + "=", 0) != 0) continue;
    unsigned port = 0;
    const char* begin = line.data() + key.size() + 1;
    const char* end = line.data() + line.size();
    auto [ptr, ec] = std::from_chars(begin, end, port);
    if (ec != std::errc() || ptr != end || port == 0 || port > 65535) return 0;
    return static_cast<uint16_t>(port);
  }
  return 0;
}

const google::protobuf::Value* field(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string stringField(const google::protobuf::Struct& s, const std::string& key) {
  const auto* v = field(s, key);
  return v == nullptr ? "" : v->string_value();
}

std::vector<std::string> stringList(const google::protobuf::Struct& s, const std::string& key) {
  std::vector<std::string> out;
  if (const auto* v = field(s, key)) {
    for (const auto& item : v->list_value().values()) out.push_back(item.string_value());
  }
  return out;
}

MockCpRequest toRequest(const google::protobuf::Struct& s) {
  MockCpRequest r;
  if (const auto* v = field(s, "seq")) r.seq = static_cast<int64_t>(v->number_value());
  if (const auto* v = field(s, "stream")) r.stream = static_cast<int64_t>(v->number_value());
  r.api = stringField(s, "api");
  if (const auto* v = field(s, "delta")) r.delta = v->bool_value();
  r.type_url = stringField(s, "type_url");
  r.version_info = stringField(s, "version_info");
  r.response_nonce = stringField(s, "response_nonce");
  r.resource_names = stringList(s, "resource_names");
  r.subscribe = stringList(s, "resource_names_subscribe");
  r.unsubscribe = stringList(s, "resource_names_unsubscribe");
  if (const auto* v = field(s, "initial_resource_versions")) {
    for (const auto& [name, version] : v->struct_value().fields()) {
      r.initial_resource_versions[name] = version.string_value();
    }
  }
  r.node_id = stringField(s, "node_id");
  if (const auto* v = field(s, "ack"); v != nullptr && v->has_bool_value()) r.ack = v->bool_value();
  if (const auto* v = field(s, "error_detail"); v != nullptr && v->has_string_value()) {
    r.error_detail = v->string_value();
  }
  return r;
}

}  // namespace

bool MockControlPlane::start(const std::string& binary, const std::string& dir,
                             std::chrono::milliseconds timeout) {
  return start(binary, dir, "", timeout);
}

bool MockControlPlane::start(const std::string& binary, const std::string& dir,
                             const std::string& xds_uds, std::chrono::milliseconds timeout) {
  binary_ = binary;
  dir_ = dir;
  xds_uds_ = xds_uds;
  xds_port_ = 0;
  api_port_ = 0;
  return launch(timeout);
}

bool MockControlPlane::restart(std::chrono::milliseconds timeout) {
  stop();
  return launch(timeout);
}

bool MockControlPlane::launch(std::chrono::milliseconds timeout) {
  const std::string port_file = work_.file("ports");
  std::remove(port_file.c_str());
  std::vector<std::string> args = {"--xds-port",  std::to_string(xds_port_),
                                   "--api-port",  std::to_string(api_port_),
                                   "--port-file", port_file};
  if (!dir_.empty()) args.insert(args.end(), {"--dir", dir_});
  if (!xds_uds_.empty()) args.insert(args.end(), {"--xds-uds", xds_uds_});
  process_ = std::make_unique<Process>(binary_, std::move(args));
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const std::string text = readFile(port_file);
    const uint16_t xds = portFromFile(text, "xds");
    const uint16_t api = portFromFile(text, "api");
    if (xds != 0 && api != 0) {
      xds_port_ = xds;
      api_port_ = api;
      return true;
    }
    if (!process_->running()) {
      error_ = "remora-mock-cp exited before writing its port file\n" + describe();
      return false;
    }
    if (Clock::now() >= deadline) {
      error_ = "remora-mock-cp wrote no port file in " + std::to_string(timeout.count()) + "ms\n" +
               describe();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void MockControlPlane::stop() {
  if (process_ == nullptr || !process_->running()) return;
  process_->signal(SIGTERM);
  if (!process_->waitExit(std::chrono::seconds(10))) {
    process_->signal(SIGKILL);
    process_->waitExit(std::chrono::seconds(10));
  }
}

std::string MockControlPlane::xdsAddress() const {
  return "127.0.0.1:" + std::to_string(xds_port_);
}

HttpResponse MockControlPlane::api(const std::string& method, const std::string& path,
                                   const std::string& body) {
  HttpRequestOptions options;
  options.body = body;
  return httpRequest("127.0.0.1", api_port_, method, path, options);
}

int64_t MockControlPlane::versionOf(const HttpResponse& response, const std::string& what) {
  google::protobuf::Struct root;
  if (response.status == 200 &&
      google::protobuf::util::JsonStringToMessage(response.body, &root).ok()) {
    int64_t version = 0;
    const std::string text = stringField(root, "version");
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec == std::errc() && version > 0) return version;
  }
  error_ = what + ": status " + std::to_string(response.status) + " " + response.error + " " +
           response.body;
  return 0;
}

int64_t MockControlPlane::setResources(const std::string& yaml) {
  return versionOf(api("PUT", "/resources", yaml), "PUT /resources");
}

int64_t MockControlPlane::removeResource(const std::string& type, const std::string& name) {
  const std::string path = "/resources/" + type + "/" + name;
  return versionOf(api("DELETE", path), "DELETE " + path);
}

int64_t MockControlPlane::bumpVersion() {
  return versionOf(api("POST", "/version"), "POST /version");
}

std::vector<MockCpRequest> MockControlPlane::requests() {
  std::vector<MockCpRequest> out;
  HttpResponse response = api("GET", "/requests");
  google::protobuf::ListValue list;
  if (response.status != 200 ||
      !google::protobuf::util::JsonStringToMessage(response.body, &list).ok()) {
    error_ = "GET /requests: status " + std::to_string(response.status) + " " + response.error;
    return out;
  }
  for (const auto& item : list.values()) out.push_back(toRequest(item.struct_value()));
  return out;
}

bool MockControlPlane::clearRequests() { return api("DELETE", "/requests").status == 200; }

std::optional<MockCpRequest> MockControlPlane::waitForRequest(
    const std::function<bool(const MockCpRequest&)>& match, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    for (const auto& request : requests()) {
      if (match(request)) return request;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int MockControlPlane::openStreams() {
  HttpResponse response = api("GET", "/streams");
  google::protobuf::Struct root;
  if (response.status != 200 ||
      !google::protobuf::util::JsonStringToMessage(response.body, &root).ok()) {
    return -1;
  }
  const auto* open = field(root, "open");
  return open == nullptr ? -1 : static_cast<int>(open->number_value());
}

int MockControlPlane::closeStreams() {
  HttpResponse response = api("POST", "/close-streams");
  google::protobuf::Struct root;
  if (response.status != 200 ||
      !google::protobuf::util::JsonStringToMessage(response.body, &root).ok()) {
    return -1;
  }
  const auto* closed = field(root, "closed");
  return closed == nullptr ? -1 : static_cast<int>(closed->number_value());
}

std::string MockControlPlane::describe() const {
  return process_ == nullptr ? "remora-mock-cp not started" : process_->describe();
}

}  // namespace remora::testing
