// FetchedRecordReader: what an application sees of a fetched partition (records from the fetch
// offset on, no transaction markers, no aborted transactions under read_committed, nothing from
// the last stable offset on), where the next fetch continues, and errors that name the partition.
#include "client_core/consumer/fetched_record_reader.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "client_core/record/compression.hpp"
#include "client_core/record/crc32c.hpp"
#include "client_core/record/record_batch_builder.hpp"

namespace kafka::consumer {
namespace {

using protocol::Bytes;
using protocol::ByteView;
using record::Compression;
using record::RecordBatch;
using record::RecordBatchBuilder;
using record::RecordBatchOptions;

// Every record's value names its offset (and compresses well), so that each test checks that
// the records it gets are the right ones.
std::string valueAt(int64_t offset) {
  return "value of " + std::to_string(offset) + std::string(100, '.');
}

ByteView bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<int64_t> offsetsIn(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t offset = from; offset < to; ++offset) out.push_back(offset);
  return out;
}

Bytes take(RecordBatchBuilder& builder) {
  auto built = builder.build();
  EXPECT_TRUE(built.ok()) << built.error().message;
  return built.ok() ? std::move(*built) : Bytes{};
}

// A v2 batch of `count` records from `base`.
Bytes batch(int64_t base, int count, RecordBatchOptions options = {}) {
  options.base_offset = base;
  RecordBatchBuilder builder(options);
  for (int i = 0; i < count; ++i) {
    EXPECT_TRUE(builder.append(1000 + i, std::nullopt, bytesOf(valueAt(base + i))).ok());
  }
  return take(builder);
}

RecordBatchOptions transactional(int64_t producer_id) {
  return {
      .producer_id = producer_id, .producer_epoch = 0, .base_sequence = 0, .transactional = true};
}

void recomputeCrc(Bytes& bytes) {
  const uint32_t crc = record::crc32c(ByteView(bytes).subspan(record::kAttributesOffset));
  protocol::Bytes stored;
  protocol::Writer(stored).uint32(crc);
  std::copy(stored.begin(), stored.end(), bytes.begin() + record::kCrcOffset);
}

enum class Marker : uint8_t { kAbort = 0, kCommit = 1 };

// A transaction marker: a control batch whose one record's key is version 0 and the type, and
// whose value is version 0 and a coordinator epoch.
Bytes marker(int64_t offset, int64_t producer_id, Marker type) {
  RecordBatchOptions options = transactional(producer_id);
  options.base_offset = offset;
  RecordBatchBuilder builder(options);
  const Bytes key = {0, 0, 0, static_cast<uint8_t>(type)};
  const Bytes value = {0, 0, 0, 0, 0, 7};
  EXPECT_TRUE(builder.append(1000, ByteView(key), ByteView(value)).ok());
  Bytes out = take(builder);
  out[record::kAttributesOffset + 1] |= record::kControlFlag;
  recomputeCrc(out);
  return out;
}

// A legacy message with a null key: offset | size | CRC-32 | magic | attributes | [timestamp] |
// key | value.
Bytes legacyMessage(int64_t offset, int8_t magic, int8_t attributes, ByteView value) {
  Bytes body;
  protocol::Writer b(body);
  b.int8(magic);
  b.int8(attributes);
  if (magic == 1) b.int64(1000);
  b.int32(-1);
  b.int32(static_cast<int32_t>(value.size()));
  b.raw(value);
  Bytes out;
  protocol::Writer w(out);
  w.int64(offset);
  w.int32(static_cast<int32_t>(body.size() + 4));
  w.uint32(static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
  w.raw(body);
  return out;
}

Bytes legacyMessage(int64_t offset, int8_t magic) {
  return legacyMessage(offset, magic, 0, bytesOf(valueAt(offset)));
}

// A compressed legacy wrapper of the messages [first, last]: inner offsets absolute for magic
// 0, relative for magic 1; the wrapper's offset is the last one's.
Bytes legacyWrapper(int64_t first, int64_t last, int8_t magic, Compression codec) {
  Bytes inner;
  for (int64_t offset = first; offset <= last; ++offset) {
    Bytes m = legacyMessage(offset, magic);
    if (magic == 1) {
      protocol::Bytes relative;
      protocol::Writer(relative).int64(offset - first);
      std::copy(relative.begin(), relative.end(), m.begin());
    }
    inner.insert(inner.end(), m.begin(), m.end());
  }
  Bytes packed;
  EXPECT_TRUE(record::compress(codec, inner, packed).ok());
  return legacyMessage(last, magic, static_cast<int8_t>(codec), packed);
}

FetchedPartition fetched(const std::vector<Bytes>& batches, int64_t fetch_offset) {
  FetchedPartition out;
  out.partition = {"orders", 3};
  out.fetch_offset = fetch_offset;
  Bytes all;
  for (const Bytes& b : batches) all.insert(all.end(), b.begin(), b.end());
  out.records = protocol::Records::copyOf(all);
  out.high_watermark = 1000;
  return out;
}

struct Read {
  std::vector<int64_t> offsets;
  std::vector<RecordBatch> batches;
  std::optional<Error> error;
  int64_t next_offset = -1;
};

Read readAll(FetchedPartition partition, IsolationLevel isolation,
             record::DecodeOptions options = {}) {
  FetchedRecordReader reader(std::move(partition), isolation, options);
  Read out;
  while (true) {
    RecordBatch b;
    auto next = reader.next(b);
    if (!next.ok()) {
      out.error = next.error();
      // The reader stays at the bad batch.
      auto again = reader.next(b);
      EXPECT_EQ(again.ok() ? std::string() : again.error().message, out.error->message);
      break;
    }
    if (!*next) break;
    EXPECT_FALSE(b.records.empty());
    for (const record::Record& r : b.records) out.offsets.push_back(r.offset);
    out.batches.push_back(std::move(b));
  }
  out.next_offset = reader.nextOffset();
  return out;
}

// Every record returned holds the value written at its offset.
void expectValues(const Read& read) {
  for (const RecordBatch& b : read.batches) {
    for (const record::Record& r : b.records) {
      ASSERT_TRUE(r.value);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.value->data()), r.value->size()),
                valueAt(r.offset));
    }
  }
}

TEST(FetchedRecordReaderTest, ReturnsPlainRecordsThatOutliveTheReader) {
  Read read = readAll(fetched({batch(0, 3), batch(3, 2)}, 0), IsolationLevel::kReadUncommitted);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.offsets, offsetsIn(0, 5));
  EXPECT_EQ(read.batches.size(), 2u);
  EXPECT_EQ(read.next_offset, 5);
  // Reader and FetchedPartition are gone; the batches keep the fetched bytes.
  expectValues(read);
}

TEST(FetchedRecordReaderTest, AnEmptyFetchStaysAtTheFetchOffset) {
  Read read = readAll(fetched({}, 42), IsolationLevel::kReadCommitted);
  EXPECT_FALSE(read.error);
  EXPECT_TRUE(read.offsets.empty());
  EXPECT_EQ(read.next_offset, 42);
}

class FetchedRecordReaderCodecTest : public ::testing::TestWithParam<Compression> {};

TEST_P(FetchedRecordReaderCodecTest, DropsRecordsBeforeTheFetchOffsetInACompressedBatch) {
  const Bytes compressed = batch(10, 8, {.compression = GetParam()});
  Read read = readAll(fetched({compressed, batch(18, 2)}, 13), IsolationLevel::kReadUncommitted);
  ASSERT_FALSE(read.error) << read.error->message;
  ASSERT_EQ(read.batches.size(), 2u);
  EXPECT_EQ(read.batches[0].compression(), GetParam()) << "the batch was compressed";
  EXPECT_EQ(read.offsets, offsetsIn(13, 20));
  EXPECT_EQ(read.next_offset, 20);
  expectValues(read);
  // A fetch offset past the batch's last record leaves nothing of it.
  Read past = readAll(fetched({compressed}, 18), IsolationLevel::kReadUncommitted);
  ASSERT_FALSE(past.error);
  EXPECT_TRUE(past.offsets.empty());
  EXPECT_EQ(past.next_offset, 18);
}

INSTANTIATE_TEST_SUITE_P(Codecs, FetchedRecordReaderCodecTest,
                         ::testing::Values(Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd),
                         [](const auto& param_info) {
                           return std::string(record::compressionName(param_info.param));
                         });

TEST(FetchedRecordReaderTest, SkipsTransactionMarkersButMovesPastThem) {
  for (IsolationLevel isolation :
       {IsolationLevel::kReadUncommitted, IsolationLevel::kReadCommitted}) {
    Read read = readAll(fetched({batch(0, 2, transactional(9)), marker(2, 9, Marker::kCommit),
                                 batch(3, 2), marker(5, 9, Marker::kAbort)},
                                0),
                        isolation);
    ASSERT_FALSE(read.error) << read.error->message;
    EXPECT_EQ(read.offsets, (std::vector<int64_t>{0, 1, 3, 4}));
    EXPECT_EQ(read.batches.size(), 2u);
    // The trailing marker is behind us: the next fetch does not return it again.
    EXPECT_EQ(read.next_offset, 6);
    expectValues(read);
  }
}

// Producer 1 aborts a transaction at 0-4 and commits one at 8-9; producer 2 commits one at 2-3
// and aborts one at 11-12; 5 is not transactional. The aborted list is not in offset order.
std::vector<Bytes> interleavedTransactions() {
  return {batch(0, 2, transactional(1)),  batch(2, 2, transactional(2)),
          batch(4, 1, transactional(1)),  batch(5, 1),
          marker(6, 2, Marker::kCommit),  marker(7, 1, Marker::kAbort),
          batch(8, 2, transactional(1)),  marker(10, 1, Marker::kCommit),
          batch(11, 2, transactional(2)), marker(13, 2, Marker::kAbort)};
}

std::vector<protocol::FetchResponse::AbortedTransaction> interleavedAborts() {
  std::vector<protocol::FetchResponse::AbortedTransaction> out(2);
  out[0].producer_id = 2;
  out[0].first_offset = 11;
  out[1].producer_id = 1;
  out[1].first_offset = 0;
  return out;
}

TEST(FetchedRecordReaderTest, ReadCommittedSkipsAbortedTransactionsOfInterleavedProducers) {
  FetchedPartition partition = fetched(interleavedTransactions(), 0);
  partition.aborted_transactions = interleavedAborts();
  partition.last_stable_offset = 14;
  Read read = readAll(std::move(partition), IsolationLevel::kReadCommitted);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.offsets, (std::vector<int64_t>{2, 3, 5, 8, 9}));
  EXPECT_EQ(read.next_offset, 14);
  expectValues(read);
}

TEST(FetchedRecordReaderTest, ReadCommittedSkipsAnAbortedTransactionBegunBeforeTheFetchOffset) {
  FetchedPartition partition =
      fetched({batch(4, 1, transactional(1)), batch(5, 1), marker(6, 1, Marker::kAbort),
               batch(7, 1, transactional(1))},
              4);
  partition.aborted_transactions = interleavedAborts();
  Read read = readAll(std::move(partition), IsolationLevel::kReadCommitted);
  ASSERT_FALSE(read.error) << read.error->message;
  // After its abort marker, producer 1's next transaction is shown.
  EXPECT_EQ(read.offsets, (std::vector<int64_t>{5, 7}));
  EXPECT_EQ(read.next_offset, 8);
}

TEST(FetchedRecordReaderTest, AnAbortedTransactionCountsFromAnyOffsetOfABatch) {
  FetchedPartition partition =
      fetched({batch(20, 3, transactional(3)), marker(23, 3, Marker::kAbort), batch(24, 1)}, 20);
  partition.aborted_transactions.resize(1);
  partition.aborted_transactions[0].producer_id = 3;
  partition.aborted_transactions[0].first_offset = 22;
  Read read = readAll(std::move(partition), IsolationLevel::kReadCommitted);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.offsets, (std::vector<int64_t>{24}));
  EXPECT_EQ(read.next_offset, 25);
}

TEST(FetchedRecordReaderTest, ReadUncommittedKeepsEverythingButTransactionMarkers) {
  FetchedPartition partition = fetched(interleavedTransactions(), 0);
  partition.aborted_transactions = interleavedAborts();
  partition.last_stable_offset = 3;  // not a bound for read_uncommitted
  Read read = readAll(std::move(partition), IsolationLevel::kReadUncommitted);
  ASSERT_FALSE(read.error) << read.error->message;
  EXPECT_EQ(read.offsets, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 8, 9, 11, 12}));
  EXPECT_EQ(read.next_offset, 14);
  expectValues(read);
}

TEST(FetchedRecordReaderTest, ReadCommittedReturnsNothingFromTheLastStableOffsetOn) {
  const std::vector<Bytes> batches = {batch(0, 3), batch(3, 3, transactional(4)),
                                      batch(6, 3, transactional(5))};
  FetchedPartition partition = fetched(batches, 0);
  partition.last_stable_offset = 6;  // producer 5's transaction is still open
  Read read = readAll(partition, IsolationLevel::kReadCommitted);
  ASSERT_FALSE(read.error);
  EXPECT_EQ(read.offsets, offsetsIn(0, 6));
  EXPECT_EQ(read.next_offset, 6);

  // Should a batch straddle it, its records before it are shown and the next fetch starts there.
  partition.last_stable_offset = 4;
  read = readAll(partition, IsolationLevel::kReadCommitted);
  ASSERT_FALSE(read.error);
  EXPECT_EQ(read.offsets, offsetsIn(0, 4));
  EXPECT_EQ(read.next_offset, 4);
  expectValues(read);

  // -1: the broker did not say (Fetch before v4).
  partition.last_stable_offset = -1;
  read = readAll(partition, IsolationLevel::kReadCommitted);
  EXPECT_EQ(read.offsets, offsetsIn(0, 9));
  EXPECT_EQ(read.next_offset, 9);
}

TEST(FetchedRecordReaderTest, StopsBeforeAPartialTrailingBatch) {
  const Bytes first = batch(0, 3);
  Bytes cut = batch(3, 5, {.compression = Compression::kLz4});
  for (size_t keep : {size_t{1}, size_t{20}, cut.size() - 1}) {
    SCOPED_TRACE("keep " + std::to_string(keep));
    Read read = readAll(fetched({first, Bytes(cut.begin(), cut.begin() + keep)}, 0),
                        IsolationLevel::kReadUncommitted);
    ASSERT_FALSE(read.error) << read.error->message;
    EXPECT_EQ(read.offsets, offsetsIn(0, 3));
    EXPECT_EQ(read.next_offset, 3);
  }
}

TEST(FetchedRecordReaderTest, ACrcMismatchNamesTopicPartitionAndOffset) {
  Bytes damaged = batch(3, 4);
  damaged[damaged.size() - 5] ^= 0x20;  // inside the last record's value
  FetchedPartition partition = fetched({batch(0, 3), damaged, batch(7, 1)}, 0);
  Read read = readAll(partition, IsolationLevel::kReadUncommitted);
  ASSERT_TRUE(read.error);
  EXPECT_EQ(read.error->code, ErrorCode::kCorruptMessage);
  for (const char* part : {"topic orders partition 3", "offset 3", "CRC"}) {
    EXPECT_NE(read.error->message.find(part), std::string::npos) << read.error->message;
  }
  // What came before is returned, and the next fetch would start at the bad batch.
  EXPECT_EQ(read.offsets, offsetsIn(0, 3));
  EXPECT_EQ(read.next_offset, 3);

  Read unchecked = readAll(partition, IsolationLevel::kReadUncommitted, {.verify_crc = false});
  ASSERT_FALSE(unchecked.error) << unchecked.error->message;
  EXPECT_EQ(unchecked.offsets, offsetsIn(0, 8));
  EXPECT_EQ(unchecked.next_offset, 8);
}

TEST(FetchedRecordReaderTest, AnUnreadableTransactionMarkerIsAnErrorUnderReadCommitted) {
  RecordBatchOptions options = transactional(9);
  options.base_offset = 2;
  RecordBatchBuilder builder(options);
  const Bytes short_key = {0, 0};
  ASSERT_TRUE(builder.append(1000, ByteView(short_key), std::nullopt).ok());
  Bytes bad = take(builder);
  bad[record::kAttributesOffset + 1] |= record::kControlFlag;
  recomputeCrc(bad);
  FetchedPartition partition = fetched({batch(0, 2, transactional(9)), bad, batch(3, 1)}, 0);
  Read read = readAll(partition, IsolationLevel::kReadCommitted);
  ASSERT_TRUE(read.error);
  EXPECT_NE(read.error->message.find("topic orders partition 3"), std::string::npos);
  EXPECT_NE(read.error->message.find("offset 2"), std::string::npos) << read.error->message;
  EXPECT_EQ(read.next_offset, 2);
  // Read uncommitted never looks inside markers.
  EXPECT_EQ(readAll(partition, IsolationLevel::kReadUncommitted).offsets,
            (std::vector<int64_t>{0, 1, 3}));
}

TEST(FetchedRecordReaderTest, ReadsLegacyMessageSetsFromTheFetchOffset) {
  // Magic 0: plain messages, then a gzip wrapper with absolute inner offsets.
  Read v0 = readAll(fetched({legacyMessage(0, 0), legacyMessage(1, 0),
                             legacyWrapper(2, 5, 0, Compression::kGzip)},
                            3),
                    IsolationLevel::kReadCommitted);
  ASSERT_FALSE(v0.error) << v0.error->message;
  EXPECT_EQ(v0.offsets, offsetsIn(3, 6));
  EXPECT_EQ(v0.next_offset, 6);
  expectValues(v0);

  // Magic 1: wrappers with relative inner offsets; the fetch starts inside the first.
  for (Compression codec : {Compression::kGzip, Compression::kSnappy, Compression::kLz4}) {
    SCOPED_TRACE(std::string(record::compressionName(codec)));
    Read v1 = readAll(fetched({legacyWrapper(10, 14, 1, codec), legacyMessage(15, 1),
                               legacyWrapper(16, 17, 1, codec)},
                              12),
                      IsolationLevel::kReadUncommitted);
    ASSERT_FALSE(v1.error) << v1.error->message;
    EXPECT_EQ(v1.offsets, offsetsIn(12, 18));
    EXPECT_EQ(v1.batches.size(), 3u);
    EXPECT_EQ(v1.next_offset, 18);
    expectValues(v1);
  }
}

}  // namespace
}  // namespace kafka::consumer
