#include "server/rest_gateway.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <utility>
#include <variant>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "server/openapi.hpp"
#include "server/rest_json.hpp"

namespace kafka::sidecar {

namespace pb = google::protobuf;

const std::vector<RestRoute>& restRoutes() {
  static const std::vector<RestRoute> routes = {
      {"POST", "/v1/topics/{topic}/records", "kafka.sidecar.v1.Producer.Produce",
       "Write records to a topic; one result per record, in order"},
      {"POST", "/v1/consumers", "kafka.sidecar.v1.Consumer.Open",
       "Open a consumer session, or attach to the open one with the same spec"},
      {"GET", "/v1/consumers/{session_id}/records", "kafka.sidecar.v1.Consumer.Poll",
       "Long-poll a session's records and events"},
      {"POST", "/v1/consumers/{session_id}/acks", "kafka.sidecar.v1.Consumer.Ack",
       "Ack records delivered by the session"},
      {"POST", "/v1/consumers/{session_id}/commit", "kafka.sidecar.v1.Consumer.Commit",
       "Commit what the session has acked, now"},
      {"POST", "/v1/consumers/{session_id}/seek", "kafka.sidecar.v1.Consumer.Seek",
       "Move a partition's position"},
      {"DELETE", "/v1/consumers/{session_id}", "kafka.sidecar.v1.Consumer.Close",
       "Close a session: commit what was acked and leave the group"},
      {"GET", "/v1/cluster", "kafka.sidecar.v1.Admin.DescribeCluster",
       "The cluster's id, controller and brokers"},
      {"GET", "/v1/topics", "kafka.sidecar.v1.Admin.ListTopics", "Every topic with its partitions"},
      {"POST", "/v1/topics", "kafka.sidecar.v1.Admin.CreateTopics", "Create topics"},
      {"DELETE", "/v1/topics/{topics}", "kafka.sidecar.v1.Admin.DeleteTopics", "Delete a topic"},
      {"GET", "/v1/topics/{topics}/configs", "kafka.sidecar.v1.Admin.DescribeTopicConfigs",
       "A topic's configuration (sensitive values are never sent)"},
      {"GET", "/v1/topics/{topics}/offsets", "kafka.sidecar.v1.Admin.DescribeOffsets",
       "A topic's earliest and latest offsets, and with `group` its committed offsets and lag"},
      {"GET", "/v1/groups", "kafka.sidecar.v1.Admin.ListGroups", "Every consumer group"},
      {"GET", "/v1/groups/{group}", "kafka.sidecar.v1.Admin.DescribeGroup",
       "A group's state, members and assignments"},
      {"GET", "/v1/groups/{group}/offsets", "kafka.sidecar.v1.Admin.DescribeOffsets",
       "A group's committed offsets and lag on `topics`"},
      {"POST", "/v1/groups/{group}/offsets/reset", "kafka.sidecar.v1.Admin.ResetGroupOffsets",
       "Move an empty group's offsets"},
  };
  return routes;
}

namespace {

struct Query {
  std::vector<std::pair<std::string, std::string>> parameters;
  bool text = false;
};

std::optional<std::string> percentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      unsigned value = 0;
      if (i + 2 >= text.size()) return std::nullopt;
      auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
      out += static_cast<char>(value);
      i += 2;
    }
  }
  return out;
}

std::vector<std::string_view> splitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.starts_with('/')) path.remove_prefix(1);
  for (;;) {
    const size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

using PathParameters = std::vector<std::pair<std::string, std::string>>;

// The parameters of `route` taken from `path`'s segments, or nullopt when it does not match.
std::optional<PathParameters> matchPath(const RestRoute& route,
                                        const std::vector<std::string>& path) {
  const std::vector<std::string_view> pattern = splitPath(route.path);
  if (pattern.size() != path.size()) return std::nullopt;
  PathParameters parameters;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i].starts_with('{')) {
      if (path[i].empty()) return std::nullopt;
      parameters.emplace_back(std::string(pattern[i].substr(1, pattern[i].size() - 2)), path[i]);
    } else if (pattern[i] != path[i]) {
      return std::nullopt;
    }
  }
  return parameters;
}

template <class T>
std::optional<T> parseNumber(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Sets (or, for a repeated field, adds) `text` as the value of `field`; what is wrong with it,
// or nullopt once it is set.
std::optional<std::string> setParameter(pb::Message& message, const pb::FieldDescriptor& field,
                                        const std::string& text, bool text_encoding) {
  const pb::Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
  auto invalid = [&](std::string_view expected) {
    return "parameter '" + field.name() + "' must be " + std::string(expected) + ", not '" + text +
           "'";
  };
  switch (field.cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      auto value = parseNumber<int32_t>(text);
      if (!value) return invalid("a 32-bit integer");
      repeated ? reflection.AddInt32(&message, &field, *value)
               : reflection.SetInt32(&message, &field, *value);
      return std::nullopt;
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      auto value = parseNumber<int64_t>(text);
      if (!value) return invalid("a 64-bit integer");
      repeated ? reflection.AddInt64(&message, &field, *value)
               : reflection.SetInt64(&message, &field, *value);
      return std::nullopt;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      auto value = parseNumber<uint32_t>(text);
      if (!value) return invalid("an unsigned 32-bit integer");
      repeated ? reflection.AddUInt32(&message, &field, *value)
               : reflection.SetUInt32(&message, &field, *value);
      return std::nullopt;
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      auto value = parseNumber<uint64_t>(text);
      if (!value) return invalid("an unsigned 64-bit integer");
      repeated ? reflection.AddUInt64(&message, &field, *value)
               : reflection.SetUInt64(&message, &field, *value);
      return std::nullopt;
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL: {
      if (text != "true" && text != "false") return invalid("true or false");
      repeated ? reflection.AddBool(&message, &field, text == "true")
               : reflection.SetBool(&message, &field, text == "true");
      return std::nullopt;
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const pb::EnumValueDescriptor* value = field.enum_type()->FindValueByName(text);
      if (!value) return invalid("one of the names of " + field.enum_type()->full_name());
      repeated ? reflection.AddEnum(&message, &field, value)
               : reflection.SetEnum(&message, &field, value);
      return std::nullopt;
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      std::string value = text;
      if (field.type() == pb::FieldDescriptor::TYPE_BYTES && !text_encoding) {
        auto decoded = base64Decode(text);
        if (!decoded) return invalid("base64");
        value = std::move(*decoded);
      } else if (!isUtf8(text)) {
        return "parameter '" + field.name() + "' is not UTF-8";
      }
      repeated ? reflection.AddString(&message, &field, std::move(value))
               : reflection.SetString(&message, &field, std::move(value));
      return std::nullopt;
    }
    default:
      return "parameter '" + field.name() + "' is an object: send it in the body";
  }
}

bool isSet(const pb::Message& message, const pb::FieldDescriptor& field) {
  const pb::Reflection& reflection = *message.GetReflection();
  return field.is_repeated() ? reflection.FieldSize(message, &field) > 0
                             : reflection.HasField(message, &field);
}

HttpResponse badRequest(std::string message) {
  return jsonError(400, grpc::StatusCode::INVALID_ARGUMENT, message);
}

std::optional<HttpResponse> parseQuery(std::string_view query, Query& out) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    auto name = percentDecode(pair.substr(0, equals), true);
    auto value = percentDecode(
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), true);
    if (!name || !value) {
      return badRequest("the query parameter '" + std::string(pair) +
                        "' has a malformed percent-encoding");
    }
    if (*name == RestGateway::kEncodingParameter) {
      if (*value != "base64" && *value != "text") {
        return badRequest("parameter 'encoding' must be base64 or text, not '" + *value + "'");
      }
      out.text = *value == "text";
      continue;
    }
    out.parameters.emplace_back(std::move(*name), std::move(*value));
  }
  return std::nullopt;
}

std::string parameterNames(const pb::Descriptor& type) {
  std::string names;
  for (int i = 0; i < type.field_count(); ++i) {
    if (type.field(i)->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    names += (names.empty() ? "" : ", ") + type.field(i)->name();
  }
  return names.empty() ? "none" : names;
}

pb::util::JsonPrintOptions printOptions() {
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  return options;
}

bool isJson(std::string_view content_type) {
  if (content_type.empty()) return true;
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  return media == "application/json";
}

}  // namespace

struct RestGateway::Call {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  std::unique_ptr<pb::Message> reply;
  bool text = false;
  HttpServer::Responder respond;
};

RestGateway::RestGateway(std::shared_ptr<grpc::Channel> channel)
    : stub_(std::move(channel)), openapi_(openApiDocument(restRoutes())) {}

RestGateway::~RestGateway() = default;

namespace {

// The route that serves `request`, with its path parameters; or the 400, 404 or 405 answer.
std::variant<std::pair<const RestRoute*, PathParameters>, HttpResponse> findRoute(
    const HttpRequest& request) {
  const std::string where = request.method + " " + request.path;
  std::vector<std::string> segments;
  for (std::string_view segment : splitPath(request.path)) {
    auto decoded = percentDecode(segment, false);
    if (!decoded) return badRequest(where + ": malformed percent-encoding");
    segments.push_back(std::move(*decoded));
  }
  std::string allowed;
  for (const RestRoute& route : restRoutes()) {
    auto parameters = matchPath(route, segments);
    if (!parameters) continue;
    if (route.verb == request.method) return std::pair{&route, std::move(*parameters)};
    allowed += (allowed.empty() ? "" : ", ") + std::string(route.verb);
  }
  if (allowed.empty()) {
    return jsonError(404, grpc::StatusCode::NOT_FOUND,
                     "no route " + where + " (the routes are listed at /openapi.json)");
  }
  HttpResponse refused =
      jsonError(405, grpc::StatusCode::UNIMPLEMENTED, where + " is not served; try " + allowed);
  refused.allow = allowed;
  return refused;
}

// Fills `message` from the body and the parameters; the 4xx answer when they do not fit it.
std::optional<HttpResponse> buildRequest(const RestRoute& route, HttpRequest& request,
                                         PathParameters parameters, const Query& query,
                                         pb::Message& message) {
  const pb::Descriptor& type = *message.GetDescriptor();
  if (!route.takesBody() && !request.body.empty()) {
    return badRequest(std::string(route.verb) + " " + std::string(route.path) +
                      " takes no body; its parameters go in the path and query");
  }
  if (!request.body.empty()) {
    if (!isJson(request.content_type)) {
      return jsonError(415, grpc::StatusCode::INVALID_ARGUMENT,
                       "the body must be application/json, not " + request.content_type);
    }
    std::string json = std::move(request.body);
    if (query.text) {
      // Bytes fields arrive as text: made base64, as the JSON mapping reads them.
      pb::Value tree;
      if (!pb::util::JsonStringToMessage(json, &tree).ok()) {
        return badRequest("the body is not JSON");
      }
      convertBytesFields(tree, type, [](std::string& text) { text = base64Encode(text); });
      json.clear();
      (void)pb::util::MessageToJsonString(tree, &json);
    }
    const auto parsed = pb::util::JsonStringToMessage(json, &message);
    if (!parsed.ok()) {
      return badRequest("the body does not parse as " + type.full_name() + ": " +
                        std::string(parsed.message()));
    }
  }

  parameters.insert(parameters.end(), query.parameters.begin(), query.parameters.end());
  std::set<std::string> given;
  for (const auto& [name, value] : parameters) {
    const pb::FieldDescriptor* field = type.FindFieldByName(name);
    if (!field) {
      return badRequest("unknown query parameter '" + name + "'; " + std::string(route.path) +
                        " takes: " + parameterNames(type) + ", encoding");
    }
    const bool first = given.insert(name).second;
    if (!first && !field->is_repeated()) {
      return badRequest("parameter '" + name + "' is given twice");
    }
    if (first && isSet(message, *field)) {
      return badRequest("field '" + name + "' is given as a parameter; leave it out of the body");
    }
    if (auto refused = setParameter(message, *field, value, query.text)) {
      return badRequest(*refused);
    }
  }
  return std::nullopt;
}

// The JSON answer for `reply`, with its bytes fields as text when `text`.
HttpResponse answerWith(const pb::Message& reply, bool text) {
  HttpResponse answer{200, {}, "application/json"};
  (void)pb::util::MessageToJsonString(reply, &answer.body, printOptions());
  if (text) {
    pb::Value tree;
    (void)pb::util::JsonStringToMessage(answer.body, &tree);
    convertBytesFields(tree, *reply.GetDescriptor(), [](std::string& bytes) {
      bytes = utf8Text(base64Decode(bytes).value_or(bytes));
    });
    answer.body.clear();
    (void)pb::util::MessageToJsonString(tree, &answer.body, printOptions());
  }
  answer.body += '\n';
  return answer;
}

}  // namespace

void RestGateway::handle(HttpRequest request, HttpServer::Responder respond) {
  auto found = findRoute(request);
  if (auto* refused = std::get_if<HttpResponse>(&found)) return respond(std::move(*refused));
  auto& [route, path_parameters] = std::get<0>(found);
  Query query;
  if (auto refused = parseQuery(request.query, query)) return respond(std::move(*refused));

  const pb::MethodDescriptor& method =
      *pb::DescriptorPool::generated_pool()->FindMethodByName(std::string(route->method));
  const auto prototype = [](const pb::Descriptor* type) {
    return pb::MessageFactory::generated_factory()->GetPrototype(type);
  };
  std::unique_ptr<pb::Message> message(prototype(method.input_type())->New());
  if (auto refused = buildRequest(*route, request, std::move(path_parameters), query, *message)) {
    return respond(std::move(*refused));
  }

  auto call = std::make_shared<Call>();
  call->text = query.text && hasBytesFields(*method.output_type());
  call->respond = std::move(respond);
  call->reply.reset(prototype(method.output_type())->New());
  grpc::Slice slice(message->SerializeAsString());
  call->request = grpc::ByteBuffer(&slice, 1);
  // The services check the bearer token, if any, as they do for gRPC clients. gRPC takes only
  // printable ASCII in metadata values.
  if (!request.authorization.empty()) {
    const bool printable = std::all_of(request.authorization.begin(), request.authorization.end(),
                                       [](char c) { return c >= ' ' && c < 0x7f; });
    if (!printable) {
      return call->respond(jsonError(401, grpc::StatusCode::UNAUTHENTICATED,
                                     "the Authorization header is not printable ASCII"));
    }
    call->context.AddMetadata("authorization", request.authorization);
  }
  const std::string rpc = "/" + method.service()->full_name() + "/" + method.name();
  stub_.UnaryCall(&call->context, rpc, grpc::StubOptions(), &call->request, &call->response,
                  [call](grpc::Status status) {
                    if (!status.ok()) return call->respond(jsonError(status));
                    std::vector<grpc::Slice> slices;
                    std::string bytes;
                    if (call->response.Dump(&slices).ok()) {
                      for (const auto& piece : slices) {
                        bytes.append(reinterpret_cast<const char*>(piece.begin()), piece.size());
                      }
                    }
                    if (!call->reply->ParseFromString(bytes)) {
                      return call->respond(jsonError(500, grpc::StatusCode::INTERNAL,
                                                     "the service's answer does not parse"));
                    }
                    call->respond(answerWith(*call->reply, call->text));
                  });
}

}  // namespace kafka::sidecar
