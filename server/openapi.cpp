#include "server/openapi.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cctype>
#include <map>
#include <set>

namespace kafka::sidecar {

namespace pb = google::protobuf;

namespace {

pb::Value text(std::string_view value) {
  pb::Value out;
  out.set_string_value(std::string(value));
  return out;
}

pb::Value object(std::initializer_list<std::pair<const char*, pb::Value>> fields) {
  pb::Value out;
  auto& map = *out.mutable_struct_value()->mutable_fields();
  for (const auto& [name, value] : fields) map[name] = value;
  return out;
}

pb::Value list(std::vector<pb::Value> items) {
  pb::Value out;
  for (auto& item : items) *out.mutable_list_value()->add_values() = std::move(item);
  return out;
}

pb::Value reference(const pb::Descriptor& type) {
  return object({{"$ref", text("#/components/schemas/" + type.full_name())}});
}

// The schema of one value of `field` (an element, for a repeated field).
pb::Value valueSchema(const pb::FieldDescriptor& field) {
  switch (field.type()) {
    case pb::FieldDescriptor::TYPE_INT32:
    case pb::FieldDescriptor::TYPE_SINT32:
    case pb::FieldDescriptor::TYPE_SFIXED32:
      return object({{"type", text("integer")}, {"format", text("int32")}});
    case pb::FieldDescriptor::TYPE_UINT32:
    case pb::FieldDescriptor::TYPE_FIXED32: {
      pb::Value minimum;
      minimum.set_number_value(0);
      return object({{"type", text("integer")}, {"format", text("int64")}, {"minimum", minimum}});
    }
    // The JSON mapping writes 64-bit integers as strings (and reads numbers too).
    case pb::FieldDescriptor::TYPE_INT64:
    case pb::FieldDescriptor::TYPE_SINT64:
    case pb::FieldDescriptor::TYPE_SFIXED64:
      return object({{"type", text("string")}, {"format", text("int64")}});
    case pb::FieldDescriptor::TYPE_UINT64:
    case pb::FieldDescriptor::TYPE_FIXED64:
      return object({{"type", text("string")}, {"format", text("uint64")}});
    case pb::FieldDescriptor::TYPE_DOUBLE:
    case pb::FieldDescriptor::TYPE_FLOAT:
      return object({{"type", text("number")}});
    case pb::FieldDescriptor::TYPE_BOOL:
      return object({{"type", text("boolean")}});
    case pb::FieldDescriptor::TYPE_BYTES:
      return object({{"type", text("string")},
                     {"format", text("byte")},
                     {"description", text("base64; UTF-8 text with encoding=text")}});
    case pb::FieldDescriptor::TYPE_ENUM: {
      std::vector<pb::Value> names;
      for (int i = 0; i < field.enum_type()->value_count(); ++i) {
        names.push_back(text(field.enum_type()->value(i)->name()));
      }
      return object({{"type", text("string")}, {"enum", list(std::move(names))}});
    }
    case pb::FieldDescriptor::TYPE_MESSAGE:
    case pb::FieldDescriptor::TYPE_GROUP:
      return reference(*field.message_type());
    default:
      return object({{"type", text("string")}});
  }
}

pb::Value fieldSchema(const pb::FieldDescriptor& field) {
  if (field.is_map()) {
    return object({{"type", text("object")},
                   {"additionalProperties", valueSchema(*field.message_type()->map_value())}});
  }
  if (field.is_repeated()) return object({{"type", text("array")}, {"items", valueSchema(field)}});
  return valueSchema(field);
}

void addSchemas(const pb::Descriptor& type, pb::Struct& schemas) {
  if (schemas.fields().contains(type.full_name())) return;
  pb::Value& schema = (*schemas.mutable_fields())[type.full_name()];
  schema = object({{"type", text("object")}});
  auto& properties = *(*schema.mutable_struct_value()->mutable_fields())["properties"]
                          .mutable_struct_value()
                          ->mutable_fields();
  for (int i = 0; i < type.field_count(); ++i) {
    const pb::FieldDescriptor& field = *type.field(i);
    properties[field.name()] = fieldSchema(field);
    if (field.message_type() && !field.is_map()) addSchemas(*field.message_type(), schemas);
    if (field.is_map() && field.message_type()->map_value()->message_type()) {
      addSchemas(*field.message_type()->map_value()->message_type(), schemas);
    }
  }
}

pb::Value jsonContent(pb::Value schema) {
  return object({{"application/json", object({{"schema", std::move(schema)}})}});
}

pb::Value parameter(const std::string& name, std::string_view in, pb::Value schema) {
  pb::Value out = object({{"name", text(name)}, {"in", text(in)}, {"schema", std::move(schema)}});
  if (in == "path")
    (*out.mutable_struct_value()->mutable_fields())["required"].set_bool_value(true);
  return out;
}

std::vector<std::string> pathParameters(std::string_view path) {
  std::vector<std::string> names;
  for (size_t open = path.find('{'); open != std::string_view::npos;
       open = path.find('{', open + 1)) {
    names.emplace_back(path.substr(open + 1, path.find('}', open) - open - 1));
  }
  return names;
}

}  // namespace

std::string openApiDocument(const std::vector<RestRoute>& routes) {
  pb::Struct schemas;
  (*schemas.mutable_fields())["Error"] = object(
      {{"type", text("object")},
       {"properties", object({{"code", object({{"type", text("string")},
                                               {"description", text("the gRPC status name")}})},
                              {"message", object({{"type", text("string")}})}})}});

  std::map<std::string, int> method_uses;
  for (const RestRoute& route : routes) ++method_uses[std::string(route.method)];

  pb::Struct paths;
  for (const RestRoute& route : routes) {
    const pb::MethodDescriptor& method =
        *pb::DescriptorPool::generated_pool()->FindMethodByName(std::string(route.method));
    const pb::Descriptor& input = *method.input_type();
    addSchemas(input, schemas);
    addSchemas(*method.output_type(), schemas);

    std::vector<pb::Value> parameters;
    const std::vector<std::string> in_path = pathParameters(route.path);
    for (const std::string& name : in_path) {
      parameters.push_back(parameter(name, "path", valueSchema(*input.FindFieldByName(name))));
    }
    if (!route.takesBody()) {
      for (int i = 0; i < input.field_count(); ++i) {
        const pb::FieldDescriptor& field = *input.field(i);
        if (field.message_type() || std::count(in_path.begin(), in_path.end(), field.name())) {
          continue;
        }
        parameters.push_back(parameter(field.name(), "query", fieldSchema(field)));
      }
    }
    parameters.push_back(
        parameter(std::string(kEncodingParameter), "query",
                  object({{"type", text("string")},
                          {"enum", list({text("base64"), text("text")})},
                          {"default", text("base64")},
                          {"description", text("how keys, values and header values travel")}})));

    std::string operation_id = method.name();
    if (method_uses[std::string(route.method)] > 1 && !in_path.empty()) {
      std::string suffix = in_path.front();
      suffix[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(suffix[0])));
      operation_id += "By" + suffix;
    }
    pb::Value operation = object(
        {{"operationId", text(operation_id)},
         {"summary", text(route.summary)},
         {"x-grpc-method", text(route.method)},
         {"parameters", list(std::move(parameters))},
         {"responses",
          object(
              {{"200", object({{"description", text("the call was served")},
                               {"content", jsonContent(reference(*method.output_type()))}})},
               {"default",
                object({{"description", text("an error: the HTTP status of its gRPC status")},
                        {"content", jsonContent(object(
                                        {{"$ref", text("#/components/schemas/Error")}}))}})}})}});
    if (route.takesBody()) {
      (*operation.mutable_struct_value()->mutable_fields())["requestBody"] =
          object({{"content", jsonContent(reference(input))}});
    }
    std::string verb(route.verb);
    for (char& c : verb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    pb::Value& item = (*paths.mutable_fields())[std::string(route.path)];
    (*item.mutable_struct_value()->mutable_fields())[verb] = std::move(operation);
  }

  pb::Value info = object({{"title", text("kafka-sidecar REST gateway")},
                           {"version", text("v1")},
                           {"description", text("The kafka.sidecar.v1 gRPC services over HTTP "
                                                "and JSON, with the same semantics.")}});
  pb::Struct document;
  auto& fields = *document.mutable_fields();
  fields["openapi"] = text("3.0.3");
  fields["info"] = std::move(info);
  *fields["paths"].mutable_struct_value() = std::move(paths);
  auto& components = *fields["components"].mutable_struct_value()->mutable_fields();
  *components["schemas"].mutable_struct_value() = std::move(schemas);
  std::string json;
  (void)pb::util::MessageToJsonString(document, &json);
  return json;
}

}  // namespace kafka::sidecar
