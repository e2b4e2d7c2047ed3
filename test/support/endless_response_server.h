// An upstream answering every request with an endless Content-Length body, written only as fast
// as the proxy takes it, counting what the proxy took: what a slow or stalled client makes the
// proxy buffer.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "test/support/backends.h"
#include "test/support/sockets.h"

namespace remora::testing {

class EndlessResponseServer {
 public:
  EndlessResponseServer()
      : server_([this](ServerConnection& c) {
          std::string request;
          while (request.find("\r\n\r\n") == std::string::npos) {
            ReadResult r = c.read();
            if (r.eof || r.reset) return;
            request += r.data;
          }
          if (!c.write("HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n")) return;
          const std::string block = patternBytes(0, 64 * 1024);
          while (c.write(block)) written_ += block.size();
        }) {}
  uint16_t port() const { return server_.port(); }
  // Body bytes the proxy has taken (the kernel accepted them from this server).
  uint64_t written() const { return written_.load(); }
  int acceptedConnections() const { return server_.acceptedConnections(); }
  void stop() { server_.stop(); }

 private:
  std::atomic<uint64_t> written_{0};
  TcpServer server_;
};

}  // namespace remora::testing
