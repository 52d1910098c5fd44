#include "formats/inspector.h"

#include <algorithm>
#include <cstring>

#include "formats/byte_order.h"
#include "formats/detect.h"
#include "formats/image.h"

namespace glimmer::formats {
namespace {

constexpr std::string_view kNotCaptured = "not captured by the streaming inspector";

// A Source over the captured pieces of a stream; reading anything else fails kUnavailable.
class CapturedSource final : public Source {
 public:
  struct Piece {
    int64_t offset;
    std::span<const std::byte> data;
  };
  CapturedSource(int64_t size, std::vector<Piece> pieces)
      : size_(size), pieces_(std::move(pieces)) {}
  int64_t size() const override { return size_; }
  StatusOr<size_t> ReadAt(int64_t offset, std::span<std::byte> out) override {
    if (offset >= size_) return size_t{0};
    size_t want =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(out.size()), size_ - offset));
    for (const auto& p : pieces_) {
      if (offset >= p.offset &&
          offset + static_cast<int64_t>(want) <= p.offset + static_cast<int64_t>(p.data.size())) {
        std::memcpy(out.data(), p.data.data() + (offset - p.offset), want);
        return want;
      }
    }
    return UnavailableError(std::string(kNotCaptured));
  }

 private:
  int64_t size_;
  std::vector<Piece> pieces_;
};

}  // namespace

StreamInspector::StreamInspector(Limits limits) : limits_(limits) {
  limits_.deep = false;
  head_.reserve(kHeaderBytes);
}

void StreamInspector::Plan() {
  planned_done_ = true;
  std::span<const std::byte> h(head_);
  auto add = [&](int64_t off, int64_t len) {
    len = std::min<int64_t>(len, kMaxPlannedBytes);
    if (off < static_cast<int64_t>(head_.size()) || len <= 0 || off > (int64_t{1} << 50)) return;
    planned_.push_back({off, std::vector<std::byte>(static_cast<size_t>(len)), 0});
  };
  if (internal::Matches(h, 0, "vhdxfile") && h.size() >= 256 * 1024) {
    uint32_t count = internal::LE32(h, 192 * 1024 + 8);
    for (uint32_t i = 0; i < std::min<uint32_t>(count, 2047); ++i) {
      size_t e = 192 * 1024 + 16 + size_t{i} * 32;
      if (internal::LE32(h, e) == 0x8B7CA206u) {
        add(static_cast<int64_t>(internal::LE64(h, e + 16)), internal::LE32(h, e + 24));
        break;  // one metadata region (a duplicate is rejected by the parser)
      }
    }
  }
  if (internal::Matches(h, 0, "QFI\xfb") && h.size() >= 72 && internal::BE32(h, 60) > 0) {
    add(static_cast<int64_t>(internal::BE64(h, 64)), kMaxPlannedBytes);
  }
}

void StreamInspector::Feed(std::span<const std::byte> data) {
  if (data.empty()) return;
  int64_t start = fed_;
  if (head_.size() < kHeaderBytes) {
    size_t take = std::min(data.size(), kHeaderBytes - head_.size());
    head_.insert(head_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
    if (head_.size() == kHeaderBytes) Plan();
  }
  for (auto& r : planned_) {
    int64_t a = std::max(start, r.offset + static_cast<int64_t>(r.filled));
    int64_t b = std::min(start + static_cast<int64_t>(data.size()),
                         r.offset + static_cast<int64_t>(r.data.size()));
    if (a < b && a == r.offset + static_cast<int64_t>(r.filled)) {
      std::memcpy(r.data.data() + r.filled, data.data() + (a - start), static_cast<size_t>(b - a));
      r.filled += static_cast<size_t>(b - a);
    }
  }
  // Rolling tail.
  if (tail_.size() < kTailBytes) tail_.resize(kTailBytes);
  std::span<const std::byte> last = data.size() > kTailBytes ? data.last(kTailBytes) : data;
  for (size_t i = 0; i < last.size();) {
    size_t n = std::min(last.size() - i, kTailBytes - tail_pos_);
    std::memcpy(tail_.data() + tail_pos_, last.data() + i, n);
    tail_pos_ = (tail_pos_ + n) % kTailBytes;
    i += n;
  }
  fed_ += static_cast<int64_t>(data.size());
}

StreamInspector::Result StreamInspector::Finish(int64_t total_size) const {
  Result r;
  std::vector<CapturedSource::Piece> pieces;
  pieces.push_back({0, head_});
  for (const auto& p : planned_) {
    if (p.filled == p.data.size()) pieces.push_back({p.offset, p.data});
  }
  // Unroll the tail ring (only the bytes really fed, and only if they end at total_size).
  std::vector<std::byte> tail;
  int64_t tail_len = std::min<int64_t>(fed_, kTailBytes);
  if (fed_ == total_size && tail_len > 0) {
    tail.resize(static_cast<size_t>(tail_len));
    for (int64_t i = 0; i < tail_len; ++i) {
      tail[i] = tail_[(tail_pos_ + kTailBytes - tail_len + i) % kTailBytes];
    }
    pieces.push_back({total_size - tail_len, tail});
  }
  CapturedSource src(total_size, std::move(pieces));
  auto opened = internal::OpenImage(src, limits_, {});
  if (!opened.ok()) {
    // The header checks needed bytes we did not keep (or the stream was inconsistent).
    // Detection itself only needs head and tail; report it even when the rest failed.
    r.format = internal::Detect(head_, tail, total_size).format;
    r.inspection.format = r.format;
    r.header_checked = false;
    return r;
  }
  r.inspection = std::move(opened->info);
  r.format = r.inspection.format;
  if (r.inspection.virtual_size >= 0) r.virtual_size = r.inspection.virtual_size;
  r.verdict = r.inspection.verdict;
  return r;
}

}  // namespace glimmer::formats
