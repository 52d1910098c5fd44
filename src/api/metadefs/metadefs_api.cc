#include "api/metadefs/metadefs_api.h"

#include <cctype>
#include <charconv>
#include <set>

#include "api/errors.h"
#include "api/responses.h"
#include "api/metadefs/metadef_json.h"

namespace glimmer::api::metadefs {
namespace {

using db::MetadefElement;
using glimmer::metadefs::NamespaceListRequest;

std::optional<MetadefElement> ElementKind(const std::string& kind) {
  if (kind == "properties") return MetadefElement::kProperty;
  if (kind == "objects") return MetadefElement::kObject;
  if (kind == "tags") return MetadefElement::kTag;
  return std::nullopt;
}

// The list parameters of GET /v2/metadefs/namespaces, with Glance's checks.
StatusOr<NamespaceListRequest> ParseListRequest(const http::Request& req,
                                                const images::ListLimits& limits) {
  NamespaceListRequest r;
  r.limit = limits.limit_param_default;
  if (auto v = req.QueryValue("limit")) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) {
      return InvalidArgumentError("limit param must be an integer");
    }
    if (n < 0) return InvalidArgumentError("limit param must be positive");
    r.limit = static_cast<int>(std::min<int64_t>(n, limits.api_limit_max));
  }
  if (auto v = req.QueryValue("marker")) r.marker = std::string(*v);
  if (auto v = req.QueryValue("sort_dir")) {
    if (*v != "asc" && *v != "desc") {
      return InvalidArgumentError("Invalid sort direction: " + std::string(*v));
    }
    r.ascending = *v == "asc";
  }
  if (auto v = req.QueryValue("sort_key")) {
    static const std::set<std::string, std::less<>> kKeys = {
        "created_at", "updated_at", "namespace", "display_name", "visibility",
        "protected",  "owner",      "id"};
    if (!kKeys.count(*v)) return InvalidArgumentError("Invalid sort key: " + std::string(*v));
    r.sort_key = std::string(*v);
  }
  if (auto v = req.QueryValue("visibility"); v && !v->empty()) {
    if (*v != "public" && *v != "private") {
      return InvalidArgumentError("Invalid visibility value: " + std::string(*v));
    }
    r.visibility = std::string(*v);
  }
  if (auto v = req.QueryValue("resource_types")) {
    std::string_view s = *v;
    while (true) {
      size_t comma = s.find(',');
      std::string_view item = s.substr(0, comma);
      if (!item.empty()) r.resource_types.emplace_back(item);
      if (comma == std::string_view::npos) break;
      s.remove_prefix(comma + 1);
    }
    // Glance filters on the (possibly empty) list: nothing matches an empty one.
    if (r.resource_types.empty()) r.resource_types.emplace_back("");
    if (r.resource_types.size() > 100) {
      return InvalidArgumentError("Too many resource types in resource_types");
    }
  }
  return r;
}

}  // namespace

MetadefsApi::MetadefsApi(glimmer::metadefs::MetadefService& service, MetadefsApiOptions options)
    : service_(service), options_(std::move(options)) {}

http::Response MetadefsApi::Handle(http::Request& req, const domain::RequestContext& ctx,
                                   const std::vector<std::string>& s) {
  const std::string& m = req.method;
  if (s.size() == 2 && s[1] == "resource_types") {
    if (m != "GET") return MethodNotAllowedResponse("GET", req);
    auto types = service_.ListResourceTypes(ctx);
    if (!types.ok()) return ErrorFromStatus(types.status(), req);
    json list = json::array();
    for (const auto& t : *types) list.push_back(ResourceTypeToJson(t));
    return JsonResponse(200, json{{"resource_types", std::move(list)}});
  }
  if (s.size() < 2 || s[1] != "namespaces" || s.size() > 5) {
    return ErrorResponse(404, "", req);
  }
  if (s.size() == 2) return Namespaces(req, ctx);
  if (s.size() == 3) return Namespace(req, ctx, s[2]);
  if (s[3] != "properties" && s[3] != "objects" && s[3] != "tags" && s[3] != "resource_types") {
    return ErrorResponse(404, "", req);
  }
  if (s.size() == 4) return Collection(req, ctx, s[2], s[3]);
  return Element(req, ctx, s[2], s[3], s[4]);
}

http::Response MetadefsApi::Namespaces(http::Request& req, const domain::RequestContext& ctx) {
  if (req.method == "GET") {
    auto params = ParseListRequest(req, options_.limits);
    if (!params.ok()) return ErrorFromStatus(params.status(), req);
    auto page = service_.ListNamespaces(ctx, *params);
    if (!page.ok()) return ErrorFromStatus(page.status(), req);
    json list = json::array();
    for (const auto& n : *page) list.push_back(ListedNamespaceToJson(n));
    images::QueryParams rest;
    for (const auto& kv : req.query) {
      if (kv.first != "marker") rest.push_back(kv);
    }
    json body;
    body["namespaces"] = std::move(list);
    std::string q = images::EncodeQuery(rest);
    body["first"] = q.empty() ? "/v2/metadefs/namespaces" : "/v2/metadefs/namespaces?" + q;
    body["schema"] = "/v2/schemas/metadefs/namespaces";
    if (!page->empty() && static_cast<int>(page->size()) == params->limit) {
      rest.emplace_back("marker", page->back().ns.name);
      body["next"] = "/v2/metadefs/namespaces?" + images::EncodeQuery(rest);
    }
    return JsonResponse(200, body);
  }
  if (req.method != "POST") return MethodNotAllowedResponse("GET, POST", req);
  auto raw = http::ReadAll(*req.body, options_.max_json_body_bytes);
  if (!raw.ok()) return ErrorFromStatus(raw.status(), req);
  auto body = ParseBody(*raw);
  if (!body.ok()) return ErrorFromStatus(body.status(), req);
  auto parsed = ParseNamespace(*body);
  if (!parsed.ok()) return ErrorFromStatus(parsed.status(), req);
  auto created = service_.CreateNamespace(ctx, parsed->fields, std::move(parsed->contents));
  if (!created.ok()) return ErrorFromStatus(created.status(), req);
  http::Response r = JsonResponse(201, NamespaceTreeToJson(*created, std::nullopt));
  r.headers.Set("Location", "/v2/metadefs/namespaces/" + created->ns.name);
  return r;
}

http::Response MetadefsApi::Namespace(http::Request& req, const domain::RequestContext& ctx,
                                      const std::string& ns) {
  const std::string& m = req.method;
  if (m == "GET") {
    auto tree = service_.GetNamespace(ctx, ns);
    if (!tree.ok()) return ErrorFromStatus(tree.status(), req);
    std::optional<std::string> prefix;
    if (auto rt = req.QueryValue("resource_type"); rt && !rt->empty()) {
      for (const auto& a : tree->associations) {
        if (a.name == *rt && a.prefix && !a.prefix->empty()) prefix = *a.prefix;
      }
    }
    return JsonResponse(200, NamespaceTreeToJson(*tree, prefix));
  }
  if (m == "PUT") {
    auto raw = http::ReadAll(*req.body, options_.max_json_body_bytes);
    if (!raw.ok()) return ErrorFromStatus(raw.status(), req);
    auto body = ParseBody(*raw);
    if (!body.ok()) return ErrorFromStatus(body.status(), req);
    auto parsed = ParseNamespace(*body);
    if (!parsed.ok()) return ErrorFromStatus(parsed.status(), req);
    auto updated = service_.UpdateNamespace(ctx, ns, parsed->fields);
    if (!updated.ok()) return ErrorFromStatus(updated.status(), req);
    return JsonResponse(200, NamespaceToJson(*updated));
  }
  if (m == "DELETE") {
    Status st = service_.DeleteNamespace(ctx, ns);
    return st.ok() ? EmptyResponse(204) : ErrorFromStatus(st, req);
  }
  return MethodNotAllowedResponse("GET, PUT, DELETE", req);
}

http::Response MetadefsApi::Collection(http::Request& req, const domain::RequestContext& ctx,
                                       const std::string& ns, const std::string& kind) {
  const std::string& m = req.method;
  auto read_body = [&]() -> StatusOr<json> {
    ASSIGN_OR_RETURN(std::string raw, http::ReadAll(*req.body, options_.max_json_body_bytes));
    return ParseBody(raw);
  };
  if (kind == "resource_types") {
    if (m == "GET") {
      auto assocs = service_.ListAssociations(ctx, ns);
      if (!assocs.ok()) return ErrorFromStatus(assocs.status(), req);
      json list = json::array();
      for (const auto& a : *assocs) list.push_back(AssociationToJson(a));
      return JsonResponse(200, json{{"resource_type_associations", std::move(list)}});
    }
    if (m != "POST") return MethodNotAllowedResponse("GET, POST", req);
    auto body = read_body();
    if (!body.ok()) return ErrorFromStatus(body.status(), req);
    auto assoc = ParseAssociation(*body);
    if (!assoc.ok()) return ErrorFromStatus(assoc.status(), req);
    auto created = service_.CreateAssociation(ctx, ns, std::move(*assoc));
    if (!created.ok()) return ErrorFromStatus(created.status(), req);
    return JsonResponse(201, AssociationToJson(*created));
  }
  const MetadefElement element = *ElementKind(kind);
  if (m == "DELETE") {
    Status st = service_.DeleteContents(ctx, ns, element);
    return st.ok() ? EmptyResponse(204) : ErrorFromStatus(st, req);
  }
  if (m == "GET") {
    switch (element) {
      case MetadefElement::kProperty: {
        auto props = service_.ListProperties(ctx, ns);
        if (!props.ok()) return ErrorFromStatus(props.status(), req);
        json map = json::object();
        for (const auto& p : *props) map[p.name] = PropertyToJson(p, true);
        return JsonResponse(200, json{{"properties", std::move(map)}});
      }
      case MetadefElement::kObject: {
        auto objs = service_.ListObjects(ctx, ns);
        if (!objs.ok()) return ErrorFromStatus(objs.status(), req);
        json list = json::array();
        for (const auto& o : *objs) list.push_back(ObjectToJson(ns, o));
        return JsonResponse(200, json{{"objects", std::move(list)},
                                      {"schema", "v2/schemas/metadefs/objects"}});
      }
      case MetadefElement::kTag: {
        auto tags = service_.ListTags(ctx, ns);
        if (!tags.ok()) return ErrorFromStatus(tags.status(), req);
        json list = json::array();
        for (const auto& t : *tags) list.push_back(TagToJson(t));
        return JsonResponse(200, json{{"tags", std::move(list)}});
      }
    }
  }
  if (m != "POST") return MethodNotAllowedResponse("GET, POST, DELETE", req);
  auto body = read_body();
  if (!body.ok()) return ErrorFromStatus(body.status(), req);
  switch (element) {
    case MetadefElement::kProperty: {
      auto p = ParseProperty(*body);
      if (!p.ok()) return ErrorFromStatus(p.status(), req);
      auto created = service_.CreateProperty(ctx, ns, std::move(*p));
      if (!created.ok()) return ErrorFromStatus(created.status(), req);
      return JsonResponse(201, PropertyToJson(*created, true));
    }
    case MetadefElement::kObject: {
      auto o = ParseObject(*body);
      if (!o.ok()) return ErrorFromStatus(o.status(), req);
      auto created = service_.CreateObject(ctx, ns, std::move(*o));
      if (!created.ok()) return ErrorFromStatus(created.status(), req);
      return JsonResponse(201, ObjectToJson(ns, *created));
    }
    case MetadefElement::kTag: {
      auto names = ParseTags(*body);
      if (!names.ok()) return ErrorFromStatus(names.status(), req);
      std::string append(req.headers.Get("X-Openstack-Append").value_or(""));
      for (auto& c : append) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // oslo's bool_from_string: true, 1, yes, y, on, t.
      const bool can_append = append == "true" || append == "1" || append == "yes" ||
                              append == "y" || append == "on" || append == "t";
      auto created = service_.CreateTags(ctx, ns, *names, can_append);
      if (!created.ok()) return ErrorFromStatus(created.status(), req);
      json list = json::array();
      for (const auto& t : *created) list.push_back(json{{"name", t.name}});
      return JsonResponse(201, json{{"tags", std::move(list)}});
    }
  }
  return ErrorResponse(404, "", req);
}

http::Response MetadefsApi::Element(http::Request& req, const domain::RequestContext& ctx,
                                    const std::string& ns, const std::string& kind,
                                    const std::string& name) {
  const std::string& m = req.method;
  if (kind == "resource_types") {
    if (m != "DELETE") return MethodNotAllowedResponse("DELETE", req);
    Status st = service_.DeleteAssociation(ctx, ns, name);
    return st.ok() ? EmptyResponse(204) : ErrorFromStatus(st, req);
  }
  const MetadefElement element = *ElementKind(kind);
  const bool tag = element == MetadefElement::kTag;
  if (m == "DELETE") {
    Status st = service_.DeleteElement(ctx, ns, element, name);
    return st.ok() ? EmptyResponse(204) : ErrorFromStatus(st, req);
  }
  if (m == "GET") {
    switch (element) {
      case MetadefElement::kProperty: {
        std::optional<std::string> rt;
        if (auto v = req.QueryValue("resource_type")) rt = std::string(*v);
        auto p = service_.GetProperty(ctx, ns, name, rt);
        if (!p.ok()) return ErrorFromStatus(p.status(), req);
        return JsonResponse(200, PropertyToJson(*p, true));
      }
      case MetadefElement::kObject: {
        auto o = service_.GetObject(ctx, ns, name);
        if (!o.ok()) return ErrorFromStatus(o.status(), req);
        return JsonResponse(200, ObjectToJson(ns, *o));
      }
      case MetadefElement::kTag: {
        auto t = service_.GetTag(ctx, ns, name);
        if (!t.ok()) return ErrorFromStatus(t.status(), req);
        return JsonResponse(200, TagToJson(*t));
      }
    }
  }
  if (tag && m == "POST") {
    // The name is the path's; any body is ignored, as in Glance.
    if (name.size() > 80) {
      return ErrorResponse(400, "Provided object does not match schema 'tag': '" + name +
                                    "' is too long", req);
    }
    auto t = service_.CreateTag(ctx, ns, name);
    if (!t.ok()) return ErrorFromStatus(t.status(), req);
    return JsonResponse(201, TagToJson(*t));
  }
  if (m != "PUT") {
    return MethodNotAllowedResponse(tag ? "GET, POST, PUT, DELETE" : "GET, PUT, DELETE", req);
  }
  auto raw = http::ReadAll(*req.body, options_.max_json_body_bytes);
  if (!raw.ok()) return ErrorFromStatus(raw.status(), req);
  auto body = ParseBody(*raw);
  if (!body.ok()) return ErrorFromStatus(body.status(), req);
  switch (element) {
    case MetadefElement::kProperty: {
      auto p = ParseProperty(*body);
      if (!p.ok()) return ErrorFromStatus(p.status(), req);
      auto updated = service_.UpdateProperty(ctx, ns, name, std::move(*p));
      if (!updated.ok()) return ErrorFromStatus(updated.status(), req);
      return JsonResponse(200, PropertyToJson(*updated, true));
    }
    case MetadefElement::kObject: {
      auto o = ParseObject(*body);
      if (!o.ok()) return ErrorFromStatus(o.status(), req);
      auto updated = service_.UpdateObject(ctx, ns, name, std::move(*o));
      if (!updated.ok()) return ErrorFromStatus(updated.status(), req);
      return JsonResponse(200, ObjectToJson(ns, *updated));
    }
    case MetadefElement::kTag: {
      auto new_name = ParseTag(*body);
      if (!new_name.ok()) return ErrorFromStatus(new_name.status(), req);
      auto updated = service_.UpdateTag(ctx, ns, name, *new_name);
      if (!updated.ok()) return ErrorFromStatus(updated.status(), req);
      return JsonResponse(200, TagToJson(*updated));
    }
  }
  return ErrorResponse(404, "", req);
}

}  // namespace glimmer::api::metadefs
