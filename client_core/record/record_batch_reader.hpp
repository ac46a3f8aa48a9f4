// RecordBatchReader: decodes the record batches of a Fetch response partition (or any byte
// sequence of batches), one batch at a time.
//
// Reads RecordBatch v2 and the legacy message sets of magic 0 and 1 (which brokers still return
// for data written in those formats): each legacy top-level message becomes one RecordBatch, a
// compressed wrapper yielding its inner messages as records with absolute offsets.
//
// A fetch may end in the middle of a batch (the broker cuts the response at the size limit):
// that is not an error. next() then reports the end and endedWithPartialBatch() says so. Every
// length is checked before it is used; any violation, a CRC mismatch (when checked) or a codec
// failure is an Error (kCorruptMessage for integrity, kMalformedMessage for structure) naming
// the batch's base offset, and the reader stops there.
//
// Decoded records point into the input (uncompressed batches) or into a buffer the batch owns
// (compressed ones). RecordBatch::storage keeps both alive when the reader was given an owner;
// otherwise the caller keeps the input alive while it uses the records. Single-threaded; plain
// data, no executor.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "client_core/protocol/codec.hpp"
#include "client_core/protocol/result.hpp"
#include "client_core/record/record_batch.hpp"

namespace kafka::record {

struct DecodeOptions {
  // Check each batch's CRC (v2: CRC-32C; legacy messages: CRC-32) before decoding it.
  bool verify_crc = true;
  // The most one batch may decompress to; beyond it decoding fails rather than allocate. The
  // default is the connection's default frame limit.
  size_t max_decompressed_bytes = 100 * 1024 * 1024;
};

class RecordBatchReader {
 public:
  // `owner`, when given, keeps `data` alive and is shared by the batches decoded from it.
  explicit RecordBatchReader(protocol::ByteView data, DecodeOptions options = {},
                             std::shared_ptr<const void> owner = nullptr);
  // The records of a Produce request or Fetch response, sharing their frame.
  explicit RecordBatchReader(const protocol::Records& records, DecodeOptions options = {});

  // Decodes the next batch into `batch` (its vectors' capacity is reused). Returns true for a
  // batch, false at the end of the data or at a trailing partial batch, or an Error.
  Result<bool> next(RecordBatch& batch);

  // After next() returned false: whether the data ended inside a batch, how many bytes of it
  // were there, and its full size when its length field was among them.
  bool endedWithPartialBatch() const { return partial_bytes_ > 0; }
  size_t partialBatchBytes() const { return partial_bytes_; }
  std::optional<size_t> partialBatchSize() const { return partial_size_; }
  // Bytes of whole batches decoded so far.
  size_t position() const { return pos_; }

 private:
  protocol::ByteView data_;
  DecodeOptions options_;
  std::shared_ptr<const void> owner_;
  size_t pos_ = 0;
  size_t partial_bytes_ = 0;
  std::optional<size_t> partial_size_;
  bool failed_ = false;
};

}  // namespace kafka::record
