#include "identity/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <optional>
#include <vector>

#include "platform/random.h"

namespace glimmer::identity {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;
constexpr int kMaxIterations = 10'000'000;  // refuse absurd stored counts (DoS guard)

std::string Base64Encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view b64) {
  if (b64.empty() || b64.size() % 4 != 0) return std::nullopt;
  std::string out(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (b64.back() == '=') ++pad;
  if (b64.size() >= 2 && b64[b64.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string DeriveKey(std::string_view password, std::string_view salt, int iterations) {
  std::string key(kKeyBytes, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(),
                    static_cast<int>(key.size()), reinterpret_cast<unsigned char*>(key.data()));
  return key;
}

struct ParsedHash {
  int iterations = 0;
  std::string salt;
  std::string key;
};

std::optional<ParsedHash> Parse(std::string_view encoded) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t pos = encoded.find('$', start);
    parts.push_back(encoded.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  if (parts.size() != 4 || parts[0] != kScheme) return std::nullopt;
  ParsedHash out;
  auto [ptr, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(),
                                   out.iterations);
  if (ec != std::errc() || ptr != parts[1].data() + parts[1].size() || out.iterations < 1 ||
      out.iterations > kMaxIterations) {
    return std::nullopt;
  }
  auto salt = Base64Decode(parts[2]);
  auto key = Base64Decode(parts[3]);
  if (!salt || !key || salt->empty() || key->empty()) return std::nullopt;
  out.salt = std::move(*salt);
  out.key = std::move(*key);
  return out;
}

}  // namespace

std::string HashPassword(std::string_view password, int iterations) {
  if (iterations < 1) iterations = 1;
  std::string salt = platform::RandomBytes(kSaltBytes);
  std::string key = DeriveKey(password, salt, iterations);
  std::string out(kScheme);
  out += '$';
  out += std::to_string(iterations);
  out += '$';
  out += Base64Encode(salt);
  out += '$';
  out += Base64Encode(key);
  return out;
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  auto parsed = Parse(encoded);
  if (!parsed) return false;
  std::string key = DeriveKey(password, parsed->salt, parsed->iterations);
  // Derived keys have a fixed length for a given stored hash; the length check leaks nothing.
  key.resize(parsed->key.size() <= kKeyBytes ? parsed->key.size() : kKeyBytes);
  if (key.size() != parsed->key.size()) return false;
  return CRYPTO_memcmp(key.data(), parsed->key.data(), key.size()) == 0;
}

int PasswordHashIterations(std::string_view encoded) {
  auto parsed = Parse(encoded);
  return parsed ? parsed->iterations : 0;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

}  // namespace glimmer::identity
