#include "bench/bench_support.hpp"

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace kafka::bench {
namespace {

constexpr size_t kPoolBytes = 4 * 1024 * 1024;
constexpr size_t kVocabularyWords = 1000;
constexpr size_t kRatioSampleBytes = 1024 * 1024;
// Odd and large, so that consecutive records start far apart in the pool.
constexpr uint64_t kOffsetStride = 2654435761u;

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

double ClientCpu::seconds() const {
  auto read = [](clockid_t clock) {
    timespec now{};
    clock_gettime(clock, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
  };
  double total = read(CLOCK_PROCESS_CPUTIME_ID);
  for (clockid_t clock : mock_clocks_) total -= read(clock);
  return total;
}

std::string runError(const DeliveryTally& tally, bool timed_out) {
  std::string verdict = tally.verdict();
  if (!timed_out) return verdict;
  std::string error = "timed out after " + std::to_string(kRunTimeout.count()) + " s";
  return verdict.empty() ? error : error + ": " + verdict;
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

}  // namespace kafka::bench
