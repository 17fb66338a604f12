// Unified diffs of rendered files, with secrets masked, for `-dry`, logs and change reports.
//
// The output is byte-for-byte what GNU `diff -u --label OLD --label NEW` prints: the same hunks,
// the same line ranges and the same `\ No newline at end of file` markers. Changes are found with
// Myers' O(ND) algorithm (linear-space bisection), so a large file with a small change costs
// little, and change runs are then slid over repeated lines the way GNU diff does, so that the
// hunks users see match the tool they know.
//
// Rendered files often contain secrets, and a diff must never print one. Every occurrence of a
// known secret is replaced by `********`. A value that was rotated away is not known any more,
// so it is recognised by position instead: if an added line reads P + secret + Q, a removed or
// context line of the same hunk that reads P + X + Q (X non-empty) has X masked too, which turns
// `-  password: oldpass` / `+  password: newpass` into `-  password: ********` / `+  password:
// ********`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace templet {

// The mask every secret is replaced by; its length says nothing about the secret's.
inline constexpr std::string_view kSecretMask = "********";

// Replaces every occurrence of each non-empty string of `secrets` in `text` by kSecretMask, in
// its raw bytes and in each encoded form of it (JSON, Go and Python quoting, URL and YAML
// escapes: secret_forms.hpp), so a secret printed inside JSON or a URL is masked too.
// Scanning left to right, at each position the longest secret that matches wins; overlapping
// occurrences are masked as one.
std::string mask_secrets(std::string_view text, const std::vector<std::string>& secrets);

// GNU `diff -u` of two texts, labelled `--- old_label` / `+++ new_label`, with `context` lines of
// context around changes. Returns "" when the texts are equal. Labels and every printed line are
// masked as described above. A secret spanning several lines is masked line by line: each of
// its non-empty lines is treated as a secret of its own.
//
// The search for changes is bounded: past a budget of edit steps per region it settles for a
// correct but not minimal diff, so no input costs the quadratic time of a full Myers search.
// `stats`, when given, receives how much searching was done, which tests use to pin that bound
// without timing it.
struct DiffStats {
  long search_steps = 0;  // diagonals extended by the Myers search, summed over all regions
};
std::string unified_diff(std::string_view old_text, std::string_view new_text,
                         const std::string& old_label, const std::string& new_label,
                         const std::vector<std::string>& secrets, int context = 3,
                         DiffStats* stats = nullptr);

}  // namespace templet
