// libFuzzer target: response frames of every API and version, decoded through the run-time
// dispatcher the way a connection decodes what a broker sends. Decoding must fail cleanly or give
// a message whose encoding is stable (see fuzz_input.hpp).
#include "tests/fuzz/fuzz_input.hpp"

namespace kafka::protocol::fuzz {
namespace {

template <ApiDefinition A>
Bytes encodeBody(const typename A::Response& response, int16_t version) {
  Bytes frame = encodeResponseFrame<A>(response, version, 0);
  return Bytes(frame.begin() + 4, frame.end());
}

}  // namespace
}  // namespace kafka::protocol::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kafka::protocol;
  auto input = fuzz::splitInput(data, size);
  if (!input) return 0;
  auto decoded = decodeResponseByKey(input->key, input->version, input->frame_body);
  auto round_trip = withApi(input->key, input->version, [&]<class A>() -> kafka::Result<void> {
    auto response = decodeResponseFrame<A>(input->frame_body, input->version);
    if (!response) return response.error();
    if (!decoded) std::abort();  // the dispatcher must agree with the typed decoder
    Bytes first = fuzz::encodeBody<A>(*response, input->version);
    auto again = decodeResponseFrame<A>(first, input->version);
    if (!again) {
      std::fprintf(stderr, "re-encoded %.*s response does not decode: %s\n",
                   static_cast<int>(A::kName.size()), A::kName.data(),
                   again.error().toString().c_str());
      std::abort();
    }
    fuzz::requireStableEncoding(first, fuzz::encodeBody<A>(*again, input->version), "response");
    return {};
  });
  if (decoded.ok() != round_trip.ok()) std::abort();
  return 0;
}
