#include "images/format_acceptance.h"

namespace glimmer::images {
namespace {

bool NotInspectable(std::string_view f) {
  return f == "ami" || f == "aki" || f == "ari" || f == "ploop";
}

std::optional<int64_t> KnownVirtualSize(const formats::Inspection& in) {
  if (in.virtual_size >= 0) return in.virtual_size;
  return std::nullopt;
}

StatusOr<AcceptedFormat> AcceptUpload(const std::string& declared,
                                      const formats::Inspection& in) {
  std::string detected = in.format;
  if (declared == "iso" && detected == "gpt") detected = "iso";
  if (detected == declared) return AcceptedFormat{declared, KnownVirtualSize(in), ""};
  if (detected == "raw" && NotInspectable(declared)) return AcceptedFormat{declared, {}, ""};
  if (declared == "raw") return AcceptedFormat{declared, in.file_size, detected};
  return UnsupportedMediaError("Image disk_format is " + declared +
                               " but the data is detected as " + detected);
}

StatusOr<AcceptedFormat> AcceptConversionInput(const std::string& declared,
                                               const formats::Inspection& in) {
  if (declared == "iso" && (in.format == "iso" || in.format == "gpt")) {
    return AcceptedFormat{declared, {}, ""};
  }
  const std::string detected = in.format == "gpt" ? "raw" : in.format;
  if (detected != declared) {
    return UnsupportedMediaError("Image format mismatch: disk_format is " + declared +
                                 " but the staged data is " + in.format);
  }
  return AcceptedFormat{declared, KnownVirtualSize(in), ""};
}

}  // namespace

bool InspectsContainer(const std::optional<std::string>& container_format) {
  return container_format == "bare";
}

StatusOr<AcceptedFormat> AcceptFormat(const std::optional<std::string>& disk_format,
                                      const std::optional<std::string>& container_format,
                                      const InspectData& inspect, FormatUse use) {
  if (use == FormatUse::kUpload && (!InspectsContainer(container_format) || !disk_format)) {
    return AcceptedFormat{};
  }
  ASSIGN_OR_RETURN(formats::Inspection in, inspect());
  if (!in.safe()) return SafetyCheckFailed(in.verdict.check + ": " + in.verdict.message);
  const std::string declared = disk_format.value_or("");
  return use == FormatUse::kUpload ? AcceptUpload(declared, in)
                                   : AcceptConversionInput(declared, in);
}

Status SafetyCheckFailed(std::string_view reason) {
  return UnsupportedMediaError("Image failed safety checks: " + std::string(reason));
}

}  // namespace glimmer::images
