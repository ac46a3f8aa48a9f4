// The Admin service's conversions from a metadata snapshot to its answers, for the fields the
// mock cluster never fills (racks, topic ids, errors, epochs, offline replicas), from described
// offsets (fields present or absent, errors), and from what the admin operations found. Then
// the service over gRPC in front of an in-process mock cluster: requests refused with
// INVALID_ARGUMENT naming the field, an unknown cluster, and UNIMPLEMENTED naming the Kafka API
// for the APIs the mock does not serve.
#include "server/admin_service.hpp"

#include <google/protobuf/text_format.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <boost/algorithm/string/split.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "server/service_status.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

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

TEST(AdminServiceTest, CreatedTopicsKeepUnknownCountsAtMinusOne) {
  admin::CreatedTopic created{"orders", {}, 6, 3, {}};
  created.topic_id.bytes[15] = 2;
  admin::CreatedTopic old_broker{"logs", {}, std::nullopt, std::nullopt, {}};
  admin::CreatedTopic refused{"taken",
                              {ErrorCode::kTopicAlreadyExists, "topic taken: exists"},
                              std::nullopt,
                              std::nullopt,
                              {}};
  v1::CreateTopicsResponse out;
  fillCreateTopics({created, old_broker, refused}, out);
  ASSERT_EQ(out.topics_size(), 3);
  EXPECT_EQ(out.topics(0).topic_id(), "AAAAAAAAAAAAAAAAAAAAAg");
  EXPECT_EQ(out.topics(0).partitions(), 6);
  EXPECT_EQ(out.topics(0).replication_factor(), 3);
  EXPECT_FALSE(out.topics(0).has_error());
  EXPECT_EQ(out.topics(1).topic_id(), "");
  EXPECT_EQ(out.topics(1).partitions(), -1);
  EXPECT_EQ(out.topics(1).replication_factor(), -1);
  EXPECT_EQ(out.topics(2).error().name(), "TOPIC_ALREADY_EXISTS");
  EXPECT_EQ(out.topics(2).error().message(), "topic taken: exists");
}

TEST(AdminServiceTest, TopicConfigsNeverCarrySensitiveValues) {
  admin::TopicConfigs orders;
  orders.topic = "orders";
  orders.entries.push_back(
      {"cleanup.policy", "compact", false, admin::ConfigSource::kDynamicTopic, false});
  orders.entries.push_back(
      {"retention.ms", "604800000", false, admin::ConfigSource::kDefault, false});
  // A sensitive entry that came with its value: the conversion drops it all the same.
  orders.entries.push_back(
      {"ssl.key.password", "hunter2", true, admin::ConfigSource::kUnknown, true});
  orders.entries.push_back(
      {"unset", std::nullopt, false, admin::ConfigSource::kStaticBroker, false});
  v1::DescribeTopicConfigsResponse out;
  fillTopicConfigs({orders}, out);
  ASSERT_EQ(out.topics_size(), 1);
  const auto& entries = out.topics(0).entries();
  ASSERT_EQ(entries.size(), 4);
  EXPECT_EQ(entries[0].value(), "compact");
  EXPECT_EQ(entries[0].source(), v1::CONFIG_SOURCE_DYNAMIC_TOPIC);
  EXPECT_FALSE(entries[0].is_default());
  EXPECT_EQ(entries[1].source(), v1::CONFIG_SOURCE_DEFAULT);
  EXPECT_TRUE(entries[1].is_default());
  EXPECT_FALSE(entries[2].has_value());
  EXPECT_TRUE(entries[2].is_sensitive());
  EXPECT_TRUE(entries[2].read_only());
  EXPECT_EQ(entries[2].source(), v1::CONFIG_SOURCE_UNSPECIFIED);
  EXPECT_FALSE(entries[3].has_value());
  EXPECT_EQ(entries[3].source(), v1::CONFIG_SOURCE_STATIC_BROKER);
}

TEST(AdminServiceTest, GroupListingsAndDescriptions) {
  admin::GroupListing listing;
  listing.groups.push_back({"billing", "consumer", "Stable", 2});
  listing.failures.push_back({3, {ErrorCode::kTransport, "broker 3: connection closed"}});
  v1::ListGroupsResponse groups;
  fillListGroups(listing, groups);
  ASSERT_EQ(groups.groups_size(), 1);
  EXPECT_EQ(groups.groups(0).group(), "billing");
  EXPECT_EQ(groups.groups(0).protocol_type(), "consumer");
  EXPECT_EQ(groups.groups(0).state(), "Stable");
  EXPECT_EQ(groups.groups(0).coordinator(), 2);
  ASSERT_EQ(groups.failed_brokers_size(), 1);
  EXPECT_EQ(groups.failed_brokers(0).node_id(), 3);
  EXPECT_EQ(groups.failed_brokers(0).error().name(), "TRANSPORT_ERROR");

  admin::GroupDescription group{"billing", "Stable", "consumer", "range", 2, {}};
  group.members.push_back(
      {"m-1", "pod-0", "app", "/10.0.0.1", {{"audit", 1}, {"orders", 0}, {"orders", 2}}, {}});
  group.members.push_back({"m-2",
                           std::nullopt,
                           "app",
                           "/10.0.0.2",
                           {},
                           {ErrorCode::kMalformedMessage, "member m-2: does not decode"}});
  v1::DescribeGroupResponse described;
  fillDescribeGroup(group, described);
  EXPECT_EQ(described.state(), "Stable");
  EXPECT_EQ(described.protocol(), "range");
  EXPECT_EQ(described.coordinator(), 2);
  ASSERT_EQ(described.members_size(), 2);
  const v1::GroupMember& first = described.members(0);
  EXPECT_EQ(first.group_instance_id(), "pod-0");
  EXPECT_EQ(first.host(), "/10.0.0.1");
  ASSERT_EQ(first.assignment_size(), 2);
  EXPECT_EQ(first.assignment(0).topic(), "audit");
  EXPECT_EQ(first.assignment(1).topic(), "orders");
  EXPECT_EQ(std::vector<int>(first.assignment(1).partitions().begin(),
                             first.assignment(1).partitions().end()),
            (std::vector{0, 2}));
  EXPECT_FALSE(first.has_assignment_error());
  EXPECT_EQ(described.members(1).group_instance_id(), "");
  EXPECT_EQ(described.members(1).assignment_error().name(), "MALFORMED_MESSAGE");
}

TEST(AdminServiceTest, ResetOffsetsKeepAnAbsentPreviousOffsetAbsent) {
  admin::TopicReset orders{"orders", {}, {}};
  orders.partitions.push_back({0, 40, 10, {}});
  orders.partitions.push_back({1, std::nullopt, 0, {}});
  orders.partitions.push_back(
      {7, std::nullopt, -1, {ErrorCode::kUnknownTopicOrPartition, "topic orders partition 7"}});
  admin::TopicReset gone{"gone", {ErrorCode::kUnknownTopicOrPartition, "no such topic"}, {}};
  v1::ResetGroupOffsetsResponse out;
  fillResetGroupOffsets({orders, gone}, out);
  ASSERT_EQ(out.topics_size(), 2);
  const auto& partitions = out.topics(0).partitions();
  ASSERT_EQ(partitions.size(), 3);
  EXPECT_TRUE(partitions[0].has_previous());
  EXPECT_EQ(partitions[0].previous(), 40);
  EXPECT_EQ(partitions[0].offset(), 10);
  EXPECT_FALSE(partitions[1].has_previous());
  EXPECT_EQ(partitions[2].offset(), -1);
  EXPECT_EQ(partitions[2].error().name(), "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_EQ(out.topics(1).error().code(), 3);
}

TEST(AdminServiceTest, StatusesOfWholeCallFailures) {
  const std::pair<ErrorCode, grpc::StatusCode> cases[] = {
      {ErrorCode::kUnsupportedApi, grpc::StatusCode::UNIMPLEMENTED},
      {ErrorCode::kNonEmptyGroup, grpc::StatusCode::FAILED_PRECONDITION},
      {ErrorCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {ErrorCode::kNoBrokerAvailable, grpc::StatusCode::UNAVAILABLE},
      {ErrorCode::kCoordinatorNotAvailable, grpc::StatusCode::UNAVAILABLE},
      {ErrorCode::kGroupAuthorizationFailed, grpc::StatusCode::PERMISSION_DENIED},
  };
  for (const auto& [code, status] : cases) {
    grpc::Status mapped = statusOf({code, "what happened"}, "cluster 'default'");
    EXPECT_EQ(mapped.error_code(), status) << errorName(code);
    EXPECT_EQ(mapped.error_message(), "cluster 'default': " + errorName(code) + ": what happened");
  }
}

// The service on a gRPC server of its own, in front of a one-broker mock cluster in this
// process, which serves none of the admin APIs (but FindCoordinator).
class AdminServiceCallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { mock_ = new mock::MockCluster(1); }
  static void TearDownTestSuite() {
    delete mock_;
    mock_ = nullptr;
  }

  void SetUp() override {
    ClusterConfig config;
    boost::algorithm::split(config.bootstrap_servers, mock_->bootstraps(),
                            [](char c) { return c == ','; });
    clusters_ =
        std::make_unique<ClusterRegistry>(io_.get_executor(), std::vector<ClusterConfig>{config});
    service_ = std::make_unique<AdminService>(io_.get_executor(), *clusters_, authorizer_);
    thread_ = std::thread([this] { io_.run(); });
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Admin::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                   grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    server_->Shutdown();
    clusters_->stopAll();
    work_.reset();
    thread_.join();
  }

  std::unique_ptr<grpc::ClientContext> context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return context;
  }

  // Calls `method` with the request written in protobuf text format; `code` must come back,
  // with a message that contains `needle`.
  template <class Request, class Response>
  void expectStatus(grpc::Status (v1::Admin::Stub::*method)(grpc::ClientContext*, const Request&,
                                                            Response*),
                    const std::string& request_text, grpc::StatusCode code,
                    const std::string& needle) {
    Request request;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(request_text, &request))
        << request_text;
    Response response;
    const grpc::Status status = (stub_.get()->*method)(context().get(), request, &response);
    EXPECT_EQ(status.error_code(), code) << request_text << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(needle), std::string::npos)
        << request_text << ": " << status.error_message();
  }

  static inline mock::MockCluster* mock_ = nullptr;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::unique_ptr<ClusterRegistry> clusters_;
  const Authorizer authorizer_;  // no tokens
  std::unique_ptr<AdminService> service_;
  std::thread thread_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Admin::Stub> stub_;
};

TEST_F(AdminServiceCallTest, InvalidArgumentsNameTheField) {
  using Stub = v1::Admin::Stub;
  const auto invalid = grpc::StatusCode::INVALID_ARGUMENT;
  const std::pair<std::string, std::string> topics[] = {
      {"", "topics: no topics given"},
      {R"(topics { partitions: 1 })", "topics[0]: the topic name is empty"},
      {R"(topics { name: "t" partitions: 0 })", "topics[0].partitions: must be at least 1, got 0"},
      {R"(topics { name: "t" replication_factor: 0 })",
       "topics[0].replication_factor: must be at least 1"},
      {R"(topics { name: "t" replication_factor: -2 })",
       "topics[0].replication_factor: must be at least 1"},
      {R"(topics { name: "t" replication_factor: 70000 })",
       "topics[0].replication_factor: 70000 is out of range"},
      {R"(topics { name: "t" configs { key: "" value: "v" } })",
       "topics[0].configs[0]: empty configuration name"},
  };
  for (const auto& [text, needle] : topics) {
    expectStatus(&Stub::CreateTopics, text, invalid, needle);
  }
  expectStatus(&Stub::DeleteTopics, R"(topics: "a" topics: "a")", invalid,
               "topics[1]: topic a is named twice");
  expectStatus(&Stub::DescribeTopicConfigs, R"(topics: "bad topic")", invalid,
               "topics[0]: topic name 'bad topic'");
  expectStatus(&Stub::DescribeGroup, "", invalid, "group: the group id is empty");
  const std::pair<std::string, std::string> resets[] = {
      {R"(group: "g" topics { topic: "t" })", "target: required"},
      {R"(group: "g" topics { topic: "t" } target: RESET_TARGET_OFFSET offset: -1)",
       "offset: must not be negative, got -1"},
      {R"(topics { topic: "t" } target: RESET_TARGET_LATEST)", "group: the group id is empty"},
      {R"(group: "g" target: RESET_TARGET_LATEST)", "topics: no topics given"},
      {R"(group: "g" topics { topic: "t" partitions: -3 } target: RESET_TARGET_LATEST)",
       "topics[0].partitions[0]: negative partition -3"},
  };
  for (const auto& [text, needle] : resets) {
    expectStatus(&Stub::ResetGroupOffsets, text, invalid, needle);
  }
}

TEST_F(AdminServiceCallTest, AnUnknownClusterIsNotFound) {
  expectStatus(&v1::Admin::Stub::ListGroups, R"(cluster: "elsewhere")", grpc::StatusCode::NOT_FOUND,
               "unknown cluster 'elsewhere'");
}

TEST_F(AdminServiceCallTest, ApisTheBrokersDoNotServeAreUnimplemented) {
  using Stub = v1::Admin::Stub;
  const auto unimplemented = grpc::StatusCode::UNIMPLEMENTED;
  const std::string unsupported = "UNSUPPORTED_API: the broker does not support ";
  expectStatus(&Stub::CreateTopics, R"(topics { name: "t" })", unimplemented,
               unsupported + "CreateTopics");
  expectStatus(&Stub::DeleteTopics, R"(topics: "t")", unimplemented, unsupported + "DeleteTopics");
  expectStatus(&Stub::DescribeTopicConfigs, R"(topics: "t")", unimplemented,
               unsupported + "DescribeConfigs");
  expectStatus(&Stub::ListGroups, "", unimplemented, unsupported + "ListGroups");
  expectStatus(&Stub::DescribeGroup, R"(group: "g")", unimplemented,
               unsupported + "DescribeGroups");
  expectStatus(&Stub::ResetGroupOffsets,
               R"(group: "g" topics { topic: "t" } target: RESET_TARGET_EARLIEST)", unimplemented,
               unsupported + "DescribeGroups");
}

}  // namespace
}  // namespace kafka::sidecar
