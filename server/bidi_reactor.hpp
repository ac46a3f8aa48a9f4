// BidiReactor: a gRPC callback-API bidirectional-stream reactor that hands every reaction to a
// call object, for streams whose state must outlive the reactor (completions from client_core
// strands may still arrive after gRPC is done with the call).
//
// `Call` provides onReadDone(bool), onWriteDone(bool), onCancel() and onDone(); the call starts
// reads and writes on this reactor and finishes it. Owned by gRPC: created with `new` in a
// service method and deleted in OnDone, after the call was told.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <memory>

namespace kafka::sidecar {

template <class Call, class Request, class Response>
class BidiReactor final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit BidiReactor(std::shared_ptr<Call> call) : call_(std::move(call)) {}

  void OnReadDone(bool ok) override { call_->onReadDone(ok); }
  void OnWriteDone(bool ok) override { call_->onWriteDone(ok); }
  void OnCancel() override { call_->onCancel(); }
  void OnDone() override {
    call_->onDone();
    delete this;
  }

 private:
  std::shared_ptr<Call> call_;
};

}  // namespace kafka::sidecar
