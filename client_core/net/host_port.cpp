#include "client_core/net/host_port.hpp"

#include <charconv>

namespace kafka::net {

std::string HostPort::toString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<HostPort> parseHostPort(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Error{ErrorCode::kInvalidArgument,
                 "invalid address '" + std::string(text) + "': " + std::string(why)};
  };
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid("expected [ipv6]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("expected host:port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return invalid("write IPv6 hosts as [addr]:port");
  }
  if (host.empty()) return invalid("empty host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return invalid("port must be a number from 1 to 65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

Result<std::vector<HostPort>> parseHostPortList(std::string_view text) {
  std::vector<HostPort> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos
                                                                               : comma - start);
    auto parsed = parseHostPort(item);
    if (!parsed.ok()) return parsed.error();
    out.push_back(std::move(*parsed));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace kafka::net
