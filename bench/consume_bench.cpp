// consume_bench: librdkafka, client_core and the sidecar (over gRPC) consuming the same topics
// from one in-process mock cluster, in one run, so that their ratios can be compared. Each
// workload is written once, to a topic of its own, and every client then reads that whole topic
// from the beginning, as often as --repeat says. Exits 0 when every run received every record
// exactly once and in order, 1 when a run failed, 2 on bad arguments.
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/clients.hpp"
#include "client_core/common/log.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka::bench {
namespace {

constexpr std::string_view kUsage =
    R"(Usage: consume_bench [options]
Writes each workload once to a topic of an in-process mock cluster (our producer, 64 KiB
batches, records spread evenly over the partitions), then reads the whole topic with
librdkafka, client_core and the sidecar (gRPC Consumer.Subscribe, acks batched), each with
every partition assigned from its beginning. Prints records/s, MB/s (10^6 bytes of record values
per second), each client's ratio to librdkafka, and the CPU time per record of this process but
the mock's thread; then the same from 10 % to 90 % of the records, and the time to the first.
  --fetch-wait-ms N   fetch.wait.max.ms of librdkafka and client_core (default 500, both
                      clients' default; the daemon has no such setting and keeps 500)
  --clients grpc_only adds a bare gRPC server streaming the same records, encoded as the
                      daemon encodes them, from memory to the sidecar's client: what the
                      transport alone allows (run only when named)
)";

constexpr std::string_view kMoreClients[] = {"grpc_only"};

// fetch.wait.max.ms unless --fetch-wait-ms says otherwise: both clients' default. The mock, like
// a broker that gets no new data, holds a Fetch that finds nothing for the whole wait, so a
// client that sends one for caught-up partitions stalls the others of that broker behind it; a
// shorter wait shows what is left of a run without those stalls.
constexpr std::chrono::milliseconds kDefaultFetchWait{500};

// The batches the topics are written in: between Kafka's Java client's default (16 KiB) and
// librdkafka's (up to 1 MB).
constexpr size_t kLoadBatchBytes = 64 * 1024;

std::unique_ptr<ConsumeClient> makeClient(std::string_view name, const std::string& bootstraps,
                                          unsigned threads, std::chrono::milliseconds fetch_wait) {
  if (name == "librdkafka") return makeLibrdkafkaConsumer(bootstraps, fetch_wait);
  if (name == "client_core") return makeClientCoreConsumer(bootstraps, threads, fetch_wait);
  if (name == "grpc_only") return makeGrpcOnlyConsumer();
  return makeSidecarConsumer(bootstraps, threads);
}

// Takes --fetch-wait-ms N out of the arguments (the other options are every program's).
std::chrono::milliseconds takeFetchWait(std::vector<char*>& args) {
  std::chrono::milliseconds wait = kDefaultFetchWait;
  for (size_t i = 1; i < args.size(); ++i) {
    if (std::string_view(args[i]) != "--fetch-wait-ms") continue;
    if (i + 1 == args.size()) throw UsageError{"--fetch-wait-ms needs a value"};
    wait = std::chrono::milliseconds(parseNumber("--fetch-wait-ms", args[i + 1], 0, 300'000));
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
               args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    --i;
  }
  return wait;
}

int runBenchmark(const Options& options, std::chrono::milliseconds fetch_wait) {
  const std::vector<Workload> workloads = selectedWorkloads(options);
  const std::map<size_t, Payloads> payloads = makePayloads(workloads);

  mock::MockCluster cluster(options.brokers);
  const ClientCpu cpu;
  std::vector<std::unique_ptr<ConsumeClient>> clients;
  for (const auto& name : options.clients) {
    clients.push_back(makeClient(name, cluster.bootstraps(), options.threads, fetch_wait));
  }
  printPreamble("consume_bench", options, cpu, payloads);
  std::cout << "fetch.wait.max.ms: " << fetch_wait.count()
            << " for librdkafka and client_core, 500 for the sidecar\n"
            << std::flush;

  std::vector<std::vector<Samples>> samples(workloads.size(), std::vector<Samples>(clients.size()));
  bool all_ok = true;
  for (size_t w = 0; w < workloads.size(); ++w) {
    const Workload& workload = workloads[w];
    const std::string topic = "consume-" + workload.name;
    try {
      const auto start = Clock::now();
      cluster.createTopic(topic, options.partitions);
      loadTopic(cluster.bootstraps(), options.threads,
                {workload, payloads.at(workload.record_bytes), topic}, options.partitions,
                kLoadBatchBytes);
      const std::chrono::duration<double> elapsed = Clock::now() - start;
      std::cerr << "  " << workload.name << ": " << workload.records << " records written in "
                << fixed(elapsed.count(), 3) << " s\n";
    } catch (const std::exception& e) {
      std::cerr << "  " << workload.name << ": FAILED to write the topic: " << e.what() << "\n";
      all_ok = false;
      continue;
    }
    for (int rep = 1; rep <= options.repeat; ++rep) {
      for (size_t c = 0; c < clients.size(); ++c) {
        const std::string group = "consume-bench-" + std::string(clients[c]->name()) + "-" +
                                  workload.name + "-" + std::to_string(rep);
        const ConsumeSpec spec{workload, topic, options.partitions, group};
        clients[c]->prepareRun(spec);
        all_ok &= measureRun(
            cpu, workload, rep, clients[c]->name(), [&] { return clients[c]->run(spec); },
            samples[w][c]);
      }
    }
  }

  printTable(workloads, options.clients, samples,
             "targets: client_core >= 1.20x librdkafka, sidecar >= 0.70x librdkafka");
  if (!all_ok) std::printf("FAILED: some runs did not receive every record (see above)\n");
  std::fflush(stdout);
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace kafka::bench

int main(int argc, char** argv) {
  using namespace kafka::bench;
  std::optional<Options> options;
  std::chrono::milliseconds fetch_wait{};
  try {
    std::vector<char*> args(argv, argv + argc);
    fetch_wait = takeFetchWait(args);
    options = parseOptions(static_cast<int>(args.size()), args.data(), kMoreClients);
  } catch (const UsageError& e) {
    std::cerr << "consume_bench: " << e.message << "\n" << kUsage << kOptionsHelp;
    return 2;
  }
  if (!options) {
    std::cout << kUsage << kOptionsHelp;
    return 0;
  }
  kafka::log::setLevel(kafka::log::Level::kWarn);
  try {
    return runBenchmark(*options, fetch_wait);
  } catch (const std::exception& e) {
    std::cerr << "consume_bench: " << e.what() << "\n";
    return 1;
  }
}
