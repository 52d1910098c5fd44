#pragma once
// Typed changes to an image, as a request asks for them. The API layer checks types, lengths
// and formats against the attribute table (api/images/image_request.cc) and fills these;
// ImageRecords applies them under Glance's domain rules (who may publicize, whose images one may
// create, formats of images that have data, quotas, property protections).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "domain/image.h"

namespace glimmer::domain {

// The settable attributes (domain/image_attributes.h); unset members are left as they are.
// A nested optional's inner nullopt is JSON null.
struct ImageChanges {
  std::optional<std::string> id;  // create only: a UUID
  std::optional<std::optional<std::string>> name;
  std::optional<Visibility> visibility;
  std::optional<bool> is_protected;
  std::optional<bool> os_hidden;
  std::optional<std::optional<std::string>> owner;
  std::optional<std::optional<std::string>> container_format;
  std::optional<std::optional<std::string>> disk_format;
  std::optional<std::vector<std::string>> tags;  // the whole set, duplicates allowed
  std::optional<int64_t> min_ram;
  std::optional<int64_t> min_disk;
  // Custom properties to set, in request order.
  std::vector<std::pair<std::string, std::string>> properties;
};

// One operation of an image patch (PATCH /v2/images/{id}), applied in order.
struct PatchStep {
  enum class Op { kAdd, kReplace, kRemove };
  Op op = Op::kReplace;
  // The attribute or custom property (the JSON pointer's one segment, unescaped).
  std::string path;
  // kAdd / kReplace: the new value, in the one member of `value` that `path` names (a custom
  // property: value.properties' only entry). Left empty when `path` cannot be set at all
  // (read-only or reserved): ImageRecords refuses those.
  ImageChanges value;
  // Not OK when the request's value does not fit `path` (wrong type, too long, unknown
  // format...): the parser's message. ImageRecords reports it where values have always been
  // checked: after the image is found and may be modified, after the earlier steps, and after
  // the checks on `path` itself (property protections, existence, read-only).
  Status invalid;
};

// Steps for callers inside the service (catalog, tests).
PatchStep ReplaceStep(std::string path, ImageChanges value);
PatchStep SetPropertyStep(PatchStep::Op op, std::string name, std::string value);
PatchStep RemoveStep(std::string path);

}  // namespace glimmer::domain
