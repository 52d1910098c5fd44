#include "api/images/images_api.h"

#include "api/images/image_request.h"
#include "api/images/task_json.h"

#include <cctype>
#include <charconv>
#include <variant>

#include <spdlog/spdlog.h>

#include "api/errors.h"
#include "api/responses.h"

namespace glimmer::api::images {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kPatchV21 = "application/openstack-images-v2.1-json-patch";
constexpr std::string_view kPatchV20 = "application/openstack-images-v2.0-json-patch";

// The media type without parameters, lower-cased.
std::string MediaType(const http::Request& req) {
  std::string ct(req.headers.Get("Content-Type").value_or(""));
  auto semi = ct.find(';');
  if (semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  for (auto& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ct;
}

bool ParseInt64(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

// A Range request resolved against the data size.
struct ByteRange {
  int64_t start = 0;
  int64_t end = 0;  // inclusive
};

// Parses "bytes=a-b" / "bytes=a-" / "bytes=-n" (single range). nullopt + OK = no range;
// InvalidArgument for several ranges; OutOfRange when unsatisfiable or malformed.
StatusOr<std::optional<ByteRange>> ParseRange(const http::Request& req, int64_t size) {
  auto header = req.headers.Get("Range");
  std::string spec;
  if (header) {
    spec = std::string(*header);
  } else if (auto cr = req.headers.Get("Content-Range")) {
    // Legacy: "bytes a-b/total" as a request header.
    std::string v(*cr);
    auto slash = v.find('/');
    spec = v.substr(0, slash);
    if (spec.rfind("bytes ", 0) == 0) spec = "bytes=" + spec.substr(6);
  } else {
    return std::optional<ByteRange>();
  }
  if (spec.rfind("bytes=", 0) != 0) return OutOfRangeError("Invalid Range header");
  std::string set = spec.substr(6);
  if (set.find(',') != std::string::npos) {
    return InvalidArgumentError("Multiple ranges are not supported");
  }
  auto dash = set.find('-');
  if (dash == std::string::npos) return OutOfRangeError("Invalid Range header");
  std::string a = set.substr(0, dash), b = set.substr(dash + 1);
  ByteRange r;
  int64_t x, y;
  if (a.empty()) {
    if (!ParseInt64(b, y) || y == 0) return OutOfRangeError("Invalid Range header");
    r.start = std::max<int64_t>(0, size - y);
    r.end = size - 1;
  } else {
    if (!ParseInt64(a, x)) return OutOfRangeError("Invalid Range header");
    r.start = x;
    if (b.empty()) {
      r.end = size - 1;
    } else {
      if (!ParseInt64(b, y) || y < x) return OutOfRangeError("Invalid Range header");
      r.end = std::min(y, size - 1);
    }
  }
  if (r.start >= size || size == 0) return OutOfRangeError("Requested range not satisfiable");
  return std::optional<ByteRange>(r);
}

// Streams [offset, offset+length) of a store reader; exposes the fd for sendfile when the
// store has one.
class ReaderSource final : public http::BodySource {
 public:
  ReaderSource(std::unique_ptr<store::Reader> reader, int64_t offset, int64_t length)
      : reader_(std::move(reader)), offset_(offset), end_(offset + length) {}
  std::optional<FileRange> file() const override {
    if (auto fd = reader_->file_descriptor()) return FileRange{*fd, offset_, end_ - offset_};
    return std::nullopt;
  }
  StatusOr<size_t> Read(std::span<std::byte> out) override {
    if (offset_ >= end_) return size_t{0};
    size_t want = static_cast<size_t>(std::min<int64_t>(out.size(), end_ - offset_));
    ASSIGN_OR_RETURN(size_t n, reader_->ReadAt(offset_, out.first(want)));
    if (n == 0) return DataLossError("image data is shorter than its recorded size");
    offset_ += static_cast<int64_t>(n);
    return n;
  }

 private:
  std::unique_ptr<store::Reader> reader_;
  int64_t offset_;
  int64_t end_;
};

bool RejectBody(const http::Request& req) { return req.body && req.body->MayHaveBody(); }

}  // namespace

ImagesApi::ImagesApi(ImageComponents services, ImagesApiOptions options)
    : services_(services), options_(std::move(options)) {}

http::Response ImagesApi::Handle(http::Request& req, const domain::RequestContext& ctx,
                                 const std::vector<std::string>& s) {
  const std::string& m = req.method;
  if (s.empty()) return ErrorResponse(404, "", req);
  if (s[0] == "images") {
    if (s.size() == 1) {
      if (m == "GET") return List(req, ctx);
      if (m == "POST") return Create(req, ctx);
      return MethodNotAllowedResponse("GET, POST", req);
    }
    const std::string& id = s[1];
    if (s.size() == 2) {
      if (m == "GET") return Show(req, ctx, id);
      if (m == "PATCH") return Patch(req, ctx, id);
      if (m == "DELETE") return Delete(req, ctx, id);
      return MethodNotAllowedResponse("GET, PATCH, DELETE", req);
    }
    if (s.size() == 3 && s[2] == "file") {
      if (m == "GET") return Download(req, ctx, id);
      if (m == "PUT") return Upload(req, ctx, id);
      return MethodNotAllowedResponse("GET, PUT", req);
    }
    if (s.size() == 3 && s[2] == "stage") {
      if (m == "PUT") return Stage(req, ctx, id);
      if (m == "HEAD") return StageOffset(req, ctx, id);
      return MethodNotAllowedResponse("PUT", req);
    }
    if (s.size() == 3 && s[2] == "import") {
      if (m == "POST") return Import(req, ctx, id);
      return MethodNotAllowedResponse("POST", req);
    }
    if (s.size() == 3 && s[2] == "tasks") {
      if (m != "GET") return MethodNotAllowedResponse("GET", req);
      auto tasks = services_.imports.ImageTasks(ctx, id);
      if (!tasks.ok()) return ErrorFromStatus(tasks.status(), req);
      json list = json::array();
      for (const auto& t : *tasks) list.push_back(TaskToJson(t));
      return JsonResponse(200, json{{"tasks", std::move(list)}});
    }
    if (s[2] == "members" && s.size() <= 4) return Members(req, ctx, s);
    if (s.size() == 4 && s[2] == "tags") {
      if (m != "PUT" && m != "DELETE") return MethodNotAllowedResponse("PUT, DELETE", req);
      Status st = m == "PUT" ? services_.records.AddTag(ctx, id, s[3]) : services_.records.RemoveTag(ctx, id, s[3]);
      return st.ok() ? EmptyResponse(204) : ErrorFromStatus(st, req);
    }
    if (s.size() == 4 && s[2] == "actions" && (s[3] == "deactivate" || s[3] == "reactivate")) {
      if (m != "POST") return MethodNotAllowedResponse("POST", req);
      Status st = s[3] == "deactivate" ? services_.records.Deactivate(ctx, id)
                                       : services_.records.Reactivate(ctx, id);
      return st.ok() ? EmptyResponse(204) : ErrorFromStatus(st, req);
    }
    return ErrorResponse(404, "", req);
  }
  if (s[0] == "stores" && s.size() == 3) {
    if (m != "DELETE") return MethodNotAllowedResponse("DELETE", req);
    return DeleteFromStore(req, ctx, s[1], s[2]);
  }
  if (s[0] == "tasks") return Tasks(req, ctx, s);
  if (s[0] == "schemas") {
    if (m != "GET") return MethodNotAllowedResponse("GET", req);
    return Schema(req, s);
  }
  if (s[0] == "info") {
    if (m != "GET") return MethodNotAllowedResponse("GET", req);
    return Info(req, ctx, s);
  }
  return ErrorResponse(404, "", req);
}

http::Response ImagesApi::List(http::Request& req, const domain::RequestContext& ctx) {
  auto query = ParseListQuery(req.query, options_.limits);
  if (!query.ok()) return ErrorFromStatus(query.status(), req);
  int limit = query->limit;
  auto images = services_.records.List(ctx, std::move(*query));
  if (!images.ok()) return ErrorFromStatus(images.status(), req);
  json list = json::array();
  for (const auto& image : *images) list.push_back(ImageToJson(image, options_.render));
  json body;
  body["images"] = std::move(list);
  body["first"] = FirstLink(req.query);
  body["schema"] = "/v2/schemas/images";
  if (!images->empty() && static_cast<int>(images->size()) == limit) {
    body["next"] = NextLink(req.query, images->back().id);
  }
  return JsonResponse(200, body);
}

http::Response ImagesApi::Create(http::Request& req, const domain::RequestContext& ctx) {
  auto raw = http::ReadAll(*req.body, options_.max_json_body_bytes);
  if (!raw.ok()) return ErrorFromStatus(raw.status(), req);
  auto changes = ParseCreateBody(*raw, options_.schemas);
  if (!changes.ok()) return ErrorFromStatus(changes.status(), req);
  auto image = services_.records.Create(ctx, *changes);
  if (!image.ok()) return ErrorFromStatus(image.status(), req);
  http::Response r = JsonResponse(201, ImageToJson(*image, options_.render));
  r.headers.Set("Location", req.BaseUrl() + "/v2/images/" + image->id);
  if (auto methods = services_.imports.ImportMethods(); !methods.empty()) {
    std::string joined;
    for (const auto& m : methods) joined += (joined.empty() ? "" : ",") + m;
    r.headers.Set("OpenStack-image-import-methods", joined);
  }
  if (services_.data.stores().multistore) {
    std::string ids;
    for (const auto* st : services_.data.stores().stores) ids += (ids.empty() ? "" : ",") + st->info().id;
    r.headers.Set("OpenStack-image-store-ids", ids);
  }
  return r;
}

http::Response ImagesApi::Show(http::Request& req, const domain::RequestContext& ctx,
                               const std::string& id) {
  if (RejectBody(req)) return ErrorResponse(400, "A body is not expected with this request.", req);
  auto image = services_.records.Get(ctx, id);
  if (!image.ok()) return ErrorFromStatus(image.status(), req);
  return JsonResponse(200, ImageToJson(*image, options_.render));
}

http::Response ImagesApi::Patch(http::Request& req, const domain::RequestContext& ctx,
                                const std::string& id) {
  std::string type = MediaType(req);
  if (type != kPatchV21 && type != kPatchV20) {
    http::Response r = ErrorResponse(415, "", req);
    r.headers.Set("Accept-Patch", std::string(kPatchV20) + ", " + std::string(kPatchV21));
    return r;
  }
  auto raw = http::ReadAll(*req.body, options_.max_json_body_bytes);
  if (!raw.ok()) return ErrorFromStatus(raw.status(), req);
  bool legacy = type == kPatchV20;
  auto steps =
      ParsePatchBody(*raw, legacy, options_.render.show_multiple_locations, options_.schemas);
  if (!steps.ok()) return ErrorFromStatus(steps.status(), req);
  auto image = services_.records.Update(ctx, id, *steps, legacy);
  if (!image.ok()) return ErrorFromStatus(image.status(), req);
  return JsonResponse(200, ImageToJson(*image, options_.render));
}

http::Response ImagesApi::Delete(http::Request& req, const domain::RequestContext& ctx,
                                 const std::string& id) {
  if (RejectBody(req)) return ErrorResponse(400, "A body is not expected with this request.", req);
  Status st = services_.records.Delete(ctx, id);
  return st.ok() ? EmptyResponse(204) : ErrorFromStatus(st, req);
}

http::Response ImagesApi::Upload(http::Request& req, const domain::RequestContext& ctx,
                                 const std::string& id) {
  if (MediaType(req) != "application/octet-stream") {
    return ErrorResponse(415, "Content-Type must be application/octet-stream", req);
  }
  std::optional<int64_t> hint;
  if (auto h = req.headers.Get("x-openstack-image-size")) {
    int64_t v;
    if (!ParseInt64(*h, v)) {
      return ErrorResponse(400, "x-openstack-image-size must be a non-negative integer", req);
    }
    hint = v;
  } else if (auto cl = req.body->content_length(); cl && !req.body->chunked()) {
    hint = static_cast<int64_t>(*cl);
  }
  // X-Image-Meta-Store (several stores only, as Glance): checked before anything else.
  std::string store_id;
  if (services_.data.stores().multistore) {
    if (auto h = req.headers.Get("X-Image-Meta-Store")) {
      store_id = std::string(*h);
      if (!services_.data.stores().ById(store_id)) {
        return ErrorResponse(400, "Store for identifier " + store_id + " not found", req);
      }
    }
  }
  http::BodyReader& body = *req.body;
  Status st = services_.data.Upload(
      ctx, id, [&body](std::span<std::byte> out) { return body.Read(out); }, hint, store_id);
  if (!st.ok()) {
    if (st.code() == StatusCode::kCancelled || st.code() == StatusCode::kDeadlineExceeded) {
      // The client went away or was too slow: it may not read this answer, but log why.
      spdlog::warn("upload of image {} failed: {}", id, st.ToString());
    }
    return ErrorFromStatus(st, req);
  }
  return EmptyResponse(204);
}

http::Response ImagesApi::Download(http::Request& req, const domain::RequestContext& ctx,
                                   const std::string& id) {
  // ?prefer=store_a,store_b (Glance 2026.1): stores to read from first. The last `prefer` of
  // the query counts (webob); blank items are dropped, and nothing left means no preference.
  std::vector<std::string> prefer;
  for (const auto& [k, v] : req.query) {
    if (k != "prefer") continue;
    prefer.clear();
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      std::string item = v.substr(start, comma - start);
      while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) {
        item.erase(item.begin());
      }
      while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) {
        item.pop_back();
      }
      if (!item.empty()) prefer.push_back(std::move(item));
      start = comma + 1;
    }
  }
  auto dl = services_.data.OpenDownload(ctx, id, prefer);
  if (!dl.ok()) return ErrorFromStatus(dl.status(), req);
  if (!dl->reader) return EmptyResponse(204);
  int64_t size = dl->reader->size();
  auto range = ParseRange(req, size);
  if (!range.ok()) {
    http::Response r = ErrorFromStatus(range.status(), req);
    if (range.status().code() == StatusCode::kOutOfRange) {
      r.headers.Set("Content-Range", "bytes */" + std::to_string(size));
    }
    return r;
  }
  http::Response r;
  r.headers.Set("Content-Type", "application/octet-stream");
  int64_t offset = 0, length = size;
  if (*range) {
    offset = (*range)->start;
    length = (*range)->end - (*range)->start + 1;
    r.status = 206;
    r.headers.Set("Content-Range", "bytes " + std::to_string((*range)->start) + "-" +
                                       std::to_string((*range)->end) + "/" +
                                       std::to_string(size));
  } else {
    r.status = 200;
  }
  if (dl->image.checksum) r.headers.Set("Content-MD5", *dl->image.checksum);
  r.stream = std::make_unique<ReaderSource>(std::move(dl->reader), offset, length);
  r.stream_length = length;
  return r;
}

http::Response ImagesApi::Members(http::Request& req, const domain::RequestContext& ctx,
                                  const std::vector<std::string>& s) {
  const std::string& id = s[1];
  const std::string& m = req.method;
  auto read_object = [&]() -> StatusOr<json> {
    ASSIGN_OR_RETURN(std::string raw, http::ReadAll(*req.body, options_.max_json_body_bytes));
    json body = json::parse(raw, nullptr, false);
    if (body.is_discarded()) return InvalidArgumentError("Malformed JSON in request body.");
    if (!body.is_object()) return InvalidArgumentError("Body expected to be a JSON object.");
    return body;
  };
  if (s.size() == 3) {
    if (m == "GET") {
      auto members = services_.sharing.ListMembers(ctx, id);
      if (!members.ok()) return ErrorFromStatus(members.status(), req);
      json list = json::array();
      for (const auto& member : *members) list.push_back(MemberToJson(member));
      return JsonResponse(200, {{"members", list}, {"schema", "/v2/schemas/members"}});
    }
    if (m == "POST") {
      auto body = read_object();
      if (!body.ok()) return ErrorFromStatus(body.status(), req);
      auto it = body->find("member");
      if (it == body->end() || !it->is_string() || it->get<std::string>().empty()) {
        return ErrorResponse(400, "Member to be added not specified", req);
      }
      auto member = services_.sharing.AddMember(ctx, id, it->get<std::string>());
      if (!member.ok()) return ErrorFromStatus(member.status(), req);
      return JsonResponse(200, MemberToJson(*member));
    }
    return MethodNotAllowedResponse("GET, POST", req);
  }
  const std::string& member_id = s[3];
  if (m == "GET") {
    auto member = services_.sharing.GetMember(ctx, id, member_id);
    if (!member.ok()) return ErrorFromStatus(member.status(), req);
    return JsonResponse(200, MemberToJson(*member));
  }
  if (m == "PUT") {
    auto body = read_object();
    if (!body.ok()) return ErrorFromStatus(body.status(), req);
    auto it = body->find("status");
    std::optional<domain::MemberStatus> status;
    if (it != body->end() && it->is_string()) status = domain::ParseMemberStatus(it->get<std::string>());
    if (!status) {
      return ErrorResponse(400, "Status must be one of 'accepted', 'rejected' or 'pending'", req);
    }
    auto member = services_.sharing.UpdateMember(ctx, id, member_id, *status);
    if (!member.ok()) return ErrorFromStatus(member.status(), req);
    return JsonResponse(200, MemberToJson(*member));
  }
  if (m == "DELETE") {
    Status st = services_.sharing.RemoveMember(ctx, id, member_id);
    return st.ok() ? EmptyResponse(204) : ErrorFromStatus(st, req);
  }
  return MethodNotAllowedResponse("GET, PUT, DELETE", req);
}

http::Response ImagesApi::Schema(http::Request& req, const std::vector<std::string>& s) {
  if (RejectBody(req)) return ErrorResponse(400, "A body is not expected with this request.", req);
  std::string name;
  for (size_t i = 1; i < s.size(); ++i) name += (i > 1 ? "/" : "") + s[i];
  auto doc = SchemaByName(name, options_.schemas);
  if (!doc) return ErrorResponse(404, "", req);
  http::Response r;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(*doc);
  return r;
}

http::Response ImagesApi::Info(http::Request& req, const domain::RequestContext& ctx,
                               const std::vector<std::string>& s) {
  if (s.size() == 2 && s[1] == "usage") {
    auto u = services_.records.GetUsage(ctx);
    if (!u.ok()) return ErrorFromStatus(u.status(), req);
    constexpr int64_t kMiB = 1 << 20;
    auto mib = [](int64_t bytes) { return bytes < 0 ? bytes : (bytes + kMiB - 1) / kMiB; };
    json usage;
    usage["image_size_total"] = {{"limit", mib(u->limits.image_size_total)},
                                 {"usage", mib(u->usage.image_size_total)}};
    usage["image_stage_total"] = {{"limit", mib(u->limits.image_stage_total)},
                                  {"usage", mib(u->usage.image_stage_total)}};
    usage["image_count_total"] = {{"limit", u->limits.image_count_total},
                                  {"usage", u->usage.image_count_total}};
    usage["image_count_uploading"] = {{"limit", u->limits.image_count_uploading},
                                      {"usage", u->usage.image_count_uploading}};
    return JsonResponse(200, {{"usage", usage}});
  }
  if (s.size() == 2 && s[1] == "import") {
    json body;
    body["import-methods"] = {{"description", "Import methods available."},
                              {"type", "array"},
                              {"value", services_.imports.ImportMethods()}};
    return JsonResponse(200, body);
  }
  if ((s.size() == 2 && s[1] == "stores") ||
      (s.size() == 3 && s[1] == "stores" && s[2] == "detail")) {
    // Multi-store discovery is answered 404 while a single store is configured, as Glance does.
    if (!services_.data.stores().multistore) {
      return ErrorResponse(404, "Multi backend is not supported at this site.", req);
    }
    const bool detail = s.size() == 3;
    if (detail) {
      Status allowed = services_.data.AuthorizeStoresDetail(ctx);
      if (!allowed.ok()) return ErrorFromStatus(allowed, req);
    }
    // Glance's shape: stores in enabled_backends order; `description` only when configured;
    // "default": "true" (a string) on the default store only.
    json list = json::array();
    for (const auto* st : services_.data.stores().stores) {
      const store::StoreInfo& info = st->info();
      json e = {{"id", info.id}};
      if (!info.description.empty()) e["description"] = info.description;
      if (st == services_.data.stores().Default()) e["default"] = "true";
      if (detail) {
        e["type"] = info.type;
        json props = json::object();
        for (const auto& p : info.properties) {
          std::visit([&](const auto& v) { props[p.name] = v; }, p.value);
        }
        e["properties"] = std::move(props);
        e["weight"] = info.weight;
      }
      list.push_back(std::move(e));
    }
    return JsonResponse(200, json{{"stores", std::move(list)}});
  }
  return ErrorResponse(404, "", req);
}

// Size hint of a data request: x-openstack-image-size, else Content-Length (not chunked).
static StatusOr<std::optional<int64_t>> SizeHint(http::Request& req) {
  if (auto h = req.headers.Get("x-openstack-image-size")) {
    int64_t v;
    if (!ParseInt64(*h, v)) {
      return InvalidArgumentError("x-openstack-image-size must be a non-negative integer");
    }
    return std::optional<int64_t>(v);
  }
  if (auto cl = req.body->content_length(); cl && !req.body->chunked()) {
    return std::optional<int64_t>(static_cast<int64_t>(*cl));
  }
  return std::optional<int64_t>();
}

http::Response ImagesApi::Stage(http::Request& req, const domain::RequestContext& ctx,
                                const std::string& id) {
  if (MediaType(req) != "application/octet-stream") {
    return ErrorResponse(415, "Content-Type must be application/octet-stream", req);
  }
  auto hint = SizeHint(req);
  if (!hint.ok()) return ErrorFromStatus(hint.status(), req);
  std::optional<int64_t> resume;
  if (auto h = req.headers.Get("Upload-Offset")) {
    int64_t v;
    if (!ParseInt64(*h, v)) {
      return ErrorResponse(400, "Upload-Offset must be a non-negative integer", req);
    }
    resume = v;
  }
  http::BodyReader& body = *req.body;
  Status st = services_.imports.Stage(
      ctx, id, [&body](std::span<std::byte> out) { return body.Read(out); }, *hint, resume);
  if (!st.ok()) {
    if (st.code() == StatusCode::kCancelled || st.code() == StatusCode::kDeadlineExceeded) {
      spdlog::warn("stage of image {} failed: {}", id, st.ToString());
    }
    http::Response r = ErrorFromStatus(st, req);
    if (auto staged = services_.imports.StagedBytes(ctx, id); staged.ok()) {
      r.headers.Set("Upload-Offset", std::to_string(*staged));
    }
    return r;
  }
  http::Response r = EmptyResponse(204);
  if (auto staged = services_.imports.StagedBytes(ctx, id); staged.ok()) {
    r.headers.Set("Upload-Offset", std::to_string(*staged));
  }
  return r;
}

http::Response ImagesApi::StageOffset(http::Request& req, const domain::RequestContext& ctx,
                                      const std::string& id) {
  auto staged = services_.imports.StagedBytes(ctx, id);
  if (!staged.ok()) return ErrorFromStatus(staged.status(), req);
  http::Response r = EmptyResponse(200);
  r.headers.Set("Upload-Offset", std::to_string(*staged));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

http::Response ImagesApi::Import(http::Request& req, const domain::RequestContext& ctx,
                                 const std::string& id) {
  auto raw = http::ReadAll(*req.body, options_.max_json_body_bytes);
  if (!raw.ok()) return ErrorFromStatus(raw.status(), req);
  auto parsed = ParseImportBody(*raw);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status(), req);
  auto h = req.headers.Get("X-Image-Meta-Store");
  if (h && services_.data.stores().multistore) {
    // Glance (utils.get_stores_from_request): the header goes with neither all_stores nor a
    // `stores` list. With a single store Glance ignores it, and so does Glimmer.
    if (parsed->all_stores) {
      return ErrorResponse(400, "All_stores parameter can't be used with x-image-meta-store "
                                "header or stores parameter", req);
    }
    if (parsed->stores_given) {
      return ErrorResponse(400, "Stores parameter and x-image-meta-store header can't be both "
                                "specified", req);
    }
    if (!h->empty()) parsed->stores.push_back(std::string(*h));
  }
  auto task = services_.imports.StartImport(ctx, id, *parsed);
  if (!task.ok()) return ErrorFromStatus(task.status(), req);
  return EmptyResponse(202);
}

http::Response ImagesApi::DeleteFromStore(http::Request& req, const domain::RequestContext& ctx,
                                          const std::string& store_id,
                                          const std::string& image_id) {
  if (RejectBody(req)) return ErrorResponse(400, "A body is not expected with this request.", req);
  Status st = services_.data.DeleteFromStore(ctx, store_id, image_id);
  if (!st.ok()) {
    if (st.code() == StatusCode::kInternal) {
      spdlog::error("DELETE /v2/stores/{}/{}: {}", store_id, image_id, st.ToString());
    }
    return ErrorFromStatus(st, req);
  }
  return EmptyResponse(204);
}

http::Response ImagesApi::Tasks(http::Request& req, const domain::RequestContext& ctx,
                                const std::vector<std::string>& s) {
  const std::string& m = req.method;
  if (s.size() == 2) {
    if (m != "GET") return MethodNotAllowedResponse("GET", req);
    auto task = services_.imports.GetTask(ctx, s[1]);
    if (!task.ok()) return ErrorFromStatus(task.status(), req);
    return JsonResponse(200, TaskToJson(*task));
  }
  if (s.size() != 1) return ErrorResponse(404, "", req);
  if (m == "POST") {
    return ErrorResponse(400, "Tasks of type 'import' are deprecated and not supported; use "
                              "POST /v2/images/{image_id}/import (interoperable import)", req);
  }
  if (m != "GET") return MethodNotAllowedResponse("GET, POST", req);
  db::TaskListQuery q;
  q.limit = options_.limits.limit_param_default;
  for (const auto& [k, v] : req.query) {
    if (k == "status") {
      auto st = domain::ParseTaskStatus(v);
      if (!st) return ErrorResponse(400, "Invalid status value: " + v, req);
      q.status = *st;
    } else if (k == "type") {
      if (v != "import" && v != "api_image_import") {
        return ErrorResponse(400, "Invalid type value: " + v, req);
      }
      q.type = v;
    } else if (k == "limit") {
      int64_t l;
      if (!ParseInt64(v, l)) return ErrorResponse(400, "limit param must be an integer", req);
      q.limit = static_cast<int>(std::min<int64_t>(l, options_.limits.api_limit_max));
    } else if (k == "marker") {
      q.marker = v;
    } else if (k == "sort_key") {
      if (v != "created_at" && v != "updated_at" && v != "id" && v != "status" && v != "type" &&
          v != "expires_at" && v != "owner") {
        return ErrorResponse(400, "Invalid sort_key value: " + v, req);
      }
      q.sort_key = v;
    } else if (k == "sort_dir") {
      if (v != "asc" && v != "desc") return ErrorResponse(400, "Invalid sort direction: " + v, req);
      q.sort_ascending = v == "asc";
    }
  }
  auto tasks = services_.imports.ListTasks(ctx, q);
  if (!tasks.ok()) return ErrorFromStatus(tasks.status(), req);
  json list = json::array();
  for (const auto& t : *tasks) list.push_back(TaskToJson(t, /*summary=*/true));
  json body = {{"tasks", std::move(list)}, {"first", "/v2/tasks"}, {"schema", "/v2/schemas/tasks"}};
  if (!tasks->empty() && static_cast<int>(tasks->size()) == q.limit) {
    body["next"] = "/v2/tasks?marker=" + tasks->back().id + "&limit=" + std::to_string(q.limit);
  }
  return JsonResponse(200, body);
}

}  // namespace glimmer::api::images
