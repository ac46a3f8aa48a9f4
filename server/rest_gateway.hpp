// RestGateway: the REST/JSON face of the daemon's gRPC services.
//
// Each route (rest_request.hpp) names a gRPC method. A request that fits its route goes, as that
// method's request message, over an in-process channel to the same service a gRPC client
// reaches, so REST has gRPC's semantics by construction. The answer comes back as JSON; a
// failure as the HTTP status that stands for its gRPC status, with a JSON body
// {"code": "<gRPC status name>", "message": "..."} naming what was wrong.
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

#include "server/http_server.hpp"
#include "server/rest_request.hpp"

namespace kafka::sidecar {

class RestGateway {
 public:
  explicit RestGateway(std::shared_ptr<grpc::Channel> channel);
  ~RestGateway();

  void handle(HttpRequest request, HttpServer::Responder respond);

  // The OpenAPI 3 document of restRoutes(), as JSON.
  const std::string& openApi() const { return openapi_; }

 private:
  struct Call;

  grpc::GenericStub stub_;
  std::string openapi_;
};

}  // namespace kafka::sidecar
