// IdentityService: application credentials (Keystone v3): a user's named secret for one
// project, holding some of the user's roles there, for scripts and CI systems that must not
// hold the user's password.

#include <algorithm>
#include <utility>

#include "identity/identity_service.h"
#include "identity/internal/names.h"
#include "platform/random.h"

namespace glimmer::identity {

using internal::IsNotFound;
using internal::kIdBytes;
using internal::Lower;
using internal::ValidateName;

namespace {

constexpr size_t kSecretBytes = 64;       // a generated secret: 86 url-safe chars
constexpr size_t kMaxSecretLength = 4096;
constexpr std::string_view kAuthRequired = "The request you have made requires authentication.";

domain::ApplicationCredential Scrub(domain::ApplicationCredential c) {
  c.secret_hash.clear();
  return c;
}

}  // namespace

StatusOr<CreatedAppCredential> IdentityService::CreateApplicationCredential(
    std::string_view caller_bearer, std::string_view user_id, AppCredentialSpec spec) {
  RETURN_IF_ERROR(ValidateName(spec.name, "Application credential"));
  ASSIGN_OR_RETURN(TokenInfo caller, DescribeToken(caller_bearer));
  if (caller.user.id != user_id) {
    return PermissionDeniedError("Application credentials can only be created by their user.");
  }
  if (caller.application_credential && !caller.application_credential->unrestricted) {
    return PermissionDeniedError(
        "Using method 'application_credential' is not allowed for managing additional "
        "application credentials.");
  }
  if (!caller.project) {
    return InvalidArgumentError("An application credential needs a project-scoped token.");
  }
  if (spec.secret && (spec.secret->empty() || spec.secret->size() > kMaxSecretLength)) {
    return InvalidArgumentError("The secret must be 1 to 4096 characters long.");
  }
  const UnixMicros now = clock_.Now();
  if (spec.expires_at && *spec.expires_at <= now) {
    return InvalidArgumentError("The expiration time is in the past.");
  }

  // The roles: each must be one the caller's token holds on the project.
  std::vector<std::string> role_ids;
  if (spec.roles.empty()) {
    for (const domain::Role& r : caller.roles) role_ids.push_back(r.id);
  }
  for (const EntityRef& ref : spec.roles) {
    auto held = std::find_if(caller.roles.begin(), caller.roles.end(), [&](const auto& r) {
      return ref.id.empty() ? Lower(r.name) == Lower(ref.name) : r.id == ref.id;
    });
    if (held == caller.roles.end()) {
      return NotFoundError("Could not find role assignment with role: " +
                           (ref.id.empty() ? ref.name : ref.id) + ", user or group: " +
                           caller.user.id + ", project, domain, or system: " +
                           caller.project->id + ".");
    }
    if (std::find(role_ids.begin(), role_ids.end(), held->id) == role_ids.end()) {
      role_ids.push_back(held->id);
    }
  }

  CreatedAppCredential created;
  created.secret = spec.secret ? std::move(*spec.secret) : platform::RandomUrlSafe(kSecretBytes);
  domain::ApplicationCredential& c = created.credential;
  c.id = platform::RandomHex(kIdBytes);
  c.user_id = caller.user.id;
  c.project_id = caller.project->id;
  c.name = std::move(spec.name);
  c.description = std::move(spec.description);
  c.secret_hash = Hash(created.secret);
  c.expires_at = spec.expires_at;
  c.unrestricted = spec.unrestricted;
  c.created_at = now;
  c.role_ids = std::move(role_ids);
  Status s = repo_.CreateApplicationCredential(c);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("Duplicate entry found with name " + c.name + ".");
  }
  RETURN_IF_ERROR(s);
  c.secret_hash.clear();
  return created;
}

StatusOr<std::vector<domain::ApplicationCredential>> IdentityService::ListApplicationCredentials(
    std::string_view user_id, const std::optional<std::string>& name) {
  RETURN_IF_ERROR(repo_.GetUser(user_id).status());
  ASSIGN_OR_RETURN(auto all, repo_.ListApplicationCredentials(user_id));
  std::vector<domain::ApplicationCredential> out;
  for (auto& c : all) {
    if (name && *name != c.name) continue;
    out.push_back(Scrub(std::move(c)));
  }
  return out;
}

StatusOr<domain::ApplicationCredential> IdentityService::GetApplicationCredential(
    std::string_view user_id, std::string_view id) {
  auto c = repo_.GetApplicationCredential(id);
  if (c.ok() && c->user_id != user_id) c = NotFoundError("application credential");
  if (!c.ok()) {
    if (!IsNotFound(c.status())) return c.status();
    return NotFoundError("Could not find application credential: " + std::string(id) + ".");
  }
  return Scrub(std::move(*c));
}

Status IdentityService::DeleteApplicationCredential(std::string_view caller_bearer,
                                                    std::string_view user_id,
                                                    std::string_view id) {
  ASSIGN_OR_RETURN(TokenInfo caller, DescribeToken(caller_bearer));
  if (caller.application_credential && !caller.application_credential->unrestricted) {
    return PermissionDeniedError(
        "Using method 'application_credential' is not allowed for managing additional "
        "application credentials.");
  }
  RETURN_IF_ERROR(GetApplicationCredential(user_id, id).status());
  RETURN_IF_ERROR(repo_.DeleteApplicationCredential(id));
  cache_.Clear();  // its tokens are gone with it
  return OkStatus();
}

StatusOr<domain::ApplicationCredential> IdentityService::AuthenticateAppCredential(
    const AppCredentialAuth& auth, LoginAttempt* attempt) {
  if (auth.secret.empty() || auth.secret.size() > kMaxSecretLength) {
    return UnauthenticatedError(std::string(kAuthRequired));
  }
  const std::string address =
      attempt != nullptr ? LoginThrottle::AddressKey(attempt->remote_address) : std::string();
  if (UnixMicros wait = throttle_.AddressWait(address, clock_.Now())) {
    return Throttled(wait, attempt);
  }
  StatusOr<domain::ApplicationCredential> cred = NotFoundError("application credential");
  if (!auth.id.empty()) {
    cred = repo_.GetApplicationCredential(auth.id);
  } else if (!auth.name.empty()) {
    StatusOr<domain::User> user = NotFoundError("user");
    if (!auth.user.id.empty()) {
      user = repo_.GetUser(auth.user.id);
    } else if (!auth.user.name.empty()) {
      auto dom = ResolveDomain(auth.user.domain_id, auth.user.domain_name);
      if (dom.ok()) {
        user = repo_.GetUserByName(dom->id, auth.user.name);
      } else if (!IsNotFound(dom.status())) {
        return dom.status();
      }
    } else {
      return InvalidArgumentError("An application credential name needs its user");
    }
    if (user.ok()) {
      cred = repo_.GetApplicationCredentialByName(user->id, auth.name);
    } else if (!IsNotFound(user.status())) {
      return user.status();
    }
  } else {
    return InvalidArgumentError("Expecting an application credential id or name");
  }
  if (!cred.ok() && !IsNotFound(cred.status())) return cred.status();
  // Failures count against the credential as they do against a user's password.
  const std::string key = "appcred:" + (cred.ok() ? cred->id : auth.id + "/" + auth.name);
  const LoginThrottle::Admission admission = throttle_.Begin(key, address, clock_.Now());
  if (admission.wait > 0) return Throttled(admission.wait, attempt);
  if (!cred.ok()) {
    (void)Verify(auth.secret, dummy_hash_);  // same cost as a real check
    return UnauthenticatedError(std::string(kAuthRequired));
  }
  if (!Verify(auth.secret, cred->secret_hash)) {
    return UnauthenticatedError(std::string(kAuthRequired));
  }
  throttle_.Succeeded(key, address, admission);
  if (cred->expires_at && clock_.Now() >= *cred->expires_at) {
    return UnauthenticatedError("The application credential has expired.");
  }
  return cred;
}

StatusOr<std::vector<domain::Role>> IdentityService::AppCredentialRoles(
    const domain::ApplicationCredential& c) {
  std::vector<std::string> carried;
  for (const std::string& id : c.role_ids) {
    auto role = repo_.GetRole(id);
    if (role.ok()) {
      carried.push_back(Lower(role->name));
    } else if (!IsNotFound(role.status())) {
      return role.status();
    }
  }
  const std::vector<std::string> allowed = ExpandImpliedRoles(carried);
  ASSIGN_OR_RETURN(auto held, EffectiveRoles(c.project_id, c.user_id));
  std::vector<domain::Role> out;
  for (auto& r : held) {
    if (std::find(allowed.begin(), allowed.end(), Lower(r.name)) != allowed.end()) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace glimmer::identity
