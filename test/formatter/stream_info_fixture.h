// A StreamInfo with every field the formatters read filled in, shared by the formatter tests.
#pragma once

#include <chrono>

#include "source/http/header_map.h"
#include "source/http/stream_info.h"

namespace remora::formatter::test {

// 2016-04-15T20:17:00.310123456Z, the moment in Envoy's documented example line.
inline std::chrono::system_clock::time_point exampleTime() {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(1460751420) + std::chrono::nanoseconds(310123456)));
}

inline network::Address address(const char* ip, uint32_t port) {
  return *network::Address::fromIpPort(ip, port);
}

struct Request {
  http::HeaderMap request_headers;
  http::HeaderMap response_headers;
  http::HeaderMap response_trailers;
  http::StreamInfo info;

  Request() {
    using std::chrono::milliseconds;
    request_headers.add(":method", "POST");
    request_headers.add(":path", "/api/v1/locations");
    request_headers.add(":authority", "locations");
    request_headers.add("x-forwarded-for", "10.0.35.28");
    request_headers.add("user-agent", "nsq2http");
    request_headers.add("x-request-id", "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
    response_headers.add(":status", "204");
    response_headers.add("x-envoy-upstream-service-time", "100");
    response_trailers.add("grpc-status", "0");

    info.start_time = exampleTime();
    info.start_steady = http::StreamInfo::Clock::time_point(std::chrono::hours(1));
    info.last_downstream_rx_byte = info.start_steady + milliseconds(12);
    info.first_upstream_tx_byte = info.start_steady + milliseconds(13);
    info.first_upstream_rx_byte = info.start_steady + milliseconds(200);
    info.last_downstream_tx_byte = info.start_steady + milliseconds(226);
    info.downstream_remote_address = address("10.0.35.28", 50000);
    info.downstream_direct_remote_address = address("10.0.0.9", 40000);
    info.downstream_local_address = address("10.0.0.1", 10000);
    info.upstream_host = address("10.0.2.1", 80);
    info.upstream_local_address = address("10.0.0.1", 33000);
    info.upstream_cluster = "locations_cluster";
    info.route_name = "locations_route";
    info.protocol = "HTTP/2";
    info.response_code = 204;
    info.response_code_details = "via_upstream";
    info.attempt_count = 1;
    info.bytes_received = 154;
    info.bytes_sent = 0;
    info.request_headers = &request_headers;
    info.response_headers = &response_headers;
    info.response_trailers = &response_trailers;
  }
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
};

}  // namespace remora::formatter::test
