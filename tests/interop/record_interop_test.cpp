// Record batches against independent implementations: kcat (librdkafka) and kafka-python.
//
//   PeersProduce:  the peers produce with each codec to mock-cluster; we fetch the raw batches
//                  over a BrokerConnection and decode them, expecting exactly what was produced.
//   WeProduce:     our RecordBatchBuilder writes batches with each codec, we produce them (one
//                  batch per request, acks=-1), and kcat (with CRC checks) and kafka-python read
//                  them back, expecting exactly what we wrote.
//   LegacySets:    kafka-python builds magic 0 and 1 message sets, compressed and not; we decode.
// The mock stores batches without looking inside, so only the peers' readers can prove ours
// correct, and only our reader can prove we understood theirs.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "client_core/record/record_batch_builder.hpp"
#include "client_core/record/record_batch_reader.hpp"
#include "tests/integration/mock_cluster_process.hpp"
#include "tests/interop/direct_client.hpp"
#include "tests/interop/peer_process.hpp"
#include "tests/interop/peer_record.hpp"

namespace kafka::interop {
namespace {

using protocol::Bytes;
using protocol::ByteView;
using record::Compression;

ByteView bytesOf(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class RecordInteropTest : public integration::MockClusterTest,
                          public ::testing::WithParamInterface<Compression> {
 protected:
  static constexpr int kRecords = 300;

  RecordInteropTest()
      : MockClusterTest(
            {.brokers = 3, .topics = {{"from-kcat", 1}, {"from-python", 1}, {"to-peers", 1}}}) {}

  void SetUp() override {
    MockClusterTest::SetUp();
    client_ = std::make_unique<DirectClient>(bootstrap());
  }

  // Our connections close before the broker goes away.
  void TearDown() override {
    client_.reset();
    MockClusterTest::TearDown();
  }

  std::unique_ptr<DirectClient> client_;
};

TEST_P(RecordInteropTest, WeDecodeWhatKcatProduced) {
  const Compression codec = GetParam();
  std::vector<PeerRecord> expected;
  std::string input;
  for (int i = 0; i < kRecords; ++i) {
    PeerRecord r;
    r.offset = i;
    // kcat reads "key<TAB>value" lines: no tab means a null key, and with -Z an empty value is
    // sent as null (so a record cannot have both null).
    if (i % 7 != 0) r.key = "kcat-key-" + std::to_string(i);
    if (i % 13 != 5 || !r.key) r.value = "kcat-value-" + std::to_string(i) + " " + filler(i);
    r.headers = {{"source", "kcat"}, {"empty", ""}};
    input += (r.key ? *r.key + "\t" : "") + r.value.value_or("") + "\n";
    expected.push_back(r);
  }
  std::vector<std::string> argv = {"kcat",
                                   "-b",
                                   bootstrap(),
                                   "-P",
                                   "-t",
                                   "from-kcat",
                                   "-p",
                                   "0",
                                   "-K",
                                   "\t",
                                   "-Z",
                                   "-H",
                                   "source=kcat",
                                   "-H",
                                   "empty=",
                                   "-X",
                                   "linger.ms=100",
                                   "-X",
                                   "batch.num.messages=100"};
  if (codec != Compression::kNone) argv.insert(argv.end(), {"-z", codecName(codec)});
  const int64_t before = nowMs();
  PeerRun produced = runPeer(argv, input);
  ASSERT_TRUE(produced.ok()) << produced.describe();
  const int64_t after = nowMs();

  std::set<Compression> codecs;
  std::vector<PeerRecord> fetched = client_->fetchRecords("from-kcat", kRecords, codecs);
  ASSERT_EQ(fetched.size(), expected.size());
  for (size_t i = 0; i < fetched.size(); ++i) {
    // kcat stamps records with the time it produced them.
    EXPECT_GE(fetched[i].timestamp, before - 1000);
    EXPECT_LE(fetched[i].timestamp, after + 1000);
    expected[i].timestamp = fetched[i].timestamp;
  }
  EXPECT_EQ(fetched, expected);
  EXPECT_EQ(codecs, std::set<Compression>{codec});
}

TEST_P(RecordInteropTest, WeDecodeWhatKafkaPythonProduced) {
  const Compression codec = GetParam();
  std::vector<PeerRecord> expected;
  for (int i = 0; i < kRecords; ++i) {
    PeerRecord r;
    r.offset = i;
    r.timestamp = 1700000000000 + i * 10 - (i % 10 == 3 ? 5000 : 0);
    if (i % 5 != 0) r.key = std::string("py\0key\xff", 7) + std::to_string(i);
    if (i % 11 == 4 && r.key) {  // kafka-python refuses a record with neither
      r.value = std::nullopt;
    } else if (i % 11 == 6) {
      r.value = "";
    } else {
      r.value = std::string("\x01\x02 binary \x00 ", 13) + filler(i);
    }
    if (i % 3 == 0) r.headers = {{"trace", "t-" + std::to_string(i)}, {"empty", ""}};
    expected.push_back(r);
  }
  PeerRun produced = runPeer(
      {"/usr/bin/python3", kPythonPeer, "produce", bootstrap(), "from-python", codecName(codec)},
      toLines(expected));
  ASSERT_TRUE(produced.ok()) << produced.describe();

  std::set<Compression> codecs;
  std::vector<PeerRecord> fetched = client_->fetchRecords("from-python", kRecords, codecs);
  EXPECT_EQ(fetched, expected);
  EXPECT_EQ(codecs, std::set<Compression>{codec});
}

// Records our builder writes, in kRecords / 100 batches. Printable, so that kcat's text output
// can be compared byte for byte; nulls, empties and headers of every kind.
std::vector<PeerRecord> ourRecords() {
  std::vector<PeerRecord> records;
  for (int i = 0; i < 300; ++i) {
    PeerRecord r;
    r.offset = i;
    r.timestamp = 1600000000000 + i * 3 - (i % 10 == 7 ? 2000 : 0);
    if (i % 9 != 0) r.key = "our-key-" + std::to_string(i);
    if (i % 17 == 4) {
      r.value = std::nullopt;
    } else if (i % 17 == 8) {
      r.value = "";
    } else {
      r.value = "our-value-" + std::to_string(i) + " " + filler(i);
    }
    if (i % 3 == 0) r.headers = {{"trace", "t" + std::to_string(i)}, {"empty", ""}};
    if (i % 3 == 1) r.headers = {{"nullvalue", std::nullopt}};
    records.push_back(r);
  }
  return records;
}

// kcat -f '%o|%K|%k|%S|%s|%h|%T\n' with -Z, as kcat prints it: -Z prints "NULL" for a null key,
// value or header value, and also for an empty key or value (the lengths tell them apart).
std::string kcatLine(const PeerRecord& r) {
  const auto text = [](const std::optional<std::string>& s) {
    return s && !s->empty() ? *s : std::string("NULL");
  };
  const auto length = [](const std::optional<std::string>& s) {
    return s ? std::to_string(s->size()) : std::string("-1");
  };
  std::string headers;
  for (const auto& [name, value] : r.headers) {
    if (!headers.empty()) headers += ",";
    headers += name + "=" + value.value_or("NULL");
  }
  return std::to_string(r.offset) + "|" + length(r.key) + "|" + text(r.key) + "|" +
         length(r.value) + "|" + text(r.value) + "|" + headers + "|" + std::to_string(r.timestamp) +
         "\n";
}

TEST_P(RecordInteropTest, PeersReadWhatWeProduced) {
  const Compression codec = GetParam();
  const std::vector<PeerRecord> records = ourRecords();
  record::RecordBatchBuilder builder({.compression = codec});
  for (size_t start = 0; start < records.size(); start += 100) {
    for (size_t i = start; i < start + 100; ++i) {
      const PeerRecord& r = records[i];
      std::vector<record::Header> headers;
      for (const auto& [name, value] : r.headers) {
        headers.push_back({name, value ? std::optional<ByteView>(bytesOf(*value)) : std::nullopt});
      }
      ASSERT_TRUE(builder
                      .append(r.timestamp, r.key ? std::optional(bytesOf(*r.key)) : std::nullopt,
                              r.value ? std::optional(bytesOf(*r.value)) : std::nullopt, headers)
                      .ok());
    }
    auto batch = builder.build();
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    EXPECT_EQ(static_cast<Compression>((*batch)[22] & 0x07), codec) << "compression took effect";
    EXPECT_EQ(client_->produceBatch("to-peers", std::move(*batch)), static_cast<int64_t>(start));
  }

  PeerRun kcat =
      runPeer({"kcat", "-b", bootstrap(), "-C", "-t", "to-peers", "-p", "0", "-o", "beginning",
               "-e", "-Z", "-q", "-X", "check.crcs=true", "-f", "%o|%K|%k|%S|%s|%h|%T\\n"});
  ASSERT_TRUE(kcat.ok()) << kcat.describe();
  std::string expected_text;
  for (const PeerRecord& r : records) expected_text += kcatLine(r);
  EXPECT_EQ(kcat.out, expected_text);
  EXPECT_EQ(kcat.err.find("CRC"), std::string::npos) << kcat.err;

  PeerRun python = runPeer({"/usr/bin/python3", kPythonPeer, "consume", bootstrap(), "to-peers",
                            std::to_string(records.size())});
  ASSERT_TRUE(python.ok()) << python.describe();
  EXPECT_EQ(fromLines(python.out), records);
}

INSTANTIATE_TEST_SUITE_P(Codecs, RecordInteropTest, ::testing::ValuesIn(kCodecs),
                         [](const auto& param_info) { return codecName(param_info.param); });

class LegacySetTest : public ::testing::TestWithParam<std::tuple<int, Compression>> {};

TEST_P(LegacySetTest, WeDecodeKafkaPythonMessageSets) {
  const auto [magic, codec] = GetParam();
  constexpr int64_t kBase = 100;
  constexpr int kCount = 50;
  std::vector<PeerRecord> expected;
  std::vector<PeerRecord> input;
  for (int i = 0; i < kCount; ++i) {
    PeerRecord r;
    // A producer numbers inner messages from 0 in magic 1 (relative) and absolutely in magic 0.
    r.offset = codec != Compression::kNone && magic == 1 ? i : kBase + i;
    r.timestamp = 1650000000000 + i;
    if (i % 4 != 0) r.key = "legacy-key-" + std::to_string(i);
    if (i % 9 != 2) r.value = std::string("\xfe value ", 8) + filler(i);
    input.push_back(r);
    r.offset = kBase + i;
    r.timestamp = magic == 0 ? -1 : r.timestamp;
    expected.push_back(r);
  }
  PeerRun built =
      runPeer({"/usr/bin/python3", kPythonPeer, "legacy", std::to_string(magic), codecName(codec)},
              toLines(input));
  ASSERT_NE(built.exit_code, 3) << built.err << " (scripts/setup.sh installs it)";
  ASSERT_TRUE(built.ok()) << built.describe();
  Bytes set;
  for (size_t i = 0; i + 1 < built.out.size(); i += 2) {
    set.push_back(static_cast<uint8_t>(std::stoi(built.out.substr(i, 2), nullptr, 16)));
  }
  if (codec != Compression::kNone) {
    // The broker gives a wrapper the offset of its last inner message; the CRC does not cover it.
    const int64_t last = kBase + kCount - 1;
    for (int i = 0; i < 8; ++i) set[i] = static_cast<uint8_t>(last >> (56 - 8 * i));
  }
  record::RecordBatchReader reader(set);
  record::RecordBatch batch;
  std::vector<PeerRecord> decoded;
  while (true) {
    auto next = reader.next(batch);
    ASSERT_TRUE(next.ok()) << next.error().toString();
    if (!*next) break;
    EXPECT_EQ(batch.magic, magic);
    EXPECT_EQ(batch.compression(), codec);
    for (const record::Record& r : batch.records) {
      decoded.push_back({r.offset, r.timestamp, copyOf(r.key), copyOf(r.value), {}});
    }
  }
  EXPECT_FALSE(reader.endedWithPartialBatch());
  EXPECT_EQ(decoded, expected);
}

INSTANTIATE_TEST_SUITE_P(
    MagicsAndCodecs, LegacySetTest,
    ::testing::Combine(::testing::Values(0, 1),
                       ::testing::Values(Compression::kNone, Compression::kGzip,
                                         Compression::kSnappy, Compression::kLz4)),
    [](const auto& param_info) {
      return "v" + std::to_string(std::get<0>(param_info.param)) + "_" +
             codecName(std::get<1>(param_info.param));
    });

}  // namespace
}  // namespace kafka::interop
