// ListOffsets lookups against the mock-cluster tool: earliest and latest per partition, a
// partition that does not exist, and a routing error that a metadata refresh resolves.
#include "client_core/consumer/offset_lookup.hpp"

#include <gtest/gtest.h>

#include <future>

#include "client_core/producer/producer.hpp"
#include "tests/integration/io_threads.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::consumer {
namespace {

using namespace std::chrono_literals;

class OffsetLookupTest : public integration::MockClusterTest {
 protected:
  OffsetLookupTest()
      : MockClusterTest({.brokers = 3, .topics = {{"orders", 4}}}) {}
  ~OffsetLookupTest() override {
    if (cluster_) cluster_->stop();
  }

  void SetUp() override {
    MockClusterTest::SetUp();
    cluster_ = startCluster(io_.executor());
    ASSERT_TRUE(cluster_->ready());
  }

  // Writes `count` records to partition 1 of "orders".
  void produce(int count) {
    auto producer = producer::Producer::create(io_.executor(), cluster_, {});
    const std::string value = "v";
    std::vector<producer::OutgoingRecord> records(static_cast<size_t>(count));
    for (auto& r : records) {
      r.topic = "orders";
      r.partition = 1;
      r.value = protocol::ByteView(reinterpret_cast<const uint8_t*>(value.data()), 1);
    }
    std::atomic<int> delivered{0};
    producer->send(
        std::move(records),
        [&delivered](const producer::DeliveryReport& report) {
          if (report.error.code == ErrorCode::kNone) delivered += report.indices.size();
        },
        [] {});
    std::promise<void> closed;
    producer->close(10s, [&closed] { closed.set_value(); });
    ASSERT_EQ(closed.get_future().wait_for(15s), std::future_status::ready);
    ASSERT_EQ(delivered.load(), count);
  }

  std::vector<OffsetAnswer> lookUp(std::vector<OffsetQuery> queries) {
    std::promise<std::vector<OffsetAnswer>> answered;
    lookUpOffsets(io_.executor(), cluster_, std::move(queries),
                  IsolationLevel::kReadUncommitted,
                  [&answered](std::vector<OffsetAnswer> a) { answered.set_value(std::move(a)); });
    auto future = answered.get_future();
    EXPECT_EQ(future.wait_for(20s), std::future_status::ready);
    return future.get();
  }

  integration::IoThreads io_;
  std::shared_ptr<Cluster> cluster_;
};

TEST_F(OffsetLookupTest, AnswersEarliestAndLatestPerPartitionInQueryOrder) {
  produce(10);
  auto answers = lookUp({{"orders", 1, kLatestTimestamp},
                         {"orders", 1, kEarliestTimestamp},
                         {"orders", 0, kLatestTimestamp},
                         {"orders", 9, kLatestTimestamp},
                         {"orders", 3, kEarliestTimestamp}});
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(answers[0].error.code, ErrorCode::kNone) << answers[0].error.toString();
  EXPECT_EQ(answers[0].offset, 10);
  EXPECT_EQ(answers[1].offset, 0);
  EXPECT_EQ(answers[2].offset, 0);
  EXPECT_EQ(answers[3].error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_NE(answers[3].error.message.find("partition 9 of topic orders does not exist"),
            std::string::npos)
      << answers[3].error.message;
  EXPECT_EQ(answers[4].error.code, ErrorCode::kNone);
  EXPECT_EQ(answers[4].offset, 0);
}

TEST_F(OffsetLookupTest, AsksAgainAfterARoutingError) {
  produce(4);
  command("errors ListOffsets 6");  // NOT_LEADER_OR_FOLLOWER once
  auto answers = lookUp({{"orders", 1, kLatestTimestamp}});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].error.code, ErrorCode::kNone) << answers[0].error.toString();
  EXPECT_EQ(answers[0].offset, 4);
}

TEST_F(OffsetLookupTest, ReportsWhatStillFailsAfterItsAttempts) {
  command("errors ListOffsets 6 6 6 6");
  auto answers = lookUp({{"orders", 2, kLatestTimestamp}});
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].error.code, ErrorCode::kNotLeaderOrFollower);
  EXPECT_NE(answers[0].error.message.find("topic orders partition 2"), std::string::npos)
      << answers[0].error.message;
  command("clear-errors ListOffsets");
}

}  // namespace
}  // namespace kafka::consumer
