// Specifies JSON string quoting: escapes, control characters, and invalid UTF-8 replacement.
#include <catch2/catch.hpp>

#include "source/admin/json_escape.h"

namespace remora::admin {
namespace {

TEST_CASE("plain text is quoted unchanged", "[admin]") {
  CHECK(jsonString("listener_0") == "\"listener_0\"");
  CHECK(jsonString("") == "\"\"");
}

TEST_CASE("quotes, backslashes and control characters are escaped", "[admin]") {
  CHECK(jsonString("a\"b\\c") == R"("a\"b\\c")");
  CHECK(jsonString("l1\nl2\tx\r") == R"("l1\nl2\tx\r")");
  CHECK(jsonString(std::string("\x01\x1f", 2)) == R"("\u0001\u001f")");
  CHECK(jsonString(std::string("a\0b", 3)) == R"("a\u0000b")");
}

TEST_CASE("valid UTF-8 passes through", "[admin]") {
  CHECK(jsonString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD escapes", "[admin]") {
  CHECK(jsonString("a\xff"
                   "b") == R"("a\ufffdb")");
  CHECK(jsonString("\xc3") == R"("\ufffd")");                      // Truncated sequence.
  CHECK(jsonString("\xc0\xaf") == R"("\ufffd\ufffd")");            // Overlong '/'.
  CHECK(jsonString("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");  // Surrogate.
}

TEST_CASE("appendJsonString appends to what is there", "[admin]") {
  std::string out = "{\"k\":";
  appendJsonString(out, "v");
  CHECK(out == "{\"k\":\"v\"");
}

}  // namespace
}  // namespace remora::admin
