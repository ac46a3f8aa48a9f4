// MockCluster: a Kafka test broker in the current process (librdkafka 2.0.2's mock cluster), with
// a one-line text command language for fault injection. The mock-cluster tool reads these
// commands from stdin; the daemon's --embedded-broker links the same library.
//
// The object owns a producer-type rd_kafka_t (it has no brokers; the mock needs one for its
// bookkeeping) and the mock cluster made with it. Brokers have ids 1..N and listen on 127.0.0.1
// on ports the kernel picks. The mock serves from librdkafka's own threads; every method here
// may be called from any thread. Nothing process-wide is touched: no signal handlers, no exit().
// librdkafka logs only errors, to stderr.
//
// ListOffsets is always capped at v3, because 2.0.2 writes malformed v4/v5 responses.
//
// Costs to know of (librdkafka 2.0.2): destruction takes about a second, and commands are kept
// prompt by briefly connecting to a broker that is up (see throughOpQueue in the .cpp), so the
// brokers see short-lived extra connections.
#pragma once

#include <string>
#include <string_view>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace kafka::mock {

// The command language, as shown by `mock-cluster --help`.
inline constexpr std::string_view kCommandHelp =
    R"(Commands, one per line; each is answered by one line, "ok" or "error: <what was wrong>".
  broker down ID          close the broker's connections; its port refuses new ones
  broker up ID            accept connections again, on the same port
  broker rtt ID MS        delay every response of the broker by MS milliseconds
  errors API CODE...      the next requests of API, to any broker, fail with these codes in turn
  broker-errors ID API CODE:MS...
                          the same for one broker, each answer delayed by MS milliseconds;
                          while a broker has such a list for API (even used up), the
                          cluster-wide list of `errors` does not apply to that broker
  clear-errors API        forget what remains of the cluster-wide list of `errors` for API
  leader TOPIC PARTITION ID     make broker ID the partition's leader (-1: no leader)
  follower TOPIC PARTITION ID   make broker ID the partition's preferred read replica
  coordinator group|txn KEY ID  make broker ID the coordinator of group or transactional id KEY
  topic create NAME PARTITIONS  create a topic (replication factor min(3, brokers))
  topic error NAME CODE         make Metadata (and AddPartitionsToTxn) report CODE for the topic
  apiversion API MIN MAX        serve only versions MIN..MAX of API (-1 -1: not at all)
ID: a broker id; -1 means every broker for `broker down|up|rtt`.
API: an API key, by number or by name (Produce, Fetch, ListOffsets, Metadata, OffsetCommit,
  OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, ApiVersions,
  InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit).
CODE: a Kafka error code, by number or by librdkafka's name (NOT_LEADER_FOR_PARTITION);
  _TRANSPORT (-195) makes the broker drop the connection instead of answering.
)";

class MockCluster {
 public:
  // Starts `brokers` brokers (1..64). Throws std::invalid_argument or std::runtime_error.
  explicit MockCluster(int brokers);
  ~MockCluster();

  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  int brokerCount() const { return brokers_; }

  // "127.0.0.1:PORT,127.0.0.1:PORT,...", one address per broker.
  const std::string& bootstraps() const { return bootstraps_; }

  // Throws std::invalid_argument (bad name or count) or std::runtime_error (e.g. it exists).
  void createTopic(std::string_view name, int partitions);

  // Runs one command line (see kCommandHelp) and returns its answer: "ok" or "error: <what>".
  std::string execute(std::string_view command);

 private:
  // Empty on success, otherwise what was wrong.
  std::string run(std::string_view command);
  std::string tryCreateTopic(std::string_view name, int partitions);
  void destroy();

  int brokers_;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_mock_cluster_s* mock_ = nullptr;
  std::string bootstraps_;
  std::vector<int> ports_;  // of the brokers, in id order
};

}  // namespace kafka::mock
