#include "api/versions.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace glimmer::api {

std::string VersionsDocument(std::string_view base_url, bool v1) {
  while (base_url.ends_with('/')) base_url.remove_suffix(1);
  const std::string href = std::string(base_url) + "/v2/";
  nlohmann::ordered_json versions = nlohmann::ordered_json::array();
  for (int minor = kNewestMinorVersion; minor >= 0; --minor) {
    versions.push_back({
        {"id", "v2." + std::to_string(minor)},
        {"status", minor == kNewestMinorVersion ? "CURRENT" : "SUPPORTED"},
        {"links", nlohmann::ordered_json::array({{{"rel", "self"}, {"href", href}}})},
    });
  }
  if (v1) {
    const std::string v1_href = std::string(base_url) + "/v1/";
    for (const char* id : {"v1.1", "v1.0"}) {
      versions.push_back({
          {"id", id},
          {"status", "SUPPORTED"},
          {"links", nlohmann::ordered_json::array({{{"rel", "self"}, {"href", v1_href}}})},
      });
    }
  }
  nlohmann::ordered_json doc;
  doc["versions"] = std::move(versions);
  return doc.dump();
}

bool IsKnownVersionPrefix(std::string_view segment) {
  if (segment == "v2") return true;
  if (!segment.starts_with("v2.")) return false;
  std::string_view minor = segment.substr(3);
  if (minor.empty() || minor.size() > 2 || (minor.size() == 2 && minor[0] == '0')) return false;
  int value = -1;
  auto [ptr, ec] = std::from_chars(minor.data(), minor.data() + minor.size(), value);
  return ec == std::errc() && ptr == minor.data() + minor.size() && value >= 0 &&
         value <= kNewestMinorVersion;
}

bool IsV1Prefix(std::string_view segment) {
  return segment == "v1" || segment == "v1.0" || segment == "v1.1";
}

}  // namespace glimmer::api
