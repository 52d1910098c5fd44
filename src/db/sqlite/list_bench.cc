// Micro-benchmark of the SQLite image repository at 100,000 images.
// Build: cmake --build <dir> --target db_sqlite_bench
// Run:   db_sqlite_bench [images=100000] [db-file]   (an existing db-file with images is reused
//        as-is and kept; otherwise a temporary one is filled and removed afterwards)
// Prints the mean latency of Get and of typical List queries (Glance defaults: sort
// created_at desc, id desc; limit 25 or 1000).

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "db/sqlite/database.h"
#include "db/sql/image_repository.h"
#include "platform/executor.h"

namespace glimmer::db::sqlite {
namespace {

using domain::ColumnFilter;
using domain::FilterOp;
using domain::Image;
using domain::ImageColumn;
using domain::ListQuery;
using domain::Visibility;
using Clock = std::chrono::steady_clock;

// Deterministic data (xorshift), so runs are comparable.
struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
};

constexpr int kProjects = 200;
std::string ProjectId(int p) { return "project-" + std::to_string(p); }
std::string ImageId(int i) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-0000-4000-8000-%012x", i, i * 7);
  return buf;
}

void Die(const Status& st, const char* what) {
  if (st.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
  std::exit(1);
}

double TimeIt(int iterations, const std::function<void(int)>& fn) {
  auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) fn(i);
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations;
}

ListQuery BaseQuery(const std::string& project, bool admin, int limit) {
  ListQuery q;
  q.scope.project_id = project;
  q.scope.is_admin = admin;
  q.sort = {{ImageColumn::kCreatedAt, false}, {ImageColumn::kId, false}};
  q.limit = limit;
  return q;
}

int Run(int n, const std::string& given_path) {
  const bool reuse = !given_path.empty() && access(given_path.c_str(), F_OK) == 0;
  const bool keep = !given_path.empty();
  const std::string path =
      keep ? given_path : "/tmp/glimmer-bench-" + std::to_string(getpid()) + ".db";
  auto db_or = SqliteDatabase::Open(path);
  Die(db_or.status(), "open");
  auto db = std::move(db_or).value();
  auto repo = sql::NewImageRepository(*db);

  Rng rng;
  const char* distros[] = {"ubuntu", "debian", "centos", "fedora", "cirros"};
  auto fill_start = Clock::now();
  for (int i = 0; i < n && !reuse; ++i) {
    Image image;
    image.id = ImageId(i);
    image.owner = ProjectId(rng.Below(kProjects));
    int v = rng.Below(100);
    image.visibility = v < 70   ? Visibility::kPrivate
                       : v < 80 ? Visibility::kPublic
                       : v < 95 ? Visibility::kShared
                                : Visibility::kCommunity;
    image.status = domain::ImageStatus::kActive;
    if (i % 50 != 0) image.name = "image-" + std::to_string(rng.Below(n / 2));
    image.size = rng.Below(1 << 30);
    image.disk_format = "qcow2";
    image.container_format = "bare";
    image.created_at = 1'700'000'000'000'000 + static_cast<int64_t>(i) * 1'000'000;
    image.updated_at = image.created_at;
    image.tags = {"tag-" + std::to_string(rng.Below(50)), "tag-" + std::to_string(rng.Below(50))};
    if (i % 100 == 0) image.tags.push_back("rare");
    image.properties = {{"os_distro", distros[rng.Below(5)]},
                        {"os_version", std::to_string(rng.Below(30))},
                        {"build", std::to_string(i)}};
    image.locations = {{"file", "file:///var/lib/glimmer/images/" + image.id, "{}"}};
    Die(repo->Create(image), "create");
    if (image.visibility == Visibility::kShared) {
      Die(repo->AddMember({image.id, ProjectId(rng.Below(kProjects)),
                           domain::MemberStatus::kAccepted, 1, 1}),
          "member");
    }
  }
  const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();
  if (!reuse) {
    std::printf("filled %d images in %.1f s (%.0f Create/s incl. children)\n", n, fill_s,
                n / fill_s);
  }

  size_t rows = 0;
  auto report = [&](const char* name, double us) {
    std::printf("%-52s %9.1f us  (%zu rows)\n", name, us, rows);
  };
  auto list = [&](const ListQuery& q) {
    auto got = repo->List(q);
    Die(got.status(), "list");
    rows = got->size();
  };

  // Get: single thread, then 2 threads.
  {
    double us = TimeIt(20000, [&](int i) {
      auto got = repo->Get(ImageId(static_cast<int>((i * 7919LL) % n)));
      Die(got.status(), "get");
    });
    rows = 1;
    report("Get (1 thread)", us);
    std::atomic<int> done{0};
    auto start = Clock::now();
    {
      platform::Executor ex("bench", 2);
      for (int t = 0; t < 2; ++t) {
        ex.Post([&, t] {
          for (int i = 0; i < 20000; ++i) {
            auto got = repo->Get(ImageId(static_cast<int>((i * 104729LL + t) % n)));
            Die(got.status(), "get");
            ++done;
          }
        });
      }
    }
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("%-52s %9.0f Get/s\n", "Get throughput (2 threads)", done.load() / s);
  }

  const std::string p = ProjectId(7);
  report("List admin default sort limit 25",
         TimeIt(200, [&](int) { list(BaseQuery(p, true, 25)); }));
  report("List admin default sort limit 1000",
         TimeIt(20, [&](int) { list(BaseQuery(p, true, 1000)); }));
  report("List project default sort limit 25",
         TimeIt(200, [&](int) { list(BaseQuery(p, false, 25)); }));
  report("List project default sort limit 1000",
         TimeIt(20, [&](int) { list(BaseQuery(p, false, 1000)); }));
  {
    ListQuery q = BaseQuery(p, false, 25);
    q.filters.push_back({ImageColumn::kName, FilterOp::kEq, {"image-1234"}});
    report("List project name=image-1234", TimeIt(200, [&](int) { list(q); }));
    q.scope.is_admin = true;
    report("List admin name=image-1234", TimeIt(200, [&](int) { list(q); }));
  }
  {
    ListQuery q = BaseQuery(p, false, 25);
    q.tags = {"tag-3"};
    report("List project tag=tag-3 (common)", TimeIt(100, [&](int) { list(q); }));
    q.tags = {"rare"};
    report("List project tag=rare (1%)", TimeIt(100, [&](int) { list(q); }));
    q.tags = {"rare", "tag-3"};
    report("List project tag=rare&tag=tag-3", TimeIt(100, [&](int) { list(q); }));
  }
  {
    ListQuery q = BaseQuery(p, false, 25);
    q.properties = {{"os_distro", "debian"}};
    report("List project os_distro=debian (20%)", TimeIt(100, [&](int) { list(q); }));
    q.properties = {{"build", "4242"}};
    report("List project build=4242 (1 image)", TimeIt(100, [&](int) { list(q); }));
  }
  {
    ListQuery q = BaseQuery(p, true, 25);
    q.marker = ImageId(n / 10);  // ~90% of the way down the default (desc) order
    report("List admin deep marker page limit 25", TimeIt(200, [&](int) { list(q); }));
    q = BaseQuery(p, false, 25);
    q.marker = ImageId(n / 10);
    auto vis = repo->Get(*q.marker);
    if (vis.ok() && vis->visibility != Visibility::kPublic) {
      for (int i = n / 10; i < n; ++i) {  // find a public image to use as marker
        auto img = repo->Get(ImageId(i));
        if (img.ok() && img->visibility == Visibility::kPublic) {
          q.marker = img->id;
          break;
        }
      }
    }
    report("List project deep marker page limit 25", TimeIt(200, [&](int) { list(q); }));
  }
  {
    ListQuery q = BaseQuery(p, true, 25);
    q.sort.insert(q.sort.begin(), {ImageColumn::kName, true});
    for (auto& k : q.sort) k.ascending = true;
    report("List admin sort=name:asc limit 25", TimeIt(100, [&](int) { list(q); }));
    q.marker = ImageId(n / 2 + 1);  // a named image (every 50th has no name)
    report("List admin sort=name:asc marker page", TimeIt(100, [&](int) { list(q); }));
    q = BaseQuery(p, true, 25);
    q.sort.insert(q.sort.begin(), {ImageColumn::kSize, false});
    report("List admin sort=size:desc limit 25", TimeIt(20, [&](int) { list(q); }));
  }

  repo.reset();
  db.reset();
  if (!keep) {
    for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace glimmer::db::sqlite

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100'000;
  return glimmer::db::sqlite::Run(n, argc > 2 ? argv[2] : "");
}
