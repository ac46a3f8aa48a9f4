// ProducerService: kafka.sidecar.v1.Producer over the callback API. Records are handed to the
// ProducerPool's producers as views into the request messages, and every DeliveryReport becomes
// a result (Produce) or an ack (ProduceStream).
//
// - Produce answers once every record has an outcome. The request must outlive the producer's
//   hold on it, so even a cancelled call finishes only once send() has completed (every record
//   buffered or reported).
// - ProduceStream reads a message, sends its records, and reads the next only when send() has
//   completed: gRPC flow control then holds a fast application back (the producer's
//   buffer.memory is the bound). Acks are queued and written one response at a time, coalesced.
//   A message that changes the cluster or the settings, and a daemon that drains, end the stream
//   once the acks of the records already sent are written; a cancel ends it at once.
//
// With bearer tokens, a call without a known token fails UNAUTHENTICATED (a stream at once), and
// a request (or stream message) with a record for a topic its token may not produce to fails
// PERMISSION_DENIED as a whole: none of its records is sent, and a stream ends once the acks of
// the messages before it are written.
//
// Every record's outcome is counted in the Metrics (records, bytes or errors of its topic, and the
// latency from the request's arrival).
//
// Owned by the Daemon, which keeps the ClusterRegistry, the ProducerPool and the Metrics alive for
// as long as the gRPC server runs. Methods run on gRPC's threads; delivery reports and send()
// completions run on the producers' strands. Per-call state is shared between the two under a
// mutex, and outlives the reactor: reports that arrive after the call ended touch only that state.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/producer/producer.hpp"
#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "server/auth.hpp"
#include "server/metrics.hpp"
#include "server/producer_pool.hpp"

namespace kafka::sidecar {

class ProduceStreamCall;

class ProducerService final : public v1::Producer::CallbackService {
 public:
  ProducerService(const ClusterRegistry& clusters, ProducerPool& producers, Metrics& metrics,
                  const Authorizer& authorizer)
      : clusters_(clusters), producers_(producers), metrics_(metrics), authorizer_(authorizer) {}

  grpc::ServerUnaryReactor* Produce(grpc::CallbackServerContext* context,
                                    const v1::ProduceRequest* request,
                                    v1::ProduceResponse* response) override;

  grpc::ServerBidiReactor<v1::ProduceStreamRequest, v1::ProduceStreamResponse>* ProduceStream(
      grpc::CallbackServerContext* context) override;

  // From now on new calls fail with UNAVAILABLE, and open streams stop reading, write the acks
  // of the records they sent, and end with UNAVAILABLE. Any thread; idempotent.
  void drain();

 private:
  friend class ProduceStreamCall;

  // Looks up the cluster and a producer for `settings`; a status naming the fault when there is
  // none (NOT_FOUND, INVALID_ARGUMENT, UNAVAILABLE).
  struct Target {
    std::shared_ptr<Cluster> cluster;
    std::shared_ptr<producer::Producer> producer;
  };
  grpc::Status resolve(std::string_view cluster_name, const v1::ProducerSettings& settings,
                       Target& out);

  // False when draining: the stream must end at once.
  bool registerStream(const std::shared_ptr<ProduceStreamCall>& stream);
  void unregisterStream(const std::shared_ptr<ProduceStreamCall>& stream);

  const ClusterRegistry& clusters_;
  ProducerPool& producers_;
  Metrics& metrics_;
  const Authorizer& authorizer_;

  std::mutex mutex_;  // guards the members below
  bool draining_ = false;
  std::set<std::shared_ptr<ProduceStreamCall>> streams_;
};

// The records of one request (or stream message) as the producer takes them: views into the
// request, and header storage that the records' spans point into. Records that cannot be sent
// are listed in `rejected` instead.
struct ConvertedRecords {
  std::vector<producer::OutgoingRecord> records;
  std::vector<uint32_t> positions;  // the request index of each of `records`
  std::vector<record::Header> headers;
  struct Rejection {
    uint32_t position;
    std::string topic;
    Error error;
  };
  std::vector<Rejection> rejected;
};

// Fills `out` (cleared first) from `records`; `default_topic` applies to records naming none.
// `out` and `records` must outlive the producer's hold on the views.
void convertRecords(const google::protobuf::RepeatedPtrField<v1::ProduceRecord>& records,
                    std::string_view default_topic, ConvertedRecords& out);

// OK when `caller` may produce to the topic of every record (`default_topic` for those naming
// none), else PERMISSION_DENIED naming the first topic it may not.
grpc::Status mayProduce(const Caller& caller,
                        const google::protobuf::RepeatedPtrField<v1::ProduceRecord>& records,
                        std::string_view default_topic);

// The settings' overrides, or an INVALID_ARGUMENT status naming the field with an unknown value.
grpc::Status overridesOf(const v1::ProducerSettings& settings, ProducerOverrides& out);

}  // namespace kafka::sidecar
