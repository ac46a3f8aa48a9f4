#include "client_core/consumer/fetched_record_reader.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace kafka::consumer {

namespace {

// A transaction marker's key: int16 version, then int16 type.
constexpr size_t kControlKeySize = 4;
constexpr int16_t kAbortMarker = 0;

}  // namespace

FetchedRecordReader::FetchedRecordReader(FetchedPartition fetched, IsolationLevel isolation,
                                         record::DecodeOptions options)
    : fetched_(std::move(fetched)),
      isolation_(isolation),
      reader_(fetched_.records, options),
      next_offset_(fetched_.fetch_offset),
      stable_end_(isolation == IsolationLevel::kReadCommitted && fetched_.last_stable_offset >= 0
                      ? fetched_.last_stable_offset
                      : std::numeric_limits<int64_t>::max()) {
  if (isolation_ == IsolationLevel::kReadCommitted) {
    for (const auto& aborted : fetched_.aborted_transactions) {
      aborted_transactions_.emplace(aborted.first_offset, aborted.producer_id);
    }
  }
}

Result<bool> FetchedRecordReader::next(record::RecordBatch& batch) {
  if (error_) return *error_;
  while (!finished_) {
    auto decoded = reader_.next(batch);
    if (!decoded.ok()) return fail(decoded.error());
    if (!*decoded || batch.base_offset >= stable_end_) {
      finished_ = true;
      break;
    }
    auto shown = shows(batch);
    if (!shown.ok()) return fail(shown.error());
    // A batch cannot normally straddle the last stable offset; if one does, the fetch after
    // this one asks again from there.
    finished_ = batch.lastOffset() >= stable_end_;
    next_offset_ = std::max(next_offset_, finished_ ? stable_end_ : batch.nextOffset());
    if (!*shown) continue;
    std::erase_if(batch.records, [this](const record::Record& r) {
      return r.offset < fetched_.fetch_offset || r.offset >= stable_end_;
    });
    if (!batch.records.empty()) return true;
  }
  return false;
}

Result<bool> FetchedRecordReader::shows(const record::RecordBatch& batch) {
  // Batches without a producer id can be neither transactional nor markers.
  if (isolation_ != IsolationLevel::kReadCommitted || batch.producer_id < 0) {
    return !batch.isControl();
  }
  // A transaction is aborted from its first offset on: its producer's batches are skipped from
  // the first batch that reaches that offset until the producer's abort marker.
  while (!aborted_transactions_.empty() &&
         aborted_transactions_.begin()->first <= batch.lastOffset()) {
    aborted_producers_.insert(aborted_transactions_.begin()->second);
    aborted_transactions_.erase(aborted_transactions_.begin());
  }
  if (batch.isControl()) {
    // Compaction may have emptied the batch; then there is no marker left to act on.
    if (batch.records.empty()) return false;
    const auto& key = batch.records.front().key;
    if (!key || key->size() < kControlKeySize) {
      return Error{ErrorCode::kCorruptMessage,
                   "record batch at offset " + std::to_string(batch.base_offset) +
                       ": transaction marker without a version and type in its key"};
    }
    const auto type = static_cast<int16_t>(((*key)[2] << 8) | (*key)[3]);
    if (type == kAbortMarker) aborted_producers_.erase(batch.producer_id);
    return false;
  }
  return !(batch.isTransactional() && aborted_producers_.contains(batch.producer_id));
}

Error FetchedRecordReader::fail(const Error& error) {
  error_ =
      Error{error.code, describePartition(fetched_.partition.topic, fetched_.partition.partition) +
                            ": " + error.message};
  return *error_;
}

}  // namespace kafka::consumer
