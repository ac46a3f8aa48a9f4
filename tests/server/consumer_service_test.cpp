// The Consumer service: spec resolution on its own, then Subscribe and the unary calls end to end
// against a Daemon running in this process. The daemon reads from a mock cluster that the test
// owns, so that each test can create a topic of its own with the partitions it wants; records
// are written through the Producer service. Most tests read an `assignment`, which needs no
// group join (the mock holds a first join for 3 s); one subscribes to a group.
#include "server/consumer_service.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "kafka/sidecar/v1/producer.grpc.pb.h"
#include "server/daemon.hpp"
#include "tests/server/test_support.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka::sidecar {
namespace {

using namespace std::chrono_literals;
using testing::kWait;
using testing::waitUntil;

// ---------------------------------------------------------------------------------------------
// Spec resolution.

v1::SessionSpec topicsSpec() {
  v1::SessionSpec spec;
  spec.set_group("g");
  spec.add_topics("orders");
  return spec;
}

grpc::Status resolve(const v1::SessionSpec& spec, ResolvedSpec& out) {
  return resolveSpec(spec, "default", ConsumerSessionConfig{}, out);
}

TEST(ResolveSpecTest, DefaultsAreFilledInAndListsSorted) {
  v1::SessionSpec spec = topicsSpec();
  spec.add_topics("audit");
  spec.add_topics("orders");
  ConsumerSessionConfig defaults;
  defaults.offset_reset = consumer::OffsetReset::kEarliest;
  defaults.idle_ttl = 1234ms;
  ResolvedSpec resolved;
  ASSERT_TRUE(resolveSpec(spec, "default", defaults, resolved).ok());
  const v1::SessionSpec& normal = resolved.spec;
  EXPECT_EQ(normal.cluster(), "default");
  EXPECT_EQ(std::vector<std::string>(normal.topics().begin(), normal.topics().end()),
            (std::vector<std::string>{"audit", "orders"}));
  EXPECT_EQ(std::vector<std::string>(normal.assignors().begin(), normal.assignors().end()),
            (std::vector<std::string>{"range", "cooperative-sticky"}));
  EXPECT_EQ(normal.offset_reset(), v1::OFFSET_RESET_EARLIEST);
  EXPECT_EQ(normal.ack_mode(), v1::ACK_MODE_MANUAL);
  EXPECT_EQ(normal.isolation_level(), v1::ISOLATION_LEVEL_READ_UNCOMMITTED);
  EXPECT_EQ(normal.max_unacked_records(), 1000u);
  EXPECT_EQ(normal.ack_timeout_ms(), 60000u);
  EXPECT_EQ(normal.idle_ttl_ms(), 1234u);
  EXPECT_EQ(normal.session_timeout_ms(), 45000u);
  EXPECT_EQ(normal.auto_commit_interval_ms(), 5000u);
  EXPECT_FALSE(normal.has_group_instance_id());
  EXPECT_EQ(resolved.config.offset_reset, consumer::OffsetReset::kEarliest);
  EXPECT_EQ(resolved.idle_ttl, 1234ms);
  ASSERT_TRUE(resolved.subscription);
  EXPECT_EQ(resolved.subscription->topics, (std::vector<std::string>{"audit", "orders"}));

  // Unset and explicit defaults mean the same session.
  v1::SessionSpec explicit_spec = topicsSpec();
  explicit_spec.add_topics("audit");
  explicit_spec.set_cluster("default");
  explicit_spec.set_ack_mode(v1::ACK_MODE_MANUAL);
  explicit_spec.set_max_unacked_records(1000);
  explicit_spec.add_assignors("range");
  explicit_spec.add_assignors("cooperative-sticky");
  ResolvedSpec again;
  ASSERT_TRUE(resolveSpec(explicit_spec, "default", defaults, again).ok());
  EXPECT_EQ(specDifference(resolved.spec, again.spec), "");
}

TEST(ResolveSpecTest, AssignmentIsMergedAndSorted) {
  v1::SessionSpec spec;
  spec.set_group("g");
  v1::TopicPartitions* b = spec.add_assignment();
  b->set_topic("b");
  b->add_partitions(2);
  b->add_partitions(0);
  v1::TopicPartitions* a = spec.add_assignment();
  a->set_topic("a");
  a->add_partitions(1);
  spec.add_assignment()->CopyFrom(*b);
  spec.set_ack_mode(v1::ACK_MODE_AUTO);
  spec.set_session_timeout_ms(6000);
  ResolvedSpec resolved;
  ASSERT_TRUE(resolve(spec, resolved).ok());
  EXPECT_FALSE(resolved.subscription);
  EXPECT_EQ(resolved.assignment, (std::vector<TopicPartition>{{"a", 1}, {"b", 0}, {"b", 2}}));
  ASSERT_EQ(resolved.spec.assignment_size(), 2);
  EXPECT_EQ(resolved.spec.assignment(0).topic(), "a");
  EXPECT_EQ(resolved.spec.assignment(1).partitions_size(), 2);
  EXPECT_TRUE(resolved.auto_ack);
  // Heartbeats come a third of a short session timeout apart.
  EXPECT_EQ(resolved.config.group.heartbeat_interval, 2000ms);
}

TEST(ResolveSpecTest, RefusalsNameTheField) {
  struct Case {
    std::string name;
    std::function<void(v1::SessionSpec&)> change;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"empty group", [](v1::SessionSpec& s) { s.clear_group(); }, "spec.group is empty"},
      {"nothing to read", [](v1::SessionSpec& s) { s.clear_topics(); }, "(none is set)"},
      {"topics and pattern", [](v1::SessionSpec& s) { s.set_topic_pattern("o.*"); },
       "topics and topic_pattern are set"},
      {"bad regex",
       [](v1::SessionSpec& s) {
         s.clear_topics();
         s.set_topic_pattern("orders(");
       },
       "spec.topic_pattern"},
      {"bad topic name", [](v1::SessionSpec& s) { s.add_topics("bad/name"); }, "spec.topics"},
      {"unknown assignor",
       [](v1::SessionSpec& s) {
         s.add_assignors("range");
         s.add_assignors("sticky-ish");
       },
       "spec.assignors[1]: unknown assignor 'sticky-ish'"},
      {"repeated assignor",
       [](v1::SessionSpec& s) {
         s.add_assignors("range");
         s.add_assignors("range");
       },
       "spec: "},
      {"empty instance id", [](v1::SessionSpec& s) { s.set_group_instance_id(""); },
       "spec.group_instance_id"},
      {"offset reset", [](v1::SessionSpec& s) { s.set_offset_reset(v1::OffsetReset(9)); },
       "spec.offset_reset: unknown value 9"},
      {"ack mode", [](v1::SessionSpec& s) { s.set_ack_mode(v1::AckMode(-1)); },
       "spec.ack_mode: unknown value -1"},
      {"isolation", [](v1::SessionSpec& s) { s.set_isolation_level(v1::IsolationLevel(3)); },
       "spec.isolation_level"},
      {"no unacked", [](v1::SessionSpec& s) { s.set_max_unacked_records(0); },
       "spec.max_unacked_records: 0"},
      {"too many unacked", [](v1::SessionSpec& s) { s.set_max_unacked_records(1'000'000); },
       "spec.max_unacked_records"},
      {"zero ack timeout", [](v1::SessionSpec& s) { s.set_ack_timeout_ms(0); },
       "spec.ack_timeout_ms is 0"},
      {"zero ttl", [](v1::SessionSpec& s) { s.set_idle_ttl_ms(0); }, "spec.idle_ttl_ms is 0"},
      {"empty partition list",
       [](v1::SessionSpec& s) {
         s.clear_topics();
         s.add_assignment()->set_topic("orders");
       },
       "spec.assignment[0]: topic 'orders' lists no partitions"},
      {"negative partition",
       [](v1::SessionSpec& s) {
         s.clear_topics();
         v1::TopicPartitions* entry = s.add_assignment();
         entry->set_topic("orders");
         entry->add_partitions(-2);
       },
       "partition -2 of topic 'orders' is negative"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::SessionSpec spec = topicsSpec();
    c.change(spec);
    ResolvedSpec resolved;
    grpc::Status status = resolve(spec, resolved);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find(c.expected), std::string::npos) << status.error_message();
  }
}

TEST(ResolveSpecTest, DifferenceNamesTheFirstField) {
  ResolvedSpec a;
  ResolvedSpec b;
  ASSERT_TRUE(resolve(topicsSpec(), a).ok());
  v1::SessionSpec other = topicsSpec();
  other.set_max_unacked_records(5);
  other.set_ack_timeout_ms(10);
  ASSERT_TRUE(resolve(other, b).ok());
  EXPECT_EQ(specDifference(a.spec, b.spec),
            "spec.max_unacked_records is 5 here, but 1000 in the open session");
  other = topicsSpec();
  other.add_topics("more");
  ASSERT_TRUE(resolve(other, b).ok());
  EXPECT_EQ(specDifference(a.spec, b.spec),
            "spec.topics is [\"more\", \"orders\"] here, but [\"orders\"] in the open session");
  other = topicsSpec();
  other.set_group_instance_id("pod-1");
  ASSERT_TRUE(resolve(other, b).ok());
  EXPECT_NE(specDifference(a.spec, b.spec)
                .find("spec.group_instance_id is \"pod-1\" here, but "
                      "unset"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// End to end.

struct Got {
  std::string topic;
  int32_t partition;
  int64_t offset;
  std::string value;
};

// One Subscribe call, read by a thread of its own into lists that the test waits on.
class Subscription {
 public:
  explicit Subscription(v1::Consumer::Stub& stub) {
    context_.set_deadline(std::chrono::system_clock::now() + 60s);
    stream_ = stub.Subscribe(&context_);
    reader_ = std::thread([this] {
      v1::SubscribeResponse response;
      while (stream_->Read(&response)) {
        std::lock_guard lock(mutex_);
        switch (response.response_case()) {
          case v1::SubscribeResponse::kOpened:
            opened_ = response.opened();
            break;
          case v1::SubscribeResponse::kRecords:
            for (const v1::ConsumedRecord& record : response.records().records()) {
              records_.push_back({response.records().topic(), response.records().partition(),
                                  record.offset(), record.value()});
            }
            break;
          case v1::SubscribeResponse::kEvent:
            events_.push_back(response.event());
            break;
          default:
            break;
        }
        changed_.notify_all();
      }
      std::lock_guard lock(mutex_);
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~Subscription() {
    context_.TryCancel();
    join();
  }

  // Sends `open` and waits for `opened`; nullopt when the call ended instead.
  std::optional<v1::SessionOpened> open(const v1::SessionSpec& spec) {
    v1::SubscribeRequest request;
    *request.mutable_open() = spec;
    if (!stream_->Write(request)) return std::nullopt;
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kWait, [this] { return opened_ || ended_; });
    return opened_;
  }

  bool send(const v1::SubscribeRequest& request) { return stream_->Write(request); }
  bool ack(const std::string& topic, int32_t partition, const std::vector<int64_t>& offsets) {
    v1::SubscribeRequest request;
    v1::PartitionOffsets* entry = request.mutable_ack()->add_partitions();
    entry->set_topic(topic);
    entry->set_partition(partition);
    for (int64_t offset : offsets) entry->add_offsets(offset);
    return send(request);
  }
  bool commit() {
    v1::SubscribeRequest request;
    request.set_commit(true);
    return send(request);
  }
  bool seek(v1::SeekTarget target) {
    v1::SubscribeRequest request;
    *request.mutable_seek() = std::move(target);
    return send(request);
  }

  // Waits until at least `count` records have arrived in all.
  bool waitRecords(size_t count, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return records_.size() >= count; });
  }
  // Waits for an event that `match` accepts, from index `from` of the events on.
  std::optional<v1::ConsumerEvent> waitEvent(
      const std::function<bool(const v1::ConsumerEvent&)>& match, size_t from = 0,
      std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex_);
    std::optional<v1::ConsumerEvent> found;
    changed_.wait_for(lock, timeout, [&] {
      for (size_t i = from; i < events_.size(); ++i) {
        if (match(events_[i])) {
          found = events_[i];
          return true;
        }
      }
      return ended_;
    });
    return found;
  }

  std::vector<Got> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }
  size_t recordCount() {
    std::lock_guard lock(mutex_);
    return records_.size();
  }
  size_t eventCount() {
    std::lock_guard lock(mutex_);
    return events_.size();
  }

  // Half-closes and waits for the server to end the call.
  grpc::Status end() {
    stream_->WritesDone();
    join();
    return stream_->Finish();
  }
  // Waits for the server to end the call (without half-closing).
  grpc::Status finish() {
    join();
    return stream_->Finish();
  }
  void cancel() {
    context_.TryCancel();
    join();
    (void)stream_->Finish();
  }

 private:
  void join() {
    if (reader_.joinable()) reader_.join();
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream_;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<v1::SessionOpened> opened_;
  std::vector<Got> records_;
  std::vector<v1::ConsumerEvent> events_;
  bool ended_ = false;
};

bool isCommitted(const v1::ConsumerEvent& event, const std::string& topic, int32_t partition,
                 int64_t offset) {
  if (!event.has_committed()) return false;
  for (const v1::PartitionCommit& commit : event.committed().partitions()) {
    if (commit.topic() == topic && commit.partition() == partition && commit.offset() == offset &&
        !commit.has_error()) {
      return true;
    }
  }
  return false;
}

std::vector<int64_t> offsetsOf(const std::vector<Got>& records, int32_t partition,
                               size_t from = 0) {
  std::vector<int64_t> out;
  for (size_t i = from; i < records.size(); ++i) {
    if (records[i].partition == partition) out.push_back(records[i].offset);
  }
  return out;
}

class ConsumerServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new mock::MockCluster(1);
    daemon_ = startDaemon([](DaemonConfig&) {}).release();
    auto channel = grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials());
    consumer_ = v1::Consumer::NewStub(channel).release();
    producer_ = v1::Producer::NewStub(channel).release();
  }

  static void TearDownTestSuite() {
    delete consumer_;
    delete producer_;
    auto started = std::chrono::steady_clock::now();
    daemon_->requestStop();
    daemon_->wait();
    EXPECT_LT(std::chrono::steady_clock::now() - started, Daemon::kGrpcGrace);
    delete daemon_;
    delete mock_;
  }

  static std::unique_ptr<Daemon> startDaemon(const std::function<void(DaemonConfig&)>& change) {
    DaemonConfig config = testing::loopbackDaemonConfig(mock_->bootstraps());
    change(config);
    auto daemon = std::make_unique<Daemon>(std::move(config), Daemon::Signals::kIgnore);
    daemon->start();
    return daemon;
  }

  static std::unique_ptr<grpc::ClientContext> callContext() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + kWait);
    return context;
  }

  // Writes `values` to one partition; returns their offsets.
  static std::vector<int64_t> produce(const std::string& topic, int32_t partition,
                                      const std::vector<std::string>& values) {
    v1::ProduceRequest request;
    request.set_topic(topic);
    for (const std::string& value : values) {
      v1::ProduceRecord* record = request.add_records();
      record->set_partition(partition);
      record->set_value(value);
    }
    v1::ProduceResponse response;
    grpc::Status status = producer_->Produce(callContext().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<int64_t> offsets;
    for (const v1::ProduceResult& result : response.results()) {
      EXPECT_FALSE(result.has_error()) << result.error().message();
      offsets.push_back(result.offset());
    }
    return offsets;
  }

  static std::vector<std::string> values(const std::string& prefix, int count) {
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) out.push_back(prefix + std::to_string(i));
    return out;
  }

  // A session reading `partitions` of `topic` from the start, committing only when asked.
  static v1::SessionSpec assigned(const std::string& group, const std::string& topic,
                                  const std::vector<int32_t>& partitions) {
    v1::SessionSpec spec;
    spec.set_group(group);
    spec.set_name("test");
    v1::TopicPartitions* entry = spec.add_assignment();
    entry->set_topic(topic);
    for (int32_t partition : partitions) entry->add_partitions(partition);
    spec.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
    spec.set_auto_commit_interval_ms(600'000);
    return spec;
  }

  // A topic of one partition holding records "v0".."v<records-1>", and a session reading it.
  static v1::SessionSpec onePartition(const std::string& topic, int records) {
    mock_->createTopic(topic, 1);
    if (records > 0) produce(topic, 0, values("v", records));
    return assigned("g-" + topic, topic, {0});
  }

  static grpc::Status openUnary(const v1::SessionSpec& spec, v1::OpenResponse& response) {
    v1::OpenRequest request;
    *request.mutable_spec() = spec;
    return consumer_->Open(callContext().get(), request, &response);
  }

  static grpc::Status poll(const std::string& id, v1::PollResponse& response,
                           uint32_t timeout_ms = 2000) {
    v1::PollRequest request;
    request.set_session_id(id);
    request.set_timeout_ms(timeout_ms);
    return consumer_->Poll(callContext().get(), request, &response);
  }

  static grpc::Status ackUnary(const std::string& id, const std::string& topic, int32_t partition,
                               const std::vector<int64_t>& offsets) {
    v1::AckRequest request;
    request.set_session_id(id);
    v1::PartitionOffsets* entry = request.add_partitions();
    entry->set_topic(topic);
    entry->set_partition(partition);
    for (int64_t offset : offsets) entry->add_offsets(offset);
    v1::AckResponse response;
    return consumer_->Ack(callContext().get(), request, &response);
  }

  static grpc::Status closeUnary(const std::string& id, v1::CloseResponse* out = nullptr) {
    v1::CloseRequest request;
    request.set_session_id(id);
    v1::CloseResponse response;
    grpc::Status status = consumer_->Close(callContext().get(), request, &response);
    if (out) *out = response;
    return status;
  }

  static v1::SeekTarget seekTo(const std::string& topic, int32_t partition) {
    v1::SeekTarget target;
    target.set_topic(topic);
    target.set_partition(partition);
    return target;
  }

  static inline mock::MockCluster* mock_ = nullptr;
  static inline Daemon* daemon_ = nullptr;
  static inline v1::Consumer::Stub* consumer_ = nullptr;
  static inline v1::Producer::Stub* producer_ = nullptr;
};

// Manual acks in any order: the commit stops below the first unacked record, and a session
// opened again after Close resumes from there.
TEST_F(ConsumerServiceTest, ManualAcksCommitWhereAllBelowAreAckedAndResumeThere) {
  const std::string topic = "manual-acks";
  mock_->createTopic(topic, 2);
  EXPECT_EQ(produce(topic, 0, values("a", 5)), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(produce(topic, 1, values("b", 3)), (std::vector<int64_t>{0, 1, 2}));
  const v1::SessionSpec spec = assigned("g-manual", topic, {0, 1});
  {
    Subscription stream(*consumer_);
    std::optional<v1::SessionOpened> opened = stream.open(spec);
    ASSERT_TRUE(opened);
    EXPECT_FALSE(opened->attached());
    EXPECT_EQ(opened->session_id().size(), 32u);
    ASSERT_TRUE(stream.waitRecords(8));
    std::vector<Got> got = stream.records();
    EXPECT_EQ(offsetsOf(got, 0), (std::vector<int64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(offsetsOf(got, 1), (std::vector<int64_t>{0, 1, 2}));
    for (const Got& record : got) {
      EXPECT_EQ(record.topic, topic);
      EXPECT_EQ(record.value, (record.partition == 0 ? "a" : "b") + std::to_string(record.offset));
    }
    EXPECT_TRUE(stream.waitEvent([](const v1::ConsumerEvent& e) { return e.has_assigned(); }));

    ASSERT_TRUE(stream.ack(topic, 0, {4, 2, 0, 1}));  // not 3
    ASSERT_TRUE(stream.ack(topic, 1, {2, 1, 0}));
    ASSERT_TRUE(stream.commit());
    EXPECT_TRUE(stream.waitEvent([&](const v1::ConsumerEvent& e) {
      return isCommitted(e, topic, 0, 3) && isCommitted(e, topic, 1, 3);
    }));
    v1::SubscribeRequest close;
    close.set_close(true);
    ASSERT_TRUE(stream.send(close));
    grpc::Status status = stream.end();
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(stream.waitEvent([](const v1::ConsumerEvent& e) { return e.has_revoked(); }));
  }

  EXPECT_EQ(produce(topic, 0, {"a5", "a6"}), (std::vector<int64_t>{5, 6}));
  Subscription again(*consumer_);
  std::optional<v1::SessionOpened> reopened = again.open(spec);
  ASSERT_TRUE(reopened);
  EXPECT_FALSE(reopened->attached());  // the first session closed
  ASSERT_TRUE(again.waitRecords(4));
  std::this_thread::sleep_for(300ms);
  std::vector<Got> got = again.records();
  EXPECT_EQ(offsetsOf(got, 0), (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_TRUE(offsetsOf(got, 1).empty());
  EXPECT_EQ(got[0].value, "a3");
}

TEST_F(ConsumerServiceTest, AutoAckModeAcksWhatWasWritten) {
  const std::string topic = "auto-acks";
  v1::SessionSpec spec = onePartition(topic, 6);
  spec.set_ack_mode(v1::ACK_MODE_AUTO);
  Subscription stream(*consumer_);
  std::optional<v1::SessionOpened> opened = stream.open(spec);
  ASSERT_TRUE(opened);
  ASSERT_TRUE(stream.waitRecords(6));

  // Without a single ack, the commit reaches the end once the writes have completed.
  int64_t committed = -1;
  EXPECT_TRUE(waitUntil([&] {
    v1::CommitRequest request;
    request.set_session_id(opened->session_id());
    v1::CommitResponse response;
    EXPECT_TRUE(consumer_->Commit(callContext().get(), request, &response).ok());
    for (const v1::PartitionCommit& commit : response.partitions()) {
      EXPECT_FALSE(commit.has_error()) << commit.error().message();
      committed = std::max(committed, commit.offset());
    }
    return committed == 6;
  }));
  EXPECT_EQ(stream.recordCount(), 6u);  // nothing delivered again

  // Closed by another call: the stream ends ABORTED.
  EXPECT_TRUE(closeUnary(opened->session_id()).ok());
  grpc::Status status = stream.finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(status.error_message().find("closed by another call"), std::string::npos);
}

TEST_F(ConsumerServiceTest, UnackedRecordsOfACutStreamGoToTheNextCall) {
  const std::string topic = "stream-cut";
  const v1::SessionSpec spec = onePartition(topic, 6);
  std::string id;
  {
    Subscription first(*consumer_);
    std::optional<v1::SessionOpened> opened = first.open(spec);
    ASSERT_TRUE(opened);
    id = opened->session_id();
    ASSERT_TRUE(first.waitRecords(6));
    ASSERT_TRUE(first.ack(topic, 0, {0, 1, 5}));
    ASSERT_TRUE(first.commit());  // answered once the acks before it are applied
    ASSERT_TRUE(
        first.waitEvent([&](const v1::ConsumerEvent& e) { return isCommitted(e, topic, 0, 2); }));
    first.cancel();
  }
  Subscription second(*consumer_);
  std::optional<v1::SessionOpened> opened = second.open(spec);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->attached());
  EXPECT_EQ(opened->session_id(), id);
  ASSERT_TRUE(second.waitRecords(3));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(offsetsOf(second.records(), 0), (std::vector<int64_t>{2, 3, 4}));
  // A call that attaches learns what the session owns.
  EXPECT_TRUE(second.waitEvent([&](const v1::ConsumerEvent& e) {
    return e.has_assigned() && e.assigned().partitions_size() == 1 &&
           e.assigned().partitions(0).topic() == topic;
  }));
  EXPECT_TRUE(closeUnary(id).ok());
}

TEST_F(ConsumerServiceTest, RecordsNotAckedInTimeAreDeliveredAgain) {
  const std::string topic = "ack-timeout";
  v1::SessionSpec spec = onePartition(topic, 3);
  spec.set_ack_timeout_ms(400);
  Subscription stream(*consumer_);
  ASSERT_TRUE(stream.open(spec));
  ASSERT_TRUE(stream.waitRecords(3));
  ASSERT_TRUE(stream.ack(topic, 0, {1}));
  ASSERT_TRUE(stream.waitRecords(5, 3s));
  std::vector<Got> got = stream.records();
  EXPECT_EQ(offsetsOf(got, 0), (std::vector<int64_t>{0, 1, 2, 0, 2}));
  EXPECT_EQ(got[3].value, "v0");
  ASSERT_TRUE(stream.ack(topic, 0, {0, 2}));
  std::this_thread::sleep_for(900ms);
  EXPECT_EQ(stream.recordCount(), 5u);
  EXPECT_TRUE(stream.end().ok());
}

TEST_F(ConsumerServiceTest, TwoStreamsShareTheRecords) {
  const std::string topic = "shared";
  mock_->createTopic(topic, 2);
  v1::SessionSpec spec = assigned("g-shared", topic, {0, 1});
  spec.set_max_unacked_records(4);
  Subscription a(*consumer_);
  Subscription b(*consumer_);
  ASSERT_TRUE(a.open(spec));
  std::optional<v1::SessionOpened> second = b.open(spec);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->attached());
  produce(topic, 0, values("p0-", 20));
  produce(topic, 1, values("p1-", 20));

  // Each stream acks what it got; together they get everything, each record once.
  size_t acked_a = 0;
  size_t acked_b = 0;
  auto ackNew = [&](Subscription& stream, size_t& acked) {
    std::vector<Got> got = stream.records();
    for (; acked < got.size(); ++acked) {
      stream.ack(topic, got[acked].partition, {got[acked].offset});
    }
  };
  EXPECT_TRUE(waitUntil([&] {
    ackNew(a, acked_a);
    ackNew(b, acked_b);
    return a.recordCount() + b.recordCount() >= 40;
  }));
  std::this_thread::sleep_for(300ms);
  std::set<std::pair<int32_t, int64_t>> all;
  for (Subscription* stream : {&a, &b}) {
    for (const Got& record : stream->records()) {
      EXPECT_TRUE(all.emplace(record.partition, record.offset).second)
          << "delivered twice: partition " << record.partition << " offset " << record.offset;
    }
  }
  EXPECT_EQ(all.size(), 40u);
  EXPECT_GT(a.recordCount(), 0u);
  EXPECT_GT(b.recordCount(), 0u);
  EXPECT_TRUE(a.end().ok());
  EXPECT_TRUE(b.end().ok());
}

TEST_F(ConsumerServiceTest, MaxUnackedRecordsHoldsTheCallBack) {
  const std::string topic = "flow-control";
  v1::SessionSpec spec = onePartition(topic, 10);
  spec.set_max_unacked_records(3);
  Subscription stream(*consumer_);
  ASSERT_TRUE(stream.open(spec));
  ASSERT_TRUE(stream.waitRecords(3));
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(stream.recordCount(), 3u);
  ASSERT_TRUE(stream.ack(topic, 0, {0, 2}));
  ASSERT_TRUE(stream.waitRecords(5));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(stream.recordCount(), 5u);
  ASSERT_TRUE(stream.ack(topic, 0, {1, 3, 4}));
  ASSERT_TRUE(stream.waitRecords(8));
  ASSERT_TRUE(stream.ack(topic, 0, {5, 6, 7}));
  ASSERT_TRUE(stream.waitRecords(10));
  EXPECT_EQ(offsetsOf(stream.records(), 0), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(stream.end().ok());
}

TEST_F(ConsumerServiceTest, UnaryOpenPollAckCommitClose) {
  const std::string topic = "unary";
  const v1::SessionSpec spec = onePartition(topic, 5);
  v1::OpenResponse opened;
  ASSERT_TRUE(openUnary(spec, opened).ok());
  EXPECT_FALSE(opened.attached());
  v1::OpenResponse again;
  ASSERT_TRUE(openUnary(spec, again).ok());
  EXPECT_TRUE(again.attached());
  EXPECT_EQ(again.session_id(), opened.session_id());

  std::vector<int64_t> offsets;
  bool saw_assigned = false;
  EXPECT_TRUE(waitUntil([&] {
    v1::PollResponse response;
    EXPECT_TRUE(poll(opened.session_id(), response).ok());
    for (const v1::ConsumerEvent& event : response.events()) saw_assigned |= event.has_assigned();
    for (const v1::PartitionRecords& records : response.records()) {
      EXPECT_EQ(records.topic(), topic);
      for (const v1::ConsumedRecord& record : records.records()) {
        offsets.push_back(record.offset());
        EXPECT_EQ(record.value(), "v" + std::to_string(record.offset()));
      }
    }
    return offsets.size() >= 5;
  }));
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(saw_assigned);

  // An empty poll waits for its timeout.
  auto started = std::chrono::steady_clock::now();
  v1::PollResponse empty;
  ASSERT_TRUE(poll(opened.session_id(), empty, 300).ok());
  EXPECT_EQ(empty.records_size(), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);

  ASSERT_TRUE(ackUnary(opened.session_id(), topic, 0, {3, 0, 1, 2}).ok());
  v1::CommitRequest commit;
  commit.set_session_id(opened.session_id());
  v1::CommitResponse committed;
  ASSERT_TRUE(consumer_->Commit(callContext().get(), commit, &committed).ok());
  ASSERT_EQ(committed.partitions_size(), 1);
  EXPECT_EQ(committed.partitions(0).topic(), topic);
  EXPECT_EQ(committed.partitions(0).offset(), 4);
  EXPECT_FALSE(committed.partitions(0).has_error());

  ASSERT_TRUE(ackUnary(opened.session_id(), topic, 0, {4}).ok());
  v1::CloseResponse closed;
  ASSERT_TRUE(closeUnary(opened.session_id(), &closed).ok());
  ASSERT_EQ(closed.partitions_size(), 1);  // the final commit
  EXPECT_EQ(closed.partitions(0).offset(), 5);

  v1::PollResponse after;
  EXPECT_EQ(poll(opened.session_id(), after).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(closeUnary(opened.session_id()).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ConsumerServiceTest, IdleSessionsCloseAfterTheirTtl) {
  const std::string topic = "idle";
  v1::SessionSpec spec = onePartition(topic, 0);
  spec.set_idle_ttl_ms(400);
  v1::OpenResponse opened;
  ASSERT_TRUE(openUnary(spec, opened).ok());
  // Unary calls keep it open.
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(ackUnary(opened.session_id(), topic, 0, {}).ok()) << i;
  }
  std::this_thread::sleep_for(1s);
  v1::PollResponse response;
  grpc::Status status = poll(opened.session_id(), response, 0);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find(opened.session_id()), std::string::npos);

  // A stream keeps it open while attached; the TTL starts when it ends.
  Subscription stream(*consumer_);
  std::optional<v1::SessionOpened> attached = stream.open(spec);
  ASSERT_TRUE(attached);
  EXPECT_FALSE(attached->attached());
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE(poll(attached->session_id(), response, 0).ok());
  EXPECT_TRUE(stream.end().ok());
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(poll(attached->session_id(), response, 0).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ConsumerServiceTest, SeekMovesThePosition) {
  const std::string topic = "seek";
  const v1::SessionSpec spec = onePartition(topic, 5);
  Subscription stream(*consumer_);
  std::optional<v1::SessionOpened> opened = stream.open(spec);
  ASSERT_TRUE(opened);
  ASSERT_TRUE(stream.waitRecords(5));
  ASSERT_TRUE(stream.ack(topic, 0, {0, 1, 2, 3, 4}));

  auto seeked = [&](int64_t offset) {
    return [offset, &topic](const v1::ConsumerEvent& e) {
      return e.has_seeked() && e.seeked().topic() == topic && e.seeked().offset() == offset &&
             !e.seeked().has_error();
    };
  };
  v1::SeekTarget to_offset = seekTo(topic, 0);
  to_offset.set_offset(2);
  ASSERT_TRUE(stream.seek(to_offset));
  EXPECT_TRUE(stream.waitEvent(seeked(2)));
  ASSERT_TRUE(stream.waitRecords(8));
  EXPECT_EQ(offsetsOf(stream.records(), 0, 5), (std::vector<int64_t>{2, 3, 4}));
  ASSERT_TRUE(stream.ack(topic, 0, {2, 3, 4}));

  v1::SeekTarget to_beginning = seekTo(topic, 0);
  to_beginning.set_beginning(true);
  ASSERT_TRUE(stream.seek(to_beginning));
  EXPECT_TRUE(stream.waitEvent(seeked(0)));
  ASSERT_TRUE(stream.waitRecords(13));
  EXPECT_EQ(offsetsOf(stream.records(), 0, 8), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  ASSERT_TRUE(stream.ack(topic, 0, {0, 1, 2, 3, 4}));

  v1::SeekTarget to_end = seekTo(topic, 0);
  to_end.set_end(true);
  ASSERT_TRUE(stream.seek(to_end));
  EXPECT_TRUE(stream.waitEvent(seeked(5)));
  produce(topic, 0, {"v5"});
  ASSERT_TRUE(stream.waitRecords(14));
  EXPECT_EQ(stream.records().back().offset, 5);
  ASSERT_TRUE(stream.ack(topic, 0, {5}));

  // Unary Seek on the same session.
  v1::SeekRequest request;
  request.set_session_id(opened->session_id());
  *request.mutable_target() = seekTo(topic, 0);
  request.mutable_target()->set_offset(4);
  v1::SeekResponse response;
  grpc::Status status = consumer_->Seek(callContext().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.offset(), 4);
  ASSERT_TRUE(stream.waitRecords(16));
  EXPECT_EQ(offsetsOf(stream.records(), 0, 14), (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(stream.end().ok());
}

TEST_F(ConsumerServiceTest, PausedPartitionsDeliverNothingUntilResumed) {
  const std::string topic = "pause";
  mock_->createTopic(topic, 2);
  Subscription stream(*consumer_);
  ASSERT_TRUE(stream.open(assigned("g-pause", topic, {0, 1})));
  v1::SubscribeRequest pause;
  v1::TopicPartitions* paused = pause.mutable_pause()->add_partitions();
  paused->set_topic(topic);
  paused->add_partitions(0);
  ASSERT_TRUE(stream.send(pause));
  std::this_thread::sleep_for(200ms);
  produce(topic, 0, values("p0-", 3));
  produce(topic, 1, values("p1-", 3));
  ASSERT_TRUE(stream.waitRecords(3));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(offsetsOf(stream.records(), 1), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_TRUE(offsetsOf(stream.records(), 0).empty());

  v1::SubscribeRequest resume;
  *resume.mutable_resume() = pause.pause();
  ASSERT_TRUE(stream.send(resume));
  ASSERT_TRUE(stream.waitRecords(6));
  EXPECT_EQ(offsetsOf(stream.records(), 0), (std::vector<int64_t>{0, 1, 2}));

  // Pausing a partition the session does not own is refused with an error event.
  v1::SubscribeRequest other;
  v1::TopicPartitions* unknown = other.mutable_pause()->add_partitions();
  unknown->set_topic(topic);
  unknown->add_partitions(7);
  ASSERT_TRUE(stream.send(other));
  EXPECT_TRUE(stream.waitEvent([](const v1::ConsumerEvent& e) {
    return e.has_error() && !e.error().fatal() &&
           e.error().error().message().find("partition 7") != std::string::npos;
  }));
  EXPECT_TRUE(stream.end().ok());
}

// Subscribe is served on raw bytes: a message that is not a SubscribeRequest is refused by name,
// first or later in the call.
TEST_F(ConsumerServiceTest, SubscribeRefusesBytesThatDoNotParse) {
  auto channel = grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials());
  // A field 1 (open) whose length runs past the end of the message.
  const std::string garbage = "\x0a\x7f\x01";
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto step = [&queue](int expected) {
    void* tag = nullptr;
    bool ok = false;
    EXPECT_TRUE(queue.Next(&tag, &ok));
    EXPECT_EQ(tag, reinterpret_cast<void*>(static_cast<intptr_t>(expected)));
    return ok;
  };
  auto tag = [](int n) { return reinterpret_cast<void*>(static_cast<intptr_t>(n)); };
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, "/kafka.sidecar.v1.Consumer/Subscribe", &queue);
  call->StartCall(tag(1));
  ASSERT_TRUE(step(1));
  grpc::Slice slice(garbage);
  grpc::ByteBuffer message(&slice, 1);
  call->Write(message, tag(2));
  step(2);
  grpc::Status status;
  call->Finish(&status, tag(3));
  ASSERT_TRUE(step(3));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("does not parse as kafka.sidecar.v1.SubscribeRequest"),
            std::string::npos)
      << status.error_message();
  queue.Shutdown();
  void* ignored_tag = nullptr;
  bool ignored_ok = false;
  while (queue.Next(&ignored_tag, &ignored_ok)) {
  }

  // After an open, the same.
  Subscription stream(*consumer_);
  ASSERT_TRUE(stream.open(onePartition("unparsable", 1)));
  v1::SubscribeRequest ack;
  v1::PartitionOffsets& offsets = *ack.mutable_ack()->add_partitions();
  // A valid message whose string field holds invalid UTF-8 does not parse (proto3 strings).
  offsets.set_topic("\xff\xfe");
  ASSERT_TRUE(stream.send(ack));
  status = stream.end();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("does not parse"), std::string::npos)
      << status.error_message();
}

TEST_F(ConsumerServiceTest, BadRequestsAreRefusedAndTheDaemonKeepsServing) {
  const std::string topic = "bad-input";
  const v1::SessionSpec spec = onePartition(topic, 1);

  {
    Subscription stream(*consumer_);
    v1::SubscribeRequest ack;
    ack.mutable_ack()->add_partitions()->set_topic(topic);
    ASSERT_TRUE(stream.send(ack));
    grpc::Status status = stream.end();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(), "the first SubscribeRequest must be `open`, not ack");
  }
  {
    Subscription stream(*consumer_);
    EXPECT_FALSE(stream.open(assigned("", topic, {0})));
    grpc::Status status = stream.finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("spec.group is empty"), std::string::npos);
  }

  struct Case {
    std::string name;
    std::function<void(v1::SessionSpec&)> change;
    grpc::StatusCode code;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"topics and pattern", [](v1::SessionSpec& s) { s.set_topic_pattern("x.*"); },
       grpc::StatusCode::INVALID_ARGUMENT, "topic_pattern and assignment are set"},
      {"bad regex",
       [](v1::SessionSpec& s) {
         s.clear_assignment();
         s.set_topic_pattern("[");
       },
       grpc::StatusCode::INVALID_ARGUMENT, "spec.topic_pattern"},
      {"unknown assignor", [](v1::SessionSpec& s) { s.add_assignors("sticky"); },
       grpc::StatusCode::INVALID_ARGUMENT, "spec.assignors[0]"},
      {"unknown cluster", [](v1::SessionSpec& s) { s.set_cluster("nope"); },
       grpc::StatusCode::NOT_FOUND, "unknown cluster 'nope'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::SessionSpec changed = spec;
    c.change(changed);
    v1::OpenResponse response;
    grpc::Status status = openUnary(changed, response);
    EXPECT_EQ(status.error_code(), c.code);
    EXPECT_NE(status.error_message().find(c.expected), std::string::npos) << status.error_message();
  }

  v1::OpenResponse opened;
  ASSERT_TRUE(openUnary(spec, opened).ok());
  v1::SessionSpec different = spec;
  different.set_max_unacked_records(7);
  v1::OpenResponse refused;
  grpc::Status status = openUnary(different, refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("spec.max_unacked_records is 7 here, but 1000"),
            std::string::npos)
      << status.error_message();

  status = ackUnary(opened.session_id(), topic, 0, {99});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("offset 99 was never delivered"), std::string::npos)
      << status.error_message();
  status = ackUnary(opened.session_id(), topic, 3, {0});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("partition 3"), std::string::npos);

  v1::SeekRequest seek;
  seek.set_session_id(opened.session_id());
  *seek.mutable_target() = seekTo(topic, 5);
  seek.mutable_target()->set_offset(0);
  v1::SeekResponse sought;
  status = consumer_->Seek(callContext().get(), seek, &sought);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("partition 5"), std::string::npos);
  *seek.mutable_target() = seekTo(topic, 0);
  status = consumer_->Seek(callContext().get(), seek, &sought);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("no position"), std::string::npos);

  v1::PollResponse polled;
  EXPECT_EQ(poll("0123456789abcdef0123456789abcdef", polled).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(poll("", polled).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::PollRequest zero;
  zero.set_session_id(opened.session_id());
  zero.set_max_records(0);
  EXPECT_EQ(consumer_->Poll(callContext().get(), zero, &polled).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // On a stream, a refused ack is an error event and the call goes on.
  {
    Subscription stream(*consumer_);
    ASSERT_TRUE(stream.open(spec));
    ASSERT_TRUE(stream.waitRecords(1));
    ASSERT_TRUE(stream.ack(topic, 0, {42}));
    EXPECT_TRUE(stream.waitEvent([](const v1::ConsumerEvent& e) {
      return e.has_error() && e.error().error().name() == "INVALID_ARGUMENT" &&
             e.error().error().message().find("offset 42 was never delivered") != std::string::npos;
    }));
    ASSERT_TRUE(stream.ack(topic, 0, {0}));
    v1::SubscribeRequest second_open;
    *second_open.mutable_open() = spec;
    ASSERT_TRUE(stream.send(second_open));
    status = stream.finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("only be the first message"), std::string::npos);
  }

  // Still serving.
  v1::PollResponse response;
  EXPECT_TRUE(poll(opened.session_id(), response, 0).ok());
  EXPECT_TRUE(closeUnary(opened.session_id()).ok());
}

// A group member: partitions come from the group, and a session opened again after Close
// continues from what was committed.
TEST_F(ConsumerServiceTest, GroupSubscriptionResumesFromTheCommittedOffsets) {
  const std::string topic = "grouped";
  mock_->createTopic(topic, 2);
  produce(topic, 0, values("a", 4));
  produce(topic, 1, values("b", 4));
  v1::SessionSpec spec;
  spec.set_group("g-grouped");
  spec.set_name("member");
  spec.add_topics(topic);
  spec.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
  spec.set_session_timeout_ms(6000);
  spec.set_auto_commit_interval_ms(600'000);
  {
    Subscription stream(*consumer_);
    ASSERT_TRUE(stream.open(spec));
    EXPECT_TRUE(stream.waitEvent([](const v1::ConsumerEvent& e) {
      return e.has_assigned() && e.assigned().partitions_size() == 1 &&
             e.assigned().partitions(0).partitions_size() == 2;
    }));
    ASSERT_TRUE(stream.waitRecords(8));
    ASSERT_TRUE(stream.ack(topic, 0, {0, 1, 2}));
    ASSERT_TRUE(stream.ack(topic, 1, {0, 1, 2, 3}));
    v1::SubscribeRequest close;
    close.set_close(true);
    ASSERT_TRUE(stream.send(close));
    grpc::Status status = stream.end();
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(stream.waitEvent([&](const v1::ConsumerEvent& e) {
      return isCommitted(e, topic, 0, 3) && isCommitted(e, topic, 1, 4);
    }));
    EXPECT_TRUE(stream.waitEvent([](const v1::ConsumerEvent& e) { return e.has_revoked(); }));
  }
  Subscription again(*consumer_);
  ASSERT_TRUE(again.open(spec));
  ASSERT_TRUE(again.waitRecords(1));
  std::this_thread::sleep_for(500ms);
  std::vector<Got> got = again.records();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].partition, 0);
  EXPECT_EQ(got[0].offset, 3);
  EXPECT_TRUE(again.end().ok());
}

TEST_F(ConsumerServiceTest, HealthNamesTheConsumerService) {
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials()));
  EXPECT_TRUE(waitUntil([&] {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service("kafka.sidecar.v1.Consumer");
    grpc::health::v1::HealthCheckResponse response;
    return health->Check(callContext().get(), request, &response).ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }));
}

// A daemon of its own: a session limit, and a shutdown that ends open streams after committing
// what they acked.
TEST_F(ConsumerServiceTest, SessionLimitAndShutdown) {
  const std::string topic = "shutdown";
  const v1::SessionSpec spec = onePartition(topic, 4);
  std::unique_ptr<Daemon> small =
      startDaemon([](DaemonConfig& config) { config.consumer.max_sessions = 1; });
  auto stub = v1::Consumer::NewStub(
      grpc::CreateChannel(small->grpcAddress(), grpc::InsecureChannelCredentials()));
  Subscription stream(*stub);
  std::optional<v1::SessionOpened> opened = stream.open(spec);
  ASSERT_TRUE(opened);
  v1::SessionSpec other = spec;
  other.set_name("other");
  v1::OpenRequest request;
  *request.mutable_spec() = other;
  v1::OpenResponse response;
  grpc::Status status = stub->Open(callContext().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max-consumer-sessions"), std::string::npos);

  ASSERT_TRUE(stream.waitRecords(4));
  ASSERT_TRUE(stream.ack(topic, 0, {0, 1}));
  ASSERT_TRUE(stream.commit());  // so that the acks are applied before the shutdown
  ASSERT_TRUE(
      stream.waitEvent([&](const v1::ConsumerEvent& e) { return isCommitted(e, topic, 0, 2); }));
  // Unary, so that it is applied before the shutdown begins.
  v1::AckRequest ack;
  ack.set_session_id(opened->session_id());
  v1::PartitionOffsets* last = ack.add_partitions();
  last->set_topic(topic);
  last->set_partition(0);
  last->add_offsets(2);
  v1::AckResponse acked;
  ASSERT_TRUE(stub->Ack(callContext().get(), ack, &acked).ok());
  auto started = std::chrono::steady_clock::now();
  small->requestStop();
  small->wait();
  EXPECT_LT(std::chrono::steady_clock::now() - started, Daemon::kGrpcGrace);
  status = stream.finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("shutting down"), std::string::npos);

  // The final commit took the last ack: the main daemon's session starts after it.
  Subscription after(*consumer_);
  ASSERT_TRUE(after.open(spec));
  ASSERT_TRUE(after.waitRecords(1));
  EXPECT_EQ(after.records()[0].offset, 3);
  EXPECT_TRUE(after.end().ok());
}

}  // namespace
}  // namespace kafka::sidecar
