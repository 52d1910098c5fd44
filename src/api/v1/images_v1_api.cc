#include "api/v1/images_v1_api.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <spdlog/spdlog.h>

#include "api/errors.h"
#include "api/responses.h"
#include "api/v1/v1_headers.h"
#include "api/v1/v1_list.h"
#include "domain/image_attributes.h"

namespace glimmer::api::v1 {
namespace {

using json = nlohmann::ordered_json;
using domain::ImageChanges;
using domain::ImageStatus;
using domain::PatchStep;
using domain::Visibility;

// v1 had no 415: a format refused by the inspection is a 400 there.
http::Response V1Error(const Status& st, const http::Request& req) {
  if (st.code() == StatusCode::kUnsupportedMedia) {
    return ErrorResponse(400, st.message(), req);
  }
  if (st.code() == StatusCode::kInternal || st.code() == StatusCode::kDataLoss) {
    spdlog::error("{} {}: {}", req.method, req.path, st.ToString());
  }
  return ErrorFromStatus(st, req);
}

std::string MediaType(const http::Request& req) {
  std::string ct(req.headers.Get("Content-Type").value_or(""));
  auto semi = ct.find(';');
  if (semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  for (auto& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ct;
}

bool HasBody(const http::Request& req) { return req.body && req.body->MayHaveBody(); }

// §2.6 of the design, not built yet: refused plainly rather than ignored.
std::optional<http::Response> RefuseExternalSource(const V1Meta& meta, const http::Request& req) {
  if (meta.location) {
    return ErrorResponse(400, "x-image-meta-location (an image whose data stays at a URL) is "
                              "not supported by Glimmer's Images API v1 yet; upload the data "
                              "instead", req);
  }
  if (meta.copy_from) {
    return ErrorResponse(400, "x-glance-api-copy-from is not supported by Glimmer's Images "
                              "API v1 yet; use the v2 web-download import instead", req);
  }
  return std::nullopt;
}

// The size the body must have: x-image-meta-size, else a (non-chunked) Content-Length.
std::optional<int64_t> SizeClaim(const V1Meta& meta, const http::Request& req) {
  if (meta.size) return meta.size;
  if (auto cl = req.body->content_length(); cl && !req.body->chunked()) {
    return static_cast<int64_t>(*cl);
  }
  return std::nullopt;
}

void SetEtag(const domain::Image& image, http::Response& r) {
  if (image.checksum) r.headers.Set("ETag", *image.checksum);
}

http::Response ImageBody(int status, const domain::Image& image) {
  http::Response r = JsonResponse(status, json{{"image", ImageToV1Json(image)}});
  SetEtag(image, r);
  return r;
}

// Streams a store reader's bytes in order.
class ReaderSource final : public http::BodySource {
 public:
  ReaderSource(std::unique_ptr<store::Reader> reader, int64_t length)
      : reader_(std::move(reader)), length_(length) {}
  std::optional<FileRange> file() const override {
    if (auto fd = reader_->file_descriptor()) return FileRange{*fd, 0, length_};
    return std::nullopt;
  }
  StatusOr<size_t> Read(std::span<std::byte> out) override {
    if (offset_ >= length_) return size_t{0};
    size_t want = static_cast<size_t>(std::min<int64_t>(out.size(), length_ - offset_));
    ASSIGN_OR_RETURN(size_t n, reader_->ReadAt(offset_, out.first(want)));
    if (n == 0) return DataLossError("image data is shorter than its recorded size");
    offset_ += static_cast<int64_t>(n);
    return n;
  }

 private:
  std::unique_ptr<store::Reader> reader_;
  int64_t length_;
  int64_t offset_ = 0;
};

ImageChanges Only(auto setter) {
  ImageChanges c;
  setter(c);
  return c;
}

}  // namespace

ImagesV1Api::ImagesV1Api(images::ImageComponents services, ImagesV1ApiOptions options)
    : services_(services), options_(std::move(options)) {}

http::Response ImagesV1Api::Handle(http::Request& req, const domain::RequestContext& ctx,
                                   const std::vector<std::string>& s) {
  const std::string& m = req.method;
  if (s.empty()) return ErrorResponse(404, "", req);
  if (s[0] == "images") {
    if (s.size() == 1) {
      if (m == "GET") return List(req, ctx, /*detail=*/false);
      if (m == "POST") return Create(req, ctx);
      return MethodNotAllowedResponse("GET, POST", req);
    }
    if (s.size() == 2 && s[1] == "detail") {
      if (m == "GET") return List(req, ctx, /*detail=*/true);
      return MethodNotAllowedResponse("GET", req);
    }
    const std::string& id = s[1];
    if (s.size() == 2) {
      if (m == "HEAD") return Meta(req, ctx, id);
      if (m == "GET") return Show(req, ctx, id);
      if (m == "PUT") return Update(req, ctx, id);
      if (m == "DELETE") return Delete(req, ctx, id);
      return MethodNotAllowedResponse("GET, HEAD, PUT, DELETE", req);
    }
    if (s[2] == "members" && s.size() <= 4) return Members(req, ctx, s);
    return ErrorResponse(404, "", req);
  }
  if (s[0] == "shared-images" && s.size() == 2) {
    if (m == "GET") return SharedImages(req, ctx, s[1]);
    return MethodNotAllowedResponse("GET", req);
  }
  return ErrorResponse(404, "", req);
}

http::Response ImagesV1Api::List(http::Request& req, const domain::RequestContext& ctx,
                                 bool detail) {
  auto query = ParseV1ListQuery(req.query, options_.limits, ctx.IsAdmin());
  if (!query.ok()) return V1Error(query.status(), req);
  const bool has_marker = query->marker.has_value();
  auto rows = services_.records.List(ctx, std::move(*query));
  if (!rows.ok()) {
    // The registry's answer for an unknown or invisible marker.
    const Status& st = rows.status();
    if (has_marker && (st.code() == StatusCode::kInvalidArgument ||
                       (st.code() == StatusCode::kPermissionDenied &&
                        st.message().starts_with("The marker image")))) {
      return ErrorResponse(400, "Invalid marker. Image could not be found.", req);
    }
    return V1Error(st, req);
  }
  json list = json::array();
  for (const auto& image : *rows) {
    list.push_back(detail ? ImageToV1Json(image) : ImageToV1BriefJson(image));
  }
  return JsonResponse(200, json{{"images", std::move(list)}});
}

http::Response ImagesV1Api::Create(http::Request& req, const domain::RequestContext& ctx) {
  auto meta = ParseV1Headers(req.headers, {options_.disk_formats, options_.container_formats});
  if (!meta.ok()) return V1Error(meta.status(), req);
  if (auto refused = RefuseExternalSource(*meta, req)) return std::move(*refused);
  const bool has_data = HasBody(req);
  if (has_data && MediaType(req) != "application/octet-stream") {
    return ErrorResponse(400, "Content-Type must be application/octet-stream", req);
  }
  if (meta->store && !services_.data.stores().ById(*meta->store)) {
    return ErrorResponse(400, "Store for identifier " + *meta->store + " not found", req);
  }
  ImageChanges changes = meta->changes;
  // v1's is_public=False is Glance's 'shared' (the default), so that members can be added.
  if (meta->is_public.value_or(false)) changes.visibility = Visibility::kPublic;
  auto created = services_.records.Create(ctx, changes);
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kAlreadyExists) {
      return ErrorResponse(409, "An image with identifier " + *meta->id + " already exists",
                           req);
    }
    return V1Error(created.status(), req);
  }
  const std::string id = created->id;
  if (has_data) {
    http::BodyReader& body = *req.body;
    Status st = services_.data.Upload(
        ctx, id, [&body](std::span<std::byte> out) { return body.Read(out); },
        SizeClaim(*meta, req), meta->store.value_or(""), meta->checksum);
    if (!st.ok()) return V1Error(st, req);
    auto image = services_.records.Get(ctx, id);
    if (!image.ok()) return V1Error(image.status(), req);
    created = std::move(*image);
  }
  http::Response r = ImageBody(201, *created);
  std::string base = req.BaseUrl();
  r.headers.Set("Location", base + "/v1/images/" + id);
  return r;
}

http::Response ImagesV1Api::Meta(http::Request& req, const domain::RequestContext& ctx,
                                 const std::string& id) {
  auto image = services_.records.Get(ctx, id);
  if (!image.ok()) return V1Error(image.status(), req);
  http::Response r = EmptyResponse(200);
  WriteV1Headers(*image, r.headers);
  SetEtag(*image, r);
  return r;
}

http::Response ImagesV1Api::Show(http::Request& req, const domain::RequestContext& ctx,
                                 const std::string& id) {
  auto dl = services_.data.OpenDownload(ctx, id);
  if (!dl.ok()) return V1Error(dl.status(), req);
  if (dl->image.status == ImageStatus::kDeactivated) {
    return ErrorResponse(403, "The requested image has been deactivated. Image data download "
                              "is forbidden.", req);
  }
  if (!dl->reader) return ErrorResponse(404, "Image " + id + " is not active", req);
  http::Response r = EmptyResponse(200);
  WriteV1Headers(dl->image, r.headers);
  SetEtag(dl->image, r);
  r.headers.Set("Content-Type", "application/octet-stream");
  const int64_t size = dl->reader->size();
  r.stream = std::make_unique<ReaderSource>(std::move(dl->reader), size);
  r.stream_length = size;
  return r;
}

http::Response ImagesV1Api::Update(http::Request& req, const domain::RequestContext& ctx,
                                   const std::string& id) {
  auto meta = ParseV1Headers(req.headers, {options_.disk_formats, options_.container_formats});
  if (!meta.ok()) return V1Error(meta.status(), req);
  if (auto refused = RefuseExternalSource(*meta, req)) return std::move(*refused);
  auto loaded = services_.records.Get(ctx, id);
  if (!loaded.ok()) return V1Error(loaded.status(), req);
  const domain::Image& image = *loaded;
  // Glance v1's IMMUTABLE and ACTIVE_IMMUTABLE: repeating the current value is allowed.
  if (meta->id && *meta->id != image.id) {
    return ErrorResponse(403, "Forbidden to modify 'id' of image.", req);
  }
  if (meta->status && *meta->status != domain::ToString(image.status)) {
    return ErrorResponse(403, "Forbidden to modify 'status' of image.", req);
  }
  const bool has_data = HasBody(req);
  if (!ctx.IsAdmin() &&
      (image.status == ImageStatus::kActive || image.status == ImageStatus::kDeactivated)) {
    const std::string st(domain::ToString(image.status));
    if (meta->size && meta->size != image.size) {
      return ErrorResponse(403, "Forbidden to modify 'size' of " + st + " image.", req);
    }
    if (meta->checksum && meta->checksum != image.checksum) {
      return ErrorResponse(403, "Forbidden to modify 'checksum' of " + st + " image.", req);
    }
  }
  if (has_data && image.status != ImageStatus::kQueued) {
    return ErrorResponse(409, "Cannot upload to an unqueued image", req);
  }
  if (has_data && MediaType(req) != "application/octet-stream") {
    return ErrorResponse(400, "Content-Type must be application/octet-stream", req);
  }
  if (has_data && meta->store && !services_.data.stores().ById(*meta->store)) {
    return ErrorResponse(400, "Store for identifier " + *meta->store + " not found", req);
  }
  // Custom properties not sent are removed unless x-glance-registry-purge-props is false
  // (and never while data is uploaded, as Glance v1).
  bool purge = true;
  if (auto h = req.headers.Get("x-glance-registry-purge-props")) purge = BoolFromString(*h);
  purge = purge && !has_data;

  const ImageChanges& c = meta->changes;
  std::vector<PatchStep> steps;
  if (c.name) steps.push_back(domain::ReplaceStep("name", Only([&](auto& x) { x.name = c.name; })));
  if (c.owner) {
    steps.push_back(domain::ReplaceStep("owner", Only([&](auto& x) { x.owner = c.owner; })));
  }
  if (c.disk_format) {
    steps.push_back(domain::ReplaceStep(
        "disk_format", Only([&](auto& x) { x.disk_format = c.disk_format; })));
  }
  if (c.container_format) {
    steps.push_back(domain::ReplaceStep(
        "container_format", Only([&](auto& x) { x.container_format = c.container_format; })));
  }
  if (c.is_protected) {
    steps.push_back(domain::ReplaceStep(
        "protected", Only([&](auto& x) { x.is_protected = c.is_protected; })));
  }
  if (c.min_ram) {
    steps.push_back(domain::ReplaceStep("min_ram", Only([&](auto& x) { x.min_ram = c.min_ram; })));
  }
  if (c.min_disk) {
    steps.push_back(
        domain::ReplaceStep("min_disk", Only([&](auto& x) { x.min_disk = c.min_disk; })));
  }
  if (meta->is_public) {
    std::optional<Visibility> v;
    if (*meta->is_public) {
      if (image.visibility != Visibility::kPublic) v = Visibility::kPublic;
    } else if (image.visibility == Visibility::kPublic ||
               image.visibility == Visibility::kCommunity) {
      v = Visibility::kShared;  // Glance: is_public=False is 'shared'
    }
    if (v) steps.push_back(domain::ReplaceStep("visibility", Only([&](auto& x) { x.visibility = v; })));
  }
  for (const auto& [k, v] : c.properties) {
    steps.push_back(domain::SetPropertyStep(PatchStep::Op::kAdd, k, v));
  }
  if (purge) {
    for (const auto& [k, v] : image.properties) {
      if (domain::IsCustomProperty(k) && !meta->property_keys.contains(k)) {
        steps.push_back(domain::RemoveStep(k));
      }
    }
  }
  domain::Image updated = image;
  if (!steps.empty()) {
    auto result = services_.records.Update(ctx, id, steps, /*legacy_add=*/false);
    if (!result.ok()) return V1Error(result.status(), req);
    updated = std::move(*result);
  }
  if (has_data) {
    http::BodyReader& body = *req.body;
    Status st = services_.data.Upload(
        ctx, id, [&body](std::span<std::byte> out) { return body.Read(out); },
        SizeClaim(*meta, req), meta->store.value_or(""), meta->checksum);
    if (!st.ok()) return V1Error(st, req);
    auto again = services_.records.Get(ctx, id);
    if (!again.ok()) return V1Error(again.status(), req);
    updated = std::move(*again);
  }
  return ImageBody(200, updated);
}

http::Response ImagesV1Api::Delete(http::Request& req, const domain::RequestContext& ctx,
                                   const std::string& id) {
  Status st = services_.records.Delete(ctx, id);
  if (!st.ok()) return V1Error(st, req);
  return EmptyResponse(200);
}

http::Response ImagesV1Api::Members(http::Request& req, const domain::RequestContext& ctx,
                                    const std::vector<std::string>& s) {
  const std::string& id = s[1];
  const std::string& m = req.method;
  // An optional JSON object body (PUT): null when there is none.
  auto read_body = [&]() -> StatusOr<json> {
    if (!HasBody(req)) return json(nullptr);
    ASSIGN_OR_RETURN(std::string raw, http::ReadAll(*req.body, options_.max_json_body_bytes));
    if (raw.empty()) return json(nullptr);
    json body = json::parse(raw, nullptr, false);
    if (body.is_discarded()) return InvalidArgumentError("Malformed JSON in request body.");
    if (!body.is_object()) return InvalidArgumentError("Body expected to be a JSON object.");
    return body;
  };
  // v1 had no visibility: a private image gets members by becoming shared (the guides'
  // `member-create` on an image created with --is-public=False or made private in v2).
  auto make_shared = [&]() -> Status {
    ASSIGN_OR_RETURN(domain::Image image, services_.records.Get(ctx, id));
    if (image.visibility != Visibility::kPrivate) return OkStatus();
    std::vector<PatchStep> steps = {domain::ReplaceStep(
        "visibility", Only([](auto& x) { x.visibility = Visibility::kShared; }))};
    return services_.records.Update(ctx, id, steps, /*legacy_add=*/false).status();
  };
  auto member_json = [](const std::string& member_id) {
    // can_share is not kept (v2 has no such thing): always false.
    return json{{"member_id", member_id}, {"can_share", false}};
  };

  if (s.size() == 3) {
    if (m == "GET") {
      auto image = services_.records.Get(ctx, id);
      if (!image.ok()) return V1Error(image.status(), req);
      json list = json::array();
      if (image->visibility == Visibility::kShared) {
        auto members = services_.sharing.ListMembers(ctx, id);
        if (!members.ok()) return V1Error(members.status(), req);
        for (const auto& member : *members) list.push_back(member_json(member.member_id));
      }
      return JsonResponse(200, json{{"members", std::move(list)}});
    }
    if (m == "PUT") {
      auto body = read_body();
      if (!body.ok()) return V1Error(body.status(), req);
      auto it = body->is_object() ? body->find("memberships") : body->end();
      if (!body->is_object() || it == body->end() || !it->is_array()) {
        return ErrorResponse(400, "Invalid membership association: the body must be "
                                  "{\"memberships\": [{\"member_id\": ...}, ...]}", req);
      }
      std::vector<std::string> wanted;
      for (const auto& e : *it) {
        auto mid = e.is_object() ? e.find("member_id") : e.end();
        if (!e.is_object() || mid == e.end() || !mid->is_string() ||
            mid->get<std::string>().empty()) {
          return ErrorResponse(400, "Invalid membership association: " +
                                        e.dump(-1, ' ', false, json::error_handler_t::replace),
                               req);
        }
        wanted.push_back(mid->get<std::string>());
      }
      if (!wanted.empty()) {
        Status st = make_shared();
        if (!st.ok()) return V1Error(st, req);
      }
      auto image = services_.records.Get(ctx, id);
      if (!image.ok()) return V1Error(image.status(), req);
      std::vector<domain::Member> current;
      if (image->visibility == Visibility::kShared) {
        auto members = services_.sharing.ListMembers(ctx, id);
        if (!members.ok()) return V1Error(members.status(), req);
        current = std::move(*members);
      }
      for (const auto& member : current) {
        if (std::find(wanted.begin(), wanted.end(), member.member_id) != wanted.end()) continue;
        Status st = services_.sharing.RemoveMember(ctx, id, member.member_id);
        if (!st.ok()) return V1Error(st, req);
      }
      std::set<std::string> added;
      for (const auto& w : wanted) {
        const bool present = std::any_of(current.begin(), current.end(),
                                         [&](const auto& x) { return x.member_id == w; });
        if (present || !added.insert(w).second) continue;
        auto member = services_.sharing.AddAcceptedMember(ctx, id, w);
        if (!member.ok()) return V1Error(member.status(), req);
      }
      return EmptyResponse(204);
    }
    return MethodNotAllowedResponse("GET, PUT", req);
  }
  const std::string& member_id = s[3];
  if (m == "GET") {
    auto member = services_.sharing.GetMember(ctx, id, member_id);
    if (!member.ok()) return V1Error(member.status(), req);
    return JsonResponse(200, json{{"member", member_json(member->member_id)}});
  }
  if (m == "PUT") {
    auto body = read_body();
    if (!body.ok()) return V1Error(body.status(), req);
    if (body->is_object()) {
      auto it = body->find("member");
      if (it == body->end() || !it->is_object()) {
        return ErrorResponse(400, "Invalid membership association: the body must be "
                                  "{\"member\": {\"can_share\": true|false}}", req);
      }
    }
    Status st = make_shared();
    if (!st.ok()) return V1Error(st, req);
    auto member = services_.sharing.AddAcceptedMember(ctx, id, member_id);
    // Already a member: nothing to change (can_share is not kept).
    if (!member.ok() && member.status().code() != StatusCode::kAlreadyExists) {
      return V1Error(member.status(), req);
    }
    return EmptyResponse(204);
  }
  if (m == "DELETE") {
    Status st = services_.sharing.RemoveMember(ctx, id, member_id);
    return st.ok() ? EmptyResponse(204) : V1Error(st, req);
  }
  return MethodNotAllowedResponse("GET, PUT, DELETE", req);
}

http::Response ImagesV1Api::SharedImages(http::Request& req, const domain::RequestContext& ctx,
                                         const std::string& tenant) {
  json list = json::array();
  domain::ListQuery q;
  q.scope.member_status = std::nullopt;
  q.scope.member_of = tenant;
  q.limit = options_.limits.api_limit_max;
  q.sort = {{domain::ImageColumn::kCreatedAt, false}, {domain::ImageColumn::kId, false}};
  for (;;) {
    auto rows = services_.records.List(ctx, q);
    if (!rows.ok()) return V1Error(rows.status(), req);
    for (const auto& image : *rows) {
      list.push_back(json{{"image_id", image.id}, {"can_share", false}});
    }
    if (static_cast<int>(rows->size()) < q.limit || rows->empty()) break;
    q.marker = rows->back().id;
  }
  return JsonResponse(200, json{{"shared_images", std::move(list)}});
}

}  // namespace glimmer::api::v1
