// EncodedRecord: a consumed record serialized once, as one `records` entry of a PartitionRecords
// message (its tag and length included), in a reference-counted gRPC slice. The consumer session
// keeps it for redelivery while it is unacked, and every response that carries it shares the
// same bytes: a record is neither copied into protobuf objects nor serialized again.
//
// Plain data and free functions, no executor.
#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <cstdint>
#include <span>

#include "client_core/cluster/metadata.hpp"
#include "client_core/record/record_batch.hpp"
#include "kafka/sidecar/v1/consumer.pb.h"

namespace kafka::sidecar {

struct EncodedRecord {
  int64_t offset = 0;
  uint32_t payload_bytes = 0;  // of the key and the value: what byte limits count
  grpc::Slice bytes;
};

// `record` serialized as a v1::ConsumedRecord, straight from the fetched bytes and byte for byte
// as protobuf would write it.
EncodedRecord encodeRecord(const record::RecordBatch& batch, const record::Record& record);

// A SubscribeResponse carrying `records` of `partition`, made of their slices and one for what
// goes before them.
grpc::ByteBuffer recordsResponse(const TopicPartition& partition,
                                 std::span<const EncodedRecord> records);

// Appends `record` to `out`, parsed back (for Poll, whose response is a protobuf object).
void appendDecoded(const EncodedRecord& record, v1::PartitionRecords& out);

}  // namespace kafka::sidecar
