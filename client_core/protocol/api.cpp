#include "client_core/protocol/api.hpp"

#include "client_core/protocol/messages/all.hpp"

namespace kafka::protocol {

std::string_view apiName(ApiKey key) {
  std::string_view name = "unknown API";
  forEachApi([&]<class A>() {
    if (A::kKey == key) name = A::kName;
  });
  return name;
}

}  // namespace kafka::protocol
