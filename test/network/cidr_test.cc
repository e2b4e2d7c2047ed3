// Specification of CIDR ranges: IPv4 and IPv6 prefixes of every length, IPv4-mapped IPv6 peers
// matching IPv4 ranges, rejected input, and the ranges Envoy treats as internal by default.
#include "source/network/cidr.h"

#include <catch2/catch.hpp>
#include <string>

#include "source/network/address.h"

namespace remora::network {
namespace {

Address addr(const std::string& ip) {
  auto a = Address::fromIpPort(ip, 8080);
  REQUIRE(a.ok());
  return *a;
}

CidrRange range(const std::string& ip, uint32_t prefix_len) {
  auto r = CidrRange::create(ip, prefix_len);
  INFO(ip << "/" << prefix_len << ": " << r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("an IPv4 /8 contains addresses sharing its first octet only", "[cidr]") {
  CidrRange r = range("10.0.0.0", 8);
  CHECK(r.contains(addr("10.0.0.0")));
  CHECK(r.contains(addr("10.255.255.255")));
  CHECK_FALSE(r.contains(addr("11.0.0.0")));
  CHECK_FALSE(r.contains(addr("9.255.255.255")));
}

TEST_CASE("an IPv4 prefix not on an octet boundary compares the remaining bits", "[cidr]") {
  CidrRange r = range("172.16.0.0", 12);
  CHECK(r.contains(addr("172.16.0.1")));
  CHECK(r.contains(addr("172.31.255.255")));
  CHECK_FALSE(r.contains(addr("172.32.0.0")));
  CHECK_FALSE(r.contains(addr("172.15.255.255")));
}

TEST_CASE("host bits set in the range's address are ignored", "[cidr]") {
  CidrRange r = range("192.168.1.77", 24);
  CHECK(r.contains(addr("192.168.1.1")));
  CHECK_FALSE(r.contains(addr("192.168.2.77")));
}

TEST_CASE("an IPv4 /0 contains every IPv4 address", "[cidr]") {
  CidrRange r = range("0.0.0.0", 0);
  CHECK(r.contains(addr("0.0.0.0")));
  CHECK(r.contains(addr("8.8.8.8")));
  CHECK(r.contains(addr("255.255.255.255")));
}

TEST_CASE("an IPv4 /0 contains no IPv6 address", "[cidr]") {
  CidrRange r = range("0.0.0.0", 0);
  CHECK_FALSE(r.contains(addr("::1")));
  CHECK_FALSE(r.contains(addr("2001:db8::1")));
}

TEST_CASE("an IPv4 /32 contains exactly one address", "[cidr]") {
  CidrRange r = range("192.0.2.7", 32);
  CHECK(r.contains(addr("192.0.2.7")));
  CHECK_FALSE(r.contains(addr("192.0.2.6")));
  CHECK_FALSE(r.contains(addr("192.0.2.8")));
}

TEST_CASE("an IPv6 /32 contains addresses sharing its first 32 bits only", "[cidr]") {
  CidrRange r = range("2001:db8::", 32);
  CHECK(r.contains(addr("2001:db8::1")));
  CHECK(r.contains(addr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  CHECK_FALSE(r.contains(addr("2001:db9::")));
}

TEST_CASE("an IPv6 prefix not on an octet boundary compares the remaining bits", "[cidr]") {
  CidrRange r = range("fc00::", 7);
  CHECK(r.contains(addr("fc00::1")));
  CHECK(r.contains(addr("fdff::1")));
  CHECK_FALSE(r.contains(addr("fe00::1")));
  CHECK_FALSE(r.contains(addr("fb00::1")));
}

TEST_CASE("an IPv6 /0 contains every IPv6 address but no IPv4 one", "[cidr]") {
  CidrRange r = range("::", 0);
  CHECK(r.contains(addr("::")));
  CHECK(r.contains(addr("2001:db8::1")));
  CHECK(r.contains(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  CHECK_FALSE(r.contains(addr("10.0.0.1")));
}

TEST_CASE("an IPv6 /128 contains exactly one address", "[cidr]") {
  CidrRange r = range("2001:db8::7", 128);
  CHECK(r.contains(addr("2001:db8::7")));
  CHECK_FALSE(r.contains(addr("2001:db8::6")));
  CHECK_FALSE(r.contains(addr("2001:db8::8")));
}

TEST_CASE("an IPv4-mapped IPv6 peer matches the IPv4 range holding its address", "[cidr]") {
  CidrRange r = range("10.0.0.0", 8);
  CHECK(r.contains(addr("::ffff:10.1.2.3")));
  CHECK_FALSE(r.contains(addr("::ffff:11.1.2.3")));
}

TEST_CASE("an IPv4-mapped IPv6 peer matches an IPv4 /32 of its address", "[cidr]") {
  CHECK(range("127.0.0.1", 32).contains(addr("::ffff:127.0.0.1")));
}

TEST_CASE("an IPv4 prefix longer than 32 is rejected naming prefix_len", "[cidr]") {
  auto r = CidrRange::create("10.0.0.0", 33);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(r.status().message()).find("prefix_len") != std::string::npos);
}

TEST_CASE("an IPv6 prefix longer than 128 is rejected naming prefix_len", "[cidr]") {
  auto r = CidrRange::create("2001:db8::", 129);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.status().message()).find("prefix_len") != std::string::npos);
}

TEST_CASE("an address_prefix that is not an IP literal is rejected naming address_prefix",
          "[cidr]") {
  for (const char* bad : {"", "not-an-ip", "10.0.0", "10.0.0.0/8", "256.0.0.1", "example.com",
                          "2001:db8:::1", " 10.0.0.1"}) {
    INFO("address_prefix '" << bad << "'");
    auto r = CidrRange::create(bad, 8);
    REQUIRE_FALSE(r.ok());
    CHECK(std::string(r.status().message()).find("address_prefix") != std::string::npos);
  }
}

TEST_CASE("isPrivateOrLoopback accepts loopback and RFC 1918 IPv4 addresses", "[cidr]") {
  for (const char* ip : {"127.0.0.1", "127.255.0.9", "10.0.0.1", "10.255.255.255", "172.16.0.1",
                         "172.31.255.255", "192.168.0.1", "192.168.255.255"}) {
    INFO(ip);
    CHECK(isPrivateOrLoopback(addr(ip)));
  }
}

TEST_CASE("isPrivateOrLoopback rejects public IPv4 addresses next to the private ranges",
          "[cidr]") {
  for (const char* ip : {"8.8.8.8", "11.0.0.1", "9.255.255.255", "172.15.255.255", "172.32.0.0",
                         "192.167.255.255", "192.169.0.0", "203.0.113.9"}) {
    INFO(ip);
    CHECK_FALSE(isPrivateOrLoopback(addr(ip)));
  }
}

TEST_CASE("isPrivateOrLoopback accepts IPv6 loopback and unique-local addresses", "[cidr]") {
  for (const char* ip : {"::1", "fc00::1", "fd12:3456::1"}) {
    INFO(ip);
    CHECK(isPrivateOrLoopback(addr(ip)));
  }
}

TEST_CASE("isPrivateOrLoopback rejects public IPv6 addresses", "[cidr]") {
  for (const char* ip : {"2001:db8::1", "fe00::1", "::2", "::"}) {
    INFO(ip);
    CHECK_FALSE(isPrivateOrLoopback(addr(ip)));
  }
}

TEST_CASE("isPrivateOrLoopback judges an IPv4-mapped IPv6 peer by its IPv4 address", "[cidr]") {
  CHECK(isPrivateOrLoopback(addr("::ffff:127.0.0.1")));
  CHECK(isPrivateOrLoopback(addr("::ffff:192.168.1.1")));
  CHECK_FALSE(isPrivateOrLoopback(addr("::ffff:8.8.8.8")));
}

}  // namespace
}  // namespace remora::network
