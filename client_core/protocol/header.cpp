#include "client_core/protocol/header.hpp"

namespace kafka::protocol {

int16_t requestHeaderVersion(ApiKey /*key*/, bool flexible) { return flexible ? 2 : 1; }

int16_t responseHeaderVersion(ApiKey key, bool flexible) {
  if (key == ApiKey::kApiVersions) return 0;
  return flexible ? 1 : 0;
}

namespace {

void encodeHeaderTags(Writer& w, const UnknownTags& tags) {
  w.unsignedVarint(static_cast<uint32_t>(tags.size()));
  for (const UnknownTag& tag : tags) {
    w.unsignedVarint(tag.tag);
    w.unsignedVarint(static_cast<uint32_t>(tag.data.size()));
    w.raw(tag.data);
  }
}

// Headers define no tagged fields of their own, so every tag is kept as unknown.
struct HeaderTags {
  UnknownTags unknown_tags;
  static constexpr auto fields() { return std::tuple<>{}; }
};

UnknownTags decodeHeaderTags(Reader& r) {
  HeaderTags tags;
  detail::decodeTaggedFields(r, tags, SchemaContext{0, true});
  return std::move(tags.unknown_tags);
}

}  // namespace

void encodeRequestHeader(Writer& w, const RequestHeader& header, int16_t header_version) {
  w.int16(static_cast<int16_t>(header.api_key));
  w.int16(header.api_version);
  w.int32(header.correlation_id);
  if (header_version >= 1) w.nullableString(header.client_id, /*compact=*/false);
  if (header_version >= 2) encodeHeaderTags(w, header.unknown_tags);
}

Result<RequestHeader> decodeRequestHeader(Reader& r, int16_t header_version) {
  RequestHeader header;
  header.api_key = static_cast<ApiKey>(r.int16());
  header.api_version = r.int16();
  header.correlation_id = r.int32();
  if (header_version >= 1) header.client_id = r.nullableString(/*compact=*/false);
  if (header_version >= 2 && r.ok()) header.unknown_tags = decodeHeaderTags(r);
  if (!r.ok()) return Error{ErrorCode::kMalformedMessage, "request header: " + r.error()};
  return header;
}

void encodeResponseHeader(Writer& w, const ResponseHeader& header, int16_t header_version) {
  w.int32(header.correlation_id);
  if (header_version >= 1) encodeHeaderTags(w, header.unknown_tags);
}

Result<ResponseHeader> decodeResponseHeader(Reader& r, int16_t header_version) {
  ResponseHeader header;
  header.correlation_id = r.int32();
  if (header_version >= 1 && r.ok()) header.unknown_tags = decodeHeaderTags(r);
  if (!r.ok()) return Error{ErrorCode::kMalformedMessage, "response header: " + r.error()};
  return header;
}

std::optional<int32_t> peekCorrelationId(ByteView frame_body) {
  Reader r(frame_body);
  int32_t id = r.int32();
  if (!r.ok()) return std::nullopt;
  return id;
}

Result<size_t> checkFrameLength(int32_t length, size_t max_frame_bytes) {
  if (length < 0) {
    return Error{ErrorCode::kMalformedMessage,
                 "negative frame length " + std::to_string(length)};
  }
  if (static_cast<size_t>(length) > max_frame_bytes) {
    return Error{ErrorCode::kFrameTooLarge,
                 "frame of " + std::to_string(length) + " bytes exceeds the maximum of " +
                     std::to_string(max_frame_bytes)};
  }
  return static_cast<size_t>(length);
}

}  // namespace kafka::protocol
