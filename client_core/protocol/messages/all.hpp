// Every API the client core defines, and forEachApi() to visit them all at compile time
// (used for version negotiation, name lookup, fuzzing and the per-version round-trip tests).
#pragma once

#include "client_core/protocol/messages/api_versions.hpp"

namespace kafka::protocol {

template <class... Apis>
struct ApiList {
  template <class F>
  static constexpr void forEach(F&& f) {
    (f.template operator()<Apis>(), ...);
  }
};

using AllApis = ApiList<ApiVersionsApi>;

// Calls f.template operator()<A>() for every API definition A.
template <class F>
constexpr void forEachApi(F&& f) {
  AllApis::forEach(std::forward<F>(f));
}

}  // namespace kafka::protocol
