// produce_bench: librdkafka, client_core and the sidecar (over gRPC) producing the same workloads
// to one in-process mock cluster, in one run, so that their ratios can be compared. Each run
// goes to a topic of its own, so that the mock's retention (5 MiB per partition) never drops
// one run's data during another. Exits 0 when every record of every run was delivered exactly
// once, 1 when a run failed, 2 on bad arguments.
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
    R"(Usage: produce_bench [options]
Produces the same records with librdkafka, client_core and the sidecar (gRPC ProduceStream) to
one in-process mock cluster, and prints records/s, MB/s (10^6 bytes of record values per
second), each client's ratio to librdkafka, and the CPU time per record of this process but
the mock's thread.
)";

std::unique_ptr<BenchClient> makeClient(std::string_view name, const std::string& bootstraps,
                                        unsigned threads) {
  if (name == "librdkafka") return makeLibrdkafkaClient(bootstraps);
  if (name == "client_core") return makeClientCoreClient(bootstraps, threads);
  return makeSidecarClient(bootstraps, threads);
}

int runBenchmark(const Options& options) {
  const std::vector<Workload> workloads = selectedWorkloads(options);
  const std::map<size_t, Payloads> payloads = makePayloads(workloads);

  mock::MockCluster cluster(options.brokers);
  const ClientCpu cpu;
  std::vector<std::unique_ptr<BenchClient>> clients;
  for (const auto& name : options.clients) {
    clients.push_back(makeClient(name, cluster.bootstraps(), options.threads));
  }
  printPreamble("produce_bench", options, cpu, payloads);

  std::vector<std::vector<Samples>> samples(workloads.size(), std::vector<Samples>(clients.size()));
  bool all_ok = true;
  for (size_t w = 0; w < workloads.size(); ++w) {
    const Workload& workload = workloads[w];
    for (int rep = 1; rep <= options.repeat; ++rep) {
      for (size_t c = 0; c < clients.size(); ++c) {
        std::string topic = "bench-" + std::string(clients[c]->name()) + "-" + workload.name + "-" +
                            std::to_string(rep);
        all_ok &= measureRun(
            cpu, workload, rep, clients[c]->name(),
            [&] {
              cluster.createTopic(topic, options.partitions);
              return clients[c]->run({workload, payloads.at(workload.record_bytes), topic});
            },
            samples[w][c]);
      }
    }
  }

  printTable(workloads, options.clients, samples,
             "targets: client_core >= 1.20x librdkafka, sidecar >= 0.70x librdkafka");
  if (!all_ok) std::printf("FAILED: some runs did not deliver every record (see above)\n");
  std::fflush(stdout);
  return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace kafka::bench

int main(int argc, char** argv) {
  using namespace kafka::bench;
  std::optional<Options> options;
  try {
    options = parseOptions(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "produce_bench: " << e.message << "\n" << kUsage << kOptionsHelp;
    return 2;
  }
  if (!options) {
    std::cout << kUsage << kOptionsHelp;
    return 0;
  }
  kafka::log::setLevel(kafka::log::Level::kWarn);
  try {
    return runBenchmark(*options);
  } catch (const std::exception& e) {
    std::cerr << "produce_bench: " << e.what() << "\n";
    return 1;
  }
}
