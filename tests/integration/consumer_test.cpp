// The Consumer against the mock-cluster tool: partitions read whole and in order, positions
// from committed offsets or the reset policy, seeks, pause and resume, end-of-partition events,
// group subscription, and the prefetch bound.
#include "client_core/consumer/consumer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "client_core/producer/producer.hpp"
#include "tests/integration/io_threads.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::consumer {
namespace {

using namespace std::chrono_literals;

constexpr int kPartitions = 3;

// Records what the consumer reports. Listener calls come on the consumer's strand; the test
// thread reads under the mutex.
class RecordingListener : public ConsumerListener {
 public:
  void onPartitionsAssigned(const std::vector<TopicPartition>& partitions) override {
    std::lock_guard lock(mutex);
    assigned.insert(assigned.end(), partitions.begin(), partitions.end());
  }
  void onPartitionsRevoked(const std::vector<TopicPartition>& partitions) override {
    std::lock_guard lock(mutex);
    revoked.insert(revoked.end(), partitions.begin(), partitions.end());
  }
  void onPartitionsLost(const std::vector<TopicPartition>&) override {}
  void onRecordsAvailable() override {}
  void onEndOfPartition(const TopicPartition& partition, int64_t offset) override {
    std::lock_guard lock(mutex);
    ends[partition] = offset;
  }
  void onCommitted(const Result<std::vector<group::PartitionResult>>& results) override {
    std::lock_guard lock(mutex);
    commits.push_back(results.ok() ? results->size() : 0);
  }
  void onError(const Error& error) override {
    std::lock_guard lock(mutex);
    errors.push_back(error);
  }

  std::mutex mutex;
  std::vector<TopicPartition> assigned;
  std::vector<TopicPartition> revoked;
  std::map<TopicPartition, int64_t> ends;
  std::vector<size_t> commits;
  std::vector<Error> errors;
};

// A record as the test keeps it after take().
struct Taken {
  TopicPartition partition;
  int64_t offset;
  std::string value;
};

class ConsumerTest : public integration::MockClusterTest {
 protected:
  ConsumerTest()
      : MockClusterTest({.brokers = 2, .topics = {{"events", kPartitions}}}) {}
  ~ConsumerTest() override {
    consumers_.clear();
    if (fetcher_) fetcher_->stop();
    if (cluster_) cluster_->stop();
  }

  void SetUp() override {
    MockClusterTest::SetUp();
    cluster_ = startCluster(io_.executor());
    ASSERT_TRUE(cluster_->ready());
    fetcher_ = Fetcher::create(io_.executor(), cluster_, FetchConfig{.max_wait = 100ms});
  }

  // Writes `per_partition` records to each partition; values "p<partition>-<index>", padded to
  // `value_size`, in batches of at most 16 KiB.
  void produce(int per_partition, size_t value_size = 0) {
    producer::ProducerConfig small_batches;
    small_batches.batch_size = 16 * 1024;
    auto producer = producer::Producer::create(io_.executor(), cluster_, small_batches);
    std::vector<std::string> values;
    for (int p = 0; p < kPartitions; ++p) {
      for (int i = 0; i < per_partition; ++i) {
        std::string value = "p" + std::to_string(p) + "-" + std::to_string(i);
        value.resize(std::max(value.size(), value_size), '.');
        values.push_back(std::move(value));
      }
    }
    std::vector<producer::OutgoingRecord> records(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      records[i].topic = "events";
      records[i].partition = static_cast<int32_t>(i / static_cast<size_t>(per_partition));
      records[i].value = protocol::ByteView(
          reinterpret_cast<const uint8_t*>(values[i].data()), values[i].size());
    }
    std::atomic<size_t> delivered{0};
    std::promise<void> sent;
    producer->send(
        std::move(records),
        [&delivered](const producer::DeliveryReport& report) {
          if (report.error.code == ErrorCode::kNone) delivered += report.indices.size();
        },
        [&sent] { sent.set_value(); });
    ASSERT_EQ(sent.get_future().wait_for(15s), std::future_status::ready);
    std::promise<void> closed;
    producer->close(10s, [&closed] { closed.set_value(); });
    ASSERT_EQ(closed.get_future().wait_for(15s), std::future_status::ready);
    ASSERT_EQ(delivered.load(), values.size());
  }

  ConsumerConfig config(const std::string& group, OffsetReset reset = OffsetReset::kEarliest) {
    ConsumerConfig c;
    c.group.group_id = group;
    c.group.session_timeout = 6s;
    c.group.heartbeat_interval = 500ms;
    c.offset_reset = reset;
    c.auto_commit = false;
    return c;
  }

  std::shared_ptr<Consumer> makeConsumer(ConsumerConfig c) {
    auto consumer = Consumer::create(boost::asio::make_strand(io_.executor()), cluster_,
                                     fetcher_, std::move(c), listener_);
    consumers_.push_back(consumer);
    return consumer;
  }

  // Runs `f` on the consumer's strand and returns what it returns.
  template <class F>
  auto onStrand(const std::shared_ptr<Consumer>& consumer, F f) {
    using R = decltype(f());
    std::promise<R> done;
    boost::asio::post(consumer->strand(), [&] {
      if constexpr (std::is_void_v<R>) {
        f();
        done.set_value();
      } else {
        done.set_value(f());
      }
    });
    auto future = done.get_future();
    EXPECT_EQ(future.wait_for(10s), std::future_status::ready);
    return future.get();
  }

  std::vector<TopicPartition> allPartitions() const {
    std::vector<TopicPartition> all;
    for (int p = 0; p < kPartitions; ++p) all.push_back({"events", p});
    return all;
  }

  // Takes records until `count` arrived or `limit` passed.
  std::vector<Taken> takeRecords(const std::shared_ptr<Consumer>& consumer, size_t count,
                                 std::chrono::milliseconds limit = 10s) {
    std::vector<Taken> taken;
    integration::waitUntil(
        [&] {
          onStrand(consumer, [&] {
            consumer->take(count - taken.size(), 1 << 20, [&](const TakenRecords& run) {
              for (const auto& record : run.records) {
                taken.push_back({run.partition, record.offset,
                                 std::string(record.value->begin(), record.value->end())});
              }
            });
          });
          return taken.size() >= count;
        },
        limit);
    return taken;
  }

  // Every partition's records in order, offsets 0.. with the values produce() wrote.
  static void expectComplete(const std::vector<Taken>& taken, int per_partition,
                             int64_t from = 0) {
    std::map<int32_t, std::vector<const Taken*>> by_partition;
    for (const auto& t : taken) by_partition[t.partition.partition].push_back(&t);
    ASSERT_EQ(by_partition.size(), static_cast<size_t>(kPartitions));
    for (auto& [partition, records] : by_partition) {
      ASSERT_EQ(records.size(), static_cast<size_t>(per_partition - from));
      for (size_t i = 0; i < records.size(); ++i) {
        const int64_t offset = from + static_cast<int64_t>(i);
        EXPECT_EQ(records[i]->offset, offset);
        EXPECT_EQ(records[i]->value, "p" + std::to_string(partition) + "-" +
                                         std::to_string(offset));
      }
    }
  }

  integration::IoThreads io_;
  std::shared_ptr<Cluster> cluster_;
  std::shared_ptr<Fetcher> fetcher_;
  std::shared_ptr<RecordingListener> listener_ = std::make_shared<RecordingListener>();
  std::vector<std::shared_ptr<Consumer>> consumers_;
};

TEST_F(ConsumerTest, ReadsAssignedPartitionsWholeAndInOrderThenReportsTheirEnds) {
  produce(200);
  auto consumer = makeConsumer(config("assign-all"));
  onStrand(consumer, [&] { consumer->assign(allPartitions()); });
  expectComplete(takeRecords(consumer, 3 * 200), 200);
  ASSERT_TRUE(integration::waitUntil([&] {
    std::lock_guard lock(listener_->mutex);
    return listener_->ends.size() == kPartitions;
  }));
  std::lock_guard lock(listener_->mutex);
  for (const auto& [partition, offset] : listener_->ends) EXPECT_EQ(offset, 200);
  EXPECT_TRUE(listener_->errors.empty());
}

TEST_F(ConsumerTest, CommitsWhatWasMarkedAndANewConsumerResumesThere) {
  produce(100);
  auto first = makeConsumer(config("resume"));
  onStrand(first, [&] { first->assign(allPartitions()); });
  ASSERT_EQ(takeRecords(first, 300).size(), 300u);

  std::promise<Result<std::vector<group::PartitionResult>>> committed;
  onStrand(first, [&] {
    for (const auto& partition : allPartitions()) first->markCommittable(partition, 60);
    first->commit([&](auto results) { committed.set_value(std::move(results)); });
  });
  auto results = committed.get_future().get();
  ASSERT_TRUE(results.ok()) << results.error().toString();
  ASSERT_EQ(results->size(), 3u);
  for (const auto& r : *results) EXPECT_EQ(r.error.code, ErrorCode::kNone) << r.error.toString();

  std::promise<void> closed;
  onStrand(first, [&] { first->close([&] { closed.set_value(); }); });
  ASSERT_EQ(closed.get_future().wait_for(10s), std::future_status::ready);

  auto second = makeConsumer(config("resume"));
  onStrand(second, [&] { second->assign(allPartitions()); });
  expectComplete(takeRecords(second, 3 * 40), 100, 60);
}

TEST_F(ConsumerTest, ResetPolicyNoneReportsTheStartlessPartitionAndWaitsForASeek) {
  produce(10);
  auto consumer = makeConsumer(config("no-reset", OffsetReset::kNone));
  onStrand(consumer, [&] { consumer->assign({{"events", 1}}); });
  ASSERT_TRUE(integration::waitUntil([&] {
    std::lock_guard lock(listener_->mutex);
    return !listener_->errors.empty();
  }));
  {
    std::lock_guard lock(listener_->mutex);
    EXPECT_EQ(listener_->errors.front().code, ErrorCode::kNoOffsetToStartFrom);
    EXPECT_NE(listener_->errors.front().message.find("topic events partition 1"),
              std::string::npos)
        << listener_->errors.front().message;
  }
  std::promise<Result<int64_t>> sought;
  onStrand(consumer, [&] {
    consumer->seek({"events", 1}, {SeekTarget::Kind::kOffset, 4},
                   [&](Result<int64_t> r) { sought.set_value(std::move(r)); });
  });
  auto offset = sought.get_future().get();
  ASSERT_TRUE(offset.ok());
  auto taken = takeRecords(consumer, 6);
  ASSERT_EQ(taken.size(), 6u);
  EXPECT_EQ(taken.front().offset, 4);
  EXPECT_EQ(taken.front().value, "p1-4");
}

TEST_F(ConsumerTest, SeeksToTheBeginningTheEndAnOffsetAndPastTheEnd) {
  produce(50);
  auto consumer = makeConsumer(config("seeks"));
  const TopicPartition partition{"events", 2};
  onStrand(consumer, [&] { consumer->assign({partition}); });
  ASSERT_EQ(takeRecords(consumer, 50).size(), 50u);

  auto seek = [&](SeekTarget target) {
    std::promise<Result<int64_t>> sought;
    onStrand(consumer, [&] {
      consumer->seek(partition, target, [&](Result<int64_t> r) { sought.set_value(std::move(r)); });
    });
    auto future = sought.get_future();
    EXPECT_EQ(future.wait_for(10s), std::future_status::ready);
    return future.get();
  };

  auto beginning = seek({SeekTarget::Kind::kBeginning, 0});
  ASSERT_TRUE(beginning.ok());
  EXPECT_EQ(*beginning, 0);
  EXPECT_EQ(takeRecords(consumer, 50).front().offset, 0);

  auto end = seek({SeekTarget::Kind::kEnd, 0});
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(*end, 50);
  EXPECT_EQ(onStrand(consumer, [&] { return consumer->position(partition); }), 50);

  ASSERT_TRUE(seek({SeekTarget::Kind::kOffset, 42}).ok());
  auto from_42 = takeRecords(consumer, 8);
  ASSERT_EQ(from_42.size(), 8u);
  EXPECT_EQ(from_42.front().value, "p2-42");

  // Past the end: OFFSET_OUT_OF_RANGE, and the policy (earliest) starts over.
  ASSERT_TRUE(seek({SeekTarget::Kind::kOffset, 5000}).ok());
  auto reset = takeRecords(consumer, 50);
  ASSERT_EQ(reset.size(), 50u);
  EXPECT_EQ(reset.front().offset, 0);

  std::promise<Result<int64_t>> refused;
  onStrand(consumer, [&] {
    consumer->seek({"events", 0}, {SeekTarget::Kind::kOffset, 1},
                   [&](Result<int64_t> r) { refused.set_value(std::move(r)); });
  });
  auto error = refused.get_future().get();
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(error.error().message.find("topic events partition 0 is not assigned"),
            std::string::npos);
}

TEST_F(ConsumerTest, PausedPartitionsHandOutNothingUntilResumed) {
  produce(20);
  auto consumer = makeConsumer(config("pause"));
  onStrand(consumer, [&] {
    consumer->assign(allPartitions());
    EXPECT_TRUE(consumer->pause({{"events", 0}, {"events", 1}}).ok());
    EXPECT_EQ(consumer->pause({{"other", 0}}).error().code, ErrorCode::kInvalidArgument);
  });
  auto unpaused = takeRecords(consumer, 20);
  ASSERT_EQ(unpaused.size(), 20u);
  for (const auto& t : unpaused) EXPECT_EQ(t.partition.partition, 2);
  EXPECT_TRUE(takeRecords(consumer, 1, 300ms).empty());

  onStrand(consumer, [&] { EXPECT_TRUE(consumer->resume({{"events", 0}, {"events", 1}}).ok()); });
  auto resumed = takeRecords(consumer, 40);
  ASSERT_EQ(resumed.size(), 40u);
  for (const auto& t : resumed) EXPECT_NE(t.partition.partition, 2);
}

TEST_F(ConsumerTest, PrefetchStaysWithinTheBufferBound) {
  produce(400, 1000);  // about 1.2 MB
  auto c = config("bounded");
  c.max_buffered_bytes = 64 * 1024;
  auto consumer = makeConsumer(c);
  onStrand(consumer, [&] { consumer->assign(allPartitions()); });
  ASSERT_TRUE(integration::waitUntil([&] { return fetcher_->bufferedBytes() > 0; }));
  // Nothing is taken for a while: fetching stops near the bound (the fetches asked for before
  // it was reached, at most 64 KiB and a batch each, may overshoot it).
  size_t most = 0;
  for (int i = 0; i < 20; ++i) {
    most = std::max(most, fetcher_->bufferedBytes());
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_LE(most, c.max_buffered_bytes + kPartitions * (64 + 16) * 1024);
  auto taken = takeRecords(consumer, 3 * 400, 20s);
  EXPECT_EQ(taken.size(), 1200u);
}

TEST_F(ConsumerTest, SubscribedConsumerGetsEveryPartitionAndCommitsOnClose) {
  produce(30);
  auto consumer = makeConsumer(config("subscribers"));
  onStrand(consumer, [&] { consumer->subscribe({.topics = {"events"}, .pattern = {}}); });
  ASSERT_TRUE(integration::waitUntil(
      [&] {
        std::lock_guard lock(listener_->mutex);
        return listener_->assigned.size() == kPartitions;
      },
      15s));
  expectComplete(takeRecords(consumer, 90), 30);
  onStrand(consumer, [&] {
    for (const auto& partition : allPartitions()) consumer->markCommittable(partition, 30);
  });
  std::promise<void> closed;
  onStrand(consumer, [&] { consumer->close([&] { closed.set_value(); }); });
  ASSERT_EQ(closed.get_future().wait_for(15s), std::future_status::ready);
  {
    std::lock_guard lock(listener_->mutex);
    EXPECT_EQ(listener_->revoked.size(), static_cast<size_t>(kPartitions));
    ASSERT_FALSE(listener_->commits.empty());
    EXPECT_EQ(listener_->commits.back(), static_cast<size_t>(kPartitions));
  }

  auto reader = makeConsumer(config("subscribers"));
  std::promise<Result<std::vector<group::CommittedOffset>>> fetched;
  onStrand(reader, [&] {
    reader->committed(allPartitions(), [&](auto r) { fetched.set_value(std::move(r)); });
  });
  auto offsets = fetched.get_future().get();
  ASSERT_TRUE(offsets.ok());
  for (const auto& o : *offsets) EXPECT_EQ(o.offset, 30);
}

}  // namespace
}  // namespace kafka::consumer
