// What the connection manager does to every request's headers before the filters see them:
// the client's address from x-forwarded-for (or the socket), x-forwarded-proto, trust
// (x-envoy-internal, stripping x-envoy-* from untrusted clients), x-request-id and via.
#pragma once

#include <string>

#include "source/http/conn_manager_config.h"
#include "source/http/header_map.h"
#include "source/http/stream_info.h"

namespace remora::http {

struct RequestHeaderContext {
  const ConnManagerConfig& config;
  const network::Address& peer;  // The socket's remote address.
};

// Edits `headers` in place and sets info.downstream_remote_address and info.request_id.
void applyDownstreamRequestHeaders(const RequestHeaderContext& ctx, HeaderMap& headers,
                                   StreamInfo& info);

// A random (version 4) UUID, as Envoy generates for x-request-id.
std::string generateUuid4();

// Whether `config` trusts `address` (internal_address_config, or private ranges by default).
bool isInternalAddress(const ConnManagerConfig& config, const network::Address& address);

}  // namespace remora::http
