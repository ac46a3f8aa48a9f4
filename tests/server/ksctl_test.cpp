// ksctl in-process: argument handling, and its exact output against a fake Admin server whose
// answers carry what the mock cluster cannot produce (racks, a controller, internal topics,
// errors, offline replicas, leader epochs).
#include "tools/ksctl/ksctl.hpp"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <sstream>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "tools/ksctl/commands.hpp"

namespace kafka::ksctl {
namespace {

namespace v1 = kafka::sidecar::v1;

struct KsctlRun {
  int exit_code;
  std::string out;
  std::string err;
};

KsctlRun ksctl(std::vector<std::string_view> args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = runKsctl(args, out, err);
  return {code, out.str(), err.str()};
}

void addPartition(v1::Topic& topic, int id, int leader, int epoch, std::vector<int> replicas,
                  std::vector<int> isr, std::vector<int> offline = {}) {
  v1::Partition* p = topic.add_partitions();
  p->set_partition(id);
  p->set_leader(leader);
  p->set_leader_epoch(epoch);
  p->mutable_replicas()->Add(replicas.begin(), replicas.end());
  p->mutable_isr()->Add(isr.begin(), isr.end());
  p->mutable_offline_replicas()->Add(offline.begin(), offline.end());
}

// Answers with canned data, and records the cluster each request named.
class FakeAdmin final : public v1::Admin::Service {
 public:
  grpc::Status DescribeCluster(grpc::ServerContext*, const v1::DescribeClusterRequest* request,
                               v1::DescribeClusterResponse* response) override {
    last_cluster = request->cluster();
    if (request->cluster() == "down") return {grpc::StatusCode::UNAVAILABLE, "no broker"};
    response->set_cluster_id("c1");
    response->set_controller_id(2);
    auto add = [&](int id, std::string host, int port, std::string rack) {
      v1::Broker* broker = response->add_brokers();
      broker->set_node_id(id);
      broker->set_host(std::move(host));
      broker->set_port(port);
      broker->set_rack(std::move(rack));
    };
    add(1, "kafka-1.example", 9092, "eu-1a");
    add(2, "kafka-2.example", 9092, "");
    add(3, "::1", 19092, "eu-1c");
    return grpc::Status::OK;
  }

  grpc::Status ListTopics(grpc::ServerContext*, const v1::ListTopicsRequest* request,
                          v1::ListTopicsResponse* response) override {
    last_cluster = request->cluster();
    v1::Topic* offsets = response->add_topics();
    offsets->set_name("__consumer_offsets");
    offsets->set_internal(true);
    addPartition(*offsets, 0, 1, 4, {1, 2, 3}, {1, 2, 3});

    v1::Topic* orders = response->add_topics();
    orders->set_name("orders");
    addPartition(*orders, 0, 2, 7, {2, 3, 1}, {2, 3});
    addPartition(*orders, 1, -1, -1, {3}, {}, {3});
    v1::KafkaError* error = orders->mutable_partitions(1)->mutable_error();
    error->set_code(5);
    error->set_name("LEADER_NOT_AVAILABLE");

    v1::Topic* creating = response->add_topics();
    creating->set_name("creating");
    creating->mutable_error()->set_name("LEADER_NOT_AVAILABLE");
    return grpc::Status::OK;
  }

  std::string last_cluster;
};

class KsctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port, 0);
    addr_ = "127.0.0.1:" + std::to_string(port);
  }

  void TearDown() override { server_->Shutdown(); }

  FakeAdmin fake_;
  std::unique_ptr<grpc::Server> server_;
  std::string addr_;
};

TEST_F(KsctlTest, Brokers) {
  KsctlRun run = ksctl({"--addr", addr_, "brokers"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(run.out,
            "1 kafka-1.example:9092 rack=eu-1a\n"
            "2 kafka-2.example:9092 (controller)\n"
            "3 [::1]:19092 rack=eu-1c\n");
  EXPECT_EQ(fake_.last_cluster, "");
}

TEST_F(KsctlTest, Topics) {
  KsctlRun run = ksctl({"topics", "--addr", addr_});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(run.out,
            "__consumer_offsets partitions=1 internal\n"
            "orders partitions=2\n"
            "creating partitions=0 error=LEADER_NOT_AVAILABLE\n");
}

TEST_F(KsctlTest, TopicsVerbose) {
  for (std::string_view flag : {"-v", "--verbose"}) {
    KsctlRun run = ksctl({"--addr", addr_, "topics", flag});
    EXPECT_EQ(run.exit_code, kExitOk) << run.err;
    EXPECT_EQ(run.out,
              "__consumer_offsets partitions=1 internal\n"
              "  partition=0 leader=1 epoch=4 replicas=1,2,3 isr=1,2,3\n"
              "orders partitions=2\n"
              "  partition=0 leader=2 epoch=7 replicas=2,3,1 isr=2,3\n"
              "  partition=1 leader=-1 replicas=3 isr= offline=3 error=LEADER_NOT_AVAILABLE\n"
              "creating partitions=0 error=LEADER_NOT_AVAILABLE\n");
  }
}

TEST_F(KsctlTest, ClusterIsSent) {
  KsctlRun run = ksctl({"--cluster", "analytics", "--addr", addr_, "topics"});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(fake_.last_cluster, "analytics");
  run = ksctl({"brokers", "--cluster=other", "--addr=" + addr_});
  EXPECT_EQ(run.exit_code, kExitOk) << run.err;
  EXPECT_EQ(fake_.last_cluster, "other");
}

TEST_F(KsctlTest, RpcErrorIsPrintedWithCode) {
  KsctlRun run = ksctl({"--addr", addr_, "--cluster", "down", "brokers"});
  EXPECT_EQ(run.exit_code, kExitRpcFailed);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "ksctl: UNAVAILABLE: no broker\n");
}

TEST(KsctlUsageTest, Help) {
  KsctlRun run = ksctl({"--help"});
  EXPECT_EQ(run.exit_code, kExitOk);
  EXPECT_TRUE(run.out.starts_with("Usage: ksctl")) << run.out;
  for (const Command& command : commands()) {
    EXPECT_NE(run.out.find("  " + std::string(command.name)), std::string::npos) << command.name;
  }
  run = ksctl({"topics", "-h"});
  EXPECT_EQ(run.exit_code, kExitOk);
  EXPECT_TRUE(run.out.starts_with("Usage: ksctl [flags] topics [-v]")) << run.out;
}

TEST(KsctlUsageTest, Errors) {
  const std::pair<std::vector<std::string_view>, std::string_view> cases[] = {
      {{}, "Usage: ksctl"},
      {{"nope"}, "ksctl: unknown command 'nope'"},
      {{"--bogus", "brokers"}, "ksctl: unknown flag '--bogus'"},
      {{"brokers", "extra"}, "ksctl: brokers: unexpected argument 'extra'"},
      {{"topics", "-x"}, "ksctl: topics: unexpected argument '-x'"},
      {{"brokers", "--addr"}, "ksctl: missing value for --addr"},
      {{"--timeout", "0", "brokers"}, "ksctl: invalid value '0' for --timeout"},
      {{"--timeout=-1", "brokers"}, "ksctl: invalid value '-1' for --timeout"},
      {{"--timeout=soon", "brokers"}, "ksctl: invalid value 'soon' for --timeout"},
      {{"--addr=", "brokers"}, "ksctl: invalid value '' for --addr"},
  };
  for (const auto& [args, message] : cases) {
    KsctlRun run = ksctl(args);
    EXPECT_EQ(run.exit_code, kExitUsage) << message;
    EXPECT_TRUE(run.err.starts_with(message)) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

TEST(KsctlUsageTest, StatusCodeNames) {
  EXPECT_EQ(statusCodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_EQ(statusCodeName(grpc::StatusCode::DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
  EXPECT_EQ(statusCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
}

}  // namespace
}  // namespace kafka::ksctl
