// reportUnsupportedFields(): warns about config that parsed fine but that Remora does not act on,
// so an operator never believes a setting took effect when it silently did not.
#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "source/config/field_path.h"
#include "source/config/yaml_to_proto.h"

namespace remora::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string mapKeyText(const Message& entry, const FieldDescriptor* key_f) {
  const Reflection* r = entry.GetReflection();
  switch (key_f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(r->GetInt32(entry, key_f));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(r->GetInt64(entry, key_f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(r->GetUInt32(entry, key_f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(r->GetUInt64(entry, key_f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(entry, key_f) ? "true" : "false";
    default:
      return r->GetString(entry, key_f);
  }
}

// Types that are values in config (their JSON form is not their fields), so their own fields
// (Duration.seconds...) are not for the supported set to list.
bool isOpaqueWellKnownType(const std::string& name) {
  static const auto* kTypes = new absl::flat_hash_set<std::string>{
      "google.protobuf.Duration",    "google.protobuf.Timestamp",   "google.protobuf.DoubleValue",
      "google.protobuf.FloatValue",  "google.protobuf.Int64Value",  "google.protobuf.UInt64Value",
      "google.protobuf.Int32Value",  "google.protobuf.UInt32Value", "google.protobuf.BoolValue",
      "google.protobuf.StringValue", "google.protobuf.BytesValue",  "google.protobuf.Struct",
      "google.protobuf.Value",       "google.protobuf.ListValue",   "google.protobuf.FieldMask",
      "google.protobuf.Empty"};
  return kTypes->contains(name);
}

class UnsupportedFieldReporter {
 public:
  UnsupportedFieldReporter(const absl::flat_hash_set<std::string>& supported, ParseReport& report)
      : supported_(supported), report_(report) {}

  void walk(const Message& msg, const std::string& path) {
    const Reflection* r = msg.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    r->ListFields(msg, &fields);
    for (const FieldDescriptor* f : fields) {
      const std::string fpath =
          fieldPath(path, f->is_extension() ? absl::StrCat("[", f->full_name(), "]") : f->name());
      if (!supported_.contains(f->full_name())) {
        report_.warnings.push_back(atPath(fpath, "field not supported by Remora, ignored"));
        continue;
      }
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      if (f->is_map()) {
        walkMap(msg, f, fpath);
      } else if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(msg, f); ++i) {
          visit(r->GetRepeatedMessage(msg, f, i), indexPath(fpath, i));
        }
      } else {
        visit(r->GetMessage(msg, f), fpath);
      }
    }
    reportUnknownWireFields(r->GetUnknownFields(msg), path);
  }

 private:
  void walkMap(const Message& msg, const FieldDescriptor* f, const std::string& path) {
    const FieldDescriptor* key_f = f->message_type()->map_key();
    const FieldDescriptor* value_f = f->message_type()->map_value();
    if (value_f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return;
    const Reflection* r = msg.GetReflection();
    // Map order is unspecified; sort so the warnings come out the same on every run.
    std::vector<std::pair<std::string, const Message*>> entries;
    for (int i = 0; i < r->FieldSize(msg, f); ++i) {
      const Message& entry = r->GetRepeatedMessage(msg, f, i);
      entries.emplace_back(mapKeyText(entry, key_f),
                           &entry.GetReflection()->GetMessage(entry, value_f));
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [key, value] : entries) visit(*value, keyPath(path, key));
  }

  // A supported message field: look inside, treating Any as its payload and the other
  // well-known types as opaque values.
  void visit(const Message& msg, const std::string& path) {
    const auto* d = msg.GetDescriptor();
    if (d->full_name() == "google.protobuf.Any") {
      const Reflection* r = msg.GetReflection();
      const std::string url = r->GetString(msg, d->FindFieldByName("type_url"));
      const auto* payload_type =
          google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
              url.substr(url.rfind('/') + 1));
      if (payload_type == nullptr) return;  // e.g. TypedStruct: already warned about at parse.
      std::unique_ptr<Message> payload(
          google::protobuf::MessageFactory::generated_factory()->GetPrototype(payload_type)->New());
      if (!payload->ParseFromString(r->GetString(msg, d->FindFieldByName("value")))) {
        report_.warnings.push_back(atPath(
            path,
            absl::StrCat("could not decode the ", payload_type->full_name(), " in this Any")));
        return;
      }
      visit(*payload, path);
      return;
    }
    if (isOpaqueWellKnownType(d->full_name())) return;
    walk(msg, path);
  }

  // Binary config (xDS) keeps fields our protos lack as unknown wire fields: say so.
  void reportUnknownWireFields(const google::protobuf::UnknownFieldSet& unknown,
                               const std::string& path) {
    if (unknown.empty()) return;
    std::set<int> numbers;
    for (int i = 0; i < unknown.field_count(); ++i) numbers.insert(unknown.field(i).number());
    report_.warnings.push_back(
        atPath(path, absl::StrCat("unknown field number(s) ", absl::StrJoin(numbers, ", "),
                                  " ignored (not in Remora's API subset)")));
  }

  const absl::flat_hash_set<std::string>& supported_;
  ParseReport& report_;
};

}  // namespace

void reportUnsupportedFields(const Message& msg, const absl::flat_hash_set<std::string>& supported,
                             ParseReport& report, const std::string& path_prefix) {
  UnsupportedFieldReporter(supported, report).walk(msg, path_prefix);
}

}  // namespace remora::config
