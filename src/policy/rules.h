#pragma once
// The oslo.policy rule language (the subset Glance's defaults use), parsed once at load and
// evaluated per request.
//
// Grammar (keywords case-insensitive; tokens are separated by whitespace, and parentheses may be
// glued to the start/end of a token, as oslo.policy tokenizes):
//   expr    := and_expr ("or" and_expr)*
//   and_expr:= not_expr ("and" not_expr)*
//   not_expr:= "not" not_expr | "(" expr ")" | check
//   check   := "@"                 always true
//            | "!"                 always false
//            | "rule:" NAME        the named rule (undefined name => false)
//            | "role:" NAME        caller has role NAME (case-insensitive)
//            | KIND ":" MATCH      generic check, see below
// An empty (or all-blank) rule text is always true, as in oslo.policy.
//
// Generic checks: MATCH may contain %(attr)s references, substituted from the target; a reference
// to an attribute the target lacks makes the check false. KIND is either a literal — quoted
// ('public' or "public"), True, False, None, or a number — compared with the substituted MATCH
// ('public':%(visibility)s), or else a credential key (project_id, user_id, is_admin, ...) whose
// value is compared with the substituted MATCH (project_id:%(project_id)s, is_admin:True).
// A credential the caller lacks makes the check false.
//
// Thread-safety: RuleSet is immutable after Create(); Evaluate() may be called concurrently.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace glimmer::policy {

// Flat attribute dictionaries. An absent key means "no value": every check against it is false.
using Attributes = std::map<std::string, std::string, std::less<>>;

// The caller as the rules see it (oslo.policy's "creds").
struct Credentials {
  std::vector<std::string> roles;  // compared case-insensitively
  Attributes values;               // project_id, user_id, is_admin ("True"/"False"), ...
};

namespace internal {
struct Node;  // IWYU pragma: private
}  // namespace internal

// One parsed rule expression.
class Expression {
 public:
  Expression();
  ~Expression();
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;

  // Parses `text`. `rule_name` only labels error messages. Errors: InvalidArgument naming the rule
  // and the 1-based character position of the offending token.
  static StatusOr<Expression> Parse(std::string_view rule_name, std::string_view text);

  // Names referenced with rule:NAME, in order of appearance (duplicates kept).
  std::vector<std::string> ReferencedRules() const;

 private:
  friend class RuleSet;
  std::unique_ptr<internal::Node> root_;
};

// A set of named rules (policy name -> expression).
class RuleSet {
 public:
  RuleSet();
  ~RuleSet();
  RuleSet(RuleSet&&) noexcept;
  RuleSet& operator=(RuleSet&&) noexcept;

  // Parses every rule. Errors: InvalidArgument for a parse error (naming rule and position) or a
  // cycle of rule: references (naming the rules on the cycle). A reference to an undefined rule is
  // not an error (it evaluates to false); it is reported in warnings().
  static StatusOr<RuleSet> Create(const std::map<std::string, std::string>& rules);

  // Evaluates the named rule; an undefined name is false.
  bool Evaluate(std::string_view name, const Credentials& creds, const Attributes& target) const;
  // Evaluates an ad-hoc expression against these rules (its rule: references must not form a
  // cycle through it; they cannot, as it has no name).
  bool Evaluate(const Expression& expr, const Credentials& creds, const Attributes& target) const;

  bool Contains(std::string_view name) const;
  // The rule's source text, or nullptr.
  const std::string* Text(std::string_view name) const;
  // Load-time notes, e.g. "rule 'x' refers to undefined rule 'y' (always false)".
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Entry {
    std::string text;
    Expression expr;
  };
  bool Eval(const internal::Node& node, const Credentials& creds, const Attributes& target) const;

  std::map<std::string, Entry, std::less<>> rules_;
  std::vector<std::string> warnings_;
};

}  // namespace glimmer::policy
