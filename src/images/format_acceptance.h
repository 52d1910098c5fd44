#pragma once
// Glance's rule for accepting image data under a declared disk_format (glance-api.md §11.3),
// written once for every path that inspects image data:
//
// FormatUse::kUpload — data written to a store (v2 upload, import; CheckStoredFormat):
//   - container_format other than bare, or no disk_format: not inspected, accepted;
//   - a failed safety check: refused ("Image failed safety checks: <check>: <message>");
//   - detected == disk_format: accepted; virtual_size = the format's virtual size;
//   - disk_format iso and detected gpt (hybrid ISO): treated as iso;
//   - disk_format ami/aki/ari/ploop and detected raw: accepted (not inspectable);
//   - disk_format raw, detected another (safe) format: accepted as Glance does, virtual_size =
//     byte count (AcceptedFormat::raw_holds names the detected format so the caller can log it);
//   - any other mismatch: refused ("Image disk_format is <d> but the data is detected as <f>").
// FormatUse::kConversionInput — staged data the image_conversion plugin converts (stricter):
//   - always inspected (container_format is not consulted);
//   - a failed safety check: refused, same message as above;
//   - disk_format iso and detected iso or gpt: accepted as iso (the plugin leaves it alone);
//   - gpt counts as raw; any other mismatch is refused ("Image format mismatch: disk_format is
//     <d> but the staged data is <f>");
//   - virtual_size = the format's virtual size.
// Every refusal is UnsupportedMedia (415).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "formats/inspect.h"

namespace glimmer::images {

enum class FormatUse { kUpload, kConversionInput };

struct AcceptedFormat {
  // What the data is taken as: the declared disk_format ("iso" for a hybrid ISO); empty when the
  // data was not inspected.
  std::string format;
  // The virtual size to record; nullopt: unknown or not applicable.
  std::optional<int64_t> virtual_size;
  // kUpload only: disk_format is raw but the data is this other (safe) format, which Glance
  // accepts; empty otherwise.
  std::string raw_holds;
};

// Inspects the data (called at most once, only when the rule needs it). Errors are returned as
// they are.
using InspectData = std::function<StatusOr<formats::Inspection>()>;

// Whether upload paths inspect data in this container (only bare images are inspected, by the
// streaming inspector as by the deep check).
bool InspectsContainer(const std::optional<std::string>& container_format);

// The rule above. Errors: UnsupportedMedia for a refusal; whatever `inspect` returns.
StatusOr<AcceptedFormat> AcceptFormat(const std::optional<std::string>& disk_format,
                                      const std::optional<std::string>& container_format,
                                      const InspectData& inspect, FormatUse use);

// UnsupportedMedia "Image failed safety checks: <reason>": the one wording of a safety refusal
// (reason: "<check>: <message>", as formats::Verdict and the streaming inspector give it).
Status SafetyCheckFailed(std::string_view reason);

}  // namespace glimmer::images
