// remora-backend: the tiny TCP peer that tools/demo (and later tools/bench) put behind and in front
// of the proxy, so the demo needs nothing beyond the build.
//   remora-backend serve NAME        listen on 127.0.0.1:0, print the port, then for each
//                                    connection read to EOF and answer "NAME got N bytes: <data>"
//   remora-backend send PORT MESSAGE connect to 127.0.0.1:PORT, send MESSAGE, half-close, print
//                                    the reply
//   remora-backend http NAME         an HTTP/1.1 server on 127.0.0.1:0 (libevent's evhttp, with
//                                    keep-alive); prints the port, answers every request with
//                                    "NAME: METHOD PATH" and an x-backend: NAME header
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

std::string readToEof(int fd) {
  std::string out;
  char buf[16384];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

bool writeAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

int serve(const std::string& name) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa = loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, 128) != 0) {
    std::perror("remora-backend: listen");
    return 1;
  }
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  std::printf("%u\n", ntohs(sa.sin_port));
  std::fflush(stdout);
  for (;;) {
    int conn = ::accept(fd, nullptr, nullptr);
    if (conn < 0) continue;
    std::thread([conn, name] {
      std::string data = readToEof(conn);
      writeAll(conn, name + " got " + std::to_string(data.size()) + " bytes: " + data);
      ::close(conn);
    }).detach();
  }
}

int send(uint16_t port, const std::string& message) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa = loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    std::perror("remora-backend: connect");
    return 1;
  }
  if (!writeAll(fd, message)) return 1;
  ::shutdown(fd, SHUT_WR);
  std::string reply = readToEof(fd);
  std::printf("%s\n", reply.empty() ? "(connection closed without a reply)" : reply.c_str());
  ::close(fd);
  return reply.empty() ? 2 : 0;
}

}  // namespace

void answerHttp(evhttp_request* req, void* arg) {
  const std::string& name = *static_cast<const std::string*>(arg);
  const char* method = "OTHER";
  switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
      method = "GET";
      break;
    case EVHTTP_REQ_POST:
      method = "POST";
      break;
    case EVHTTP_REQ_PUT:
      method = "PUT";
      break;
    case EVHTTP_REQ_DELETE:
      method = "DELETE";
      break;
    case EVHTTP_REQ_HEAD:
      method = "HEAD";
      break;
    default:
      break;
  }
  evbuffer* body = evbuffer_new();
  evbuffer_add_printf(body, "%s: %s %s\n", name.c_str(), method, evhttp_request_get_uri(req));
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "x-backend", name.c_str());
  evhttp_add_header(headers, "content-type", "text/plain");
  evhttp_send_reply(req, 200, "OK", body);
  evbuffer_free(body);
}

int serveHttp(const std::string& name) {
  event_base* base = event_base_new();
  evhttp* http = evhttp_new(base);
  evhttp_bound_socket* sock = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
  if (sock == nullptr) {
    std::perror("bind");
    return 1;
  }
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(evhttp_bound_socket_get_fd(sock), reinterpret_cast<sockaddr*>(&sa), &len);
  std::printf("%u\n", ntohs(sa.sin_port));
  std::fflush(stdout);
  evhttp_set_gencb(http, answerHttp, const_cast<std::string*>(&name));
  event_base_dispatch(base);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "http") == 0) return serveHttp(argv[2]);
  if (argc == 3 && std::strcmp(argv[1], "serve") == 0) return serve(argv[2]);
  if (argc == 4 && std::strcmp(argv[1], "send") == 0) {
    return send(static_cast<uint16_t>(std::atoi(argv[2])), argv[3]);
  }
  std::fprintf(stderr, "usage: remora-backend serve NAME | send PORT MESSAGE | http NAME\n");
  return 1;
}
