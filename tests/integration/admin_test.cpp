// The admin operations of client_core/admin against FakeAdminCluster (librdkafka's mock serves
// none of their APIs but the offset ones): CreateTopics and DeleteTopics routed to the
// controller and following it when it moves (NOT_CONTROLLER), per-topic errors, configuration
// entries with sensitive values dropped, ListGroups across brokers with one of them failing,
// DescribeGroups with the members' assignments decoded, and offset resets (refused while the
// group has members; earliest, latest, by time and to an offset, committed as a non-member).
// Then the errors that name an API a broker does not serve, from the fake and from the mock.
#include <gtest/gtest.h>

#include <future>

#include "client_core/admin/group_admin.hpp"
#include "client_core/admin/offset_reset.hpp"
#include "client_core/admin/topic_admin.hpp"
#include "client_core/group/consumer_protocol.hpp"
#include "tests/integration/fake_admin_cluster.hpp"
#include "tests/integration/io_threads.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::admin {
namespace {

using namespace std::chrono_literals;
using protocol::ApiKey;
using testing::FakeAdminCluster;

// Runs `start(done)` and waits (bounded) for `done`'s result.
template <class T, class Start>
Result<T> await(Start start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> result) { promise->set_value(std::move(result)); });
  if (future.wait_for(30s) != std::future_status::ready) {
    return Error{ErrorCode::kRequestTimedOutLocally, "the test gave up waiting"};
  }
  return future.get();
}

// The error of a result that should have failed; NONE when it did not.
template <class T>
Error errorOf(const Result<T>& result) {
  return result.ok() ? Error{} : result.error();
}

std::vector<int32_t> nodesOf(const std::vector<FakeAdminCluster::Received>& received) {
  std::vector<int32_t> nodes;
  for (const auto& r : received) nodes.push_back(r.node);
  return nodes;
}

class AdminTest : public ::testing::Test {
 protected:
  AdminTest() {
    ClusterConfig config;
    config.bootstrap_servers = fake_.bootstrapServers();
    config.connection.reconnect_backoff = 20ms;
    config.connection.reconnect_backoff_max = 200ms;
    config.connection.request_timeout = 5s;
    cluster_ = std::make_shared<Cluster>(io_.executor(), config);
  }
  ~AdminTest() override { cluster_->stop(); }

  Result<std::vector<CreatedTopic>> create(CreateTopicsQuery query) {
    return await<std::vector<CreatedTopic>>(
        [&](auto done) { createTopics(io_.executor(), cluster_, std::move(query), done); });
  }
  Result<std::vector<DeletedTopic>> remove(std::vector<std::string> topics) {
    return await<std::vector<DeletedTopic>>([&](auto done) {
      deleteTopics(io_.executor(), cluster_, {std::move(topics), 10s}, done);
    });
  }
  Result<std::vector<TopicConfigs>> configs(std::vector<std::string> topics,
                                            std::vector<std::string> keys = {}) {
    return await<std::vector<TopicConfigs>>([&](auto done) {
      describeTopicConfigs(io_.executor(), cluster_, {std::move(topics), std::move(keys), 10s},
                           done);
    });
  }
  Result<GroupListing> list() {
    return await<GroupListing>([&](auto done) { listGroups(io_.executor(), cluster_, 10s, done); });
  }
  Result<GroupDescription> describe(std::string group) {
    return await<GroupDescription>(
        [&](auto done) { describeGroup(io_.executor(), cluster_, std::move(group), 10s, done); });
  }
  Result<std::vector<TopicReset>> reset(std::string group, std::vector<ResetSelection> topics,
                                        ResetTarget target, bool dry_run = false) {
    OffsetResetQuery query{std::move(group), std::move(topics), target, dry_run, 10s};
    return await<std::vector<TopicReset>>(
        [&](auto done) { resetGroupOffsets(io_.executor(), cluster_, std::move(query), done); });
  }

  FakeAdminCluster fake_{3};
  integration::IoThreads io_;
  std::shared_ptr<Cluster> cluster_;
};

TEST_F(AdminTest, CreateTopicsFollowsTheControllerWhenItMoved) {
  fake_.setController(/*real=*/3, /*advertised=*/2);
  CreateTopicsQuery query;
  query.topics = {{"orders", 6, 1, {{"cleanup.policy", "compact"}}},
                  {"logs", std::nullopt, std::nullopt, {}}};
  auto created = create(query);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  ASSERT_EQ(created->size(), 2u);
  const CreatedTopic& orders = (*created)[0];
  EXPECT_EQ(orders.name, "orders");
  EXPECT_EQ(orders.error.code, ErrorCode::kNone) << orders.error.toString();
  EXPECT_EQ(orders.partitions, 6);
  EXPECT_EQ(orders.replication_factor, 1);
  EXPECT_FALSE(orders.topic_id.isZero());
  const CreatedTopic& logs = (*created)[1];
  EXPECT_EQ(logs.error.code, ErrorCode::kNone) << logs.error.toString();
  EXPECT_EQ(logs.partitions, 3) << "the broker's default";
  EXPECT_EQ(logs.replication_factor, 1);
  EXPECT_TRUE(fake_.hasTopic("orders"));
  EXPECT_TRUE(fake_.hasTopic("logs"));
  EXPECT_EQ(fake_.topicConfigs("orders"),
            (std::map<std::string, std::string>{{"cleanup.policy", "compact"}}));
  // First to the controller the metadata named, which answered NOT_CONTROLLER, then to the one
  // the refreshed metadata named.
  EXPECT_EQ(nodesOf(fake_.received(ApiKey::kCreateTopics)), (std::vector<int32_t>{2, 3}));
}

TEST_F(AdminTest, CreateTopicsReportsEachTopicsOutcome) {
  fake_.addTopic("exists", 1);
  fake_.scriptCreateError("forbidden", ErrorCode::kPolicyViolation);
  CreateTopicsQuery query;
  query.topics = {{"exists", 1, 1, {}},
                  {"too-many-replicas", 1, 5, {}},
                  {"forbidden", 1, 1, {}},
                  {"fine", 2, std::nullopt, {}}};
  auto created = create(query);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  ASSERT_EQ(created->size(), 4u);
  EXPECT_EQ((*created)[0].error.code, ErrorCode::kTopicAlreadyExists);
  EXPECT_EQ((*created)[1].error.code, ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ((*created)[2].error.code, ErrorCode::kPolicyViolation);
  EXPECT_NE((*created)[2].error.message.find("topic forbidden"), std::string::npos)
      << (*created)[2].error.message;
  EXPECT_EQ((*created)[3].name, "fine");
  EXPECT_EQ((*created)[3].error.code, ErrorCode::kNone);
  EXPECT_EQ((*created)[3].partitions, 2);
  EXPECT_FALSE(fake_.hasTopic("too-many-replicas"));
  EXPECT_TRUE(fake_.hasTopic("fine"));
  EXPECT_EQ(fake_.received(ApiKey::kCreateTopics).size(), 1u) << "final answers are not retried";
}

TEST_F(AdminTest, ValidateOnlyCreatesNothing) {
  CreateTopicsQuery query;
  query.topics = {{"checked", 4, 1, {}}};
  query.validate_only = true;
  auto created = create(query);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  EXPECT_EQ((*created)[0].error.code, ErrorCode::kNone);
  EXPECT_EQ((*created)[0].partitions, 4);
  EXPECT_FALSE(fake_.hasTopic("checked"));
}

TEST_F(AdminTest, AControllerThatNeverAnswersIsReportedPerTopicAtTheDeadline) {
  fake_.scriptCreateError("stuck", ErrorCode::kNotController);
  CreateTopicsQuery query;
  query.topics = {{"stuck", 1, 1, {}}, {"free", 1, 1, {}}};
  query.timeout = 1s;
  const auto start = std::chrono::steady_clock::now();
  auto created = create(query);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ((*created)[0].error.code, ErrorCode::kNotController);
  EXPECT_NE((*created)[0].error.message.find("given up after"), std::string::npos)
      << (*created)[0].error.message;
  EXPECT_EQ((*created)[1].error.code, ErrorCode::kNone);
  EXPECT_GE(fake_.received(ApiKey::kCreateTopics).size(), 2u);
}

TEST_F(AdminTest, InvalidArgumentsAreRefusedBeforeAnyRequest) {
  const std::pair<std::vector<NewTopic>, std::string> cases[] = {
      {{}, "topics: no topics given"},
      {{{"", 1, 1, {}}}, "topics[0]: the topic name is empty"},
      {{{"a", 1, 1, {}}, {"a", 1, 1, {}}}, "topics[1]: topic a is named twice"},
      {{{"a", 0, 1, {}}}, "topics[0].partitions: must be at least 1, got 0"},
      {{{"a", 1, 0, {}}}, "topics[0].replication_factor: must be at least 1"},
      {{{"a", 1, -2, {}}}, "topics[0].replication_factor: must be at least 1"},
      {{{"a", 1, 1, {{"", "x"}}}}, "topics[0].configs[0]: empty configuration name"},
      {{{"a", 1, 1, {{"k", "1"}, {"k", "2"}}}}, "topics[0].configs[1]: k is set twice"},
  };
  for (const auto& [topics, message] : cases) {
    CreateTopicsQuery query;
    query.topics = topics;
    auto created = create(query);
    ASSERT_FALSE(created.ok()) << message;
    EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(created.error().message.starts_with(message)) << created.error().message;
  }
  auto deleted = remove({"ok", "bad/name"});
  ASSERT_FALSE(deleted.ok());
  EXPECT_TRUE(deleted.error().message.starts_with("topics[1]: topic name 'bad/name'"))
      << deleted.error().message;
  auto described = configs({"t"}, {""});
  ASSERT_FALSE(described.ok());
  EXPECT_EQ(described.error().message, "keys[0]: empty configuration name");
  auto reset_without_group = reset("", {{"t", {}}}, {});
  ASSERT_FALSE(reset_without_group.ok());
  EXPECT_EQ(reset_without_group.error().message, "group: the group id is empty");
  auto negative = reset("g", {{"t", {0, -1}}}, {});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().message, "topics[0].partitions[1]: negative partition -1");
  auto before_epoch = reset("g", {{"t", {}}}, {ResetTarget::Kind::kTimestamp, -5, 0});
  ASSERT_FALSE(before_epoch.ok());
  EXPECT_EQ(before_epoch.error().message, "timestamp_ms: must not be negative, got -5");
  EXPECT_TRUE(fake_.received(ApiKey::kMetadata).empty()) << "nothing was sent";
}

TEST_F(AdminTest, DeleteTopicsAtTheController) {
  fake_.setController(2, 2);
  fake_.addTopic("old", 2);
  auto deleted = remove({"old", "never-was"});
  ASSERT_TRUE(deleted.ok()) << deleted.error().toString();
  ASSERT_EQ(deleted->size(), 2u);
  EXPECT_EQ((*deleted)[0].name, "old");
  EXPECT_EQ((*deleted)[0].error.code, ErrorCode::kNone);
  EXPECT_EQ((*deleted)[1].name, "never-was");
  EXPECT_EQ((*deleted)[1].error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_FALSE(fake_.hasTopic("old"));
  EXPECT_EQ(nodesOf(fake_.received(ApiKey::kDeleteTopics)), std::vector<int32_t>{2});
}

TEST_F(AdminTest, TopicConfigsNameTheirSourceAndHideSensitiveValues) {
  fake_.addTopic("orders", 1, {{"cleanup.policy", "compact"}});
  auto described = configs({"orders", "missing"});
  ASSERT_TRUE(described.ok()) << described.error().toString();
  ASSERT_EQ(described->size(), 2u);
  const TopicConfigs& orders = (*described)[0];
  EXPECT_EQ(orders.error.code, ErrorCode::kNone);
  ASSERT_EQ(orders.entries.size(), 3u);
  EXPECT_EQ(orders.entries[0].name, "cleanup.policy");
  EXPECT_EQ(orders.entries[0].value, "compact");
  EXPECT_EQ(orders.entries[0].source, ConfigSource::kDynamicTopic);
  EXPECT_FALSE(orders.entries[0].isDefault());
  EXPECT_EQ(orders.entries[1].name, "retention.ms");
  EXPECT_TRUE(orders.entries[1].isDefault());
  const ConfigEntry& password = orders.entries[2];
  EXPECT_EQ(password.name, "ssl.key.password");
  EXPECT_TRUE(password.is_sensitive);
  EXPECT_TRUE(password.read_only);
  EXPECT_FALSE(password.value) << "a sensitive value the broker sent is dropped";
  EXPECT_EQ(password.source, ConfigSource::kStaticBroker);
  const TopicConfigs& missing = (*described)[1];
  EXPECT_EQ(missing.error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(missing.error.message, "topic missing: Topic missing does not exist.");
  EXPECT_TRUE(missing.entries.empty());

  auto filtered = configs({"orders"}, {"retention.ms"});
  ASSERT_TRUE(filtered.ok()) << filtered.error().toString();
  ASSERT_EQ((*filtered)[0].entries.size(), 1u);
  EXPECT_EQ((*filtered)[0].entries[0].value, "604800000");
}

TEST_F(AdminTest, ListGroupsAsksEveryBrokerAndReportsTheOneThatFails) {
  fake_.addGroup({"billing", 1, "consumer", "Stable", "range", {}});
  fake_.addGroup({"audit", 3, "consumer", "Empty", "", {}});
  fake_.addGroup({"offsets-only", 1, "", "Empty", "", {}});
  fake_.addGroup({"lost", 2, "consumer", "Stable", "range", {}});
  fake_.breakListGroups(2);
  auto listing = list();
  ASSERT_TRUE(listing.ok()) << listing.error().toString();
  ASSERT_EQ(listing->groups.size(), 3u);
  EXPECT_EQ(listing->groups[0].group, "audit");
  EXPECT_EQ(listing->groups[0].state, "Empty");
  EXPECT_EQ(listing->groups[0].coordinator, 3);
  EXPECT_EQ(listing->groups[1].group, "billing");
  EXPECT_EQ(listing->groups[1].protocol_type, "consumer");
  EXPECT_EQ(listing->groups[1].state, "Stable");
  EXPECT_EQ(listing->groups[2].group, "offsets-only");
  EXPECT_EQ(listing->groups[2].protocol_type, "");
  ASSERT_EQ(listing->failures.size(), 1u);
  EXPECT_EQ(listing->failures[0].node, 2);
  EXPECT_EQ(listing->failures[0].error.code, ErrorCode::kTransport);
  EXPECT_EQ(fake_.received(ApiKey::kListGroups).size(), 5u)
      << "one answer from each good broker, three attempts at the broken one";
}

TEST_F(AdminTest, DescribeGroupDecodesTheConsumersAssignments) {
  FakeAdminCluster::Group group{"billing", 2, "consumer", "Stable", "cooperative-sticky", {}};
  group.members.push_back(
      {"m-1", "pod-0", "app", "/10.0.0.1",
       group::encodeAssignment({{{"orders", {2, 0}}, {"audit", {1}}}, std::nullopt})});
  group.members.push_back({"m-2", std::nullopt, "app", "/10.0.0.2", {}});
  group.members.push_back({"m-3", std::nullopt, "app", "/10.0.0.3", {0x00, 0x01, 0x02}});
  fake_.addGroup(group);
  auto described = describe("billing");
  ASSERT_TRUE(described.ok()) << described.error().toString();
  EXPECT_EQ(described->group, "billing");
  EXPECT_EQ(described->state, "Stable");
  EXPECT_EQ(described->protocol_type, "consumer");
  EXPECT_EQ(described->protocol, "cooperative-sticky");
  EXPECT_EQ(described->coordinator, 2);
  ASSERT_EQ(described->members.size(), 3u);
  const DescribedMember& first = described->members[0];
  EXPECT_EQ(first.member_id, "m-1");
  EXPECT_EQ(first.group_instance_id, "pod-0");
  EXPECT_EQ(first.client_id, "app");
  EXPECT_EQ(first.host, "/10.0.0.1");
  EXPECT_EQ(first.assignment,
            (std::vector<TopicPartition>{{"audit", 1}, {"orders", 0}, {"orders", 2}}));
  EXPECT_EQ(first.assignment_error.code, ErrorCode::kNone);
  EXPECT_TRUE(described->members[1].assignment.empty()) << "an empty assignment";
  EXPECT_EQ(described->members[1].assignment_error.code, ErrorCode::kNone);
  EXPECT_EQ(described->members[2].assignment_error.code, ErrorCode::kMalformedMessage);
  EXPECT_NE(described->members[2].assignment_error.message.find("member m-3"), std::string::npos);
  // Asked of the coordinator alone.
  EXPECT_EQ(nodesOf(fake_.received(ApiKey::kDescribeGroups)), std::vector<int32_t>{2});
}

TEST_F(AdminTest, AssignmentsOfOtherProtocolsAreNotDecoded) {
  FakeAdminCluster::Group group{"workers", 1, "connect", "Stable", "sessioned", {}};
  group.members.push_back({"w-1", std::nullopt, "connect-1", "/10.0.0.9", {0x7f}});
  fake_.addGroup(group);
  auto described = describe("workers");
  ASSERT_TRUE(described.ok()) << described.error().toString();
  ASSERT_EQ(described->members.size(), 1u);
  EXPECT_TRUE(described->members[0].assignment.empty());
  EXPECT_EQ(described->members[0].assignment_error.code, ErrorCode::kNone);
}

TEST_F(AdminTest, AnUnknownGroupIsDead) {
  auto described = describe("nobody");
  ASSERT_TRUE(described.ok()) << described.error().toString();
  EXPECT_EQ(described->state, "Dead");
  EXPECT_TRUE(described->members.empty());
  auto versions = fake_.received(ApiKey::kDescribeGroups);
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].version, 6) << "the version that answers GROUP_ID_NOT_FOUND";
}

class AdminResetTest : public AdminTest {
 protected:
  AdminResetTest() {
    fake_.addTopic("orders", 3);
    fake_.setLog({"orders", 0}, 10, 50, {{10, 1000}, {20, 2000}, {30, 3000}});
    fake_.setLog({"orders", 1}, 0, 5);
    fake_.setLog({"orders", 2}, 100, 100);
    fake_.addGroup({"billing", 2, "consumer", "Empty", "", {}});
    fake_.setCommitted("billing", {"orders", 0}, 40);
  }

  std::optional<int64_t> committed(int32_t partition) const {
    return fake_.committed("billing", {"orders", partition});
  }
};

TEST_F(AdminResetTest, RefusedWhileTheGroupHasMembers) {
  fake_.addGroup({"live", 1, "consumer", "Stable", "range", {{"m-1", {}, "app", "/h", {}}}});
  auto result = reset("live", {{"orders", {}}}, {ResetTarget::Kind::kEarliest});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNonEmptyGroup);
  EXPECT_NE(result.error().message.find("group live is Stable with 1 members"), std::string::npos)
      << result.error().message;
  EXPECT_TRUE(fake_.received(ApiKey::kOffsetCommit).empty());
}

TEST_F(AdminResetTest, DryRunShowsTheNewOffsetsAndCommitsNothing) {
  auto result = reset("billing", {{"orders", {}}}, {ResetTarget::Kind::kEarliest}, true);
  ASSERT_TRUE(result.ok()) << result.error().toString();
  ASSERT_EQ(result->size(), 1u);
  const auto& partitions = (*result)[0].partitions;
  ASSERT_EQ(partitions.size(), 3u);
  EXPECT_EQ(partitions[0].previous, 40);
  EXPECT_EQ(partitions[0].offset, 10);
  EXPECT_FALSE(partitions[1].previous);
  EXPECT_EQ(partitions[1].offset, 0);
  EXPECT_EQ(partitions[2].offset, 100);
  for (const auto& p : partitions) EXPECT_EQ(p.error.code, ErrorCode::kNone) << p.error.toString();
  EXPECT_TRUE(fake_.received(ApiKey::kOffsetCommit).empty());
  EXPECT_EQ(committed(0), 40);
}

TEST_F(AdminResetTest, ToEarliestCommitsAsANonMember) {
  auto result = reset("billing", {{"orders", {}}}, {ResetTarget::Kind::kEarliest});
  ASSERT_TRUE(result.ok()) << result.error().toString();
  EXPECT_EQ(committed(0), 10);
  EXPECT_EQ(committed(1), 0);
  EXPECT_EQ(committed(2), 100);
  auto commits = fake_.commits();
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].group, "billing");
  EXPECT_EQ(commits[0].generation, -1);
  EXPECT_EQ(commits[0].member_id, "");
  EXPECT_EQ(commits[0].offsets.size(), 3u);
  // At the group's coordinator.
  EXPECT_EQ(nodesOf(fake_.received(ApiKey::kOffsetCommit)), std::vector<int32_t>{2});
}

TEST_F(AdminResetTest, ToLatestOnSelectedPartitions) {
  auto result = reset("billing", {{"orders", {1}}}, {ResetTarget::Kind::kLatest});
  ASSERT_TRUE(result.ok()) << result.error().toString();
  ASSERT_EQ((*result)[0].partitions.size(), 1u);
  EXPECT_EQ((*result)[0].partitions[0].partition, 1);
  EXPECT_EQ((*result)[0].partitions[0].offset, 5);
  EXPECT_EQ(committed(1), 5);
  EXPECT_EQ(committed(0), 40) << "not selected";
  EXPECT_FALSE(committed(2));
}

TEST_F(AdminResetTest, ToATimestampOrTheEndWhenNothingIsThatLate) {
  auto at_time = reset("billing", {{"orders", {0}}}, {ResetTarget::Kind::kTimestamp, 1500, 0});
  ASSERT_TRUE(at_time.ok()) << at_time.error().toString();
  EXPECT_EQ((*at_time)[0].partitions[0].offset, 20);
  EXPECT_EQ((*at_time)[0].partitions[0].previous, 40);
  EXPECT_EQ(committed(0), 20);
  auto too_late = reset("billing", {{"orders", {0}}}, {ResetTarget::Kind::kTimestamp, 9999, 0});
  ASSERT_TRUE(too_late.ok()) << too_late.error().toString();
  EXPECT_EQ((*too_late)[0].partitions[0].offset, 50);
  EXPECT_EQ(committed(0), 50);
}

TEST_F(AdminResetTest, ToAnOffsetKeptWithinEachLog) {
  auto result = reset("billing", {{"orders", {}}}, {ResetTarget::Kind::kOffset, 0, 45});
  ASSERT_TRUE(result.ok()) << result.error().toString();
  EXPECT_EQ(committed(0), 45);
  EXPECT_EQ(committed(1), 5) << "down to the end of the log";
  EXPECT_EQ(committed(2), 100) << "up to the start of the log";
}

TEST_F(AdminResetTest, MissingTopicsAndPartitionsAreAnsweredInTheirEntries) {
  auto result =
      reset("new-group", {{"missing", {}}, {"orders", {7, 1}}}, {ResetTarget::Kind::kEarliest});
  ASSERT_TRUE(result.ok()) << result.error().toString();
  ASSERT_EQ(result->size(), 2u);
  EXPECT_EQ((*result)[0].error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_TRUE((*result)[0].partitions.empty());
  const auto& orders = (*result)[1].partitions;
  ASSERT_EQ(orders.size(), 2u);
  EXPECT_EQ(orders[0].partition, 1);
  EXPECT_EQ(orders[0].error.code, ErrorCode::kNone);
  EXPECT_EQ(orders[1].partition, 7);
  EXPECT_EQ(orders[1].error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(orders[1].offset, -1);
  EXPECT_EQ(fake_.committed("new-group", {"orders", 1}), 0) << "a Dead group may be reset";
  EXPECT_FALSE(fake_.hasTopic("missing")) << "not created";
}

TEST_F(AdminTest, AnApiTheBrokersDoNotServeIsNamed) {
  fake_.withoutApi(-1, ApiKey::kCreateTopics);
  fake_.withoutApi(-1, ApiKey::kDeleteTopics);
  fake_.withoutApi(-1, ApiKey::kDescribeConfigs);
  fake_.withoutApi(-1, ApiKey::kListGroups);
  fake_.withoutApi(-1, ApiKey::kDescribeGroups);
  fake_.addTopic("orders", 1);
  CreateTopicsQuery query;
  query.topics = {{"t", 1, 1, {}}};
  auto created = create(query);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kUnsupportedApi);
  EXPECT_TRUE(created.error().message.starts_with("the broker does not support CreateTopics"))
      << created.error().message;
  const std::pair<Error, std::string> failures[] = {
      {errorOf(remove({"orders"})), "DeleteTopics"},
      {errorOf(configs({"orders"})), "DescribeConfigs"},
      {errorOf(list()), "ListGroups"},
      {errorOf(describe("g")), "DescribeGroups"},
      {errorOf(reset("g", {{"orders", {}}}, {})), "DescribeGroups"},
  };
  for (const auto& [error, api] : failures) {
    EXPECT_EQ(error.code, ErrorCode::kUnsupportedApi) << api;
    EXPECT_TRUE(error.message.starts_with("the broker does not support " + api)) << error.message;
  }
  EXPECT_TRUE(fake_.received(ApiKey::kCreateTopics).empty()) << "never sent";
}

TEST_F(AdminTest, ListGroupsFailsWhenEveryBrokerFails) {
  for (int32_t node = 1; node <= 3; ++node) fake_.breakListGroups(node);
  auto listing = list();
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(listing.error().code, ErrorCode::kTransport);
}

// librdkafka 2.0.2's mock cluster advertises none of these APIs (see TESTING.md): each
// operation fails at once with an error naming the API.
class AdminMockClusterTest : public integration::MockClusterTest {
 protected:
  AdminMockClusterTest() : MockClusterTest({.brokers = 2, .topics = {{"orders", 2}}}) {}
  ~AdminMockClusterTest() override {
    if (cluster_) cluster_->stop();
  }

  integration::IoThreads io_;
  std::shared_ptr<Cluster> cluster_;
};

TEST_F(AdminMockClusterTest, EveryUnservedApiIsNamed) {
  cluster_ = startCluster(io_.executor());
  CreateTopicsQuery query;
  query.topics = {{"new", 1, 1, {}}};
  const std::pair<Error, std::string> failures[] = {
      {errorOf(await<std::vector<CreatedTopic>>(
           [&](auto done) { createTopics(io_.executor(), cluster_, query, done); })),
       "CreateTopics"},
      {errorOf(await<std::vector<DeletedTopic>>([&](auto done) {
         deleteTopics(io_.executor(), cluster_, {{"orders"}, 10s}, done);
       })),
       "DeleteTopics"},
      {errorOf(await<std::vector<TopicConfigs>>([&](auto done) {
         describeTopicConfigs(io_.executor(), cluster_, {{"orders"}, {}, 10s}, done);
       })),
       "DescribeConfigs"},
      {errorOf(await<GroupListing>(
           [&](auto done) { listGroups(io_.executor(), cluster_, 10s, done); })),
       "ListGroups"},
      {errorOf(await<GroupDescription>(
           [&](auto done) { describeGroup(io_.executor(), cluster_, "g", 10s, done); })),
       "DescribeGroups"},
  };
  for (const auto& [error, api] : failures) {
    EXPECT_EQ(error.code, ErrorCode::kUnsupportedApi) << api << ": " << error.toString();
    EXPECT_TRUE(error.message.starts_with("the broker does not support " + api)) << error.message;
  }
}

}  // namespace
}  // namespace kafka::admin
