// Settings of one producer. Names follow Kafka's producer configuration where they mean the same
// thing (batch.size, linger.ms, buffer.memory, ...); defaults follow librdkafka and Java's client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "client_core/record/compression.hpp"

namespace kafka::producer {

// How many replicas must have a batch before the broker answers (Kafka's `acks`).
enum class Acks : int16_t {
  kNone = 0,     // the broker does not answer: records are reported delivered once written
  kLeader = 1,   // the leader appended the batch
  kAll = -1,     // every in-sync replica has the batch
};

struct ProducerConfig {
  Acks acks = Acks::kAll;
  record::Compression compression = record::Compression::kNone;
  std::optional<int> compression_level;  // the codec's default when unset
  // enable.idempotence: a producer id and per-partition sequence numbers let the broker drop
  // retried duplicates. Kafka allows it with acks=all only; with other acks it is off.
  bool idempotence = true;
  // batch.size: a partition's batch is sent once its records reach this many bytes.
  size_t batch_size = 1'000'000;
  // linger.ms: how long a batch that is not full waits for more records.
  std::chrono::milliseconds linger{5};
  // buffer.memory: bytes of records held by the producer, from send() until their delivery is
  // reported. A send() that would exceed it waits (its completion is the backpressure).
  size_t buffer_memory = 64 * 1024 * 1024;
  // max.request.size: bytes of batches in one Produce request, and so the largest record.
  size_t max_request_size = 1024 * 1024;
  // max.in.flight.requests.per.connection: Produce requests awaiting an answer, per broker.
  // Each partition has at most one batch in flight, so order holds even without idempotence.
  size_t max_in_flight = 5;
  // delivery.timeout.ms: from send() to a reported outcome, retries included.
  std::chrono::milliseconds delivery_timeout{120'000};
  // request.timeout.ms: how long the broker may take to gather acks (the request's timeout_ms).
  std::chrono::milliseconds request_timeout{30'000};
  // retry.backoff.ms and retry.backoff.max.ms: the jittered, growing wait before a retry.
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{1'000};

  bool idempotent() const { return idempotence && acks == Acks::kAll; }
};

}  // namespace kafka::producer
