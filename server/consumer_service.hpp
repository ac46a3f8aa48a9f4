// ConsumerService: kafka.sidecar.v1.Consumer over the callback API, on top of the
// ConsumerSessions registry.
//
// - Subscribe: the first message opens or attaches to a session; from then on the call is an
//   outlet of the session, living on the session's strand: its requests are handled there one
//   at a time (the next read starts once one is handled), and records and events are queued
//   there and written one response at a time; while a write is in flight, the records queued for
//   a partition are coalesced into one response of up to about 1 MiB. A cancel finishes the call at once; every other end
//   finishes it once the write in flight is done. The method is served on raw byte buffers, so
//   that a response of records is made of the records' encoded slices (server/encoded_record)
//   rather than of protobuf objects copied from them.
// - Open, Poll, Ack, Commit, Seek and Close look the session up by id and post their work to
//   its strand; the answer comes back through the UnaryReactor's Finisher.
//
// With bearer tokens, every call authenticates first (UNAUTHENTICATED ends it at once); opening
// checks the token's rights and sessions belong to the token that opened them (see
// ConsumerSessions).
//
// Owned by the Daemon, which keeps the ConsumerSessions alive for as long as the gRPC server
// runs. Methods run on gRPC's threads; each call's state lives on its session's strand.
#pragma once

#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "server/auth.hpp"
#include "server/consumer_sessions.hpp"

namespace kafka::sidecar {

using ConsumerServiceBase = v1::Consumer::WithRawCallbackMethod_Subscribe<
    v1::Consumer::WithCallbackMethod_Open<v1::Consumer::WithCallbackMethod_Poll<
        v1::Consumer::WithCallbackMethod_Ack<v1::Consumer::WithCallbackMethod_Commit<
            v1::Consumer::WithCallbackMethod_Seek<v1::Consumer::WithCallbackMethod_Close<
                v1::Consumer::Service>>>>>>>;

class ConsumerService final : public ConsumerServiceBase {
 public:
  ConsumerService(ConsumerSessions& sessions, const Authorizer& authorizer)
      : sessions_(sessions), authorizer_(authorizer) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Subscribe(
      grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* Open(grpc::CallbackServerContext* context,
                                 const v1::OpenRequest* request,
                                 v1::OpenResponse* response) override;
  grpc::ServerUnaryReactor* Poll(grpc::CallbackServerContext* context,
                                 const v1::PollRequest* request,
                                 v1::PollResponse* response) override;
  grpc::ServerUnaryReactor* Ack(grpc::CallbackServerContext* context, const v1::AckRequest* request,
                                v1::AckResponse* response) override;
  grpc::ServerUnaryReactor* Commit(grpc::CallbackServerContext* context,
                                   const v1::CommitRequest* request,
                                   v1::CommitResponse* response) override;
  grpc::ServerUnaryReactor* Seek(grpc::CallbackServerContext* context,
                                 const v1::SeekRequest* request,
                                 v1::SeekResponse* response) override;
  grpc::ServerUnaryReactor* Close(grpc::CallbackServerContext* context,
                                  const v1::CloseRequest* request,
                                  v1::CloseResponse* response) override;

  // Poll's limits.
  static constexpr uint32_t kDefaultPollRecords = 500;
  static constexpr uint32_t kDefaultPollBytes = 1024 * 1024;
  static constexpr std::chrono::milliseconds kDefaultPollTimeout{1'000};
  static constexpr std::chrono::milliseconds kMaxPollTimeout{60'000};

 private:
  ConsumerSessions& sessions_;
  const Authorizer& authorizer_;
};

}  // namespace kafka::sidecar
