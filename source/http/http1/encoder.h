// Serializes HTTP/1.1 message heads and chunked framing into libevent buffers, the inverse of
// parser.h. Framing is the caller's choice: it puts transfer-encoding or content-length in the map.
#pragma once

#include <event2/buffer.h>

#include <cstddef>

#include "absl/strings/string_view.h"
#include "source/http/header_map.h"

namespace remora::http::http1 {

// The RFC 9110 / IANA reason phrase for `status`, or "Unknown".
absl::string_view reasonPhrase(int status);

// "METHOD target HTTP/1.1", then Host (from :authority) and the regular fields. The target is
// :path, or :authority for CONNECT. Other pseudo-headers are not sent.
void encodeRequestHead(const HeaderMap& headers, evbuffer* out);

// "HTTP/1.<version_minor> <:status> <reason>", then the regular fields.
void encodeResponseHead(const HeaderMap& headers, int version_minor, evbuffer* out);

// One chunk of a chunked body. Zero bytes write nothing: an empty chunk would end the body.
void encodeChunk(const char* data, size_t len, evbuffer* out);
// The same, moving all of `data` into `out` after the chunk-size line instead of copying it.
void encodeChunk(evbuffer* data, evbuffer* out);

// The last chunk, the trailer fields if any, and the empty line that ends the message.
void encodeLastChunk(const HeaderMap* trailers, evbuffer* out);

}  // namespace remora::http::http1
