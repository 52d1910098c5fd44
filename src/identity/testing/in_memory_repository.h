#pragma once
// Test-only in-memory IdentityRepository following the interface contract (unique names within
// a domain, cascading deletes, idempotent AddAssignment). Thread-safe via one mutex.

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "db/identity_repository.h"

namespace glimmer::identity::testing {

class InMemoryIdentityRepository final : public db::IdentityRepository {
 public:
  Status CreateDomain(const domain::IdentityDomain& d) override {
    std::lock_guard l(mu_);
    for (const auto& [id, x] : domains_) {
      if (id == d.id || x.name == d.name) return AlreadyExistsError("domain");
    }
    domains_[d.id] = d;
    return OkStatus();
  }
  StatusOr<domain::IdentityDomain> GetDomain(std::string_view id) override {
    std::lock_guard l(mu_);
    return Find(domains_, id, "domain");
  }
  StatusOr<domain::IdentityDomain> GetDomainByName(std::string_view name) override {
    std::lock_guard l(mu_);
    for (const auto& [id, x] : domains_) {
      if (x.name == name) return x;
    }
    return NotFoundError("domain");
  }
  StatusOr<std::vector<domain::IdentityDomain>> ListDomains() override {
    std::lock_guard l(mu_);
    return Values(domains_);
  }

  Status CreateProject(const domain::Project& p) override {
    std::lock_guard l(mu_);
    for (const auto& [id, x] : projects_) {
      if (id == p.id || (x.name == p.name && x.domain_id == p.domain_id)) {
        return AlreadyExistsError("project");
      }
    }
    projects_[p.id] = p;
    return OkStatus();
  }
  StatusOr<domain::Project> GetProject(std::string_view id) override {
    std::lock_guard l(mu_);
    return Find(projects_, id, "project");
  }
  StatusOr<domain::Project> GetProjectByName(std::string_view domain_id,
                                             std::string_view name) override {
    std::lock_guard l(mu_);
    for (const auto& [id, x] : projects_) {
      if (x.name == name && x.domain_id == domain_id) return x;
    }
    return NotFoundError("project");
  }
  StatusOr<std::vector<domain::Project>> ListProjects() override {
    std::lock_guard l(mu_);
    return Values(projects_);
  }
  Status UpdateProject(const domain::Project& p) override {
    std::lock_guard l(mu_);
    auto it = projects_.find(p.id);
    if (it == projects_.end()) return NotFoundError("project");
    it->second = p;
    return OkStatus();
  }
  Status DeleteProject(std::string_view id) override {
    std::lock_guard l(mu_);
    if (projects_.erase(std::string(id)) == 0) return NotFoundError("project");
    std::erase_if(assignments_, [&](const auto& a) { return a.project_id == id; });
    return OkStatus();
  }

  Status CreateUser(const domain::User& u) override {
    std::lock_guard l(mu_);
    for (const auto& [id, x] : users_) {
      if (id == u.id || (x.name == u.name && x.domain_id == u.domain_id)) {
        return AlreadyExistsError("user");
      }
    }
    users_[u.id] = u;
    return OkStatus();
  }
  StatusOr<domain::User> GetUser(std::string_view id) override {
    std::lock_guard l(mu_);
    return Find(users_, id, "user");
  }
  StatusOr<domain::User> GetUserByName(std::string_view domain_id,
                                       std::string_view name) override {
    std::lock_guard l(mu_);
    for (const auto& [id, x] : users_) {
      if (x.name == name && x.domain_id == domain_id) return x;
    }
    return NotFoundError("user");
  }
  StatusOr<std::vector<domain::User>> ListUsers() override {
    std::lock_guard l(mu_);
    return Values(users_);
  }
  Status UpdateUser(const domain::User& u) override {
    std::lock_guard l(mu_);
    auto it = users_.find(u.id);
    if (it == users_.end()) return NotFoundError("user");
    it->second = u;
    return OkStatus();
  }
  Status UpdateUserRevokingTokens(const domain::User& u) override {
    std::lock_guard l(mu_);
    auto it = users_.find(u.id);
    if (it == users_.end()) return NotFoundError("user");
    it->second = u;
    for (auto& [digest, t] : tokens_) {
      if (t.user_id == u.id) t.revoked = true;
    }
    return OkStatus();
  }
  Status DeleteUser(std::string_view id) override {
    std::lock_guard l(mu_);
    if (users_.erase(std::string(id)) == 0) return NotFoundError("user");
    std::erase_if(assignments_, [&](const auto& a) { return a.user_id == id; });
    std::erase_if(tokens_, [&](const auto& kv) { return kv.second.user_id == id; });
    return OkStatus();
  }

  Status CreateRole(const domain::Role& r) override {
    std::lock_guard l(mu_);
    for (const auto& [id, x] : roles_) {
      if (id == r.id || x.name == r.name) return AlreadyExistsError("role");
    }
    roles_[r.id] = r;
    return OkStatus();
  }
  StatusOr<domain::Role> GetRole(std::string_view id) override {
    std::lock_guard l(mu_);
    return Find(roles_, id, "role");
  }
  StatusOr<domain::Role> GetRoleByName(std::string_view name) override {
    std::lock_guard l(mu_);
    for (const auto& [id, x] : roles_) {
      if (x.name == name) return x;
    }
    return NotFoundError("role");
  }
  StatusOr<std::vector<domain::Role>> ListRoles() override {
    std::lock_guard l(mu_);
    return Values(roles_);
  }
  Status DeleteRole(std::string_view id) override {
    std::lock_guard l(mu_);
    if (roles_.erase(std::string(id)) == 0) return NotFoundError("role");
    std::erase_if(assignments_, [&](const auto& a) { return a.role_id == id; });
    return OkStatus();
  }

  Status AddAssignment(const domain::RoleAssignment& a) override {
    std::lock_guard l(mu_);
    if (std::none_of(assignments_.begin(), assignments_.end(),
                     [&](const auto& x) { return Same(x, a); })) {
      assignments_.push_back(a);
    }
    return OkStatus();
  }
  Status RemoveAssignment(const domain::RoleAssignment& a) override {
    std::lock_guard l(mu_);
    if (std::erase_if(assignments_, [&](const auto& x) { return Same(x, a); }) == 0) {
      return NotFoundError("assignment");
    }
    return OkStatus();
  }
  StatusOr<std::vector<domain::RoleAssignment>> ListAssignments(
      std::string_view project_id, std::string_view user_id, std::string_view role_id) override {
    std::lock_guard l(mu_);
    std::vector<domain::RoleAssignment> out;
    for (const auto& a : assignments_) {
      if ((project_id.empty() || a.project_id == project_id) &&
          (user_id.empty() || a.user_id == user_id) && (role_id.empty() || a.role_id == role_id)) {
        out.push_back(a);
      }
    }
    return out;
  }

  Status SaveToken(const domain::Token& t) override {
    std::lock_guard l(mu_);
    tokens_[t.digest] = t;
    return OkStatus();
  }
  StatusOr<domain::Token> GetToken(std::string_view digest) override {
    std::lock_guard l(mu_);
    return Find(tokens_, digest, "token");
  }
  Status RevokeToken(std::string_view digest) override {
    std::lock_guard l(mu_);
    auto it = tokens_.find(std::string(digest));
    if (it == tokens_.end()) return NotFoundError("token");
    it->second.revoked = true;
    return OkStatus();
  }
  Status PurgeExpiredTokens(UnixMicros now) override {
    std::lock_guard l(mu_);
    std::erase_if(tokens_, [&](const auto& kv) { return kv.second.expires_at <= now; });
    return OkStatus();
  }

  size_t TokenCount() {
    std::lock_guard l(mu_);
    return tokens_.size();
  }

 private:
  template <typename T>
  static StatusOr<T> Find(const std::map<std::string, T, std::less<>>& m, std::string_view id,
                          const char* what) {
    auto it = m.find(id);
    if (it == m.end()) return NotFoundError(what);
    return it->second;
  }
  template <typename T>
  static std::vector<T> Values(const std::map<std::string, T, std::less<>>& m) {
    std::vector<T> out;
    for (const auto& [k, v] : m) out.push_back(v);
    return out;
  }
  static bool Same(const domain::RoleAssignment& a, const domain::RoleAssignment& b) {
    return a.project_id == b.project_id && a.user_id == b.user_id && a.role_id == b.role_id;
  }

  std::mutex mu_;
  std::map<std::string, domain::IdentityDomain, std::less<>> domains_;
  std::map<std::string, domain::Project, std::less<>> projects_;
  std::map<std::string, domain::User, std::less<>> users_;
  std::map<std::string, domain::Role, std::less<>> roles_;
  std::vector<domain::RoleAssignment> assignments_;
  std::map<std::string, domain::Token, std::less<>> tokens_;
};

}  // namespace glimmer::identity::testing
