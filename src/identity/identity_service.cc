#include "identity/identity_service.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "identity/internal/names.h"
#include "platform/fiber.h"
#include "platform/random.h"

namespace glimmer::identity {
namespace {

constexpr size_t kTokenBytes = 32;     // bearer: 43 url-safe chars
constexpr size_t kAuditIdBytes = 16;   // 22 url-safe chars
constexpr size_t kMaxPasswordLength = 4096;

using internal::IsNotFound;
using internal::kIdBytes;
using internal::Lower;
using internal::ValidateName;

Status ValidatePassword(std::string_view password) {
  if (password.size() > kMaxPasswordLength) return InvalidArgumentError("Password is too long");
  return OkStatus();
}

bool Matches(const ListFilter& f, std::string_view name, std::string_view domain_id,
             bool enabled) {
  if (f.name && *f.name != name) return false;
  if (f.domain_id && *f.domain_id != domain_id) return false;
  if (f.enabled && *f.enabled != enabled) return false;
  return true;
}

domain::User Scrub(domain::User u) {
  u.password_hash.clear();
  return u;
}

}  // namespace

std::vector<std::string> ExpandImpliedRoles(const std::vector<std::string>& roles) {
  std::set<std::string> out;
  for (const auto& r : roles) out.insert(Lower(r));
  if (out.count("admin")) out.insert("member");
  if (out.count("member")) out.insert("reader");
  return {out.begin(), out.end()};
}

domain::RequestContext TokenInfo::ToContext() const {
  domain::RequestContext ctx;
  ctx.user_id = user.id;
  ctx.user_name = user.name;
  if (project) {
    ctx.project_id = project->id;
    ctx.project_name = project->name;
  }
  std::vector<std::string> names;
  names.reserve(roles.size());
  for (const auto& r : roles) names.push_back(r.name);
  ctx.roles = ExpandImpliedRoles(names);
  ctx.authenticated = true;
  return ctx;
}

IdentityService::IdentityService(db::IdentityRepository& repo, const platform::Clock& clock,
                                 IdentityOptions options)
    : repo_(repo),
      clock_(clock),
      options_(options),
      cache_(options.token_cache_capacity, options.token_cache_max_age),
      throttle_(options.login_throttle),
      dummy_hash_(HashPassword(platform::RandomHex(8), options.password_iterations)) {}

// ---------------------------------------------------------------------------------------------
// Bootstrap

StatusOr<domain::Role> IdentityService::EnsureRole(std::string_view name) {
  auto role = repo_.GetRoleByName(name);
  if (role.ok() || !IsNotFound(role.status())) return role;
  domain::Role r;
  r.id = platform::RandomHex(kIdBytes);
  r.name = std::string(name);
  Status s = repo_.CreateRole(r);
  if (s.code() == StatusCode::kAlreadyExists) return repo_.GetRoleByName(name);  // lost a race
  RETURN_IF_ERROR(s);
  return r;
}

StatusOr<domain::Project> IdentityService::EnsureProject(std::string_view name, bool& changed) {
  auto project = repo_.GetProjectByName(kDefaultDomainId, name);
  if (project.ok() || !IsNotFound(project.status())) return project;
  domain::Project p{.id = platform::RandomHex(kIdBytes),
                    .name = std::string(name),
                    .domain_id = std::string(kDefaultDomainId),
                    .description = "Bootstrap project"};
  Status s = repo_.CreateProject(p);
  if (s.code() == StatusCode::kAlreadyExists) {
    return repo_.GetProjectByName(kDefaultDomainId, name);
  }
  RETURN_IF_ERROR(s);
  changed = true;
  return p;
}

StatusOr<BootstrapResult> IdentityService::Bootstrap(const BootstrapOptions& options) {
  if (options.admin_password.empty()) {
    return InvalidArgumentError("bootstrap needs a non-empty admin password");
  }
  RETURN_IF_ERROR(ValidateName(options.admin_user_name, "User"));
  RETURN_IF_ERROR(ValidateName(options.admin_project_name, "Project"));
  BootstrapResult result;

  auto dom = repo_.GetDomain(kDefaultDomainId);
  if (!dom.ok()) {
    if (!IsNotFound(dom.status())) return dom.status();
    Status s = repo_.CreateDomain({.id = std::string(kDefaultDomainId),
                                   .name = "Default",
                                   .description = "The default domain"});
    if (s.code() != StatusCode::kAlreadyExists) {
      RETURN_IF_ERROR(s);
      result.changed = true;
    }
  }

  std::string admin_role_id;
  for (std::string_view name : {"admin", "member", "reader", "service"}) {
    bool existed = repo_.GetRoleByName(name).ok();
    ASSIGN_OR_RETURN(domain::Role role, EnsureRole(name));
    if (!existed) result.changed = true;
    if (name == "admin") admin_role_id = role.id;
  }
  result.admin_role_id = admin_role_id;

  ASSIGN_OR_RETURN(domain::Project admin_project,
                   EnsureProject(options.admin_project_name, result.changed));
  result.admin_project_id = admin_project.id;
  if (!options.service_project_name.empty()) {
    ASSIGN_OR_RETURN(domain::Project service_project,
                     EnsureProject(options.service_project_name, result.changed));
    result.service_project_id = service_project.id;
  }

  auto user = repo_.GetUserByName(kDefaultDomainId, options.admin_user_name);
  bool created_user = false;
  if (!user.ok()) {
    if (!IsNotFound(user.status())) return user.status();
    domain::User u;
    u.id = platform::RandomHex(kIdBytes);
    u.name = options.admin_user_name;
    u.domain_id = std::string(kDefaultDomainId);
    u.default_project_id = admin_project.id;
    u.password_hash = HashPassword(options.admin_password, options_.password_iterations);
    Status s = repo_.CreateUser(u);
    if (s.code() == StatusCode::kAlreadyExists) {
      user = repo_.GetUserByName(kDefaultDomainId, options.admin_user_name);
      if (!user.ok()) return user.status();
    } else {
      RETURN_IF_ERROR(s);
      user = u;
      created_user = true;
      result.changed = true;
    }
  } else if (!user->enabled) {
    result.admin_disabled = true;  // disabled by an operator: not ours to undo
  } else if (options.reset_admin_password &&
             !VerifyPassword(options.admin_password, user->password_hash)) {
    user->password_hash = HashPassword(options.admin_password, options_.password_iterations);
    RETURN_IF_ERROR(repo_.UpdateUserRevokingTokens(*user));
    cache_.Clear();
    result.changed = true;
  }
  result.admin_user_id = user->id;

  // Only the user created here gets the role: a grant an operator removed stays removed.
  if (created_user) {
    ASSIGN_OR_RETURN(auto existing, repo_.ListAssignments(admin_project.id, user->id,
                                                          admin_role_id));
    if (existing.empty()) {
      RETURN_IF_ERROR(repo_.AddAssignment({admin_project.id, user->id, admin_role_id}));
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Authentication

StatusOr<domain::IdentityDomain> IdentityService::ResolveDomain(std::string_view id,
                                                                std::string_view name) {
  if (!id.empty()) return repo_.GetDomain(id);
  if (!name.empty()) return repo_.GetDomainByName(name);
  return InvalidArgumentError("Expecting a domain id or name");
}

Status IdentityService::Throttled(UnixMicros wait, LoginAttempt* attempt) {
  int64_t seconds = std::max<int64_t>(1, (wait + 999'999) / 1'000'000);
  if (attempt != nullptr) attempt->retry_after_seconds = seconds;
  return ResourceExhaustedError("Too many failed authentication attempts. Retry in " +
                                std::to_string(seconds) + " seconds.");
}

StatusOr<domain::User> IdentityService::AuthenticatePassword(const PasswordCredentials& creds,
                                                             LoginAttempt* attempt) {
  const EntityRef& ref = creds.user;
  if (creds.password.size() > kMaxPasswordLength) {
    return UnauthenticatedError("The request you have made requires authentication.");
  }
  // An address that must wait is refused before any lookup or hashing.
  const std::string address =
      attempt != nullptr ? LoginThrottle::AddressKey(attempt->remote_address) : std::string();
  if (UnixMicros wait = throttle_.AddressWait(address, clock_.Now())) {
    return Throttled(wait, attempt);
  }
  StatusOr<domain::User> user = NotFoundError("user");
  std::string user_key;  // a known user by id, whichever way it was named
  if (!ref.id.empty()) {
    user = repo_.GetUser(ref.id);
    user_key = "id:" + ref.id;
  } else if (!ref.name.empty()) {
    if (ref.domain_id.empty() && ref.domain_name.empty()) {
      return InvalidArgumentError("User name requires a domain id or name");
    }
    auto dom = ResolveDomain(ref.domain_id, ref.domain_name);
    if (dom.ok() && dom->enabled) {
      user = repo_.GetUserByName(dom->id, ref.name);
    } else if (!dom.ok() && !IsNotFound(dom.status())) {
      return dom.status();
    }
    user_key = "name:" + (dom.ok() ? dom->id : "?" + ref.domain_id + "?" + ref.domain_name) +
               "/" + ref.name;
  } else {
    return InvalidArgumentError("Expecting a user id or name");
  }
  if (!user.ok() && !IsNotFound(user.status())) return user.status();
  if (user.ok()) user_key = "id:" + user->id;
  const LoginThrottle::Admission admission = throttle_.Begin(user_key, address, clock_.Now());
  if (admission.wait > 0) return Throttled(admission.wait, attempt);
  // Admitted and counted as a failure until the password is known to be right.
  if (!user.ok()) {
    (void)Verify(creds.password, dummy_hash_);  // same cost as a real check
    return UnauthenticatedError("The request you have made requires authentication.");
  }
  if (!Verify(creds.password, user->password_hash) || !user->enabled) {
    return UnauthenticatedError("The request you have made requires authentication.");
  }
  auto dom = repo_.GetDomain(user->domain_id);
  if (!dom.ok() || !dom->enabled) {
    if (!dom.ok() && !IsNotFound(dom.status())) {
      throttle_.Abandoned(user_key, address, admission);
      return dom.status();
    }
    return UnauthenticatedError("The request you have made requires authentication.");
  }
  throttle_.Succeeded(user_key, address, admission);
  return user;
}

StatusOr<domain::Project> IdentityService::ResolveProjectScope(const EntityRef& ref) {
  StatusOr<domain::Project> project = NotFoundError("project");
  if (!ref.id.empty()) {
    project = repo_.GetProject(ref.id);
  } else if (!ref.name.empty()) {
    if (ref.domain_id.empty() && ref.domain_name.empty()) {
      return InvalidArgumentError("Project name requires a domain id or name");
    }
    auto dom = ResolveDomain(ref.domain_id, ref.domain_name);
    if (!dom.ok()) {
      if (!IsNotFound(dom.status())) return dom.status();
      return UnauthenticatedError("Could not find domain for the requested project scope.");
    }
    project = repo_.GetProjectByName(dom->id, ref.name);
  } else {
    return InvalidArgumentError("Expecting a project id or name");
  }
  if (!project.ok()) {
    if (!IsNotFound(project.status())) return project.status();
    return UnauthenticatedError("Could not find the requested project scope.");
  }
  if (!project->enabled) return UnauthenticatedError("The requested project is disabled.");
  return project;
}

StatusOr<std::vector<domain::Role>> IdentityService::EffectiveRoles(std::string_view project_id,
                                                                    std::string_view user_id) {
  ASSIGN_OR_RETURN(auto assignments, UserAssignments(project_id, user_id));
  std::vector<domain::Role> roles;
  std::vector<std::string> names;
  for (const auto& a : assignments) {
    auto role = repo_.GetRole(a.role_id);
    if (!role.ok()) {
      if (IsNotFound(role.status())) continue;  // deleted concurrently
      return role.status();
    }
    if (std::any_of(roles.begin(), roles.end(), [&](const auto& r) { return r.id == role->id; })) {
      continue;
    }
    names.push_back(Lower(role->name));
    roles.push_back(std::move(*role));
  }
  if (roles.empty()) return roles;
  for (const std::string& implied : ExpandImpliedRoles(names)) {
    if (std::find(names.begin(), names.end(), implied) != names.end()) continue;
    auto role = repo_.GetRoleByName(implied);
    if (role.ok()) {
      roles.push_back(std::move(*role));
    } else if (!IsNotFound(role.status())) {
      return role.status();
    }
  }
  std::sort(roles.begin(), roles.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return roles;
}

StatusOr<IssuedToken> IdentityService::Authenticate(const AuthRequest& request,
                                                    LoginAttempt* attempt) {
  if (int{request.password.has_value()} + int{request.token.has_value()} +
          int{request.application_credential.has_value()} != 1) {
    return UnauthenticatedError(
        "Expecting exactly one of the password, token and application_credential methods.");
  }
  // Read before anything is loaded: a revocation or a user change that runs while this token
  // is issued keeps it out of the cache (it is then validated against the database).
  const uint64_t generation = cache_.generation();
  TokenInfo info;
  std::optional<TokenInfo> parent;
  std::string verified_hash;  // the password hash the password was checked against
  if (request.password) {
    ASSIGN_OR_RETURN(info.user, AuthenticatePassword(*request.password, attempt));
    verified_hash = info.user.password_hash;
    info.methods = {"password"};
  } else if (request.application_credential) {
    ASSIGN_OR_RETURN(domain::ApplicationCredential cred,
                     AuthenticateAppCredential(*request.application_credential, attempt));
    ASSIGN_OR_RETURN(info.user, repo_.GetUser(cred.user_id));
    if (!info.user.enabled) {
      return UnauthenticatedError("The request you have made requires authentication.");
    }
    if (request.unscoped) {
      return UnauthenticatedError("An application credential's token is always scoped to its "
                                  "project; no other scope may be requested.");
    }
    info.methods = {"application_credential"};
    cred.secret_hash.clear();
    info.application_credential = std::move(cred);
  } else {
    auto described = DescribeToken(*request.token);
    if (!described.ok()) {
      if (!IsNotFound(described.status())) return described.status();
      return UnauthenticatedError("The request you have made requires authentication.");
    }
    if (described->application_credential) {
      // Rescoping would drop the credential's restrictions.
      return PermissionDeniedError(
          "A token issued for an application credential cannot be rescoped.");
    }
    parent = std::move(*described);
    info.user = parent->user;
    info.methods = parent->methods;
    if (std::find(info.methods.begin(), info.methods.end(), "token") == info.methods.end()) {
      info.methods.push_back("token");
    }
  }
  info.user.password_hash.clear();
  ASSIGN_OR_RETURN(info.user_domain, repo_.GetDomain(info.user.domain_id));

  std::optional<domain::Project> project;
  if (info.application_credential) {
    ASSIGN_OR_RETURN(project, ResolveProjectScope({.id = info.application_credential->project_id}));
    if (request.project) {  // allowed when it names the credential's own project
      ASSIGN_OR_RETURN(domain::Project asked, ResolveProjectScope(*request.project));
      if (asked.id != project->id) {
        return UnauthenticatedError("An application credential's token is always scoped to "
                                    "its project; no other scope may be requested.");
      }
    }
  } else if (request.project) {
    ASSIGN_OR_RETURN(project, ResolveProjectScope(*request.project));
  } else if (!request.unscoped && info.user.default_project_id &&
             !info.user.default_project_id->empty()) {
    auto p = repo_.GetProject(*info.user.default_project_id);
    if (p.ok() && p->enabled) {
      ASSIGN_OR_RETURN(auto roles, EffectiveRoles(p->id, info.user.id));
      if (!roles.empty()) project = std::move(*p);
    } else if (!p.ok() && !IsNotFound(p.status())) {
      return p.status();
    }
  }
  if (project) {
    if (info.application_credential) {
      ASSIGN_OR_RETURN(info.roles, AppCredentialRoles(*info.application_credential));
    } else {
      ASSIGN_OR_RETURN(info.roles, EffectiveRoles(project->id, info.user.id));
    }
    if (info.roles.empty()) {
      return UnauthenticatedError("User " + info.user.id + " has no access to project " +
                                  project->id);
    }
    ASSIGN_OR_RETURN(info.project_domain, repo_.GetDomain(project->domain_id));
    info.project = std::move(project);
  }

  UnixMicros now = clock_.Now();
  info.issued_at = now;
  info.expires_at = now + options_.token_ttl;
  info.audit_ids = {platform::RandomUrlSafe(kAuditIdBytes)};
  if (info.application_credential && info.application_credential->expires_at) {
    info.expires_at = std::min(info.expires_at, *info.application_credential->expires_at);
  }
  if (parent) {
    info.expires_at = std::min(info.expires_at, parent->expires_at);
    if (!parent->audit_ids.empty()) info.audit_ids.push_back(parent->audit_ids.front());
  }

  // A fixed alphabetic prefix: a bearer token must never start with '-', or command-line
  // clients (`openstack token revoke TOKEN`) would take it for an option.
  IssuedToken issued{"gl" + platform::RandomUrlSafe(kTokenBytes), std::move(info)};
  std::string digest = Sha256Hex(issued.bearer);
  RETURN_IF_ERROR(repo_.SaveToken({.digest = digest,
                                   .user_id = issued.info.user.id,
                                   .project_id = issued.info.project ? issued.info.project->id
                                                                     : std::string(),
                                   .audit_id = issued.info.audit_ids.front(),
                                   .issued_at = issued.info.issued_at,
                                   .expires_at = issued.info.expires_at,
                                   .application_credential_id =
                                       issued.info.application_credential
                                           ? issued.info.application_credential->id
                                           : std::string()}));
  if (!issued.info.application_credential) {  // deleting a credential deletes its tokens
    RETURN_IF_ERROR(CheckStillValid(digest, issued.info.user.id, verified_hash, request.token));
  }
  cache_.Insert(std::move(digest), issued.info.ToContext(), now, issued.info.expires_at,
                generation);
  return issued;
}

// A password change (or a revocation of the parent token) that committed between the checks
// above and SaveToken revoked the user's tokens before this one existed; so look again now that
// it is stored, and take it back if the credentials it was issued for are no longer valid.
Status IdentityService::CheckStillValid(const std::string& digest, const std::string& user_id,
                                        const std::string& verified_hash,
                                        const std::optional<std::string>& parent_bearer) {
  bool valid = true;
  if (parent_bearer) {
    auto parent = repo_.GetToken(Sha256Hex(*parent_bearer));
    if (!parent.ok() && !IsNotFound(parent.status())) return parent.status();
    valid = parent.ok() && !parent->revoked;
  } else {
    auto user = repo_.GetUser(user_id);
    if (!user.ok() && !IsNotFound(user.status())) return user.status();
    valid = user.ok() && user->password_hash == verified_hash;
  }
  if (valid) return OkStatus();
  Status s = repo_.RevokeToken(digest);
  if (!s.ok() && !IsNotFound(s)) return s;
  return UnauthenticatedError("The request you have made requires authentication.");
}

StatusOr<TokenInfo> IdentityService::LoadToken(std::string_view digest) {
  auto token = repo_.GetToken(digest);
  if (!token.ok()) {
    if (IsNotFound(token.status())) return NotFoundError("Could not recognize token");
    return token.status();
  }
  if (token->revoked) return NotFoundError("Token has been revoked");
  if (clock_.Now() >= token->expires_at) return NotFoundError("Token has expired");

  TokenInfo info;
  info.methods = {"password"};
  info.audit_ids = {token->audit_id};
  info.issued_at = token->issued_at;
  info.expires_at = token->expires_at;
  auto user = repo_.GetUser(token->user_id);
  if (!user.ok()) {
    if (IsNotFound(user.status())) return NotFoundError("Token user no longer exists");
    return user.status();
  }
  if (!user->enabled) return NotFoundError("Token user is disabled");
  info.user = Scrub(std::move(*user));
  auto user_domain = repo_.GetDomain(info.user.domain_id);
  if (!user_domain.ok()) {
    if (IsNotFound(user_domain.status())) return NotFoundError("Token domain no longer exists");
    return user_domain.status();
  }
  if (!user_domain->enabled) return NotFoundError("Token domain is disabled");
  info.user_domain = std::move(*user_domain);

  if (!token->application_credential_id.empty()) {
    auto cred = repo_.GetApplicationCredential(token->application_credential_id);
    if (!cred.ok()) {
      if (IsNotFound(cred.status())) return NotFoundError("Application credential is gone");
      return cred.status();
    }
    if (cred->expires_at && clock_.Now() >= *cred->expires_at) {
      return NotFoundError("Application credential has expired");
    }
    cred->secret_hash.clear();
    info.methods = {"application_credential"};
    info.application_credential = std::move(*cred);
  }
  if (!token->project_id.empty()) {
    auto project = repo_.GetProject(token->project_id);
    if (!project.ok()) {
      if (IsNotFound(project.status())) return NotFoundError("Token project no longer exists");
      return project.status();
    }
    if (!project->enabled) return NotFoundError("Token project is disabled");
    if (info.application_credential) {
      ASSIGN_OR_RETURN(info.roles, AppCredentialRoles(*info.application_credential));
    } else {
      ASSIGN_OR_RETURN(info.roles, EffectiveRoles(project->id, info.user.id));
    }
    if (info.roles.empty()) return NotFoundError("Token user has no role on the project");
    auto project_domain = repo_.GetDomain(project->domain_id);
    if (!project_domain.ok()) {
      if (IsNotFound(project_domain.status())) return NotFoundError("Project domain is gone");
      return project_domain.status();
    }
    info.project_domain = std::move(*project_domain);
    info.project = std::move(*project);
  }
  return info;
}

StatusOr<domain::RequestContext> IdentityService::ValidateToken(std::string_view bearer) {
  if (bearer.empty() || bearer.size() > 1024) {
    return UnauthenticatedError("The request you have made requires authentication.");
  }
  std::string digest = Sha256Hex(bearer);
  UnixMicros now = clock_.Now();
  if (auto hit = cache_.Lookup(digest, now)) return std::move(*hit);
  const uint64_t generation = cache_.generation();  // before the database read: see TokenCache
  auto info = LoadToken(digest);
  if (!info.ok()) {
    if (IsNotFound(info.status())) {
      return UnauthenticatedError("The request you have made requires authentication.");
    }
    return info.status();
  }
  domain::RequestContext ctx = info->ToContext();
  cache_.Insert(std::move(digest), ctx, now, info->expires_at, generation);
  return ctx;
}

StatusOr<TokenInfo> IdentityService::DescribeToken(std::string_view bearer) {
  if (bearer.empty() || bearer.size() > 1024) return NotFoundError("Could not recognize token");
  return LoadToken(Sha256Hex(bearer));
}

Status IdentityService::RevokeToken(std::string_view bearer) {
  if (bearer.empty() || bearer.size() > 1024) return NotFoundError("Could not recognize token");
  std::string digest = Sha256Hex(bearer);
  // The database first, then the cache: erasing first would let a validation running in
  // between cache the token again (the generation check in Insert covers the other order).
  Status result = OkStatus();
  auto token = repo_.GetToken(digest);
  if (!token.ok()) {
    result = token.status();
  } else if (token->revoked || clock_.Now() >= token->expires_at) {
    result = NotFoundError("Could not recognize token");  // maybe revoked by another node
  } else {
    result = repo_.RevokeToken(digest);
  }
  cache_.Erase(digest);
  return result;
}

Status IdentityService::PurgeExpiredTokens() { return repo_.PurgeExpiredTokens(clock_.Now()); }

// ---------------------------------------------------------------------------------------------
// Domains

StatusOr<std::vector<domain::IdentityDomain>> IdentityService::ListDomains(
    const ListFilter& filter) {
  ASSIGN_OR_RETURN(auto all, repo_.ListDomains());
  std::vector<domain::IdentityDomain> out;
  for (auto& d : all) {
    if (filter.name && *filter.name != d.name) continue;
    if (filter.enabled && *filter.enabled != d.enabled) continue;
    out.push_back(std::move(d));
  }
  return out;
}

StatusOr<domain::IdentityDomain> IdentityService::GetDomain(std::string_view id) {
  return repo_.GetDomain(id);
}

// ---------------------------------------------------------------------------------------------
// Projects

Status IdentityService::CheckNameFree(const domain::Project& p, std::string_view except_id) {
  auto existing = repo_.GetProjectByName(p.domain_id, p.name);
  if (existing.ok() && existing->id != except_id) {
    return AlreadyExistsError("Duplicate entry found with name " + p.name + " at domain ID " +
                              p.domain_id + ".");
  }
  if (!existing.ok() && !IsNotFound(existing.status())) return existing.status();
  return OkStatus();
}

StatusOr<domain::Project> IdentityService::CreateProject(domain::Project project) {
  RETURN_IF_ERROR(ValidateName(project.name, "Project"));
  if (project.domain_id.empty()) project.domain_id = std::string(kDefaultDomainId);
  RETURN_IF_ERROR(repo_.GetDomain(project.domain_id).status());
  if (project.id.empty()) project.id = platform::RandomHex(kIdBytes);
  RETURN_IF_ERROR(CheckNameFree(project, ""));
  Status s = repo_.CreateProject(project);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("Duplicate entry found with name " + project.name +
                              " at domain ID " + project.domain_id + ".");
  }
  RETURN_IF_ERROR(s);
  return project;
}

StatusOr<domain::Project> IdentityService::GetProject(std::string_view id) {
  return repo_.GetProject(id);
}

StatusOr<std::vector<domain::Project>> IdentityService::ListProjects(const ListFilter& filter) {
  ASSIGN_OR_RETURN(auto all, repo_.ListProjects());
  std::vector<domain::Project> out;
  for (auto& p : all) {
    if (Matches(filter, p.name, p.domain_id, p.enabled)) out.push_back(std::move(p));
  }
  return out;
}

StatusOr<domain::Project> IdentityService::UpdateProject(std::string_view id,
                                                         const ProjectPatch& patch) {
  ASSIGN_OR_RETURN(domain::Project p, repo_.GetProject(id));
  if (patch.name && *patch.name != p.name) {
    RETURN_IF_ERROR(ValidateName(*patch.name, "Project"));
    p.name = *patch.name;
    RETURN_IF_ERROR(CheckNameFree(p, p.id));
  }
  if (patch.description) p.description = *patch.description;
  if (patch.enabled) p.enabled = *patch.enabled;
  RETURN_IF_ERROR(repo_.UpdateProject(p));
  cache_.Clear();
  return p;
}

Status IdentityService::DeleteProject(std::string_view id) {
  RETURN_IF_ERROR(repo_.DeleteProject(id));
  cache_.Clear();
  return OkStatus();
}

StatusOr<std::vector<domain::Project>> IdentityService::ListUserProjects(
    std::string_view user_id) {
  RETURN_IF_ERROR(repo_.GetUser(user_id).status());
  ASSIGN_OR_RETURN(auto assignments, UserAssignments("", user_id));
  std::set<std::string> ids;
  for (const auto& a : assignments) ids.insert(a.project_id);
  std::vector<domain::Project> out;
  for (const auto& id : ids) {
    auto p = repo_.GetProject(id);
    if (p.ok()) {
      out.push_back(std::move(*p));
    } else if (!IsNotFound(p.status())) {
      return p.status();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Users

StatusOr<domain::User> IdentityService::CreateUser(const UserSpec& spec) {
  RETURN_IF_ERROR(ValidateName(spec.name, "User"));
  domain::User u;
  u.id = platform::RandomHex(kIdBytes);
  u.name = spec.name;
  u.domain_id = spec.domain_id.empty() ? std::string(kDefaultDomainId) : spec.domain_id;
  RETURN_IF_ERROR(repo_.GetDomain(u.domain_id).status());
  if (spec.default_project_id && !spec.default_project_id->empty()) {
    RETURN_IF_ERROR(repo_.GetProject(*spec.default_project_id).status());
    u.default_project_id = spec.default_project_id;
  }
  if (spec.email && !spec.email->empty()) u.email = spec.email;
  u.description = spec.description;
  u.enabled = spec.enabled;
  if (spec.password) {
    RETURN_IF_ERROR(ValidatePassword(*spec.password));
    u.password_hash = Hash(*spec.password);
  }
  auto existing = repo_.GetUserByName(u.domain_id, u.name);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) {
    if (!existing.ok()) return existing.status();
    return AlreadyExistsError("Duplicate entry found with name " + u.name + " at domain ID " +
                              u.domain_id + ".");
  }
  Status s = repo_.CreateUser(u);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("Duplicate entry found with name " + u.name + " at domain ID " +
                              u.domain_id + ".");
  }
  RETURN_IF_ERROR(s);
  return Scrub(std::move(u));
}

StatusOr<domain::User> IdentityService::GetUser(std::string_view id) {
  ASSIGN_OR_RETURN(domain::User u, repo_.GetUser(id));
  return Scrub(std::move(u));
}

StatusOr<std::vector<domain::User>> IdentityService::ListUsers(const ListFilter& filter) {
  ASSIGN_OR_RETURN(auto all, repo_.ListUsers());
  std::vector<domain::User> out;
  for (auto& u : all) {
    if (Matches(filter, u.name, u.domain_id, u.enabled)) out.push_back(Scrub(std::move(u)));
  }
  return out;
}

StatusOr<domain::User> IdentityService::UpdateUser(std::string_view id, const UserPatch& patch) {
  ASSIGN_OR_RETURN(domain::User u, repo_.GetUser(id));
  if (patch.name && *patch.name != u.name) {
    RETURN_IF_ERROR(ValidateName(*patch.name, "User"));
    auto existing = repo_.GetUserByName(u.domain_id, *patch.name);
    if (existing.ok()) {
      return AlreadyExistsError("Duplicate entry found with name " + *patch.name +
                                " at domain ID " + u.domain_id + ".");
    }
    if (!IsNotFound(existing.status())) return existing.status();
    u.name = *patch.name;
  }
  if (patch.password) {
    RETURN_IF_ERROR(ValidatePassword(*patch.password));
    u.password_hash = Hash(*patch.password);
  }
  if (patch.default_project_id) {
    if (patch.default_project_id->empty()) {
      u.default_project_id.reset();
    } else {
      RETURN_IF_ERROR(repo_.GetProject(*patch.default_project_id).status());
      u.default_project_id = patch.default_project_id;
    }
  }
  if (patch.email) {
    if (patch.email->empty()) {
      u.email.reset();
    } else {
      u.email = patch.email;
    }
  }
  if (patch.description) u.description = *patch.description;
  if (patch.enabled) u.enabled = *patch.enabled;
  // A new password revokes every token issued so far, as in Keystone.
  RETURN_IF_ERROR(patch.password ? repo_.UpdateUserRevokingTokens(u) : repo_.UpdateUser(u));
  cache_.Clear();
  return Scrub(std::move(u));
}

Status IdentityService::DeleteUser(std::string_view id) {
  RETURN_IF_ERROR(repo_.DeleteUser(id));
  cache_.Clear();
  return OkStatus();
}

Status IdentityService::ChangePassword(std::string_view user_id,
                                       std::string_view original_password,
                                       std::string_view new_password, LoginAttempt* attempt) {
  RETURN_IF_ERROR(ValidatePassword(new_password));
  if (original_password.size() > kMaxPasswordLength) {
    return UnauthenticatedError("The request you have made requires authentication.");
  }
  const std::string address =
      attempt != nullptr ? LoginThrottle::AddressKey(attempt->remote_address) : std::string();
  const std::string user_key = "id:" + std::string(user_id);  // as for logins
  if (UnixMicros wait = throttle_.AddressWait(address, clock_.Now())) {
    return Throttled(wait, attempt);
  }
  const LoginThrottle::Admission admission = throttle_.Begin(user_key, address, clock_.Now());
  if (admission.wait > 0) return Throttled(admission.wait, attempt);
  auto u = repo_.GetUser(user_id);
  if (!u.ok()) {
    if (!IsNotFound(u.status())) {
      throttle_.Abandoned(user_key, address, admission);
      return u.status();
    }
    (void)Verify(original_password, dummy_hash_);  // an unknown id takes as long
    return u.status();
  }
  // The hash is always checked, also for a disabled user, so that timing tells nothing.
  if (!Verify(original_password, u->password_hash) || !u->enabled) {
    return UnauthenticatedError("The request you have made requires authentication.");
  }
  throttle_.Succeeded(user_key, address, admission);
  u->password_hash = Hash(new_password);
  RETURN_IF_ERROR(repo_.UpdateUserRevokingTokens(*u));
  cache_.Clear();
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Roles

StatusOr<domain::Role> IdentityService::CreateRole(std::string name, std::string description) {
  RETURN_IF_ERROR(ValidateName(name, "Role"));
  auto existing = repo_.GetRoleByName(name);
  if (existing.ok()) return AlreadyExistsError("Duplicate entry found with name " + name + ".");
  if (!IsNotFound(existing.status())) return existing.status();
  domain::Role r;
  r.id = platform::RandomHex(kIdBytes);
  r.name = std::move(name);
  r.description = std::move(description);
  Status s = repo_.CreateRole(r);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("Duplicate entry found with name " + r.name + ".");
  }
  RETURN_IF_ERROR(s);
  return r;
}

StatusOr<domain::Role> IdentityService::GetRole(std::string_view id) { return repo_.GetRole(id); }

StatusOr<std::vector<domain::Role>> IdentityService::ListRoles(const ListFilter& filter) {
  ASSIGN_OR_RETURN(auto all, repo_.ListRoles());
  std::vector<domain::Role> out;
  for (auto& r : all) {
    if (filter.name && *filter.name != r.name) continue;
    if (filter.domain_id && *filter.domain_id != r.domain_id.value_or("")) continue;
    out.push_back(std::move(r));
  }
  return out;
}

Status IdentityService::DeleteRole(std::string_view id) {
  RETURN_IF_ERROR(repo_.GetRole(id).status());
  ASSIGN_OR_RETURN(auto assignments, repo_.ListAssignments("", "", id));
  for (const auto& a : assignments) {
    Status s = repo_.RemoveAssignment(a);
    if (!s.ok() && !IsNotFound(s)) return s;
  }
  RETURN_IF_ERROR(repo_.DeleteRole(id));
  cache_.Clear();
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Assignments

Status IdentityService::GrantRole(std::string_view project_id, std::string_view user_id,
                                  std::string_view role_id) {
  RETURN_IF_ERROR(repo_.GetProject(project_id).status());
  RETURN_IF_ERROR(repo_.GetUser(user_id).status());
  RETURN_IF_ERROR(repo_.GetRole(role_id).status());
  return repo_.AddAssignment(
      {std::string(project_id), std::string(user_id), std::string(role_id)});
}

Status IdentityService::RevokeRole(std::string_view project_id, std::string_view user_id,
                                   std::string_view role_id) {
  RETURN_IF_ERROR(CheckRole(project_id, user_id, role_id));
  RETURN_IF_ERROR(repo_.RemoveAssignment(
      {std::string(project_id), std::string(user_id), std::string(role_id)}));
  cache_.Clear();
  return OkStatus();
}

Status IdentityService::CheckRole(std::string_view project_id, std::string_view user_id,
                                  std::string_view role_id) {
  if (project_id.empty() || user_id.empty() || role_id.empty()) {
    return NotFoundError("Could not find role assignment");
  }
  ASSIGN_OR_RETURN(auto found, repo_.ListAssignments(project_id, user_id, role_id));
  if (found.empty()) {
    return NotFoundError("Could not find role assignment with role: " + std::string(role_id) +
                         ", user or group: " + std::string(user_id) +
                         ", project, domain, or system: " + std::string(project_id) + ".");
  }
  return OkStatus();
}

StatusOr<std::vector<domain::RoleAssignment>> IdentityService::ListAssignments(
    const AssignmentFilter& filter) {
  if (!filter.effective) {
    std::vector<domain::RoleAssignment> out;
    if (filter.group_id.empty()) {
      ASSIGN_OR_RETURN(out, repo_.ListAssignments(filter.project_id, filter.user_id,
                                                  filter.role_id));
    }
    if (filter.user_id.empty()) {
      ASSIGN_OR_RETURN(auto groups, repo_.ListGroupAssignments(filter.project_id,
                                                               filter.group_id, filter.role_id));
      out.insert(out.end(), groups.begin(), groups.end());
    }
    return out;
  }
  // Effective: the (project, user) pairs holding any role, directly or through a group (of
  // `group_id` only, when given), each expanded to its roles and the roles they imply.
  std::set<std::pair<std::string, std::string>> pairs;
  if (filter.group_id.empty()) {
    ASSIGN_OR_RETURN(auto direct, repo_.ListAssignments(filter.project_id, filter.user_id, ""));
    for (const auto& a : direct) pairs.insert({a.project_id, a.user_id});
  }
  ASSIGN_OR_RETURN(auto grants, repo_.ListGroupAssignments(filter.project_id, filter.group_id, ""));
  for (const auto& g : grants) {
    ASSIGN_OR_RETURN(auto members, repo_.ListGroupMembers(g.group_id, filter.user_id));
    for (const auto& m : members) pairs.insert({g.project_id, m.user_id});
  }
  std::vector<domain::RoleAssignment> out;
  for (const auto& [project_id, user_id] : pairs) {
    ASSIGN_OR_RETURN(auto roles, EffectiveRoles(project_id, user_id));
    for (const auto& r : roles) {
      if (!filter.role_id.empty() && r.id != filter.role_id) continue;
      out.push_back({.project_id = project_id, .user_id = user_id, .role_id = r.id});
    }
  }
  return out;
}

bool IdentityService::Verify(std::string_view password, std::string_view encoded) const {
  if (options_.password_pool == nullptr) return VerifyPassword(password, encoded);
  return platform::RunOn(*options_.password_pool,
                         [&] { return VerifyPassword(password, encoded); });
}

std::string IdentityService::Hash(std::string_view password) const {
  if (options_.password_pool == nullptr) {
    return HashPassword(password, options_.password_iterations);
  }
  return platform::RunOn(*options_.password_pool,
                         [&] { return HashPassword(password, options_.password_iterations); });
}

}  // namespace glimmer::identity
