// The Admin service's conversions from a metadata snapshot to its answers, for the fields the
// mock cluster never fills (racks, topic ids, errors, epochs, offline replicas), and from
// described offsets (fields present or absent, errors).
#include "server/admin_service.hpp"

#include <gtest/gtest.h>

namespace kafka::sidecar {
namespace {

MetadataSnapshot snapshot() {
  MetadataSnapshot metadata;
  metadata.cluster_id = "abc";
  metadata.controller_id = 2;
  metadata.brokers[2] = BrokerInfo{2, "b2", 9093, std::nullopt};
  metadata.brokers[1] = BrokerInfo{1, "b1", 9092, "rack-a"};

  TopicInfo orders;
  orders.name = "orders";
  orders.id.bytes[15] = 1;
  orders.partitions.push_back(PartitionInfo{0, ErrorCode::kNone, 1, 5, {1, 2}, {1}, {2}});
  orders.partitions.push_back(
      PartitionInfo{1, ErrorCode::kLeaderNotAvailable, kNoNode, -1, {2}, {}, {}});
  metadata.topics["orders"] = orders;

  TopicInfo broken;
  broken.name = "broken";
  broken.error = ErrorCode::kTopicAuthorizationFailed;
  metadata.topics["broken"] = broken;
  return metadata;
}

TEST(AdminServiceTest, DescribeClusterFromSnapshot) {
  v1::DescribeClusterResponse out;
  fillDescribeCluster(snapshot(), out);
  EXPECT_EQ(out.cluster_id(), "abc");
  EXPECT_EQ(out.controller_id(), 2);
  ASSERT_EQ(out.brokers_size(), 2);
  EXPECT_EQ(out.brokers(0).node_id(), 1);
  EXPECT_EQ(out.brokers(0).host(), "b1");
  EXPECT_EQ(out.brokers(0).port(), 9092);
  EXPECT_EQ(out.brokers(0).rack(), "rack-a");
  EXPECT_EQ(out.brokers(1).node_id(), 2);
  EXPECT_EQ(out.brokers(1).rack(), "");
}

TEST(AdminServiceTest, ListTopicsFromSnapshot) {
  v1::ListTopicsResponse out;
  fillListTopics(snapshot(), out);
  ASSERT_EQ(out.topics_size(), 2);

  const v1::Topic& broken = out.topics(0);  // ordered by name
  EXPECT_EQ(broken.name(), "broken");
  EXPECT_EQ(broken.topic_id(), "");  // an all-zero id means the broker sent none
  ASSERT_TRUE(broken.has_error());
  EXPECT_EQ(broken.error().code(), 29);
  EXPECT_EQ(broken.error().name(), "TOPIC_AUTHORIZATION_FAILED");
  EXPECT_NE(broken.error().message().find("topic 'broken'"), std::string::npos);

  const v1::Topic& orders = out.topics(1);
  EXPECT_EQ(orders.name(), "orders");
  EXPECT_EQ(orders.topic_id(), "AAAAAAAAAAAAAAAAAAAAAQ");
  EXPECT_FALSE(orders.has_error());
  ASSERT_EQ(orders.partitions_size(), 2);
  const v1::Partition& p0 = orders.partitions(0);
  EXPECT_EQ(p0.partition(), 0);
  EXPECT_EQ(p0.leader(), 1);
  EXPECT_EQ(p0.leader_epoch(), 5);
  EXPECT_EQ(std::vector<int>(p0.replicas().begin(), p0.replicas().end()), (std::vector{1, 2}));
  EXPECT_EQ(std::vector<int>(p0.isr().begin(), p0.isr().end()), std::vector{1});
  EXPECT_EQ(std::vector<int>(p0.offline_replicas().begin(), p0.offline_replicas().end()),
            std::vector{2});
  EXPECT_FALSE(p0.has_error());
  const v1::Partition& p1 = orders.partitions(1);
  EXPECT_EQ(p1.leader(), -1);
  ASSERT_TRUE(p1.has_error());
  EXPECT_EQ(p1.error().name(), "LEADER_NOT_AVAILABLE");
  EXPECT_NE(p1.error().message().find("topic 'orders' partition 1"), std::string::npos);
}

TEST(AdminServiceTest, DescribeOffsetsKeepsAbsentFieldsAbsent) {
  consumer::TopicOffsets orders;
  orders.topic = "orders";
  consumer::PartitionOffsets& p0 = orders.partitions.emplace_back();
  p0.partition = 0;
  p0.earliest = 3;
  p0.latest = 9;
  p0.committed = 10;
  p0.committed_metadata = "m";
  p0.lag = -1;
  consumer::PartitionOffsets& p1 = orders.partitions.emplace_back();
  p1.partition = 1;
  p1.error = {ErrorCode::kNotLeaderOrFollower, "topic orders partition 1: moved"};
  consumer::TopicOffsets gone;
  gone.topic = "gone";
  gone.error = {ErrorCode::kUnknownTopicOrPartition, "topic gone: the cluster has no such topic"};

  v1::DescribeOffsetsResponse out;
  fillDescribeOffsets({orders, gone}, out);
  ASSERT_EQ(out.topics_size(), 2);
  ASSERT_EQ(out.topics(0).partitions_size(), 2);
  const v1::PartitionOffsetInfo& first = out.topics(0).partitions(0);
  EXPECT_EQ(first.earliest(), 3);
  EXPECT_EQ(first.latest(), 9);
  ASSERT_TRUE(first.has_committed());
  EXPECT_EQ(first.committed(), 10);
  EXPECT_EQ(first.committed_metadata(), "m");
  ASSERT_TRUE(first.has_lag());
  EXPECT_EQ(first.lag(), -1) << "a log truncated below the commit";
  EXPECT_FALSE(first.has_error());
  const v1::PartitionOffsetInfo& second = out.topics(0).partitions(1);
  EXPECT_EQ(second.latest(), -1);
  EXPECT_FALSE(second.has_committed());
  EXPECT_FALSE(second.has_lag());
  ASSERT_TRUE(second.has_error());
  EXPECT_EQ(second.error().name(), "NOT_LEADER_OR_FOLLOWER");
  EXPECT_EQ(second.error().message(), "topic orders partition 1: moved");
  EXPECT_EQ(out.topics(1).topic(), "gone");
  EXPECT_EQ(out.topics(1).partitions_size(), 0);
  EXPECT_EQ(out.topics(1).error().code(), 3);
}

}  // namespace
}  // namespace kafka::sidecar
