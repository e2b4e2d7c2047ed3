#include "tools/mock-cp/http_api.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"
#include "tools/mock-cp/json_text.h"

namespace remora::mockcp {
namespace {

std::string errorJson(std::string_view message) {
  return absl::StrCat("{\"error\":", jsonString(message), "}\n");
}

std::string versionJson(int64_t version) {
  return absl::StrCat("{\"version\":", jsonString(std::to_string(version)), "}\n");
}

// The path without its query, percent-decoded.
std::string decodedPath(evhttp_request* request) {
  const char* raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(request));
  if (raw == nullptr) return "/";
  size_t size = 0;
  char* decoded = evhttp_uridecode(raw, /*decode_plus=*/0, &size);
  if (decoded == nullptr) return raw;
  std::string out(decoded, size);
  std::free(decoded);
  return out;
}

}  // namespace

HttpApi::HttpApi(event_base* base, ControlPlane& cp) : cp_(cp), http_(evhttp_new(base)) {
  evhttp_set_gencb(http_, &onRequest, this);
}

HttpApi::~HttpApi() { evhttp_free(http_); }

absl::StatusOr<uint16_t> HttpApi::listen(uint16_t port) {
  evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http_, "127.0.0.1", port);
  if (bound == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on 127.0.0.1:", port));
  }
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  if (::getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&address),
                    &length) != 0) {
    return absl::InternalError("getsockname failed on the HTTP API socket");
  }
  return ntohs(address.sin_port);
}

void HttpApi::onRequest(evhttp_request* request, void* arg) {
  auto* self = static_cast<HttpApi*>(arg);
  evbuffer* input = evhttp_request_get_input_buffer(request);
  std::string body(evbuffer_get_length(input), '\0');
  evbuffer_remove(input, body.data(), body.size());
  const int method = evhttp_request_get_command(request);
  Reply reply = self->handle(method, decodedPath(request), body);
  evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", "application/json");
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, reply.body.data(), reply.body.size());
  evhttp_send_reply(request, reply.status, nullptr, out);
  evbuffer_free(out);
}

HttpApi::Reply HttpApi::handle(int method, const std::string& path, const std::string& body) {
  const bool get = method == EVHTTP_REQ_GET;
  const bool put = method == EVHTTP_REQ_PUT;
  const bool post = method == EVHTTP_REQ_POST;
  const bool del = method == EVHTTP_REQ_DELETE;
  const std::string kResourcePrefix = "/resources/";
  if (path == "/resources" && put) return putResources(body);
  if (path == "/resources" && get) return getResources();
  if (path.starts_with(kResourcePrefix) && del) {
    return deleteResource(path.substr(kResourcePrefix.size()));
  }
  if (path == "/version" && post) {
    const int64_t version = cp_.store.bump();
    spdlog::info("POST /version: version {}, sent again to every stream", version);
    return {200, versionJson(version)};
  }
  if (path == "/requests" && get) return {200, cp_.requests.json()};
  if (path == "/requests" && del) {
    const size_t cleared = cp_.requests.size();
    cp_.requests.clear();
    return {200, absl::StrCat("{\"cleared\":", cleared, "}\n")};
  }
  if (path == "/streams" && get) return getStreams();
  if (path == "/close-streams" && post) {
    const size_t closed = cp_.streams.closeAll(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "closed by the mock control plane's API"));
    spdlog::info("POST /close-streams: {} stream(s) closed", closed);
    return {200, absl::StrCat("{\"closed\":", closed, "}\n")};
  }
  const bool known = path == "/resources" || path.starts_with(kResourcePrefix) ||
                     path == "/version" || path == "/requests" || path == "/streams" ||
                     path == "/close-streams";
  if (known) return {405, errorJson("method not allowed on " + path)};
  return {404, errorJson("no such path: " + path)};
}

HttpApi::Reply HttpApi::putResources(const std::string& body) {
  absl::StatusOr<ParsedResources> parsed = parseResources(body);
  if (!parsed.ok()) {
    spdlog::warn("PUT /resources rejected: {}", std::string(parsed.status().message()));
    return {400, errorJson(std::string(parsed.status().message()))};
  }
  for (const auto& warning : parsed->warnings) spdlog::warn("PUT /resources: {}", warning);
  std::vector<std::string> names;
  for (const Resource& r : parsed->resources) {
    names.push_back(displayType(r.any.type_url()) + "/" + r.name);
  }
  const int64_t version = cp_.store.set(parsed->resources);
  spdlog::info("PUT /resources: version {}: {}", version, absl::StrJoin(names, ", "));
  return {200, absl::StrCat("{\"version\":", jsonString(std::to_string(version)),
                            ",\"set\":", jsonStringList(names),
                            ",\"warnings\":", jsonStringList(parsed->warnings), "}\n")};
}

HttpApi::Reply HttpApi::deleteResource(const std::string& type_and_name) {
  const size_t slash = type_and_name.find('/');
  const std::string short_name = type_and_name.substr(0, slash);
  const ResourceType* type = typeByShortName(short_name);
  if (type == nullptr) {
    return {400, errorJson("unknown resource type '" + short_name +
                           "' (listener, route, cluster, endpoint or secret)")};
  }
  if (slash == std::string::npos || slash + 1 == type_and_name.size()) {
    return {400, errorJson("expected /resources/" + short_name + "/<name>")};
  }
  // Names may hold slashes (xdstp:// names do): the rest of the path is the name.
  const std::string name = type_and_name.substr(slash + 1);
  std::optional<int64_t> version = cp_.store.remove({std::string(type->type_url), name});
  if (!version) return {404, errorJson("no " + short_name + " named '" + name + "'")};
  spdlog::info("DELETE /resources: version {}: {}/{} removed", *version, short_name, name);
  return {200, versionJson(*version)};
}

HttpApi::Reply HttpApi::getResources() const {
  SnapshotConstSharedPtr snapshot = cp_.store.snapshot();
  std::string types;
  for (const auto& [type_url, entries] : snapshot->types) {
    std::map<std::string, std::string> versions;
    for (const auto& [name, entry] : entries) versions[name] = std::to_string(entry.version);
    if (!types.empty()) types += ",";
    types += jsonString(displayType(type_url)) + ":" + jsonStringMap(versions);
  }
  return {200, absl::StrCat("{\"version\":", jsonString(std::to_string(snapshot->version)),
                            ",\"resources\":{", types, "}}\n")};
}

HttpApi::Reply HttpApi::getStreams() const {
  std::vector<std::string> streams;
  for (const auto& stream : cp_.streams.all()) streams.push_back(stream->describeJson());
  return {200, absl::StrCat("{\"open\":", streams.size(), ",\"streams\":[",
                            absl::StrJoin(streams, ","), "]}\n")};
}

}  // namespace remora::mockcp
