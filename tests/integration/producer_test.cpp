// The producer engine against the mock-cluster tool: batching, partitioning, bad records,
// retries through injected errors, a broker going down, a leader moving, idempotence and epoch
// bumps, backpressure, delivery timeouts, flush and close. Every test reads the partitions back
// with Fetch and checks that what the producer reported as delivered is in the log exactly once,
// in order, and that everything else was reported as failed.
#include "client_core/producer/producer.hpp"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client_core/net/host_port.hpp"
#include "tests/integration/io_threads.hpp"
#include "tests/integration/log_reader.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::producer {
namespace {

using namespace std::chrono_literals;
using integration::waitUntil;
using integration::LoggedRecord;

// What the producer reported for each record of one send(), checked to be exactly once.
class Outcomes {
 public:
  struct Outcome {
    int reports = 0;
    int32_t partition = -1;
    int64_t offset = -1;
    Error error;
  };

  explicit Outcomes(size_t count) : outcomes_(count) {}

  // For a send() of the records from `first` on.
  DeliveryHandler handler(size_t first = 0) {
    return [this, first](const DeliveryReport& report) {
      std::lock_guard lock(mutex_);
      for (size_t i = 0; i < report.indices.size(); ++i) {
        Outcome& o = outcomes_.at(first + report.indices[i]);
        ++o.reports;
        o.partition = report.partition;
        o.offset = report.base_offset < 0 ? -1 : report.base_offset + static_cast<int64_t>(i);
        o.error = report.error;
      }
      reported_ += report.indices.size();
      report_sizes_.push_back(report.indices.size());
      changed_.notify_all();
    };
  }

  bool waitAll(std::chrono::milliseconds limit = 30s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return reported_ >= outcomes_.size(); });
  }

  std::vector<Outcome> snapshot() const {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

  // The number of records of each report, in the order they came.
  std::vector<size_t> reportSizes() const {
    std::lock_guard lock(mutex_);
    return report_sizes_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Outcome> outcomes_;
  size_t reported_ = 0;
  std::vector<size_t> report_sizes_;
};

// Records that own their bytes, and the views send() takes of them.
struct TestRecords {
  std::string topic;  // the records' views point into these members
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<OutgoingRecord> views;

  TestRecords(std::string topic_name, size_t count, const std::string& prefix,
              bool keyed = true, int32_t partition = kAnyPartition)
      : topic(std::move(topic_name)) {
    keys.reserve(count);
    values.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      keys.push_back("key-" + std::to_string(i % 17));
      values.push_back(prefix + "-" + std::to_string(i));
    }
    for (size_t i = 0; i < count; ++i) {
      OutgoingRecord r;
      r.topic = topic;
      r.partition = partition;
      if (keyed) r.key = bytes(keys[i]);
      r.value = bytes(values[i]);
      views.push_back(r);
    }
  }

  TestRecords(const TestRecords&) = delete;
  TestRecords& operator=(const TestRecords&) = delete;

  static protocol::ByteView bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }
};

class ProducerTest : public integration::MockClusterTest {
 protected:
  ProducerTest()
      : MockClusterTest({.brokers = 3, .topics = {{"orders", 4}, {"single", 1}}}) {}

  ~ProducerTest() override {
    if (producer_) closeProducer();
    if (cluster_) cluster_->stop();
  }

  void SetUp() override {
    MockClusterTest::SetUp();
    cluster_ = startCluster(io_.executor());
    ASSERT_TRUE(cluster_->ready());
  }

  static ProducerConfig fastConfig() {
    ProducerConfig config;
    config.retry_backoff = 20ms;
    config.retry_backoff_max = 200ms;
    config.request_timeout = 3s;
    config.delivery_timeout = 20s;
    return config;
  }

  void startProducer(ProducerConfig config = fastConfig()) {
    ASSERT_TRUE(Producer::validate(config).ok());
    producer_ = Producer::create(io_.executor(), cluster_, config);
  }

  // Sends records[first, last) of `all` and waits until they are buffered (not delivered).
  void send(const TestRecords& all, Outcomes& outcomes, size_t first = 0,
            size_t last = std::numeric_limits<size_t>::max()) {
    last = std::min(last, all.views.size());
    send(std::vector<OutgoingRecord>(all.views.begin() + static_cast<std::ptrdiff_t>(first),
                                     all.views.begin() + static_cast<std::ptrdiff_t>(last)),
         outcomes, first);
  }
  void send(std::vector<OutgoingRecord> records, Outcomes& outcomes, size_t first = 0) {
    std::promise<void> accepted;
    auto future = accepted.get_future();
    producer_->send(std::move(records), outcomes.handler(first),
                    [&accepted] { accepted.set_value(); });
    ASSERT_EQ(future.wait_for(30s), std::future_status::ready);
  }

  Result<void> flush(std::chrono::milliseconds timeout = 30s) {
    std::promise<Result<void>> done;
    auto future = done.get_future();
    producer_->flush(timeout, [&done](Result<void> r) { done.set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(timeout + 5s), std::future_status::ready);
    return future.get();
  }

  void closeProducer(std::chrono::milliseconds timeout = 10s) {
    std::promise<void> done;
    auto future = done.get_future();
    producer_->close(timeout, [&done] { done.set_value(); });
    EXPECT_EQ(future.wait_for(timeout + 5s), std::future_status::ready);
    producer_.reset();
  }

  std::vector<LoggedRecord> log(const std::string& topic, int32_t partition) {
    auto records = integration::readPartition(*cluster_, topic, partition);
    EXPECT_TRUE(records.ok()) << records.error().toString();
    return records.ok() ? *records : std::vector<LoggedRecord>{};
  }

  // Every record reported delivered is in the log once, at the reported offset, and the log
  // holds nothing else of this test's records (values start with `prefix`); per partition, the
  // delivered records are in send order. Returns how many were delivered.
  size_t expectLogMatches(const std::string& topic, int32_t partitions, const TestRecords& sent,
                          const Outcomes& outcomes) {
    auto results = outcomes.snapshot();
    std::map<std::string, size_t> index_of_value;
    for (size_t i = 0; i < sent.values.size(); ++i) index_of_value[sent.values[i]] = i;
    size_t delivered = 0;
    std::vector<int> seen(sent.values.size(), 0);
    for (int32_t p = 0; p < partitions; ++p) {
      int64_t last_index = -1;
      for (const LoggedRecord& r : log(topic, p)) {
        auto it = index_of_value.find(r.value.value_or(""));
        if (it == index_of_value.end()) continue;
        const size_t i = it->second;
        ++seen[i];
        EXPECT_EQ(results[i].error.code, ErrorCode::kNone)
            << "record " << i << " is in the log but was reported " << results[i].error.toString();
        EXPECT_EQ(results[i].partition, p) << "record " << i;
        if (results[i].offset >= 0) {
          EXPECT_EQ(results[i].offset, r.offset) << "record " << i;
        }
        EXPECT_GT(static_cast<int64_t>(i), last_index) << "record " << i << " out of order";
        last_index = static_cast<int64_t>(i);
      }
    }
    for (size_t i = 0; i < sent.values.size(); ++i) {
      EXPECT_EQ(results[i].reports, 1) << "record " << i;
      if (results[i].error.code == ErrorCode::kNone) {
        ++delivered;
        EXPECT_EQ(seen[i], 1) << "record " << i << " reported delivered";
      }
    }
    return delivered;
  }


  integration::IoThreads io_{2};
  std::shared_ptr<Cluster> cluster_;
  std::shared_ptr<Producer> producer_;
};

TEST_F(ProducerTest, DeliversKeyedRecordsToTheirPartitionsInOrder) {
  startProducer();
  TestRecords records("orders", 2000, "keyed");
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  ASSERT_TRUE(outcomes.waitAll());
  auto results = outcomes.snapshot();
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_EQ(results[i].error.code, ErrorCode::kNone) << results[i].error.toString();
    EXPECT_EQ(results[i].partition, partitionForKey(TestRecords::bytes(records.keys[i]), 4));
  }
  EXPECT_EQ(expectLogMatches("orders", 4, records, outcomes), records.views.size());
  // Keys, headers and the producer's id arrive as sent.
  auto logged = log("orders", results[0].partition);
  ASSERT_FALSE(logged.empty());
  EXPECT_EQ(logged[0].key, records.keys[0]);
  EXPECT_GE(logged[0].producer_id, 0);
  EXPECT_EQ(logged[0].sequence, 0);
}

TEST_F(ProducerTest, KeylessRecordsStickToOnePartitionPerBatch) {
  startProducer();
  TestRecords records("orders", 300, "sticky", /*keyed=*/false);
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  ASSERT_TRUE(outcomes.waitAll());
  auto results = outcomes.snapshot();
  for (const auto& r : results) EXPECT_EQ(r.partition, results[0].partition);
  EXPECT_EQ(expectLogMatches("orders", 4, records, outcomes), records.views.size());
}

TEST_F(ProducerTest, KeylessRecordsMoveOnWhenABatchIsFull) {
  auto config = fastConfig();
  config.batch_size = 2048;  // about 60 of these records
  startProducer(config);
  TestRecords records("orders", 600, "full", /*keyed=*/false);
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  ASSERT_TRUE(outcomes.waitAll());
  std::set<int32_t> partitions;
  for (const auto& r : outcomes.snapshot()) partitions.insert(r.partition);
  EXPECT_GT(partitions.size(), 1u);
  // Each full batch is followed by one in another partition, not by a batch of the one record
  // that did not fit: only the last batch may be small.
  auto sizes = outcomes.reportSizes();
  ASSERT_GE(sizes.size(), 5u);
  EXPECT_LE(std::count_if(sizes.begin(), sizes.end(), [](size_t n) { return n < 20; }), 1);
  EXPECT_EQ(expectLogMatches("orders", 4, records, outcomes), records.views.size());
}

TEST_F(ProducerTest, BadRecordsFailAloneWithErrorsNamingTheFault) {
  startProducer();
  TestRecords records("orders", 6, "bad");
  records.views[1].partition = 9;
  records.views[2].topic = "no/such topic";
  records.views[3].topic = "";
  std::string huge(2 * 1024 * 1024, 'x');
  records.views[4].value = TestRecords::bytes(huge);
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  ASSERT_TRUE(outcomes.waitAll());
  auto results = outcomes.snapshot();
  EXPECT_EQ(results[0].error.code, ErrorCode::kNone);
  EXPECT_EQ(results[5].error.code, ErrorCode::kNone);
  EXPECT_EQ(results[1].error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_NE(results[1].error.message.find("partition 9 of topic orders does not exist"),
            std::string::npos)
      << results[1].error.message;
  EXPECT_EQ(results[2].error.code, ErrorCode::kInvalidTopicException);
  EXPECT_NE(results[2].error.message.find("0x2f at position 2"), std::string::npos)
      << results[2].error.message;
  EXPECT_EQ(results[3].error.code, ErrorCode::kInvalidTopicException);
  EXPECT_NE(results[3].error.message.find("empty"), std::string::npos);
  EXPECT_EQ(results[4].error.code, ErrorCode::kMessageTooLarge);
  EXPECT_NE(results[4].error.message.find("max.request.size"), std::string::npos);
  EXPECT_EQ(expectLogMatches("orders", 4, records, outcomes), 2u);
}

TEST_F(ProducerTest, UnknownTopicFailsItsRecordsAndNotOthers) {
  // The mock creates topics named in Metadata requests, unless told the topic is an error.
  command("topic error missing 3");
  startProducer();
  TestRecords records("orders", 4, "unknown");
  records.views[1].topic = "missing";
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  ASSERT_TRUE(outcomes.waitAll());
  auto results = outcomes.snapshot();
  EXPECT_EQ(results[1].error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_NE(results[1].error.message.find("missing"), std::string::npos);
  EXPECT_EQ(expectLogMatches("orders", 4, records, outcomes), 3u);
}

TEST_F(ProducerTest, RetriesInjectedErrorsWithoutLosingDuplicatingOrReordering) {
  startProducer();
  // NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT (twice each), then NOT_ENOUGH_REPLICAS.
  command("errors Produce 6 7 6 7 19");
  TestRecords records("orders", 3000, "retried");
  Outcomes outcomes(records.views.size());
  for (size_t first = 0; first < records.views.size(); first += 500) {
    send(records, outcomes, first, first + 500);
  }
  ASSERT_TRUE(outcomes.waitAll());
  EXPECT_EQ(expectLogMatches("orders", 4, records, outcomes), records.views.size());
}

TEST_F(ProducerTest, SurvivesALeaderGoingDownAndComingBack) {
  startProducer();
  TestRecords records("single", 400, "down");
  Outcomes outcomes(records.views.size());
  const NodeId leader = cluster_->metadata()->topic("single")->partitions[0].leader;
  send(records, outcomes, 0, 200);
  command("broker down " + std::to_string(leader));
  std::thread up([&] {
    std::this_thread::sleep_for(700ms);
    command("broker up " + std::to_string(leader));
  });
  send(records, outcomes, 200);
  up.join();
  ASSERT_TRUE(outcomes.waitAll());
  EXPECT_EQ(expectLogMatches("single", 1, records, outcomes), records.views.size());
}

TEST_F(ProducerTest, FollowsALeaderMove) {
  startProducer();
  TestRecords records("single", 400, "moved");
  Outcomes outcomes(records.views.size());
  send(records, outcomes, 0, 200);
  ASSERT_TRUE(flush().ok());
  const NodeId leader = cluster_->metadata()->topic("single")->partitions[0].leader;
  const NodeId next = leader % 3 + 1;
  command("leader single 0 " + std::to_string(next));
  send(records, outcomes, 200);
  ASSERT_TRUE(outcomes.waitAll());
  EXPECT_EQ(expectLogMatches("single", 1, records, outcomes), records.views.size());
  EXPECT_EQ(cluster_->metadata()->topic("single")->partitions[0].leader, next);
}

TEST_F(ProducerTest, BumpsTheEpochWhenTheBrokerLosesTheSequence) {
  startProducer();
  TestRecords records("single", 200, "bumped");
  Outcomes outcomes(records.views.size());
  send(records, outcomes, 0, 100);
  ASSERT_TRUE(flush().ok());
  command("errors Produce OUT_OF_ORDER_SEQUENCE_NUMBER");
  send(records, outcomes, 100);
  ASSERT_TRUE(outcomes.waitAll());
  EXPECT_EQ(expectLogMatches("single", 1, records, outcomes), records.views.size());
  auto logged = log("single", 0);
  ASSERT_FALSE(logged.empty());
  EXPECT_EQ(logged.front().producer_id, logged.back().producer_id);
  EXPECT_GT(logged.back().producer_epoch, logged.front().producer_epoch);
  EXPECT_EQ(logged.back().sequence, 99) << "sequences restart at 0 under the new epoch";
}

TEST_F(ProducerTest, FailsRecordsPastTheDeliveryTimeoutAndReportsEachOnce) {
  auto config = fastConfig();
  config.delivery_timeout = 1500ms;
  config.request_timeout = 1000ms;
  config.linger = 0ms;
  startProducer(config);
  const NodeId leader = cluster_->metadata()->topic("single")->partitions[0].leader;
  command("broker down " + std::to_string(leader));
  TestRecords records("single", 50, "late");
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  ASSERT_TRUE(outcomes.waitAll(10s));
  for (const auto& r : outcomes.snapshot()) {
    EXPECT_EQ(r.error.code, ErrorCode::kDeliveryTimedOut);
    EXPECT_NE(r.error.message.find("delivery.timeout.ms (1500 ms)"), std::string::npos)
        << r.error.message;
  }
  command("broker up " + std::to_string(leader));
  EXPECT_EQ(expectLogMatches("single", 1, records, outcomes), 0u);
}

TEST_F(ProducerTest, BackpressureKeepsBufferedBytesWithinBufferMemory) {
  auto config = fastConfig();
  config.buffer_memory = 256 * 1024;
  config.max_request_size = 64 * 1024;
  config.batch_size = 32 * 1024;
  startProducer(config);
  command("broker rtt -1 20");
  const std::string payload(1000, 'p');
  constexpr size_t kSends = 200, kPerSend = 50;  // 10 MB, 40x the buffer
  std::vector<std::unique_ptr<Outcomes>> outcomes;
  std::atomic<size_t> highest{0};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      size_t now = producer_->bufferedBytes();
      size_t seen = highest.load();
      while (now > seen && !highest.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(100us);
    }
  });
  for (size_t s = 0; s < kSends; ++s) {
    std::vector<OutgoingRecord> records(kPerSend);
    for (auto& r : records) {
      r.topic = "orders";
      r.value = TestRecords::bytes(payload);
    }
    outcomes.push_back(std::make_unique<Outcomes>(kPerSend));
    send(std::move(records), *outcomes.back());
    EXPECT_LE(producer_->bufferedBytes(), config.buffer_memory);
  }
  for (auto& o : outcomes) ASSERT_TRUE(o->waitAll());
  sampling = false;
  sampler.join();
  EXPECT_GT(highest.load(), config.buffer_memory / 2) << "the test did not fill the buffer";
  EXPECT_LE(highest.load(), config.buffer_memory);
  for (auto& o : outcomes) {
    for (const auto& r : o->snapshot()) EXPECT_EQ(r.error.code, ErrorCode::kNone);
  }
  EXPECT_EQ(producer_->bufferedBytes(), 0u);
}

TEST_F(ProducerTest, AcksZeroAndLz4AreDeliveredWithoutOffsets) {
  auto config = fastConfig();
  config.acks = Acks::kNone;
  config.compression = record::Compression::kLz4;
  startProducer(config);
  TestRecords records("single", 500, "fire-and-forget");
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  ASSERT_TRUE(outcomes.waitAll());
  for (const auto& r : outcomes.snapshot()) {
    EXPECT_EQ(r.error.code, ErrorCode::kNone);
    EXPECT_EQ(r.offset, -1);
  }
  // The broker has them (acks=0 gives no answer to wait for).
  ASSERT_TRUE(waitUntil([&] { return log("single", 0).size() == records.views.size(); }));
  EXPECT_EQ(log("single", 0).front().producer_id, -1) << "no idempotence without acks=all";
}

TEST_F(ProducerTest, CloseDeliversWhatWasSentAndRefusesMore) {
  auto config = fastConfig();
  config.linger = 10s;  // nothing would be sent before close() without the flush it does
  config.delivery_timeout = 30s;
  startProducer(config);
  TestRecords records("orders", 100, "closing");
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  auto producer = producer_;
  closeProducer();
  ASSERT_TRUE(outcomes.waitAll(1s));
  EXPECT_EQ(expectLogMatches("orders", 4, records, outcomes), records.views.size());

  Outcomes refused(1);
  std::promise<void> accepted;
  producer->send({records.views[0]}, refused.handler(), [&accepted] { accepted.set_value(); });
  ASSERT_EQ(accepted.get_future().wait_for(5s), std::future_status::ready);
  ASSERT_TRUE(refused.waitAll(1s));
  EXPECT_EQ(refused.snapshot()[0].error.code, ErrorCode::kShuttingDown);
}

TEST_F(ProducerTest, FlushTimesOutWhileTheLeaderIsDown) {
  startProducer();
  const NodeId leader = cluster_->metadata()->topic("single")->partitions[0].leader;
  command("broker down " + std::to_string(leader));
  TestRecords records("single", 10, "flush");
  Outcomes outcomes(records.views.size());
  send(records, outcomes);
  auto flushed = flush(300ms);
  ASSERT_FALSE(flushed.ok());
  EXPECT_EQ(flushed.error().code, ErrorCode::kRequestTimedOutLocally);
  command("broker up " + std::to_string(leader));
  ASSERT_TRUE(flush().ok());
  EXPECT_EQ(expectLogMatches("single", 1, records, outcomes), records.views.size());
}

TEST(ProducerConfigTest, ValidateNamesTheSettingAtFault) {
  ProducerConfig config;
  EXPECT_TRUE(Producer::validate(config).ok());
  config.buffer_memory = 1000;
  auto result = Producer::validate(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("buffer.memory"), std::string::npos);
  config = {};
  config.delivery_timeout = 1s;
  result = Producer::validate(config);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("delivery.timeout.ms"), std::string::npos);
}

}  // namespace
}  // namespace kafka::producer
