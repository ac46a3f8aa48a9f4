// produce_bench: librdkafka, client_core and the sidecar (over gRPC) producing the same workloads
// to one in-process mock cluster, in one run, so that their ratios can be compared. Each run
// goes to a topic of its own, so that the mock's retention (5 MiB per partition) never drops
// one run's data during another. Exits 0 when every record of every run was delivered exactly
// once, 1 when a run failed, 2 on bad arguments.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
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
  --records-scale X   multiply every workload's record count by X (default 1; e.g. 0.01)
  --only NAMES        comma-separated workloads: 100B-none, 100B-lz4, 1KiB-none, 1KiB-lz4,
                      or a size (100B, 1KiB) for both codecs (default: all)
  --clients NAMES     comma-separated: librdkafka, client_core, sidecar (default: all)
  --repeat N          run each workload N times per client, interleaved; report medians
                      (default 1)
  --partitions N      partitions of each run's topic (default 64)
  --brokers N         brokers in the mock cluster (default 3)
  --threads N         I/O threads of client_core and of the sidecar daemon (default 2)
  --help              show this text
)";

constexpr std::string_view kAllClients[] = {"librdkafka", "client_core", "sidecar"};

struct Options {
  double records_scale = 1.0;
  std::vector<std::string> only;
  std::vector<std::string> clients{std::begin(kAllClients), std::end(kAllClients)};
  int repeat = 1;
  int partitions = 64;
  int brokers = 3;
  unsigned threads = 2;
};

struct UsageError {
  std::string message;
};

template <class T>
T parseNumber(std::string_view flag, std::string_view text, T min, T max) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < min ||
      value > max) {
    throw UsageError{std::string(flag) + ": '" + std::string(text) + "' is not a number from " +
                     std::to_string(min) + " to " + std::to_string(max)};
  }
  return value;
}

std::vector<Workload> allWorkloads(double scale) {
  auto scaled = [scale](size_t records) {
    return std::max<size_t>(1, static_cast<size_t>(static_cast<double>(records) * scale));
  };
  using record::Compression;
  return {{"100B-none", scaled(1'000'000), 100, Compression::kNone},
          {"100B-lz4", scaled(1'000'000), 100, Compression::kLz4},
          {"1KiB-none", scaled(200'000), 1024, Compression::kNone},
          {"1KiB-lz4", scaled(200'000), 1024, Compression::kLz4}};
}

bool selected(const Workload& workload, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  return std::any_of(only.begin(), only.end(), [&](const std::string& name) {
    return workload.name == name || workload.name.starts_with(name + "-");
  });
}

// Throws UsageError; nullopt for --help.
std::optional<Options> parseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help") return std::nullopt;
    if (i + 1 == argc) throw UsageError{std::string(flag) + " needs a value, or is unknown"};
    std::string_view value = argv[++i];
    if (flag == "--records-scale") {
      options.records_scale = parseNumber(flag, value, 1e-6, 100.0);
    } else if (flag == "--only") {
      options.only = splitList(value);
      const std::vector<Workload> workloads = allWorkloads(1);
      for (const auto& name : options.only) {
        bool known = std::any_of(workloads.begin(), workloads.end(),
                                 [&](const Workload& w) { return selected(w, {name}); });
        if (!known) throw UsageError{"--only: no workload is called '" + name + "'"};
      }
    } else if (flag == "--clients") {
      options.clients = splitList(value);
      for (const auto& name : options.clients) {
        if (std::find(std::begin(kAllClients), std::end(kAllClients), name) ==
            std::end(kAllClients)) {
          throw UsageError{"--clients: no client is called '" + name + "'"};
        }
      }
    } else if (flag == "--repeat") {
      options.repeat = parseNumber(flag, value, 1, 100);
    } else if (flag == "--partitions") {
      options.partitions = parseNumber(flag, value, 1, 10'000);
    } else if (flag == "--brokers") {
      options.brokers = parseNumber(flag, value, 1, 64);
    } else if (flag == "--threads") {
      options.threads = parseNumber(flag, value, 1u, 64u);
    } else {
      throw UsageError{"unknown option " + std::string(flag)};
    }
  }
  return options;
}

std::unique_ptr<BenchClient> makeClient(std::string_view name, const std::string& bootstraps,
                                        unsigned threads) {
  if (name == "librdkafka") return makeLibrdkafkaClient(bootstraps);
  if (name == "client_core") return makeClientCoreClient(bootstraps, threads);
  return makeSidecarClient(bootstraps, threads);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string today() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", std::localtime(&now));
  return text;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// The outcomes of one client's runs of one workload.
struct Samples {
  std::vector<double> seconds;
  std::vector<double> cpu_seconds;  // ClientCpu over the whole run, warm-up included
};

void printTable(const std::vector<Workload>& workloads,
                const std::vector<std::unique_ptr<BenchClient>>& clients,
                const std::vector<std::vector<Samples>>& samples) {
  std::printf("\n%-12s %-8s %-5s %8s %10s %7s %13s %9s\n", "client", "workload", "codec", "records",
              "records/s", "MB/s", "vs librdkafka", "CPU us/rec");
  for (size_t w = 0; w < workloads.size(); ++w) {
    const Workload& workload = workloads[w];
    const auto records = static_cast<double>(workload.records);
    std::optional<double> baseline_rate;
    for (size_t c = 0; c < clients.size(); ++c) {
      if (clients[c]->name() == "librdkafka" && !samples[w][c].seconds.empty()) {
        baseline_rate = records / median(samples[w][c].seconds);
      }
    }
    for (size_t c = 0; c < clients.size(); ++c) {
      if (samples[w][c].seconds.empty()) continue;
      const double rate = records / median(samples[w][c].seconds);
      const std::string size = workload.name.substr(0, workload.name.find('-'));
      const std::string ratio = baseline_rate ? fixed(rate / *baseline_rate, 2) + "x" : "-";
      std::printf("%-12s %-8s %-5s %8zu %10.0f %7.1f %13s %9.2f\n",
                  std::string(clients[c]->name()).c_str(), size.c_str(),
                  std::string(record::compressionName(workload.codec)).c_str(), workload.records,
                  rate, rate * static_cast<double>(workload.record_bytes) / 1e6, ratio.c_str(),
                  median(samples[w][c].cpu_seconds) * 1e6 / records);
    }
  }
  std::printf("targets: client_core >= 1.20x librdkafka, sidecar >= 0.70x librdkafka\n");
}

int runBenchmark(const Options& options) {
  std::vector<Workload> workloads;
  for (auto& workload : allWorkloads(options.records_scale)) {
    if (selected(workload, options.only)) workloads.push_back(std::move(workload));
  }
  std::map<size_t, Payloads> payloads;
  for (const auto& workload : workloads) {
    payloads.try_emplace(workload.record_bytes, workload.record_bytes);
  }

  mock::MockCluster cluster(options.brokers);
  const ClientCpu cpu;
  std::vector<std::unique_ptr<BenchClient>> clients;
  for (const auto& name : options.clients) {
    clients.push_back(makeClient(name, cluster.bootstraps(), options.threads));
  }

  std::cout << "produce_bench " << today() << ": " << std::thread::hardware_concurrency()
            << " hardware threads, librdkafka " << rd_kafka_version_str() << ", mock cluster of "
            << options.brokers << " brokers, " << options.partitions << " partitions per topic, "
            << options.threads << " I/O threads, " << options.repeat << " run(s) each"
            << (options.repeat > 1 ? " (medians)" : "") << "\n"
            << "CPU: of this process " << (cpu.excludesMock() ? "but" : "AND")
            << " the mock's thread, over the whole run (client set-up and warm-up included)\n";
  for (const auto& [bytes, values] : payloads) {
    std::cout << "values of " << bytes << " B: lz4 compresses them to "
              << fixed(100 * values.lz4Ratio(), 0) << " %\n";
  }
  std::cout << std::flush;

  std::vector<std::vector<Samples>> samples(workloads.size(), std::vector<Samples>(clients.size()));
  bool all_ok = true;
  for (size_t w = 0; w < workloads.size(); ++w) {
    const Workload& workload = workloads[w];
    for (int rep = 1; rep <= options.repeat; ++rep) {
      for (size_t c = 0; c < clients.size(); ++c) {
        std::string topic = "bench-" + std::string(clients[c]->name()) + "-" + workload.name + "-" +
                            std::to_string(rep);
        RunResult result;
        const double cpu_before = cpu.seconds();
        try {
          cluster.createTopic(topic, options.partitions);
          result = clients[c]->run({workload, payloads.at(workload.record_bytes), topic});
        } catch (const std::exception& e) {
          result.error = e.what();
        }
        const double cpu_used = cpu.seconds() - cpu_before;
        std::cerr << "  " << workload.name << " run " << rep << " " << clients[c]->name() << ": ";
        if (!result.error.empty()) {
          std::cerr << "FAILED: " << result.error << "\n";
          all_ok = false;
          continue;
        }
        std::cerr << fixed(result.seconds, 3) << " s, "
                  << fixed(static_cast<double>(workload.records) / result.seconds, 0)
                  << " records/s, " << fixed(cpu_used, 3) << " s of CPU\n";
        samples[w][c].seconds.push_back(result.seconds);
        samples[w][c].cpu_seconds.push_back(cpu_used);
      }
    }
  }

  printTable(workloads, clients, samples);
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
    std::cerr << "produce_bench: " << e.message << "\n" << kUsage;
    return 2;
  }
  if (!options) {
    std::cout << kUsage;
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
