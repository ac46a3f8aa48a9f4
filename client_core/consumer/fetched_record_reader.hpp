// FetchedRecordReader: the application records of one fetched partition, batch by batch.
//
// Decodes the raw batches of a FetchedPartition (every codec, legacy formats, CRC checked unless
// turned off) and keeps only what an application should see:
// - records below the fetch offset are dropped (a compressed batch, or a legacy wrapper,
//   starts before the offset asked for);
// - control batches (transaction markers) are skipped;
// - under read_committed, batches of aborted transactions are skipped (using the response's
//   aborted transaction list and the abort markers, as Kafka's consumers do), and nothing at or
//   beyond the last stable offset is returned;
// - a partial batch at the end is not an error: the next fetch starts at nextOffset().
//
// Single-threaded, plain data (no executor). Records point into the fetched bytes or a batch's
// decompressed buffer; RecordBatch::storage keeps either alive, also after the reader is gone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "client_core/consumer/fetcher.hpp"
#include "client_core/consumer/offset_lookup.hpp"
#include "client_core/record/record_batch.hpp"
#include "client_core/record/record_batch_reader.hpp"

namespace kafka::consumer {

class FetchedRecordReader {
 public:
  FetchedRecordReader(FetchedPartition fetched, IsolationLevel isolation,
                      record::DecodeOptions options = {});

  // Decodes the next batch holding records for the application into `batch`, its records
  // trimmed as above (never empty). False at the end; an Error (naming the topic, partition
  // and offset) for a corrupt or malformed batch, after which the reader stays at that batch
  // and returns the same Error again.
  Result<bool> next(record::RecordBatch& batch);

  // Where the next fetch continues: past the last whole batch read so far (skipped ones too),
  // or at the last stable offset when a batch reached it. Never before the fetch offset.
  int64_t nextOffset() const { return next_offset_; }
  const FetchedPartition& fetched() const { return fetched_; }

 private:
  // Whether the application sees `batch` (false for control batches and aborted transactions);
  // an Error for a transaction marker that cannot be read.
  Result<bool> shows(const record::RecordBatch& batch);
  Error fail(const Error& error);

  FetchedPartition fetched_;
  IsolationLevel isolation_;
  record::RecordBatchReader reader_;
  int64_t next_offset_;
  // The first offset not shown: the last stable offset under read_committed, else unbounded.
  int64_t stable_end_;
  // Under read_committed: aborted transactions not yet reached (first offset -> producer id), and
  // the producers whose batches are skipped until their abort marker.
  std::multimap<int64_t, int64_t> aborted_transactions_;
  std::set<int64_t> aborted_producers_;
  bool finished_ = false;
  std::optional<Error> error_;
};

}  // namespace kafka::consumer
