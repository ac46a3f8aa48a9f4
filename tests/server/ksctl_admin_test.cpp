// ksctl's admin subcommands in-process (topics create|delete|describe-config, groups
// list|describe|reset-offsets) against a fake Admin server: the requests they build from their
// arguments, their exact output, failed items on stderr with exit status 3, a failed call with
// exit status 1, and their usage errors.
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "tools/ksctl/ksctl.hpp"

namespace kafka::ksctl {
namespace {

namespace v1 = kafka::sidecar::v1;

struct KsctlRun {
  int exit_code;
  std::string out;
  std::string err;
};

KsctlRun ksctl(std::vector<std::string_view> args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  int code = runKsctl(args, out, err, in);
  return {code, out.str(), err.str()};
}

void setError(v1::KafkaError& error, int code, const std::string& name,
              const std::string& message) {
  error.set_code(code);
  error.set_name(name);
  error.set_message(message);
}

// Answers the admin calls with canned data and keeps the last request of each. The cluster
// "old" makes every call fail with UNIMPLEMENTED.
class FakeAdmin final : public v1::Admin::Service {
 public:
  grpc::Status CreateTopics(grpc::ServerContext*, const v1::CreateTopicsRequest* request,
                            v1::CreateTopicsResponse* response) override {
    if (auto refused = keep(*request, create)) return *refused;
    for (const v1::NewTopic& in : request->topics()) {
      v1::CreatedTopic* topic = response->add_topics();
      topic->set_name(in.name());
      if (in.name() == "taken") {
        setError(*topic->mutable_error(), 36, "TOPIC_ALREADY_EXISTS", "topic taken: exists");
        continue;
      }
      topic->set_partitions(in.has_partitions() ? in.partitions() : -1);
      topic->set_replication_factor(in.has_replication_factor() ? in.replication_factor() : -1);
      if (!request->validate_only()) topic->set_topic_id("AAAAAAAAAAAAAAAAAAAAAQ");
    }
    return grpc::Status::OK;
  }

  grpc::Status DeleteTopics(grpc::ServerContext*, const v1::DeleteTopicsRequest* request,
                            v1::DeleteTopicsResponse* response) override {
    if (auto refused = keep(*request, remove)) return *refused;
    for (const std::string& name : request->topics()) {
      v1::DeletedTopic* topic = response->add_topics();
      topic->set_name(name);
      if (name == "missing") {
        setError(*topic->mutable_error(), 3, "UNKNOWN_TOPIC_OR_PARTITION", "no such topic");
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status DescribeTopicConfigs(grpc::ServerContext*,
                                    const v1::DescribeTopicConfigsRequest* request,
                                    v1::DescribeTopicConfigsResponse* response) override {
    if (auto refused = keep(*request, configs)) return *refused;
    for (const std::string& name : request->topics()) {
      v1::TopicConfigs* topic = response->add_topics();
      topic->set_topic(name);
      if (name == "missing") {
        setError(*topic->mutable_error(), 3, "UNKNOWN_TOPIC_OR_PARTITION", "no such topic");
        continue;
      }
      v1::ConfigEntry* policy = topic->add_entries();
      policy->set_name("cleanup.policy");
      policy->set_value("compact");
      policy->set_source(v1::CONFIG_SOURCE_DYNAMIC_TOPIC);
      v1::ConfigEntry* retention = topic->add_entries();
      retention->set_name("retention.ms");
      retention->set_value("604800000");
      retention->set_source(v1::CONFIG_SOURCE_DEFAULT);
      retention->set_is_default(true);
      v1::ConfigEntry* password = topic->add_entries();
      password->set_name("ssl.key.password");
      password->set_is_sensitive(true);
      password->set_read_only(true);
      password->set_source(v1::CONFIG_SOURCE_STATIC_BROKER);
      v1::ConfigEntry* unknown = topic->add_entries();
      unknown->set_name("mystery");
    }
    return grpc::Status::OK;
  }

  grpc::Status ListGroups(grpc::ServerContext*, const v1::ListGroupsRequest* request,
                          v1::ListGroupsResponse* response) override {
    if (auto refused = keep(*request, list)) return *refused;
    auto add = [&](std::string group, std::string type, std::string state, int coordinator) {
      v1::ListedGroup* listed = response->add_groups();
      listed->set_group(std::move(group));
      listed->set_protocol_type(std::move(type));
      listed->set_state(std::move(state));
      listed->set_coordinator(coordinator);
    };
    add("audit", "consumer", "Empty", 3);
    add("billing", "consumer", "Stable", 1);
    add("offsets-only", "", "", 1);
    if (request->cluster() == "partial") {
      v1::BrokerError* failed = response->add_failed_brokers();
      failed->set_node_id(2);
      setError(*failed->mutable_error(), -100, "TRANSPORT_ERROR", "connection closed");
    }
    return grpc::Status::OK;
  }

  grpc::Status DescribeGroup(grpc::ServerContext*, const v1::DescribeGroupRequest* request,
                             v1::DescribeGroupResponse* response) override {
    if (auto refused = keep(*request, describe)) return *refused;
    response->set_group(request->group());
    response->set_state("Stable");
    response->set_protocol_type("consumer");
    response->set_protocol("range");
    response->set_coordinator(2);
    v1::GroupMember* first = response->add_members();
    first->set_member_id("m-1");
    first->set_group_instance_id("pod-0");
    first->set_client_id("app");
    first->set_host("/10.0.0.1");
    v1::TopicPartitions* audit = first->add_assignment();
    audit->set_topic("audit");
    audit->add_partitions(1);
    v1::TopicPartitions* orders = first->add_assignment();
    orders->set_topic("orders");
    orders->add_partitions(0);
    orders->add_partitions(2);
    v1::GroupMember* second = response->add_members();
    second->set_member_id("m-2");
    second->set_client_id("app");
    second->set_host("/10.0.0.2");
    setError(*second->mutable_assignment_error(), -102, "MALFORMED_MESSAGE", "bad bytes");
    return grpc::Status::OK;
  }

  grpc::Status ResetGroupOffsets(grpc::ServerContext*, const v1::ResetGroupOffsetsRequest* request,
                                 v1::ResetGroupOffsetsResponse* response) override {
    if (auto refused = keep(*request, reset)) return *refused;
    if (request->group() == "live") {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "cluster 'default': NON_EMPTY_GROUP: group live is Stable with 2 members"};
    }
    for (const v1::TopicSelection& selection : request->topics()) {
      v1::TopicOffsetReset* topic = response->add_topics();
      topic->set_topic(selection.topic());
      if (selection.topic() == "missing") {
        setError(*topic->mutable_error(), 3, "UNKNOWN_TOPIC_OR_PARTITION", "no such topic");
        continue;
      }
      v1::PartitionOffsetReset* first = topic->add_partitions();
      first->set_partition(0);
      first->set_previous(40);
      first->set_offset(10);
      v1::PartitionOffsetReset* second = topic->add_partitions();
      second->set_partition(1);
      second->set_offset(0);
      v1::PartitionOffsetReset* failed = topic->add_partitions();
      failed->set_partition(9);
      failed->set_offset(-1);
      setError(*failed->mutable_error(), 3, "UNKNOWN_TOPIC_OR_PARTITION", "no partition 9");
    }
    return grpc::Status::OK;
  }

  v1::CreateTopicsRequest create;
  v1::DeleteTopicsRequest remove;
  v1::DescribeTopicConfigsRequest configs;
  v1::ListGroupsRequest list;
  v1::DescribeGroupRequest describe;
  v1::ResetGroupOffsetsRequest reset;

 private:
  // Keeps `request` in `slot`; the status to fail with for cluster "old".
  template <class Request>
  std::optional<grpc::Status> keep(const Request& request, Request& slot) {
    std::lock_guard lock(mutex_);
    slot = request;
    if (request.cluster() != "old") return std::nullopt;
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "cluster 'old': UNSUPPORTED_API: the broker does not support it");
  }

  std::mutex mutex_;
};

class KsctlAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    addr_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override { server_->Shutdown(); }

  KsctlRun run(std::vector<std::string_view> args) {
    args.insert(args.begin(), {"--addr", addr_});
    return ksctl(std::move(args));
  }

  FakeAdmin fake_;
  std::unique_ptr<grpc::Server> server_;
  std::string addr_;
};

TEST_F(KsctlAdminTest, TopicsCreateSendsEverySetting) {
  KsctlRun created = run({"--cluster", "c1", "topics", "create", "-p", "6", "-r", "3", "--config",
                          "cleanup.policy=compact", "--config=retention.ms=", "orders"});
  EXPECT_EQ(created.exit_code, kExitOk) << created.err;
  EXPECT_EQ(created.err, "");
  EXPECT_EQ(created.out,
            "created orders partitions=6 replication_factor=3 id=AAAAAAAAAAAAAAAAAAAAAQ\n");
  const v1::CreateTopicsRequest& request = fake_.create;
  EXPECT_EQ(request.cluster(), "c1");
  EXPECT_FALSE(request.validate_only());
  ASSERT_EQ(request.topics_size(), 1);
  const v1::NewTopic& topic = request.topics(0);
  EXPECT_EQ(topic.name(), "orders");
  EXPECT_EQ(topic.partitions(), 6);
  EXPECT_EQ(topic.replication_factor(), 3);
  EXPECT_EQ(topic.configs().size(), 2u);
  EXPECT_EQ(topic.configs().at("cleanup.policy"), "compact");
  EXPECT_EQ(topic.configs().at("retention.ms"), "");

  KsctlRun defaults = run({"topics", "create", "--validate-only", "logs"});
  EXPECT_EQ(defaults.exit_code, kExitOk) << defaults.err;
  EXPECT_EQ(defaults.out, "valid logs\n") << "counts the broker did not report are left out";
  EXPECT_TRUE(fake_.create.validate_only());
  EXPECT_FALSE(fake_.create.topics(0).has_partitions());
  EXPECT_FALSE(fake_.create.topics(0).has_replication_factor());
}

TEST_F(KsctlAdminTest, ATopicThatWasNotCreatedIsReportedOnStderr) {
  KsctlRun run_result = run({"topics", "create", "taken"});
  EXPECT_EQ(run_result.exit_code, kExitNotDelivered);
  EXPECT_EQ(run_result.out, "");
  EXPECT_EQ(run_result.err,
            "ksctl: topics create: taken: TOPIC_ALREADY_EXISTS: topic taken: exists\n");
}

TEST_F(KsctlAdminTest, TopicsDelete) {
  KsctlRun deleted = run({"topics", "delete", "old", "missing"});
  EXPECT_EQ(deleted.exit_code, kExitNotDelivered);
  EXPECT_EQ(deleted.out, "deleted old\n");
  EXPECT_EQ(deleted.err,
            "ksctl: topics delete: missing: UNKNOWN_TOPIC_OR_PARTITION: no such topic\n");
  EXPECT_EQ(fake_.remove.topics_size(), 2);
}

TEST_F(KsctlAdminTest, TopicsDescribeConfigHidesSensitiveValues) {
  KsctlRun described = run({"topics", "describe-config", "--key", "cleanup.policy",
                            "--key=retention.ms", "orders", "missing"});
  EXPECT_EQ(described.exit_code, kExitOk) << described.err;
  EXPECT_EQ(described.out,
            "orders cleanup.policy=compact source=topic\n"
            "orders retention.ms=604800000 source=default\n"
            "orders ssl.key.password=(sensitive) source=static-broker read-only\n"
            "orders mystery=(none) source=unknown\n"
            "missing error=UNKNOWN_TOPIC_OR_PARTITION\n");
  EXPECT_EQ(std::vector<std::string>(fake_.configs.keys().begin(), fake_.configs.keys().end()),
            (std::vector<std::string>{"cleanup.policy", "retention.ms"}));
  EXPECT_EQ(fake_.configs.topics_size(), 2);
}

TEST_F(KsctlAdminTest, GroupsList) {
  for (std::vector<std::string_view> args :
       {std::vector<std::string_view>{"groups"}, std::vector<std::string_view>{"groups", "list"}}) {
    KsctlRun listed = run(args);
    EXPECT_EQ(listed.exit_code, kExitOk) << listed.err;
    EXPECT_EQ(listed.out,
              "audit type=consumer state=Empty coordinator=3\n"
              "billing type=consumer state=Stable coordinator=1\n"
              "offsets-only coordinator=1\n");
  }
  KsctlRun partial = run({"--cluster", "partial", "groups", "list"});
  EXPECT_EQ(partial.exit_code, kExitNotDelivered);
  EXPECT_EQ(partial.err, "ksctl: groups list: broker 2: TRANSPORT_ERROR: connection closed\n");
}

TEST_F(KsctlAdminTest, GroupsDescribe) {
  KsctlRun described = run({"groups", "describe", "billing"});
  EXPECT_EQ(described.exit_code, kExitOk) << described.err;
  EXPECT_EQ(described.out,
            "billing state=Stable type=consumer protocol=range coordinator=2 members=2\n"
            "  member=m-1 client=app host=/10.0.0.1 instance=pod-0 "
            "assignment=audit:1;orders:0,2\n"
            "  member=m-2 client=app host=/10.0.0.2 assignment-error=MALFORMED_MESSAGE\n");
  EXPECT_EQ(fake_.describe.group(), "billing");
}

TEST_F(KsctlAdminTest, GroupsResetOffsetsBuildsTheSelection) {
  KsctlRun reset = run({"groups", "reset-offsets", "billing", "--to-offset", "45", "--topic",
                        "orders:1,0", "--topic=audit", "--topic", "orders:3"});
  EXPECT_EQ(reset.exit_code, kExitNotDelivered);
  EXPECT_EQ(reset.out,
            "orders 0 previous=40 offset=10\n"
            "orders 1 previous=- offset=0\n"
            "audit 0 previous=40 offset=10\n"
            "audit 1 previous=- offset=0\n");
  EXPECT_EQ(reset.err,
            "ksctl: groups reset-offsets: orders 9: UNKNOWN_TOPIC_OR_PARTITION: no partition 9\n"
            "ksctl: groups reset-offsets: audit 9: UNKNOWN_TOPIC_OR_PARTITION: no partition 9\n");
  const v1::ResetGroupOffsetsRequest& request = fake_.reset;
  EXPECT_EQ(request.group(), "billing");
  EXPECT_EQ(request.target(), v1::RESET_TARGET_OFFSET);
  EXPECT_EQ(request.offset(), 45);
  EXPECT_FALSE(request.dry_run());
  ASSERT_EQ(request.topics_size(), 2);
  EXPECT_EQ(request.topics(0).topic(), "orders");
  EXPECT_EQ(std::vector<int32_t>(request.topics(0).partitions().begin(),
                                 request.topics(0).partitions().end()),
            (std::vector<int32_t>{0, 1, 3}));
  EXPECT_EQ(request.topics(1).topic(), "audit");
  EXPECT_TRUE(request.topics(1).partitions().empty()) << "every partition";
}

TEST_F(KsctlAdminTest, GroupsResetOffsetsTargets) {
  KsctlRun dry =
      run({"groups", "reset-offsets", "g", "--to-earliest", "--topic", "missing", "--dry-run"});
  EXPECT_EQ(dry.exit_code, kExitNotDelivered);
  EXPECT_EQ(dry.err,
            "ksctl: groups reset-offsets: missing: UNKNOWN_TOPIC_OR_PARTITION: no such topic\n"
            "ksctl: groups reset-offsets: dry run, nothing committed\n");
  EXPECT_EQ(fake_.reset.target(), v1::RESET_TARGET_EARLIEST);
  EXPECT_TRUE(fake_.reset.dry_run());
  EXPECT_EQ(run({"groups", "reset-offsets", "g", "--to-latest", "--topic", "t"}).exit_code,
            kExitNotDelivered);
  EXPECT_EQ(fake_.reset.target(), v1::RESET_TARGET_LATEST);
  EXPECT_EQ(run({"groups", "reset-offsets", "g", "--to-timestamp=1700000000000", "--topic", "t"})
                .exit_code,
            kExitNotDelivered);
  EXPECT_EQ(fake_.reset.target(), v1::RESET_TARGET_TIMESTAMP);
  EXPECT_EQ(fake_.reset.timestamp_ms(), 1700000000000);
}

TEST_F(KsctlAdminTest, CallFailuresArePrintedWithTheirStatus) {
  KsctlRun refused = run({"groups", "reset-offsets", "live", "--to-earliest", "--topic", "t"});
  EXPECT_EQ(refused.exit_code, kExitRpcFailed);
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(refused.err,
            "ksctl: FAILED_PRECONDITION: cluster 'default': NON_EMPTY_GROUP: group live is Stable "
            "with 2 members\n");
  KsctlRun old = run({"--cluster", "old", "topics", "create", "t"});
  EXPECT_EQ(old.exit_code, kExitRpcFailed);
  EXPECT_EQ(old.err,
            "ksctl: UNIMPLEMENTED: cluster 'old': UNSUPPORTED_API: the broker does not support "
            "it\n");
}

TEST(KsctlAdminUsageTest, Errors) {
  const std::pair<std::vector<std::string_view>, std::string_view> cases[] = {
      {{"topics", "create"}, "ksctl: topics create: missing TOPIC"},
      {{"topics", "create", "a", "b"}, "ksctl: topics create: unexpected argument 'b'"},
      {{"topics", "create", "-p", "0", "t"}, "ksctl: topics create: invalid value '0' for -p"},
      {{"topics", "create", "-p", "x", "t"}, "ksctl: topics create: invalid value 'x' for -p"},
      {{"topics", "create", "-r", "0", "t"}, "ksctl: topics create: invalid value '0' for -r"},
      {{"topics", "create", "-r", "40000", "t"},
       "ksctl: topics create: invalid value '40000' for -r"},
      {{"topics", "create", "t", "-p"}, "ksctl: topics create: missing value for -p"},
      {{"topics", "create", "--config", "=v", "t"},
       "ksctl: topics create: invalid value '=v' for --config"},
      {{"topics", "create", "--config", "novalue", "t"},
       "ksctl: topics create: invalid value 'novalue' for --config"},
      {{"topics", "create", "--config", "k=1", "--config", "k=2", "t"},
       "ksctl: topics create: --config k is given twice"},
      {{"topics", "create", "--bogus", "t"}, "ksctl: topics create: unknown flag '--bogus'"},
      {{"topics", "delete"}, "ksctl: topics delete: missing TOPIC"},
      {{"topics", "delete", "-v", "t"}, "ksctl: topics delete: unknown flag '-v'"},
      {{"topics", "delete", ""}, "ksctl: topics delete: invalid value '' for TOPIC"},
      {{"topics", "describe-config"}, "ksctl: topics describe-config: missing TOPIC"},
      {{"topics", "describe-config", "t", "--key"},
       "ksctl: topics describe-config: missing value for --key"},
      {{"topics", "describe-config", "--key=", "t"},
       "ksctl: topics describe-config: invalid value '' for --key"},
      {{"groups", "bogus"}, "ksctl: groups: unknown subcommand 'bogus'"},
      {{"groups", "list", "x"}, "ksctl: groups list: unexpected argument 'x'"},
      {{"groups", "describe"}, "ksctl: groups describe: missing GROUP"},
      {{"groups", "describe", "a", "b"}, "ksctl: groups describe: unexpected argument 'b'"},
      {{"groups", "describe", "-g"}, "ksctl: groups describe: invalid value '-g' for GROUP"},
      {{"groups", "reset-offsets", "--to-earliest", "--topic", "t"},
       "ksctl: groups reset-offsets: missing GROUP"},
      {{"groups", "reset-offsets", "g", "--topic", "t"},
       "ksctl: groups reset-offsets: missing --to-earliest, --to-latest, --to-timestamp or "
       "--to-offset"},
      {{"groups", "reset-offsets", "g", "--to-earliest"},
       "ksctl: groups reset-offsets: missing --topic"},
      {{"groups", "reset-offsets", "g", "--to-earliest", "--to-latest", "--topic", "t"},
       "ksctl: groups reset-offsets: only one of --to-earliest, --to-latest, --to-timestamp and "
       "--to-offset may be given"},
      {{"groups", "reset-offsets", "g", "--to-offset", "-1", "--topic", "t"},
       "ksctl: groups reset-offsets: invalid value '-1' for --to-offset"},
      {{"groups", "reset-offsets", "g", "--to-timestamp", "soon", "--topic", "t"},
       "ksctl: groups reset-offsets: invalid value 'soon' for --to-timestamp"},
      {{"groups", "reset-offsets", "g", "--topic", "t", "--to-offset"},
       "ksctl: groups reset-offsets: missing value for --to-offset"},
      {{"groups", "reset-offsets", "g", "--to-earliest", "--topic", ":1"},
       "ksctl: groups reset-offsets: invalid value ':1' for --topic"},
      {{"groups", "reset-offsets", "g", "--to-earliest", "--topic", "t:1,x"},
       "ksctl: groups reset-offsets: invalid value 't:1,x' for --topic"},
      {{"groups", "reset-offsets", "g", "--to-earliest", "--topic", "t:"},
       "ksctl: groups reset-offsets: invalid value 't:' for --topic"},
      {{"groups", "reset-offsets", "g", "--to-earliest=1", "--topic", "t"},
       "ksctl: groups reset-offsets: unknown flag '--to-earliest=1'"},
      {{"groups", "reset-offsets", "g", "h", "--to-earliest", "--topic", "t"},
       "ksctl: groups reset-offsets: unexpected argument 'h'"},
  };
  for (const auto& [args, message] : cases) {
    KsctlRun run = ksctl(args);
    EXPECT_EQ(run.exit_code, kExitUsage) << message;
    EXPECT_TRUE(run.err.starts_with(message)) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

TEST(KsctlAdminUsageTest, HelpDescribesTheSubcommands) {
  KsctlRun topics = ksctl({"topics", "--help"});
  EXPECT_EQ(topics.exit_code, kExitOk);
  for (std::string_view text : {"topics create", "topics delete TOPIC...", "topics describe-config",
                                "--validate-only", "(sensitive)"}) {
    EXPECT_NE(topics.out.find(text), std::string::npos) << text;
  }
  KsctlRun groups = ksctl({"groups", "-h"});
  EXPECT_EQ(groups.exit_code, kExitOk);
  EXPECT_TRUE(groups.out.starts_with("Usage: ksctl [flags] groups")) << groups.out;
  for (std::string_view text :
       {"groups describe GROUP", "groups reset-offsets", "--to-earliest", "--to-latest",
        "--to-timestamp MS", "--to-offset N", "--dry-run", "Empty or Dead"}) {
    EXPECT_NE(groups.out.find(text), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace kafka::ksctl
