// Authorizer: the check of each call of the sidecar's own gRPC services (and so of REST, which
// calls them) against the bearer tokens of --auth-tokens-file (see server/auth_tokens.hpp).
// Without tokens every call is allowed; with tokens, a call must carry `authorization: Bearer
// <token>` metadata, and whatever its token is not granted is refused: UNAUTHENTICATED for a
// missing or unknown token, PERMISSION_DENIED naming the token, the right and the topic or group.
//
// Owned by the Daemon; the services keep a reference. Any thread; a reload of the tokens file
// (TokenFileWatcher) replaces the tokens as a whole.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/auth_tokens.hpp"

namespace kafka::sidecar {

// Whoever made one call: a token's grant, or anyone at all when no tokens are configured. Each
// check answers OK or PERMISSION_DENIED naming the token, the right and the topic or group.
class Caller {
 public:
  // A caller with every right: the daemon has no tokens.
  Caller() = default;
  explicit Caller(std::shared_ptr<const TokenGrant> grant) : grant_(std::move(grant)) {}

  grpc::Status mayProduce(std::string_view topic) const;
  grpc::Status mayConsume(std::string_view topic) const;
  // Consume from topics whatever their names: what a topic pattern subscription needs.
  grpc::Status mayConsumeAll(std::string_view why) const;
  // Produce to or consume from the topic: enough to describe it.
  grpc::Status mayDescribe(std::string_view topic) const;
  grpc::Status mayUseGroup(std::string_view group) const;
  // `call`: "Admin.CreateTopics", for the message.
  grpc::Status mayAdmin(std::string_view call) const;
  // True without tokens, or for a token with admin: true.
  bool admin() const { return !grant_ || grant_->admin; }

  // The token's name, or "" without tokens: what consumer sessions are bound to.
  const std::string& name() const;

 private:
  std::shared_ptr<const TokenGrant> grant_;
};

class Authorizer {
 public:
  // No tokens: every call is allowed.
  Authorizer() = default;
  explicit Authorizer(std::vector<TokenGrant> tokens);
  Authorizer(const Authorizer&) = delete;
  Authorizer& operator=(const Authorizer&) = delete;

  // Whether tokens are required: fixed at construction.
  bool enabled() const { return enabled_; }
  // Puts `tokens` (not empty) in the place of the tokens in use, for the calls that start from
  // now on (a reloaded file). Callers already authenticated keep the grant they got.
  void replace(std::vector<TokenGrant> tokens);

  // The caller of a call whose `authorization` metadata holds `values` (none, one, or more);
  // UNAUTHENTICATED saying what is wrong when tokens are configured and none of them is given.
  grpc::Status authenticateValues(const std::vector<std::string_view>& values, Caller& out) const;
  // The same from a gRPC call's metadata.
  grpc::Status authenticate(const grpc::ServerContextBase& context, Caller& out) const;

 private:
  using Tokens = std::vector<std::shared_ptr<const TokenGrant>>;

  bool enabled_ = false;
  mutable std::mutex mutex_;  // guards tokens_, which is replaced whole, never changed
  std::shared_ptr<const Tokens> tokens_;
};

}  // namespace kafka::sidecar
