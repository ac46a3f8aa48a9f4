// Our consumer, called directly: a fresh io_context, Cluster, Fetcher and Consumer per run, with
// FetchConfig's and ConsumerConfig's defaults (but max_wait, which consume_bench may change;
// auto-commit off: nothing is committed). Before the
// run, the cluster is started and asked for the topic's metadata, so that it is connected and
// knows the leaders. The run assign()s every partition; the listener then takes records whenever
// the consumer says it has some, on the consumer's strand, until take() comes back empty, as an
// application (or the sidecar's session) does.
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <stdexcept>
#include <utility>

#include "bench/clients.hpp"
#include "client_core/cluster/cluster.hpp"
#include "client_core/consumer/consumer.hpp"

namespace kafka::bench {
namespace {

namespace asio = boost::asio;
using consumer::Consumer;

// One take() hands out at most this much, as librdkafka's client reads 1,000 messages a call.
constexpr size_t kTakeRecords = 1000;
constexpr size_t kTakeBytes = 1024 * 1024;

// Takes every record the consumer has into the tally, and says when the tally is complete (or a
// partition failed). Runs on the consumer's strand; done() is read from any thread.
class Reader : public consumer::ConsumerListener {
 public:
  explicit Reader(ConsumeTally& tally) : tally_(tally) {}

  std::future<void> done() { return done_.get_future(); }
  // Before the consumer starts.
  void attach(std::weak_ptr<Consumer> consumer) { consumer_ = std::move(consumer); }

  // Takes until take() comes back empty, which also asks the consumer to call
  // onRecordsAvailable() when it has more.
  void drain() {
    auto consumer = consumer_.lock();
    if (!consumer) return;
    const auto sink = [this](const consumer::TakenRecords& run) {
      for (const record::Record& record : run.records) {
        if (tally_.received(run.partition.partition, record.offset)) finish();
      }
    };
    while (consumer->take(kTakeRecords, kTakeBytes, sink) > 0) {
    }
  }

  void onRecordsAvailable() override { drain(); }
  void onError(const Error& error) override {
    tally_.failed(error.toString());
    finish();
  }
  void onPartitionsAssigned(const std::vector<TopicPartition>&) override {}
  void onPartitionsRevoked(const std::vector<TopicPartition>&) override {}
  void onPartitionsLost(const std::vector<TopicPartition>&) override {}
  void onEndOfPartition(const TopicPartition&, int64_t) override {}
  void onCommitted(const Result<std::vector<group::PartitionResult>>&) override {}

 private:
  void finish() {
    if (finished_) return;
    finished_ = true;
    done_.set_value();
  }

  ConsumeTally& tally_;
  std::weak_ptr<Consumer> consumer_;
  std::promise<void> done_;
  bool finished_ = false;
};

// Starts `cluster` and looks up `topic`; throws unless it has `partitions` partitions.
void prepare(Cluster& cluster, const std::string& topic, int partitions) {
  cluster.start();
  std::promise<Result<MetadataPtr>> answer;
  cluster.refreshMetadata(
      {topic}, [&answer](Result<MetadataPtr> result) { answer.set_value(std::move(result)); });
  auto future = answer.get_future();
  if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    throw std::runtime_error("client_core: no metadata for " + topic);
  }
  Result<MetadataPtr> metadata = future.get();
  if (!metadata.ok()) {
    throw std::runtime_error("client_core: metadata of " + topic + ": " +
                             metadata.error().toString());
  }
  const TopicInfo* info = (*metadata)->topic(topic);
  const size_t found = info ? info->partitions.size() : 0;
  if (found != static_cast<size_t>(partitions)) {
    throw std::runtime_error("client_core: " + topic + " has " + std::to_string(found) +
                             " partitions, not " + std::to_string(partitions));
  }
}

class ClientCoreConsumer : public ConsumeClient {
 public:
  ClientCoreConsumer(std::string bootstraps, unsigned io_threads,
                     std::chrono::milliseconds fetch_wait)
      : bootstraps_(std::move(bootstraps)), io_threads_(io_threads), fetch_wait_(fetch_wait) {}

  std::string_view name() const override { return "client_core"; }

  RunResult run(const ConsumeSpec& spec) override {
    const auto deadline = Clock::now() + kRunTimeout;
    // Declared before the threads: handlers may touch them until the threads are joined.
    ConsumeTally tally(spec.workload.records, spec.partitions);
    auto reader = std::make_shared<Reader>(tally);
    IoThreads io(io_threads_);

    ClusterConfig cluster_config;
    cluster_config.bootstrap_servers = splitList(bootstraps_);
    cluster_config.connection.client_id = "consume-bench";
    auto cluster = std::make_shared<Cluster>(io.executor(), std::move(cluster_config));
    auto fetcher = consumer::Fetcher::create(io.executor(), cluster,
                                             consumer::FetchConfig{.max_wait = fetch_wait_});
    consumer::ConsumerConfig config;
    config.group.group_id = spec.group;
    config.offset_reset = consumer::OffsetReset::kEarliest;
    config.auto_commit = false;
    auto consumer =
        Consumer::create(asio::make_strand(io.executor()), cluster, fetcher, config, reader);
    reader->attach(consumer);
    std::vector<TopicPartition> partitions;
    for (int p = 0; p < spec.partitions; ++p) partitions.push_back({spec.topic, p});

    std::string setup_error;
    bool timed_out = false;
    Clock::time_point start;
    try {
      prepare(*cluster, spec.topic, spec.partitions);
      auto done = reader->done();
      start = Clock::now();
      asio::post(consumer->strand(), [&] {
        consumer->assign(std::move(partitions));
        reader->drain();
      });
      timed_out = done.wait_until(deadline) != std::future_status::ready;
    } catch (const std::exception& e) {
      setup_error = e.what();
    }

    std::promise<void> closed;
    asio::post(consumer->strand(), [&] { consumer->close([&closed] { closed.set_value(); }); });
    closed.get_future().wait();
    fetcher->stop();
    cluster->stop();
    if (!setup_error.empty()) return {0, setup_error};
    // The consumer hands out nothing more once closed: the tally is settled.
    return tally.result(start, timed_out);
  }

 private:
  std::string bootstraps_;
  unsigned io_threads_;
  std::chrono::milliseconds fetch_wait_;
};

}  // namespace

std::unique_ptr<ConsumeClient> makeClientCoreConsumer(std::string bootstraps, unsigned io_threads,
                                                      std::chrono::milliseconds fetch_wait) {
  return std::make_unique<ClientCoreConsumer>(std::move(bootstraps), io_threads, fetch_wait);
}

}  // namespace kafka::bench
