// JSON text for the HTTP API's answers: just enough to write strings, lists and objects of them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace remora::mockcp {

// `text` as a quoted JSON string; bytes that are not valid UTF-8 become U+FFFD.
std::string jsonString(std::string_view text);
std::string jsonStringList(const std::vector<std::string>& items);
std::string jsonStringMap(const std::map<std::string, std::string>& items);

}  // namespace remora::mockcp
