// Legacy message sets (magic 0 and 1), read for data written before RecordBatch v2:
//   offset int64 | size int32 (bytes after this field) | crc uint32 (CRC-32 of what follows it) |
//   magic int8 | attributes int8 | timestamp int64 (magic 1 only) | key int32-length bytes |
//   value int32-length bytes (lengths of -1 mean null)
// A compressed message is a wrapper whose value holds a whole message set of uncompressed inner
// messages. With magic 1 the inner offsets are relative (0, 1, ...) and the wrapper carries the
// absolute offset of the last one; with magic 0 they are absolute. A magic-1 wrapper with
// log-append time gives its timestamp to every inner message.
#include <zlib.h>

#include <limits>
#include <string>
#include <vector>

#include "client_core/record/decoding.hpp"

namespace kafka::record::detail {
namespace {

using protocol::Bytes;
using protocol::ByteView;

// crc, magic, attributes, and the two lengths of a magic-0 message.
constexpr int32_t kMinMessageSize = 14;

struct LegacyMessage {
  int64_t offset = 0;
  uint32_t crc = 0;
  int8_t magic = 0;
  int8_t attributes = 0;
  int64_t timestamp = kNoTimestamp;
  std::optional<ByteView> key;
  std::optional<ByteView> value;
};

bool readBytes(Cursor& c, std::optional<ByteView>& out, const char* what, std::string& error) {
  int32_t length = 0;
  if (!c.fixed(length)) {
    error = std::string("truncated ") + what + " length";
    return false;
  }
  return c.takeNullable(length, out, what, error);
}

// Reads one message (offset, size and body) from `c`. On failure `error` says what was wrong and
// `corrupt` whether it was the CRC.
bool readMessage(Cursor& c, bool verify_crc, LegacyMessage& m, std::string& error, bool& corrupt) {
  int32_t size = 0;
  ByteView body;
  if (!c.fixed(m.offset) || !c.fixed(size)) {
    error = "truncated message header";
    return false;
  }
  if (size < kMinMessageSize) {
    error = "message size " + std::to_string(size) + " is too small";
    return false;
  }
  if (!c.take(static_cast<size_t>(size), body)) {
    error = "message size " + std::to_string(size) + " exceeds the " +
            std::to_string(c.remaining()) + " bytes that remain";
    return false;
  }
  Cursor fields(body);
  fields.fixed(m.crc);
  fields.fixed(m.magic);
  fields.fixed(m.attributes);
  if (m.magic != 0 && m.magic != 1) {
    error = "unknown magic " + std::to_string(m.magic);
    return false;
  }
  if (verify_crc) {
    const ByteView covered = body.subspan(4);
    const auto computed =
        static_cast<uint32_t>(crc32(0, covered.data(), static_cast<uInt>(covered.size())));
    if (computed != m.crc) {
      error = "CRC mismatch (stored " + hex32(m.crc) + ", computed " + hex32(computed) + ")";
      corrupt = true;
      return false;
    }
  }
  m.timestamp = kNoTimestamp;
  if (m.magic == 1 && !fields.fixed(m.timestamp)) {
    error = "truncated timestamp";
    return false;
  }
  if (!readBytes(fields, m.key, "key", error) || !readBytes(fields, m.value, "value", error)) {
    return false;
  }
  if (fields.remaining() != 0) {
    error = "message size " + std::to_string(size) + " leaves " +
            std::to_string(fields.remaining()) + " bytes unread";
    return false;
  }
  return true;
}

Record toRecord(int64_t offset, int64_t timestamp, const LegacyMessage& m) {
  Record r;
  r.offset = offset;
  r.timestamp = timestamp;
  r.key = m.key;
  r.value = m.value;
  return r;
}

void setBatchHeader(const LegacyMessage& wrapper, size_t size, RecordBatch& batch) {
  batch.partition_leader_epoch = kNoPartitionLeaderEpoch;
  batch.magic = wrapper.magic;
  batch.crc = wrapper.crc;
  batch.attributes = static_cast<uint8_t>(wrapper.attributes);
  batch.max_timestamp = wrapper.timestamp;
  batch.producer_id = kNoProducerId;
  batch.producer_epoch = kNoProducerEpoch;
  batch.base_sequence = kNoSequence;
  batch.size_in_bytes = size;
}

}  // namespace

Result<void> decodeLegacyMessage(ByteView bytes, const DecodeOptions& options,
                                 const std::shared_ptr<const void>& owner, RecordBatch& batch) {
  batch.records.clear();
  batch.headers.clear();
  batch.storage.reset();
  Cursor c(bytes);
  LegacyMessage wrapper;
  std::string error;
  bool corrupt = false;
  if (!readMessage(c, options.verify_crc, wrapper, error, corrupt)) {
    int64_t offset = 0;
    Cursor(bytes).fixed(offset);
    return batchError(corrupt ? ErrorCode::kCorruptMessage : ErrorCode::kMalformedMessage, offset,
                      error);
  }
  setBatchHeader(wrapper, bytes.size(), batch);
  batch.base_offset = wrapper.offset;
  const auto codec = static_cast<Compression>(wrapper.attributes & kCompressionMask);
  if (codec == Compression::kNone) {
    batch.records.push_back(toRecord(wrapper.offset, wrapper.timestamp, wrapper));
    batch.last_offset_delta = 0;
    batch.record_count = 1;
    batch.base_timestamp = wrapper.timestamp;
    batch.storage = owner;
    return {};
  }

  const auto fail = [&](ErrorCode code, const std::string& what) {
    return batchError(code, wrapper.offset, what);
  };
  // zstd came with RecordBatch v2; ids above it are unknown.
  if (codec > Compression::kLz4) {
    return fail(ErrorCode::kCorruptMessage,
                "compression codec " + std::to_string(static_cast<int>(codec)) +
                    " is not valid for magic " + std::to_string(wrapper.magic));
  }
  if (!wrapper.value) return fail(ErrorCode::kMalformedMessage, "compressed message has no value");
  auto buffer = std::make_shared<Bytes>();
  auto done = decompress(
      codec, *wrapper.value, *buffer, options.max_decompressed_bytes,
      wrapper.magic == 0 ? Lz4HeaderChecksum::kLegacyMagicV0 : Lz4HeaderChecksum::kStandard);
  if (!done.ok()) return fail(done.error().code, done.error().message);

  const bool log_append_time = wrapper.magic == 1 && (wrapper.attributes & kLogAppendTimeFlag);
  Cursor inner_cursor{ByteView(*buffer)};
  std::vector<LegacyMessage> inner;
  while (inner_cursor.remaining() > 0) {
    LegacyMessage m;
    bool inner_corrupt = false;
    if (!readMessage(inner_cursor, options.verify_crc, m, error, inner_corrupt)) {
      return fail(inner_corrupt ? ErrorCode::kCorruptMessage : ErrorCode::kMalformedMessage,
                  "inner message " + std::to_string(inner.size()) + ": " + error);
    }
    if ((m.attributes & kCompressionMask) != 0) {
      return fail(ErrorCode::kMalformedMessage,
                  "inner message " + std::to_string(inner.size()) + " is compressed too");
    }
    inner.push_back(m);
  }
  if (inner.empty()) return fail(ErrorCode::kMalformedMessage, "compressed message set is empty");
  if (inner.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return fail(ErrorCode::kMalformedMessage, "too many inner messages");
  }

  // With magic 1 the wrapper's offset is the last inner message's; the others follow from the
  // relative offsets.
  const int64_t base =
      wrapper.magic == 0 ? 0 : wrappingDifference(wrapper.offset, inner.back().offset);
  batch.records.reserve(inner.size());
  for (const LegacyMessage& m : inner) {
    const int64_t timestamp =
        m.magic == 0 ? kNoTimestamp : (log_append_time ? wrapper.timestamp : m.timestamp);
    batch.records.push_back(toRecord(wrappingSum(base, m.offset), timestamp, m));
  }
  const int64_t span =
      wrappingDifference(batch.records.back().offset, batch.records.front().offset);
  if (span < 0 || span > std::numeric_limits<int32_t>::max()) {
    return fail(ErrorCode::kMalformedMessage,
                "inner offsets run from " + std::to_string(batch.records.front().offset) + " to " +
                    std::to_string(batch.records.back().offset));
  }
  batch.base_offset = batch.records.front().offset;
  batch.last_offset_delta = static_cast<int32_t>(span);
  batch.record_count = static_cast<int32_t>(batch.records.size());
  batch.base_timestamp = batch.records.front().timestamp;
  batch.storage = std::move(buffer);
  return {};
}

}  // namespace kafka::record::detail
