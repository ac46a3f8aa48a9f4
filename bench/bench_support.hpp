// What the benchmark programs (produce_bench, consume_bench) and their clients share: the
// command line, the workloads, the record values, the tallies that check every record was
// acknowledged or received exactly once, the interfaces each client implements, and the table
// of results.
//
// Everything here is plain data or used from one thread at a time; the comments say which.
#pragma once

#include <time.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client_core/record/compression.hpp"

namespace kafka::bench {

using Clock = std::chrono::steady_clock;

// How long one run (warm-up included) may take before it counts as failed.
inline constexpr std::chrono::seconds kRunTimeout{300};

struct Workload {
  std::string name;  // "100B-none": --only selects by it, or by its part before the '-'
  size_t records = 0;
  size_t record_bytes = 0;
  record::Compression codec = record::Compression::kNone;
};

// Record values: slices of a pool of generated text (words drawn from a fixed vocabulary), so
// that lz4 finds roughly what it finds in real text, and so that no two neighbouring records are
// the same. Deterministic: every client sends the same bytes. Read-only after construction.
class Payloads {
 public:
  explicit Payloads(size_t record_bytes);
  size_t recordBytes() const { return record_bytes_; }
  std::span<const uint8_t> value(size_t index) const;
  // The size lz4 compresses about 1 MiB of consecutive values to, as a fraction.
  double lz4Ratio() const;

 private:
  size_t record_bytes_;
  std::vector<uint8_t> pool_;
};

// What became of each record of a run, by index. Not thread-safe: one thread at a time reports
// (a client's delivery callback), and the run's thread reads after that thread is done.
class DeliveryTally {
 public:
  explicit DeliveryTally(size_t records);

  // Both return true for the report that accounts for the last unreported record, and note the
  // time then: the end of the run.
  bool delivered(size_t index);
  bool failed(size_t index, std::string_view error);

  size_t records() const { return seen_.size(); }
  bool complete() const { return reported_ == seen_.size(); }
  Clock::time_point completedAt() const { return completed_at_; }
  // Empty when every record was delivered exactly once; otherwise what went wrong, with counts.
  std::string verdict() const;

 private:
  bool account(size_t index);

  std::vector<uint8_t> seen_;
  size_t reported_ = 0;
  size_t failed_ = 0;
  size_t duplicates_ = 0;
  size_t out_of_range_ = 0;
  std::string first_error_;
  Clock::time_point completed_at_{};
};

// One timed run: `workload` to the fresh topic `topic`, preceded by one untimed warm-up record to
// the same topic, so that connections, the topic's metadata and the producer id are in place, as
// they are for a long-running producer. (librdkafka otherwise spends some 50 ms looking up a
// topic it has not seen, which would count against it in a run of half a second.)
struct RunSpec {
  const Workload& workload;
  const Payloads& payloads;
  std::string topic;
};

struct RunResult {
  double seconds = 0;  // from the first record handed over to the last acknowledgement
  std::string error;   // empty when every record was delivered exactly once
  // Consume runs only (0 otherwise): from the start to the first record received, and from the
  // tenth to the ninetieth percent of the records, which leaves out how the client starts and
  // how it finishes the topic.
  double first_seconds = 0;
  double steady_seconds = 0;
};

// A producer under test. run() is called from the benchmark's main thread, one run at a time.
class BenchClient {
 public:
  virtual ~BenchClient() = default;
  virtual std::string_view name() const = 0;
  virtual RunResult run(const RunSpec& spec) = 0;
};

// What a consumer received in one run, checked as it arrives: each partition's offsets must come
// as 0, 1, 2, ... with neither a gap nor a repeat, and the run is complete when `records` have
// come. Together these prove that every record of a topic whose partitions start at offset 0 was
// received exactly once. Not thread-safe: one thread at a time reports, and the run's thread
// reads once that thread is done.
class ConsumeTally {
 public:
  ConsumeTally(size_t records, int partitions);

  // Returns true for the record that completes the count, and notes the time then: the end of
  // the run.
  bool received(int32_t partition, int64_t offset);
  // A client-side error (the first is kept).
  void failed(std::string_view error);

  size_t records() const { return expected_; }
  bool complete() const { return received_ == expected_; }
  Clock::time_point completedAt() const { return completed_at_; }
  // Empty when every record came once, in order; otherwise what went wrong.
  std::string verdict() const;

  // The outcome of a run that started at `start`.
  RunResult result(Clock::time_point start, bool timed_out) const;

 private:
  std::vector<int64_t> next_offset_;  // per partition
  size_t expected_;
  size_t tenth_;
  size_t ninetieth_;
  Clock::time_point first_at_{};
  Clock::time_point tenth_at_{};
  Clock::time_point ninetieth_at_{};
  size_t received_ = 0;
  size_t out_of_order_ = 0;
  size_t unknown_partition_ = 0;
  std::string first_problem_;
  Clock::time_point completed_at_{};
};

// One timed consume run: every record of `topic` (`records` of them, over `partitions`
// partitions that start at offset 0), read from the beginning by a reader of `group`, which the
// run uses only for offset lookups: each run gets a fresh group, so that nothing committed is
// found and every partition starts at its beginning.
struct ConsumeSpec {
  const Workload& workload;
  std::string topic;
  int partitions = 0;
  std::string group;
};

// A consumer under test. run() is called from the benchmark's main thread, one run at a time.
// RunResult::seconds runs from the moment the client is told what to read (the client is
// connected and knows the topic's leaders by then) to the last record received.
class ConsumeClient {
 public:
  virtual ~ConsumeClient() = default;
  virtual std::string_view name() const = 0;
  // Untimed work before run(spec), outside its CPU time.
  virtual void prepareRun(const ConsumeSpec& /*spec*/) {}
  virtual RunResult run(const ConsumeSpec& spec) = 0;
};

// An io_context run by `threads` threads for as long as this object lives: the I/O threads of a
// client_core client. Objects using it must be stopped before it is destroyed.
class IoThreads {
 public:
  explicit IoThreads(unsigned threads) : work_(io_.get_executor()) {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() {
    work_.reset();
    for (auto& thread : threads_) thread.join();
  }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

// CPU time this process has used apart from the mock cluster's serving thread: what the client
// under test costs (librdkafka's threads, our I/O threads, the daemon and the gRPC client), which
// on a small machine competes with the mock for the same cores. Create it once the mock runs.
class ClientCpu {
 public:
  ClientCpu();
  // Seconds since some fixed point; only differences mean anything. Any thread.
  double seconds() const;
  // Seconds of the mock's thread alone (0 when it was not found). Any thread.
  double mockSeconds() const;
  // False when the mock's thread was not found (its name changed): seconds() then counts it too.
  bool excludesMock() const { return !mock_clocks_.empty(); }

 private:
  std::vector<clockid_t> mock_clocks_;
};

// The error of a run that took too long, or else the tally's verdict.
std::string runError(const DeliveryTally& tally, bool timed_out);

// "a,b,c" → {"a", "b", "c"}.
std::vector<std::string> splitList(std::string_view text);

// ---- What the benchmark programs share. ----

inline constexpr std::string_view kAllClients[] = {"librdkafka", "client_core", "sidecar"};

// The options every benchmark program takes (see its --help).
struct Options {
  double records_scale = 1.0;
  std::vector<std::string> only;
  std::vector<std::string> clients{std::begin(kAllClients), std::end(kAllClients)};
  int repeat = 1;
  int partitions = 64;
  int brokers = 3;
  unsigned threads = 2;
};

// The options' part of every program's --help text.
extern const std::string_view kOptionsHelp;

struct UsageError {
  std::string message;
};

// The number `text` that `flag` was given, from `min` to `max`; throws UsageError otherwise.
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

// Throws UsageError; nullopt for --help.
// `more_clients`: clients a program offers beside kAllClients, run only when --clients names
// them.
std::optional<Options> parseOptions(int argc, char** argv,
                                    std::span<const std::string_view> more_clients = {});

// The four workloads (1M × 100 B and 200k × 1 KiB, each uncompressed and with lz4), scaled by
// --records-scale and picked by --only.
std::vector<Workload> selectedWorkloads(const Options& options);

// The outcomes of one client's runs of one workload.
struct Samples {
  std::vector<double> seconds;
  std::vector<double> cpu_seconds;     // ClientCpu over the whole run, set-up included
  std::vector<double> first_seconds;   // consume runs only
  std::vector<double> steady_seconds;  // consume runs only
};

// Runs run `rep` of `workload` by `client` (an exception is a failed run), prints to stderr how
// it went and, when it succeeded, adds it and the CPU time it took to `samples`. Returns false
// when it failed.
bool measureRun(const ClientCpu& cpu, const Workload& workload, int rep, std::string_view client,
                const std::function<RunResult()>& run, Samples& samples);

// The record values of each record size of `workloads`.
std::map<size_t, Payloads> makePayloads(const std::vector<Workload>& workloads);

// The first lines of a program's output: its name, the date, the machine, the setup and how well
// lz4 compresses the values.
void printPreamble(std::string_view program, const Options& options, const ClientCpu& cpu,
                   const std::map<size_t, Payloads>& payloads);

// The table of medians: records/s, MB/s (10^6 bytes of record values per second), the ratio to
// librdkafka and the CPU time per record, one line per client and workload; then `targets`.
// samples[w][c] belongs to workloads[w] and clients[c]. Consume runs get a second table: the
// steady rate (from 10 % to 90 % of the records) and the time to the first record.
void printTable(const std::vector<Workload>& workloads, const std::vector<std::string>& clients,
                const std::vector<std::vector<Samples>>& samples, std::string_view targets);

std::string fixed(double value, int decimals);

}  // namespace kafka::bench
