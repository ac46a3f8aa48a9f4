#include "client_core/record/record_batch_reader.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include "client_core/record/crc32c.hpp"
#include "client_core/record/decoding.hpp"

namespace kafka::record {
namespace detail {
namespace {

using protocol::Bytes;
using protocol::ByteView;

// The smallest record: a length and six one-byte fields (attributes, two deltas, null key, null
// value, no headers).
constexpr size_t kMinRecordSize = 7;

// A nullable byte string: varint length (-1 for null), then the bytes.
bool readNullable(Cursor& c, std::optional<ByteView>& out, const char* what, std::string& error) {
  int32_t length = 0;
  if (!c.varint(length)) {
    error = std::string("invalid or truncated ") + what + " length";
    return false;
  }
  return c.takeNullable(length, out, what, error);
}

// Decodes one record's body (what its length prefix covers). Headers are appended to `headers`.
bool readRecordBody(Cursor& c, const RecordBatch& batch, bool log_append_time, Record& record,
                    std::vector<Header>& headers, std::string& error) {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  if (!c.fixed(attributes) || !c.varlong(timestamp_delta) || !c.varint(offset_delta)) {
    error = "invalid or truncated record fields";
    return false;
  }
  record.offset = wrappingSum(batch.base_offset, offset_delta);
  record.timestamp =
      log_append_time ? batch.max_timestamp : wrappingSum(batch.base_timestamp, timestamp_delta);
  if (!readNullable(c, record.key, "key", error)) return false;
  if (!readNullable(c, record.value, "value", error)) return false;
  int32_t header_count = 0;
  if (!c.varint(header_count)) {
    error = "invalid or truncated header count";
    return false;
  }
  // Each header takes at least two bytes (two lengths).
  if (header_count < 0 || static_cast<size_t>(header_count) > c.remaining() / 2) {
    error = "header count " + std::to_string(header_count) + " does not fit in the " +
            std::to_string(c.remaining()) + " bytes that remain";
    return false;
  }
  for (int32_t i = 0; i < header_count; ++i) {
    std::optional<ByteView> key;
    Header header;
    if (!readNullable(c, key, "header key", error)) return false;
    if (!key) {
      error = "null header key";
      return false;
    }
    if (!readNullable(c, header.value, "header value", error)) return false;
    header.key = std::string_view(reinterpret_cast<const char*>(key->data()), key->size());
    headers.push_back(header);
  }
  return true;
}

Result<void> decodeRecords(ByteView region, RecordBatch& batch) {
  const int32_t count = batch.record_count;
  if (static_cast<size_t>(count) > region.size() / kMinRecordSize) {
    return batchError(ErrorCode::kMalformedMessage, batch.base_offset,
                      std::to_string(count) + " records cannot fit in " +
                          std::to_string(region.size()) + " bytes");
  }
  const bool log_append_time = batch.timestampType() == TimestampType::kLogAppendTime;
  batch.records.resize(static_cast<size_t>(count));
  // Where each record's headers begin in batch.headers; spans are made once that vector no
  // longer moves. Batches of ordinary size reuse a per-thread vector, so that decoding allocates
  // nothing per batch in steady state; a huge one gets its own, freed on return.
  constexpr int32_t kCachedRecords = 64 * 1024;
  thread_local std::vector<size_t> cached;
  std::vector<size_t> huge;
  std::vector<size_t>& header_begin = count < kCachedRecords ? cached : huge;
  header_begin.resize(static_cast<size_t>(count) + 1);
  Cursor c(region);
  std::string error;
  for (int32_t i = 0; i < count; ++i) {
    int32_t length = 0;
    ByteView body;
    if (!c.varint(length)) {
      error = "invalid or truncated length";
    } else if (length < 0 || !c.take(static_cast<size_t>(length), body)) {
      error = "length " + std::to_string(length) + " exceeds the " + std::to_string(c.remaining()) +
              " bytes that remain";
    } else {
      header_begin[i] = batch.headers.size();
      Cursor fields(body);
      if (readRecordBody(fields, batch, log_append_time, batch.records[i], batch.headers, error) &&
          fields.remaining() != 0) {
        error = "length " + std::to_string(length) + " leaves " +
                std::to_string(fields.remaining()) + " bytes unread";
      }
    }
    if (!error.empty()) {
      return batchError(ErrorCode::kMalformedMessage, batch.base_offset,
                        "record " + std::to_string(i) + ": " + error);
    }
  }
  if (c.remaining() != 0) {
    return batchError(ErrorCode::kMalformedMessage, batch.base_offset,
                      std::to_string(c.remaining()) + " bytes after the last of " +
                          std::to_string(count) + " records");
  }
  header_begin[count] = batch.headers.size();
  for (int32_t i = 0; i < count; ++i) {
    batch.records[i].headers = std::span<const Header>(batch.headers.data() + header_begin[i],
                                                       header_begin[i + 1] - header_begin[i]);
  }
  return {};
}

}  // namespace

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

Result<void> decodeBatchV2(ByteView bytes, const DecodeOptions& options,
                           const std::shared_ptr<const void>& owner, RecordBatch& batch) {
  batch.records.clear();
  batch.headers.clear();
  batch.storage.reset();
  Cursor c(bytes);
  int32_t length = 0;
  c.fixed(batch.base_offset);
  c.fixed(length);
  if (bytes.size() < kBatchHeaderSize) {
    return batchError(ErrorCode::kMalformedMessage, batch.base_offset,
                      "batch length " + std::to_string(length) + " is shorter than its header");
  }
  c.fixed(batch.partition_leader_epoch);
  c.fixed(batch.magic);
  c.fixed(batch.crc);
  c.fixed(batch.attributes);
  c.fixed(batch.last_offset_delta);
  c.fixed(batch.base_timestamp);
  c.fixed(batch.max_timestamp);
  c.fixed(batch.producer_id);
  c.fixed(batch.producer_epoch);
  c.fixed(batch.base_sequence);
  c.fixed(batch.record_count);
  batch.size_in_bytes = bytes.size();

  if (options.verify_crc) {
    const uint32_t computed = crc32c(bytes.subspan(kAttributesOffset));
    if (computed != batch.crc) {
      return batchError(
          ErrorCode::kCorruptMessage, batch.base_offset,
          "CRC mismatch (stored " + hex32(batch.crc) + ", computed " + hex32(computed) + ")");
    }
  }
  if (batch.record_count < 0) {
    return batchError(ErrorCode::kMalformedMessage, batch.base_offset,
                      "negative record count " + std::to_string(batch.record_count));
  }
  const int codec = batch.attributes & kCompressionMask;
  if (codec > kMaxCompressionId) {
    return batchError(ErrorCode::kCorruptMessage, batch.base_offset,
                      "unknown compression codec " + std::to_string(codec));
  }
  ByteView region = bytes.subspan(kBatchHeaderSize);
  if (batch.compression() == Compression::kNone) {
    batch.storage = owner;
  } else {
    auto buffer = std::make_shared<Bytes>();
    auto done = decompress(batch.compression(), region, *buffer, options.max_decompressed_bytes);
    if (!done.ok()) {
      return batchError(done.error().code, batch.base_offset, done.error().message);
    }
    region = ByteView(*buffer);
    batch.storage = std::move(buffer);
  }
  return decodeRecords(region, batch);
}

}  // namespace detail

RecordBatchReader::RecordBatchReader(protocol::ByteView data, DecodeOptions options,
                                     std::shared_ptr<const void> owner)
    : data_(data), options_(options), owner_(std::move(owner)) {}

RecordBatchReader::RecordBatchReader(const protocol::Records& records, DecodeOptions options)
    : RecordBatchReader(records.data, options, records.owner) {}

Result<bool> RecordBatchReader::next(RecordBatch& batch) {
  if (failed_) {
    return Error{ErrorCode::kMalformedMessage, "record batch reader: an earlier batch failed"};
  }
  const size_t remaining = data_.size() - pos_;
  if (remaining == 0) return false;
  // The smallest entry: a legacy v0 message with null key and value.
  constexpr size_t kMinEntrySize = kLogOverhead + 14;
  // The magic byte sits at the same place in every format.
  constexpr size_t kMagicOffset = 16;
  detail::Cursor c(data_.subspan(pos_));
  int64_t base_offset = 0;
  int32_t length = 0;
  if (!c.fixed(base_offset) || !c.fixed(length)) {
    partial_bytes_ = remaining;
    return false;
  }
  if (length < static_cast<int32_t>(kMinEntrySize - kLogOverhead)) {
    failed_ = true;
    return detail::batchError(ErrorCode::kMalformedMessage, base_offset,
                              "batch length " + std::to_string(length) + " is too small");
  }
  const size_t total = kLogOverhead + static_cast<size_t>(length);
  if (remaining < total) {
    partial_bytes_ = remaining;
    partial_size_ = total;
    return false;
  }
  const protocol::ByteView bytes = data_.subspan(pos_, total);
  const int8_t magic = static_cast<int8_t>(bytes[kMagicOffset]);
  Result<void> decoded;
  if (magic == kMagicV2) {
    decoded = detail::decodeBatchV2(bytes, options_, owner_, batch);
  } else if (magic == 0 || magic == 1) {
    decoded = detail::decodeLegacyMessage(bytes, options_, owner_, batch);
  } else {
    decoded = detail::batchError(ErrorCode::kCorruptMessage, base_offset,
                                 "unknown magic " + std::to_string(magic));
  }
  if (!decoded.ok()) {
    failed_ = true;
    return decoded.error();
  }
  pos_ += total;
  return true;
}

}  // namespace kafka::record
