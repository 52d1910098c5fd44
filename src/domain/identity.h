#pragma once
// Identity records of the embedded Keystone-compatible service.

#include <optional>
#include <string>
#include <vector>

#include "common/time.h"

namespace glimmer::domain {

struct IdentityDomain {
  std::string id;  // "default" for the built-in domain
  std::string name;  // "Default"
  std::string description;
  bool enabled = true;
};

struct Project {
  std::string id;  // 32 lowercase hex
  std::string name;
  std::string domain_id = "default";
  std::string description;
  bool enabled = true;
  bool is_domain = false;
};

struct User {
  std::string id;  // 32 lowercase hex
  std::string name;
  std::string domain_id = "default";
  std::optional<std::string> default_project_id;
  std::optional<std::string> email;
  std::string description;
  std::string password_hash;  // PHC-style string, never rendered
  bool enabled = true;
};

struct Role {
  std::string id;  // 32 lowercase hex
  std::string name;  // lowercase: admin, member, reader, service, ...
  std::optional<std::string> domain_id;
  std::string description;
};

// A role on a project held by a user, or by a group (then user_id is empty and every member of
// the group holds the role).
struct RoleAssignment {
  std::string project_id;
  std::string user_id;
  std::string role_id;
  std::string group_id = {};
};

// A group of users (Keystone v3); name unique within its domain.
struct Group {
  std::string id;  // 32 lowercase hex
  std::string name;
  std::string domain_id = "default";
  std::string description;
};

struct GroupMembership {
  std::string group_id;
  std::string user_id;
};

// A user's named secret for one project (Keystone v3 application credential), holding a subset
// of the user's roles there (each only while the user still holds it).
struct ApplicationCredential {
  std::string id;  // 32 lowercase hex
  std::string user_id;
  std::string project_id;
  std::string name;  // unique per user
  std::string description;
  std::string secret_hash;  // PHC-style string, never rendered
  std::optional<UnixMicros> expires_at;  // nullopt: never
  bool unrestricted = false;  // may create and delete application credentials
  UnixMicros created_at = 0;
  std::vector<std::string> role_ids;
};

// A token record. The bearer string itself is never stored: only its SHA-256 digest.
struct Token {
  std::string digest;  // hex sha256 of the bearer token
  std::string user_id;
  std::string project_id;  // "" for unscoped
  std::string audit_id;
  UnixMicros issued_at = 0;
  UnixMicros expires_at = 0;
  bool revoked = false;
  std::string application_credential_id = {};  // "" unless issued for one
};

}  // namespace glimmer::domain
