#include "client_core/protocol/dispatch.hpp"

namespace kafka::protocol {

Result<void> decodeResponseByKey(ApiKey key, int16_t version, ByteView frame_body) {
  return withApi(key, version, [&]<class A>() -> Result<void> {
    auto response = decodeResponseFrame<A>(frame_body, version);
    if (!response) return response.error();
    return {};
  });
}

Result<void> decodeRequestByKey(ApiKey key, int16_t version, ByteView frame_body) {
  return withApi(key, version, [&]<class A>() -> Result<void> {
    Reader r(frame_body);
    auto header = decodeRequestHeader(r, requestHeaderVersion(A::kKey, isFlexible<A>(version)));
    if (!header) return header.error();
    if (header->api_key != key || header->api_version != version) {
      return Error{ErrorCode::kMalformedMessage,
                   std::string(A::kName) + " v" + std::to_string(version) +
                       " request: the header names API key " +
                       std::to_string(static_cast<int16_t>(header->api_key)) + " v" +
                       std::to_string(header->api_version)};
    }
    auto request = decodeRequestBody<A>(r, version);
    if (!request) return request.error();
    return {};
  });
}

}  // namespace kafka::protocol
