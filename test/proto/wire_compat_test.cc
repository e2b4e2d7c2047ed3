// Wire compatibility of proto/ (Remora's own subset of the Envoy v3 API) with Envoy's official
// definitions: every message, enum and service that we declare under envoy.* and google.rpc must
// exist upstream under the same full name, and every field, enum value and method we declare must
// match the official one (number, type, label, type name, oneof, proto3 optional, JSON name,
// streaming). The official FileDescriptorSet comes from tools/envoy-api-descriptors, which needs
// the reference fetched by tools/setup.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

namespace pb = google::protobuf;

// A DescriptorPool built from a FileDescriptorSet (in any file order).
struct Pool {
  pb::SimpleDescriptorDatabase db;
  std::unique_ptr<pb::DescriptorPool> pool;
  std::vector<const pb::FileDescriptor*> files;  // every file of the set, built
  std::vector<std::string> errors;
};

std::unique_ptr<Pool> buildPool(const pb::FileDescriptorSet& set) {
  auto p = std::make_unique<Pool>();
  for (const auto& file : set.file()) {
    if (!p->db.Add(file)) p->errors.push_back("cannot add " + file.name());
  }
  p->pool = std::make_unique<pb::DescriptorPool>(&p->db);
  for (const auto& file : set.file()) {
    const pb::FileDescriptor* fd = p->pool->FindFileByName(file.name());
    if (fd == nullptr) {
      p->errors.push_back("cannot build " + file.name());
    } else {
      p->files.push_back(fd);
    }
  }
  return p;
}

std::unique_ptr<Pool> loadPool(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return nullptr;
  }
  pb::FileDescriptorSet set;
  if (!set.ParseFromIstream(&in)) {
    error = "cannot parse FileDescriptorSet " + path;
    return nullptr;
  }
  return buildPool(set);
}

std::string typeName(const pb::FieldDescriptor* f) {
  std::string name = f->type_name();
  if (f->message_type() != nullptr) name += " " + f->message_type()->full_name();
  if (f->enum_type() != nullptr) name += " " + f->enum_type()->full_name();
  return name;
}

std::string oneofName(const pb::FieldDescriptor* f) {
  const pb::OneofDescriptor* o = f->real_containing_oneof();
  return o == nullptr ? "(none)" : o->name();
}

// Collects every difference between what `ours` declares and the official definitions.
class Checker {
 public:
  explicit Checker(const pb::DescriptorPool& official) : official_(official) {}

  void checkFile(const pb::FileDescriptor* file) {
    for (int i = 0; i < file->message_type_count(); ++i) checkMessage(file->message_type(i));
    for (int i = 0; i < file->enum_type_count(); ++i) checkEnum(file->enum_type(i));
    for (int i = 0; i < file->service_count(); ++i) checkService(file->service(i));
  }

  std::vector<std::string> differences;
  int messages = 0, fields = 0, enums = 0, values = 0, services = 0, methods = 0;

 private:
  void diff(const std::string& what) { differences.push_back(what); }

  template <class D, class O>
  void checkFileName(const D* ours, const O* theirs) {
    if (ours->file()->name() != theirs->file()->name()) {
      diff(ours->full_name() + ": declared in " + ours->file()->name() + ", official in " +
           theirs->file()->name());
    }
  }

  void checkMessage(const pb::Descriptor* ours) {
    ++messages;
    const pb::Descriptor* theirs = official_.FindMessageTypeByName(ours->full_name());
    if (theirs == nullptr) {
      diff("message " + ours->full_name() + ": not in the official API");
      return;
    }
    if (ours->containing_type() == nullptr) checkFileName(ours, theirs);
    if (ours->options().map_entry() != theirs->options().map_entry()) {
      diff("message " + ours->full_name() + ": map entry differs");
    }
    for (int i = 0; i < ours->field_count(); ++i) checkField(ours->field(i), theirs);
    for (int i = 0; i < ours->nested_type_count(); ++i) checkMessage(ours->nested_type(i));
    for (int i = 0; i < ours->enum_type_count(); ++i) checkEnum(ours->enum_type(i));
  }

  void checkField(const pb::FieldDescriptor* ours, const pb::Descriptor* message) {
    ++fields;
    const std::string name = ours->full_name();
    const pb::FieldDescriptor* theirs = message->FindFieldByName(ours->name());
    if (theirs == nullptr) {
      diff("field " + name + ": not in the official message");
      return;
    }
    auto compare = [&](const char* what, const std::string& a, const std::string& b) {
      if (a != b) diff("field " + name + ": " + what + " " + a + ", official " + b);
    };
    compare("number", std::to_string(ours->number()), std::to_string(theirs->number()));
    compare("type", typeName(ours), typeName(theirs));
    compare("label", std::to_string(ours->label()), std::to_string(theirs->label()));
    compare("oneof", oneofName(ours), oneofName(theirs));
    compare("proto3 optional", ours->has_optional_keyword() ? "yes" : "no",
            theirs->has_optional_keyword() ? "yes" : "no");
    compare("json_name", ours->json_name(), theirs->json_name());
  }

  void checkEnum(const pb::EnumDescriptor* ours) {
    ++enums;
    const pb::EnumDescriptor* theirs = official_.FindEnumTypeByName(ours->full_name());
    if (theirs == nullptr) {
      diff("enum " + ours->full_name() + ": not in the official API");
      return;
    }
    if (ours->containing_type() == nullptr) checkFileName(ours, theirs);
    for (int i = 0; i < ours->value_count(); ++i) {
      ++values;
      const pb::EnumValueDescriptor* v = ours->value(i);
      const pb::EnumValueDescriptor* t = theirs->FindValueByName(v->name());
      if (t == nullptr) {
        diff("enum value " + ours->full_name() + "." + v->name() + ": not in the official enum");
      } else if (t->number() != v->number()) {
        diff("enum value " + ours->full_name() + "." + v->name() + ": number " +
             std::to_string(v->number()) + ", official " + std::to_string(t->number()));
      }
    }
  }

  void checkService(const pb::ServiceDescriptor* ours) {
    ++services;
    const pb::ServiceDescriptor* theirs = official_.FindServiceByName(ours->full_name());
    if (theirs == nullptr) {
      diff("service " + ours->full_name() + ": not in the official API");
      return;
    }
    checkFileName(ours, theirs);
    for (int i = 0; i < ours->method_count(); ++i) {
      ++methods;
      const pb::MethodDescriptor* m = ours->method(i);
      const pb::MethodDescriptor* t = theirs->FindMethodByName(m->name());
      const std::string name = "method " + m->full_name();
      if (t == nullptr) {
        diff(name + ": not in the official service");
        continue;
      }
      if (m->input_type()->full_name() != t->input_type()->full_name()) {
        diff(name + ": input " + m->input_type()->full_name() + ", official " +
             t->input_type()->full_name());
      }
      if (m->output_type()->full_name() != t->output_type()->full_name()) {
        diff(name + ": output " + m->output_type()->full_name() + ", official " +
             t->output_type()->full_name());
      }
      if (m->client_streaming() != t->client_streaming()) diff(name + ": client streaming");
      if (m->server_streaming() != t->server_streaming()) diff(name + ": server streaming");
    }
  }

  const pb::DescriptorPool& official_;
};

bool isCheckedPackage(const std::string& package) {
  return package.rfind("envoy.", 0) == 0 || package == "google.rpc";
}

// Compares every envoy.* / google.rpc declaration of `ours` against `official`.
Checker compareDeclarations(const std::vector<const pb::FileDescriptor*>& ours,
                            const pb::DescriptorPool& official) {
  Checker checker(official);
  for (const pb::FileDescriptor* file : ours) {
    if (isCheckedPackage(file->package())) checker.checkFile(file);
  }
  return checker;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "  " + line + "\n";
  return out;
}

// Runs tools/envoy-api-descriptors; returns the official pool, or nullptr with `error` set.
std::unique_ptr<Pool> officialPool(std::string& error) {
  const std::filesystem::path reference =
      std::filesystem::path(REMORA_SOURCE_DIR) / "build/envoy-api-reference/package/deps";
  if (!std::filesystem::is_directory(reference)) {
    error = "Envoy's official API definitions are missing (" + reference.string() +
            "): run tools/setup";
    return nullptr;
  }
  const std::string command = std::string(REMORA_SOURCE_DIR) + "/tools/envoy-api-descriptors 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    error = "cannot run " + command;
    return nullptr;
  }
  std::string output;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  if (status != 0) {
    error = "tools/envoy-api-descriptors failed (run tools/setup first?):\n" + output;
    return nullptr;
  }
  // The path is the last line; earlier lines are warnings.
  std::istringstream lines(output);
  std::string line, path;
  while (std::getline(lines, line)) {
    if (!line.empty()) path = line;
  }
  if (output.find("warning") != std::string::npos) WARN(output);
  auto pool = loadPool(path, error);
  if (pool != nullptr && !pool->errors.empty()) {
    error = "official descriptor set " + path + " does not build:\n" + join(pool->errors);
    return nullptr;
  }
  return pool;
}

std::unique_ptr<Pool> oursPool(std::string& error) {
  auto pool = loadPool(std::string(REMORA_BINARY_DIR) + "/remora_protos.pb", error);
  if (pool != nullptr && !pool->errors.empty()) {
    error = "remora_protos.pb does not build:\n" + join(pool->errors);
    return nullptr;
  }
  return pool;
}

// A one-file pool declared by hand, for testing the checker itself.
std::unique_ptr<Pool> handBuiltPool(const pb::FileDescriptorProto& file) {
  pb::FileDescriptorSet set;
  *set.add_file() = file;
  return buildPool(set);
}

pb::FieldDescriptorProto* addField(pb::DescriptorProto* message, const std::string& name,
                                   int number, pb::FieldDescriptorProto::Type type) {
  pb::FieldDescriptorProto* f = message->add_field();
  f->set_name(name);
  f->set_number(number);
  f->set_type(type);
  f->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
  return f;
}

}  // namespace

TEST_CASE("proto/ is wire-compatible with Envoy's official v3 API", "[proto]") {
  std::string error;
  auto official = officialPool(error);
  if (official == nullptr) FAIL(error);
  auto ours = oursPool(error);
  if (ours == nullptr) FAIL(error);

  Checker checker = compareDeclarations(ours->files, *official->pool);
  INFO("checked " << checker.messages << " messages, " << checker.fields << " fields, "
                  << checker.enums << " enums, " << checker.values << " enum values, "
                  << checker.services << " services, " << checker.methods << " methods");
  // Guard against a vacuous pass (e.g. an empty or wrong descriptor set).
  CHECK(checker.messages > 100);
  CHECK(checker.fields > 500);
  CHECK(checker.services >= 6);
  INFO(checker.differences.size() << " differences:\n" << join(checker.differences));
  REQUIRE(checker.differences.empty());
}

TEST_CASE("the wire-compatibility checker reports mismatched declarations", "[proto]") {
  std::string error;
  auto official = officialPool(error);
  if (official == nullptr) FAIL(error);

  pb::FileDescriptorProto file;
  file.set_name("envoy/config/core/v3/address.proto");
  file.set_package("envoy.config.core.v3");
  file.set_syntax("proto3");
  pb::DescriptorProto* pipe = file.add_message_type();
  pipe->set_name("Pipe");
  addField(pipe, "path", 1, pb::FieldDescriptorProto::TYPE_STRING);
  pb::FieldDescriptorProto* mode = addField(pipe, "mode", 2, pb::FieldDescriptorProto::TYPE_UINT32);

  auto differences = [&] {
    auto pool = handBuiltPool(file);
    REQUIRE(pool->errors.empty());
    return compareDeclarations(pool->files, *official->pool).differences;
  };

  SECTION("a faithful declaration has no differences") { CHECK(differences().empty()); }

  SECTION("a wrong field number") {
    mode->set_number(3);
    const auto found = differences();
    REQUIRE(found.size() == 1);
    CHECK_THAT(found[0], Catch::Contains("envoy.config.core.v3.Pipe.mode") &&
                             Catch::Contains("number 3, official 2"));
  }

  SECTION("a wrong field type") {
    mode->set_type(pb::FieldDescriptorProto::TYPE_INT32);
    const auto found = differences();
    REQUIRE(found.size() == 1);
    CHECK_THAT(found[0], Catch::Contains("type"));
  }

  SECTION("a field the official message does not have") {
    addField(pipe, "owner", 3, pb::FieldDescriptorProto::TYPE_STRING);
    const auto found = differences();
    REQUIRE(found.size() == 1);
    CHECK_THAT(found[0], Catch::Contains("Pipe.owner"));
  }

  SECTION("a oneof member declared outside its oneof") {
    pb::DescriptorProto* socket = file.add_message_type();
    socket->set_name("SocketAddress");
    addField(socket, "address", 2, pb::FieldDescriptorProto::TYPE_STRING);
    addField(socket, "port_value", 3, pb::FieldDescriptorProto::TYPE_UINT32);
    const auto found = differences();
    REQUIRE(found.size() == 1);
    CHECK_THAT(found[0], Catch::Contains("port_value") && Catch::Contains("oneof"));
  }

  SECTION("a message, and an enum value, that the official API does not have") {
    file.add_message_type()->set_name("NoSuchMessage");
    pb::EnumDescriptorProto* method = file.add_enum_type();
    method->set_name("RoutingPriority");
    auto* value = method->add_value();
    value->set_name("DEFAULT");
    value->set_number(0);
    value = method->add_value();
    value->set_name("HIGH");
    value->set_number(2);
    const auto found = differences();
    REQUIRE(found.size() == 3);  // the message, HIGH's number, and RoutingPriority's file
  }
}
