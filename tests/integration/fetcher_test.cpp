// The shared Fetcher against the mock-cluster tool (records come back whole and in order from
// several brokers; two wants of one partition; empty and out-of-range answers; a leader that
// moves, injected errors and a broker outage; the buffer budget; which consumer shares a response
// frame; cancel and stop), and against scripted brokers that speak Fetch v13+ (one request per
// broker per round, naming topics by id; rotation; whole-request errors).
#include "client_core/consumer/fetcher.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client_core/producer/producer.hpp"
#include "client_core/record/record_batch_reader.hpp"
#include "tests/integration/fake_broker.hpp"
#include "tests/integration/io_threads.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::consumer {
namespace {

using namespace std::chrono_literals;
using integration::IoThreads;
using integration::waitUntil;

constexpr auto kShortWait = 300ms;  // long enough for several rounds of a 50 ms max_wait

std::string text(protocol::ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The application records of an answer, from its fetch offset on.
struct Decoded {
  std::vector<std::pair<int64_t, std::string>> records;  // offset, value
  int64_t next_offset = 0;
};

Decoded decode(const FetchedPartition& fetched) {
  Decoded out;
  out.next_offset = fetched.fetch_offset;
  record::RecordBatchReader reader(fetched.records);
  record::RecordBatch batch;
  for (;;) {
    auto more = reader.next(batch);
    EXPECT_TRUE(more.ok()) << more.error().toString();
    if (!more.ok() || !*more) break;
    for (const record::Record& r : batch.records) {
      if (r.offset < fetched.fetch_offset) continue;
      out.records.emplace_back(r.offset, r.value ? text(*r.value) : "");
    }
    out.next_offset = std::max(out.next_offset, batch.nextOffset());
  }
  return out;
}

// One fetch() and the future of its answer, which fails the test if it comes twice.
struct Asked {
  Fetcher::Ticket ticket = 0;
  std::future<FetchedPartition> answer;
};

Asked ask(Fetcher& fetcher, FetchPosition position, const boost::asio::any_io_executor& executor) {
  auto promise = std::make_shared<std::promise<FetchedPartition>>();
  Asked asked;
  asked.answer = promise->get_future();
  asked.ticket = fetcher.fetch(std::move(position), executor,
                               [promise](FetchedPartition f) { promise->set_value(std::move(f)); });
  return asked;
}

FetchPosition at(std::string topic, int32_t partition, int64_t offset) {
  FetchPosition position;
  position.partition = {std::move(topic), partition};
  position.offset = offset;
  return position;
}

// Partitions read to their end by readOn().
struct Progress {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int32_t, std::vector<std::pair<int64_t, std::string>>> read;
  std::map<int32_t, int> answers;
  int complete = 0;
};

// Reads partition `partition` of "orders" from `offset` until `end`, one fetch() after another.
void readOn(const std::shared_ptr<Fetcher>& fetcher, const boost::asio::any_io_executor& executor,
            const std::shared_ptr<Progress>& progress, int32_t partition, int64_t offset,
            int64_t end) {
  fetcher->fetch(at("orders", partition, offset), executor,
                 [fetcher, executor, progress, partition, end](FetchedPartition fetched) {
                   EXPECT_EQ(fetched.error.code, ErrorCode::kNone) << fetched.error.toString();
                   EXPECT_EQ(fetched.high_watermark, end);
                   Decoded decoded = decode(fetched);
                   std::lock_guard lock(progress->mutex);
                   ++progress->answers[partition];
                   auto& records = progress->read[partition];
                   records.insert(records.end(), decoded.records.begin(), decoded.records.end());
                   if (decoded.next_offset < end && fetched.error.code == ErrorCode::kNone) {
                     readOn(fetcher, executor, progress, partition, decoded.next_offset, end);
                   } else {
                     ++progress->complete;
                     progress->changed.notify_all();
                   }
                 });
}

class FetcherTest : public integration::MockClusterTest {
 protected:
  static constexpr int kPartitions = 6;

  FetcherTest() : MockClusterTest({.brokers = 3, .topics = {{"orders", kPartitions}}}) {}
  ~FetcherTest() override {
    if (fetcher_) fetcher_->stop();
    if (cluster_) cluster_->stop();
  }

  void SetUp() override {
    MockClusterTest::SetUp();
    cluster_ = startCluster(io_.executor());
    ASSERT_TRUE(cluster_->ready());
    FetchConfig config;
    config.max_wait = 50ms;
    makeFetcher(config);
  }

  void makeFetcher(const FetchConfig& config) {
    if (fetcher_) fetcher_->stop();
    fetcher_ = Fetcher::create(io_.executor(), cluster_, config);
  }

  // Appends `count` records "p<partition>-<n>" to the partition, numbered from `first`, as
  // `batches` batches.
  void produce(int32_t partition, int first, int count, int batches = 1) {
    auto producer = producer::Producer::create(io_.executor(), cluster_, {});
    std::vector<std::string> values;
    for (int i = first; i < first + count; ++i) {
      values.push_back("p" + std::to_string(partition) + "-" + std::to_string(i));
    }
    std::atomic<int> delivered{0};
    const int per_batch = (count + batches - 1) / batches;
    for (int start = 0; start < count; start += per_batch) {
      std::vector<producer::OutgoingRecord> records;
      for (int i = start; i < std::min(count, start + per_batch); ++i) {
        auto& r = records.emplace_back();
        r.topic = "orders";
        r.partition = partition;
        const std::string& v = values[static_cast<size_t>(i)];
        r.value = protocol::ByteView(reinterpret_cast<const uint8_t*>(v.data()), v.size());
      }
      producer->send(
          std::move(records),
          [&delivered](const producer::DeliveryReport& report) {
            if (report.error.code == ErrorCode::kNone) delivered += report.indices.size();
          },
          [] {});
      std::promise<Result<void>> flushed;
      producer->flush(10s, [&flushed](Result<void> r) { flushed.set_value(std::move(r)); });
      auto future = flushed.get_future();
      ASSERT_EQ(future.wait_for(15s), std::future_status::ready);
      ASSERT_TRUE(future.get().ok());
    }
    std::promise<void> closed;
    producer->close(5s, [&closed] { closed.set_value(); });
    ASSERT_EQ(closed.get_future().wait_for(10s), std::future_status::ready);
    ASSERT_EQ(delivered.load(), count);
  }

  Asked ask(FetchPosition position) {
    return consumer::ask(*fetcher_, std::move(position), io_.executor());
  }

  static FetchedPartition await(Asked& asked, std::chrono::milliseconds limit = 10s) {
    if (asked.answer.wait_for(limit) != std::future_status::ready) {
      ADD_FAILURE() << "no answer within " << limit.count() << " ms";
      return {};
    }
    return asked.answer.get();
  }

  NodeId leaderOf(int32_t partition) const {
    auto metadata = cluster_->metadata();
    const PartitionInfo* info = metadata ? metadata->partition("orders", partition) : nullptr;
    return info ? info->leader : kNoNode;
  }

  IoThreads io_;
  std::shared_ptr<Cluster> cluster_;
  std::shared_ptr<Fetcher> fetcher_;
};

TEST_F(FetcherTest, ReadsEveryPartitionOfSeveralBrokersWholeAndInOrder) {
  constexpr int kRecords = 12;
  // The mock may place every partition on one broker: two partitions on each, rather.
  for (int32_t p = 0; p < kPartitions; ++p) {
    command("leader orders " + std::to_string(p) + " " + std::to_string(p % 3 + 1));
  }
  std::promise<Result<MetadataPtr>> refreshed;
  cluster_->refreshMetadata({"orders"}, [&](Result<MetadataPtr> r) { refreshed.set_value(r); });
  ASSERT_TRUE(refreshed.get_future().get().ok());
  for (int32_t p = 0; p < kPartitions; ++p) {
    ASSERT_EQ(leaderOf(p), p % 3 + 1);
    produce(p, 0, kRecords, 3);  // three batches: the mock returns one per response
  }

  // Every partition is read at once, each asking again from where its last answer ended.
  auto progress = std::make_shared<Progress>();
  for (int32_t p = 0; p < kPartitions; ++p) {
    readOn(fetcher_, io_.executor(), progress, p, 0, kRecords);
  }
  std::unique_lock lock(progress->mutex);
  ASSERT_TRUE(
      progress->changed.wait_for(lock, 20s, [&] { return progress->complete == kPartitions; }));
  for (int32_t p = 0; p < kPartitions; ++p) {
    std::vector<std::pair<int64_t, std::string>> expected;
    for (int i = 0; i < kRecords; ++i) {
      expected.emplace_back(i, "p" + std::to_string(p) + "-" + std::to_string(i));
    }
    EXPECT_EQ(progress->read[p], expected) << "partition " << p;
    EXPECT_EQ(progress->answers[p], 3) << "partition " << p << ": one answer per stored batch";
  }
  lock.unlock();
  EXPECT_TRUE(waitUntil([&] { return fetcher_->bufferedBytes() == 0; }, 2s))
      << "every lease was released";
}

TEST_F(FetcherTest, AnswersTwoWantsOfOnePartitionAtDifferentOffsets) {
  produce(2, 0, 4);
  produce(2, 4, 4);
  Asked first = ask(at("orders", 2, 0));
  Asked second = ask(at("orders", 2, 5));
  FetchedPartition a = await(first);
  FetchedPartition b = await(second);
  EXPECT_EQ(a.fetch_offset, 0);
  EXPECT_EQ(b.fetch_offset, 5);
  Decoded da = decode(a);
  Decoded db = decode(b);
  ASSERT_FALSE(da.records.empty());
  ASSERT_FALSE(db.records.empty());
  EXPECT_EQ(da.records.front(), std::make_pair(int64_t{0}, std::string("p2-0")));
  EXPECT_EQ(db.records.front(), std::make_pair(int64_t{5}, std::string("p2-5")));
  EXPECT_EQ(db.records.back(), std::make_pair(int64_t{7}, std::string("p2-7")));
}

TEST_F(FetcherTest, AnswersEmptyPartitionsWhenAskedAndOffsetsOutOfRange) {
  produce(1, 0, 5);
  FetchPosition at_end = at("orders", 1, 5);
  at_end.answer_when_empty = true;
  FetchPosition empty = at("orders", 3, 0);
  empty.answer_when_empty = true;
  Asked end_answer = ask(at_end);
  Asked empty_answer = ask(empty);
  Asked out_of_range = ask(at("orders", 1, 1000));
  Asked standing = ask(at("orders", 4, 0));  // empty, not asked to hear of it
  Asked missing = ask(at("orders", 99, 0));

  FetchedPartition e = await(end_answer);
  EXPECT_EQ(e.error.code, ErrorCode::kNone) << e.error.toString();
  EXPECT_EQ(e.high_watermark, 5);
  EXPECT_TRUE(e.records.data.empty());
  EXPECT_EQ(e.lease, nullptr);
  FetchedPartition z = await(empty_answer);
  EXPECT_EQ(z.error.code, ErrorCode::kNone) << z.error.toString();
  EXPECT_EQ(z.high_watermark, 0);

  FetchedPartition o = await(out_of_range);
  EXPECT_EQ(o.error.code, ErrorCode::kOffsetOutOfRange);
  EXPECT_NE(o.error.message.find("topic orders partition 1 at offset 1000"), std::string::npos)
      << o.error.message;
  EXPECT_TRUE(o.records.data.empty());
  EXPECT_EQ(o.high_watermark, 5);

  FetchedPartition m = await(missing);
  EXPECT_EQ(m.error.code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_NE(m.error.message.find("topic orders partition 99 at offset 0: the partition does not "
                                 "exist (the topic has 6 partitions)"),
            std::string::npos)
      << m.error.message;

  EXPECT_EQ(standing.answer.wait_for(kShortWait), std::future_status::timeout)
      << "an empty partition keeps its want standing";
  produce(4, 0, 2);
  FetchedPartition s = await(standing);
  EXPECT_EQ(decode(s).records.size(), 2u);
}

TEST_F(FetcherTest, FollowsTheLeaderThroughMovesErrorsAndAnOutage) {
  produce(0, 0, 10, 5);  // five batches of two
  int64_t offset = 0;
  auto readNext = [&](const std::string& step) {
    Asked asked = ask(at("orders", 0, offset));
    FetchedPartition fetched = await(asked);
    EXPECT_EQ(fetched.error.code, ErrorCode::kNone) << step << ": " << fetched.error.toString();
    Decoded decoded = decode(fetched);
    ASSERT_EQ(decoded.records.size(), 2u) << step;
    EXPECT_EQ(decoded.records[0].first, offset) << step;
    EXPECT_EQ(decoded.records[0].second, "p0-" + std::to_string(offset)) << step;
    offset = decoded.next_offset;
  };
  readNext("before any fault");

  // The fetcher's metadata still names the old leader, which answers NOT_LEADER_OR_FOLLOWER.
  const NodeId first = leaderOf(0);
  const NodeId second = first % 3 + 1;
  command("leader orders 0 " + std::to_string(second));
  readNext("after the leader moved");
  EXPECT_EQ(leaderOf(0), second);

  command("errors Fetch 6 6");  // NOT_LEADER_OR_FOLLOWER for the whole request, twice
  readNext("after NOT_LEADER_OR_FOLLOWER");

  command("errors Fetch _TRANSPORT");  // the broker drops the connection
  readNext("after a dropped connection");

  // The leader goes down with a want standing; the partition then moves to a broker that is up.
  command("broker down " + std::to_string(second));
  Asked asked = ask(at("orders", 0, offset));
  EXPECT_EQ(asked.answer.wait_for(kShortWait), std::future_status::timeout);
  const NodeId third = second % 3 + 1;
  command("leader orders 0 " + std::to_string(third));
  FetchedPartition fetched = await(asked);
  EXPECT_EQ(fetched.error.code, ErrorCode::kNone) << fetched.error.toString();
  Decoded decoded = decode(fetched);
  ASSERT_EQ(decoded.records.size(), 2u);
  EXPECT_EQ(decoded.records[0], std::make_pair(offset, "p0-" + std::to_string(offset)));
  EXPECT_EQ(leaderOf(0), third);
  command("broker up " + std::to_string(second));
}

TEST_F(FetcherTest, FetchesNoMoreWhileTheBufferBudgetIsSpent) {
  FetchConfig config;
  config.max_wait = 50ms;
  config.max_buffered_bytes = 1;  // a single answer spends it
  makeFetcher(config);
  produce(0, 0, 3);
  produce(5, 0, 3);

  Asked first = ask(at("orders", 0, 0));
  FetchedPartition held = await(first);
  ASSERT_FALSE(held.records.data.empty());
  ASSERT_NE(held.records.owner, nullptr);  // the whole response is its, and counts
  EXPECT_EQ(fetcher_->bufferedBytes(), held.records.owner->size());

  Asked second = ask(at("orders", 5, 0));
  EXPECT_EQ(second.answer.wait_for(kShortWait), std::future_status::timeout)
      << "fetched while the budget was spent";
  FetchedPartition copy = held;  // a copy of the answer shares its lease
  held = {};
  EXPECT_EQ(second.answer.wait_for(kShortWait), std::future_status::timeout);
  copy = {};
  FetchedPartition next = await(second);
  EXPECT_EQ(decode(next).records.size(), 3u);
  next = {};
  EXPECT_EQ(fetcher_->bufferedBytes(), 0u);

  // A lease may outlive its fetcher.
  Asked last = ask(at("orders", 0, 0));
  FetchedPartition outliving = await(last);
  ASSERT_NE(outliving.lease, nullptr);
  std::weak_ptr<Fetcher> gone = fetcher_;
  fetcher_->stop();
  fetcher_.reset();
  ASSERT_TRUE(waitUntil([&] { return gone.expired(); }, 2s));
  outliving = {};
}

TEST_F(FetcherTest, TheConsumerWithMostOfAResponseSharesItsFrameAndTheOthersGetCopies) {
  FetchConfig config;
  config.max_wait = 300ms;
  makeFetcher(config);
  for (int32_t p = 0; p < 3; ++p) command("leader orders " + std::to_string(p) + " 1");
  std::promise<Result<MetadataPtr>> refreshed;
  cluster_->refreshMetadata({"orders"}, [&](Result<MetadataPtr> r) { refreshed.set_value(r); });
  ASSERT_TRUE(refreshed.get_future().get().ok());
  produce(0, 0, 60);
  produce(1, 0, 2);

  // An empty partition holds the broker's round, so that the next one carries both wants.
  const auto consumer_a = boost::asio::make_strand(io_.executor());
  const auto consumer_b = boost::asio::make_strand(io_.executor());
  Asked empty = consumer::ask(*fetcher_, at("orders", 2, 0), io_.executor());
  std::this_thread::sleep_for(100ms);
  Asked most = consumer::ask(*fetcher_, at("orders", 0, 0), consumer_a);
  Asked least = consumer::ask(*fetcher_, at("orders", 1, 0), consumer_b);
  FetchedPartition shared = await(most);
  FetchedPartition copied = await(least);
  ASSERT_EQ(decode(shared).records.size(), 60u);
  ASSERT_EQ(decode(copied).records.size(), 2u);
  ASSERT_NE(shared.records.owner, nullptr);
  ASSERT_NE(copied.records.owner, nullptr);
  EXPECT_GT(shared.records.owner->size(), shared.records.data.size()) << "not the frame";
  EXPECT_EQ(copied.records.owner->size(), copied.records.data.size()) << "not a copy";
  EXPECT_EQ(fetcher_->bufferedBytes(), shared.records.owner->size() + copied.records.data.size());

  shared = {};
  EXPECT_EQ(fetcher_->bufferedBytes(), copied.records.data.size());
  copied = {};
  EXPECT_EQ(fetcher_->bufferedBytes(), 0u);
  fetcher_->cancel(empty.ticket);
}

TEST_F(FetcherTest, CancelledWantsAreNotAnsweredAndStopAnswersTheRest) {
  produce(0, 0, 2);
  // A cancelled want's handler is dropped uncalled (which breaks an Asked's promise).
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto count = [calls](FetchedPartition) { ++*calls; };
  fetcher_->cancel(fetcher_->fetch(at("orders", 0, 0), io_.executor(), count));
  auto standing = fetcher_->fetch(at("orders", 1, 0), io_.executor(), count);  // empty: stands
  std::this_thread::sleep_for(100ms);
  fetcher_->cancel(standing);
  produce(1, 0, 2);
  Asked later = ask(at("orders", 1, 0));  // the partition's loop still serves others
  FetchedPartition l = await(later);
  EXPECT_EQ(decode(l).records.size(), 2u);
  std::this_thread::sleep_for(kShortWait);
  EXPECT_EQ(calls->load(), 0);

  Asked waiting = ask(at("orders", 2, 0));
  std::this_thread::sleep_for(100ms);
  fetcher_->stop();
  FetchedPartition w = await(waiting);
  EXPECT_EQ(w.error.code, ErrorCode::kShuttingDown);
  EXPECT_NE(w.error.message.find("topic orders partition 2"), std::string::npos) << w.error.message;
  Asked after = ask(at("orders", 0, 0));
  FetchedPartition a = await(after, 1s);
  EXPECT_EQ(a.error.code, ErrorCode::kShuttingDown);
}

// Two scripted brokers, nodes 1 and 2, that serve every API version we speak, so Fetch is v13+
// and names topics by id. "events" has four partitions: 0 and 1 led by node 1, 2 and 3 by node 2.
// Each Fetch is recorded, and answered by `answer` (records "P<partition>@<offset>" by default).
class ScriptedBrokersFetcherTest : public ::testing::Test {
 protected:
  struct Seen {
    int broker = 0;
    int16_t version = 0;
    protocol::FetchRequest request;
  };
  using Answer = std::function<protocol::FetchResponse(const Seen&)>;

  ScriptedBrokersFetcherTest() {
    for (uint8_t i = 0; i < 16; ++i) topic_id_.bytes[i] = static_cast<uint8_t>(0x10 + i);
    for (int node = 1; node <= 2; ++node) {
      brokers_.push_back(std::make_unique<testing::FakeBroker>(
          [this, node](const testing::FakeBroker::Request& r) { return serve(node, r); }));
      ports_[static_cast<size_t>(node - 1)] = brokers_.back()->port();
    }
  }
  ~ScriptedBrokersFetcherTest() override {
    if (fetcher_) fetcher_->stop();
    if (cluster_) cluster_->stop();
  }

  void SetUp() override {
    ClusterConfig config;
    config.bootstrap_servers = {"127.0.0.1:" + std::to_string(ports_[0].load())};
    config.connection.reconnect_backoff = 20ms;
    config.connection.reconnect_backoff_max = 200ms;
    cluster_ = std::make_shared<Cluster>(io_.executor(), config);
    cluster_->start();
    ASSERT_TRUE(waitUntil([&] { return cluster_->ready(); }));
    FetchConfig fetch_config;
    fetch_config.max_wait = 50ms;
    fetch_config.busy_max_wait = 5ms;
    fetcher_ = Fetcher::create(io_.executor(), cluster_, fetch_config);
  }

  testing::FakeBroker::Reply serve(int node, const testing::FakeBroker::Request& r) {
    using Reply = testing::FakeBroker::Reply;
    switch (r.header.api_key) {
      case protocol::ApiKey::kApiVersions:
        return Reply::with<protocol::ApiVersionsApi>(r, testing::FakeBroker::allApis());
      case protocol::ApiKey::kMetadata: {
        protocol::MetadataResponse metadata;
        for (int i = 1; i <= 2; ++i) {
          metadata.brokers.push_back(
              {i, "127.0.0.1", ports_[static_cast<size_t>(i - 1)].load(), std::nullopt, {}});
        }
        metadata.controller_id = 1;
        auto& topic = metadata.topics.emplace_back();
        topic.name = "events";
        topic.topic_id = topic_id_;
        for (int32_t p = 0; p < 4; ++p) {
          auto& partition = topic.partitions.emplace_back();
          partition.partition_index = p;
          partition.leader_id = p < 2 ? 1 : 2;
          partition.leader_epoch = 7;
        }
        return Reply::with<protocol::MetadataApi>(r, metadata);
      }
      case protocol::ApiKey::kFetch: {
        protocol::Reader reader(r.body);
        auto request =
            protocol::decodeRequestBody<protocol::FetchApi>(reader, r.header.api_version);
        if (!request.ok()) return Reply::close();
        Seen seen{node, r.header.api_version, std::move(*request)};
        Answer script;
        {
          std::lock_guard lock(mutex_);
          seen_.push_back(seen);
          script = answer_;
        }
        return Reply::with<protocol::FetchApi>(r, script ? script(seen) : withRecords(seen));
      }
      default:
        return Reply::close();
    }
  }

  // Records "P<partition>@<offset>" for every partition asked for, the topic named by id.
  static protocol::FetchResponse withRecords(const Seen& seen) {
    protocol::FetchResponse response;
    for (const auto& t : seen.request.topics) {
      auto& topic = response.responses.emplace_back();
      topic.topic_id = t.topic_id;
      for (const auto& p : t.partitions) {
        auto& partition = topic.partitions.emplace_back();
        partition.partition_index = p.partition;
        partition.high_watermark = 100;
        std::string bytes =
            "P" + std::to_string(p.partition) + "@" + std::to_string(p.fetch_offset);
        partition.records = protocol::Records::copyOf(
            {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
      }
    }
    return response;
  }

  void setAnswer(Answer answer) {
    std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  // The fetches in `request`, as "partition@offset", in request order.
  static std::vector<std::string> partitionsOf(const protocol::FetchRequest& request) {
    std::vector<std::string> out;
    for (const auto& t : request.topics) {
      for (const auto& p : t.partitions) {
        out.push_back(std::to_string(p.partition) + "@" + std::to_string(p.fetch_offset));
      }
    }
    return out;
  }

  // Makes every fetch() in one turn of the io thread, so that they all meet the first round.
  std::vector<Asked> askAtOnce(const std::vector<FetchPosition>& positions) {
    std::promise<std::vector<Asked>> asked;
    boost::asio::post(io_.executor(), [&] {
      std::vector<Asked> all;
      for (const auto& position : positions) {
        all.push_back(ask(*fetcher_, position, io_.executor()));
      }
      asked.set_value(std::move(all));
    });
    return asked.get_future().get();
  }

  IoThreads io_;
  protocol::Uuid topic_id_;
  // What the brokers' threads use is declared before the brokers, which outlive it otherwise.
  std::mutex mutex_;
  std::vector<Seen> seen_;
  Answer answer_;
  std::array<std::atomic<uint16_t>, 2> ports_{};
  std::vector<std::unique_ptr<testing::FakeBroker>> brokers_;
  std::shared_ptr<Cluster> cluster_;
  std::shared_ptr<Fetcher> fetcher_;
};

TEST_F(ScriptedBrokersFetcherTest, SendsOneRequestPerBrokerPerRoundNamingTopicsById) {
  auto asked = askAtOnce({at("events", 0, 3), at("events", 1, 0), at("events", 2, 4),
                          at("events", 3, 0), at("events", 0, 9)});
  std::vector<std::string> answers;
  for (auto& a : asked) {
    FetchedPartition fetched =
        a.answer.wait_for(5s) == std::future_status::ready ? a.answer.get() : FetchedPartition{};
    EXPECT_EQ(fetched.error.code, ErrorCode::kNone) << fetched.error.toString();
    EXPECT_EQ(fetched.leader_epoch, 7);
    EXPECT_EQ(fetched.high_watermark, 100);
    answers.push_back(text(fetched.records.data));
  }
  EXPECT_EQ(answers, (std::vector<std::string>{"P0@3", "P1@0", "P2@4", "P3@0", "P0@9"}));

  std::map<int, std::vector<std::vector<std::string>>> rounds;  // by broker
  std::map<int, std::vector<int32_t>> max_waits;                // by broker
  for (const Seen& s : seen()) {
    EXPECT_GE(s.version, 13);
    ASSERT_EQ(s.request.topics.size(), 1u);
    EXPECT_EQ(s.request.topics[0].topic_id, topic_id_);
    max_waits[s.broker].push_back(s.request.max_wait_ms);
    EXPECT_EQ(s.request.session_id, 0);
    EXPECT_EQ(s.request.session_epoch, -1);
    EXPECT_EQ(s.request.isolation_level, 0);
    for (const auto& p : s.request.topics[0].partitions) {
      EXPECT_EQ(p.current_leader_epoch, -1);
      EXPECT_EQ(p.log_start_offset, -1);
      EXPECT_EQ(p.partition_max_bytes, FetchConfig{}.partition_max_bytes);
    }
    auto fetched = partitionsOf(s.request);
    std::sort(fetched.begin(), fetched.end());
    rounds[s.broker].push_back(fetched);
  }
  // Node 1: both partitions in one request; the second want of partition 0 in the next round.
  EXPECT_EQ(rounds[1], (std::vector<std::vector<std::string>>{{"0@3", "1@0"}, {"0@9"}}));
  EXPECT_EQ(rounds[2], (std::vector<std::vector<std::string>>{{"2@4", "3@0"}}));
  // Node 1's second round goes while partitions 0 and 1, just answered with records, are out
  // with their consumer: it may wait busy_max_wait only, not max_wait.
  EXPECT_EQ(max_waits[1], (std::vector<int32_t>{50, 5}));
  EXPECT_EQ(max_waits[2], std::vector<int32_t>{50});
}

TEST_F(ScriptedBrokersFetcherTest, RotatesPartitionsBetweenRounds) {
  setAnswer([](const Seen& seen) {
    protocol::FetchResponse response;  // every partition empty
    for (const auto& t : seen.request.topics) {
      auto& topic = response.responses.emplace_back();
      topic.topic_id = t.topic_id;
      for (const auto& p : t.partitions)
        topic.partitions.emplace_back().partition_index = p.partition;
    }
    return response;
  });
  auto asked = askAtOnce({at("events", 0, 0), at("events", 1, 0)});
  ASSERT_TRUE(waitUntil([&] { return seen().size() >= 4; }, 5s));
  std::set<std::string> firsts;
  for (const Seen& s : seen()) {
    auto fetched = partitionsOf(s.request);
    EXPECT_EQ(fetched.size(), 2u);
    if (!fetched.empty()) firsts.insert(fetched[0]);
  }
  EXPECT_EQ(firsts, (std::set<std::string>{"0@0", "1@0"}));
  for (auto& a : asked) EXPECT_EQ(a.answer.wait_for(0ms), std::future_status::timeout);
}

TEST_F(ScriptedBrokersFetcherTest, RetriesAWholeRequestErrorThatIsRetriableAndAnswersOneThatIsNot) {
  std::atomic<int> fetches{0};
  setAnswer([&fetches](const Seen&) {
    protocol::FetchResponse response;
    // First FETCH_SESSION_ID_NOT_FOUND (retriable), then CLUSTER_AUTHORIZATION_FAILED.
    response.error_code = fetches++ == 0 ? 70 : 31;
    return response;
  });
  auto asked = askAtOnce({at("events", 0, 0), at("events", 1, 0)});
  for (auto& a : asked) {
    ASSERT_EQ(a.answer.wait_for(5s), std::future_status::ready);
    FetchedPartition fetched = a.answer.get();
    EXPECT_EQ(fetched.error.code, ErrorCode::kClusterAuthorizationFailed);
    EXPECT_NE(fetched.error.message.find("topic events partition"), std::string::npos)
        << fetched.error.message;
  }
  EXPECT_EQ(fetches.load(), 2);
}

TEST_F(ScriptedBrokersFetcherTest, AnswersAFencedEpochAndRetriesRoutingErrorsOfPartitions) {
  std::atomic<int> fetches{0};
  setAnswer([&fetches](const Seen& seen) {
    protocol::FetchResponse response = withRecords(seen);
    const bool first = fetches++ == 0;
    for (auto& partition : response.responses[0].partitions) {
      if (partition.partition_index == 0) partition.error_code = 74;  // FENCED_LEADER_EPOCH
      if (partition.partition_index == 1 && first) partition.error_code = 6;
      if (partition.error_code != 0) partition.records.reset();
    }
    return response;
  });
  FetchPosition fenced = at("events", 0, 0);
  fenced.leader_epoch = 3;
  auto asked = askAtOnce({fenced, at("events", 1, 0)});
  ASSERT_EQ(asked[0].answer.wait_for(5s), std::future_status::ready);
  FetchedPartition f = asked[0].answer.get();
  EXPECT_EQ(f.error.code, ErrorCode::kFencedLeaderEpoch);
  EXPECT_NE(f.error.message.find("the consumer's leader epoch is 3"), std::string::npos)
      << f.error.message;
  EXPECT_EQ(f.leader_epoch, 7);
  EXPECT_TRUE(f.records.data.empty());
  ASSERT_EQ(asked[1].answer.wait_for(5s), std::future_status::ready);
  FetchedPartition r = asked[1].answer.get();
  EXPECT_EQ(r.error.code, ErrorCode::kNone) << r.error.toString();
  EXPECT_EQ(text(r.records.data), "P1@0");
  EXPECT_EQ(fetches.load(), 2);
  auto requests = seen();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].request.topics[0].partitions[0].current_leader_epoch, 3);
  EXPECT_EQ(partitionsOf(requests[1].request), std::vector<std::string>{"1@0"});
}

}  // namespace
}  // namespace kafka::consumer
