#include "tests/interop/peer_record.hpp"

#include <gtest/gtest.h>

// The header-only build of Boost.JSON: this is its one translation unit in the binary.
#include <boost/json/src.hpp>
#include <chrono>
#include <cstdio>
#include <sstream>

namespace kafka::interop {
namespace {

std::string printable(const std::optional<std::string>& s) {
  if (!s) return "null";
  std::string out = "\"";
  for (unsigned char c : *s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out + "\"";
}

// kafka_python_peer.py's fields: "=" + hex for bytes, "-" for null.
std::string encodeField(const std::optional<std::string>& s) {
  if (!s) return "-";
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "=";
  for (unsigned char c : *s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<std::string> decodeField(const std::string& field, bool& ok) {
  if (field == "-") return std::nullopt;
  if (field.empty() || field[0] != '=' || field.size() % 2 == 0) {
    ok = false;
    return std::nullopt;
  }
  std::string out;
  for (size_t i = 1; i + 1 < field.size(); i += 2) {
    out += static_cast<char>(std::stoi(field.substr(i, 2), nullptr, 16));
  }
  return out;
}

// A JSON string or null; anything else clears `ok`.
std::optional<std::string> bytesOf(const boost::json::value* value, bool& ok) {
  if (value == nullptr) {
    ok = false;
    return std::nullopt;
  }
  if (value->is_null()) return std::nullopt;
  if (!value->is_string()) {
    ok = false;
    return std::nullopt;
  }
  return std::string(value->get_string());
}

}  // namespace

std::string codecName(record::Compression codec) {
  return std::string(record::compressionName(codec));
}

std::optional<std::string> copyOf(const std::optional<protocol::ByteView>& bytes) {
  if (!bytes) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

void PrintTo(const PeerRecord& r, std::ostream* os) {
  *os << "{offset " << r.offset << ", ts " << r.timestamp << ", key " << printable(r.key)
      << ", value " << printable(r.value) << ", headers [";
  for (const auto& [name, value] : r.headers) *os << name << "=" << printable(value) << " ";
  *os << "]}";
}

std::string toLines(const std::vector<PeerRecord>& records) {
  std::string out;
  for (const PeerRecord& r : records) {
    out += std::to_string(r.offset) + " " + std::to_string(r.timestamp) + " " + encodeField(r.key) +
           " " + encodeField(r.value) + " " + std::to_string(r.headers.size());
    for (const auto& [name, value] : r.headers)
      out += " " + encodeField(name) + " " + encodeField(value);
    out += "\n";
  }
  return out;
}

std::vector<PeerRecord> fromLines(const std::string& text) {
  std::vector<PeerRecord> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    PeerRecord r;
    std::string key, value;
    size_t count = 0;
    fields >> r.offset >> r.timestamp >> key >> value >> count;
    bool ok = static_cast<bool>(fields);
    r.key = decodeField(key, ok);
    r.value = decodeField(value, ok);
    for (size_t i = 0; i < count && ok; ++i) {
      std::string name, header_value;
      fields >> name >> header_value;
      auto decoded_name = decodeField(name, ok);
      r.headers.emplace_back(decoded_name.value_or(""), decodeField(header_value, ok));
    }
    EXPECT_TRUE(ok && fields) << "bad line from the peer: " << line;
    out.push_back(r);
  }
  return out;
}

std::vector<PeerRecord> fromKcatJson(const std::string& text) {
  std::vector<PeerRecord> out;
  boost::json::parse_options options;
  options.allow_invalid_utf8 = true;  // kcat writes bytes as they are
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(line, ec, {}, options);
    bool ok = !ec && parsed.is_object();
    PeerRecord r;
    if (ok) {
      const boost::json::object& object = parsed.get_object();
      const auto* offset = object.if_contains("offset");
      const auto* timestamp = object.if_contains("ts");
      const auto* type = object.if_contains("tstype");
      ok = offset && offset->is_int64() && timestamp && timestamp->is_int64() && type &&
           type->is_string() && type->get_string() == "create";
      if (ok) {
        r.offset = offset->get_int64();
        r.timestamp = timestamp->get_int64();
      }
      r.key = bytesOf(object.if_contains("key"), ok);
      r.value = bytesOf(object.if_contains("payload"), ok);
      // Headers, when there are any: a flat array of name, value, name, value...
      if (const auto* headers = object.if_contains("headers")) {
        const boost::json::array* array = headers->if_array();
        ok = ok && array && array->size() % 2 == 0;
        for (size_t i = 0; ok && i < array->size(); i += 2) {
          auto name = bytesOf(&(*array)[i], ok);
          ok = ok && name.has_value();
          r.headers.emplace_back(name.value_or(""), bytesOf(&(*array)[i + 1], ok));
        }
      }
    }
    EXPECT_TRUE(ok) << "bad line from kcat: " << line;
    out.push_back(std::move(r));
  }
  return out;
}

std::string filler(int i) {
  std::string out;
  for (int k = 0; k < 6; ++k) out += "lorem ipsum dolor sit amet " + std::to_string(i % 4) + " ";
  return out;
}

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kafka::interop
