#include "policy/policy_file.h"

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace glimmer::policy {
namespace {

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

bool IsCommentLine(std::string_view s) {
  s = TrimLeft(s);
  return !s.empty() && s.front() == '#';
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The flat-mapping YAML subset described in policy_file.h.
class YamlParser {
 public:
  explicit YamlParser(std::string_view text) {
    size_t start = 0;
    while (start <= text.size()) {
      size_t nl = text.find('\n', start);
      std::string_view line = text.substr(start, nl == std::string_view::npos ? text.npos
                                                                              : nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines_.push_back(line);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }

  StatusOr<std::map<std::string, std::string>> Parse() {
    std::map<std::string, std::string> out;
    bool seen_content = false;
    while (i_ < lines_.size()) {
      std::string_view line = lines_[i_];
      if (IsBlank(line) || IsCommentLine(line)) {
        ++i_;
        continue;
      }
      if (TrimRight(line) == "---") {
        if (seen_content) return Error("only one YAML document is allowed");
        seen_content = true;
        ++i_;
        continue;
      }
      if (TrimRight(line) == "...") break;
      seen_content = true;
      if (std::isspace(static_cast<unsigned char>(line.front()))) {
        return Error("unexpected indentation (the policy file must be a flat mapping of "
                     "\"name\": \"rule\")");
      }
      size_t line_no = i_ + 1;
      ASSIGN_OR_RETURN(std::string key, ParseKey(line));
      ASSIGN_OR_RETURN(std::string value, ParseValue());
      if (!out.emplace(key, std::move(value)).second) {
        return ErrorAt(line_no, "duplicate policy name " + Quote(key));
      }
    }
    return out;
  }

 private:
  Status ErrorAt(size_t line_no, std::string_view what) const {
    return InvalidArgumentError("line " + std::to_string(line_no) + ": " + std::string(what));
  }
  Status Error(std::string_view what) const { return ErrorAt(i_ + 1, what); }

  // Parses the key at the start of lines_[i_]; leaves rest_ at the text after ':'.
  StatusOr<std::string> ParseKey(std::string_view line) {
    std::string key;
    std::string_view rest;
    char c = line.front();
    if (c == '"' || c == '\'') {
      rest = line;
      ASSIGN_OR_RETURN(key, ParseQuotedOnLine(rest));
      rest = TrimLeft(rest);
      if (rest.empty() || rest.front() != ':') return Error("expected ':' after the key");
      rest.remove_prefix(1);
    } else {
      if (std::string_view("-?[]{}&*!|>%@`,#").find(c) != std::string_view::npos) {
        return Error("expected \"name\": \"rule\" (sequences, flow collections, anchors and tags "
                     "are not supported)");
      }
      size_t colon = 0;
      for (;;) {
        colon = line.find(':', colon);
        if (colon == std::string_view::npos) return Error("expected \"name\": \"rule\"");
        if (colon + 1 == line.size() || line[colon + 1] == ' ' || line[colon + 1] == '\t') break;
        ++colon;
      }
      key = std::string(TrimRight(line.substr(0, colon)));
      rest = line.substr(colon + 1);
    }
    if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') {
      return Error("expected a space after ':'");
    }
    rest_ = rest;
    return key;
  }

  // Parses a quoted scalar starting at s.front() that ends on this line; advances s past it.
  StatusOr<std::string> ParseQuotedOnLine(std::string_view& s) {
    char q = s.front();
    std::string out;
    size_t k = 1;
    for (; k < s.size(); ++k) {
      char c = s[k];
      if (q == '\'' && c == '\'') {
        if (k + 1 < s.size() && s[k + 1] == '\'') {
          out.push_back('\'');
          ++k;
          continue;
        }
        s.remove_prefix(k + 1);
        return out;
      }
      if (q == '"' && c == '"') {
        s.remove_prefix(k + 1);
        return out;
      }
      if (q == '"' && c == '\\') {
        ASSIGN_OR_RETURN(k, Escape(s, k, out));
        continue;
      }
      out.push_back(c);
    }
    return Error("unterminated quoted key");
  }

  // Handles the escape at s[k] == '\\'; returns the index of its last character.
  StatusOr<size_t> Escape(std::string_view s, size_t k, std::string& out) {
    if (k + 1 >= s.size()) return Error("backslash at end of line in a double-quoted string");
    char e = s[k + 1];
    switch (e) {
      case '\\': out.push_back('\\'); return k + 1;
      case '"': out.push_back('"'); return k + 1;
      case '/': out.push_back('/'); return k + 1;
      case 'n': out.push_back('\n'); return k + 1;
      case 't': out.push_back('\t'); return k + 1;
      case 'r': out.push_back('\r'); return k + 1;
      case ' ': out.push_back(' '); return k + 1;
      case 'u': {
        if (k + 6 > s.size()) return Error("truncated \\u escape");
        uint32_t cp = 0;
        for (size_t j = k + 2; j < k + 6; ++j) {
          char h = s[j];
          if (!std::isxdigit(static_cast<unsigned char>(h))) return Error("bad \\u escape");
          cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                   ? h - '0'
                                                   : std::tolower(h) - 'a' + 10);
        }
        AppendUtf8(out, cp);
        return k + 5;
      }
      default:
        return Error(std::string("unsupported escape '\\") + e + "'");
    }
  }

  // Lines after i_ that are indented and non-blank (a multi-line scalar's continuation).
  bool NextIsContinuation() const {
    return i_ + 1 < lines_.size() && !IsBlank(lines_[i_ + 1]) &&
           std::isspace(static_cast<unsigned char>(lines_[i_ + 1].front()));
  }

  // Parses the value starting in rest_ (the key's line is lines_[i_]); leaves i_ on the next line.
  StatusOr<std::string> ParseValue() {
    std::string_view v = TrimLeft(rest_);
    if (!v.empty() && (v.front() == '"' || v.front() == '\'')) return ParseQuotedValue(v);
    if (!v.empty() && (v.front() == '|' || v.front() == '>')) return ParseBlockScalar(v);
    std::string value;
    if (!v.empty() && v.front() != '#') {
      if (std::string_view("[]{}&*!%@`,").find(v.front()) != std::string_view::npos ||
          ((v.front() == '-' || v.front() == '?') && (v.size() == 1 || v[1] == ' '))) {
        return Error("value must be a plain or quoted string; quote values that start with " +
                     Quote(v.substr(0, 1)) + " (e.g. \"!\" or \"@\")");
      }
      ASSIGN_OR_RETURN(value, PlainPart(v));
    }
    size_t key_line = i_;
    while (NextIsContinuation()) {
      ++i_;
      std::string_view cont = TrimLeft(lines_[i_]);
      if (cont.front() == '#') break;
      if (cont.front() == '-' && (cont.size() == 1 || cont[1] == ' ')) {
        return Error("nested sequences are not supported (flat \"name\": \"rule\" mapping only)");
      }
      ASSIGN_OR_RETURN(std::string part, PlainPart(cont));
      if (!value.empty()) value.push_back(' ');
      value += part;
    }
    ++i_;
    if (value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL") {
      return ErrorAt(key_line + 1, "the rule is empty/null; write \"\" for an always-true rule");
    }
    static const char* kNonStrings[] = {"true", "True", "TRUE", "false", "False", "FALSE",
                                        "yes",  "Yes",  "YES",  "no",    "No",    "NO",
                                        "on",   "On",   "ON",   "off",   "Off",   "OFF"};
    for (const char* b : kNonStrings) {
      if (value == b) return ErrorAt(key_line + 1, "the rule is a boolean, not a string; quote it");
    }
    bool numeric = true;
    for (char c : value) {
      if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+') {
        numeric = false;
      }
    }
    if (numeric) return ErrorAt(key_line + 1, "the rule is a number, not a string; quote it");
    return value;
  }

  // A plain scalar's text on one line: up to a " #" comment, trimmed; ": " is not allowed.
  StatusOr<std::string> PlainPart(std::string_view s) {
    size_t hash = s.find(" #");
    size_t tab_hash = s.find("\t#");
    if (tab_hash < hash) hash = tab_hash;
    if (hash != std::string_view::npos) s = s.substr(0, hash);
    s = TrimRight(TrimLeft(s));
    if (s.find(": ") != std::string_view::npos || s.find(":\t") != std::string_view::npos ||
        (!s.empty() && s.back() == ':')) {
      return Error("nested mappings are not supported (flat \"name\": \"rule\" mapping only); "
                   "quote values that contain ': '");
    }
    return std::string(s);
  }

  StatusOr<std::string> ParseQuotedValue(std::string_view v) {
    char q = v.front();
    std::string out;
    size_t k = 1;
    std::string_view s = v;
    for (;;) {
      for (; k < s.size(); ++k) {
        char c = s[k];
        if (c == q) {
          if (q == '\'' && k + 1 < s.size() && s[k + 1] == '\'') {
            out.push_back('\'');
            ++k;
            continue;
          }
          std::string_view after = TrimLeft(s.substr(k + 1));
          if (!after.empty() && after.front() != '#') {
            return Error("unexpected text after the closing quote");
          }
          ++i_;
          return out;
        }
        if (q == '"' && c == '\\') {
          ASSIGN_OR_RETURN(k, Escape(s, k, out));
          continue;
        }
        out.push_back(c);
      }
      // Multi-line quoted scalar: the line break folds to a space.
      if (i_ + 1 >= lines_.size()) return Error("unterminated quoted string");
      ++i_;
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      out.push_back(' ');
      s = TrimLeft(lines_[i_]);
      k = 0;
    }
  }

  StatusOr<std::string> ParseBlockScalar(std::string_view v) {
    bool literal = v.front() == '|';
    std::string_view header = TrimRight(v.substr(1));
    size_t hash = header.find('#');
    if (hash != std::string_view::npos) header = TrimRight(header.substr(0, hash));
    bool strip = header == "-";
    if (!header.empty() && header != "-" && header != "+") {
      return Error("unsupported block scalar header " + Quote(v));
    }
    size_t key_line = i_;
    std::vector<std::string_view> body;
    size_t indent = 0;
    while (i_ + 1 < lines_.size()) {
      std::string_view next = lines_[i_ + 1];
      if (IsBlank(next)) {
        body.push_back("");
        ++i_;
        continue;
      }
      size_t ind = next.size() - TrimLeft(next).size();
      if (ind == 0) break;
      if (indent == 0) indent = ind;
      if (ind < indent) return ErrorAt(i_ + 2, "inconsistent indentation in a block scalar");
      body.push_back(next.substr(indent));
      ++i_;
    }
    ++i_;
    while (!body.empty() && body.back().empty()) body.pop_back();
    if (body.empty()) return ErrorAt(key_line + 1, "empty block scalar");
    std::string out;
    for (size_t j = 0; j < body.size(); ++j) {
      if (j > 0) out.push_back(literal ? '\n' : ' ');
      out += body[j];
    }
    if (!strip) out.push_back('\n');
    return out;
  }

  std::vector<std::string_view> lines_;
  size_t i_ = 0;
  std::string_view rest_;
};

StatusOr<std::map<std::string, std::string>> ParseJson(std::string_view text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("invalid JSON: ") + e.what());
  }
  if (!doc.is_object()) return InvalidArgumentError("the policy document must be a JSON object");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : doc.items()) {
    if (!value.is_string()) {
      return InvalidArgumentError("policy " + Quote(key) + ": the rule must be a string, not " +
                                  value.type_name());
    }
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

}  // namespace

StatusOr<std::map<std::string, std::string>> ParsePolicyDocument(std::string_view text) {
  // JSON when the first meaningful character opens an object.
  std::string_view rest = text;
  while (!rest.empty()) {
    rest = TrimLeft(rest);
    if (!rest.empty() && rest.front() == '#') {
      size_t nl = rest.find('\n');
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      continue;
    }
    break;
  }
  if (!rest.empty() && rest.front() == '{') return ParseJson(rest);
  return YamlParser(text).Parse();
}

StatusOr<std::map<std::string, std::string>> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("policy file " + Quote(path) + " cannot be opened");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return InvalidArgumentError("policy file " + Quote(path) + ": read error");
  auto doc = ParsePolicyDocument(buf.str());
  if (!doc.ok()) {
    return InvalidArgumentError("policy file " + Quote(path) + ": " + doc.status().message());
  }
  return doc;
}

}  // namespace glimmer::policy
