#include "bench/subscribe_reader.hpp"

#include <grpcpp/client_context.h>

#include <chrono>
#include <string>

namespace kafka::bench {
namespace {

namespace v1 = sidecar::v1;

constexpr uint32_t kMaxUnacked = 100'000;
// Nothing is committed during a run: only the close commits.
constexpr uint32_t kAutoCommitIntervalMs = 600'000;

v1::SessionSpec sessionSpec(const ConsumeSpec& spec) {
  v1::SessionSpec session;
  session.set_group(spec.group);
  v1::TopicPartitions* assignment = session.add_assignment();
  assignment->set_topic(spec.topic);
  for (int p = 0; p < spec.partitions; ++p) assignment->add_partitions(p);
  session.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
  session.set_ack_mode(v1::ACK_MODE_MANUAL);
  session.set_max_unacked_records(kMaxUnacked);
  session.set_auto_commit_interval_ms(kAutoCommitIntervalMs);
  return session;
}

}  // namespace

RunResult readSubscription(v1::Consumer::Stub& stub, const ConsumeSpec& spec) {
  ConsumeTally tally(spec.workload.records, spec.partitions);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRunTimeout);
  const auto start = Clock::now();
  auto call = stub.Subscribe(&context);
  v1::SubscribeRequest request;
  *request.mutable_open() = sessionSpec(spec);
  bool broken = !call->Write(request);

  v1::SubscribeResponse response;
  while (!broken && !tally.complete() && call->Read(&response)) {
    if (response.has_records()) {
      const v1::PartitionRecords& records = response.records();
      // The ack request keeps its PartitionOffsets object, and its array, from one to the next.
      v1::PartitionOffsets* ack = request.mutable_ack()->partitions_size() > 0
                                      ? request.mutable_ack()->mutable_partitions(0)
                                      : request.mutable_ack()->add_partitions();
      ack->set_topic(records.topic());
      ack->set_partition(records.partition());
      ack->clear_offsets();
      for (const v1::ConsumedRecord& record : records.records()) {
        tally.received(records.partition(), record.offset());
        ack->add_offsets(record.offset());
      }
      broken = !call->Write(request);
    } else if (response.has_event() && response.event().has_error()) {
      tally.failed("error event: " + response.event().error().error().message());
      broken = true;
    }
  }

  v1::SubscribeRequest close;
  close.set_close(true);
  if (call->Write(close)) call->WritesDone();
  while (call->Read(&response)) {
  }
  grpc::Status status = call->Finish();
  if (!tally.complete() && !status.ok()) {
    tally.failed("Subscribe ended with status " + std::to_string(status.error_code()) + ": " +
                 status.error_message());
  }
  return tally.result(start, false);
}

}  // namespace kafka::bench
