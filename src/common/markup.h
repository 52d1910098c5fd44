#pragma once
// Escaping of text placed in HTML or XML (element text and quoted attributes).

#include <string>
#include <string_view>

namespace glimmer {

// & < > " ' as entities, exactly as Python's html.escape(text, quote=True) (Glance's HTML error
// bodies are made with it); valid in XML too.
std::string EscapeMarkup(std::string_view text);

}  // namespace glimmer
