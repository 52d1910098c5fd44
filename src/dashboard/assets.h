#pragma once
// The dashboard's built files (dashboard/, bundled by dashboard/build.mjs at build time), embedded
// in the binary by embed_assets.cmake. Immutable, static storage; safe from any thread.
#include <span>
#include <string_view>

namespace glimmer::dashboard {

struct Asset {
  std::string_view path;          // relative to /dashboard/: "index.html", "assets/app-HASH.js"
  std::string_view content_type;
  std::string_view body;
  std::string_view gzip_body;     // the same bytes gzip-compressed; empty when not smaller
  std::string_view etag;          // quoted, from the SHA-256 of `body`
  bool immutable;                 // content-hashed name: Cache-Control max-age=1y, immutable
};

// Sorted by path. Always holds "index.html".
std::span<const Asset> EmbeddedAssets();

}  // namespace glimmer::dashboard
