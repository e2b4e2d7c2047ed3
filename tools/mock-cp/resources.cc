#include "tools/mock-cp/resources.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "source/config/field_path.h"
#include "source/config/yaml_to_proto.h"
#include "yaml-cpp/yaml.h"

namespace remora::mockcp {
namespace {

constexpr absl::string_view kTypePrefix = "type.googleapis.com/";

// The field that names a resource of message type `d`: ClusterLoadAssignment is the one xDS type
// that names itself after something else.
const google::protobuf::FieldDescriptor* nameField(const google::protobuf::Descriptor* d) {
  const auto* f = d->FindFieldByName(
      d->full_name() == "envoy.config.endpoint.v3.ClusterLoadAssignment" ? "cluster_name" : "name");
  if (f == nullptr || f->is_repeated() ||
      f->type() != google::protobuf::FieldDescriptor::TYPE_STRING) {
    return nullptr;
  }
  return f;
}

// Map fields serialize in hash order unless asked otherwise; a reload of unchanged text must give
// the same bytes, or every reload would look like a change.
std::string serializeDeterministically(const google::protobuf::Message& msg) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    msg.SerializeToCodedStream(&coded);
  }
  return bytes;
}

absl::StatusOr<Resource> parseItem(const YAML::Node& item, const std::string& path,
                                   std::vector<std::string>& warnings) {
  google::protobuf::Any any;
  config::ParseReport report;
  if (absl::Status s = config::parseYamlNode(item, any, report, path); !s.ok()) return s;
  warnings.insert(warnings.end(), report.warnings.begin(), report.warnings.end());
  const std::string& url = any.type_url();
  const std::string type_name = url.substr(url.rfind('/') + 1);
  const auto* d =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
  if (d == nullptr) {
    // parseYamlNode keeps TypedStruct Anys it cannot read; a resource must be readable.
    return config::invalidAt(path, absl::StrCat("cannot serve a resource of type '", url, "'"));
  }
  const auto* name_f = nameField(d);
  if (name_f == nullptr) {
    return config::invalidAt(path, absl::StrCat("cannot serve ", type_name,
                                                " as a resource: it has no string 'name' field"));
  }
  std::unique_ptr<google::protobuf::Message> msg(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
  if (!msg->ParseFromString(any.value())) {
    return config::invalidAt(path, "internal error: cannot re-read the parsed resource");
  }
  Resource r;
  r.name = msg->GetReflection()->GetString(*msg, name_f);
  if (r.name.empty()) {
    return config::invalidAt(config::fieldPath(path, name_f->name()), "a resource needs a name");
  }
  r.any.set_type_url(absl::StrCat(kTypePrefix, type_name));
  r.any.set_value(serializeDeterministically(*msg));
  return r;
}

}  // namespace

const std::vector<ResourceType>& knownTypes() {
  static const auto* types = new std::vector<ResourceType>{
      {"listener", "type.googleapis.com/envoy.config.listener.v3.Listener", "lds", true},
      {"route", "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "rds", false},
      {"cluster", "type.googleapis.com/envoy.config.cluster.v3.Cluster", "cds", true},
      {"endpoint", "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", "eds",
       false},
      {"secret", "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "sds",
       false},
  };
  return *types;
}

const ResourceType* typeByUrl(std::string_view type_url) {
  for (const auto& t : knownTypes()) {
    if (t.type_url == type_url) return &t;
  }
  return nullptr;
}

const ResourceType* typeByShortName(std::string_view short_name) {
  for (const auto& t : knownTypes()) {
    if (t.short_name == short_name) return &t;
  }
  return nullptr;
}

std::string displayType(std::string_view type_url) {
  const ResourceType* t = typeByUrl(type_url);
  return std::string(t != nullptr ? t->short_name : type_url);
}

absl::StatusOr<ParsedResources> parseResources(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid YAML at line ", e.mark.line + 1,
                                                   ", column ", e.mark.column + 1, ": ", e.msg));
  }
  ParsedResources out;
  if (!root.IsDefined() || root.IsNull()) return out;
  // A const node: yaml-cpp's non-const operator[] would insert the key it looks up.
  const YAML::Node& doc = root;
  YAML::Node items;
  std::string prefix;
  if (doc.IsMap() && doc["resources"]) {
    items = doc["resources"];
    prefix = "resources";
    for (const auto& kv : doc) {
      const std::string key = kv.first.as<std::string>("");
      if (key != "resources") out.warnings.push_back(key + ": ignored (only 'resources' is read)");
    }
    if (items.IsNull()) return out;
    if (!items.IsSequence()) return config::invalidAt(prefix, "expected a list of resources");
  } else if (doc.IsSequence()) {
    items = doc;
  } else if (doc.IsMap()) {
    absl::StatusOr<Resource> r = parseItem(doc, "", out.warnings);
    if (!r.ok()) return r.status();
    out.resources.push_back(*std::move(r));
    return out;
  } else {
    return absl::InvalidArgumentError(
        "expected 'resources: [...]', a list of resources or one resource with '@type'");
  }
  std::map<std::pair<std::string, std::string>, size_t> seen;  // (type, name) -> index
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string path =
        prefix.empty() ? absl::StrCat("[", i, "]") : config::indexPath(prefix, i);
    absl::StatusOr<Resource> r = parseItem(items[i], path, out.warnings);
    if (!r.ok()) return r.status();
    auto [it, inserted] = seen.emplace(std::make_pair(r->any.type_url(), r->name), i);
    if (!inserted) {
      out.warnings.push_back(absl::StrCat(path, ": replaces item ", it->second, ", the same ",
                                          displayType(r->any.type_url()), " '", r->name, "'"));
      it->second = i;
    }
    out.resources.push_back(*std::move(r));
  }
  return out;
}

}  // namespace remora::mockcp
