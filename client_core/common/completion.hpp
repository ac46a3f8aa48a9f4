// Turning an Asio completion handler into a plain callback that can be stored and called from a
// strand: the callback posts the handler, with its arguments, to the handler's associated
// executor (or to `fallback` when it has none), so that handlers never run inside our strands.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <memory>
#include <tuple>
#include <utility>

namespace kafka {

template <class... Args, class Handler>
std::function<void(Args...)> postingCallback(const boost::asio::any_io_executor& fallback,
                                             Handler handler) {
  auto executor = boost::asio::get_associated_executor(handler, fallback);
  auto shared = std::make_shared<Handler>(std::move(handler));
  return [executor, shared](Args... args) {
    boost::asio::post(executor, [shared, tuple = std::make_tuple(std::move(args)...)]() mutable {
      std::apply(std::move(*shared), std::move(tuple));
    });
  };
}

}  // namespace kafka
