// Kafka's on-the-wire record formats, and the decoded form of a record batch.
//
// RecordBatch v2 (magic 2), in the order of its fields:
//   baseOffset int64 | batchLength int32 (bytes after this field) | partitionLeaderEpoch int32 |
//   magic int8 | crc uint32 (CRC-32C of everything after it) | attributes int16 |
//   lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 | producerId int64 |
//   producerEpoch int16 | baseSequence int32 | recordCount int32 | records (compressed as one
//   block when the codec bits say so)
// Each record: length varint (of what follows) | attributes int8 | timestampDelta varlong |
//   offsetDelta varint | key (varint length, -1 = null) | value (likewise) | header count varint |
//   headers (key: varint length and bytes; value: varint length, -1 = null, and bytes).
// Legacy message sets (magic 0 and 1) are read too; see record_batch_reader.hpp.
//
// A decoded RecordBatch holds views: keys, values and headers point into the bytes the batch was
// decoded from, or into its decompressed records, and `storage` keeps those alive when the reader
// was given an owner. Plain data, move-only (records hold spans into `headers`); no executor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "client_core/protocol/codec.hpp"
#include "client_core/record/compression.hpp"

namespace kafka::record {

inline constexpr int8_t kMagicV2 = 2;
// baseOffset and batchLength: the part of a batch (or legacy message) its length does not count.
inline constexpr size_t kLogOverhead = 12;
// Everything of a v2 batch before its records.
inline constexpr size_t kBatchHeaderSize = 61;
// Where the v2 CRC is stored, and where the bytes it covers begin.
inline constexpr size_t kCrcOffset = 17;
inline constexpr size_t kAttributesOffset = 21;

// Batch attribute bits (v2). Legacy messages use the low four with the same meaning.
inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kLogAppendTimeFlag = 0x08;
inline constexpr int16_t kTransactionalFlag = 0x10;
inline constexpr int16_t kControlFlag = 0x20;
// baseTimestamp holds the time after which the log cleaner may drop the batch's tombstones and
// transaction markers; record timestamps stay relative to it.
inline constexpr int16_t kDeleteHorizonFlag = 0x40;

inline constexpr int64_t kNoTimestamp = -1;
inline constexpr int64_t kNoProducerId = -1;
inline constexpr int16_t kNoProducerEpoch = -1;
inline constexpr int32_t kNoSequence = -1;
inline constexpr int32_t kNoPartitionLeaderEpoch = -1;

enum class TimestampType : int8_t { kNone = -1, kCreateTime = 0, kLogAppendTime = 1 };

// A record header. Keys are never null; values may be.
struct Header {
  std::string_view key;
  std::optional<protocol::ByteView> value;
};

struct Record {
  int64_t offset = 0;                // absolute: the batch's base offset plus the record's delta
  int64_t timestamp = kNoTimestamp;  // the batch's maxTimestamp for LogAppendTime batches
  std::optional<protocol::ByteView> key;
  std::optional<protocol::ByteView> value;
  std::span<const Header> headers;  // into RecordBatch::headers
};

struct RecordBatch {
  RecordBatch() = default;
  RecordBatch(RecordBatch&&) = default;
  RecordBatch& operator=(RecordBatch&&) = default;
  RecordBatch(const RecordBatch&) = delete;
  RecordBatch& operator=(const RecordBatch&) = delete;

  // Header fields as on the wire. For a legacy message (magic 0 or 1) the attributes, crc and
  // magic are the (wrapper) message's, maxTimestamp is its timestamp, and the producer fields
  // hold their "none" values.
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = kNoPartitionLeaderEpoch;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = kNoTimestamp;
  int64_t max_timestamp = kNoTimestamp;
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = kNoProducerEpoch;
  int32_t base_sequence = kNoSequence;
  int32_t record_count = 0;
  size_t size_in_bytes = 0;  // on the wire, including baseOffset and batchLength

  std::vector<Record> records;
  std::vector<Header> headers;
  std::shared_ptr<const void> storage;

  Compression compression() const {
    return static_cast<Compression>(attributes & kCompressionMask);
  }
  TimestampType timestampType() const {
    if (magic == 0) return TimestampType::kNone;
    return (attributes & kLogAppendTimeFlag) ? TimestampType::kLogAppendTime
                                             : TimestampType::kCreateTime;
  }
  // The flags below exist in v2 only; legacy messages leave those bits unused.
  bool isTransactional() const { return magic >= kMagicV2 && (attributes & kTransactionalFlag); }
  // Transaction markers (commit/abort): not application records.
  bool isControl() const { return magic >= kMagicV2 && (attributes & kControlFlag); }
  bool hasDeleteHorizon() const { return magic >= kMagicV2 && (attributes & kDeleteHorizonFlag); }
  // Computed modulo 2^64, as the fields come from the network.
  int64_t lastOffset() const {
    return static_cast<int64_t>(static_cast<uint64_t>(base_offset) +
                                static_cast<uint64_t>(int64_t{last_offset_delta}));
  }
  // The offset after this batch: where the next fetch continues.
  int64_t nextOffset() const {
    return static_cast<int64_t>(static_cast<uint64_t>(lastOffset()) + 1);
  }
};

}  // namespace kafka::record
