// What the produce benchmark's clients share: the workloads, the record values, the tally that
// checks every record was acknowledged exactly once, and the interface each client implements.
//
// Everything here is plain data or used from one thread at a time; the comments say which.
#pragma once

#include <time.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
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
};

// A producer under test. run() is called from the benchmark's main thread, one run at a time.
class BenchClient {
 public:
  virtual ~BenchClient() = default;
  virtual std::string_view name() const = 0;
  virtual RunResult run(const RunSpec& spec) = 0;
};

// CPU time this process has used apart from the mock cluster's serving thread: what the client
// under test costs (librdkafka's threads, our I/O threads, the daemon and the gRPC client), which
// on a small machine competes with the mock for the same cores. Create it once the mock runs.
class ClientCpu {
 public:
  ClientCpu();
  // Seconds since some fixed point; only differences mean anything. Any thread.
  double seconds() const;
  // False when the mock's thread was not found (its name changed): seconds() then counts it too.
  bool excludesMock() const { return !mock_clocks_.empty(); }

 private:
  std::vector<clockid_t> mock_clocks_;
};

// The error of a run that took too long, or else the tally's verdict.
std::string runError(const DeliveryTally& tally, bool timed_out);

// "a,b,c" → {"a", "b", "c"}.
std::vector<std::string> splitList(std::string_view text);

}  // namespace kafka::bench
