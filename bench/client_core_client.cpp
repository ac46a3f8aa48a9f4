// Our producer, called directly: a fresh io_context, Cluster and Producer per run. A feeder on its
// own strand hands records over in chunks and keeps a few send()s outstanding, starting the next
// chunk as each completes; send()'s completion is the producer's backpressure. The same loads
// consume_bench's topics.
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <stdexcept>
#include <utility>

#include "bench/clients.hpp"
#include "client_core/cluster/cluster.hpp"
#include "client_core/producer/producer.hpp"

namespace kafka::bench {
namespace {

namespace asio = boost::asio;
using producer::DeliveryReport;
using producer::OutgoingRecord;
using producer::Producer;

constexpr size_t kChunkRecords = 1000;
constexpr size_t kChunksOutstanding = 4;
constexpr std::chrono::milliseconds kCloseTimeout{10'000};
// Long enough for a batch to fill in every partition while records are handed over round robin.
constexpr std::chrono::milliseconds kLoadLinger{200};

// Hands records [0, tally.records()) to the producer and reports into `tally`. Lives until every
// record is reported. The feeder's state lives on `strand_`; the tally is touched only by
// delivery handlers, which run on the producer's strand. `partitions`: 0 leaves the partition to
// the producer (sticky, as the records have no key); otherwise record i goes to partition
// i % partitions.
class Feeder : public std::enable_shared_from_this<Feeder> {
 public:
  Feeder(asio::any_io_executor executor, std::shared_ptr<Producer> producer, std::string topic,
         int partitions, const Payloads& payloads, DeliveryTally& tally)
      : strand_(asio::make_strand(executor)),
        producer_(std::move(producer)),
        topic_(std::move(topic)),
        partitions_(partitions),
        payloads_(payloads),
        tally_(tally) {}

  std::future<void> done() { return done_.get_future(); }

  void start() {
    asio::post(strand_, [self = shared_from_this()] {
      for (size_t i = 0; i < kChunksOutstanding; ++i) self->sendChunk();
    });
  }

 private:
  void sendChunk() {
    const size_t total = tally_.records();
    if (next_ == total) return;
    const size_t base = next_;
    const size_t count = std::min(kChunkRecords, total - base);
    next_ += count;
    std::vector<OutgoingRecord> records(count);
    for (size_t i = 0; i < count; ++i) {
      records[i].topic = topic_;
      records[i].value = payloads_.value(base + i);
      if (partitions_ > 0) {
        records[i].partition = static_cast<int32_t>((base + i) % static_cast<size_t>(partitions_));
      }
    }
    auto self = shared_from_this();
    producer_->send(
        std::move(records),
        [self, base](const DeliveryReport& report) {
          for (uint32_t index : report.indices) {
            const bool last = report.error.code == ErrorCode::kNone
                                  ? self->tally_.delivered(base + index)
                                  : self->tally_.failed(base + index, report.error.toString());
            if (last) self->done_.set_value();
          }
        },
        asio::bind_executor(strand_, [self] { self->sendChunk(); }));
  }

  asio::strand<asio::any_io_executor> strand_;
  std::shared_ptr<Producer> producer_;
  std::string topic_;
  int partitions_;
  const Payloads& payloads_;
  DeliveryTally& tally_;
  size_t next_ = 0;
  std::promise<void> done_;
};

// Runs one Feeder to completion; true unless the deadline passed first.
bool feed(asio::any_io_executor executor, const std::shared_ptr<Producer>& producer,
          const std::string& topic, int partitions, const Payloads& payloads, DeliveryTally& tally,
          Clock::time_point deadline) {
  auto feeder = std::make_shared<Feeder>(executor, producer, topic, partitions, payloads, tally);
  auto done = feeder->done();
  feeder->start();
  return done.wait_until(deadline) == std::future_status::ready;
}

// Produces spec.workload to spec.topic with a fresh io_context, Cluster and Producer, after one
// untimed warm-up record when `warm_up` is set. `partitions` as for Feeder.
RunResult produce(const std::string& bootstraps, unsigned io_threads,
                  const producer::ProducerConfig& config, const RunSpec& spec, int partitions,
                  bool warm_up) {
  const auto deadline = Clock::now() + kRunTimeout;
  // Declared before the threads: handlers may touch them until the threads are joined.
  DeliveryTally warmup(1);
  DeliveryTally tally(spec.workload.records);
  IoThreads io(io_threads);

  ClusterConfig cluster_config;
  cluster_config.bootstrap_servers = splitList(bootstraps);
  cluster_config.connection.client_id = "produce-bench";
  auto cluster = std::make_shared<Cluster>(io.executor(), std::move(cluster_config));
  cluster->start();
  auto producer = Producer::create(io.executor(), cluster, config);

  RunResult result;
  bool timed_out = warm_up && !feed(io.executor(), producer, spec.topic, partitions, spec.payloads,
                                    warmup, deadline);
  if (std::string error = warm_up ? runError(warmup, timed_out) : ""; !error.empty()) {
    result.error = "warm-up: " + error;
  } else {
    const auto start = Clock::now();
    timed_out =
        !feed(io.executor(), producer, spec.topic, partitions, spec.payloads, tally, deadline);
    const std::chrono::duration<double> elapsed = tally.completedAt() - start;
    result = {elapsed.count(), runError(tally, timed_out)};
  }

  std::promise<void> closed;
  producer->close(kCloseTimeout, [&closed] { closed.set_value(); });
  closed.get_future().wait();
  cluster->stop();
  return result;
}

class ClientCoreClient : public BenchClient {
 public:
  ClientCoreClient(std::string bootstraps, unsigned io_threads)
      : bootstraps_(std::move(bootstraps)), io_threads_(io_threads) {}

  std::string_view name() const override { return "client_core"; }

  RunResult run(const RunSpec& spec) override {
    producer::ProducerConfig config;
    config.compression = spec.workload.codec;
    return produce(bootstraps_, io_threads_, config, spec, 0, true);
  }

 private:
  std::string bootstraps_;
  unsigned io_threads_;
};

}  // namespace

std::unique_ptr<BenchClient> makeClientCoreClient(std::string bootstraps, unsigned io_threads) {
  return std::make_unique<ClientCoreClient>(std::move(bootstraps), io_threads);
}

void loadTopic(const std::string& bootstraps, unsigned io_threads, const RunSpec& spec,
               int partitions, size_t batch_bytes) {
  producer::ProducerConfig config;
  config.compression = spec.workload.codec;
  config.batch_size = batch_bytes;
  config.linger = kLoadLinger;
  RunResult result = produce(bootstraps, io_threads, config, spec, partitions, false);
  if (!result.error.empty()) {
    throw std::runtime_error("loading " + spec.topic + ": " + result.error);
  }
}

}  // namespace kafka::bench
