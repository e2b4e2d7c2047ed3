// remora.test.Config: a message type built at test time (DescriptorPool + DynamicMessageFactory)
// with every kind of field the YAML loader handles, so config tests need nothing from proto/.
#pragma once

#include <memory>
#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"

namespace remora::config::test {

inline constexpr char kTestProto[] = R"pb(
  name: "remora_test.proto"
  package: "remora.test"
  dependency: [
    "google/protobuf/any.proto",
    "google/protobuf/duration.proto",
    "google/protobuf/struct.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/wrappers.proto"
  ]
  syntax: "proto3"
  enum_type {
    name: "Color"
    value { name: "COLOR_UNSPECIFIED" number: 0 }
    value { name: "RED" number: 1 }
    value { name: "GREEN" number: 2 }
  }
  message_type {
    name: "Endpoint"
    field { name: "host" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "port_value" number: 2 label: LABEL_OPTIONAL type: TYPE_UINT32 }
  }
  message_type {
    name: "Scalars"
    field { name: "i32" number: 1 label: LABEL_OPTIONAL type: TYPE_INT32 }
    field { name: "i64" number: 2 label: LABEL_OPTIONAL type: TYPE_INT64 }
    field { name: "u32" number: 3 label: LABEL_OPTIONAL type: TYPE_UINT32 }
    field { name: "u64" number: 4 label: LABEL_OPTIONAL type: TYPE_UINT64 }
    field { name: "s32" number: 5 label: LABEL_OPTIONAL type: TYPE_SINT32 }
    field { name: "f64" number: 6 label: LABEL_OPTIONAL type: TYPE_FIXED64 }
    field { name: "d" number: 7 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
    field { name: "f" number: 8 label: LABEL_OPTIONAL type: TYPE_FLOAT }
    field { name: "b" number: 9 label: LABEL_OPTIONAL type: TYPE_BOOL }
    field { name: "by" number: 10 label: LABEL_OPTIONAL type: TYPE_BYTES }
    field {
      name: "color"
      number: 11
      label: LABEL_OPTIONAL
      type: TYPE_ENUM
      type_name: ".remora.test.Color"
    }
  }
  message_type {
    name: "Config"
    field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field {
      name: "scalars"
      number: 2
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".remora.test.Scalars"
    }
    field { name: "connect_timeout_ms" number: 3 label: LABEL_OPTIONAL type: TYPE_INT32 }
    field {
      name: "endpoints"
      number: 4
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".remora.test.Endpoint"
    }
    field { name: "domains" number: 5 label: LABEL_REPEATED type: TYPE_STRING }
    field {
      name: "by_number"
      number: 6
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".remora.test.Config.ByNumberEntry"
    }
    field {
      name: "named"
      number: 7
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".remora.test.Config.NamedEntry"
    }
    field { name: "cluster" number: 8 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
    field { name: "weighted" number: 9 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
    field {
      name: "timeout"
      number: 10
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Duration"
    }
    field {
      name: "created"
      number: 11
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Timestamp"
    }
    field {
      name: "max_requests"
      number: 12
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.UInt32Value"
    }
    field {
      name: "enabled"
      number: 13
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.BoolValue"
    }
    field {
      name: "label"
      number: 14
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.StringValue"
    }
    field {
      name: "ratio"
      number: 15
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.DoubleValue"
    }
    field {
      name: "metadata"
      number: 16
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Struct"
    }
    field {
      name: "extra"
      number: 17
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Value"
    }
    field {
      name: "list"
      number: 18
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.ListValue"
    }
    field {
      name: "typed_config"
      number: 19
      label: LABEL_OPTIONAL
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Any"
    }
    field {
      name: "anys"
      number: 20
      label: LABEL_REPEATED
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Any"
    }
    nested_type {
      name: "ByNumberEntry"
      field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_UINT32 }
      field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
      options { map_entry: true }
    }
    nested_type {
      name: "NamedEntry"
      field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
      field {
        name: "value"
        number: 2
        label: LABEL_OPTIONAL
        type: TYPE_MESSAGE
        type_name: ".remora.test.Endpoint"
      }
      options { map_entry: true }
    }
    oneof_decl { name: "target" }
  }
)pb";

// Owns the pool and factory; messages it makes must not outlive it, so it lives for the process.
class TestTypes {
 public:
  static TestTypes& get() {
    static TestTypes* types = new TestTypes();
    return *types;
  }

  std::unique_ptr<google::protobuf::Message> newConfig() {
    return newMessage("remora.test.Config");
  }

  std::unique_ptr<google::protobuf::Message> newMessage(const std::string& full_name) {
    const google::protobuf::Descriptor* d = pool_.FindMessageTypeByName(full_name);
    return std::unique_ptr<google::protobuf::Message>(factory_.GetPrototype(d)->New());
  }

  static const google::protobuf::Message& subMessage(const google::protobuf::Message& msg,
                                                     const std::string& field) {
    return msg.GetReflection()->GetMessage(msg, msg.GetDescriptor()->FindFieldByName(field));
  }
  static google::protobuf::Message& mutableSubMessage(google::protobuf::Message& msg,
                                                      const std::string& field) {
    return *msg.GetReflection()->MutableMessage(&msg, msg.GetDescriptor()->FindFieldByName(field));
  }

 private:
  // Our own copies of the well-known types (not the generated ones) so that the loader is
  // exercised on dynamic messages end to end, as it would be on any reflection-only type.
  TestTypes() : factory_(&pool_) {
    for (const char* dep : {"google/protobuf/any.proto", "google/protobuf/duration.proto",
                            "google/protobuf/struct.proto", "google/protobuf/timestamp.proto",
                            "google/protobuf/wrappers.proto"}) {
      google::protobuf::FileDescriptorProto proto;
      google::protobuf::DescriptorPool::generated_pool()->FindFileByName(dep)->CopyTo(&proto);
      pool_.BuildFile(proto);
    }
    google::protobuf::FileDescriptorProto proto;
    google::protobuf::TextFormat::ParseFromString(kTestProto, &proto);
    pool_.BuildFile(proto);
  }

  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
};

}  // namespace remora::config::test
