#include "server/encoded_record.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kafka::sidecar {

namespace {

using google::protobuf::io::CodedOutputStream;
using google::protobuf::internal::WireFormatLite;

constexpr uint32_t kResponseRecordsTag =
    WireFormatLite::MakeTag(v1::SubscribeResponse::kRecordsFieldNumber,
                            WireFormatLite::WIRETYPE_LENGTH_DELIMITED);

std::string_view text(protocol::ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

uint32_t tag(int field, WireFormatLite::WireType type) {
  return WireFormatLite::MakeTag(field, type);
}

size_t varintField(int field, int64_t value) {
  return CodedOutputStream::VarintSize32(tag(field, WireFormatLite::WIRETYPE_VARINT)) +
         CodedOutputStream::VarintSize64(static_cast<uint64_t>(value));
}

size_t bytesField(int field, size_t length) {
  return CodedOutputStream::VarintSize32(tag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) +
         CodedOutputStream::VarintSize32(static_cast<uint32_t>(length)) + length;
}

size_t headerSize(const record::Header& header) {
  size_t size = 0;
  if (!header.key.empty()) size += bytesField(v1::RecordHeader::kKeyFieldNumber, header.key.size());
  if (header.value) size += bytesField(v1::RecordHeader::kValueFieldNumber, header.value->size());
  return size;
}

uint8_t* writeVarint(int field, int64_t value, uint8_t* at) {
  at = CodedOutputStream::WriteVarint32ToArray(tag(field, WireFormatLite::WIRETYPE_VARINT), at);
  return CodedOutputStream::WriteVarint64ToArray(static_cast<uint64_t>(value), at);
}

uint8_t* writeLength(int field, size_t length, uint8_t* at) {
  at = CodedOutputStream::WriteVarint32ToArray(
      tag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED), at);
  return CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(length), at);
}

uint8_t* writeBytes(int field, std::string_view bytes, uint8_t* at) {
  at = writeLength(field, bytes.size(), at);
  std::memcpy(at, bytes.data(), bytes.size());
  return at + bytes.size();
}

}  // namespace

EncodedRecord encodeRecord(const record::RecordBatch& batch, const record::Record& record) {
  using Record = v1::ConsumedRecord;
  using Header = v1::RecordHeader;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  if (record.key) key = text(*record.key);
  if (record.value) value = text(*record.value);
  const bool log_append_time =
      batch.timestampType() == record::TimestampType::kLogAppendTime;

  // The sizes first, as protobuf's own serializer would compute them: fields at their default
  // value are left out, and present optional ones are written even when empty.
  size_t body = 0;
  if (record.offset != 0) body += varintField(Record::kOffsetFieldNumber, record.offset);
  if (key) body += bytesField(Record::kKeyFieldNumber, key->size());
  if (value) body += bytesField(Record::kValueFieldNumber, value->size());
  for (const record::Header& header : record.headers) {
    body += bytesField(Record::kHeadersFieldNumber, headerSize(header));
  }
  if (record.timestamp != 0) body += varintField(Record::kTimestampMsFieldNumber, record.timestamp);
  if (log_append_time) body += varintField(Record::kLogAppendTimeFieldNumber, 1);
  const size_t size = bytesField(v1::PartitionRecords::kRecordsFieldNumber, body);

  grpc_slice slice = grpc_slice_malloc(size);
  uint8_t* at = GRPC_SLICE_START_PTR(slice);
  at = writeLength(v1::PartitionRecords::kRecordsFieldNumber, body, at);
  if (record.offset != 0) at = writeVarint(Record::kOffsetFieldNumber, record.offset, at);
  if (key) at = writeBytes(Record::kKeyFieldNumber, *key, at);
  if (value) at = writeBytes(Record::kValueFieldNumber, *value, at);
  for (const record::Header& header : record.headers) {
    at = writeLength(Record::kHeadersFieldNumber, headerSize(header), at);
    if (!header.key.empty()) at = writeBytes(Header::kKeyFieldNumber, header.key, at);
    if (header.value) at = writeBytes(Header::kValueFieldNumber, text(*header.value), at);
  }
  if (record.timestamp != 0) at = writeVarint(Record::kTimestampMsFieldNumber, record.timestamp, at);
  if (log_append_time) writeVarint(Record::kLogAppendTimeFieldNumber, 1, at);

  EncodedRecord out;
  out.offset = record.offset;
  out.payload_bytes = static_cast<uint32_t>((key ? key->size() : 0) + (value ? value->size() : 0));
  out.bytes = grpc::Slice(slice, grpc::Slice::STEAL_REF);
  return out;
}

grpc::ByteBuffer recordsResponse(const TopicPartition& partition,
                                 std::span<const EncodedRecord> records) {
  v1::PartitionRecords head;
  head.set_topic(partition.topic);
  head.set_partition(partition.partition);
  size_t inner = head.ByteSizeLong();
  for (const EncodedRecord& record : records) inner += record.bytes.size();

  std::string prefix;
  {
    google::protobuf::io::StringOutputStream stream(&prefix);
    CodedOutputStream out(&stream);
    out.WriteVarint32(kResponseRecordsTag);
    out.WriteVarint32(static_cast<uint32_t>(inner));
    head.SerializeWithCachedSizes(&out);
  }
  std::vector<grpc::Slice> slices;
  slices.reserve(records.size() + 1);
  slices.emplace_back(prefix);
  for (const EncodedRecord& record : records) slices.push_back(record.bytes);
  return grpc::ByteBuffer(slices.data(), slices.size());
}

void appendDecoded(const EncodedRecord& record, v1::PartitionRecords& out) {
  google::protobuf::io::CodedInputStream in(record.bytes.begin(),
                                            static_cast<int>(record.bytes.size()));
  uint32_t length = 0;
  // The encoder wrote the tag and length: reading them cannot fail.
  in.ReadTag();
  in.ReadVarint32(&length);
  google::protobuf::io::CodedInputStream::Limit limit = in.PushLimit(static_cast<int>(length));
  out.add_records()->MergeFromCodedStream(&in);
  in.PopLimit(limit);
}

}  // namespace kafka::sidecar
