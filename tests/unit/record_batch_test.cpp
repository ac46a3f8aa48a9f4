// RecordBatch v2: the builder's bytes against the format worked out by hand, round trips through
// every codec, and the reader's handling of partial, corrupt and hostile batches.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "client_core/record/crc32c.hpp"
#include "client_core/record/record_batch_builder.hpp"
#include "client_core/record/record_batch_reader.hpp"
#include "tests/unit/wire_bytes.hpp"

namespace kafka::record {
namespace {

using protocol::Bytes;
using protocol::ByteView;
using protocol::testing::wire;

ByteView view(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string text(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
std::optional<std::string> text(const std::optional<ByteView>& b) {
  if (!b) return std::nullopt;
  return text(*b);
}

struct TestHeader {
  std::string key;
  std::optional<std::string> value;
  bool operator==(const TestHeader&) const = default;
};

struct TestRecord {
  int64_t timestamp = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<TestHeader> headers;
  bool operator==(const TestRecord&) const = default;
};

void appendTo(RecordBatchBuilder& builder, const TestRecord& r) {
  std::vector<Header> headers;
  for (const auto& h : r.headers) {
    headers.push_back(
        Header{h.key, h.value ? std::optional<ByteView>(view(*h.value)) : std::nullopt});
  }
  auto key = r.key ? std::optional<ByteView>(view(*r.key)) : std::nullopt;
  auto value = r.value ? std::optional<ByteView>(view(*r.value)) : std::nullopt;
  ASSERT_TRUE(builder.append(r.timestamp, key, value, headers).ok());
}

TestRecord fromRecord(const Record& r) {
  TestRecord out{r.timestamp, text(r.key), text(r.value), {}};
  for (const Header& h : r.headers) out.headers.push_back({std::string(h.key), text(h.value)});
  return out;
}

Bytes build(const std::vector<TestRecord>& records, RecordBatchOptions options = {}) {
  RecordBatchBuilder builder(options);
  for (const auto& r : records) appendTo(builder, r);
  auto built = builder.build();
  EXPECT_TRUE(built.ok()) << built.error().message;
  return built.ok() ? std::move(*built) : Bytes{};
}

struct Decoded {
  std::vector<RecordBatch> batches;
  std::optional<Error> error;
  bool partial = false;
  std::optional<size_t> partial_size;
};

// Decodes from a copy of `data` that the batches keep alive.
Decoded decodeAll(ByteView data, DecodeOptions options = {}) {
  Decoded out;
  auto copy = std::make_shared<const Bytes>(data.begin(), data.end());
  RecordBatchReader reader(ByteView(*copy), options, copy);
  while (true) {
    RecordBatch batch;
    auto next = reader.next(batch);
    if (!next.ok()) {
      out.error = next.error();
      break;
    }
    if (!*next) break;
    out.batches.push_back(std::move(batch));
  }
  out.partial = reader.endedWithPartialBatch();
  out.partial_size = reader.partialBatchSize();
  return out;
}

std::vector<TestRecord> recordsOf(const RecordBatch& batch) {
  std::vector<TestRecord> out;
  for (const Record& r : batch.records) out.push_back(fromRecord(r));
  return out;
}

void recomputeCrc(Bytes& batch) {
  const uint32_t crc = crc32c(ByteView(batch).subspan(kAttributesOffset));
  for (int i = 0; i < 4; ++i) batch[kCrcOffset + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
}

void setAttributes(Bytes& batch, int16_t attributes) {
  batch[kAttributesOffset] = static_cast<uint8_t>(attributes >> 8);
  batch[kAttributesOffset + 1] = static_cast<uint8_t>(attributes);
  recomputeCrc(batch);
}

std::vector<TestRecord> sampleRecords(size_t n) {
  std::vector<TestRecord> out;
  for (size_t i = 0; i < n; ++i) {
    TestRecord r;
    r.timestamp = 1700000000000 + static_cast<int64_t>(i % 7) * 1000 - 3000;  // not monotonic
    if (i % 5 != 0) r.key = "key-" + std::to_string(i);
    if (i % 11 != 3) r.value = "value " + std::to_string(i) + std::string(i % 50, 'v');
    if (i % 3 == 0) r.headers = {{"trace", "t-" + std::to_string(i)}, {"", std::nullopt}};
    if (i == 4) r.key = "";
    if (i == 8) r.value = "";
    out.push_back(r);
  }
  return out;
}

TEST(RecordBatchTest, EncodesASmallBatchExactlyAsTheFormatSays) {
  RecordBatchOptions options;
  options.producer_id = 7;
  options.producer_epoch = 1;
  options.base_sequence = 5;
  const Bytes encoded =
      build({{1000, "k", "va", {{"h", "x"}}}, {1003, std::nullopt, "v", {}}}, options);
  // Worked out from the specification; the CRC-32C of bytes 21.. computed independently.
  const Bytes expected = wire({
      {0, 0, 0, 0, 0, 0, 0, 0},        // baseOffset
      {0, 0, 0, 71},                   // batchLength: 83 - 12
      {0xff, 0xff, 0xff, 0xff},        // partitionLeaderEpoch -1
      {2},                             // magic
      {0x61, 0xcd, 0xbc, 0x6c},        // crc
      {0, 0},                          // attributes: no compression, create time
      {0, 0, 0, 1},                    // lastOffsetDelta
      {0, 0, 0, 0, 0, 0, 0x03, 0xe8},  // baseTimestamp 1000
      {0, 0, 0, 0, 0, 0, 0x03, 0xeb},  // maxTimestamp 1003
      {0, 0, 0, 0, 0, 0, 0, 7},        // producerId
      {0, 1},                          // producerEpoch
      {0, 0, 0, 5},                    // baseSequence
      {0, 0, 0, 2},                    // record count
      {0x1a, 0, 0, 0, 0x02},
      "k",
      {0x04},
      "va",
      {0x02, 0x02},
      "h",
      {0x02},
      "x",
      // length 13, attributes, timestampDelta 0, offsetDelta 0, key, value, 1 header h=x
      {0x0e, 0, 0x06, 0x02, 0x01, 0x02},
      "v",
      {0x00},
      // length 7, attributes, timestampDelta 3, offsetDelta 1, null key, value, no headers
  });
  EXPECT_EQ(encoded, expected);

  Decoded decoded = decodeAll(expected);
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  ASSERT_EQ(decoded.batches.size(), 1u);
  const RecordBatch& batch = decoded.batches[0];
  EXPECT_EQ(batch.magic, 2);
  EXPECT_EQ(batch.crc, 0x61cdbc6cu);
  EXPECT_EQ(batch.producer_id, 7);
  EXPECT_EQ(batch.producer_epoch, 1);
  EXPECT_EQ(batch.base_sequence, 5);
  EXPECT_EQ(batch.record_count, 2);
  EXPECT_EQ(batch.size_in_bytes, 83u);
  EXPECT_EQ(batch.compression(), Compression::kNone);
  EXPECT_EQ(batch.timestampType(), TimestampType::kCreateTime);
  EXPECT_FALSE(batch.isTransactional());
  EXPECT_FALSE(batch.isControl());
  EXPECT_EQ(batch.nextOffset(), 2);
  EXPECT_EQ(recordsOf(batch), (std::vector<TestRecord>{{1000, "k", "va", {{"h", "x"}}},
                                                       {1003, std::nullopt, "v", {}}}));
  EXPECT_EQ(batch.records[1].offset, 1);
  EXPECT_FALSE(decoded.partial);
}

class RecordBatchCodecTest : public ::testing::TestWithParam<Compression> {};

TEST_P(RecordBatchCodecTest, RoundTripsKeysValuesNullsHeadersAndTimestamps) {
  const auto records = sampleRecords(500);
  RecordBatchOptions options;
  options.compression = GetParam();
  options.base_offset = 1000;
  options.producer_id = 42;
  options.producer_epoch = 3;
  options.base_sequence = 77;
  options.transactional = true;
  const Bytes encoded = build(records, options);
  Decoded decoded = decodeAll(encoded);
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  ASSERT_EQ(decoded.batches.size(), 1u);
  const RecordBatch& batch = decoded.batches[0];
  EXPECT_EQ(batch.compression(), GetParam());
  EXPECT_TRUE(batch.isTransactional());
  EXPECT_EQ(batch.base_offset, 1000);
  EXPECT_EQ(batch.last_offset_delta, 499);
  EXPECT_EQ(batch.base_timestamp, records[0].timestamp);
  EXPECT_EQ(batch.max_timestamp, 1700000000000 + 3000);
  EXPECT_EQ(batch.producer_id, 42);
  EXPECT_EQ(batch.base_sequence, 77);
  EXPECT_EQ(recordsOf(batch), records);
  for (size_t i = 0; i < batch.records.size(); ++i) {
    EXPECT_EQ(batch.records[i].offset, 1000 + static_cast<int64_t>(i));
  }
  if (GetParam() != Compression::kNone) {
    EXPECT_LT(encoded.size(), build(records).size() / 2) << "compression took effect";
  }
}

TEST_P(RecordBatchCodecTest, CompressedRecordsOutliveTheInput) {
  RecordBatchOptions options;
  options.compression = GetParam();
  RecordBatch batch;
  {
    auto bytes = std::make_shared<const Bytes>(build(sampleRecords(50), options));
    RecordBatchReader reader(ByteView(*bytes), {}, bytes);
    ASSERT_TRUE(*reader.next(batch));
  }
  EXPECT_EQ(recordsOf(batch), sampleRecords(50));
}

INSTANTIATE_TEST_SUITE_P(Codecs, RecordBatchCodecTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kSnappy, Compression::kLz4,
                                           Compression::kZstd),
                         [](const auto& param_info) {
                           return std::string(compressionName(param_info.param));
                         });

TEST(RecordBatchTest, RejectsBatchesThatDecompressBeyondTheLimit) {
  for (Compression codec :
       {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    SCOPED_TRACE(compressionName(codec));
    RecordBatchOptions options;
    options.compression = codec;
    options.base_offset = 31337;
    RecordBatchBuilder builder(options);
    const Bytes zeros(64 * 1024, 0);
    for (int i = 0; i < 64; ++i) {
      ASSERT_TRUE(builder.append(0, std::nullopt, ByteView(zeros)).ok());
    }
    auto encoded = builder.build();
    ASSERT_TRUE(encoded.ok());
    EXPECT_LT(encoded->size(), 512u * 1024);
    DecodeOptions decode;
    decode.max_decompressed_bytes = 1024 * 1024;
    Decoded decoded = decodeAll(*encoded, decode);
    ASSERT_TRUE(decoded.error);
    EXPECT_EQ(decoded.error->code, ErrorCode::kCorruptMessage);
    EXPECT_NE(decoded.error->message.find("offset 31337"), std::string::npos);
    EXPECT_NE(decoded.error->message.find(std::string(compressionName(codec))), std::string::npos);
    EXPECT_NE(decoded.error->message.find("1048576"), std::string::npos) << decoded.error->message;
    decode.max_decompressed_bytes = 8 * 1024 * 1024;
    EXPECT_FALSE(decodeAll(*encoded, decode).error);
  }
}

TEST(RecordBatchTest, DecodesBatchesOfVeryManyRecords) {
  RecordBatchBuilder builder;
  const Header headers[] = {{"h", view("v")}};
  constexpr int kCount = 100000;
  for (int i = 0; i < kCount; ++i) {
    const std::string value = std::to_string(i);
    ASSERT_TRUE(
        builder.append(i, std::nullopt, view(value), i % 2 ? headers : std::span<const Header>{})
            .ok());
  }
  auto built = builder.build();
  ASSERT_TRUE(built.ok());
  for (int round = 0; round < 2; ++round) {  // a second pass reuses the reader's scratch state
    Decoded decoded = decodeAll(*built);
    ASSERT_FALSE(decoded.error) << decoded.error->message;
    const RecordBatch& batch = decoded.batches.at(0);
    ASSERT_EQ(batch.records.size(), static_cast<size_t>(kCount));
    EXPECT_EQ(batch.headers.size(), static_cast<size_t>(kCount / 2));
    for (int i = 0; i < kCount; i += 9973) {
      EXPECT_EQ(text(batch.records[i].value), std::to_string(i));
      EXPECT_EQ(batch.records[i].headers.size(), static_cast<size_t>(i % 2));
    }
    EXPECT_EQ(text(batch.records[kCount - 1].headers[0].value), "v");
  }
}

TEST(RecordBatchTest, SendsIncompressibleRecordsUncompressed) {
  std::mt19937_64 rng(5);
  std::string noise(4000, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  RecordBatchOptions options;
  options.compression = Compression::kZstd;
  Decoded decoded = decodeAll(build({{1, std::nullopt, noise, {}}}, options));
  ASSERT_EQ(decoded.batches.size(), 1u);
  EXPECT_EQ(decoded.batches[0].compression(), Compression::kNone);
  EXPECT_EQ(text(decoded.batches[0].records[0].value), noise);
}

TEST(RecordBatchTest, RestampingRenumbersABuiltBatchAndKeepsItsCrcValid) {
  RecordBatchOptions options;
  options.compression = Compression::kLz4;
  RecordBatchBuilder builder(options);
  builder.setProducerState(7, 0, 40);
  appendTo(builder, {100, "k", std::string(300, 'v'), {}});
  appendTo(builder, {101, std::nullopt, "w", {}});
  auto built = builder.build();
  ASSERT_TRUE(built.ok());
  Bytes batch = *built;
  restampProducerState(batch, 8, 3, 0);
  Decoded decoded = decodeAll(batch);  // checks the CRC
  ASSERT_EQ(decoded.batches.size(), 1u);
  EXPECT_EQ(decoded.batches[0].producer_id, 8);
  EXPECT_EQ(decoded.batches[0].producer_epoch, 3);
  EXPECT_EQ(decoded.batches[0].base_sequence, 0);
  EXPECT_EQ(recordsOf(decoded.batches[0]),
            (std::vector<TestRecord>{{100, "k", std::string(300, 'v'), {}},
                                     {101, std::nullopt, "w", {}}}));
  // Everything but the renumbered fields and the CRC is as built.
  for (size_t i = 0; i < batch.size(); ++i) {
    const bool renumbered = (i >= 43 && i < 57) || (i >= kCrcOffset && i < kCrcOffset + 4);
    if (!renumbered) {
      EXPECT_EQ(batch[i], (*built)[i]) << "byte " << i;
    }
  }
}

TEST(RecordBatchTest, BuilderStartsAfreshAfterEachBuild) {
  RecordBatchBuilder builder;
  EXPECT_TRUE(builder.empty());
  EXPECT_FALSE(builder.build().ok()) << "an empty batch is refused";
  appendTo(builder, {500, "a", "1", {}});
  appendTo(builder, {700, "b", "2", {}});
  EXPECT_EQ(builder.recordCount(), 2);
  auto first = builder.build();
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(builder.empty());
  builder.setProducerState(9, 2, 100);
  appendTo(builder, {100, "c", "3", {}});
  EXPECT_EQ(builder.uncompressedSize(), kBatchHeaderSize + 9);
  auto second = builder.build();
  ASSERT_TRUE(second.ok());
  Bytes both = *first;
  both.insert(both.end(), second->begin(), second->end());
  Decoded decoded = decodeAll(both);
  ASSERT_EQ(decoded.batches.size(), 2u);
  EXPECT_EQ(recordsOf(decoded.batches[0]),
            (std::vector<TestRecord>{{500, "a", "1", {}}, {700, "b", "2", {}}}));
  EXPECT_EQ(recordsOf(decoded.batches[1]), (std::vector<TestRecord>{{100, "c", "3", {}}}));
  EXPECT_EQ(decoded.batches[1].base_timestamp, 100);
  EXPECT_EQ(decoded.batches[1].max_timestamp, 100);
  EXPECT_EQ(decoded.batches[1].producer_id, 9);
  EXPECT_EQ(decoded.batches[1].producer_epoch, 2);
  EXPECT_EQ(decoded.batches[1].base_sequence, 100);
  EXPECT_EQ(decoded.batches[0].producer_id, -1);
}

TEST(RecordBatchTest, MaxRecordSizeBoundsWhatAppendAdds) {
  std::mt19937_64 rng(17);
  RecordBatchBuilder builder;
  for (int i = 0; i < 2000; ++i) {
    const std::string key(rng() % 300, 'k');
    const std::string value(rng() % 3000, 'v');
    const std::string header_value(rng() % 40, 'h');
    const Header headers[] = {{"a-header", view(header_value)}, {"n", std::nullopt}};
    const int64_t timestamp = static_cast<int64_t>(rng());  // extreme deltas
    const size_t before = builder.uncompressedSize();
    ASSERT_TRUE(builder.append(timestamp, view(key), view(value), headers).ok());
    ASSERT_LE(builder.uncompressedSize() - before,
              RecordBatchBuilder::maxRecordSize(key.size(), value.size(), headers));
  }
  auto built = builder.build();
  ASSERT_TRUE(built.ok());
  Decoded decoded = decodeAll(*built);
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  EXPECT_EQ(decoded.batches[0].records.size(), 2000u);
}

TEST(RecordBatchTest, ReportsATrailingPartialBatchAsTheEndNotAnError) {
  const Bytes a = build(sampleRecords(10), {.base_offset = 0});
  const Bytes b = build(sampleRecords(20), {.base_offset = 10});
  Bytes both = a;
  both.insert(both.end(), b.begin(), b.end());
  for (size_t cut = 0; cut <= both.size(); ++cut) {
    Decoded decoded = decodeAll(ByteView(both).first(cut));
    ASSERT_FALSE(decoded.error) << "cut at " << cut << ": " << decoded.error->message;
    const size_t whole = cut < a.size() ? 0 : (cut < both.size() ? 1 : 2);
    ASSERT_EQ(decoded.batches.size(), whole) << cut;
    const bool partial = cut != 0 && cut != a.size() && cut != both.size();
    EXPECT_EQ(decoded.partial, partial) << cut;
    const size_t into = cut < a.size() ? cut : cut - a.size();
    if (partial && into >= kLogOverhead) {
      EXPECT_EQ(decoded.partial_size, cut < a.size() ? a.size() : b.size()) << cut;
    }
  }
  Decoded all = decodeAll(both);
  EXPECT_EQ(all.batches[1].records.front().offset, 10);
  EXPECT_EQ(recordsOf(all.batches[1]), sampleRecords(20));
}

TEST(RecordBatchTest, DetectsCrcMismatchesNamingTheBatch) {
  Bytes batch = build(sampleRecords(5), {.base_offset = 4242});
  batch[batch.size() - 3] ^= 0x01;  // inside the last record's value
  Decoded decoded = decodeAll(batch);
  ASSERT_TRUE(decoded.error);
  EXPECT_EQ(decoded.error->code, ErrorCode::kCorruptMessage);
  EXPECT_NE(decoded.error->message.find("offset 4242"), std::string::npos);
  EXPECT_NE(decoded.error->message.find("CRC"), std::string::npos) << decoded.error->message;
  // Unchecked, the damaged value is returned as it is.
  Decoded unchecked = decodeAll(batch, {.verify_crc = false});
  ASSERT_FALSE(unchecked.error);
  EXPECT_NE(recordsOf(unchecked.batches[0]), sampleRecords(5));
  // The partition leader epoch is outside the CRC: brokers rewrite it.
  Bytes epoch = build(sampleRecords(5));
  epoch[13] = 0x05;
  EXPECT_FALSE(decodeAll(epoch).error);
}

TEST(RecordBatchTest, ReadsTimestampTypeControlAndDeleteHorizonFlags) {
  Bytes batch = build({{10, "a", "1", {}}, {30, "b", "2", {}}, {20, "c", "3", {}}});
  // Log-append time: every record takes the batch's maxTimestamp, as set by the broker.
  for (int i = 0; i < 8; ++i) batch[35 + i] = i == 7 ? 0x63 : 0;  // maxTimestamp = 99
  setAttributes(batch, kLogAppendTimeFlag);
  Decoded decoded = decodeAll(batch);
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  EXPECT_EQ(decoded.batches[0].timestampType(), TimestampType::kLogAppendTime);
  for (const Record& r : decoded.batches[0].records) EXPECT_EQ(r.timestamp, 99);

  setAttributes(batch, kControlFlag | kTransactionalFlag | kDeleteHorizonFlag);
  decoded = decodeAll(batch);
  ASSERT_FALSE(decoded.error);
  EXPECT_TRUE(decoded.batches[0].isControl());
  EXPECT_TRUE(decoded.batches[0].isTransactional());
  EXPECT_TRUE(decoded.batches[0].hasDeleteHorizon());
  EXPECT_EQ(decoded.batches[0].records[2].timestamp, 20);
}

TEST(RecordBatchTest, DecodesEmptyBatchesThatCompactionLeaves) {
  Bytes batch = build({{10, "a", "1", {}}});
  batch.resize(kBatchHeaderSize);
  batch[11] = static_cast<uint8_t>(kBatchHeaderSize - kLogOverhead);
  batch[60] = 0;  // record count
  recomputeCrc(batch);
  Decoded decoded = decodeAll(batch);
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  ASSERT_EQ(decoded.batches.size(), 1u);
  EXPECT_TRUE(decoded.batches[0].records.empty());
}

// A hand-made batch around `records` (already encoded), with a valid CRC.
Bytes batchAround(const Bytes& records, int32_t count, int16_t attributes = 0) {
  Bytes out = wire({{0, 0, 0, 0, 0, 0, 0, 9},
                    {0, 0, 0, 0},
                    {0xff, 0xff, 0xff, 0xff},
                    {2},
                    {0, 0, 0, 0},
                    {static_cast<uint8_t>(attributes >> 8), static_cast<uint8_t>(attributes)},
                    {0, 0, 0, 0},
                    {0, 0, 0, 0, 0, 0, 0, 0},
                    {0, 0, 0, 0, 0, 0, 0, 0},
                    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                    {0xff, 0xff},
                    {0xff, 0xff, 0xff, 0xff},
                    {static_cast<uint8_t>(count >> 24), static_cast<uint8_t>(count >> 16),
                     static_cast<uint8_t>(count >> 8), static_cast<uint8_t>(count)}});
  out.insert(out.end(), records.begin(), records.end());
  const size_t length = out.size() - kLogOverhead;
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
  recomputeCrc(out);
  return out;
}

TEST(RecordBatchTest, RejectsMalformedRecordsNamingBatchAndRecord) {
  struct Case {
    const char* name;
    Bytes records;
    int32_t count;
    int16_t attributes;
    const char* expect;
  };
  const Bytes good = {0x10, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0};  // length 8
  const std::vector<Case> cases = {
      {"more records than bytes", good, 1000, 0, "1000 records cannot fit in 9 bytes"},
      {"negative count", good, -1, 0, "negative record count"},
      {"length past the end", {0x40, 0, 0, 0, 1, 1, 0, 0}, 1, 0, "length 32 exceeds"},
      {"length shorter than the fields",
       {0x0c, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0},
       1,
       0,
       "value length 1 exceeds"},
      {"length longer than the fields",
       {0x12, 0, 0, 0, 0x02, 'k', 0x02, 'v', 0, 0},
       1,
       0,
       "bytes unread"},
      {"negative key length",
       {0x10, 0, 0, 0, 0x03, 'k', 0x02, 'v', 0},
       1,
       0,
       "negative key length -2"},
      {"key past the record", {0x10, 0, 0, 0, 0x0a, 'k', 0x02, 'v', 0}, 1, 0, "key length 5"},
      {"overlong varint",
       {0x14, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 1},
       1,
       0,
       "invalid or truncated"},
      {"header count beyond the bytes",
       {0x0e, 0, 0, 0, 0x01, 0x02, 'x', 0x40},
       1,
       0,
       "header count 32"},
      {"null header key", {0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x01, 0x01}, 1, 0, "null header key"},
      {"trailing bytes", wire({good, {0, 0, 0, 0, 0, 0, 0, 0}}), 1, 0,
       "8 bytes after the last of 1 records"},
      {"unknown codec", good, 1, 6, "unknown compression codec 6"},
      {"garbage under lz4", good, 1, 3, "lz4"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Decoded decoded = decodeAll(batchAround(c.records, c.count, c.attributes));
    ASSERT_TRUE(decoded.error);
    EXPECT_TRUE(decoded.error->code == ErrorCode::kMalformedMessage ||
                decoded.error->code == ErrorCode::kCorruptMessage);
    EXPECT_NE(decoded.error->message.find("record batch at offset 9"), std::string::npos)
        << decoded.error->message;
    EXPECT_NE(decoded.error->message.find(c.expect), std::string::npos) << decoded.error->message;
  }
  EXPECT_FALSE(decodeAll(batchAround(good, 1)).error);
}

TEST(RecordBatchTest, RejectsBadFramingAndStopsThere) {
  Bytes tiny = wire({{0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 5}, Bytes(5, 0)});
  Decoded decoded = decodeAll(tiny);
  ASSERT_TRUE(decoded.error);
  EXPECT_NE(decoded.error->message.find("batch length 5 is too small"), std::string::npos);

  Bytes magic = build(sampleRecords(2));
  magic[16] = 7;
  decoded = decodeAll(magic);
  ASSERT_TRUE(decoded.error);
  EXPECT_NE(decoded.error->message.find("unknown magic 7"), std::string::npos);

  // A v2 batch whose length leaves no room for the header.
  Bytes short_header = build(sampleRecords(2));
  short_header.resize(40);
  short_header[11] = 28;
  decoded = decodeAll(short_header);
  ASSERT_TRUE(decoded.error);
  EXPECT_NE(decoded.error->message.find("shorter than its header"), std::string::npos);

  // After a failure the reader yields nothing more, even if good batches follow.
  Bytes then = magic;
  const Bytes good = build(sampleRecords(2));
  then.insert(then.end(), good.begin(), good.end());
  RecordBatchReader reader(then);
  RecordBatch batch;
  EXPECT_FALSE(reader.next(batch).ok());
  EXPECT_FALSE(reader.next(batch).ok());
}

TEST(RecordBatchTest, SurvivesRandomDamageWithoutCrashing) {
  std::mt19937_64 rng(99);
  std::vector<Bytes> seeds;
  for (Compression codec : {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                            Compression::kLz4, Compression::kZstd}) {
    seeds.push_back(build(sampleRecords(30), {.compression = codec}));
  }
  int decoded_ok = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes damaged = seeds[rng() % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) damaged[rng() % damaged.size()] = static_cast<uint8_t>(rng());
    // Unchecked CRCs let the damage reach the record decoder and the codecs.
    Decoded decoded = decodeAll(damaged, {.verify_crc = false, .max_decompressed_bytes = 1 << 20});
    if (!decoded.error) ++decoded_ok;
    Decoded checked = decodeAll(damaged);
    if (!checked.error && !checked.partial) {
      ASSERT_EQ(checked.batches.size(), 1u);
    }
  }
  EXPECT_GT(decoded_ok, 0);
}

}  // namespace
}  // namespace kafka::record
