#include "http/message.h"

#include <strings.h>

namespace glimmer::http {
namespace {
bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (IEquals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void Headers::Set(std::string name, std::string value) {
  Remove(name);
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& f) { return IEquals(f.first, name); });
}

std::optional<std::string_view> Request::QueryValue(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

StatusOr<std::string> ReadAll(BodyReader& body, size_t max_bytes) {
  std::string out;
  if (auto len = body.content_length()) {
    if (*len > max_bytes) return ResourceExhaustedError("Request body too large");
    out.reserve(*len);
  }
  std::byte buf[16384];
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, body.Read(buf));
    if (n == 0) break;
    if (out.size() + n > max_bytes) return ResourceExhaustedError("Request body too large");
    out.append(reinterpret_cast<const char*>(buf), n);
  }
  return out;
}

}  // namespace glimmer::http
