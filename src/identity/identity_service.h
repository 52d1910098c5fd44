#pragma once
// The embedded Keystone-v3-compatible identity service: password authentication, token
// issue/validation/revocation, and administration of domains, projects, users, roles and role
// assignments. It knows nothing about HTTP or JSON (see api/identity/ for the wire format) and
// does not check the caller's authorization for management calls (the API layer does).
//
// Ownership: borrows the repository and the clock, which must outlive the service.
// Thread-safety: all methods may be called concurrently.
// Errors (beyond the repository's Internal/Unavailable):
//   Authenticate  -> Unauthenticated (unknown user/project, wrong password, disabled user or
//                    project, no role on the requested project, invalid token for "token"),
//                    InvalidArgument (no usable method / incomplete identity),
//                    ResourceExhausted (too many failed password checks: see LoginThrottle).
//   ValidateToken -> Unauthenticated (unknown, expired, revoked, or no longer valid token).
//   DescribeToken -> NotFound for the same cases (Keystone answers 404 to GET /auth/tokens).
//   Management    -> NotFound, AlreadyExists (duplicate name), InvalidArgument (bad input).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "db/identity_repository.h"
#include "domain/context.h"
#include "domain/identity.h"
#include "identity/login_throttle.h"
#include "identity/password_hash.h"
#include "identity/token_cache.h"
#include "platform/clock.h"
#include "platform/executor.h"

namespace glimmer::identity {

inline constexpr std::string_view kDefaultDomainId = "default";

struct IdentityOptions {
  UnixMicros token_ttl = 3600LL * 1'000'000;      // lifetime of issued tokens
  int password_iterations = kDefaultPasswordIterations;
  size_t token_cache_capacity = 10000;            // validated tokens kept in memory
  UnixMicros token_cache_max_age = 30LL * 1'000'000;  // bounds staleness of remote revocations
  LoginThrottleOptions login_throttle;            // password guessing (per node)
  // Where password hashing (PBKDF2, ~tens of ms of CPU each) runs; borrowed. A request's fiber
  // is suspended meanwhile, so a burst of logins does not occupy the request workers. Null: on
  // the calling thread.
  platform::Executor* password_pool = nullptr;
};

struct BootstrapOptions {
  std::string admin_password;  // required, non-empty
  std::string admin_user_name = "admin";
  std::string admin_project_name = "admin";
  std::string service_project_name = "service";
  // An existing, enabled admin user gets this password when its stored one differs (its
  // tokens are then revoked). Unlike keystone-manage bootstrap, which an operator runs by hand,
  // this runs at every start: a disabled admin user stays disabled and keeps its password, and
  // the admin role is granted only to an admin user created here, never again, so an operator's
  // lock-down survives restarts.
  bool reset_admin_password = true;
};

struct BootstrapResult {
  bool changed = false;  // true when anything was created or updated
  std::string admin_user_id;
  std::string admin_project_id;
  std::string service_project_id;
  std::string admin_role_id;
  bool admin_disabled = false;  // the admin user exists and is disabled (left as it is)
};

// Reference to a user or project by id, or by name within a domain given by id or name.
struct EntityRef {
  std::string id;
  std::string name;
  std::string domain_id;
  std::string domain_name;
};

struct PasswordCredentials {
  EntityRef user;
  std::string password;
};

// The "application_credential" method: the credential by id, or by name and its user.
struct AppCredentialAuth {
  std::string id;
  std::string name;
  EntityRef user;
  std::string secret;
};

// A POST /v3/auth/tokens request. Exactly one of `password` / `token` /
// `application_credential` must be set.
struct AuthRequest {
  std::optional<PasswordCredentials> password;  // "password" method
  std::optional<std::string> token;             // "token" method: re-scope this bearer token
  // Scoped to the credential's project, with its roles; no other scope may be asked for.
  std::optional<AppCredentialAuth> application_credential;
  std::optional<EntityRef> project;             // project scope
  // Without `project`, the token is scoped to the user's default project when the user has a
  // role there, unless `unscoped` is set.
  bool unscoped = false;
};

// Where a password attempt comes from (for LoginThrottle), and the throttle's answer.
struct LoginAttempt {
  std::string remote_address;       // the client's "ip:port"; empty = not throttled by address
  int64_t retry_after_seconds = 0;  // out: > 0 when refused with ResourceExhausted
};

// Everything a Keystone token body shows. Users never carry password hashes here.
struct TokenInfo {
  domain::User user;
  domain::IdentityDomain user_domain;
  std::optional<domain::Project> project;  // nullopt for unscoped tokens
  std::optional<domain::IdentityDomain> project_domain;
  std::vector<domain::Role> roles;  // implied roles expanded, sorted by name
  std::vector<std::string> methods;
  // Set for a token issued for an application credential (without its secret hash).
  std::optional<domain::ApplicationCredential> application_credential;
  std::vector<std::string> audit_ids;
  UnixMicros issued_at = 0;
  UnixMicros expires_at = 0;

  domain::RequestContext ToContext() const;
};

struct IssuedToken {
  std::string bearer;  // the only copy of the secret; never stored
  TokenInfo info;
};

struct ListFilter {
  std::optional<std::string> name;
  std::optional<std::string> domain_id;
  std::optional<bool> enabled;
};

struct ProjectPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<bool> enabled;
};

struct UserSpec {
  std::string name;
  std::string domain_id = std::string(kDefaultDomainId);
  std::optional<std::string> password;
  std::optional<std::string> default_project_id;
  std::optional<std::string> email;
  std::string description;
  bool enabled = true;
};

struct UserPatch {
  std::optional<std::string> name;
  std::optional<std::string> password;
  std::optional<std::string> default_project_id;  // "" clears it
  std::optional<std::string> email;               // "" clears it
  std::optional<std::string> description;
  std::optional<bool> enabled;
};

struct AppCredentialSpec {
  std::string name;
  std::string description;
  std::optional<std::string> secret;  // absent: one is generated
  std::optional<UnixMicros> expires_at;
  std::vector<EntityRef> roles;  // by id or name; empty: the caller token's roles
  bool unrestricted = false;
};

struct CreatedAppCredential {
  domain::ApplicationCredential credential;  // without its secret hash
  std::string secret;  // shown once
};

struct GroupPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
};

struct AssignmentFilter {
  std::string project_id;  // empty = any
  std::string user_id;
  std::string role_id;
  std::string group_id;
  // Effective: what users hold: a group's assignments become one per member, and roles
  // implied by the assigned ones are added (then no row has a group_id).
  bool effective = false;
};

// Lowercased names of `roles` plus the roles they imply (admin => member => reader), sorted and
// without duplicates.
std::vector<std::string> ExpandImpliedRoles(const std::vector<std::string>& roles);

class IdentityService {
 public:
  IdentityService(db::IdentityRepository& repo, const platform::Clock& clock,
                  IdentityOptions options = {});
  IdentityService(const IdentityService&) = delete;
  IdentityService& operator=(const IdentityService&) = delete;

  // Idempotent: creates what is missing of the default domain, the roles admin/member/reader/
  // service and the admin and service projects, and the admin user (only when it does not
  // exist) holding the admin role on the admin project. See BootstrapOptions for an existing
  // admin user.
  // InvalidArgument when admin_password is empty.
  StatusOr<BootstrapResult> Bootstrap(const BootstrapOptions& options);

  // Tokens.
  // `attempt` (optional) names the client, for throttling repeated password failures.
  StatusOr<IssuedToken> Authenticate(const AuthRequest& request, LoginAttempt* attempt = nullptr);
  // Hot path of every API request: answered from the cache when possible.
  StatusOr<domain::RequestContext> ValidateToken(std::string_view bearer);
  // Full token body for GET /v3/auth/tokens (not cached).
  StatusOr<TokenInfo> DescribeToken(std::string_view bearer);
  // NotFound when the token is unknown. Takes effect on this node immediately and on other
  // nodes within token_cache_max_age.
  Status RevokeToken(std::string_view bearer);
  // Deletes expired token records; call periodically.
  Status PurgeExpiredTokens();

  // Domains.
  StatusOr<std::vector<domain::IdentityDomain>> ListDomains(const ListFilter& filter);
  StatusOr<domain::IdentityDomain> GetDomain(std::string_view id);

  // Projects. CreateProject assigns the id when `project.id` is empty.
  StatusOr<domain::Project> CreateProject(domain::Project project);
  StatusOr<domain::Project> GetProject(std::string_view id);
  StatusOr<std::vector<domain::Project>> ListProjects(const ListFilter& filter);
  StatusOr<domain::Project> UpdateProject(std::string_view id, const ProjectPatch& patch);
  Status DeleteProject(std::string_view id);
  // Projects on which the user holds at least one role.
  StatusOr<std::vector<domain::Project>> ListUserProjects(std::string_view user_id);

  // Users (returned without password hashes).
  StatusOr<domain::User> CreateUser(const UserSpec& spec);
  StatusOr<domain::User> GetUser(std::string_view id);
  StatusOr<std::vector<domain::User>> ListUsers(const ListFilter& filter);
  StatusOr<domain::User> UpdateUser(std::string_view id, const UserPatch& patch);
  Status DeleteUser(std::string_view id);
  // A new password (UpdateUser with `password`, ChangePassword) revokes every token the user
  // holds, on every node (within token_cache_max_age on the others), as Keystone does.
  // Self-service change; Unauthenticated when `original_password` is wrong or the user
  // disabled, NotFound for an unknown user (after the same password-hashing work, so the time
  // taken does not tell), ResourceExhausted when throttled (failures count with the logins').
  Status ChangePassword(std::string_view user_id, std::string_view original_password,
                        std::string_view new_password, LoginAttempt* attempt = nullptr);

  // Roles.
  StatusOr<domain::Role> CreateRole(std::string name, std::string description);
  StatusOr<domain::Role> GetRole(std::string_view id);
  StatusOr<std::vector<domain::Role>> ListRoles(const ListFilter& filter);
  Status DeleteRole(std::string_view id);  // also removes its assignments

  // Groups (identity_groups.cc). A user's roles on a project are its own and those of its
  // groups; removing a membership, a group or a group's role takes effect at once on this node
  // and within token_cache_max_age on others, like a user's own revoked role.
  StatusOr<domain::Group> CreateGroup(domain::Group group);  // assigns the id when empty
  StatusOr<domain::Group> GetGroup(std::string_view id);
  StatusOr<std::vector<domain::Group>> ListGroups(const ListFilter& filter);
  StatusOr<domain::Group> UpdateGroup(std::string_view id, const GroupPatch& patch);
  Status DeleteGroup(std::string_view id);
  Status AddUserToGroup(std::string_view group_id, std::string_view user_id);  // idempotent
  Status RemoveUserFromGroup(std::string_view group_id, std::string_view user_id);
  Status CheckUserInGroup(std::string_view group_id, std::string_view user_id);
  StatusOr<std::vector<domain::User>> ListGroupUsers(std::string_view group_id);
  StatusOr<std::vector<domain::Group>> ListUserGroups(std::string_view user_id);
  Status GrantGroupRole(std::string_view project_id, std::string_view group_id,
                        std::string_view role_id);
  Status RevokeGroupRole(std::string_view project_id, std::string_view group_id,
                         std::string_view role_id);  // NotFound when not assigned
  Status CheckGroupRole(std::string_view project_id, std::string_view group_id,
                        std::string_view role_id);  // NotFound when not assigned

  // Application credentials (identity_app_credentials.cc), returned without secret hashes.
  // Create: for the caller itself (`caller_bearer`'s user must be `user_id`; the API checks
  // who may call), on the caller token's project, with roles the token holds there.
  // PermissionDenied when the caller's token was itself issued for a restricted application
  // credential (also for Delete), InvalidArgument without a project-scoped token or with bad
  // input, NotFound for a role the token does not hold, AlreadyExists for a taken name.
  StatusOr<CreatedAppCredential> CreateApplicationCredential(std::string_view caller_bearer,
                                                            std::string_view user_id,
                                                            AppCredentialSpec spec);
  StatusOr<std::vector<domain::ApplicationCredential>> ListApplicationCredentials(
      std::string_view user_id, const std::optional<std::string>& name);
  StatusOr<domain::ApplicationCredential> GetApplicationCredential(std::string_view user_id,
                                                                   std::string_view id);
  // Tokens issued for it stop working at once (on other nodes within token_cache_max_age).
  Status DeleteApplicationCredential(std::string_view caller_bearer, std::string_view user_id,
                                     std::string_view id);

  // Role assignments on projects. Grant is idempotent; NotFound when any entity is missing.
  Status GrantRole(std::string_view project_id, std::string_view user_id,
                   std::string_view role_id);
  Status RevokeRole(std::string_view project_id, std::string_view user_id,
                    std::string_view role_id);  // NotFound when not assigned
  Status CheckRole(std::string_view project_id, std::string_view user_id,
                   std::string_view role_id);  // NotFound when not assigned
  StatusOr<std::vector<domain::RoleAssignment>> ListAssignments(const AssignmentFilter& filter);

  const IdentityOptions& options() const { return options_; }
  size_t CachedTokenCountForTest() const { return cache_.size(); }

 private:
  // PBKDF2 on options_.password_pool (see IdentityOptions).
  bool Verify(std::string_view password, std::string_view encoded) const;
  std::string Hash(std::string_view password) const;
  StatusOr<domain::IdentityDomain> ResolveDomain(std::string_view id, std::string_view name);
  StatusOr<domain::User> AuthenticatePassword(const PasswordCredentials& creds,
                                              LoginAttempt* attempt);
  // The credential, once its secret is checked (throttled like passwords).
  StatusOr<domain::ApplicationCredential> AuthenticateAppCredential(const AppCredentialAuth& auth,
                                                                    LoginAttempt* attempt);
  // The user's roles on the credential's project that the credential carries (with the roles
  // they imply), sorted by name; empty when the user no longer holds any of them there.
  StatusOr<std::vector<domain::Role>> AppCredentialRoles(const domain::ApplicationCredential& c);
  // ResourceExhausted for a throttled attempt; records the wait in `attempt`.
  static Status Throttled(UnixMicros wait, LoginAttempt* attempt);
  StatusOr<domain::Project> ResolveProjectScope(const EntityRef& ref);
  // The user's role assignments on the project (or every project when empty): its own and its
  // groups' (those with group_id set).
  StatusOr<std::vector<domain::RoleAssignment>> UserAssignments(std::string_view project_id,
                                                                std::string_view user_id);
  // Role records of the user on the project, its own and its groups', plus implied ones, sorted
  // by name.
  StatusOr<std::vector<domain::Role>> EffectiveRoles(std::string_view project_id,
                                                     std::string_view user_id);
  // After SaveToken: Unauthenticated (and the new token revoked) when the user's password hash
  // is no longer `verified_hash` (password method) or the parent token has been revoked
  // (token method) in the meantime.
  Status CheckStillValid(const std::string& digest, const std::string& user_id,
                         const std::string& verified_hash,
                         const std::optional<std::string>& parent_bearer);
  // Rebuilds the token body from storage; NotFound when the token is not (or no longer) valid.
  StatusOr<TokenInfo> LoadToken(std::string_view digest);
  StatusOr<domain::Role> EnsureRole(std::string_view name);
  StatusOr<domain::Project> EnsureProject(std::string_view name, bool& changed);
  Status CheckNameFree(const domain::Project& p, std::string_view except_id);

  db::IdentityRepository& repo_;
  const platform::Clock& clock_;
  const IdentityOptions options_;
  TokenCache cache_;
  LoginThrottle throttle_;
  const std::string dummy_hash_;  // verified against when the user is unknown (timing)
};

}  // namespace glimmer::identity
