#pragma once
// Password hashing and token digests for the embedded identity service.
//
// Password hashes are self-describing strings
//   pbkdf2-sha256$<iterations>$<salt, base64>$<derived key, base64>
// (PBKDF2-HMAC-SHA256, 16-byte random salt, 32-byte key), so the iteration count can be raised
// later without invalidating existing hashes. All functions are thread-safe.

#include <string>
#include <string_view>

namespace glimmer::identity {

inline constexpr int kDefaultPasswordIterations = 100000;

// Hashes `password` with a fresh random salt. `iterations` must be >= 1.
std::string HashPassword(std::string_view password, int iterations = kDefaultPasswordIterations);

// True when `password` matches `encoded` (a HashPassword result). Malformed or unknown-scheme
// hashes never match. The comparison of derived keys is constant-time.
bool VerifyPassword(std::string_view password, std::string_view encoded);

// Iteration count recorded in `encoded`, or 0 when it is not a valid hash string.
int PasswordHashIterations(std::string_view encoded);

// Lowercase hex SHA-256 of `data` (token digests, deterministic ids).
std::string Sha256Hex(std::string_view data);

}  // namespace glimmer::identity
