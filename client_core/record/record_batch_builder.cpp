#include "client_core/record/record_batch_builder.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "client_core/record/crc32c.hpp"

namespace kafka::record {
namespace {

using protocol::Bytes;
using protocol::ByteView;

constexpr size_t kMaxInt32 = static_cast<size_t>(std::numeric_limits<int32_t>::max());

inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

inline size_t varintSize(uint64_t zigzagged) {
  return (static_cast<size_t>(std::bit_width(zigzagged | 1)) + 6) / 7;
}

inline uint8_t* putVarint(uint8_t* p, uint64_t zigzagged) {
  while (zigzagged >= 0x80) {
    *p++ = static_cast<uint8_t>(zigzagged | 0x80);
    zigzagged >>= 7;
  }
  *p++ = static_cast<uint8_t>(zigzagged);
  return p;
}

// A nullable byte string: varint length (-1 for null), then the bytes.
inline size_t nullableSize(const std::optional<ByteView>& b) {
  return b ? varintSize(zigzag(static_cast<int64_t>(b->size()))) + b->size() : 1;
}

inline uint8_t* putNullable(uint8_t* p, const std::optional<ByteView>& b) {
  if (!b) return putVarint(p, zigzag(-1));
  p = putVarint(p, zigzag(static_cast<int64_t>(b->size())));
  if (!b->empty()) std::memcpy(p, b->data(), b->size());
  return p + b->size();
}

inline uint8_t* putBigEndian(uint8_t* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<uint8_t>(v >> (8 * i));
  return p;
}

// Differences are taken modulo 2^64, as the reader adds them back.
inline int64_t wrappingDifference(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

Error tooLarge(const std::string& what) {
  return Error{ErrorCode::kInvalidArgument, "record batch: " + what};
}

}  // namespace

RecordBatchBuilder::RecordBatchBuilder(RecordBatchOptions options, size_t initial_capacity)
    : options_(options) {
  buffer_.resize(std::max<size_t>(initial_capacity, 256));
}

uint8_t* RecordBatchBuilder::reserve(size_t n) {
  if (buffer_.size() - size_ < n) buffer_.resize(std::max(buffer_.size() * 2, size_ + n));
  return buffer_.data() + size_;
}

Result<void> RecordBatchBuilder::append(int64_t timestamp_ms, std::optional<ByteView> key,
                                        std::optional<ByteView> value,
                                        std::span<const Header> headers) {
  if (count_ == std::numeric_limits<int32_t>::max()) return tooLarge("too many records");
  const int64_t base = count_ == 0 ? timestamp_ms : base_timestamp_;
  const uint64_t timestamp_delta = zigzag(wrappingDifference(timestamp_ms, base));
  const uint64_t offset_delta = zigzag(count_);

  size_t headers_size = 0;
  for (const Header& h : headers) {
    headers_size += varintSize(zigzag(static_cast<int64_t>(h.key.size()))) + h.key.size() +
                    nullableSize(h.value);
  }
  const size_t body = 1 + varintSize(timestamp_delta) + varintSize(offset_delta) +
                      nullableSize(key) + nullableSize(value) +
                      varintSize(zigzag(static_cast<int64_t>(headers.size()))) + headers_size;
  // Every length inside is at most `body`, so this one check covers them all.
  if (body > kMaxInt32 || kBatchHeaderSize + size_ + body + 5 > kMaxInt32) {
    return tooLarge("a record of " + std::to_string(body) + " bytes does not fit");
  }
  const uint64_t length = zigzag(static_cast<int64_t>(body));

  uint8_t* p = reserve(varintSize(length) + body);
  p = putVarint(p, length);
  *p++ = 0;  // record attributes: none are defined
  p = putVarint(p, timestamp_delta);
  p = putVarint(p, offset_delta);
  p = putNullable(p, key);
  p = putNullable(p, value);
  p = putVarint(p, zigzag(static_cast<int64_t>(headers.size())));
  for (const Header& h : headers) {
    p = putNullable(p, ByteView(reinterpret_cast<const uint8_t*>(h.key.data()), h.key.size()));
    p = putNullable(p, h.value);
  }
  size_ = static_cast<size_t>(p - buffer_.data());

  if (count_ == 0) {
    base_timestamp_ = timestamp_ms;
    max_timestamp_ = timestamp_ms;
  } else {
    max_timestamp_ = std::max(max_timestamp_, timestamp_ms);
  }
  ++count_;
  return {};
}

void RecordBatchBuilder::setProducerState(int64_t producer_id, int16_t producer_epoch,
                                          int32_t base_sequence) {
  options_.producer_id = producer_id;
  options_.producer_epoch = producer_epoch;
  options_.base_sequence = base_sequence;
}

Result<Bytes> RecordBatchBuilder::build() {
  if (count_ == 0) return Error{ErrorCode::kInvalidArgument, "record batch: no records"};
  const ByteView records(buffer_.data(), size_);

  Bytes out;
  Compression codec = options_.compression;
  if (codec != Compression::kNone) {
    out.resize(kBatchHeaderSize);
    auto compressed = compress(codec, records, out, options_.compression_level);
    if (!compressed.ok()) return compressed.error();
    if (out.size() - kBatchHeaderSize >= records.size()) codec = Compression::kNone;
  }
  if (codec == Compression::kNone) {
    out.clear();
    out.reserve(kBatchHeaderSize + records.size());
    out.resize(kBatchHeaderSize);
    out.insert(out.end(), records.begin(), records.end());
  }
  if (out.size() > kMaxInt32) return tooLarge("the batch exceeds 2 GiB");

  int16_t attributes = static_cast<int16_t>(codec);
  if (options_.transactional) attributes |= kTransactionalFlag;
  uint8_t* p = out.data();
  p = putBigEndian(p, static_cast<uint64_t>(options_.base_offset), 8);
  p = putBigEndian(p, out.size() - kLogOverhead, 4);
  p = putBigEndian(p, static_cast<uint32_t>(options_.partition_leader_epoch), 4);
  *p++ = static_cast<uint8_t>(kMagicV2);
  p += 4;  // the CRC, computed last over what follows it
  p = putBigEndian(p, static_cast<uint16_t>(attributes), 2);
  p = putBigEndian(p, static_cast<uint32_t>(count_ - 1), 4);
  p = putBigEndian(p, static_cast<uint64_t>(base_timestamp_), 8);
  p = putBigEndian(p, static_cast<uint64_t>(max_timestamp_), 8);
  p = putBigEndian(p, static_cast<uint64_t>(options_.producer_id), 8);
  p = putBigEndian(p, static_cast<uint16_t>(options_.producer_epoch), 2);
  p = putBigEndian(p, static_cast<uint32_t>(options_.base_sequence), 4);
  putBigEndian(p, static_cast<uint32_t>(count_), 4);
  const uint32_t crc = crc32c(ByteView(out).subspan(kAttributesOffset));
  putBigEndian(out.data() + kCrcOffset, crc, 4);

  size_ = 0;
  count_ = 0;
  base_timestamp_ = kNoTimestamp;
  max_timestamp_ = kNoTimestamp;
  return out;
}

void restampProducerState(Bytes& batch, int64_t producer_id, int16_t producer_epoch,
                          int32_t base_sequence) {
  constexpr size_t kProducerIdOffset = 43;
  uint8_t* p = batch.data() + kProducerIdOffset;
  p = putBigEndian(p, static_cast<uint64_t>(producer_id), 8);
  p = putBigEndian(p, static_cast<uint16_t>(producer_epoch), 2);
  putBigEndian(p, static_cast<uint32_t>(base_sequence), 4);
  const uint32_t crc = crc32c(ByteView(batch).subspan(kAttributesOffset));
  putBigEndian(batch.data() + kCrcOffset, crc, 4);
}

size_t RecordBatchBuilder::maxRecordSize(size_t key_size, size_t value_size,
                                         std::span<const Header> headers) {
  // Worst cases: a 5-byte length, a 10-byte timestamp delta, a 5-byte offset delta and 5-byte
  // lengths and counts.
  size_t size = 5 + 1 + 10 + 5 + (5 + key_size) + (5 + value_size) + 5;
  for (const Header& h : headers) size += 5 + h.key.size() + 5 + (h.value ? h.value->size() : 0);
  return size;
}

}  // namespace kafka::record
