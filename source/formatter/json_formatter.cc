// json_format: a tree compiled from the Struct with keys sorted (as Envoy emits them), printed as
// one JSON object per line. A string value that is exactly one operator keeps the operator's type.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "source/admin/json_escape.h"
#include "source/config/field_path.h"
#include "source/formatter/format_parser.h"
#include "source/formatter/formatter.h"
#include "source/formatter/substitution_format_string.h"

namespace remora::formatter {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using http::StreamInfo;

class JsonValue {
 public:
  virtual ~JsonValue() = default;
  // Appends the value's JSON text, or returns false (appending nothing) for a missing value.
  virtual bool append(const StreamInfo& info, std::string& out) const = 0;
};
using JsonValuePtr = std::unique_ptr<const JsonValue>;

// Values in the config that contain no operator: rendered to JSON text once.
class LiteralValue : public JsonValue {
 public:
  explicit LiteralValue(std::string json) : json_(std::move(json)) {}
  bool append(const StreamInfo&, std::string& out) const override {
    out.append(json_);
    return true;
  }

 private:
  std::string json_;
};

// Operator values are escaped after formatting, so they go through one reused buffer per thread.
std::string& scratch() {
  thread_local std::string buffer;
  buffer.clear();
  return buffer;
}

class OperatorValue : public JsonValue {
 public:
  explicit OperatorValue(Piece piece) : piece_(std::move(piece)) {}
  bool append(const StreamInfo& info, std::string& out) const override {
    if (piece_.op->numeric() && !piece_.max_length) return piece_.op->append(info, out);
    std::string& text = scratch();
    if (!appendOperator(piece_, info, text)) return false;
    admin::appendJsonString(out, text);
    return true;
  }

 private:
  Piece piece_;
};

class TemplateValue : public JsonValue {
 public:
  TemplateValue(std::vector<Piece> pieces, std::string missing)
      : pieces_(std::move(pieces)), missing_(std::move(missing)) {}
  bool append(const StreamInfo& info, std::string& out) const override {
    std::string& text = scratch();
    appendPieces(pieces_, info, missing_, text);
    admin::appendJsonString(out, text);
    return true;
  }

 private:
  std::vector<Piece> pieces_;
  std::string missing_;
};

class ObjectValue : public JsonValue {
 public:
  struct Member {
    std::string key_json;  // "\"key\":"
    JsonValuePtr value;
  };
  ObjectValue(std::vector<Member> members, bool omit_missing)
      : members_(std::move(members)), omit_missing_(omit_missing) {}

  bool append(const StreamInfo& info, std::string& out) const override {
    out.push_back('{');
    bool first = true;
    for (const Member& m : members_) {
      const size_t mark = out.size();
      if (!first) out.push_back(',');
      out.append(m.key_json);
      if (m.value->append(info, out)) {
        first = false;
      } else if (omit_missing_) {
        out.resize(mark);
      } else {
        out.append("null");
        first = false;
      }
    }
    out.push_back('}');
    return true;
  }

 private:
  std::vector<Member> members_;
  bool omit_missing_;
};

class ListValue : public JsonValue {
 public:
  explicit ListValue(std::vector<JsonValuePtr> items) : items_(std::move(items)) {}
  bool append(const StreamInfo& info, std::string& out) const override {
    out.push_back('[');
    for (size_t i = 0; i < items_.size(); ++i) {
      if (i > 0) out.push_back(',');
      if (!items_[i]->append(info, out)) out.append("null");
    }
    out.push_back(']');
    return true;
  }

 private:
  std::vector<JsonValuePtr> items_;
};

// Whole numbers print without a fraction ("status": 200), others in their shortest exact form.
std::string numberJson(double d) {
  if (!std::isfinite(d)) return "null";
  if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(d));
  }
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, result.ptr);
}

absl::StatusOr<JsonValuePtr> compileObject(const Struct& s, const FormatOptions& options,
                                           const std::string& path);

absl::StatusOr<JsonValuePtr> compileValue(const Value& v, const FormatOptions& options,
                                          const std::string& path) {
  switch (v.kind_case()) {
    case Value::kStringValue: {
      auto pieces = parseFormat(v.string_value());
      if (!pieces.ok()) return config::invalidAt(path, pieces.status().message());
      if (pieces->size() == 1 && (*pieces)[0].op != nullptr) {
        return std::make_unique<OperatorValue>(std::move((*pieces)[0]));
      }
      if (pieces->empty() || (pieces->size() == 1 && (*pieces)[0].op == nullptr)) {
        return std::make_unique<LiteralValue>(
            admin::jsonString(pieces->empty() ? "" : (*pieces)[0].literal));
      }
      return std::make_unique<TemplateValue>(*std::move(pieces),
                                             options.omit_empty_values ? "" : "-");
    }
    case Value::kNumberValue:
      return std::make_unique<LiteralValue>(numberJson(v.number_value()));
    case Value::kBoolValue:
      return std::make_unique<LiteralValue>(v.bool_value() ? "true" : "false");
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      return std::make_unique<LiteralValue>("null");
    case Value::kStructValue:
      return compileObject(v.struct_value(), options, path);
    case Value::kListValue: {
      std::vector<JsonValuePtr> items;
      for (int i = 0; i < v.list_value().values_size(); ++i) {
        auto item = compileValue(v.list_value().values(i), options, config::indexPath(path, i));
        if (!item.ok()) return item.status();
        items.push_back(*std::move(item));
      }
      return std::make_unique<ListValue>(std::move(items));
    }
  }
  return std::make_unique<LiteralValue>("null");
}

absl::StatusOr<JsonValuePtr> compileObject(const Struct& s, const FormatOptions& options,
                                           const std::string& path) {
  std::vector<const std::string*> keys;
  keys.reserve(s.fields_size());
  for (const auto& [key, value] : s.fields()) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](const auto* a, const auto* b) { return *a < *b; });
  std::vector<ObjectValue::Member> members;
  members.reserve(keys.size());
  for (const std::string* key : keys) {
    auto value = compileValue(s.fields().at(*key), options, config::keyPath(path, *key));
    if (!value.ok()) return value.status();
    members.push_back({absl::StrCat(admin::jsonString(*key), ":"), *std::move(value)});
  }
  return std::make_unique<ObjectValue>(std::move(members), options.omit_empty_values);
}

class JsonFormatter : public Formatter {
 public:
  explicit JsonFormatter(JsonValuePtr root) : root_(std::move(root)) {}
  void format(const StreamInfo& info, std::string& out) const override {
    root_->append(info, out);
    out.push_back('\n');
  }

 private:
  JsonValuePtr root_;
};

}  // namespace

absl::StatusOr<FormatterConstPtr> compileJson(const Struct& format, const FormatOptions& options,
                                              const std::string& path) {
  auto root = compileObject(format, options, path);
  if (!root.ok()) return root.status();
  return std::make_unique<JsonFormatter>(*std::move(root));
}

absl::StatusOr<FormatterConstPtr> compileJson(const Struct& format) {
  return compileJson(format, FormatOptions{}, "");
}

}  // namespace remora::formatter
