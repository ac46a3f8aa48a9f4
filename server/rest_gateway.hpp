// RestGateway: the REST/JSON face of the daemon's gRPC services.
//
// Each route names a gRPC method. A request becomes that method's request message: the JSON
// body of a POST in the proto's JSON mapping (GET and DELETE take none), then the path
// parameters and query parameters, each naming a field of the message by its proto name. The
// message goes over an in-process channel to the same service a gRPC client reaches, so REST has
// gRPC's semantics by construction. The answer comes back as JSON (proto field names, default
// values written out); a failure as the HTTP status that stands for its gRPC status, with a JSON
// body
// {"code": "<gRPC status name>", "message": "..."} naming what was wrong.
//
// Keys, values and header values (the API's bytes fields) travel as base64, as the JSON mapping
// has it, or as UTF-8 text with the query parameter `encoding=text`: text sent is written as
// its UTF-8 bytes, and bytes received are read as UTF-8 with ill-formed sequences replaced by
// U+FFFD (use base64 for binary data).
//
// The HTTP Authorization header goes along as the call's `authorization` metadata, so bearer
// tokens work as for gRPC: UNAUTHENTICATED becomes 401 and PERMISSION_DENIED 403.
//
// Owned by the Daemon, which must keep the channel's server up while the gateway is used.
// handle() may be called from any thread and answers from a gRPC thread (or at once).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <memory>
#include <string>
#include <string_view>
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

class RestGateway {
 public:
  explicit RestGateway(std::shared_ptr<grpc::Channel> channel);
  ~RestGateway();

  void handle(HttpRequest request, HttpServer::Responder respond);

  // The OpenAPI 3 document of restRoutes(), as JSON.
  const std::string& openApi() const { return openapi_; }

  // The query parameter that chooses the encoding of bytes fields.
  static constexpr std::string_view kEncodingParameter = "encoding";

 private:
  struct Call;

  grpc::GenericStub stub_;
  std::string openapi_;
};

}  // namespace kafka::sidecar
