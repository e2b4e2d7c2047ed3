// YAML/JSON -> protobuf by reflection, following protobuf's JSON mapping as Envoy's loader does,
// but reporting the exact field path of every error and warning.
#include "source/config/yaml_to_proto.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "source/config/field_path.h"
#include "source/config/proto_value_parsers.h"

namespace remora::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::OneofDescriptor;
using google::protobuf::Reflection;

// Protobuf's JSON parser stops at the same depth; it also bounds our recursion on hostile input.
constexpr int kMaxDepth = 100;

// Types whose JSON form is not a mapping of their fields.
enum class WellKnown { kNone, kAny, kDuration, kTimestamp, kWrapper, kStruct, kValue, kListValue };

WellKnown wellKnownKind(const Descriptor* d) {
  static const auto* kinds = new absl::flat_hash_map<std::string, WellKnown>{
      {"google.protobuf.Any", WellKnown::kAny},
      {"google.protobuf.Duration", WellKnown::kDuration},
      {"google.protobuf.Timestamp", WellKnown::kTimestamp},
      {"google.protobuf.DoubleValue", WellKnown::kWrapper},
      {"google.protobuf.FloatValue", WellKnown::kWrapper},
      {"google.protobuf.Int64Value", WellKnown::kWrapper},
      {"google.protobuf.UInt64Value", WellKnown::kWrapper},
      {"google.protobuf.Int32Value", WellKnown::kWrapper},
      {"google.protobuf.UInt32Value", WellKnown::kWrapper},
      {"google.protobuf.BoolValue", WellKnown::kWrapper},
      {"google.protobuf.StringValue", WellKnown::kWrapper},
      {"google.protobuf.BytesValue", WellKnown::kWrapper},
      {"google.protobuf.Struct", WellKnown::kStruct},
      {"google.protobuf.Value", WellKnown::kValue},
      {"google.protobuf.ListValue", WellKnown::kListValue},
  };
  auto it = kinds->find(d->full_name());
  return it == kinds->end() ? WellKnown::kNone : it->second;
}

// A null in a google.protobuf.Value field means NULL_VALUE rather than "unset".
bool isValueField(const FieldDescriptor* f) {
  return f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         wellKnownKind(f->message_type()) == WellKnown::kValue;
}

// Plain scalars carry YAML's "?" tag; quoted or !!str-tagged ones are strings whatever they say.
bool isPlain(const YAML::Node& node) { return node.Tag() == "?"; }

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      std::string text = node.Scalar();
      if (text.size() > 64) text = text.substr(0, 64) + "...";
      return absl::StrCat("'", text, "'");
    }
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "null";
  }
}

// The field a key names: the proto name, else the JSON (camelCase) name.
const FieldDescriptor* findField(const Descriptor* d, const std::string& key) {
  if (const FieldDescriptor* f = d->FindFieldByName(key)) return f;
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == key) return d->field(i);
  }
  return nullptr;
}

absl::StatusOr<int> enumNumber(const std::string& text, const EnumDescriptor* e) {
  if (const auto* v = e->FindValueByName(text)) return v->number();
  std::vector<std::string> names;
  std::string hint;
  for (int i = 0; i < e->value_count(); ++i) {
    names.push_back(e->value(i)->name());
    if (absl::EqualsIgnoreCase(e->value(i)->name(), text)) {
      hint = absl::StrCat("; did you mean '", e->value(i)->name(), "'?");
    }
  }
  const std::string valid = absl::StrCat("(valid: ", absl::StrJoin(names, ", "), hint, ")");
  absl::StatusOr<int64_t> number = parseSignedInt(text, std::numeric_limits<int32_t>::min(),
                                                  std::numeric_limits<int32_t>::max(), "enum");
  if (number.ok()) {
    if (const auto* v = e->FindValueByNumber(static_cast<int>(*number))) return v->number();
    return absl::InvalidArgumentError(
        absl::StrCat("unknown number ", text, " for enum ", e->full_name(), " ", valid));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value '", text, "' for enum ", e->full_name(), " ", valid));
}

absl::Status withPath(const std::string& path, const absl::Status& status) {
  return invalidAt(path, status.message());
}

struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

class YamlToProto {
 public:
  explicit YamlToProto(ParseReport& report) : report_(report) {}

  // Fills `msg` from `node`; a null node leaves it untouched.
  absl::Status message(const YAML::Node& node, Message& msg, const std::string& path) {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return invalidAt(path, "nested too deeply");
    const Descriptor* d = msg.GetDescriptor();
    const WellKnown kind = wellKnownKind(d);
    if (!node.IsDefined() || node.IsNull()) {
      return kind == WellKnown::kValue ? value(node, msg, path) : absl::OkStatus();
    }
    switch (kind) {
      case WellKnown::kAny:
        return any(node, msg, path);
      case WellKnown::kDuration:
      case WellKnown::kTimestamp:
        return secondsAndNanos(node, msg, kind, path);
      case WellKnown::kWrapper:
        if (node.IsMap()) {
          return invalidAt(path, absl::StrCat("expected a bare value for ", d->full_name(),
                                              " (write 'field: 5', not 'field: {value: 5}')"));
        }
        return scalar(node, msg, d->FindFieldByName("value"), path);
      case WellKnown::kStruct:
        return structFields(node, msg, path);
      case WellKnown::kValue:
        return value(node, msg, path);
      case WellKnown::kListValue:
        return listValues(node, msg, path);
      case WellKnown::kNone:
        break;
    }
    if (!node.IsMap()) {
      return invalidAt(
          path, absl::StrCat("expected a mapping for ", d->full_name(), ", got ", describe(node)));
    }
    absl::StatusOr<std::vector<Entry>> entries = mappingEntries(node, path);
    if (!entries.ok()) return entries.status();
    return fields(*entries, msg, path, /*skip_type_key=*/false);
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
    ~DepthGuard() { --depth_; }
    int& depth_;
  };

  void warn(const std::string& path, absl::string_view what) {
    report_.warnings.push_back(atPath(path, what));
  }

  // A mapping's entries with YAML merge keys (<<) expanded, which yaml-cpp leaves to us: keys
  // written in the mapping win over merged ones, and earlier merge sources over later ones.
  absl::StatusOr<std::vector<Entry>> mappingEntries(const YAML::Node& node,
                                                    const std::string& path) {
    // yaml-cpp lets an alias refer to the node being defined (`&x {<<: *x}`): bound the loop.
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return invalidAt(path, "nested too deeply");
    std::vector<Entry> out;
    std::vector<YAML::Node> merges;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        return invalidAt(path,
                         absl::StrCat("mapping keys must be scalars, got ", describe(kv.first)));
      }
      if (kv.first.Scalar() == "<<" && isPlain(kv.first)) {
        merges.push_back(kv.second);
        continue;
      }
      out.push_back({kv.first.Scalar(), kv.first, kv.second});
    }
    if (merges.empty()) return out;
    absl::flat_hash_set<std::string> taken;
    for (const Entry& e : out) taken.insert(e.key);
    const std::string merge_path = fieldPath(path, "<<");
    for (const YAML::Node& merge : merges) {
      std::vector<YAML::Node> sources;
      if (merge.IsMap()) {
        sources.push_back(merge);
      } else if (merge.IsSequence()) {
        for (const auto& s : merge) sources.push_back(s);
      }
      const bool all_maps = std::all_of(sources.begin(), sources.end(),
                                        [](const YAML::Node& s) { return s.IsMap(); });
      if (sources.empty() || !all_maps) {
        return invalidAt(merge_path, "a merge key needs a mapping or a list of mappings");
      }
      for (const YAML::Node& source : sources) {
        absl::StatusOr<std::vector<Entry>> merged = mappingEntries(source, path);
        if (!merged.ok()) return merged.status();
        for (Entry& e : *merged) {
          if (taken.insert(e.key).second) out.push_back(std::move(e));
        }
      }
    }
    return out;
  }

  absl::Status fields(const std::vector<Entry>& entries, Message& msg, const std::string& path,
                      bool skip_type_key) {
    const Descriptor* d = msg.GetDescriptor();
    absl::flat_hash_map<const FieldDescriptor*, std::string> seen;  // field -> key as written
    absl::flat_hash_map<const OneofDescriptor*, const FieldDescriptor*> oneofs_set;
    for (const Entry& e : entries) {
      if (skip_type_key && e.key == "@type") continue;
      const FieldDescriptor* f = findField(d, e.key);
      if (f == nullptr) {
        warn(fieldPath(path, e.key), "unknown field, ignored (not in Remora's API subset)");
        continue;
      }
      const std::string fpath = fieldPath(path, f->name());
      if (auto it = seen.find(f); it != seen.end()) {
        if (it->second == e.key) {
          return invalidAt(fpath, absl::StrCat("duplicate key '", e.key, "'"));
        }
        return invalidAt(
            fpath, absl::StrCat("field given twice, as '", it->second, "' and '", e.key, "'"));
      }
      seen.emplace(f, e.key);
      // Null means "unset" in protobuf's JSON mapping, so it does not count towards a oneof.
      if (e.value.IsNull() && !(isValueField(f) && !f->is_repeated())) continue;
      if (const OneofDescriptor* oneof = f->real_containing_oneof()) {
        auto [it, inserted] = oneofs_set.emplace(oneof, f);
        if (!inserted) {
          return invalidAt(fpath, absl::StrCat("oneof '", oneof->name(), "' is already set by '",
                                               it->second->name(), "'; set only one of them"));
        }
      }
      if (absl::Status s = field(e.value, msg, f, fpath); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status field(const YAML::Node& node, Message& msg, const FieldDescriptor* f,
                     const std::string& path) {
    if (f->is_map()) return mapField(node, msg, f, path);
    if (f->is_repeated()) return repeatedField(node, msg, f, path);
    return element(node, msg, f, path);
  }

  // Sets a singular field, or appends one element to a repeated one.
  absl::Status element(const YAML::Node& node, Message& msg, const FieldDescriptor* f,
                       const std::string& path) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return scalar(node, msg, f, path);
    const Reflection* r = msg.GetReflection();
    Message* sub = f->is_repeated() ? r->AddMessage(&msg, f) : r->MutableMessage(&msg, f);
    return message(node, *sub, path);
  }

  absl::Status repeatedField(const YAML::Node& node, Message& msg, const FieldDescriptor* f,
                             const std::string& path) {
    if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) {
        const std::string epath = indexPath(path, i);
        if (node[i].IsNull() && !isValueField(f)) {
          return invalidAt(epath, "null is not allowed in a list");
        }
        if (absl::Status s = element(node[i], msg, f, epath); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    // Envoy's own examples write `filters: {name: ...}` for a one-filter list, and Envoy accepts
    // it.
    if (node.IsMap() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      warn(path, "expected a list, got a single mapping; treated as a one-element list");
      return element(node, msg, f, path);
    }
    return invalidAt(path, absl::StrCat("expected a list, got ", describe(node)));
  }

  absl::Status mapField(const YAML::Node& node, Message& msg, const FieldDescriptor* f,
                        const std::string& path) {
    if (!node.IsMap()) {
      return invalidAt(path, absl::StrCat("expected a mapping, got ", describe(node)));
    }
    absl::StatusOr<std::vector<Entry>> entries = mappingEntries(node, path);
    if (!entries.ok()) return entries.status();
    const FieldDescriptor* key_f = f->message_type()->map_key();
    const FieldDescriptor* value_f = f->message_type()->map_value();
    absl::flat_hash_set<std::string> keys;
    for (const Entry& e : *entries) {
      const std::string kpath = keyPath(path, e.key);
      if (!keys.insert(e.key).second) return invalidAt(kpath, "duplicate map key");
      if (e.value.IsNull() && !isValueField(value_f)) {
        return invalidAt(kpath, "null is not allowed as a map value");
      }
      Message* entry = msg.GetReflection()->AddMessage(&msg, f);
      if (absl::Status s = scalar(e.key_node, *entry, key_f, kpath); !s.ok()) return s;
      if (absl::Status s = element(e.value, *entry, value_f, kpath); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status scalar(const YAML::Node& node, Message& msg, const FieldDescriptor* f,
                      const std::string& path) {
    if (!node.IsScalar()) {
      return invalidAt(path, absl::StrCat("expected ", f->type_name(), ", got ", describe(node)));
    }
    const Reflection* r = msg.GetReflection();
    const std::string& text = node.Scalar();
    const bool add = f->is_repeated();
    auto fail = [&](const absl::Status& s) { return withPath(path, s); };
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        auto v = parseSignedInt(text, std::numeric_limits<int32_t>::min(),
                                std::numeric_limits<int32_t>::max(), f->type_name());
        if (!v.ok()) return fail(v.status());
        add ? r->AddInt32(&msg, f, *v) : r->SetInt32(&msg, f, *v);
        break;
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        auto v = parseSignedInt(text, std::numeric_limits<int64_t>::min(),
                                std::numeric_limits<int64_t>::max(), f->type_name());
        if (!v.ok()) return fail(v.status());
        add ? r->AddInt64(&msg, f, *v) : r->SetInt64(&msg, f, *v);
        break;
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        auto v = parseUnsignedInt(text, std::numeric_limits<uint32_t>::max(), f->type_name());
        if (!v.ok()) return fail(v.status());
        add ? r->AddUInt32(&msg, f, *v) : r->SetUInt32(&msg, f, *v);
        break;
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        auto v = parseUnsignedInt(text, std::numeric_limits<uint64_t>::max(), f->type_name());
        if (!v.ok()) return fail(v.status());
        add ? r->AddUInt64(&msg, f, *v) : r->SetUInt64(&msg, f, *v);
        break;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        auto v = parseFloatingPoint(text, /*is_float=*/false);
        if (!v.ok()) return fail(v.status());
        add ? r->AddDouble(&msg, f, *v) : r->SetDouble(&msg, f, *v);
        break;
      }
      case FieldDescriptor::CPPTYPE_FLOAT: {
        auto v = parseFloatingPoint(text, /*is_float=*/true);
        if (!v.ok()) return fail(v.status());
        const auto fv = static_cast<float>(*v);
        add ? r->AddFloat(&msg, f, fv) : r->SetFloat(&msg, f, fv);
        break;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        auto v = parseBool(text);
        if (!v.ok()) return fail(v.status());
        add ? r->AddBool(&msg, f, *v) : r->SetBool(&msg, f, *v);
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string v = text;
        if (f->type() == FieldDescriptor::TYPE_BYTES) {
          auto bytes = parseBase64(text);
          if (!bytes.ok()) return fail(bytes.status());
          v = std::move(*bytes);
        }
        add ? r->AddString(&msg, f, std::move(v)) : r->SetString(&msg, f, std::move(v));
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        auto v = enumNumber(text, f->enum_type());
        if (!v.ok()) return fail(v.status());
        add ? r->AddEnumValue(&msg, f, *v) : r->SetEnumValue(&msg, f, *v);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return invalidAt(path, "internal error: message field parsed as a scalar");
    }
    return absl::OkStatus();
  }

  absl::Status secondsAndNanos(const YAML::Node& node, Message& msg, WellKnown kind,
                               const std::string& path) {
    const bool is_duration = kind == WellKnown::kDuration;
    if (!node.IsScalar()) {
      return invalidAt(path, absl::StrCat("expected a ", is_duration ? "duration" : "timestamp",
                                          " string, got ", describe(node)));
    }
    auto v = is_duration ? parseDurationText(node.Scalar()) : parseTimestampText(node.Scalar());
    if (!v.ok()) return withPath(path, v.status());
    const Descriptor* d = msg.GetDescriptor();
    msg.GetReflection()->SetInt64(&msg, d->FindFieldByName("seconds"), v->first);
    msg.GetReflection()->SetInt32(&msg, d->FindFieldByName("nanos"), v->second);
    return absl::OkStatus();
  }

  // google.protobuf.Any: {"@type": "type.googleapis.com/<name>", <fields of name>...}, or for a
  // well-known payload type {"@type": ..., "value": <its JSON form>}.
  absl::Status any(const YAML::Node& node, Message& msg, const std::string& path) {
    if (!node.IsMap()) {
      return invalidAt(path, absl::StrCat("expected a mapping with '@type' for google.protobuf.Any,"
                                          " got ",
                                          describe(node)));
    }
    absl::StatusOr<std::vector<Entry>> entries = mappingEntries(node, path);
    if (!entries.ok()) return entries.status();
    const Entry* type_entry = nullptr;
    for (const Entry& e : *entries) {
      if (e.key != "@type") continue;
      if (type_entry != nullptr)
        return invalidAt(fieldPath(path, "@type"), "duplicate key '@type'");
      type_entry = &e;
    }
    if (type_entry == nullptr) {
      return invalidAt(path, "missing '@type' (e.g. '@type: type.googleapis.com/<message name>')");
    }
    const std::string type_path = fieldPath(path, "@type");
    if (!type_entry->value.IsScalar()) {
      return invalidAt(type_path,
                       absl::StrCat("expected a type URL, got ", describe(type_entry->value)));
    }
    const std::string& url = type_entry->value.Scalar();
    const size_t slash = url.rfind('/');
    if (slash == std::string::npos || slash + 1 == url.size()) {
      return invalidAt(type_path,
                       absl::StrCat("invalid type URL '", url,
                                    "' (expected 'type.googleapis.com/<message name>')"));
    }
    const std::string type_name = url.substr(slash + 1);
    const Descriptor* d =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
    if (d == nullptr) {
      // Istio wraps some extension configs in TypedStruct; keep the Any so the config dump shows
      // it, but we cannot interpret its contents.
      if (type_name == "udpa.type.v1.TypedStruct" || type_name == "xds.type.v3.TypedStruct") {
        setAny(msg, url, "");
        warn(path, absl::StrCat("TypedStruct '", url,
                                "' is not supported by Remora; kept as an Any without its value"));
        return absl::OkStatus();
      }
      return invalidAt(path, absl::StrCat("unknown type '", url, "'"));
    }
    std::unique_ptr<Message> payload(
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
    if (wellKnownKind(d) == WellKnown::kNone) {
      if (absl::Status s = fields(*entries, *payload, path, /*skip_type_key=*/true); !s.ok()) {
        return s;
      }
    } else {
      const Entry* value_entry = nullptr;
      for (const Entry& e : *entries) {
        if (e.key == "value") {
          value_entry = &e;
        } else if (e.key != "@type") {
          warn(fieldPath(path, e.key), "unknown field, ignored (not in Remora's API subset)");
        }
      }
      if (value_entry == nullptr) {
        return invalidAt(path, absl::StrCat("missing 'value' for the ", type_name, " in this Any"));
      }
      const std::string vpath = fieldPath(path, "value");
      if (absl::Status s = message(value_entry->value, *payload, vpath); !s.ok()) return s;
    }
    setAny(msg, url, payload->SerializeAsString());
    return absl::OkStatus();
  }

  static void setAny(Message& any, const std::string& url, std::string value) {
    const Descriptor* d = any.GetDescriptor();
    any.GetReflection()->SetString(&any, d->FindFieldByName("type_url"), url);
    any.GetReflection()->SetString(&any, d->FindFieldByName("value"), std::move(value));
  }

  // google.protobuf.Value from any YAML: plain scalars are typed as in YAML 1.2's core schema,
  // quoted ones are strings (so `port: "8080"` stays a string, as in JSON).
  absl::Status value(const YAML::Node& node, Message& msg, const std::string& path) {
    DepthGuard guard(depth_);
    if (depth_ > kMaxDepth) return invalidAt(path, "nested too deeply");
    const Descriptor* d = msg.GetDescriptor();
    const Reflection* r = msg.GetReflection();
    if (!node.IsDefined() || node.IsNull()) {
      r->SetEnumValue(&msg, d->FindFieldByName("null_value"), 0);
      return absl::OkStatus();
    }
    if (node.IsMap()) {
      return structFields(node, *r->MutableMessage(&msg, d->FindFieldByName("struct_value")), path);
    }
    if (node.IsSequence()) {
      return listValues(node, *r->MutableMessage(&msg, d->FindFieldByName("list_value")), path);
    }
    const std::string& text = node.Scalar();
    if (isPlain(node)) {
      const bool is_true = text == "true" || text == "True" || text == "TRUE";
      if (is_true || text == "false" || text == "False" || text == "FALSE") {
        r->SetBool(&msg, d->FindFieldByName("bool_value"), is_true);
        return absl::OkStatus();
      }
      if (looksLikeYamlNumber(text)) {
        auto v = parseFloatingPoint(text, /*is_float=*/false);
        if (!v.ok()) return withPath(path, v.status());
        r->SetDouble(&msg, d->FindFieldByName("number_value"), *v);
        return absl::OkStatus();
      }
    }
    r->SetString(&msg, d->FindFieldByName("string_value"), text);
    return absl::OkStatus();
  }

  absl::Status structFields(const YAML::Node& node, Message& msg, const std::string& path) {
    if (!node.IsMap()) {
      return invalidAt(path, absl::StrCat("expected a mapping for google.protobuf.Struct, got ",
                                          describe(node)));
    }
    absl::StatusOr<std::vector<Entry>> entries = mappingEntries(node, path);
    if (!entries.ok()) return entries.status();
    const FieldDescriptor* fields_f = msg.GetDescriptor()->FindFieldByName("fields");
    const FieldDescriptor* key_f = fields_f->message_type()->map_key();
    const FieldDescriptor* value_f = fields_f->message_type()->map_value();
    absl::flat_hash_set<std::string> keys;
    for (const Entry& e : *entries) {
      const std::string kpath = keyPath(path, e.key);
      if (!keys.insert(e.key).second) return invalidAt(kpath, "duplicate map key");
      Message* entry = msg.GetReflection()->AddMessage(&msg, fields_f);
      entry->GetReflection()->SetString(entry, key_f, e.key);
      Message* v = entry->GetReflection()->MutableMessage(entry, value_f);
      if (absl::Status s = value(e.value, *v, kpath); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status listValues(const YAML::Node& node, Message& msg, const std::string& path) {
    if (!node.IsSequence()) {
      return invalidAt(path, absl::StrCat("expected a list for google.protobuf.ListValue, got ",
                                          describe(node)));
    }
    const FieldDescriptor* values_f = msg.GetDescriptor()->FindFieldByName("values");
    for (size_t i = 0; i < node.size(); ++i) {
      Message* v = msg.GetReflection()->AddMessage(&msg, values_f);
      if (absl::Status s = value(node[i], *v, indexPath(path, i)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  ParseReport& report_;
  int depth_ = 0;
};

}  // namespace

absl::Status parseYaml(std::string_view text, Message& msg, ParseReport& report) {
  msg.Clear();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML at line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
  return parseYamlNode(root, msg, report);
}

absl::Status parseYamlNode(const YAML::Node& node, Message& msg, ParseReport& report,
                           const std::string& path_prefix) {
  // yaml-cpp reports misuse by exception; keep them from escaping into callers.
  try {
    return YamlToProto(report).message(node, msg, path_prefix);
  } catch (const YAML::Exception& e) {
    return invalidAt(path_prefix, absl::StrCat("invalid YAML: ", e.what()));
  }
}

}  // namespace remora::config
