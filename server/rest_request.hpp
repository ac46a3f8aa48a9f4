// The REST gateway's routes, and the pure half of serving one: an HTTP request checked and turned
// into the request message of its route's gRPC method, and a method's answer turned into JSON.
// No I/O, so that hostile requests can be fuzzed here (tests/fuzz/rest_request_fuzzer.cpp).
//
// A request becomes its method's request message: the JSON body of a POST in the proto's JSON
// mapping (GET and DELETE take none), then the path parameters and query parameters, each
// naming a field of the message by its proto name. Answers use proto field names and write
// default values out. Keys, values and header values (the API's bytes fields) travel as base64,
// as the JSON mapping has it, or as UTF-8 text with the query parameter `encoding=text`: text
// sent is written as its UTF-8 bytes, and bytes received are read as UTF-8 with ill-formed
// sequences replaced by U+FFFD (use base64 for binary data).
//
// Free functions, any thread.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <memory>
#include <string_view>
#include <variant>
#include <vector>

#include "server/http_server.hpp"

namespace kafka::sidecar {

struct RestRoute {
  std::string_view verb;  // "GET", "POST" or "DELETE"
  // "/v1/topics/{topic}/records": each {name} is a segment that sets the request's field
  // `name` (an element of it, for a repeated field).
  std::string_view path;
  std::string_view method;  // the gRPC method, "kafka.sidecar.v1.Producer.Produce"
  std::string_view summary;

  // A POST's request message comes as its JSON body.
  bool takesBody() const { return verb == "POST"; }
};

// Every route the gateway serves, in the order the OpenAPI document lists them.
const std::vector<RestRoute>& restRoutes();
// The route that serves `verb` on `path` (percent-encoded), or nullptr.
const RestRoute* findRestRoute(std::string_view verb, std::string_view path);

// The query parameter that chooses the encoding of bytes fields: base64 (the default) or text.
inline constexpr std::string_view kEncodingParameter = "encoding";

// A request that fits its route: the call to make.
struct RestCall {
  const RestRoute* route;
  const google::protobuf::MethodDescriptor* method;
  std::unique_ptr<google::protobuf::Message> request;
  bool text;  // the answer's bytes fields as text
};

// The call `request` asks for, or the 4xx answer naming what is wrong with it: 404 for an unknown
// path, 405 (with Allow) for a known one with another method, 415 for a body that is not
// application/json, 400 for everything else.
std::variant<RestCall, HttpResponse> parseRestRequest(HttpRequest request);

// The 200 answer carrying `reply` as JSON, with its bytes fields as text when `text`.
HttpResponse restAnswer(const google::protobuf::Message& reply, bool text);

}  // namespace kafka::sidecar
