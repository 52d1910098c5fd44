#pragma once
// Reading an operator policy file (oslo.policy's policy.yaml / policy.json): a flat mapping of
// policy name -> rule text.
//
// Accepted: a JSON object whose values are all strings, or the YAML subset such files use — a
// block mapping at column 0 of plain, 'single'- or "double"-quoted keys and values (values may
// continue on more-indented lines, or be | / > block scalars), '#' comments, an optional leading
// '---'. An empty document (only comments) is an empty mapping. Anything else — nested mappings,
// sequences, anchors, tags, non-string values (null, booleans, numbers), duplicate keys — is
// rejected with InvalidArgument naming the line. Note that YAML requires '!' and '@' values to be
// quoted ("download_image": "!"), as oslo.policy's own samples do.

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace glimmer::policy {

// Parses a policy document (JSON if its first non-blank, non-comment character is '{').
// Errors: InvalidArgument with the line (YAML) or parser message (JSON).
StatusOr<std::map<std::string, std::string>> ParsePolicyDocument(std::string_view text);

// Reads and parses `path`. Errors: NotFound if it cannot be opened; InvalidArgument (prefixed
// with the path) for bad contents.
StatusOr<std::map<std::string, std::string>> LoadPolicyFile(const std::string& path);

}  // namespace glimmer::policy
