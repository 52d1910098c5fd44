// Micro-benchmark of the per-request hot path: ValidateToken with a warm cache, and a cache miss
// served from the SQLite repository. Build on demand: --target identity_bench.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "db/sqlite/database.h"
#include "db/sql/identity_repository.h"
#include "identity/identity_service.h"
#include "platform/clock.h"

namespace {

using glimmer::identity::AuthRequest;
using glimmer::identity::IdentityOptions;
using glimmer::identity::IdentityService;

double NanosPerOp(const std::chrono::steady_clock::time_point& start, int ops) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  return static_cast<double>(ns) / ops;
}

}  // namespace

int main() {
  std::string dir = std::filesystem::temp_directory_path() / "glimmer-identity-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto db = glimmer::db::sqlite::SqliteDatabase::Open(dir + "/bench.db");
  if (!db.ok()) return 1;
  auto repo = glimmer::db::sql::NewIdentityRepository(**db);
  IdentityOptions options;
  options.password_iterations = 1000;
  IdentityService svc(*repo, glimmer::platform::Clock::Real(), options);
  if (!svc.Bootstrap({.admin_password = "pw"}).ok()) return 1;
  AuthRequest req;
  req.password = glimmer::identity::PasswordCredentials{
      .user = {.name = "admin", .domain_name = "Default"}, .password = "pw"};
  req.project = glimmer::identity::EntityRef{.name = "admin", .domain_name = "Default"};
  std::vector<std::string> bearers;
  for (int i = 0; i < 200; ++i) bearers.push_back(svc.Authenticate(req)->bearer);

  constexpr int kHits = 200000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kHits; ++i) {
    if (!svc.ValidateToken(bearers[i % bearers.size()]).ok()) return 2;
  }
  std::printf("ValidateToken cache hit:  %8.0f ns/op\n", NanosPerOp(start, kHits));

  // DescribeToken is the uncached path a cache miss takes: every call reads SQLite.
  constexpr int kMisses = 2000;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMisses; ++i) {
    if (!svc.DescribeToken(bearers[i % bearers.size()]).ok()) return 3;
  }
  std::printf("ValidateToken cache miss: %8.0f ns/op (SQLite)\n", NanosPerOp(start, kMisses));

  options.password_iterations = glimmer::identity::kDefaultPasswordIterations;
  IdentityService full(*repo, glimmer::platform::Clock::Real(), options);
  if (!full.Bootstrap({.admin_password = "pw2"}).ok()) return 1;  // rehash at 100k iterations
  req.password->password = "pw2";
  constexpr int kIssues = 20;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIssues; ++i) {
    if (!full.Authenticate(req).ok()) return 4;
  }
  std::printf("Authenticate (100k PBKDF2): %6.2f ms/op\n", NanosPerOp(start, kIssues) / 1e6);
  repo.reset();
  db->reset();
  std::filesystem::remove_all(dir);
}
