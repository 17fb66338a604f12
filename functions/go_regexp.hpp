// Go's regexp package on RE2 (libre2): the syntax Go accepts, Go's compile error texts
// ("error parsing regexp: missing closing ): `(`"), leftmost-first matching in time linear in
// the input, and ReplaceAllString with Go's $-expansion. RE2 and Go's regexp share their design
// and syntax (Perl classes, \p{…}, (?flags), \Q…\E); what RE2 spells differently is translated.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace templet {

class GoRegexp {
 public:
  // regexp.Compile. Throws FuncError with Go's message on a bad pattern.
  explicit GoRegexp(const std::string& pattern);
  ~GoRegexp();
  GoRegexp(GoRegexp&&) noexcept;
  GoRegexp& operator=(GoRegexp&&) noexcept;

  // Regexp.MatchString.
  bool match(std::string_view s) const;
  // Regexp.ReplaceAllString: `repl` expanded per match ($1, ${1}, $name, ${name}, $$).
  std::string replace_all(std::string_view src, std::string_view repl) const;
  // The leftmost match starting at or after `pos` (the text before it is context for ^ and \b);
  // groups[0] is the whole match, unmatched groups have a null data(). False when none.
  bool find(std::string_view s, size_t pos, std::vector<std::string_view>& groups) const;
  // Regexp.SubexpNames: index = group number; "" for unnamed groups and for group 0.
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::unique_ptr<re2::RE2> re_;
  std::vector<std::string> names_;
};

}  // namespace templet
