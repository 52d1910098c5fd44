#pragma once
// Shared helpers for the libFuzzer targets (see tests/formats/fuzz_smoke.sh and docs/formats.md).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "formats/image.h"
#include "formats/inspect.h"
#include "formats/source.h"

namespace glimmer::formats::fuzz {

inline std::span<const std::byte> Bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

// Limits small enough that a fuzz input cannot make a run slow.
inline Limits FuzzLimits() {
  Limits l;
  l.max_virtual_size = int64_t{1} << 32;
  l.max_table_bytes = int64_t{4} << 20;
  return l;
}

// Opens with one parser and walks every extent; aborts if the walker breaks its contract.
template <typename OpenFn>
void OpenAndWalk(const uint8_t* data, size_t size, OpenFn open) {
  MemorySource src(Bytes(data, size));
  internal::Opened opened;
  Limits limits = FuzzLimits();
  if (!open(src, limits, &opened).ok()) return;
  if (!opened.info.verdict.ok() || !opened.image) return;
  if (opened.info.virtual_size > limits.max_virtual_size) return;
  int64_t expect = 0;
  Status st = opened.image->Walk([&](int64_t vaddr, const internal::Extent& e) -> Status {
    if (vaddr != expect || e.length <= 0) std::abort();
    if (e.kind == internal::Extent::Kind::kData &&
        !internal::InFile(e.offset, e.length, src.size()))
      std::abort();
    if (e.compressed() && !internal::InFile(e.offset, e.stored, src.size())) std::abort();
    expect += e.length;
    return OkStatus();
  });
  if (st.ok() && expect != opened.size()) std::abort();
}

}  // namespace glimmer::formats::fuzz
