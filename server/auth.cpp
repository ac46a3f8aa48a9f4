#include "server/auth.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace kafka::sidecar {
namespace {

constexpr std::string_view kBearer = "bearer";

bool startsWithCaseless(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

grpc::Status unauthenticated(std::string message) {
  return {grpc::StatusCode::UNAUTHENTICATED, std::move(message)};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Caller

namespace {

const std::string kNobody;

grpc::Status denied(const TokenGrant& grant, std::string what) {
  return {grpc::StatusCode::PERMISSION_DENIED, "token '" + grant.name + "' may not " + what};
}

}  // namespace

grpc::Status Caller::mayProduce(std::string_view topic) const {
  if (!grant_ || grant_->produce.matches(topic)) return grpc::Status::OK;
  return denied(*grant_, "produce to topic '" + std::string(topic) + "'");
}

grpc::Status Caller::mayConsume(std::string_view topic) const {
  if (!grant_ || grant_->consume.matches(topic)) return grpc::Status::OK;
  return denied(*grant_, "consume from topic '" + std::string(topic) + "'");
}

grpc::Status Caller::mayConsumeAll(std::string_view why) const {
  if (!grant_ || grant_->consume.matchesAll()) return grpc::Status::OK;
  return denied(*grant_, std::string(why) + " (it may consume only the topics it names)");
}

grpc::Status Caller::mayDescribe(std::string_view topic) const {
  if (!grant_ || grant_->produce.matches(topic) || grant_->consume.matches(topic)) {
    return grpc::Status::OK;
  }
  return denied(
      *grant_, "describe topic '" + std::string(topic) + "' (it neither produces nor consumes it)");
}

grpc::Status Caller::mayUseGroup(std::string_view group) const {
  if (!grant_ || grant_->groups.matches(group)) return grpc::Status::OK;
  return denied(*grant_, "use consumer group '" + std::string(group) + "'");
}

grpc::Status Caller::mayAdmin(std::string_view call) const {
  if (admin()) return grpc::Status::OK;
  return denied(*grant_, "call " + std::string(call) + " (it needs admin: true)");
}

const std::string& Caller::name() const {
  return grant_ ? grant_->name : kNobody;
}

// ---------------------------------------------------------------------------------------------
// Authorizer

Authorizer::Authorizer(std::vector<TokenGrant> tokens) : enabled_(!tokens.empty()) {
  replace(std::move(tokens));
}

void Authorizer::replace(std::vector<TokenGrant> tokens) {
  auto replacement = std::make_shared<Tokens>();
  for (TokenGrant& grant : tokens) {
    replacement->push_back(std::make_shared<const TokenGrant>(std::move(grant)));
  }
  std::lock_guard lock(mutex_);
  tokens_ = std::move(replacement);
}

grpc::Status Authorizer::authenticateValues(const std::vector<std::string_view>& values,
                                            Caller& out) const {
  out = Caller();
  if (!enabled()) return grpc::Status::OK;
  if (values.empty()) {
    return unauthenticated(
        "no bearer token: the sidecar requires 'authorization: Bearer <token>' metadata (the "
        "Authorization header over REST) on every call");
  }
  if (values.size() > 1) return unauthenticated("more than one authorization entry");
  std::string_view value = values.front();
  if (!startsWithCaseless(value, kBearer) || value.size() == kBearer.size() ||
      value[kBearer.size()] != ' ') {
    return unauthenticated("the authorization is not 'Bearer <token>'");
  }
  std::string_view token = value.substr(kBearer.size());
  token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
  token = token.substr(0, std::min(token.find_last_not_of(' ') + 1, token.size()));
  if (token.empty()) return unauthenticated("the authorization is 'Bearer' without a token");

  // Every token is compared, and in constant time: how long this takes says nothing of which
  // bytes of a guess were right.
  const TokenDigest digest = sha256Of(token);
  std::shared_ptr<const Tokens> tokens;
  {
    std::lock_guard lock(mutex_);
    tokens = tokens_;
  }
  std::shared_ptr<const TokenGrant> found;
  for (const auto& grant : *tokens) {
    if (CRYPTO_memcmp(grant->digest.data(), digest.data(), digest.size()) == 0) found = grant;
  }
  if (!found) return unauthenticated("the bearer token is not one of the sidecar's tokens");
  out = Caller(std::move(found));
  return grpc::Status::OK;
}

grpc::Status Authorizer::authenticate(const grpc::ServerContextBase& context, Caller& out) const {
  std::vector<std::string_view> values;
  if (enabled()) {
    auto [begin, end] = context.client_metadata().equal_range("authorization");
    for (auto entry = begin; entry != end; ++entry) {
      values.emplace_back(entry->second.data(), entry->second.size());
    }
  }
  return authenticateValues(values, out);
}

}  // namespace kafka::sidecar
