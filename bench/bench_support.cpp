#include "bench/bench_support.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

namespace kafka::bench {
namespace {

constexpr size_t kPoolBytes = 4 * 1024 * 1024;
constexpr size_t kVocabularyWords = 1000;
constexpr size_t kRatioSampleBytes = 1024 * 1024;
// Odd and large, so that consecutive records start far apart in the pool.
constexpr uint64_t kOffsetStride = 2654435761u;

std::string withTimeout(std::string verdict, bool timed_out) {
  if (!timed_out) return verdict;
  std::string error = "timed out after " + std::to_string(kRunTimeout.count()) + " s";
  return verdict.empty() ? error : error + ": " + verdict;
}

}  // namespace

Payloads::Payloads(size_t record_bytes) : record_bytes_(record_bytes) {
  std::mt19937_64 random(20240501);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::uniform_int_distribution<size_t> length(2, 10);
  std::vector<std::string> words(kVocabularyWords);
  for (auto& word : words) {
    word.resize(length(random));
    for (char& c : word) c = static_cast<char>(letter(random));
  }
  std::uniform_int_distribution<size_t> pick(0, words.size() - 1);
  pool_.reserve(kPoolBytes + record_bytes + 16);
  while (pool_.size() < kPoolBytes + record_bytes) {
    const std::string& word = words[pick(random)];
    pool_.insert(pool_.end(), word.begin(), word.end());
    pool_.push_back(' ');
  }
}

std::span<const uint8_t> Payloads::value(size_t index) const {
  const size_t offset = (index * kOffsetStride) % (pool_.size() - record_bytes_ + 1);
  return {pool_.data() + offset, record_bytes_};
}

double Payloads::lz4Ratio() const {
  protocol::Bytes sample;
  for (size_t i = 0; sample.size() < kRatioSampleBytes; ++i) {
    auto v = value(i);
    sample.insert(sample.end(), v.begin(), v.end());
  }
  protocol::Bytes compressed;
  if (!record::compress(record::Compression::kLz4, sample, compressed).ok()) return 1.0;
  return static_cast<double>(compressed.size()) / static_cast<double>(sample.size());
}

DeliveryTally::DeliveryTally(size_t records) : seen_(records, 0) {}

bool DeliveryTally::account(size_t index) {
  if (index >= seen_.size()) {
    ++out_of_range_;
    return false;
  }
  if (seen_[index]++ != 0) {
    ++duplicates_;
    return false;
  }
  if (++reported_ != seen_.size()) return false;
  completed_at_ = Clock::now();
  return true;
}

bool DeliveryTally::delivered(size_t index) {
  return account(index);
}

bool DeliveryTally::failed(size_t index, std::string_view error) {
  ++failed_;
  if (first_error_.empty()) first_error_ = error;
  return account(index);
}

std::string DeliveryTally::verdict() const {
  if (complete() && failed_ == 0 && duplicates_ == 0 && out_of_range_ == 0) return {};
  std::ostringstream out;
  out << reported_ << " of " << seen_.size() << " records reported";
  if (failed_ != 0) out << ", " << failed_ << " failed (first: " << first_error_ << ")";
  if (duplicates_ != 0) out << ", " << duplicates_ << " reported twice";
  if (out_of_range_ != 0) out << ", " << out_of_range_ << " unknown ids";
  return out.str();
}

ClientCpu::ClientCpu() {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (!std::getline(comm, name) || name != "rdk:mock") continue;
    // The CPU-time clock of another thread of this process, as pthread_getcpuclockid() makes it
    // (Linux: the thread id, inverted and shifted, with the per-thread and scheduler-clock bits).
    const auto tid = static_cast<clockid_t>(std::stol(task.path().filename()));
    mock_clocks_.push_back(((~tid) << 3) | 6);
  }
}

namespace {
double clockSeconds(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}
}  // namespace

double ClientCpu::seconds() const {
  return clockSeconds(CLOCK_PROCESS_CPUTIME_ID) - mockSeconds();
}

double ClientCpu::mockSeconds() const {
  double total = 0;
  for (clockid_t clock : mock_clocks_) total += clockSeconds(clock);
  return total;
}

ConsumeTally::ConsumeTally(size_t records, int partitions)
    : next_offset_(static_cast<size_t>(partitions), 0),
      expected_(records),
      tenth_(std::max<size_t>(1, records / 10)),
      ninetieth_(std::max<size_t>(1, records * 9 / 10)) {}

bool ConsumeTally::received(int32_t partition, int64_t offset) {
  if (partition < 0 || static_cast<size_t>(partition) >= next_offset_.size()) {
    ++unknown_partition_;
    return false;
  }
  int64_t& next = next_offset_[static_cast<size_t>(partition)];
  if (offset != next) {
    if (out_of_order_++ == 0) {
      first_problem_ = "partition " + std::to_string(partition) + ": offset " +
                       std::to_string(offset) + " where " + std::to_string(next) + " was expected";
    }
    next = std::max(next, offset + 1);
    return false;
  }
  next = offset + 1;
  ++received_;
  if (received_ == 1) first_at_ = Clock::now();
  if (received_ == tenth_) tenth_at_ = Clock::now();
  if (received_ == ninetieth_) ninetieth_at_ = Clock::now();
  if (received_ != expected_) return false;
  completed_at_ = Clock::now();
  return true;
}

RunResult ConsumeTally::result(Clock::time_point start, bool timed_out) const {
  using Seconds = std::chrono::duration<double>;
  RunResult result;
  result.error = withTimeout(verdict(), timed_out);
  if (!result.error.empty()) return result;
  result.seconds = Seconds(completed_at_ - start).count();
  result.first_seconds = Seconds(first_at_ - start).count();
  result.steady_seconds = Seconds(ninetieth_at_ - tenth_at_).count();
  return result;
}

void ConsumeTally::failed(std::string_view error) {
  if (first_problem_.empty()) first_problem_ = error;
}

std::string ConsumeTally::verdict() const {
  if (complete() && out_of_order_ == 0 && unknown_partition_ == 0 && first_problem_.empty()) {
    return {};
  }
  std::ostringstream out;
  out << received_ << " of " << expected_ << " records received in order";
  if (out_of_order_ != 0) out << ", " << out_of_order_ << " out of order";
  if (unknown_partition_ != 0) out << ", " << unknown_partition_ << " from unknown partitions";
  if (!first_problem_.empty()) out << " (first: " << first_problem_ << ")";
  return out.str();
}

std::string runError(const DeliveryTally& tally, bool timed_out) {
  return withTimeout(tally.verdict(), timed_out);
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    out.emplace_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

const std::string_view kOptionsHelp =
    R"(  --records-scale X   multiply every workload's record count by X (default 1; e.g. 0.01)
  --only NAMES        comma-separated workloads: 100B-none, 100B-lz4, 1KiB-none, 1KiB-lz4,
                      or a size (100B, 1KiB) for both codecs (default: all)
  --clients NAMES     comma-separated: librdkafka, client_core, sidecar (default: all)
  --repeat N          run each workload N times per client, interleaved; report medians
                      (default 1)
  --partitions N      partitions of each topic (default 64)
  --brokers N         brokers in the mock cluster (default 3)
  --threads N         I/O threads of client_core and of the sidecar daemon (default 2)
  --help              show this text
)";

namespace {

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

}  // namespace

std::optional<Options> parseOptions(int argc, char** argv,
                                    std::span<const std::string_view> more_clients) {
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
                std::end(kAllClients) &&
            std::find(more_clients.begin(), more_clients.end(), name) == more_clients.end()) {
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

std::vector<Workload> selectedWorkloads(const Options& options) {
  std::vector<Workload> workloads;
  for (auto& workload : allWorkloads(options.records_scale)) {
    if (selected(workload, options.only)) workloads.push_back(std::move(workload));
  }
  return workloads;
}

std::map<size_t, Payloads> makePayloads(const std::vector<Workload>& workloads) {
  std::map<size_t, Payloads> payloads;
  for (const auto& workload : workloads) {
    payloads.try_emplace(workload.record_bytes, workload.record_bytes);
  }
  return payloads;
}

bool measureRun(const ClientCpu& cpu, const Workload& workload, int rep, std::string_view client,
                const std::function<RunResult()>& run, Samples& samples) {
  RunResult result;
  const double cpu_before = cpu.seconds();
  const double mock_before = cpu.mockSeconds();
  try {
    result = run();
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  const double cpu_seconds = cpu.seconds() - cpu_before;
  const double mock_seconds = cpu.mockSeconds() - mock_before;
  std::cerr << "  " << workload.name << " run " << rep << " " << client << ": ";
  if (!result.error.empty()) {
    std::cerr << "FAILED: " << result.error << "\n";
    return false;
  }
  std::cerr << fixed(result.seconds, 3) << " s, "
            << fixed(static_cast<double>(workload.records) / result.seconds, 0) << " records/s, "
            << fixed(cpu_seconds, 3) << " s of CPU, the mock " << fixed(mock_seconds, 3) << " s\n";
  samples.seconds.push_back(result.seconds);
  samples.cpu_seconds.push_back(cpu_seconds);
  if (result.steady_seconds > 0) {
    samples.first_seconds.push_back(result.first_seconds);
    samples.steady_seconds.push_back(result.steady_seconds);
  }
  return true;
}

void printPreamble(std::string_view program, const Options& options, const ClientCpu& cpu,
                   const std::map<size_t, Payloads>& payloads) {
  std::cout << program << " " << today() << ": " << std::thread::hardware_concurrency()
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
}

void printTable(const std::vector<Workload>& workloads, const std::vector<std::string>& clients,
                const std::vector<std::vector<Samples>>& samples, std::string_view targets) {
  std::printf("\n%-12s %-8s %-5s %8s %10s %7s %13s %9s\n", "client", "workload", "codec", "records",
              "records/s", "MB/s", "vs librdkafka", "CPU us/rec");
  for (size_t w = 0; w < workloads.size(); ++w) {
    const Workload& workload = workloads[w];
    const auto records = static_cast<double>(workload.records);
    std::optional<double> baseline_rate;
    for (size_t c = 0; c < clients.size(); ++c) {
      if (clients[c] == "librdkafka" && !samples[w][c].seconds.empty()) {
        baseline_rate = records / median(samples[w][c].seconds);
      }
    }
    for (size_t c = 0; c < clients.size(); ++c) {
      if (samples[w][c].seconds.empty()) continue;
      const double rate = records / median(samples[w][c].seconds);
      const std::string size = workload.name.substr(0, workload.name.find('-'));
      const std::string ratio = baseline_rate ? fixed(rate / *baseline_rate, 2) + "x" : "-";
      std::printf("%-12s %-8s %-5s %8zu %10.0f %7.1f %13s %9.2f\n", clients[c].c_str(),
                  size.c_str(), std::string(record::compressionName(workload.codec)).c_str(),
                  workload.records, rate, rate * static_cast<double>(workload.record_bytes) / 1e6,
                  ratio.c_str(), median(samples[w][c].cpu_seconds) * 1e6 / records);
    }
  }
  std::printf("%s\n", std::string(targets).c_str());

  bool steady = false;
  for (const auto& row : samples) {
    for (const Samples& s : row) steady |= !s.steady_seconds.empty();
  }
  if (!steady) return;
  std::printf("\nsteady rate (from 10 %% to 90 %% of the records) and time to the first record:\n");
  std::printf("%-12s %-8s %-5s %10s %7s %13s %9s\n", "client", "workload", "codec", "records/s",
              "MB/s", "vs librdkafka", "first ms");
  for (size_t w = 0; w < workloads.size(); ++w) {
    const Workload& workload = workloads[w];
    const double records = static_cast<double>(workload.records) * 0.8;
    std::optional<double> baseline_rate;
    for (size_t c = 0; c < clients.size(); ++c) {
      if (clients[c] == "librdkafka" && !samples[w][c].steady_seconds.empty()) {
        baseline_rate = records / median(samples[w][c].steady_seconds);
      }
    }
    for (size_t c = 0; c < clients.size(); ++c) {
      if (samples[w][c].steady_seconds.empty()) continue;
      const double rate = records / median(samples[w][c].steady_seconds);
      const std::string size = workload.name.substr(0, workload.name.find('-'));
      const std::string ratio = baseline_rate ? fixed(rate / *baseline_rate, 2) + "x" : "-";
      std::printf("%-12s %-8s %-5s %10.0f %7.1f %13s %9.0f\n", clients[c].c_str(), size.c_str(),
                  std::string(record::compressionName(workload.codec)).c_str(), rate,
                  rate * static_cast<double>(workload.record_bytes) / 1e6, ratio.c_str(),
                  median(samples[w][c].first_seconds) * 1e3);
    }
  }
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace kafka::bench
