#include "images/import.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace glimmer::images {

using json = nlohmann::json;

std::string EncodeImportInput(std::string_view image_id, const ImportRequest& req,
                              const std::vector<std::string>& backends) {
  json method = {{"name", req.method}};
  if (req.method == "web-download") method["uri"] = req.uri;
  if (req.method == "glance-download") {
    method["glance_image_id"] = req.glance_image_id;
    method["glance_region"] = req.glance_region;
    method["glance_service_interface"] = req.glance_service_interface;
  }
  json import_req = {{"method", method},
                     {"all_stores", req.all_stores},
                     {"all_stores_must_succeed", req.all_stores_must_succeed}};
  if (!req.stores.empty()) import_req["stores"] = req.stores;
  json input = {{"image_id", image_id},
                {"import_req", import_req},
                {"backend", backends},
                {"glimmer_inject_metadata", req.inject_metadata}};
  return input.dump();
}

StatusOr<DecodedImportInput> DecodeImportInput(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("image_id") || !j.contains("import_req")) {
    return InternalError("malformed import task input");
  }
  DecodedImportInput out;
  try {
    out.image_id = j.at("image_id").get<std::string>();
    const json& r = j.at("import_req");
    const json& m = r.at("method");
    out.request.method = m.at("name").get<std::string>();
    out.request.uri = m.value("uri", "");
    out.request.glance_image_id = m.value("glance_image_id", "");
    out.request.glance_region = m.value("glance_region", "");
    out.request.glance_service_interface = m.value("glance_service_interface", "");
    out.request.stores = r.value("stores", std::vector<std::string>{});
    out.request.all_stores = r.value("all_stores", false);
    out.request.all_stores_must_succeed = r.value("all_stores_must_succeed", true);
    out.backends = j.value("backend", std::vector<std::string>{});
    out.request.inject_metadata = j.value("glimmer_inject_metadata", true);
  } catch (const json::exception& e) {
    return InternalError(std::string("malformed import task input: ") + e.what());
  }
  return out;
}

std::string EncodeImportResult(std::string_view image_id) {
  return json{{"image_id", image_id}}.dump();
}

namespace {

// Length of the scheme prefix ("http://" or "https://", any case) at the start of `s`, else 0.
size_t HttpSchemeLength(std::string_view s) {
  auto starts = [&](std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    }
    return true;
  };
  if (starts("http://")) return 7;
  if (starts("https://")) return 8;
  return 0;
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  const size_t scheme = HttpSchemeLength(url);
  if (scheme == 0) return std::string(url);
  // The authority ends at the first '/', '?' or '#'; the path at the first '?' or '#'.
  size_t authority_end = url.find_first_of("/?#", scheme);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(scheme, authority_end - scheme);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  size_t path_end = url.find_first_of("?#", authority_end);
  if (path_end == std::string_view::npos) path_end = url.size();
  std::string out(url.substr(0, scheme));
  out += authority;
  out += url.substr(authority_end, path_end - authority_end);
  return out;
}

std::string RedactUrlsIn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const bool boundary = i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1]));
    if (boundary && HttpSchemeLength(text.substr(i)) > 0) {
      size_t end = text.find_first_of(" \t\r\n\"'<>", i);
      if (end == std::string_view::npos) end = text.size();
      out += RedactUrl(text.substr(i, end - i));
      i = end;
      continue;
    }
    out += text[i++];
  }
  return out;
}

std::string RedactImportInput(std::string_view input_json) {
  json j = json::parse(input_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "{}";
  auto req = j.find("import_req");
  if (req != j.end() && req->is_object()) {
    auto method = req->find("method");
    if (method != req->end() && method->is_object()) {
      auto uri = method->find("uri");
      if (uri != method->end() && uri->is_string()) {
        *uri = RedactUrl(uri->get<std::string>());
      }
    }
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace glimmer::images
