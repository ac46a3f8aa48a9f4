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

std::optional<ApiKey> apiKeyByName(std::string_view name) {
  std::optional<ApiKey> key;
  forEachApi([&]<class A>() {
    if (A::kName == name) key = A::kKey;
  });
  return key;
}

}  // namespace kafka::protocol
