// libFuzzer target: the vdi parser and its table walk, on arbitrary bytes.
#include "formats/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  glimmer::formats::fuzz::OpenAndWalk(data, size, [](auto& src, auto& limits, auto* out) {
    return glimmer::formats::internal::OpenVdi(src, limits, out);
  });
  return 0;
}
