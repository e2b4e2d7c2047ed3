// The mock control plane's shared state: the resources it serves, the requests it received and
// its open streams. The gRPC services, the HTTP API and the directory watcher all work on it.
#pragma once

#include "tools/mock-cp/request_log.h"
#include "tools/mock-cp/resource_store.h"
#include "tools/mock-cp/stream_registry.h"

namespace remora::mockcp {

struct ControlPlane {
  ControlPlane() {
    store.setObserver([this](const SnapshotConstSharedPtr& snapshot, bool resend) {
      streams.pushAll(snapshot, resend);
    });
  }
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  ResourceStore store;
  RequestLog requests;
  StreamRegistry streams;
};

}  // namespace remora::mockcp
