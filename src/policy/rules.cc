#include "policy/rules.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <set>
#include <utility>

namespace glimmer::policy {
namespace internal {

// A piece of a match template: literal text or a %(name)s reference.
struct Segment {
  bool is_ref = false;
  std::string text;
};

struct Node {
  enum class Kind { kAlways, kNever, kAnd, kOr, kNot, kRule, kRole, kGeneric };
  Kind kind = Kind::kNever;
  std::vector<Node> children;   // kAnd, kOr (>= 2), kNot (1)
  std::string name;             // kRule: rule name; kGeneric: credential key
  std::vector<Segment> match;   // kRole, kGeneric
  std::optional<std::string> literal;  // kGeneric with a literal kind
};

}  // namespace internal

namespace {

using internal::Node;
using internal::Segment;

Node MakeNode(Node::Kind kind) {
  Node node;
  node.kind = kind;
  return node;
}

// Bounds nesting of parentheses / "not" so hostile files cannot exhaust the stack.
constexpr int kMaxDepth = 64;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

struct Token {
  enum class Kind { kLParen, kRParen, kAnd, kOr, kNot, kCheck };
  Kind kind;
  std::string text;
  size_t pos;  // 0-based offset in the rule text
};

// oslo.policy's tokenizer: whitespace-separated words; leading '(' and trailing ')' split off.
std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view word = text.substr(start, i - start);
    if (word.empty()) break;
    size_t b = 0;
    while (b < word.size() && word[b] == '(') {
      out.push_back({Token::Kind::kLParen, "(", start + b});
      ++b;
    }
    if (b == word.size()) continue;
    size_t e = word.size();
    while (e > b && word[e - 1] == ')') --e;
    std::string_view core = word.substr(b, e - b);
    if (!core.empty()) {
      std::string lowered = Lower(core);
      Token::Kind kind = lowered == "and"   ? Token::Kind::kAnd
                         : lowered == "or"  ? Token::Kind::kOr
                         : lowered == "not" ? Token::Kind::kNot
                                            : Token::Kind::kCheck;
      out.push_back({kind, std::string(core), start + b});
    }
    for (size_t k = e; k < word.size(); ++k) out.push_back({Token::Kind::kRParen, ")", start + k});
  }
  return out;
}

// Splits "a%(b)sc" into segments; InvalidArgument on a malformed reference.
StatusOr<std::vector<Segment>> ParseTemplate(std::string_view s) {
  std::vector<Segment> out;
  std::string literal;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '%' && i + 1 < s.size() && s[i + 1] == '(') {
      size_t close = s.find(")s", i + 2);
      if (close == std::string_view::npos || close == i + 2) {
        return InvalidArgumentError("malformed %(name)s reference in " + Quote(s));
      }
      if (!literal.empty()) out.push_back({false, std::move(literal)});
      literal.clear();
      out.push_back({true, std::string(s.substr(i + 2, close - i - 2))});
      i = close + 2;
    } else if (s[i] == '%' && i + 1 < s.size() && s[i + 1] == '%') {
      literal.push_back('%');
      i += 2;
    } else {
      literal.push_back(s[i++]);
    }
  }
  if (!literal.empty()) out.push_back({false, std::move(literal)});
  return out;
}

// Python's literal_eval over the kinds that can appear before ':' -> its str(), or nullopt when
// the kind is a credential key.
std::optional<std::string> LiteralKind(std::string_view kind) {
  if (kind.size() >= 2 && (kind.front() == '\'' || kind.front() == '"') &&
      kind.back() == kind.front()) {
    return std::string(kind.substr(1, kind.size() - 2));
  }
  if (kind == "True" || kind == "False" || kind == "None") return std::string(kind);
  bool digits = !kind.empty();
  size_t start = (!kind.empty() && kind[0] == '-') ? 1 : 0;
  if (start == kind.size()) digits = false;
  for (size_t i = start; i < kind.size() && digits; ++i) {
    digits = std::isdigit(static_cast<unsigned char>(kind[i])) != 0;
  }
  if (digits) return std::string(kind);
  return std::nullopt;
}

class Parser {
 public:
  Parser(std::string_view rule_name, std::string_view text)
      : rule_name_(rule_name), tokens_(Tokenize(text)), text_size_(text.size()) {}

  StatusOr<Node> ParseAll() {
    if (tokens_.empty()) return MakeNode(Node::Kind::kAlways);
    ASSIGN_OR_RETURN(Node root, ParseOr(0));
    if (pos_ < tokens_.size()) return Error(tokens_[pos_], "expected 'and', 'or' or end of rule");
    return root;
  }

 private:
  Status Error(const Token& tok, std::string_view what) const {
    return InvalidArgumentError("policy rule " + Quote(rule_name_) + ": at position " +
                                std::to_string(tok.pos + 1) + " (" + Quote(tok.text) + "): " +
                                std::string(what));
  }
  Status ErrorAtEnd(std::string_view what) const {
    return InvalidArgumentError("policy rule " + Quote(rule_name_) + ": at position " +
                                std::to_string(text_size_ + 1) + " (end of rule): " +
                                std::string(what));
  }

  bool At(Token::Kind kind) const { return pos_ < tokens_.size() && tokens_[pos_].kind == kind; }

  StatusOr<Node> ParseOr(int depth) {
    ASSIGN_OR_RETURN(Node left, ParseAnd(depth));
    if (!At(Token::Kind::kOr)) return left;
    Node node = MakeNode(Node::Kind::kOr);
    node.children.push_back(std::move(left));
    while (At(Token::Kind::kOr)) {
      ++pos_;
      ASSIGN_OR_RETURN(Node right, ParseAnd(depth));
      node.children.push_back(std::move(right));
    }
    return node;
  }

  StatusOr<Node> ParseAnd(int depth) {
    ASSIGN_OR_RETURN(Node left, ParseNot(depth));
    if (!At(Token::Kind::kAnd)) return left;
    Node node = MakeNode(Node::Kind::kAnd);
    node.children.push_back(std::move(left));
    while (At(Token::Kind::kAnd)) {
      ++pos_;
      ASSIGN_OR_RETURN(Node right, ParseNot(depth));
      node.children.push_back(std::move(right));
    }
    return node;
  }

  StatusOr<Node> ParseNot(int depth) {
    if (pos_ >= tokens_.size()) return ErrorAtEnd("expected a check, 'not' or '('");
    const Token& tok = tokens_[pos_];
    if (depth >= kMaxDepth) return Error(tok, "nesting deeper than 64 levels");
    switch (tok.kind) {
      case Token::Kind::kNot: {
        ++pos_;
        ASSIGN_OR_RETURN(Node operand, ParseNot(depth + 1));
        Node node = MakeNode(Node::Kind::kNot);
        node.children.push_back(std::move(operand));
        return node;
      }
      case Token::Kind::kLParen: {
        ++pos_;
        ASSIGN_OR_RETURN(Node inner, ParseOr(depth + 1));
        if (pos_ >= tokens_.size()) return ErrorAtEnd("missing ')' for '(' at position " +
                                                      std::to_string(tok.pos + 1));
        if (!At(Token::Kind::kRParen)) return Error(tokens_[pos_], "expected ')'");
        ++pos_;
        return inner;
      }
      case Token::Kind::kCheck:
        ++pos_;
        return ParseCheck(tok);
      case Token::Kind::kRParen:
      case Token::Kind::kAnd:
      case Token::Kind::kOr:
        return Error(tok, "expected a check, 'not' or '('");
    }
    return Error(tok, "unexpected token");
  }

  StatusOr<Node> ParseCheck(const Token& tok) {
    if (tok.text == "@") return MakeNode(Node::Kind::kAlways);
    if (tok.text == "!") return MakeNode(Node::Kind::kNever);
    size_t colon = tok.text.find(':');
    if (colon == std::string::npos) {
      return Error(tok, "not a check (expected '@', '!', 'rule:NAME', 'role:NAME' or KIND:VALUE)");
    }
    std::string_view kind = std::string_view(tok.text).substr(0, colon);
    std::string_view match = std::string_view(tok.text).substr(colon + 1);
    if (kind.empty() || match.empty()) return Error(tok, "empty kind or value in check");
    Node node;
    if (kind == "rule") {
      node.kind = Node::Kind::kRule;
      node.name = std::string(match);
      return node;
    }
    auto segments = ParseTemplate(match);
    if (!segments.ok()) return Error(tok, segments.status().message());
    node.match = std::move(*segments);
    if (kind == "role") {
      node.kind = Node::Kind::kRole;
      return node;
    }
    node.kind = Node::Kind::kGeneric;
    node.literal = LiteralKind(kind);
    if (!node.literal) node.name = std::string(kind);
    return node;
  }

  std::string rule_name_;
  std::vector<Token> tokens_;
  size_t text_size_;
  size_t pos_ = 0;
};

void CollectRules(const Node& node, std::vector<std::string>& out) {
  if (node.kind == Node::Kind::kRule) out.push_back(node.name);
  for (const Node& child : node.children) CollectRules(child, out);
}

// Substitutes %(name)s references from the target; nullopt if one is missing.
std::optional<std::string> Substitute(const std::vector<Segment>& segments,
                                      const Attributes& target) {
  std::string out;
  for (const Segment& s : segments) {
    if (!s.is_ref) {
      out += s.text;
      continue;
    }
    auto it = target.find(s.text);
    if (it == target.end()) return std::nullopt;
    out += it->second;
  }
  return out;
}

}  // namespace

Expression::Expression() = default;
Expression::~Expression() = default;
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;

StatusOr<Expression> Expression::Parse(std::string_view rule_name, std::string_view text) {
  Parser parser(rule_name, text);
  ASSIGN_OR_RETURN(Node root, parser.ParseAll());
  Expression expr;
  expr.root_ = std::make_unique<Node>(std::move(root));
  return expr;
}

std::vector<std::string> Expression::ReferencedRules() const {
  std::vector<std::string> out;
  if (root_) CollectRules(*root_, out);
  return out;
}

RuleSet::RuleSet() = default;
RuleSet::~RuleSet() = default;
RuleSet::RuleSet(RuleSet&&) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&&) noexcept = default;

StatusOr<RuleSet> RuleSet::Create(const std::map<std::string, std::string>& rules) {
  RuleSet set;
  for (const auto& [name, text] : rules) {
    ASSIGN_OR_RETURN(Expression expr, Expression::Parse(name, text));
    set.rules_.emplace(name, Entry{text, std::move(expr)});
  }
  // Undefined references (warnings) and cycles (errors), by depth-first search.
  std::map<std::string, std::vector<std::string>, std::less<>> edges;
  for (const auto& [name, entry] : set.rules_) {
    std::vector<std::string> refs = entry.expr.ReferencedRules();
    std::set<std::string> seen;
    for (const std::string& ref : refs) {
      if (!seen.insert(ref).second) continue;
      if (!set.rules_.contains(ref)) {
        set.warnings_.push_back("policy rule " + Quote(name) + " refers to undefined rule " +
                                Quote(ref) + " (evaluates to false)");
        continue;
      }
      edges[name].push_back(ref);
    }
  }
  enum class Mark { kNone, kActive, kDone };
  std::map<std::string, Mark, std::less<>> marks;
  std::vector<std::string> stack;
  std::function<Status(const std::string&)> visit = [&](const std::string& name) -> Status {
    Mark& mark = marks[name];
    if (mark == Mark::kDone) return OkStatus();
    if (mark == Mark::kActive) {
      auto start = std::find(stack.begin(), stack.end(), name);
      std::string cycle;
      for (auto it = start; it != stack.end(); ++it) cycle += Quote(*it) + " -> ";
      return InvalidArgumentError("policy rules form a cycle: " + cycle + Quote(name));
    }
    mark = Mark::kActive;
    stack.push_back(name);
    for (const std::string& next : edges[name]) RETURN_IF_ERROR(visit(next));
    stack.pop_back();
    marks[name] = Mark::kDone;
    return OkStatus();
  };
  for (const auto& [name, entry] : set.rules_) RETURN_IF_ERROR(visit(name));
  return set;
}

bool RuleSet::Contains(std::string_view name) const { return rules_.contains(name); }

const std::string* RuleSet::Text(std::string_view name) const {
  auto it = rules_.find(name);
  return it == rules_.end() ? nullptr : &it->second.text;
}

bool RuleSet::Evaluate(std::string_view name, const Credentials& creds,
                       const Attributes& target) const {
  auto it = rules_.find(name);
  if (it == rules_.end() || !it->second.expr.root_) return false;
  return Eval(*it->second.expr.root_, creds, target);
}

bool RuleSet::Evaluate(const Expression& expr, const Credentials& creds,
                       const Attributes& target) const {
  return expr.root_ && Eval(*expr.root_, creds, target);
}

bool RuleSet::Eval(const Node& node, const Credentials& creds, const Attributes& target) const {
  switch (node.kind) {
    case Node::Kind::kAlways:
      return true;
    case Node::Kind::kNever:
      return false;
    case Node::Kind::kAnd:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](const Node& c) { return Eval(c, creds, target); });
    case Node::Kind::kOr:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](const Node& c) { return Eval(c, creds, target); });
    case Node::Kind::kNot:
      return !Eval(node.children.front(), creds, target);
    case Node::Kind::kRule:
      // Acyclic by construction (Create rejects cycles), so this recursion terminates.
      return Evaluate(node.name, creds, target);
    case Node::Kind::kRole: {
      std::optional<std::string> role = Substitute(node.match, target);
      if (!role) return false;
      std::string wanted = Lower(*role);
      return std::any_of(creds.roles.begin(), creds.roles.end(),
                         [&](const std::string& r) { return Lower(r) == wanted; });
    }
    case Node::Kind::kGeneric: {
      std::optional<std::string> match = Substitute(node.match, target);
      if (!match) return false;
      if (node.literal) return *node.literal == *match;
      auto it = creds.values.find(node.name);
      return it != creds.values.end() && it->second == *match;
    }
  }
  return false;
}

}  // namespace glimmer::policy
