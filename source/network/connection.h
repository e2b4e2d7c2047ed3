// A non-blocking TCP or unix stream connection: bytes in and out through evbuffer chains (moved,
// not copied, between connections), write watermarks for backpressure, and explicit half-close.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "source/buffer/length_charge.h"
#include "source/event/dispatcher.h"
#include "source/network/address.h"
#include "source/network/listen_socket.h"

namespace remora::network {

enum class ConnectionEvent {
  kConnected,       // An outgoing connect() completed.
  kRemoteEof,       // The peer shut down its sending side; we may still write.
  kError,           // Reset or other socket error: the connection is closed.
  kConnectFailed,   // An outgoing connect() was refused or failed.
  kConnectTimeout,  // An outgoing connect() did not complete in time.
  kWriteShutdown,   // Everything queued was written and our FIN sent (after shutdownWrite()).
};

class Connection;

class ConnectionCallbacks {
 public:
  virtual ~ConnectionCallbacks() = default;
  // New bytes are in conn.input().
  virtual void onData(Connection& conn) = 0;
  virtual void onEvent(Connection& conn, ConnectionEvent event) = 0;
  // Output rose above the buffer limit: stop feeding this connection.
  virtual void onAboveWriteBufferHighWatermark(Connection& conn) = 0;
  // Output fell to half the limit after having been above it: resume.
  virtual void onBelowWriteBufferLowWatermark(Connection& conn) = 0;
};

class Connection {
 public:
  // Wraps an accepted socket; reading starts when readEnable(true) is called.
  Connection(event::Dispatcher& dispatcher, SocketFd fd, ConnectionCallbacks& callbacks);
  // Starts a non-blocking connect; the outcome arrives as kConnected / kConnectFailed /
  // kConnectTimeout. A synchronous failure is reported the same way, from the event loop.
  static std::unique_ptr<Connection> connect(event::Dispatcher& dispatcher, const Address& to,
                                             ConnectionCallbacks& callbacks,
                                             std::chrono::milliseconds timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  evbuffer* input() { return input_; }
  size_t outputLength() const { return evbuffer_get_length(output_); }
  // Moves all of `data` to the output (no copy); it is sent once the current callback returns,
  // together with anything else written meanwhile (or by close()).
  void write(evbuffer* data);
  void readEnable(bool enabled);
  // Sends FIN once everything queued has been written; kWriteShutdown follows from the loop.
  void shutdownWrite();
  // Reads and drops what the peer sent but nobody will read, so that close() sends FIN, not RST.
  void discardPendingInput();
  // Closes the socket at once, dropping unwritten output. No callbacks follow.
  void close();
  bool closed() const { return fd_.get() < 0; }

  // What both buffers hold is charged to `account` from now on (by default the loop's unowned
  // account); what they hold already moves with it. The charge is brought up to date after each
  // of this connection's reads, writes, flushes and its close: bytes another party drains from
  // input() outside those (a pipelined request parsed from a timer) are credited at the next one.
  void setAccount(buffer::MemoryAccount& account) {
    syncCharge();
    charge_.setAccount(account);
  }
  // Back to the loop's unowned account (a connection going idle in a pool).
  void clearAccount() { setAccount(dispatcher_.bufferTracker().unowned()); }
  void setBufferLimit(uint32_t bytes) { buffer_limit_ = bytes; }
  uint32_t bufferLimit() const { return buffer_limit_; }
  uint64_t bytesRead() const { return bytes_read_; }
  uint64_t bytesWritten() const { return bytes_written_; }

 private:
  Connection(event::Dispatcher& dispatcher, ConnectionCallbacks& callbacks);
  static void onReadable(evutil_socket_t, short, void* arg);
  static void onWritable(evutil_socket_t, short, void* arg);
  static void onFlush(evutil_socket_t, short, void* arg);
  void attach(SocketFd fd);
  void handleRead();
  void handleWrite();
  void flush();
  void raise(ConnectionEvent event);
  void updateWriteInterest();
  void checkHighWatermark();
  void syncCharge() {
    if (charge_.enabled()) charge_.sync(evbuffer_get_length(input_) + evbuffer_get_length(output_));
  }

  event::Dispatcher& dispatcher_;
  ConnectionCallbacks& callbacks_;
  SocketFd fd_;
  ::event* read_ev_ = nullptr;
  ::event* write_ev_ = nullptr;
  // Activated (never polled) to write once the current callback has returned; kept apart from
  // write_ev_ because libevent does not poll for an event added while it is active.
  ::event* flush_ev_ = nullptr;
  evbuffer* input_;
  evbuffer* output_;
  buffer::LengthCharge charge_;
  event::TimerPtr connect_timer_;
  uint32_t buffer_limit_ = 1024 * 1024;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;
  int pending_error_ = 0;  // A write error seen outside the loop, reported from it.
  bool connecting_ = false;
  bool read_enabled_ = false;
  bool write_interest_ = false;
  bool flush_scheduled_ = false;
  bool above_high_watermark_ = false;
  bool shutdown_pending_ = false;
  bool write_shut_ = false;
  bool read_eof_ = false;
  // The last read filled most of a read buffer: read straight into input_ (see handleRead).
  bool bulk_reads_ = false;
};
using ConnectionPtr = std::unique_ptr<Connection>;

}  // namespace remora::network
