// RecordBatchBuilder: encodes records into one RecordBatch v2, the unit of a Produce request.
//
// Records are encoded as they are appended, straight into a buffer the builder keeps from batch
// to batch: sizes are computed first, so every varint is written in place and nothing is
// allocated per record once the buffer has grown. build() compresses the records once, writes
// the header and the CRC-32C, and hands out the batch; the builder is then empty and ready for
// the next one. When compression would not make the records smaller they are sent uncompressed
// (as librdkafka does), and the attributes say so.
//
// Owned by one producer state machine and used on its strand; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "client_core/protocol/codec.hpp"
#include "client_core/protocol/result.hpp"
#include "client_core/record/compression.hpp"
#include "client_core/record/record_batch.hpp"

namespace kafka::record {

struct RecordBatchOptions {
  Compression compression = Compression::kNone;
  std::optional<int> compression_level = std::nullopt;  // the codec's default
  // Idempotent and transactional producers set these; plain producers leave the "none" values.
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = kNoProducerEpoch;
  int32_t base_sequence = kNoSequence;
  bool transactional = false;
  // The broker assigns both; producers send these.
  int32_t partition_leader_epoch = kNoPartitionLeaderEpoch;
  int64_t base_offset = 0;
};

class RecordBatchBuilder {
 public:
  // `initial_capacity`: the bytes of records expected per batch (e.g. the producer's batch size),
  // so that the buffer rarely needs to grow.
  explicit RecordBatchBuilder(RecordBatchOptions options = {}, size_t initial_capacity = 16384);

  // Encodes one record. The first record's timestamp becomes the batch's base timestamp; the
  // others are stored relative to it. Fails (kInvalidArgument, nothing appended) when a field or
  // the batch would exceed what the format's int32 sizes can describe.
  Result<void> append(int64_t timestamp_ms, std::optional<protocol::ByteView> key,
                      std::optional<protocol::ByteView> value,
                      std::span<const Header> headers = {});

  // Producer state is often known only when the batch is about to be sent.
  void setProducerState(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);

  // Encodes the batch and empties the builder (options and buffer are kept). Fails
  // (kInvalidArgument) when nothing was appended or the codec fails.
  Result<protocol::Bytes> build();

  int32_t recordCount() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The size of the batch if it were built uncompressed now.
  size_t uncompressedSize() const { return kBatchHeaderSize + size_; }
  const RecordBatchOptions& options() const { return options_; }

  // An upper bound of the bytes append() adds for such a record, whatever its timestamp and
  // position: lets a caller keep batches under a size limit before appending.
  static size_t maxRecordSize(size_t key_size, size_t value_size,
                              std::span<const Header> headers = {});

 private:
  uint8_t* reserve(size_t n);

  RecordBatchOptions options_;
  protocol::Bytes buffer_;  // encoded records in [0, size_); the rest is spare capacity
  size_t size_ = 0;
  int32_t count_ = 0;
  int64_t base_timestamp_ = kNoTimestamp;
  int64_t max_timestamp_ = kNoTimestamp;
};

// Rewrites the producer id, epoch and base sequence of a batch build() made, and its CRC: a
// batch keeps its records when an idempotent producer renumbers it after an epoch bump.
void restampProducerState(protocol::Bytes& batch, int64_t producer_id, int16_t producer_epoch,
                          int32_t base_sequence);

}  // namespace kafka::record
