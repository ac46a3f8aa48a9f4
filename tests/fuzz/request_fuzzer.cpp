// libFuzzer target: request frames of every API and version, decoded through the run-time
// dispatcher the way a fake broker decodes what a client sends. Decoding must fail cleanly or
// give a header and message whose encoding is stable (see fuzz_input.hpp).
#include "tests/fuzz/fuzz_input.hpp"

namespace kafka::protocol::fuzz {
namespace {

template <ApiDefinition A>
Bytes encodeBody(const RequestHeader& header, const typename A::Request& request, int16_t version) {
  Bytes out;
  Writer w(out);
  const bool flexible = isFlexible<A>(version);
  encodeRequestHeader(w, header, requestHeaderVersion(A::kKey, flexible));
  encodeMessage(w, request, SchemaContext{version, flexible});
  return out;
}

template <ApiDefinition A>
Result<void> decodeBoth(ByteView body, int16_t version, RequestHeader& header,
                        typename A::Request& request) {
  Reader r(body);
  auto h = decodeRequestHeader(r, requestHeaderVersion(A::kKey, isFlexible<A>(version)));
  if (!h) return h.error();
  if (h->api_key != A::kKey || h->api_version != version) {
    return Error{ErrorCode::kMalformedMessage, "header names another API or version"};
  }
  auto req = decodeRequestBody<A>(r, version);
  if (!req) return req.error();
  header = std::move(*h);
  request = std::move(*req);
  return {};
}

}  // namespace
}  // namespace kafka::protocol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kafka::protocol;
  auto input = fuzz::splitInput(data, size);
  if (!input) return 0;
  auto decoded = decodeRequestByKey(input->key, input->version, input->frame_body);
  auto round_trip = withApi(input->key, input->version, [&]<class A>() -> kafka::Result<void> {
    RequestHeader header;
    typename A::Request request;
    auto ok = fuzz::decodeBoth<A>(input->frame_body, input->version, header, request);
    if (!ok) return ok;
    if (!decoded) std::abort();  // the dispatcher must agree with the typed decoder
    Bytes first = fuzz::encodeBody<A>(header, request, input->version);
    RequestHeader header_again;
    typename A::Request again;
    auto ok_again = fuzz::decodeBoth<A>(first, input->version, header_again, again);
    if (!ok_again) {
      std::fprintf(stderr, "re-encoded %.*s request does not decode: %s\n",
                   static_cast<int>(A::kName.size()), A::kName.data(),
                   ok_again.error().toString().c_str());
      std::abort();
    }
    fuzz::requireStableEncoding(first, fuzz::encodeBody<A>(header_again, again, input->version),
                                "request");
    return {};
  });
  if (decoded.ok() != round_trip.ok()) std::abort();
  return 0;
}
