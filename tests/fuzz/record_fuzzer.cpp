// libFuzzer target: record batches as a Fetch response carries them (RecordBatch v2 and legacy
// message sets, every codec). The first input byte says whether CRCs are checked, so that the
// fuzzer also reaches what lies behind them; the rest is the batch data. Decoding must end in
// batches, the end of the data, or an Error: never a crash, a leak or undefined behaviour, and
// never more memory than the decompression cap allows.
#include <cstdint>
#include <cstdlib>

#include "client_core/record/record_batch_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kafka::record;
  if (size < 1) return 0;
  DecodeOptions options;
  options.verify_crc = (data[0] & 1) != 0;
  options.max_decompressed_bytes = 4 * 1024 * 1024;
  RecordBatchReader reader(kafka::protocol::ByteView(data + 1, size - 1), options);
  RecordBatch batch;
  size_t touched = 0;
  for (;;) {
    auto next = reader.next(batch);
    if (!next.ok() || !*next) break;
    for (const Record& record : batch.records) {
      touched += record.key ? record.key->size() : 0;
      touched += record.value ? record.value->size() : 0;
      for (const Header& header : record.headers) touched += header.key.size();
    }
  }
  if (reader.position() > size - 1) std::abort();
  return touched == SIZE_MAX;  // keeps the loop's reads from being optimised away
}
