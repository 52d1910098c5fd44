#include "policy/property_protections.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include "domain/image_attributes.h"

namespace glimmer::policy {
namespace {

constexpr const char* kOperations[] = {"create", "read", "update", "delete"};

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct IniSection {
  std::string name;
  int line = 0;
  std::map<std::string, std::string> options;
};

// The configparser subset: [section] headers, "key = value" / "key: value", '#'/';' comment
// lines, indented continuation lines, strict (no duplicate sections or options). A deque keeps
// `current` valid across push_back.
StatusOr<std::pair<std::map<std::string, std::string>, std::deque<IniSection>>> ParseIni(
    std::string_view text) {
  std::map<std::string, std::string> defaults;
  std::deque<IniSection> sections;
  std::map<std::string, std::string>* current = nullptr;
  std::string* last_value = nullptr;
  int line_no = 0;
  auto error = [&](std::string_view what) {
    return InvalidArgumentError("line " + std::to_string(line_no) + ": " + std::string(what));
  };
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view trimmed = Trim(line);
    if (trimmed.empty()) {
      last_value = nullptr;
      continue;
    }
    if (trimmed.front() == '#' || trimmed.front() == ';') continue;
    bool indented = std::isspace(static_cast<unsigned char>(line.front())) != 0;
    if (indented && last_value) {
      *last_value += "\n" + std::string(trimmed);
      continue;
    }
    if (trimmed.front() == '[') {
      if (trimmed.back() != ']' || trimmed.size() < 3) return error("malformed section header");
      std::string name(trimmed.substr(1, trimmed.size() - 2));
      last_value = nullptr;
      if (name == "DEFAULT") {
        current = &defaults;
        continue;
      }
      for (const IniSection& s : sections) {
        if (s.name == name) return error("duplicate section " + Quote(name));
      }
      sections.push_back({name, line_no, {}});
      current = &sections.back().options;
      continue;
    }
    if (!current) return error("option outside of any [section]");
    size_t sep = trimmed.find_first_of("=:");
    if (sep == std::string_view::npos) return error("expected 'option = value'");
    std::string key = Lower(Trim(trimmed.substr(0, sep)));
    if (key.empty()) return error("empty option name");
    auto [it, inserted] = current->emplace(key, std::string(Trim(trimmed.substr(sep + 1))));
    if (!inserted) return error("duplicate option " + Quote(key));
    last_value = &it->second;
  }
  return std::make_pair(std::move(defaults), std::move(sections));
}

}  // namespace

StatusOr<PropertyRuleFormat> ParsePropertyRuleFormat(std::string_view text) {
  std::string v = Lower(Trim(text));
  if (v == "roles") return PropertyRuleFormat::kRoles;
  if (v == "policies") return PropertyRuleFormat::kPolicies;
  return InvalidArgumentError("value " + Quote(text) + " is not one of roles, policies");
}

StatusOr<std::unique_ptr<PropertyProtections>> PropertyProtections::Parse(
    std::string_view text, PropertyRuleFormat format, const RulePolicy* policy) {
  if (format == PropertyRuleFormat::kPolicies && policy == nullptr) {
    return InvalidArgumentError("the 'policies' rule format needs the policy engine");
  }
  ASSIGN_OR_RETURN(auto ini, ParseIni(text));
  auto& [defaults, ini_sections] = ini;
  std::unique_ptr<PropertyProtections> out(new PropertyProtections());
  out->format_ = format;
  out->policy_ = policy;

  Section reserved;
  reserved.expression = "os_glance.*";
  reserved.regex = std::regex(reserved.expression);
  for (auto& perms : reserved.permissions) perms = {"@"};
  out->sections_.push_back(std::move(reserved));

  for (const IniSection& ini_section : ini_sections) {
    const std::string where = "[" + ini_section.name + "] (line " +
                              std::to_string(ini_section.line) + "): ";
    if (domain::IsServiceProperty(ini_section.name)) {
      out->warnings_.push_back(where + "os_glance* properties are reserved; section ignored");
      continue;
    }
    Section section;
    section.expression = ini_section.name;
    try {
      section.regex = std::regex(ini_section.name, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return InvalidArgumentError(where + "invalid regular expression: " + e.what());
    }
    std::map<std::string, std::string> options = defaults;
    for (const auto& [k, v] : ini_section.options) options[k] = v;
    for (const auto& [k, v] : options) {
      if (std::find(std::begin(kOperations), std::end(kOperations), k) == std::end(kOperations)) {
        out->warnings_.push_back(where + "option " + Quote(k) + " is not an operation; ignored");
      }
    }
    for (int op = 0; op < 4; ++op) {
      auto it = options.find(kOperations[op]);
      if (it == options.end()) {
        return InvalidArgumentError(where + "missing option " + Quote(kOperations[op]) +
                                    " (create, read, update and delete are all required)");
      }
      std::string_view value = Trim(it->second);
      std::vector<std::string>& perms = section.permissions[op];
      if (value.empty()) {
        out->warnings_.push_back(where + kOperations[op] + " is empty: nobody may " +
                                 kOperations[op] + " these properties");
        continue;
      }
      if (format == PropertyRuleFormat::kPolicies) {
        if (value.find(',') != std::string_view::npos) {
          return InvalidArgumentError(where + kOperations[op] + " = " + std::string(value) +
                                      ": only one policy per operation (combine them in the "
                                      "policy file)");
        }
        if (value != "@" && value != "!" && !policy->HasRule(value)) {
          out->warnings_.push_back(where + "policy " + Quote(value) +
                                   " is not defined (always denies)");
        }
        perms.emplace_back(value);
        continue;
      }
      std::string_view rest = value;
      for (;;) {
        size_t comma = rest.find(',');
        perms.push_back(Lower(Trim(rest.substr(0, comma))));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      bool any = std::find(perms.begin(), perms.end(), "@") != perms.end();
      bool none = std::find(perms.begin(), perms.end(), "!") != perms.end();
      if (any && none) {
        return InvalidArgumentError(where + kOperations[op] + " = " + std::string(value) +
                                    ": '@' and '!' are mutually exclusive");
      }
    }
    out->sections_.push_back(std::move(section));
  }
  return out;
}

bool PropertyProtections::Allowed(Operation op, std::string_view property,
                                  const domain::RequestContext& ctx) const {
  const Section* match = nullptr;
  for (const Section& s : sections_) {
    if (std::regex_search(property.begin(), property.end(), s.regex)) {
      match = &s;
      break;
    }
  }
  if (!match) return false;
  const std::vector<std::string>& perms = match->permissions[static_cast<int>(op)];
  if (perms.empty()) return false;
  if (std::find(perms.begin(), perms.end(), "!") != perms.end()) return false;
  if (std::find(perms.begin(), perms.end(), "@") != perms.end()) return true;
  if (format_ == PropertyRuleFormat::kPolicies) {
    return policy_->Check(perms.front(), ctx, Attributes{});
  }
  for (const std::string& role : ctx.roles) {
    if (std::find(perms.begin(), perms.end(), Lower(role)) != perms.end()) return true;
  }
  return false;
}

StatusOr<std::unique_ptr<PropertyProtections>> LoadPropertyProtections(
    const std::string& path, PropertyRuleFormat format, const RulePolicy* policy) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("property protection file " + Quote(path) + " cannot be opened");
  std::ostringstream buf;
  buf << in.rdbuf();
  auto result = PropertyProtections::Parse(buf.str(), format, policy);
  if (!result.ok()) {
    return InvalidArgumentError("property protection file " + Quote(path) + ": " +
                                result.status().message());
  }
  return result;
}

}  // namespace glimmer::policy
