// "host:port" as configured for bootstrap servers ("[::1]:9092" for IPv6 literals).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client_core/protocol/result.hpp"

namespace kafka::net {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string toString() const;
  bool operator==(const HostPort&) const = default;
};

// Fails with kInvalidArgument naming the offending text.
Result<HostPort> parseHostPort(std::string_view text);
// A comma-separated list, as in --bootstrap-servers; empty entries are errors.
Result<std::vector<HostPort>> parseHostPortList(std::string_view text);

}  // namespace kafka::net
