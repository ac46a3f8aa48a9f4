// Bearer tokens and what each is granted, read from the YAML file that --auth-tokens-file names:
//
//   tokens:
//     - name: orders-service          # in messages and logs; the token itself never is
//       token: "a-long-random-secret" # or token_sha256: the token's SHA-256 in hex
//       produce: [orders, "orders.*"] # topic names, or prefixes ending in '*' ("*": all)
//       consume: [orders]
//       groups: [orders-workers]      # consumer group ids, or prefixes ending in '*'
//       admin: false                  # every Admin call (see server/admin_service.hpp)
//
// Only the tokens' SHA-256 digests are kept. Plain data and free functions: any thread.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kafka::sidecar {

// Topic names or group ids, each exact or a prefix when it ends in '*' ("*" alone: every name).
class NamePatterns {
 public:
  NamePatterns() = default;
  explicit NamePatterns(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

  bool matches(std::string_view name) const;
  // True when "*" is among them: every name matches, including names created later.
  bool matchesAll() const;

 private:
  std::vector<std::string> patterns_;
};

using TokenDigest = std::array<unsigned char, 32>;  // SHA-256

// One token and what it is granted.
struct TokenGrant {
  std::string name;
  TokenDigest digest{};
  NamePatterns produce;
  NamePatterns consume;
  NamePatterns groups;
  bool admin = false;
};

TokenDigest sha256Of(std::string_view text);

// Parses the tokens file's `text`; `file` names it in messages. Returns "" or what is wrong,
// naming the file, line, entry and field ("tokens.yaml:4: token 'orders' (entry 1): produce:
// 'a*b': '*' may only end a pattern"), never a token.
std::string parseTokenFile(std::string_view text, const std::string& file,
                           std::vector<TokenGrant>& out);
// Reads the file at `path` into `text`; returns "" or what is wrong.
std::string readTokenFile(const std::string& path, std::string& text);
// Reads and parses the file at `path`.
std::string loadTokenFile(const std::string& path, std::vector<TokenGrant>& out);

}  // namespace kafka::sidecar
