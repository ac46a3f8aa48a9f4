// The application side of a Consumer.Subscribe benchmark run, shared by the sidecar and
// grpc_only clients: a synchronous gRPC client that opens a session (its own group, so that it
// starts from the beginning) with an `assignment` of every partition, manual acks, and room for
// 100,000 unacked records, so that flow control seldom holds the server back. It acks in
// batches: one ack message, with every offset, per PartitionRecords message received. The run
// ends at the last record; the session is then closed (committing what was acked), untimed.
#pragma once

#include "bench/bench_support.hpp"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"

namespace kafka::bench {

// Reads spec's topic through `stub` and tallies what arrives. Called from the benchmark's main
// thread.
RunResult readSubscription(sidecar::v1::Consumer::Stub& stub, const ConsumeSpec& spec);

}  // namespace kafka::bench
