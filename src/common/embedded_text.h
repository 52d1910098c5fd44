#pragma once
// A text file compiled into the binary (cmake/embed_text_files.cmake generates the table).

#include <optional>
#include <span>
#include <string_view>

namespace glimmer::common {

struct EmbeddedText {
  std::string_view name;  // the file's name, without its directory
  std::string_view text;
};

// The text of the file called `name` in `files`, or nullopt.
inline std::optional<std::string_view> FindEmbeddedText(std::span<const EmbeddedText> files,
                                                        std::string_view name) {
  for (const EmbeddedText& file : files) {
    if (file.name == name) return file.text;
  }
  return std::nullopt;
}

}  // namespace glimmer::common
