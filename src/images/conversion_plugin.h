#pragma once
// The image_conversion import plugin (Glance's, with the native converter instead of qemu-img):
// the staged file is inspected and judged by AcceptFormat (format_acceptance.h,
// FormatUse::kConversionInput: the detected format must be the declared disk_format; gpt counts
// as raw; iso is left alone; unsafe data is refused), converted to `output_format` (raw or
// qcow2) in a new file that replaces the staged one, and re-inspected; the image gets
// disk_format=<output_format>, container_format=bare and the new virtual_size. Size and
// checksums are then computed from the converted data by the store write.

#include <string>

#include "images/import_flow.h"
#include "platform/executor.h"
#include "platform/file.h"

namespace glimmer::images {

// `pool` runs the parallel decode/encode (borrowed; must outlive the plugin). `files`: where
// the staged file is read, converted and replaced (borrowed; must outlive the plugin).
StagedPlugin MakeConversionPlugin(std::string output_format, platform::Executor* pool,
                                  int64_t max_virtual_size,
                                  platform::FileSystem& files = platform::FileSystem::Default());

}  // namespace glimmer::images
