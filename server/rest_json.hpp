// JSON pieces of the REST gateway that are not routing: error bodies and the HTTP status of a
// gRPC status, and the two encodings of the API's bytes fields (keys, values, header values):
// base64 as the proto JSON mapping writes them, or UTF-8 text. Free functions, any thread.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/struct.pb.h>
#include <grpcpp/support/status.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "server/http_server.hpp"

namespace kafka::sidecar {

// The HTTP status that stands for `code`, as Google's APIs and grpc-gateway map them.
unsigned httpStatusOf(grpc::StatusCode code);

// A response with `http_status` and the JSON body {"code": "<code's name>", "message": ...}.
HttpResponse jsonError(unsigned http_status, grpc::StatusCode code, std::string_view message);

// `status` as a JSON error response.
HttpResponse jsonError(const grpc::Status& status);

std::string base64Encode(std::string_view bytes);
// nullopt when `text` is not standard base64 (padding optional).
std::optional<std::string> base64Decode(std::string_view text);

// True when `bytes` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool isUtf8(std::string_view bytes);
// `bytes` read as UTF-8, each ill-formed sequence replaced by U+FFFD, as Kafka's
// StringDeserializer (Java's String decoding) does.
std::string utf8Text(std::string_view bytes);

// Calls `convert` on the string of every bytes field found in `json`, a JSON object in the
// proto JSON mapping of a `type` message (fields by proto or JSON name, nested messages and
// repeated fields included). Fields that do not belong to `type` are left for the parser to
// refuse.
void convertBytesFields(google::protobuf::Value& json, const google::protobuf::Descriptor& type,
                        const std::function<void(std::string&)>& convert);

// Whether `type` or any message reachable from it has a bytes field.
bool hasBytesFields(const google::protobuf::Descriptor& type);

}  // namespace kafka::sidecar
