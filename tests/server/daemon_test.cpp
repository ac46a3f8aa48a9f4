// End-to-end tests of a Daemon running in this process on ports 0: the Admin service, gRPC health
// and reflection, the HTTP probes and ksctl, against an embedded mock cluster (or a mock cluster
// given with --bootstrap-servers, or a closed port).
#include "server/daemon.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/algorithm/string/split.hpp>
#include <sstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "tests/server/test_support.hpp"
#include "tools/ksctl/ksctl.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka::sidecar {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using testing::httpRequest;
using testing::kWait;
using testing::waitUntil;

DaemonConfig testConfig() {
  DaemonConfig config;
  config.grpc_listen = "127.0.0.1:0";
  config.http_listen = {"127.0.0.1", 0};
  config.threads = 2;
  return config;
}

std::unique_ptr<grpc::ClientContext> callContext(std::chrono::seconds timeout = kWait) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

struct KsctlRun {
  int exit_code;
  std::string out;
  std::string err;
};

KsctlRun ksctl(std::vector<std::string_view> args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = ksctl::runKsctl(args, out, err);
  return {code, out.str(), err.str()};
}

// A daemon that is started in SetUp and stopped (and checked to stop) in TearDown.
class DaemonTest : public ::testing::Test {
 protected:
  void startDaemon(DaemonConfig config) {
    daemon_ = std::make_unique<Daemon>(std::move(config), Daemon::Signals::kIgnore);
    daemon_->start();
    channel_ = grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials());
    admin_ = v1::Admin::NewStub(channel_);
    health_ = grpc::health::v1::Health::NewStub(channel_);
  }

  void TearDown() override {
    if (!daemon_) return;
    auto started = std::chrono::steady_clock::now();
    daemon_->requestStop();
    daemon_->wait();
    // Well inside the grace periods: nothing was left hanging.
    EXPECT_LT(std::chrono::steady_clock::now() - started, Daemon::kGrpcGrace);
  }

  uint16_t httpPort() const { return daemon_->httpEndpoint().port(); }

  std::optional<HealthCheckResponse::ServingStatus> healthOf(const std::string& service,
                                                             grpc::Status* status_out = nullptr) {
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    grpc::Status status = health_->Check(callContext().get(), request, &response);
    if (status_out) *status_out = status;
    if (!status.ok()) return std::nullopt;
    return response.status();
  }

  bool waitForHealth(HealthCheckResponse::ServingStatus wanted, const std::string& service = "") {
    return waitUntil([&] { return healthOf(service) == wanted; });
  }

  std::unique_ptr<Daemon> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

class EmbeddedDaemonTest : public DaemonTest {
 protected:
  static constexpr int kBrokers = 3;

  void SetUp() override {
    DaemonConfig config = testConfig();
    config.embedded_brokers = kBrokers;
    startDaemon(std::move(config));
  }

  std::vector<std::string> bootstraps() const {
    std::vector<std::string> out;
    boost::algorithm::split(out, daemon_->embeddedBootstraps(), [](char c) { return c == ','; });
    return out;
  }
};

TEST_F(EmbeddedDaemonTest, ListenersAreBound) {
  EXPECT_NE(httpPort(), 0);
  EXPECT_TRUE(daemon_->grpcAddress().starts_with("127.0.0.1:"));
  EXPECT_NE(daemon_->grpcAddress(), "127.0.0.1:0");
  EXPECT_EQ(bootstraps().size(), static_cast<size_t>(kBrokers));
}

TEST_F(EmbeddedDaemonTest, DescribeClusterReturnsEmbeddedBrokers) {
  v1::DescribeClusterRequest request;
  v1::DescribeClusterResponse response;
  grpc::Status status = admin_->DescribeCluster(callContext().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_FALSE(response.cluster_id().empty());
  std::vector<std::string> addresses = bootstraps();
  ASSERT_EQ(response.brokers_size(), kBrokers);
  for (int i = 0; i < kBrokers; ++i) {
    const v1::Broker& broker = response.brokers(i);
    EXPECT_EQ(broker.node_id(), i + 1);  // the mock numbers brokers 1..N; the API sorts by id
    EXPECT_EQ(broker.host() + ":" + std::to_string(broker.port()), addresses[i]);
    EXPECT_EQ(broker.rack(), "");
  }
}

TEST_F(EmbeddedDaemonTest, DescribeClusterByDefaultName) {
  v1::DescribeClusterRequest request;
  request.set_cluster("default");
  v1::DescribeClusterResponse response;
  grpc::Status status = admin_->DescribeCluster(callContext().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.brokers_size(), kBrokers);
}

TEST_F(EmbeddedDaemonTest, ListTopicsReturnsDemoTopic) {
  v1::ListTopicsRequest request;
  v1::ListTopicsResponse response;
  grpc::Status status = admin_->ListTopics(callContext().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const v1::Topic* demo = nullptr;
  for (const v1::Topic& topic : response.topics()) {
    if (topic.name() == "demo") demo = &topic;
  }
  ASSERT_NE(demo, nullptr) << response.DebugString();
  EXPECT_FALSE(demo->internal());
  EXPECT_FALSE(demo->has_error());
  ASSERT_EQ(demo->partitions_size(), 3);
  for (int i = 0; i < 3; ++i) {
    const v1::Partition& partition = demo->partitions(i);
    EXPECT_EQ(partition.partition(), i);
    EXPECT_FALSE(partition.has_error()) << partition.error().message();
    EXPECT_GE(partition.leader(), 1);
    EXPECT_LE(partition.leader(), kBrokers);
    EXPECT_EQ(partition.replicas_size(), kBrokers);  // replication factor min(3, brokers)
    EXPECT_EQ(partition.isr_size(), kBrokers);
    EXPECT_NE(std::find(partition.isr().begin(), partition.isr().end(), partition.leader()),
              partition.isr().end());
    EXPECT_TRUE(partition.offline_replicas().empty());
  }
}

TEST_F(EmbeddedDaemonTest, UnknownClusterIsNotFound) {
  v1::DescribeClusterRequest describe;
  describe.set_cluster("nope");
  v1::DescribeClusterResponse described;
  grpc::Status status = admin_->DescribeCluster(callContext().get(), describe, &described);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("'nope'"), std::string::npos) << status.error_message();

  v1::ListTopicsRequest list;
  list.set_cluster("nope");
  v1::ListTopicsResponse listed;
  status = admin_->ListTopics(callContext().get(), list, &listed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("'nope'"), std::string::npos) << status.error_message();
}

TEST_F(EmbeddedDaemonTest, HealthIsServingOnceReady) {
  EXPECT_TRUE(waitForHealth(HealthCheckResponse::SERVING));
  EXPECT_TRUE(waitForHealth(HealthCheckResponse::SERVING, "kafka.sidecar.v1.Admin"));
  EXPECT_TRUE(daemon_->readiness().ready);

  grpc::Status status;
  EXPECT_EQ(healthOf("no.such.Service", &status), std::nullopt);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(EmbeddedDaemonTest, HttpProbes) {
  auto healthz = httpRequest(httpPort(), "GET", "/healthz");
  EXPECT_EQ(healthz.status, 200u) << healthz.error;
  EXPECT_EQ(healthz.body, "ok\n");

  ASSERT_TRUE(waitUntil([&] { return httpRequest(httpPort(), "GET", "/readyz").status == 200; }));
  EXPECT_EQ(httpRequest(httpPort(), "GET", "/readyz").body, "ok\n");

  EXPECT_EQ(httpRequest(httpPort(), "GET", "/nothing-here").status, 404u);
  EXPECT_EQ(httpRequest(httpPort(), "POST", "/healthz").status, 405u);
}

// Reflection, spoken with hand-encoded protobuf so that the test needs no reflection stubs:
// ServerReflectionRequest{list_services: ""} is field 7, length-delimited, empty.
TEST_F(EmbeddedDaemonTest, ReflectionListsServices) {
  grpc::GenericStub stub(channel_);
  auto context = callContext();
  grpc::CompletionQueue queue;
  auto call = stub.PrepareCall(
      context.get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  auto await = [&](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    auto status = queue.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + kWait);
    return status == grpc::CompletionQueue::GOT_EVENT && ok &&
           reinterpret_cast<intptr_t>(tag) == expected;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(await(1));
  grpc::Slice request_bytes(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&request_bytes, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(await(2));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  ASSERT_TRUE(await(3));
  call->WritesDone(reinterpret_cast<void*>(4));
  ASSERT_TRUE(await(4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(await(5));
  EXPECT_TRUE(status.ok()) << status.error_message();

  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) bytes.append(slice.begin(), slice.end());
  EXPECT_NE(bytes.find("kafka.sidecar.v1.Admin"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.reflection.v1alpha.ServerReflection"), std::string::npos);
  queue.Shutdown();
  void* tag;
  bool ok;
  while (queue.Next(&tag, &ok)) {
  }
}

TEST_F(EmbeddedDaemonTest, KsctlBrokers) {
  KsctlRun run = ksctl({"--addr", daemon_->grpcAddress(), "brokers"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  std::string expected;
  std::vector<std::string> addresses = bootstraps();
  for (size_t i = 0; i < addresses.size(); ++i) {
    expected += std::to_string(i + 1) + " " + addresses[i] + "\n";
  }
  EXPECT_EQ(run.out, expected);
}

TEST_F(EmbeddedDaemonTest, KsctlTopics) {
  KsctlRun run = ksctl({"--addr", daemon_->grpcAddress(), "topics"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "demo partitions=3\n");

  run = ksctl({"topics", "-v", "--addr=" + daemon_->grpcAddress(), "--cluster=default"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> lines;
  boost::algorithm::split(lines, run.out, [](char c) { return c == '\n'; });
  ASSERT_EQ(lines.size(), 5u) << run.out;  // the topic, 3 partitions, and the final newline
  EXPECT_EQ(lines[0], "demo partitions=3");
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(lines[1 + i].starts_with("  partition=" + std::to_string(i) + " leader="))
        << lines[1 + i];
    EXPECT_NE(lines[1 + i].find(" replicas="), std::string::npos) << lines[1 + i];
    EXPECT_NE(lines[1 + i].find(" isr="), std::string::npos) << lines[1 + i];
  }
  EXPECT_EQ(lines[4], "");
}

TEST_F(EmbeddedDaemonTest, KsctlUnknownCluster) {
  KsctlRun run = ksctl({"--addr", daemon_->grpcAddress(), "--cluster", "nope", "brokers"});
  EXPECT_EQ(run.exit_code, ksctl::kExitRpcFailed);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "ksctl: NOT_FOUND: unknown cluster 'nope'; configured: 'default'\n");
}

TEST_F(EmbeddedDaemonTest, KsctlBinary) {
  auto result = testing::ChildProcess::run(
      {KS_KSCTL_BINARY, "--addr", daemon_->grpcAddress(), "--timeout", "10", "brokers"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), kBrokers) << result.out;
  EXPECT_TRUE(result.out.starts_with("1 127.0.0.1:")) << result.out;
}

TEST_F(DaemonTest, GrpcOnUnixSocket) {
  std::string path = ::testing::TempDir() + "sidecar-" + std::to_string(getpid()) + ".sock";
  DaemonConfig config = testConfig();
  config.embedded_brokers = 1;
  config.grpc_listen = "unix:" + path;
  startDaemon(std::move(config));
  EXPECT_EQ(daemon_->grpcAddress(), "unix:" + path);

  KsctlRun run = ksctl({"--addr", "unix:" + path, "brokers"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(run.out.starts_with("1 127.0.0.1:")) << run.out;
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1) << run.out;
}

// --bootstrap-servers pointing at a mock cluster outside the daemon.
TEST_F(DaemonTest, BootstrapServersCluster) {
  mock::MockCluster cluster(2);
  cluster.createTopic("orders", 5);
  DaemonConfig config = testConfig();
  boost::algorithm::split(config.bootstrap_servers, cluster.bootstraps(),
                          [](char c) { return c == ','; });
  startDaemon(std::move(config));

  EXPECT_TRUE(waitForHealth(HealthCheckResponse::SERVING));
  EXPECT_EQ(httpRequest(httpPort(), "GET", "/readyz").status, 200u);
  KsctlRun run = ksctl({"--addr", daemon_->grpcAddress(), "topics"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "orders partitions=5\n");
}

// A second, named cluster next to the default one: calls choose by name.
TEST_F(DaemonTest, NamedClustersAreSelectedByName) {
  mock::MockCluster main_cluster(1);
  main_cluster.createTopic("orders", 2);
  mock::MockCluster analytics(1);
  analytics.createTopic("clicks", 5);
  DaemonConfig config = testConfig();
  config.bootstrap_servers = {main_cluster.bootstraps()};
  config.named_clusters["analytics"] = {analytics.bootstraps()};
  startDaemon(std::move(config));
  ASSERT_TRUE(waitForHealth(HealthCheckResponse::SERVING));

  KsctlRun main_topics = ksctl({"--addr", daemon_->grpcAddress(), "topics"});
  EXPECT_EQ(main_topics.out, "orders partitions=2\n") << main_topics.err;
  KsctlRun named = ksctl({"--addr", daemon_->grpcAddress(), "--cluster", "analytics", "topics"});
  EXPECT_EQ(named.out, "clicks partitions=5\n") << named.err;
  KsctlRun unknown = ksctl({"--addr", daemon_->grpcAddress(), "--cluster", "nope", "topics"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("NOT_FOUND"), std::string::npos) << unknown.err;
}

// Three brokers, one taken down after start: every call is still answered by the other two,
// whichever broker the daemon was talking to, and the daemon stays ready.
TEST_F(DaemonTest, KeepsAnsweringWithOneOfThreeBrokersDown) {
  mock::MockCluster cluster(3);
  cluster.createTopic("orders", 6);
  DaemonConfig config = testConfig();
  boost::algorithm::split(config.bootstrap_servers, cluster.bootstraps(),
                          [](char c) { return c == ','; });
  startDaemon(std::move(config));
  ASSERT_TRUE(waitForHealth(HealthCheckResponse::SERVING));

  for (int down = 1; down <= 3; ++down) {
    SCOPED_TRACE("broker " + std::to_string(down) + " down");
    ASSERT_EQ(cluster.execute("broker down " + std::to_string(down)), "ok");
    for (int call = 0; call < 3; ++call) {
      KsctlRun topics = ksctl({"--addr", daemon_->grpcAddress(), "topics"});
      EXPECT_EQ(topics.exit_code, 0) << topics.err;
      EXPECT_EQ(topics.out, "orders partitions=6\n");
      KsctlRun brokers = ksctl({"--addr", daemon_->grpcAddress(), "brokers"});
      EXPECT_EQ(brokers.exit_code, 0) << brokers.err;
      EXPECT_EQ(std::count(brokers.out.begin(), brokers.out.end(), '\n'), 3) << brokers.out;
    }
    EXPECT_EQ(httpRequest(httpPort(), "GET", "/readyz").status, 200u);
    ASSERT_EQ(cluster.execute("broker up " + std::to_string(down)), "ok");
  }
}

// Bootstrap servers that refuse connections: alive, never ready, and calls fail UNAVAILABLE.
TEST_F(DaemonTest, NotReadyWhileNoBrokerAnswers) {
  DaemonConfig config = testConfig();
  config.bootstrap_servers = {"127.0.0.1:1"};
  startDaemon(std::move(config));

  auto healthz = httpRequest(httpPort(), "GET", "/healthz");
  EXPECT_EQ(healthz.status, 200u) << healthz.error;
  auto readyz = httpRequest(httpPort(), "GET", "/readyz");
  EXPECT_EQ(readyz.status, 503u) << readyz.error;
  EXPECT_NE(readyz.body.find("cluster 'default'"), std::string::npos) << readyz.body;
  EXPECT_TRUE(waitForHealth(HealthCheckResponse::NOT_SERVING));
  EXPECT_TRUE(waitForHealth(HealthCheckResponse::NOT_SERVING, "kafka.sidecar.v1.Admin"));

  v1::DescribeClusterRequest request;
  v1::DescribeClusterResponse response;
  grpc::Status status = admin_->DescribeCluster(callContext().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_NE(status.error_message().find("cluster 'default'"), std::string::npos)
      << status.error_message();

  KsctlRun run = ksctl({"--addr", daemon_->grpcAddress(), "topics"});
  EXPECT_EQ(run.exit_code, ksctl::kExitRpcFailed);
  EXPECT_TRUE(run.err.starts_with("ksctl: UNAVAILABLE: cluster 'default'")) << run.err;

  // Still not ready after the calls, and the probe keeps saying why.
  EXPECT_EQ(httpRequest(httpPort(), "GET", "/readyz").status, 503u);
}

// Readiness follows the cluster: 503 and NOT_SERVING while its only broker is down, then 200 and
// SERVING once the broker is back.
TEST_F(DaemonTest, BecomesReadyWhenBrokerComesUp) {
  mock::MockCluster cluster(1);
  ASSERT_EQ(cluster.execute("broker down -1"), "ok");
  DaemonConfig config = testConfig();
  config.bootstrap_servers = {cluster.bootstraps()};
  startDaemon(std::move(config));

  auto readyz = httpRequest(httpPort(), "GET", "/readyz");
  EXPECT_EQ(readyz.status, 503u) << readyz.error;
  EXPECT_EQ(readyz.body,
            "not ready: cluster 'default': no metadata yet (no broker has answered)\n");
  EXPECT_TRUE(waitForHealth(HealthCheckResponse::NOT_SERVING));

  ASSERT_EQ(cluster.execute("broker up -1"), "ok");
  EXPECT_TRUE(waitUntil([&] { return httpRequest(httpPort(), "GET", "/readyz").status == 200; }));
  EXPECT_TRUE(waitForHealth(HealthCheckResponse::SERVING));
}

// A client that gives up while the daemon waits for Kafka gets CANCELLED at once; the late
// Kafka answer is dropped, and the daemon keeps serving.
TEST_F(DaemonTest, ClientCancelWhileWaitingForKafka) {
  mock::MockCluster cluster(1);
  DaemonConfig config = testConfig();
  config.bootstrap_servers = {cluster.bootstraps()};
  startDaemon(std::move(config));
  ASSERT_TRUE(waitForHealth(HealthCheckResponse::SERVING));
  ASSERT_EQ(cluster.execute("broker rtt -1 1500"), "ok");

  auto context = callContext();
  grpc::Status status;
  auto started = std::chrono::steady_clock::now();
  std::thread caller([&] {
    v1::ListTopicsRequest request;
    v1::ListTopicsResponse response;
    status = admin_->ListTopics(context.get(), request, &response);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  context->TryCancel();
  caller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1200));

  // Let the delayed metadata answer arrive (and be dropped), then ask again.
  ASSERT_EQ(cluster.execute("broker rtt -1 0"), "ok");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  v1::ListTopicsRequest request;
  v1::ListTopicsResponse response;
  status = admin_->ListTopics(callContext().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST(ShutdownTimeoutsTest, SharesOfTheTimeout) {
  constexpr ShutdownTimeouts kDefault = ShutdownTimeouts::of(std::chrono::seconds(30));
  EXPECT_EQ(kDefault.calls, std::chrono::milliseconds(27'000));
  EXPECT_EQ(kDefault.producers, std::chrono::milliseconds(21'600));
  EXPECT_EQ(kDefault.io_drain, std::chrono::milliseconds(3'000));
  EXPECT_EQ(Daemon::kGrpcGrace, kDefault.calls);
  constexpr ShutdownTimeouts kLeast = ShutdownTimeouts::of(std::chrono::milliseconds(1));
  EXPECT_EQ(kLeast.calls, std::chrono::milliseconds(1));
  EXPECT_EQ(kLeast.producers, std::chrono::milliseconds(0));
  EXPECT_EQ(kLeast.io_drain, std::chrono::milliseconds(0));
}

// A produce stream open, with nothing sent, when the daemon stops: the drain ends it with
// UNAVAILABLE naming the shutdown, and the stop goes on at once rather than wait for the client,
// which has not read that status yet, to hang up. (A client in another process shows the wait
// this avoids: see sidecar_drain_test.cpp.)
TEST_F(DaemonTest, StopsPromptlyWithAClientConnectionOpen) {
  mock::MockCluster cluster(1);
  constexpr std::chrono::seconds kTimeout{20};
  DaemonConfig config = testConfig();
  config.bootstrap_servers = {cluster.bootstraps()};
  config.shutdown_timeout = kTimeout;
  startDaemon(std::move(config));
  ASSERT_TRUE(waitForHealth(HealthCheckResponse::SERVING));
  auto producer = v1::Producer::NewStub(channel_);
  grpc::ClientContext context;
  auto stream = producer->ProduceStream(&context);
  ASSERT_TRUE(waitUntil([&] { return daemon_->callsInFlightForTest() == 1; }));

  auto started = std::chrono::steady_clock::now();
  daemon_->requestStop();
  daemon_->wait();
  EXPECT_LT(std::chrono::steady_clock::now() - started, ShutdownTimeouts::of(kTimeout).calls);
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_NE(status.error_message().find("shutting down"), std::string::npos)
      << status.error_message();
  daemon_.reset();
}

// From the moment the drain starts, /readyz answers 503 and every gRPC health status is
// NOT_SERVING, and new produce calls are refused, while the drain waits for a call in flight.
// That call, stuck waiting for Kafka, is cancelled once the calls' share of the shutdown timeout
// is over, so that the shutdown stays bounded.
TEST_F(DaemonTest, NotReadyWhileDrainingAndBoundedByTheTimeout) {
  mock::MockCluster cluster(1);
  constexpr std::chrono::milliseconds kTimeout{6'000};
  DaemonConfig config = testConfig();
  config.bootstrap_servers = {cluster.bootstraps()};
  config.shutdown_timeout = kTimeout;
  startDaemon(std::move(config));
  ASSERT_TRUE(waitForHealth(HealthCheckResponse::SERVING));
  ASSERT_TRUE(waitUntil([&] { return httpRequest(httpPort(), "GET", "/readyz").status == 200; }));
  ASSERT_EQ(cluster.execute("broker rtt -1 20000"), "ok");

  std::atomic<bool> done{false};
  grpc::Status status;
  std::thread caller([&] {
    v1::ListTopicsRequest request;
    v1::ListTopicsResponse response;
    status = admin_->ListTopics(callContext(std::chrono::seconds(30)).get(), request, &response);
    done = true;
  });
  ASSERT_TRUE(waitUntil([&] { return daemon_->callsInFlightForTest() == 1; }));
  auto stopping = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    daemon_->requestStop();
    daemon_->wait();
  });

  ASSERT_TRUE(waitUntil([&] { return httpRequest(httpPort(), "GET", "/readyz").status == 503; }));
  EXPECT_EQ(httpRequest(httpPort(), "GET", "/readyz").body, "shutting down\n");
  EXPECT_FALSE(daemon_->readiness().ready);
  EXPECT_EQ(healthOf(""), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(healthOf("kafka.sidecar.v1.Producer"), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(healthOf("kafka.sidecar.v1.Consumer"), HealthCheckResponse::NOT_SERVING);
  auto producer = v1::Producer::NewStub(channel_);
  v1::ProduceRequest produce;
  produce.set_topic("t");
  produce.add_records()->set_value("v");
  v1::ProduceResponse produced;
  grpc::Status refused = producer->Produce(callContext().get(), produce, &produced);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_NE(refused.error_message().find("shutting down"), std::string::npos)
      << refused.error_message();
  // All of that while the drain was still waiting for the call.
  EXPECT_FALSE(done.load());

  stopper.join();
  caller.join();
  auto took = std::chrono::steady_clock::now() - stopping;
  const ShutdownTimeouts timeouts = ShutdownTimeouts::of(kTimeout);
  EXPECT_GE(took, timeouts.calls - std::chrono::milliseconds(100));
  EXPECT_LT(took, kTimeout + std::chrono::seconds(2));
  // gRPC reports calls that it cancels at shutdown as UNAVAILABLE.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  daemon_.reset();
}

}  // namespace
}  // namespace kafka::sidecar
