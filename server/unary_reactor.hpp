// UnaryReactor: a gRPC callback-API unary reactor for answers that arrive later, from another
// thread (typically a client_core completion on a cluster strand).
//
// Exactly one of the two paths finishes the call: the completion, through the shared
// UnaryReactor::Finisher it holds, or a cancellation (client gone, deadline passed, server
// shutting down), which finishes at once with CANCELLED. The loser does nothing. This keeps the
// callback API's rule that Finish is called exactly once, and lets server shutdown complete
// without waiting for Kafka.
//
// Owned by gRPC: created with `new` in a service method and deleted in OnDone. The Finisher may
// outlive it; it touches the reactor (and the response message gRPC owns) only after winning
// the claim, and gRPC keeps both alive until Finish has been called.
#pragma once

#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <memory>

namespace kafka::sidecar {

class UnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  class Finisher {
   public:
    explicit Finisher(UnaryReactor* reactor) : reactor_(reactor) {}

    // True exactly once, for whoever will call finish().
    bool claim() { return !claimed_.exchange(true, std::memory_order_acq_rel); }
    // Only after a successful claim().
    void finish(grpc::Status status) { reactor_->Finish(std::move(status)); }

   private:
    UnaryReactor* reactor_;
    std::atomic<bool> claimed_{false};
  };

  UnaryReactor() : finisher_(std::make_shared<Finisher>(this)) {}

  std::shared_ptr<Finisher> finisher() const { return finisher_; }

  // Finishes now unless something else already claimed the call.
  void finishNow(grpc::Status status) {
    if (finisher_->claim()) finisher_->finish(std::move(status));
  }

  void OnCancel() override { finishNow(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<Finisher> finisher_;
};

}  // namespace kafka::sidecar
