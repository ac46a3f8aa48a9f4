// Integration-test support: the mock-cluster tool (tools/mock_cluster) run as a child process.
//
// MockClusterProcess starts build/bin/mock-cluster with pipes on its stdin and stdout, reads the
// bootstrap line, sends fault-injection commands and reads their answers (see
// tools/mock_cluster/mock_cluster.hpp for the command language), and stops the child when it is
// destroyed: stdin closed, a bounded wait, then SIGKILL. The child's stderr is the test's stderr,
// so librdkafka's errors show up in the test log. Every wait is bounded. Not thread-safe: one
// test thread drives it.
//
// MockClusterTest is the fixture to derive integration tests from: it starts a cluster before
// each test and checks in TearDown that it exits cleanly.
//
//   class ProduceTest : public kafka::integration::MockClusterTest {
//    protected:
//     ProduceTest() : MockClusterTest({.brokers = 3, .topics = {{"orders", 4}}}) {}
//   };
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client_core/cluster/cluster.hpp"

namespace kafka::integration {

inline constexpr std::chrono::seconds kDefaultTimeout{10};

// Polls `condition` every few milliseconds until it holds or `limit` passes; its last answer.
bool waitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds limit = kDefaultTimeout);

struct MockClusterOptions {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;  // name, partitions
};

// What a run of mock-cluster to completion printed, and how it ended.
struct MockClusterRun {
  std::optional<int> exit_code;  // 128 + N if killed by signal N; nullopt if it had to be killed
  std::string out;
  std::string err;
};

class MockClusterProcess {
 public:
  // Starts mock-cluster and waits for its bootstrap line. Throws std::runtime_error if the child
  // cannot be started or prints no bootstrap line within `start_timeout`.
  explicit MockClusterProcess(const MockClusterOptions& options,
                              std::chrono::milliseconds start_timeout = kDefaultTimeout);
  ~MockClusterProcess();

  MockClusterProcess(const MockClusterProcess&) = delete;
  MockClusterProcess& operator=(const MockClusterProcess&) = delete;

  // Runs mock-cluster with `args` and stdin closed, and collects its output. If it has not ended
  // within `timeout` it is killed. For tests of the tool's own argument handling.
  static MockClusterRun runToExit(const std::vector<std::string>& args,
                                  std::chrono::milliseconds timeout = kDefaultTimeout);

  // "127.0.0.1:PORT,..." as printed by the tool.
  const std::string& bootstrap() const { return bootstrap_; }
  pid_t pid() const { return pid_; }

  // Sends one command and returns the answer line. Fails the current test (without throwing)
  // if the answer is "error: ..." or does not come within `timeout`.
  std::string command(std::string_view line, std::chrono::milliseconds timeout = kDefaultTimeout);
  // The same, but any answer is returned as is; "" if none came.
  std::string tryCommand(std::string_view line,
                         std::chrono::milliseconds timeout = kDefaultTimeout);

  void closeStdin();
  void sendSignal(int signal);
  // The exit code (128 + N if killed by signal N) once the child has ended, nullopt if it is
  // still running after `timeout`. Remembers the code once the child is reaped.
  std::optional<int> waitForExit(std::chrono::milliseconds timeout);
  // Closes stdin and waits up to `timeout`, then kills the child. Returns the exit code, or
  // nullopt if it had to be killed. Safe to call again.
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  std::optional<std::string> readLine(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buffered_;  // read from stdout but not yet returned
  std::optional<int> exit_code_;
  bool killed_ = false;
  std::string bootstrap_;
};

class MockClusterTest : public ::testing::Test {
 protected:
  explicit MockClusterTest(MockClusterOptions options = {}) : options_(std::move(options)) {}

  void SetUp() override;
  // Expects the cluster to exit 0 on stdin closing (unless a test already stopped it).
  void TearDown() override;

  MockClusterProcess& cluster() { return *cluster_; }
  // A configuration of the client's Cluster for this mock: its bootstrap servers, and reconnect
  // backoffs (20-200 ms) and a request timeout (5 s) short enough for tests.
  ClusterConfig clusterConfig() const;
  // A client Cluster for this mock (with `config`, else clusterConfig()) on `executor`, started;
  // a test failure when it is not ready() within the default timeout.
  std::shared_ptr<Cluster> startCluster(boost::asio::any_io_executor executor,
                                        std::optional<ClusterConfig> config = std::nullopt);
  const std::string& bootstrap() const { return cluster_->bootstrap(); }
  std::string command(std::string_view line) { return cluster_->command(line); }

 private:
  MockClusterOptions options_;
  std::unique_ptr<MockClusterProcess> cluster_;
};

}  // namespace kafka::integration
