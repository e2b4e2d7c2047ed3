#include "source/network/connection.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "test/support/event_loop.h"

namespace remora::network {
namespace {

struct Recorder : ConnectionCallbacks {
  void onData(Connection&) override { ++data_calls; }
  void onEvent(Connection&, ConnectionEvent) override {}
  void onAboveWriteBufferHighWatermark(Connection&) override { ++above; }
  void onBelowWriteBufferLowWatermark(Connection&) override { ++below; }
  int data_calls = 0;
  int above = 0;
  int below = 0;
};

// A connected pair: the Connection under test on one end, a plain blocking socket on the other.
struct Pair {
  // `accounting`: the loop's buffer accounting is on (as with an overload manager that needs it).
  explicit Pair(bool accounting = false) {
    dispatcher.bufferTracker().setEnabled(accounting);
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    conn = std::make_unique<Connection>(dispatcher, SocketFd(fds[0]), callbacks);
    peer = fds[1];
    ::fcntl(peer, F_SETFL, ::fcntl(peer, F_GETFL) & ~O_NONBLOCK);
  }
  ~Pair() { ::close(peer); }

  // Everything the peer can read now, without blocking.
  std::string peerReadNow() {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0) out.append(buf, n);
    return out;
  }

  event::Dispatcher dispatcher{"test"};
  Recorder callbacks;
  std::unique_ptr<Connection> conn;
  int peer = -1;
};

void writeString(Connection& conn, const std::string& s) {
  evbuffer* b = evbuffer_new();
  evbuffer_add(b, s.data(), s.size());
  conn.write(b);
  evbuffer_free(b);
}

TEST_CASE("writes made in one callback leave together once it returns", "[network]") {
  Pair p;
  writeString(*p.conn, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n");
  writeString(*p.conn, "hello");
  // Nothing is written from inside the caller's callback...
  CHECK(p.peerReadNow().empty());
  // ...and both pieces go out in the same loop turn, as one write.
  event_base_loop(p.dispatcher.base(), EVLOOP_NONBLOCK);
  CHECK(p.peerReadNow() == "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
  CHECK(p.conn->outputLength() == 0);
}

TEST_CASE("output larger than the socket takes is written as the peer reads it", "[network]") {
  // The first write is deferred; what the socket cannot take at once must then be written when
  // it becomes writable again, and the watermarks must fire on the way.
  Pair p;
  p.conn->setBufferLimit(64 * 1024);
  const std::string chunk(256 * 1024, 'x');
  const size_t total = 16 * chunk.size();
  for (int i = 0; i < 16; ++i) writeString(*p.conn, chunk);
  size_t received = 0;
  std::thread reader([&] {
    char buf[65536];
    while (received < total) {
      ssize_t n = ::recv(p.peer, buf, sizeof(buf), 0);
      if (n <= 0) break;
      received += static_cast<size_t>(n);
    }
  });
  const bool drained =
      testing::runLoopUntil(p.dispatcher, [&] { return p.conn->bytesWritten() == total; });
  reader.join();
  CHECK(drained);
  CHECK(received == total);
  CHECK(p.callbacks.above == 1);
  CHECK(p.callbacks.below == 1);
}

TEST_CASE("a write then close in the same callback still sends what the socket takes",
          "[network]") {
  // A TCP health check sends its payload and closes at once; a reset stream closes right after
  // writing what it had. Deferring writes must not drop those bytes.
  Pair p;
  writeString(*p.conn, "ping");
  p.conn->close();
  CHECK(p.conn->bytesWritten() == 4);
  CHECK(p.peerReadNow() == "ping");
}

TEST_CASE("output within the limit raises no watermark even when one write exceeds it",
          "[network]") {
  // The limit is checked after the deferred write: what the socket took at once never counts.
  Pair p;
  p.conn->setBufferLimit(16 * 1024);
  writeString(*p.conn, std::string(64 * 1024, 'x'));
  event_base_loop(p.dispatcher.base(), EVLOOP_NONBLOCK);
  CHECK(p.conn->outputLength() == 0);
  CHECK(p.callbacks.above == 0);
  CHECK(p.peerReadNow().size() == 64 * 1024);
}

TEST_CASE("small and bulk reads both arrive intact and in order", "[network]") {
  Pair p;
  p.conn->readEnable(true);
  std::string sent;
  // A small message, then a bulk stream big enough to switch to direct reads, then small again.
  sent += "GET / HTTP/1.1\r\n\r\n";
  REQUIRE(::send(p.peer, sent.data(), sent.size(), 0) == static_cast<ssize_t>(sent.size()));
  REQUIRE(testing::runLoopUntil(
      p.dispatcher, [&] { return evbuffer_get_length(p.conn->input()) == sent.size(); }));
  std::string bulk;
  for (int i = 0; i < 4 * 65536; ++i) bulk.push_back(static_cast<char>('a' + i % 26));
  std::thread writer([&] {
    size_t off = 0;
    while (off < bulk.size()) {
      ssize_t n = ::send(p.peer, bulk.data() + off, bulk.size() - off, 0);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
    ::send(p.peer, "tail", 4, 0);
  });
  sent += bulk + "tail";
  REQUIRE(testing::runLoopUntil(
      p.dispatcher, [&] { return evbuffer_get_length(p.conn->input()) == sent.size(); }));
  writer.join();
  std::string got(evbuffer_get_length(p.conn->input()), '\0');
  evbuffer_remove(p.conn->input(), got.data(), got.size());
  CHECK(got == sent);
  CHECK(p.conn->bytesRead() == sent.size());
}

TEST_CASE("what a connection buffers is charged to its account until it is gone", "[network]") {
  // Buffer accounting: bytes read and not yet consumed, and bytes queued and not yet sent, are
  // the connection's share of the total that remora.resource_monitors.buffered_bytes watches.
  Pair p(/*accounting=*/true);
  auto& tracker = p.dispatcher.bufferTracker();
  struct Stream : buffer::ResetHandler {
    void resetForOverload() override {}
  } stream;
  buffer::AccountRef account = tracker.createAccount(stream);
  CHECK(tracker.total() == 0);
  p.conn->readEnable(true);
  const std::string request(3000, 'r');
  REQUIRE(::send(p.peer, request.data(), request.size(), 0) == 3000);
  REQUIRE(testing::runLoopUntil(p.dispatcher, [&] { return tracker.total() == 3000; }));
  // Charged to the loop's unowned account until the connection is given to a stream.
  CHECK(tracker.unowned().balance() == 3000);
  p.conn->setAccount(*account);
  CHECK(account->balance() == 3000);
  CHECK(tracker.unowned().balance() == 0);
  // Input consumed by the reader is credited at the connection's next event (here, a write).
  evbuffer_drain(p.conn->input(), 1000);
  // Output the peer does not read stays charged.
  writeString(*p.conn, std::string(4 << 20, 'x'));
  CHECK(account->balance() == 2000 + (4 << 20));
  event_base_loop(p.dispatcher.base(), EVLOOP_NONBLOCK);
  // Part of it went into the socket; the rest is still held.
  CHECK(account->balance() > 2000);
  CHECK(account->balance() < 2000 + (4 << 20));
  CHECK(tracker.total() == static_cast<uint64_t>(account->balance()));
  // It is released when the connection closes, not when it is destroyed.
  p.conn->close();
  CHECK(account->balance() == 2000);
  p.conn->clearAccount();
  CHECK(account->balance() == 0);
  CHECK(tracker.unowned().balance() == 2000);
  p.conn.reset();
  CHECK(tracker.total() == 0);
}

TEST_CASE("without buffer accounting a connection charges nothing", "[network]") {
  Pair p;
  p.conn->readEnable(true);
  REQUIRE(::send(p.peer, "abc", 3, 0) == 3);
  REQUIRE(testing::runLoopUntil(p.dispatcher, [&] { return p.callbacks.data_calls > 0; }));
  CHECK(evbuffer_get_length(p.conn->input()) == 3);
  CHECK(p.dispatcher.bufferTracker().total() == 0);
}

}  // namespace
}  // namespace remora::network
