#include "images/internal/stage_digest.h"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "images/import.h"

namespace glimmer::images::internal {

std::string EncodeStageDigest(const StreamResult& r) {
  nlohmann::json j = {{"size", r.size},
                      {"md5", r.md5_hex},
                      {"sha512", r.sha512_hex},
                      {"format", r.format},
                      {"failure", r.stream_failure}};
  if (r.virtual_size) j["virtual_size"] = *r.virtual_size;
  return j.dump();
}

std::optional<StreamResult> DecodeStageDigest(const domain::Image& image) {
  auto it = image.properties.find(std::string(kStageDigestProperty));
  if (it == image.properties.end()) return std::nullopt;
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    StreamResult r;
    r.size = j.at("size").get<int64_t>();
    r.md5_hex = j.at("md5").get<std::string>();
    r.sha512_hex = j.at("sha512").get<std::string>();
    r.format = j.at("format").get<std::string>();
    r.stream_failure = j.at("failure").get<std::string>();
    if (j.contains("virtual_size")) r.virtual_size = j["virtual_size"].get<int64_t>();
    if (r.md5_hex.size() != 32 || r.sha512_hex.size() != 128) return std::nullopt;
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace glimmer::images::internal
