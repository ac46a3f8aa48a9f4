// Request and response headers, and whole-message framing.
//
// Request header v1 (key, version, correlation id, client id) is used for classic versions and
// v2 (v1 + tagged fields) for flexible ones; response header v0 (correlation id) and v1 (+ tagged
// fields) likewise, except that ApiVersions responses always use header v0 so that a client can
// read the error of a version it does not know. Frames are an int32 length and then the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client_core/protocol/api.hpp"
#include "client_core/protocol/codec.hpp"
#include "client_core/protocol/result.hpp"
#include "client_core/protocol/schema.hpp"

namespace kafka::protocol {

struct RequestHeader {
  ApiKey api_key{};
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  UnknownTags unknown_tags;
};

struct ResponseHeader {
  int32_t correlation_id = 0;
  UnknownTags unknown_tags;
};

int16_t requestHeaderVersion(ApiKey key, bool flexible);
int16_t responseHeaderVersion(ApiKey key, bool flexible);

void encodeRequestHeader(Writer& w, const RequestHeader& header, int16_t header_version);
Result<RequestHeader> decodeRequestHeader(Reader& r, int16_t header_version);
void encodeResponseHeader(Writer& w, const ResponseHeader& header, int16_t header_version);
Result<ResponseHeader> decodeResponseHeader(Reader& r, int16_t header_version);

// Reads the correlation id of a response frame body without decoding the rest: the connection
// needs it to find the request before it knows which API the response belongs to.
std::optional<int32_t> peekCorrelationId(ByteView frame_body);

// Checks a frame length prefix against the configured maximum.
Result<size_t> checkFrameLength(int32_t length, size_t max_frame_bytes);

// A complete request frame: length, header, body.
template <ApiDefinition A>
Bytes encodeRequestFrame(const typename A::Request& request, int16_t version,
                         int32_t correlation_id, const std::optional<std::string>& client_id) {
  Bytes out;
  Writer w(out);
  w.int32(0);  // the length, patched below
  const bool flexible = isFlexible<A>(version);
  encodeRequestHeader(w, RequestHeader{A::kKey, version, correlation_id, client_id, {}},
                      requestHeaderVersion(A::kKey, flexible));
  encodeMessage(w, request, SchemaContext{version, flexible});
  w.patchInt32(0, static_cast<int32_t>(out.size() - 4));
  return out;
}

// A complete response frame (used by tests and fake brokers).
template <ApiDefinition A>
Bytes encodeResponseFrame(const typename A::Response& response, int16_t version,
                          int32_t correlation_id) {
  Bytes out;
  Writer w(out);
  w.int32(0);
  const bool flexible = isFlexible<A>(version);
  encodeResponseHeader(w, ResponseHeader{correlation_id, {}},
                       responseHeaderVersion(A::kKey, flexible));
  encodeMessage(w, response, SchemaContext{version, flexible});
  w.patchInt32(0, static_cast<int32_t>(out.size() - 4));
  return out;
}

// Decodes the body of a response frame (the bytes after the length prefix), header included.
// `owner`, when given, holds `frame_body`; fetched records then point into it without copying.
template <ApiDefinition A>
Result<typename A::Response> decodeResponseFrame(ByteView frame_body, int16_t version,
                                                 std::shared_ptr<const Bytes> owner = nullptr) {
  Reader r(frame_body, std::move(owner));
  const bool flexible = isFlexible<A>(version);
  auto header = decodeResponseHeader(r, responseHeaderVersion(A::kKey, flexible));
  if (!header) return header.error();
  return decodeMessage<typename A::Response>(r, SchemaContext{version, flexible},
                                             std::string(A::kName) + "Response");
}

// Decodes the body of a request frame, header included (used by fake brokers and golden tests).
template <ApiDefinition A>
Result<typename A::Request> decodeRequestBody(Reader& r, int16_t version) {
  return decodeMessage<typename A::Request>(r, SchemaContext{version, isFlexible<A>(version)},
                                            std::string(A::kName) + "Request");
}

}  // namespace kafka::protocol
