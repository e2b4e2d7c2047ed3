// In-test upstream servers for integration tests: each listens on 127.0.0.1:0, accepts on its own
// thread, serves every connection on a thread of its own, counts accepted connections and stops
// (unblocking every connection) when stop() is called or it is destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "test/support/sockets.h"

namespace remora::testing {

class TcpServer;

// One accepted connection, as seen by a server's handler. Every wait also wakes on stop().
class ServerConnection {
 public:
  ServerConnection(int fd, const TcpServer& server) : fd_(fd), server_(server) {}
  // Reads what is available (up to max bytes), blocking until something arrives. `eof` at a clean
  // EOF; `reset` on an error or when the server is stopping.
  ReadResult read(size_t max = 64 * 1024);
  // Reads until EOF (true) or an error/stop (false), appending to *out.
  bool readUntilEof(std::string* out);
  // Writes everything; false on error or stop.
  bool write(std::string_view data);
  void shutdownWrite();
  int fd() const { return fd_; }

 private:
  // Waits for `events` on the socket; false when the server is stopping.
  bool wait(short events);
  int fd_;
  const TcpServer& server_;
};

// The accept loop and connection threads shared by every backend below.
class TcpServer {
 public:
  using Handler = std::function<void(ServerConnection&)>;
  explicit TcpServer(Handler handler);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  uint16_t port() const { return port_; }
  int acceptedConnections() const { return accepted_.load(); }
  // Closes the listener, wakes every connection handler and joins all threads. Idempotent.
  void stop();
  // Readable once stop() was called; handlers poll it next to their socket.
  int stopFd() const { return wake_read_.get(); }

 private:
  void acceptLoop();

  Handler handler_;
  Fd listener_;
  Fd wake_read_;
  Fd wake_write_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::vector<std::thread> connection_threads_;
  std::thread accept_thread_;
};

// Echoes every byte back; answers the client's FIN with its own.
class EchoServer {
 public:
  EchoServer();
  uint16_t port() const { return server_.port(); }
  int acceptedConnections() const { return server_.acceptedConnections(); }
  void stop() { server_.stop(); }

 private:
  TcpServer server_;
};

// Writes its id as soon as it accepts, then waits for the client to close. Tells endpoints apart.
class GreetingServer {
 public:
  explicit GreetingServer(std::string id);
  const std::string& id() const { return id_; }
  uint16_t port() const { return server_.port(); }
  int acceptedConnections() const { return server_.acceptedConnections(); }
  void stop() { server_.stop(); }

 private:
  std::string id_;
  TcpServer server_;
};

// Exercises half-close. kReplyAfterEof: reads until the client's FIN, then answers
// "received:<bytes>" and closes (the upstream can still send after its peer's FIN).
// kCloseFirst: sends `greeting` and its FIN right away, then keeps reading until the client's FIN
// (the upstream can still receive after its own FIN).
// Either way, what each connection received before EOF is recorded.
class HalfCloseServer {
 public:
  enum class Mode { kReplyAfterEof, kCloseFirst };
  explicit HalfCloseServer(Mode mode, std::string greeting = "bye");
  uint16_t port() const { return server_.port(); }
  int acceptedConnections() const { return server_.acceptedConnections(); }
  // What each connection that reached EOF had received, in completion order.
  std::vector<std::string> completed() const;
  void stop() { server_.stop(); }

 private:
  Mode mode_;
  std::string greeting_;
  mutable std::mutex mu_;
  std::vector<std::string> completed_;
  TcpServer server_;
};

// Writes `bytes` bytes of patternBytes() as fast as the peer takes them, then closes.
class BlastServer {
 public:
  explicit BlastServer(size_t bytes);
  uint16_t port() const { return server_.port(); }
  int acceptedConnections() const { return server_.acceptedConnections(); }
  size_t bytes() const { return bytes_; }
  uint64_t expectedChecksum() const { return checksum_; }
  // Bytes written so far over all connections (the kernel took them; the peer may not have).
  size_t bytesWritten() const { return written_.load(); }
  void stop() { server_.stop(); }

 private:
  size_t bytes_;
  uint64_t checksum_;
  std::atomic<size_t> written_{0};
  TcpServer server_;
};

// A slow reader: reads at most `chunk` bytes, pauses, and repeats, checksumming everything until
// the peer's EOF. Models an upstream slower than its client.
class SlowSinkServer {
 public:
  SlowSinkServer(size_t chunk, std::chrono::milliseconds pause);
  uint16_t port() const { return server_.port(); }
  int acceptedConnections() const { return server_.acceptedConnections(); }
  size_t bytesReceived() const { return received_.load(); }
  // True once a connection reached EOF; checksum() then covers all it received.
  bool done() const { return done_.load(); }
  uint64_t checksum() const { return checksum_.load(); }
  void stop() { server_.stop(); }

 private:
  size_t chunk_;
  std::chrono::milliseconds pause_;
  std::atomic<size_t> received_{0};
  std::atomic<uint64_t> checksum_{0};
  std::atomic<bool> done_{false};
  TcpServer server_;
};

}  // namespace remora::testing
