// ListOffsets lookups against the mock-cluster tool: earliest and latest per partition, a
// partition that does not exist, and a routing error that a metadata refresh resolves. Then
// describeOffsets, which adds a group's committed offsets and lag.
#include "client_core/consumer/offset_lookup.hpp"

#include <gtest/gtest.h>

#include <boost/asio/strand.hpp>
#include <future>

#include "client_core/consumer/partition_offsets.hpp"
#include "client_core/group/group_membership.hpp"
#include "client_core/producer/producer.hpp"
#include "tests/integration/io_threads.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::consumer {
namespace {

using namespace std::chrono_literals;

class OffsetLookupTest : public integration::MockClusterTest {
 protected:
  OffsetLookupTest() : MockClusterTest({.brokers = 3, .topics = {{"orders", 4}}}) {}
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
    lookUpOffsets(io_.executor(), cluster_, std::move(queries), IsolationLevel::kReadUncommitted,
                  [&answered](std::vector<OffsetAnswer> a) { answered.set_value(std::move(a)); });
    auto future = answered.get_future();
    EXPECT_EQ(future.wait_for(20s), std::future_status::ready);
    return future.get();
  }

  // Commits `offset` (with `metadata`) for `group` on partition `partition` of "orders", as a
  // consumer without a group membership does.
  void commit(const std::string& group, int32_t partition, int64_t offset,
              const std::string& metadata) {
    group::GroupConfig config;
    config.group_id = group;
    auto membership = group::GroupMembership::create(boost::asio::make_strand(io_.executor()),
                                                     cluster_, config, {});
    group::OffsetToCommit entry;
    entry.partition = {"orders", partition};
    entry.offset = offset;
    entry.metadata = metadata;
    std::promise<Result<std::vector<group::PartitionResult>>> committed;
    membership->commitOffsets(
        {entry}, [&committed](auto result) { committed.set_value(std::move(result)); });
    auto future = committed.get_future();
    ASSERT_EQ(future.wait_for(20s), std::future_status::ready);
    auto result = future.get();
    ASSERT_TRUE(result.ok()) << result.error().toString();
    ASSERT_EQ(result->size(), 1u);
    ASSERT_EQ(result->front().error.code, ErrorCode::kNone) << result->front().error.toString();
  }

  Result<std::vector<TopicOffsets>> describe(std::vector<std::string> topics,
                                             std::string group = {}) {
    OffsetsQuery query;
    query.topics = std::move(topics);
    query.group = std::move(group);
    std::promise<Result<std::vector<TopicOffsets>>> described;
    describeOffsets(io_.executor(), cluster_, std::move(query),
                    [&described](auto result) { described.set_value(std::move(result)); });
    auto future = described.get_future();
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

TEST_F(OffsetLookupTest, DescribesLogOffsetsCommittedOffsetsAndLag) {
  produce(10);
  commit("billing", 1, 6, "checkpoint-6");
  auto result = describe({"orders", "missing-topic", "orders"}, "billing");
  ASSERT_TRUE(result.ok()) << result.error().toString();
  ASSERT_EQ(result->size(), 2u) << "a topic named twice is described once";

  const TopicOffsets& orders = (*result)[0];
  EXPECT_EQ(orders.topic, "orders");
  EXPECT_EQ(orders.error.code, ErrorCode::kNone);
  ASSERT_EQ(orders.partitions.size(), 4u);
  for (int32_t i = 0; i < 4; ++i) {
    const PartitionOffsets& p = orders.partitions[static_cast<size_t>(i)];
    EXPECT_EQ(p.partition, i);
    EXPECT_EQ(p.error.code, ErrorCode::kNone) << p.error.toString();
    EXPECT_EQ(p.earliest, 0);
    EXPECT_EQ(p.latest, i == 1 ? 10 : 0);
    if (i == 1) continue;
    EXPECT_FALSE(p.committed) << "partition " << i << " has no commit";
    EXPECT_FALSE(p.lag);
  }
  const PartitionOffsets& committed = orders.partitions[1];
  EXPECT_EQ(committed.committed, 6);
  EXPECT_EQ(committed.committed_metadata, "checkpoint-6");
  EXPECT_EQ(committed.lag, 4);

  const TopicOffsets& missing = (*result)[1];
  EXPECT_EQ(missing.topic, "missing-topic");
  EXPECT_EQ(missing.error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_NE(missing.error.message.find("missing-topic"), std::string::npos);
  EXPECT_TRUE(missing.partitions.empty());

  // Describing did not create the topic.
  auto topics = describe({"missing-topic"});
  ASSERT_TRUE(topics.ok());
  EXPECT_EQ((*topics)[0].error.code, ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(OffsetLookupTest, ReportsPartitionFailuresInsideTheAnswer) {
  // Enough NOT_LEADER_OR_FOLLOWER for every request of every attempt (two per leader each).
  std::string errors = "errors ListOffsets";
  for (int i = 0; i < 18; ++i) errors += " 6";
  command(errors);
  auto result = describe({"orders"}, "nobody");
  command("clear-errors ListOffsets");
  ASSERT_TRUE(result.ok()) << result.error().toString();
  ASSERT_EQ(result->size(), 1u);
  ASSERT_EQ((*result)[0].partitions.size(), 4u);
  for (const PartitionOffsets& p : (*result)[0].partitions) {
    EXPECT_EQ(p.error.code, ErrorCode::kNotLeaderOrFollower);
    EXPECT_NE(p.error.message.find("partition " + std::to_string(p.partition)), std::string::npos)
        << p.error.message;
    EXPECT_EQ(p.latest, -1);
    EXPECT_FALSE(p.committed) << "the group has committed nothing";
    EXPECT_FALSE(p.lag);
  }
}

TEST_F(OffsetLookupTest, RefusesNoTopicsAndInvalidNames) {
  auto none = describe({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(none.error().message.find("no topics"), std::string::npos);
  auto invalid = describe({"orders", "bad/name"});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(invalid.error().message.find("bad/name"), std::string::npos) << invalid.error().message;
}

}  // namespace
}  // namespace kafka::consumer
