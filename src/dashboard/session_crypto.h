#pragma once
// The cryptography of dashboard sessions (docs/design/dashboard.md §3.2): the cookie carries a
// random secret; the server keeps only SHA-256(secret) as the session's key and the Keystone
// token sealed with AES-256-GCM under HKDF-SHA256(secret, "glimmer dashboard session"). The
// session's CSRF token is derived from the secret too (HKDF, another label), so it needs no
// storage of its own beyond its digest. All through OpenSSL's libcrypto (EVP).
//
// All functions are pure and thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"
#include "identity/password_hash.h"

namespace glimmer::dashboard {

inline constexpr size_t kSecretBytes = 32;

// Unpadded base64url (RFC 4648 §5). Decode: InvalidArgument on any other character, on
// padding, or on an impossible length.
std::string Base64UrlEncode(std::string_view bytes);
StatusOr<std::string> Base64UrlDecode(std::string_view text);

// Lowercase hex SHA-256 of `data` (the identity service's: token digests are made the same way).
using identity::Sha256Hex;

// The session's CSRF token: base64url of 32 bytes derived from the secret.
std::string DeriveCsrfToken(std::string_view secret);

// `plaintext` sealed under the key derived from `secret`, with a fresh random 12-byte nonce.
// `aad` (bound to the ciphertext, not secret) ties the sealed token to its record.
struct Sealed {
  std::string nonce;       // raw bytes
  std::string ciphertext;  // raw bytes: ciphertext then the 16-byte GCM tag
};
StatusOr<Sealed> Seal(std::string_view secret, std::string_view plaintext, std::string_view aad);

// The plaintext, or Unauthenticated when the secret, the nonce, the AAD or the ciphertext does
// not match (any tampering).
StatusOr<std::string> Unseal(std::string_view secret, const Sealed& sealed, std::string_view aad);

// Equal-length strings compared in constant time (CRYPTO_memcmp); false when lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace glimmer::dashboard
