// HttpServer on its own io_context: routing, status codes, keep-alive and stop().
#include "server/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "tests/server/test_support.hpp"

namespace kafka::sidecar {
namespace {

using testing::httpRequest;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.addRoute("/hello", [this] {
      ++calls_;
      return HttpResponse{200, "hi\n"};
    });
    server_.addRoute("/busy", [] { return HttpResponse{503, "later\n"}; });
    auto bound = server_.listen({boost::asio::ip::make_address("127.0.0.1"), 0});
    port_ = bound.port();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    server_.stop();
    work_.reset();
    thread_.join();  // returns only if stop() ended every coroutine of the server
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  HttpServer server_{io_.get_executor()};
  std::atomic<int> calls_{0};
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(HttpServerTest, ServesRoutes) {
  ASSERT_NE(port_, 0);
  auto reply = httpRequest(port_, "GET", "/hello");
  EXPECT_EQ(reply.status, 200u) << reply.error;
  EXPECT_EQ(reply.body, "hi\n");
  reply = httpRequest(port_, "GET", "/busy");
  EXPECT_EQ(reply.status, 503u) << reply.error;
  EXPECT_EQ(reply.body, "later\n");
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(HttpServerTest, IgnoresQueryString) {
  auto reply = httpRequest(port_, "GET", "/hello?verbose=1");
  EXPECT_EQ(reply.status, 200u) << reply.error;
}

TEST_F(HttpServerTest, UnknownPathIs404) {
  auto reply = httpRequest(port_, "GET", "/nope");
  EXPECT_EQ(reply.status, 404u) << reply.error;
  EXPECT_EQ(httpRequest(port_, "POST", "/nope").status, 404u);
  EXPECT_EQ(httpRequest(port_, "GET", "/hello/").status, 404u);
}

TEST_F(HttpServerTest, OtherMethodIs405WithAllow) {
  for (std::string_view method : {"POST", "PUT", "DELETE", "HEAD"}) {
    auto reply = httpRequest(port_, method, "/hello");
    EXPECT_EQ(reply.status, 405u) << method << " " << reply.error;
    EXPECT_EQ(reply.allow, "GET") << method;
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, KeepsConnectionAlive) {
  auto replies = testing::httpTwiceOnOneConnection(port_, "/hello");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].status, 200u);
  EXPECT_EQ(replies[1].status, 200u);
  EXPECT_EQ(calls_.load(), 2);
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAndRefusesNewOnes) {
  // An idle client connection must not keep the io_context (and so shutdown) waiting.
  boost::asio::io_context client_io;
  boost::asio::ip::tcp::socket idle(client_io);
  idle.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  ASSERT_EQ(httpRequest(port_, "GET", "/hello").status, 200u);

  server_.stop();
  ASSERT_TRUE(testing::waitUntil([&] { return httpRequest(port_, "GET", "/hello").status == 0; }));
  char byte;
  boost::system::error_code ec;
  idle.read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);
}

TEST(HttpServerBindTest, PortInUseThrows) {
  boost::asio::io_context io;
  HttpServer first(io.get_executor());
  auto bound = first.listen({boost::asio::ip::make_address("127.0.0.1"), 0});
  HttpServer second(io.get_executor());
  EXPECT_THROW(second.listen(bound), boost::system::system_error);
}

}  // namespace
}  // namespace kafka::sidecar
