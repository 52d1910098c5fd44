#pragma once
// The files of api/schemas/, embedded by cmake/embed_text_files.cmake (schemas_embedded.cc is
// generated in the build tree).

#include <span>

#include "common/embedded_text.h"

namespace glimmer::api {

std::span<const common::EmbeddedText> EmbeddedSchemaFiles();

}  // namespace glimmer::api
