#pragma once
// Who is calling: the authenticated identity behind a request.

#include <algorithm>
#include <string>
#include <vector>

namespace glimmer::domain {

struct RequestContext {
  std::string user_id;
  std::string user_name;
  std::string project_id;    // "" when unscoped / anonymous
  std::string project_name;
  std::vector<std::string> roles;  // lowercase, implied roles already expanded
  std::string request_id;
  std::string auth_token;  // the caller's token (kept in memory only; glance-download uses it)
  bool authenticated = false;

  bool HasRole(std::string_view role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  }
  bool IsAdmin() const { return HasRole("admin"); }
  bool IsMember() const { return HasRole("member") || IsAdmin(); }
  bool IsReader() const { return HasRole("reader") || IsMember(); }
};

}  // namespace glimmer::domain
