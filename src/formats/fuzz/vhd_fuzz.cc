// libFuzzer target: the VHD parser (footer at the start = dynamic, at the end = fixed).
#include "formats/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (bool at_start : {true, false}) {
    glimmer::formats::fuzz::OpenAndWalk(data, size, [at_start](auto& src, auto& limits, auto* out) {
      return glimmer::formats::internal::OpenVhd(src, limits, at_start, out);
    });
  }
  return 0;
}
