// TLS, mTLS and unix sockets on the daemon's listeners. The certificates are made at test time
// with the openssl CLI: a CA, a server certificate for 127.0.0.1 and localhost, a client
// certificate of that CA, and one of another CA. gRPC clients run in-process, HTTPS goes through
// curl, and ksctl runs in-process.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "server/daemon.hpp"
#include "server/http_server.hpp"
#include "tests/server/test_support.hpp"
#include "tools/ksctl/ksctl.hpp"

namespace kafka::sidecar {
namespace {

using testing::ChildProcess;

constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr const char* kCurl = "/usr/bin/curl";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A temporary directory of PEM files, removed when it goes. EC keys: quick to make.
class Certificates {
 public:
  Certificates() {
    static int count = 0;
    dir_ = ::testing::TempDir() + "tls-test-" + std::to_string(getpid()) + "-" +
           std::to_string(++count);
    std::filesystem::create_directories(dir_);
    makeCa("ca");
    makeCa("other-ca");
    makeSigned("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    makeSigned("client", "ca", "extendedKeyUsage=clientAuth\n");
    makeSigned("stranger", "other-ca", "extendedKeyUsage=clientAuth\n");
  }
  ~Certificates() { std::filesystem::remove_all(dir_); }
  Certificates(const Certificates&) = delete;
  Certificates& operator=(const Certificates&) = delete;

  std::string cert(std::string_view name) const { return dir_ + "/" + std::string(name) + ".pem"; }
  std::string key(std::string_view name) const { return dir_ + "/" + std::string(name) + ".key"; }
  const std::string& dir() const { return dir_; }

 private:
  void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), kOpenssl);
    testing::ProcessResult result = ChildProcess::run(args);
    if (result.exit_code != 0) throw std::runtime_error("openssl failed: " + result.err);
  }

  std::vector<std::string> newKey(std::string_view name) {
    return {"-newkey", "ec",      "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key(name), "-subj",    "/CN=" + std::string(name)};
  }

  void makeCa(std::string_view name) {
    std::vector<std::string> args = {"req", "-x509", "-days", "2", "-out", cert(name)};
    for (std::string& arg : newKey(name)) args.push_back(std::move(arg));
    openssl(std::move(args));
  }

  void makeSigned(std::string_view name, std::string_view ca, std::string_view extensions) {
    std::string request = dir_ + "/" + std::string(name) + ".csr";
    std::string extensions_file = dir_ + "/" + std::string(name) + ".ext";
    std::ofstream(extensions_file) << extensions;
    std::vector<std::string> args = {"req", "-new", "-out", request};
    for (std::string& arg : newKey(name)) args.push_back(std::move(arg));
    openssl(std::move(args));
    openssl({"x509", "-req", "-in", request, "-CA", cert(ca), "-CAkey", key(ca), "-set_serial",
             std::to_string(++serial_), "-days", "2", "-extfile", extensions_file, "-out",
             cert(name)});
  }

  std::string dir_;
  int serial_ = 0;
};

struct CurlReply {
  int exit_code = -1;  // curl's: 0 when an HTTP answer came, whatever its status
  unsigned status = 0;
  std::string body;
  std::string err;
};

// curl `url` with `options` (e.g. --cacert FILE) and a 5 s bound.
CurlReply curl(const std::string& url, std::vector<std::string> options = {}) {
  std::vector<std::string> args = {kCurl, "-sS", "--max-time", "5", "-w", "\n%{http_code}"};
  for (std::string& option : options) args.push_back(std::move(option));
  args.push_back(url);
  testing::ProcessResult result = ChildProcess::run(args);
  CurlReply reply;
  reply.exit_code = result.exit_code.value_or(-1);
  reply.err = result.err;
  size_t last = result.out.rfind('\n');
  if (last != std::string::npos) {
    reply.body = result.out.substr(0, last);
    reply.status = static_cast<unsigned>(std::atoi(result.out.c_str() + last + 1));
  }
  return reply;
}

// The Admin service's DescribeCluster through `channel`, bounded.
grpc::Status describeCluster(const std::shared_ptr<grpc::Channel>& channel) {
  auto admin = v1::Admin::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::DescribeClusterResponse response;
  grpc::Status status = admin->DescribeCluster(&context, v1::DescribeClusterRequest(), &response);
  if (status.ok() && response.brokers_size() != 1) {
    return {grpc::StatusCode::INTERNAL, "unexpected broker count"};
  }
  return status;
}

testing::ProcessResult ksctl(std::vector<std::string_view> args) {
  return testing::runKsctlInProcess(std::move(args));
}

unsigned modeOf(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) return ~0u;
  EXPECT_TRUE(S_ISSOCK(info.st_mode)) << path;
  return info.st_mode & 07777;
}

// Leaves a socket file at `path`, as a process that died would.
void leaveStaleSocket(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof address.sun_path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0)
      << std::strerror(errno);
  ::close(fd);
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certificates_ = new Certificates(); }
  static void TearDownTestSuite() {
    delete certificates_;
    certificates_ = nullptr;
  }

  const Certificates& certs() const { return *certificates_; }

  DaemonConfig tlsConfig(bool mutual) const {
    DaemonConfig config = testing::loopbackDaemonConfig("");
    config.bootstrap_servers.clear();
    config.embedded_brokers = 1;
    config.tls.cert_file = certs().cert("server");
    config.tls.key_file = certs().key("server");
    if (mutual) config.tls.client_ca_file = certs().cert("ca");
    return config;
  }

  void startDaemon(DaemonConfig config) {
    daemon_ = std::make_unique<Daemon>(std::move(config), Daemon::Signals::kIgnore);
    daemon_->start();
  }

  // Why a daemon with `config` fails to start; "" when it starts.
  static std::string startError(DaemonConfig config) {
    Daemon daemon(std::move(config), Daemon::Signals::kIgnore);
    try {
      daemon.start();
    } catch (const std::runtime_error& error) {
      return error.what();
    }
    return {};
  }

  void TearDown() override {
    if (!daemon_) return;
    daemon_->requestStop();
    daemon_->wait();
  }

  // A TLS channel to the daemon's gRPC port trusting `ca`, presenting `client` (if not empty).
  std::shared_ptr<grpc::Channel> tlsChannel(std::string_view ca, std::string_view client = {}) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = readFile(certs().cert(ca));
    if (!client.empty()) {
      options.pem_cert_chain = readFile(certs().cert(client));
      options.pem_private_key = readFile(certs().key(client));
    }
    return grpc::CreateChannel(daemon_->grpcAddress(), grpc::SslCredentials(options));
  }

  std::shared_ptr<grpc::Channel> plainChannel() {
    return grpc::CreateChannel(daemon_->grpcAddress(), grpc::InsecureChannelCredentials());
  }

  std::string https(std::string_view path) const {
    return "https://127.0.0.1:" + std::to_string(daemon_->httpEndpoint().port()) +
           std::string(path);
  }

  // curl options trusting the test CA and presenting `client` (if not empty).
  std::vector<std::string> trusting(std::string_view client = {}) const {
    std::vector<std::string> out = {"--cacert", certs().cert("ca")};
    if (!client.empty()) {
      out.insert(out.end(), {"--cert", certs().cert(client), "--key", certs().key(client)});
    }
    return out;
  }

  static Certificates* certificates_;
  std::unique_ptr<Daemon> daemon_;
};

Certificates* TlsTest::certificates_ = nullptr;

TEST_F(TlsTest, GrpcServesTlsToClientsThatTrustTheCa) {
  startDaemon(tlsConfig(false));
  grpc::Status trusted = describeCluster(tlsChannel("ca"));
  EXPECT_TRUE(trusted.ok()) << trusted.error_message();
  // Needless under plain TLS, but harmless.
  EXPECT_TRUE(describeCluster(tlsChannel("ca", "client")).ok());

  grpc::Status plain = describeCluster(plainChannel());
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE) << plain.error_message();
  grpc::Status untrusted = describeCluster(tlsChannel("other-ca"));
  EXPECT_EQ(untrusted.error_code(), grpc::StatusCode::UNAVAILABLE) << untrusted.error_message();
}

TEST_F(TlsTest, HttpServesTlsToClientsThatTrustTheCa) {
  startDaemon(tlsConfig(false));
  CurlReply health = curl(https("/healthz"), trusting());
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body, "ok\n");
  ASSERT_TRUE(testing::waitUntil([&] { return curl(https("/readyz"), trusting()).status == 200; }));
  CurlReply topics = curl(https("/v1/topics"), trusting());
  EXPECT_EQ(topics.status, 200u) << topics.body << topics.err;
  EXPECT_NE(topics.body.find("\"demo\""), std::string::npos) << topics.body;

  // curl: 60 when the certificate cannot be verified; kubelet's probes do not verify it (-k).
  CurlReply untrusted = curl(https("/healthz"));
  EXPECT_EQ(untrusted.exit_code, 60) << untrusted.err;
  EXPECT_EQ(curl(https("/healthz"), {"--insecure"}).status, 200u);
  // Plain HTTP to the TLS port gets no HTTP answer.
  CurlReply plain =
      curl("http://127.0.0.1:" + std::to_string(daemon_->httpEndpoint().port()) + "/healthz");
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_EQ(plain.status, 0u);
  // A client that offers at most TLS 1.1 (which its OpenSSL allows at security level 0 only) is
  // refused.
  CurlReply old_tls =
      curl(https("/healthz"), {"--cacert", certs().cert("ca"), "--tlsv1.0", "--tls-max", "1.1",
                               "--ciphers", "DEFAULT@SECLEVEL=0"});
  EXPECT_NE(old_tls.exit_code, 0);
  EXPECT_EQ(old_tls.status, 0u);
}

TEST_F(TlsTest, GrpcMutualTlsNeedsACertificateOfTheClientCa) {
  startDaemon(tlsConfig(true));
  grpc::Status certified = describeCluster(tlsChannel("ca", "client"));
  EXPECT_TRUE(certified.ok()) << certified.error_message();

  EXPECT_EQ(describeCluster(tlsChannel("ca")).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(describeCluster(tlsChannel("ca", "stranger")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(describeCluster(plainChannel()).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, HttpMutualTlsNeedsACertificateOfTheClientCaExceptForProbes) {
  startDaemon(tlsConfig(true));
  CurlReply certified = curl(https("/v1/topics"), trusting("client"));
  EXPECT_EQ(certified.status, 200u) << certified.body << certified.err;
  EXPECT_EQ(curl(https("/metrics"), trusting("client")).status, 200u);

  // Without a certificate: the probes only.
  EXPECT_EQ(curl(https("/healthz"), trusting()).status, 200u);
  ASSERT_TRUE(testing::waitUntil([&] { return curl(https("/readyz"), trusting()).status == 200; }));
  for (std::string_view path : {"/v1/topics", "/metrics", "/openapi.json", "/nowhere"}) {
    CurlReply refused = curl(https(path), trusting());
    EXPECT_EQ(refused.status, 401u) << path;
    EXPECT_NE(refused.body.find("\"UNAUTHENTICATED\""), std::string::npos) << refused.body;
    EXPECT_NE(refused.body.find("client certificate"), std::string::npos) << refused.body;
  }
  // A certificate of another CA fails the handshake, probes included.
  for (std::string_view path : {"/v1/topics", "/healthz"}) {
    CurlReply stranger = curl(https(path), trusting("stranger"));
    EXPECT_NE(stranger.exit_code, 0) << path;
    EXPECT_EQ(stranger.status, 0u) << path << ": " << stranger.body;
  }
}

// A client that connects and never starts its handshake is closed after kHandshakeTimeout.
TEST_F(TlsTest, SilentClientIsClosedAfterTheHandshakeTimeout) {
  startDaemon(tlsConfig(false));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(daemon_->httpEndpoint().port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval bound{.tv_sec = HttpServer::kHandshakeTimeout.count() + 10, .tv_usec = 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound), 0);
  const auto started = std::chrono::steady_clock::now();
  char byte = 0;
  ssize_t read = ::recv(fd, &byte, 1, 0);
  const auto waited = std::chrono::steady_clock::now() - started;
  ::close(fd);
  EXPECT_EQ(read, 0) << "not closed: " << std::strerror(errno);
  EXPECT_GE(waited, HttpServer::kHandshakeTimeout - std::chrono::milliseconds(100));
  EXPECT_LT(waited, HttpServer::kHandshakeTimeout + std::chrono::seconds(3));
}

// Python's grpcio, the way an application would connect: with the CA and its certificate.
TEST_F(TlsTest, PythonGrpcioWithSslChannelCredentials) {
  startDaemon(tlsConfig(true));
  constexpr std::string_view kScript = R"(
import sys, grpc
ca, cert, key, addr, present = sys.argv[1:6]
read = lambda path: open(path, 'rb').read()
credentials = grpc.ssl_channel_credentials(
    read(ca), read(key) if present == 'yes' else None, read(cert) if present == 'yes' else None)
with grpc.secure_channel(addr, credentials) as channel:
    describe = channel.unary_unary('/kafka.sidecar.v1.Admin/DescribeCluster')
    try:
        answer = describe(b'', timeout=5)
        print('ok', len(answer))
    except grpc.RpcError as error:
        print('failed', error.code().name)
)";
  auto run = [&](std::string_view present) {
    testing::ProcessResult result = ChildProcess::run(
        {"/usr/bin/python3", "-c", std::string(kScript), certs().cert("ca"), certs().cert("client"),
         certs().key("client"), daemon_->grpcAddress(), std::string(present)});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  };
  std::string with_cert = run("yes");
  EXPECT_TRUE(with_cert.starts_with("ok ")) << with_cert;
  EXPECT_NE(with_cert, "ok 0\n");
  EXPECT_EQ(run("no"), "failed UNAVAILABLE\n");
}

TEST_F(TlsTest, KsctlTalksTlsAndMutualTls) {
  startDaemon(tlsConfig(true));
  std::string addr = daemon_->grpcAddress();
  std::string ca = certs().cert("ca");
  std::string cert = certs().cert("client");
  std::string key = certs().key("client");
  testing::ProcessResult run = ksctl({"--addr", addr, "--tls-ca-file", ca, "--tls-cert-file", cert,
                                      "--tls-key-file", key, "--timeout", "5", "brokers"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(run.out.starts_with("1 127.0.0.1:")) << run.out;
  // By name, as the certificate says localhost too.
  std::string by_name = "localhost:" + addr.substr(addr.rfind(':') + 1);
  run = ksctl({"--addr", by_name, "--tls-server-name", "localhost", "--tls-ca-file", ca,
               "--tls-cert-file", cert, "--tls-key-file", key, "--timeout", "5", "brokers"});
  EXPECT_EQ(run.exit_code, 0) << run.err;

  run = ksctl({"--addr", addr, "--tls-ca-file", ca, "--timeout", "5", "brokers"});
  EXPECT_EQ(run.exit_code, ksctl::kExitRpcFailed) << run.out;
  EXPECT_TRUE(run.err.starts_with("ksctl: UNAVAILABLE")) << run.err;
  run = ksctl({"--addr", addr, "--timeout", "5", "brokers"});
  EXPECT_EQ(run.exit_code, ksctl::kExitRpcFailed) << run.out;

  run = ksctl({"--addr", addr, "--tls-cert-file", cert, "brokers"});
  EXPECT_EQ(run.exit_code, ksctl::kExitUsage);
  EXPECT_NE(run.err.find("--tls-cert-file and --tls-key-file go together"), std::string::npos)
      << run.err;
  run = ksctl({"--addr", addr, "--tls-ca-file", certs().dir() + "/missing.pem", "brokers"});
  EXPECT_EQ(run.exit_code, ksctl::kExitUsage);
  EXPECT_NE(run.err.find("cannot read --tls-ca-file"), std::string::npos) << run.err;
}

// Unix sockets are plaintext even with TLS configured, have the configured mode, and replace the
// socket files an earlier run left.
TEST_F(TlsTest, UnixSocketsWithTheirMode) {
  std::string grpc_path = certs().dir() + "/grpc.sock";
  std::string http_path = certs().dir() + "/http.sock";
  leaveStaleSocket(grpc_path);
  leaveStaleSocket(http_path);
  DaemonConfig config = tlsConfig(true);
  config.grpc_listen = "unix:" + grpc_path;
  config.http_unix_path = http_path;
  config.unix_socket_mode = 0600;
  startDaemon(std::move(config));
  EXPECT_EQ(daemon_->grpcAddress(), "unix:" + grpc_path);
  EXPECT_EQ(daemon_->httpAddress(), "unix:" + http_path);
  EXPECT_EQ(modeOf(grpc_path), 0600u);
  EXPECT_EQ(modeOf(http_path), 0600u);

  grpc::Status status = describeCluster(plainChannel());
  EXPECT_TRUE(status.ok()) << status.error_message();
  testing::ProcessResult run = ksctl({"--addr", "unix:" + grpc_path, "--timeout", "5", "brokers"});
  EXPECT_EQ(run.exit_code, 0) << run.err;

  CurlReply topics = curl("http://localhost/v1/topics", {"--unix-socket", http_path});
  EXPECT_EQ(topics.status, 200u) << topics.err;
  EXPECT_NE(topics.body.find("\"demo\""), std::string::npos) << topics.body;
}

TEST_F(TlsTest, AnotherSocketModeAndTcpTlsBesideAUnixSocket) {
  std::string http_path = certs().dir() + "/http-0660.sock";
  DaemonConfig config = tlsConfig(false);
  config.http_unix_path = http_path;
  config.unix_socket_mode = 0660;
  startDaemon(std::move(config));
  EXPECT_EQ(modeOf(http_path), 0660u);
  EXPECT_EQ(curl("http://localhost/healthz", {"--unix-socket", http_path}).status, 200u);
  // gRPC is still on TCP, with TLS.
  EXPECT_TRUE(describeCluster(tlsChannel("ca")).ok());
  EXPECT_FALSE(describeCluster(plainChannel()).ok());
}

TEST_F(TlsTest, AFileThatIsNotASocketIsNotReplaced) {
  std::string path = certs().dir() + "/not-a-socket";
  std::ofstream(path) << "keep me";
  DaemonConfig config = tlsConfig(false);
  config.http_unix_path = path;
  std::string error = startError(std::move(config));
  EXPECT_NE(error.find("is not a socket"), std::string::npos) << error;
  EXPECT_EQ(readFile(path), "keep me");
}

TEST_F(TlsTest, AKeyThatDoesNotMatchTheCertificateFailsTheStart) {
  DaemonConfig config = tlsConfig(false);
  config.tls.key_file = certs().key("client");
  std::string error = startError(std::move(config));
  EXPECT_NE(error.find("cannot use " + certs().cert("server") + " and " + certs().key("client") +
                       " for TLS: "),
            std::string::npos)
      << error;
}

}  // namespace
}  // namespace kafka::sidecar
