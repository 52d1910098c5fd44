#pragma once
// Cryptographically secure randomness (OpenSSL RAND_bytes) and identifiers built from it.

#include <string>

namespace glimmer::platform {

std::string RandomBytes(size_t n);       // raw bytes
std::string RandomHex(size_t n_bytes);   // lowercase hex of n_bytes random bytes
std::string RandomUrlSafe(size_t n_bytes);  // unpadded base64url of n_bytes random bytes
std::string NewUuid4();                  // "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"

}  // namespace glimmer::platform
