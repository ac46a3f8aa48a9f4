// libFuzzer target: the REST gateway's request parsing (server/rest_request.hpp), which sees
// whatever an HTTP client sends. Input layout, as text: the first line is "METHOD TARGET", the
// second the Content-Type, and the rest the body (seeds in corpus/rest_request).
//
// Every request must end in a call whose message survives a round trip through its wire form,
// or in a 4xx answer with a JSON error body; the call's message, taken as an answer, must turn
// into JSON in both encodings. Never a crash, a leak or undefined behaviour.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "server/rest_request.hpp"

namespace {

namespace pb = google::protobuf;
using kafka::sidecar::HttpRequest;
using kafka::sidecar::HttpResponse;
using kafka::sidecar::RestCall;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "%s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Splits off the text up to the next '\n' (all of it when there is none).
std::string_view takeLine(std::string_view& input) {
  const size_t end = input.find('\n');
  std::string_view line = input.substr(0, end);
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return line;
}

HttpRequest requestOf(std::string_view input) {
  HttpRequest request;
  std::string_view first = takeLine(input);
  const size_t space = first.find(' ');
  request.method = std::string(first.substr(0, space));
  std::string_view target = space == std::string_view::npos ? "" : first.substr(space + 1);
  const size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  request.content_type = std::string(takeLine(input));
  request.body = std::string(input);
  return request;
}

void checkRefusal(const HttpResponse& refusal) {
  if (refusal.status < 400 || refusal.status > 499) fail("not a 4xx", refusal.body);
  pb::Struct body;
  if (!pb::util::JsonStringToMessage(refusal.body, &body).ok()) fail("not JSON", refusal.body);
  if (!body.fields().contains("code") || body.fields().at("message").string_value().empty()) {
    fail("an error body without code or message", refusal.body);
  }
}

void checkCall(const RestCall& call) {
  std::string wire;
  if (!call.request->SerializeToString(&wire)) fail("does not serialize", call.route->path);
  std::unique_ptr<pb::Message> again(call.request->New());
  if (!again->ParseFromString(wire)) fail("does not parse back", call.route->path);
  for (const bool text : {false, true}) {
    const HttpResponse answer = kafka::sidecar::restAnswer(*call.request, text);
    pb::Value json;
    if (answer.status != 200 || !pb::util::JsonStringToMessage(answer.body, &json).ok()) {
      fail("an answer that is not JSON", answer.body);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = kafka::sidecar::parseRestRequest(requestOf(input));
  if (const auto* refusal = std::get_if<HttpResponse>(&parsed)) {
    checkRefusal(*refusal);
  } else {
    checkCall(std::get<RestCall>(parsed));
  }
  return 0;
}
