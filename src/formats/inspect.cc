#include "formats/inspect.h"

#include <algorithm>

#include "formats/detect.h"
#include "formats/image.h"

namespace glimmer::formats {

Status CheckFailure(std::string_view check, std::string_view message) {
  return Status(StatusCode::kUnsupportedMedia, std::string(check) + ": " + std::string(message));
}

std::string FailedCheck(const Status& status) {
  if (status.code() != StatusCode::kUnsupportedMedia) return "";
  auto colon = status.message().find(": ");
  if (colon == std::string::npos) return "";
  std::string name = status.message().substr(0, colon);
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return "";
  }
  return name;
}

std::string GlanceFormatName(std::string_view name) {
  if (name == "vpc") return "vhd";
  static constexpr std::string_view kNames[] = {"raw", "qcow2", "vmdk", "vhd",  "vhdx",
                                                "vdi", "iso",   "gpt",  "luks", "qed"};
  for (auto n : kNames) {
    if (n == name) return std::string(n);
  }
  return "";
}

namespace internal {

Status Fail(std::string_view check, std::string message) { return CheckFailure(check, message); }

Status RecordVerdict(const Status& st, Inspection* info) {
  std::string check = FailedCheck(st);
  if (check.empty()) return st;
  info->verdict.check = check;
  info->verdict.message = st.message().substr(check.size() + 2);
  return OkStatus();
}

StatusOr<std::vector<std::byte>> ReadTable(Source& src, int64_t offset, int64_t length, int64_t cap,
                                           std::string_view check, std::string_view what) {
  if (length < 0 || length > cap) {
    return Fail(check, std::string(what) + " of " + std::to_string(length) +
                           " bytes exceeds the limit of " + std::to_string(cap));
  }
  if (!InFile(offset, length, src.size())) {
    return Fail(check, std::string(what) + " at offset " + std::to_string(offset) + " (" +
                           std::to_string(length) + " bytes) lies beyond the end of the file");
  }
  std::vector<std::byte> buf(static_cast<size_t>(length));
  RETURN_IF_ERROR(ReadExact(src, offset, buf));
  return buf;
}

Status Coalescer::Add(int64_t vaddr, const Extent& e) {
  if (e.length <= 0) return OkStatus();
  if (have_) {
    bool zero_run = cur_.kind == Extent::Kind::kZero && e.kind == Extent::Kind::kZero;
    bool data_run = cur_.kind == Extent::Kind::kData && e.kind == Extent::Kind::kData &&
                    cur_.offset + cur_.length == e.offset;
    if ((zero_run || data_run) && vaddr_ + cur_.length == vaddr) {
      cur_.length += e.length;
      return OkStatus();
    }
    RETURN_IF_ERROR(out_(vaddr_, cur_));
  }
  have_ = true;
  vaddr_ = vaddr;
  cur_ = e;
  return OkStatus();
}

Status Coalescer::Flush() {
  if (!have_) return OkStatus();
  have_ = false;
  return out_(vaddr_, cur_);
}

void RangeSet::Add(int64_t offset, int64_t length, std::string what) {
  if (length <= 0) return;
  ranges_.push_back({offset, offset + length, std::move(what)});
  max_len_ = std::max(max_len_, length);
}

std::pair<std::string, std::string> RangeSet::SortAndFindOverlap() {
  std::sort(ranges_.begin(), ranges_.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges_.size(); ++i) {
    if (ranges_[i].begin < ranges_[i - 1].end) return {ranges_[i - 1].what, ranges_[i].what};
  }
  return {"", ""};
}

const std::string* RangeSet::Find(int64_t offset, int64_t length) const {
  // Ranges are sorted and disjoint: the only candidate is the last range starting before the end.
  int64_t end = offset + length;
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), end,
                             [](const Range& r, int64_t v) { return r.begin < v; });
  if (it == ranges_.begin()) return nullptr;
  --it;
  if (it->end > offset) return &it->what;
  return nullptr;
}

namespace {

Status OpenDetected(Source& src, const Limits& limits, const Detection& det, Opened* out) {
  const std::string& f = det.format;
  if (f == "qcow2") return OpenQcow2(src, limits, out);
  if (f == "vmdk") return OpenVmdk(src, limits, out);
  if (f == "vhd") return OpenVhd(src, limits, det.vhd_footer_at_start, out);
  if (f == "vhdx") return OpenVhdx(src, limits, out);
  if (f == "vdi") return OpenVdi(src, limits, out);
  if (f == "iso") return OpenIso(src, limits, out);
  if (f == "gpt") return OpenGpt(src, limits, out);
  if (f == "luks") return OpenLuks(src, limits, out);
  if (f == "qed") return OpenQed(src, limits, out);
  return OpenRaw(src, limits, out);
}

}  // namespace

StatusOr<Opened> OpenImage(Source& src, const Limits& limits, std::string_view forced) {
  std::string forced_name;
  if (!forced.empty()) {
    forced_name = GlanceFormatName(forced);
    if (forced_name.empty()) {
      return InvalidArgumentError("unknown image format '" + std::string(forced) + "'");
    }
  }
  int64_t size = src.size();
  std::vector<std::byte> head(static_cast<size_t>(std::min<int64_t>(size, kDetectHeadBytes)));
  RETURN_IF_ERROR(ReadExact(src, 0, head));
  std::vector<std::byte> tail(static_cast<size_t>(std::min<int64_t>(size, kDetectTailBytes)));
  RETURN_IF_ERROR(ReadExact(src, size - static_cast<int64_t>(tail.size()), tail));
  Detection det = Detect(head, tail, size);

  Opened out;
  out.info.file_size = size;
  out.info.format = det.format;
  out.info.qemu_format = det.format == "vhd" ? "vpc" : det.format;
  if (!det.polyglot.empty()) {
    out.info.verdict = {"polyglot", det.polyglot};
    return out;
  }
  RETURN_IF_ERROR(OpenDetected(src, limits, det, &out));
  out.info.file_size = size;
  if (det.hybrid) out.info.details.push_back({"hybrid", true});
  if (out.info.verdict.ok() && out.info.virtual_size > limits.max_virtual_size) {
    out.info.verdict = {"virtual_size", "virtual size " + std::to_string(out.info.virtual_size) +
                                            " exceeds the limit of " +
                                            std::to_string(limits.max_virtual_size) + " bytes"};
  }
  if (out.info.verdict.ok() && out.image && limits.deep) {
    int64_t expect = 0, allocated = 0;
    Status st = out.image->Walk([&](int64_t vaddr, const Extent& e) -> Status {
      if (vaddr != expect || e.length <= 0) {
        return InternalError("format walker produced a gap at " + std::to_string(vaddr));
      }
      expect += e.length;
      if (e.kind != Extent::Kind::kZero) allocated += e.length;
      return OkStatus();
    });
    RETURN_IF_ERROR(RecordVerdict(st, &out.info));
    if (st.ok()) {
      if (expect != out.size()) {
        return InternalError("format walker covered " + std::to_string(expect) + " of " +
                             std::to_string(out.size()) + " bytes");
      }
      out.info.allocated_size = allocated;
      out.info.deep_checked = true;
    }
  }
  if (!out.info.verdict.ok()) out.image.reset();

  if (!forced_name.empty() && forced_name != out.info.format) {
    bool raw_like = forced_name == "raw" && (out.info.format == "gpt" || out.info.format == "iso");
    if (forced_name == "raw" && out.info.verdict.ok()) {
      // A raw disk may contain anything; the detected format's checks have passed (Glance runs
      // them too), so read it as raw bytes.
      Opened raw;
      RETURN_IF_ERROR(OpenRaw(src, limits, &raw));
      raw.info.file_size = size;
      if (!raw_like) raw.info.details.push_back({"detected-format", out.info.format});
      return raw;
    }
    if (out.info.verdict.ok()) {
      out.info.verdict = {"format", "image format is " + out.info.format + ", not " + forced_name};
      out.image.reset();
    }
  }
  return out;
}

}  // namespace internal

StatusOr<Inspection> Inspect(Source& src, const Limits& limits, std::string_view format) {
  ASSIGN_OR_RETURN(internal::Opened opened, internal::OpenImage(src, limits, format));
  return std::move(opened.info);
}

}  // namespace glimmer::formats
