// The mock control plane's loopback HTTP API (libevent's evhttp), for tests and users:
//   PUT    /resources                  body: `resources: [{"@type": ..., ...}]` (YAML or JSON);
//                                      adds or replaces them and bumps the version; streams
//                                      whose subscribed resources changed get it
//   DELETE /resources/<type>/<name>    type: listener, route, cluster, endpoint or secret
//   GET    /resources                  {"version": "N", "resources": {<type>: {<name>: <version>}}}
//   POST   /version                    a new version with the same content, sent to every stream
//   GET    /requests                   every xDS request received, as a JSON array (request_log.h)
//   DELETE /requests                   forgets them
//   GET    /streams                    {"open": N, "streams": [{"stream", "api", "delta", ...}]}
//   POST   /close-streams              ends every open stream with UNAVAILABLE
// Answers are JSON; errors are {"error": "..."} with a 4xx status.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "tools/mock-cp/control_plane.h"

struct evhttp;
struct evhttp_request;
struct event_base;

namespace remora::mockcp {

class HttpApi {
 public:
  HttpApi(event_base* base, ControlPlane& cp);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Listens on 127.0.0.1:`port` (0: any free port) and returns the port.
  absl::StatusOr<uint16_t> listen(uint16_t port);

 private:
  struct Reply {
    int status;
    std::string body;  // JSON
  };

  static void onRequest(evhttp_request* request, void* arg);
  Reply handle(int method, const std::string& path, const std::string& body);
  Reply putResources(const std::string& body);
  Reply deleteResource(const std::string& type_and_name);
  Reply getResources() const;
  Reply getStreams() const;

  ControlPlane& cp_;
  evhttp* http_;
};

}  // namespace remora::mockcp
