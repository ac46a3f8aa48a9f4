#include "server/rest_gateway.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <utility>
#include <variant>

#include "server/openapi.hpp"
#include "server/rest_json.hpp"

namespace kafka::sidecar {

namespace pb = google::protobuf;

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

void RestGateway::handle(HttpRequest request, HttpServer::Responder respond) {
  const std::string authorization = std::move(request.authorization);
  auto parsed = parseRestRequest(std::move(request));
  if (auto* refused = std::get_if<HttpResponse>(&parsed)) return respond(std::move(*refused));
  RestCall& rest = std::get<RestCall>(parsed);

  auto call = std::make_shared<Call>();
  call->text = rest.text;
  call->respond = std::move(respond);
  call->reply.reset(
      pb::MessageFactory::generated_factory()->GetPrototype(rest.method->output_type())->New());
  grpc::Slice slice(rest.request->SerializeAsString());
  call->request = grpc::ByteBuffer(&slice, 1);
  // The services check the bearer token, if any, as they do for gRPC clients. gRPC takes only
  // printable ASCII in metadata values.
  if (!authorization.empty()) {
    const bool printable = std::all_of(authorization.begin(), authorization.end(),
                                       [](char c) { return c >= ' ' && c < 0x7f; });
    if (!printable) {
      return call->respond(jsonError(401, grpc::StatusCode::UNAUTHENTICATED,
                                     "the Authorization header is not printable ASCII"));
    }
    call->context.AddMetadata("authorization", authorization);
  }
  const std::string rpc = "/" + rest.method->service()->full_name() + "/" + rest.method->name();
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
                    call->respond(restAnswer(*call->reply, call->text));
                  });
}

}  // namespace kafka::sidecar
