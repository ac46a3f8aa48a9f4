#include "server/rest_json.hpp"

#include <google/protobuf/util/json_util.h>

#include <set>

#include "client_core/common/utf8.hpp"
#include "proto/status_code_name.hpp"

namespace kafka::sidecar {

namespace pb = google::protobuf;

unsigned httpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

HttpResponse jsonError(unsigned http_status, grpc::StatusCode code, std::string_view message) {
  pb::Struct error;
  auto& fields = *error.mutable_fields();
  fields["code"].set_string_value(std::string(statusCodeName(code)));
  // Messages quote what the client sent, which need not be UTF-8; JSON must be.
  fields["message"].set_string_value(utf8Text(message));
  HttpResponse response{http_status, {}, "application/json"};
  (void)pb::util::MessageToJsonString(error, &response.body);
  response.body += '\n';
  return response;
}

HttpResponse jsonError(const grpc::Status& status) {
  return jsonError(httpStatusOf(status.error_code()), status.error_code(), status.error_message());
}

namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto byte = [&](size_t at) { return static_cast<unsigned char>(bytes[at]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out += kBase64Alphabet[(group >> shift) & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = byte(i) << 16;
    if (rest == 2) group |= byte(i + 1) << 8;
    out += kBase64Alphabet[(group >> 18) & 63];
    out += kBase64Alphabet[(group >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(group >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t group = 0;
  int bits = 0;
  for (char c : text) {
    const size_t value = kBase64Alphabet.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    group = (group << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((group >> bits) & 0xFF);
    }
  }
  return out;
}

bool isUtf8(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t length = utf8SequenceLength(bytes);
    if (length == 0) return false;
    bytes.remove_prefix(length);
  }
  return true;
}

std::string utf8Text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    const size_t length = utf8SequenceLength(bytes);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      bytes.remove_prefix(1);
    } else {
      out.append(bytes.substr(0, length));
      bytes.remove_prefix(length);
    }
  }
  return out;
}

namespace {

const pb::FieldDescriptor* fieldNamed(const pb::Descriptor& type, const std::string& name) {
  const pb::FieldDescriptor* field = type.FindFieldByName(name);
  return field ? field : type.FindFieldByCamelcaseName(name);
}

void convertValue(pb::Value& value, const pb::FieldDescriptor& field,
                  const std::function<void(std::string&)>& convert) {
  if (field.type() == pb::FieldDescriptor::TYPE_BYTES) {
    if (value.has_string_value()) convert(*value.mutable_string_value());
  } else if (field.type() == pb::FieldDescriptor::TYPE_MESSAGE && !field.is_map()) {
    convertBytesFields(value, *field.message_type(), convert);
  }
}

bool hasBytesFields(const pb::Descriptor& type, std::set<const pb::Descriptor*>& seen) {
  if (!seen.insert(&type).second) return false;
  for (int i = 0; i < type.field_count(); ++i) {
    const pb::FieldDescriptor& field = *type.field(i);
    if (field.type() == pb::FieldDescriptor::TYPE_BYTES) return true;
    if (field.type() == pb::FieldDescriptor::TYPE_MESSAGE &&
        hasBytesFields(*field.message_type(), seen)) {
      return true;
    }
  }
  return false;
}

}  // namespace

void convertBytesFields(pb::Value& json, const pb::Descriptor& type,
                        const std::function<void(std::string&)>& convert) {
  if (!json.has_struct_value()) return;
  for (auto& [name, value] : *json.mutable_struct_value()->mutable_fields()) {
    const pb::FieldDescriptor* field = fieldNamed(type, name);
    if (!field) continue;
    if (value.has_list_value()) {
      for (pb::Value& item : *value.mutable_list_value()->mutable_values()) {
        convertValue(item, *field, convert);
      }
    } else {
      convertValue(value, *field, convert);
    }
  }
}

bool hasBytesFields(const pb::Descriptor& type) {
  std::set<const pb::Descriptor*> seen;
  return hasBytesFields(type, seen);
}

}  // namespace kafka::sidecar
