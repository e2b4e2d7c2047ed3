#include "source/router/header_mutations.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "source/config/field_path.h"
#include "source/router/header_mutations_config.h"

namespace remora::router {
namespace {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;

// Envoy refuses to touch pseudo-headers and Host through these lists: HTTP/1 and HTTP/2 would
// disagree on what the change means.
bool isProtectedHeader(absl::string_view lower_key) {
  return (!lower_key.empty() && lower_key[0] == ':') || lower_key == "host";
}

// Envoy's non-strict HTTP_HEADER_NAME / HTTP_HEADER_VALUE rules: no NUL, CR or LF, which would
// let a config value split or truncate a header on the wire.
bool hasForbiddenChar(absl::string_view text) {
  return text.find_first_of(absl::string_view("\0\r\n", 3)) != absl::string_view::npos;
}

AppendAction toAppendAction(envoy::config::core::v3::HeaderValueOption::HeaderAppendAction a) {
  using Option = envoy::config::core::v3::HeaderValueOption;
  switch (a) {
    case Option::ADD_IF_ABSENT:
      return AppendAction::kAddIfAbsent;
    case Option::OVERWRITE_IF_EXISTS_OR_ADD:
      return AppendAction::kOverwriteIfExistsOrAdd;
    case Option::OVERWRITE_IF_EXISTS:
      return AppendAction::kOverwriteIfExists;
    default:
      return AppendAction::kAppendIfExistsOrAdd;
  }
}

}  // namespace

void HeaderMutations::apply(http::HeaderMap& headers, const http::StreamInfo& info) const {
  for (const std::string& key : removes_) headers.remove(key);
  if (adds_.empty()) return;

  // Every value is formatted before any header changes, so a %REQ(...)% in one entry sees the
  // headers as they were, not as an earlier entry left them (Envoy does the same). Overwrites
  // then go before appends, so an append after an overwrite of the same key keeps both.
  struct Pending {
    const Add* add;
    std::string value;
  };
  std::vector<Pending> overwrites;
  std::vector<Pending> appends;
  for (const Add& add : adds_) {
    std::string value;
    if (add.value != nullptr) add.value->format(info, value);
    if (value.empty() && !add.keep_empty_value) continue;
    switch (add.action) {
      case AppendAction::kAppendIfExistsOrAdd:
        appends.push_back({&add, std::move(value)});
        break;
      case AppendAction::kAddIfAbsent:
        if (!headers.has(add.key)) appends.push_back({&add, std::move(value)});
        break;
      case AppendAction::kOverwriteIfExists:
        if (headers.has(add.key)) overwrites.push_back({&add, std::move(value)});
        break;
      case AppendAction::kOverwriteIfExistsOrAdd:
        overwrites.push_back({&add, std::move(value)});
        break;
    }
  }
  for (const Pending& p : overwrites) headers.set(p.add->key, p.value);
  for (const Pending& p : appends) headers.add(p.add->key, p.value);
}

absl::StatusOr<HeaderMutations> compileHeaderMutations(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& adds,
    const google::protobuf::RepeatedPtrField<std::string>& removes, const std::string& parent,
    absl::string_view add_field, absl::string_view remove_field) {
  std::vector<HeaderMutations::Add> compiled_adds;
  compiled_adds.reserve(adds.size());
  const std::string adds_path = fieldPath(parent, add_field);
  for (int i = 0; i < adds.size(); ++i) {
    const auto& option = adds[i];
    const std::string path = indexPath(adds_path, i);
    const std::string key_path = fieldPath(path, "header.key");
    std::string key = absl::AsciiStrToLower(option.header().key());
    if (key.empty()) return invalidAt(key_path, "header name must not be empty");
    if (hasForbiddenChar(key)) {
      return invalidAt(key_path, "header name must not contain NUL, CR or LF");
    }
    if (isProtectedHeader(key)) {
      return invalidAt(
          key_path, absl::StrCat("'", key, "': ':'-prefixed or host headers may not be modified"));
    }
    if (!option.header().value().empty() && !option.header().raw_value().empty()) {
      return invalidAt(path, "only one of header.value and header.raw_value may be set");
    }
    const bool raw = !option.header().raw_value().empty();
    const std::string& text = raw ? option.header().raw_value() : option.header().value();
    const std::string value_path = fieldPath(path, raw ? "header.raw_value" : "header.value");
    if (hasForbiddenChar(text)) {
      return invalidAt(value_path, "header value must not contain NUL, CR or LF");
    }
    auto formatter = formatter::compileHeaderValue(text);
    if (!formatter.ok()) return invalidAt(value_path, formatter.status().message());
    HeaderMutations::Add add;
    add.key = std::move(key);
    add.value = std::move(*formatter);
    add.action = toAppendAction(option.append_action());
    add.keep_empty_value = option.keep_empty_value();
    compiled_adds.push_back(std::move(add));
  }

  std::vector<std::string> compiled_removes;
  compiled_removes.reserve(removes.size());
  const std::string removes_path = fieldPath(parent, remove_field);
  for (int i = 0; i < removes.size(); ++i) {
    const std::string path = indexPath(removes_path, i);
    std::string key = absl::AsciiStrToLower(removes[i]);
    if (key.empty()) return invalidAt(path, "header name must not be empty");
    if (hasForbiddenChar(key)) {
      return invalidAt(path, "header name must not contain NUL, CR or LF");
    }
    if (isProtectedHeader(key)) {
      return invalidAt(
          path, absl::StrCat("'", key, "': ':'-prefixed or host headers may not be removed"));
    }
    compiled_removes.push_back(std::move(key));
  }
  return HeaderMutations(std::move(compiled_adds), std::move(compiled_removes));
}

}  // namespace remora::router
