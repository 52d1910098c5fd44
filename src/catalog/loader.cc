#include "catalog/loader.h"

#include <map>
#include <memory>
#include <set>

#include "identity/identity_service.h"
#include "images/image_data.h"
#include "images/image_records.h"
#include "platform/file.h"

namespace glimmer::catalog {
namespace {

using domain::PatchStep;

constexpr int kListPageSize = 1000;

std::string DescribeOps(const std::vector<PatchStep>& ops) {
  std::string out;
  for (const auto& op : ops) {
    if (!out.empty()) out += ", ";
    out += op.op == PatchStep::Op::kAdd ? "+" : op.op == PatchStep::Op::kRemove ? "-" : "";
    out += op.path;
  }
  return out;
}

PatchStep SetHidden(bool hidden) { return domain::ReplaceStep("os_hidden", {.os_hidden = hidden}); }

PatchStep SetName(const std::string& name) { return domain::ReplaceStep("name", {.name = name}); }

}  // namespace

std::string_view ToString(EntryResult::Kind kind) {
  switch (kind) {
    case EntryResult::Kind::kCreated:
      return "created";
    case EntryResult::Kind::kUpdated:
      return "updated";
    case EntryResult::Kind::kUnchanged:
      return "unchanged";
    case EntryResult::Kind::kReplaced:
      return "replaced";
    case EntryResult::Kind::kFailed:
      return "failed";
  }
  return "?";
}

bool LoadReport::ok() const {
  for (const auto& e : entries) {
    if (e.kind == EntryResult::Kind::kFailed) return false;
  }
  return true;
}

domain::RequestContext ProviderContext(const std::string& project_id,
                                       const std::string& project_name) {
  domain::RequestContext ctx;
  ctx.user_name = "glimmer-catalog";
  ctx.project_id = project_id;
  ctx.project_name = project_name;
  ctx.roles = {"admin", "member", "reader"};
  ctx.request_id = "req-catalog-load";
  ctx.authenticated = true;
  return ctx;
}

CatalogLoader::CatalogLoader(identity::IdentityService& identity, images::ImageRecords& records,
                             images::ImageData& data, SourceFetcher& fetcher)
    : identity_(identity), records_(records), data_(data), fetcher_(fetcher) {}

StatusOr<std::vector<domain::Image>> CatalogLoader::ListProviderImages(
    const domain::RequestContext& ctx, const std::string& provider_id) {
  std::vector<domain::Image> all;
  domain::ListQuery q;
  q.scope.visibility_all = true;
  q.filters.push_back({domain::ImageColumn::kOwner, domain::FilterOp::kEq, {provider_id}});
  q.os_hidden = false;
  q.sort = {{domain::ImageColumn::kCreatedAt, false}, {domain::ImageColumn::kId, false}};
  q.limit = kListPageSize;
  for (;;) {
    ASSIGN_OR_RETURN(auto page, records_.List(ctx, q));
    bool more = static_cast<int>(page.size()) == kListPageSize;
    for (auto& image : page) all.push_back(std::move(image));
    if (!more) break;
    q.marker = all.back().id;
  }
  return all;
}

StatusOr<LoadReport> CatalogLoader::Load(const Catalog& catalog, const LoadOptions& options,
                                         const std::function<void(const EntryResult&)>& on_entry) {
  LoadReport report;
  identity::ListFilter filter;
  filter.name = options.provider_project_name;
  filter.domain_id = std::string(identity::kDefaultDomainId);
  ASSIGN_OR_RETURN(auto projects, identity_.ListProjects(filter));
  if (!projects.empty()) {
    report.provider_project_id = projects.front().id;
  } else if (!options.dry_run) {
    domain::Project p;
    p.name = options.provider_project_name;
    p.description = "Images published to every project by the provider catalog "
                    "(glimmer catalog load)";
    ASSIGN_OR_RETURN(auto created, identity_.CreateProject(p));
    report.provider_project_id = created.id;
    report.created_provider_project = true;
  }
  const domain::RequestContext ctx =
      ProviderContext(report.provider_project_id, options.provider_project_name);

  std::vector<domain::Image> existing;
  if (!report.provider_project_id.empty()) {
    ASSIGN_OR_RETURN(existing, ListProviderImages(ctx, report.provider_project_id));
  }
  std::map<std::string, std::vector<const domain::Image*>> by_name;
  for (const auto& image : existing) {
    if (image.name) by_name[*image.name].push_back(&image);
  }
  std::set<std::string> names;
  for (const auto& entry : catalog.entries) {
    names.insert(entry.name);
    auto it = by_name.find(entry.name);
    EntryResult result =
        LoadEntry(ctx, entry, it == by_name.end() ? std::vector<const domain::Image*>{} : it->second,
                  options.dry_run);
    if (on_entry) on_entry(result);
    report.entries.push_back(std::move(result));
  }
  for (const auto& image : existing) {
    if (!image.name || !names.count(*image.name)) report.not_in_catalog.push_back(image);
  }
  return report;
}

EntryResult CatalogLoader::LoadEntry(const domain::RequestContext& ctx, const Entry& entry,
                                     const std::vector<const domain::Image*>& current,
                                     bool dry_run) {
  EntryResult r;
  r.name = entry.name;
  auto failed = [&r](const std::string& what) {
    r.kind = EntryResult::Kind::kFailed;
    r.detail = what;
    return r;
  };
  if (current.size() > 1) {
    std::string ids;
    for (const auto* image : current) ids += (ids.empty() ? "" : ", ") + image->id;
    return failed(std::to_string(current.size()) + " visible images of the provider are named '" +
                  entry.name + "' (" + ids + "); hide or delete all but one");
  }
  const domain::Image* old = current.empty() ? nullptr : current.front();
  auto fetched = fetcher_.Fetch(entry.source);
  if (!fetched.ok()) return failed(fetched.status().message());
  EntryPlan plan = PlanEntry(entry, old, fetched->sha512());
  if (old) r.image_id = old->id;

  switch (plan.kind) {
    case EntryPlan::Kind::kUnchanged:
      r.kind = EntryResult::Kind::kUnchanged;
      return r;
    case EntryPlan::Kind::kUpdate: {
      r.kind = EntryResult::Kind::kUpdated;
      r.detail = DescribeOps(plan.ops);
      if (dry_run) return r;
      auto updated = records_.Update(ctx, old->id, plan.ops, /*legacy_add=*/false);
      if (!updated.ok()) return failed("cannot update image " + old->id + ": " +
                                       updated.status().message());
      return r;
    }
    case EntryPlan::Kind::kCreate: {
      r.kind = EntryResult::Kind::kCreated;
      if (dry_run) return r;
      auto created = CreateAndUpload(ctx, entry, *fetched, /*hidden=*/false);
      if (!created.ok()) return failed(created.status().message());
      r.image_id = created->id;
      return r;
    }
    case EntryPlan::Kind::kReplace:
      break;
  }

  r.kind = EntryResult::Kind::kReplaced;
  r.old_image_id = old->id;
  r.image_id.clear();
  if (plan.discard_current) {
    r.detail = plan.reason + "; it was deleted";
    if (dry_run) return r;
    Status st = records_.Delete(ctx, old->id);
    if (!st.ok()) return failed("cannot delete incomplete image " + old->id + ": " + st.message());
    auto created = CreateAndUpload(ctx, entry, *fetched, /*hidden=*/false);
    if (!created.ok()) return failed(created.status().message());
    r.image_id = created->id;
    return r;
  }
  std::string retired_name = RetiredName(entry.name, old->created_at);
  r.detail = plan.reason + "; the old image is now '" + retired_name + "' (os_hidden)";
  if (dry_run) return r;

  // The new image is uploaded hidden, then the old one is retired, then the new one shown: a
  // failure at any step leaves the old image as it was.
  auto created = CreateAndUpload(ctx, entry, *fetched, /*hidden=*/true);
  if (!created.ok()) return failed(created.status().message());
  const std::string new_id = created->id;
  auto discard_new = [&] { (void)records_.Delete(ctx, new_id); };
  auto retired = records_.Update(ctx, old->id, RetireOps(*old), /*legacy_add=*/false);
  if (!retired.ok()) {
    discard_new();
    return failed("cannot retire image " + old->id + ": " + retired.status().message());
  }
  auto shown = records_.Update(ctx, new_id, {SetHidden(false)}, /*legacy_add=*/false);
  if (!shown.ok()) {
    (void)records_.Update(ctx, old->id, {SetName(entry.name), SetHidden(false)}, false);
    discard_new();
    return failed("cannot publish image " + new_id + ": " + shown.status().message());
  }
  r.image_id = new_id;
  return r;
}

StatusOr<domain::Image> CatalogLoader::CreateAndUpload(const domain::RequestContext& ctx,
                                                       const Entry& entry,
                                                       const FetchedSource& bytes, bool hidden) {
  auto fields = CreateFields(entry);
  if (hidden) fields.os_hidden = true;
  auto created = records_.Create(ctx, fields);
  if (!created.ok()) return InvalidArgumentError("cannot create image: " + created.status().message());
  const std::string id = created->id;
  auto fail = [&](const std::string& what) -> Status {
    Status st = records_.Delete(ctx, id);
    std::string cleanup = st.ok() ? "" : " (and deleting the partial image " + id + " failed: " +
                                             st.message() + ")";
    return UnavailableError(what + cleanup);
  };

  // Messages name the operator's file: they go to `glimmer catalog load`'s output only.
  auto in = platform::FileSystem::Default().NewSequentialFile(bytes.path());
  if (!in.ok()) return fail("cannot open " + bytes.path() + ": " + in.status().message());
  images::ReadFn read = [&](std::span<std::byte> buf) -> StatusOr<size_t> {
    StatusOr<size_t> n = (*in)->Read(buf);
    if (!n.ok()) return platform::Annotate("error reading " + bytes.path(), n.status());
    return n;
  };
  Status up = data_.Upload(ctx, id, read, bytes.size());
  if (!up.ok()) return fail("cannot upload image " + id + ": " + up.message());
  auto stored = records_.Get(ctx, id);
  if (!stored.ok()) return fail("cannot read back image " + id + ": " + stored.status().message());
  if (stored->os_hash_value.value_or("") != bytes.sha512()) {
    return fail("the source changed while it was being loaded (sha512 differs); try again");
  }
  return std::move(stored).value();
}

}  // namespace glimmer::catalog
