#include "renderer/diff.hpp"

#include "renderer/secret_forms.hpp"

#include <algorithm>
#include <climits>
#include <unordered_map>
#include <utility>

namespace templet {

namespace {

using Interval = std::pair<size_t, size_t>;  // [first, second)

// Every occurrence of every secret in `text`, overlapping and adjacent ones merged, in order.
std::vector<Interval> secret_intervals(std::string_view text,
                                       const std::vector<std::string>& secrets) {
  std::vector<Interval> found;
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    for (size_t pos = text.find(s); pos != std::string_view::npos; pos = text.find(s, pos + 1)) {
      found.emplace_back(pos, pos + s.size());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<Interval> merged;
  for (const Interval& iv : found) {
    if (!merged.empty() && iv.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, iv.second);
    } else {
      merged.push_back(iv);
    }
  }
  return merged;
}

// Every secret in each of the encoded forms a log line or message may hold it in.
std::vector<std::string> all_forms(const std::vector<std::string>& secrets) {
  std::vector<std::string> out;
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    for (std::string& f : secret_forms(s)) out.push_back(std::move(f));
  }
  return out;
}

// `text` with each interval (sorted, disjoint) replaced by the mask.
std::string apply_mask(std::string_view text, const std::vector<Interval>& intervals) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const Interval& iv : intervals) {
    out.append(text.substr(pos, iv.first - pos));
    out.append(kSecretMask);
    pos = iv.second;
  }
  out.append(text.substr(pos));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Finding the changes.
//
// Lines are compared as whole byte strings including their '\n', so a last line without a newline
// differs from the same text with one, as in GNU diff. Each line is interned to an integer first.

class ChangeFinder {
 public:
  ChangeFinder(const std::vector<int>& a, const std::vector<int>& b) : a_(a), b_(b) {
    // Edit steps one bisection may take before settling for a good split instead of the best.
    // Generous enough that every ordinary config file gets a minimal diff.
    size_t lines = a.size() + b.size();
    int root = 1;
    while (static_cast<size_t>(root) * static_cast<size_t>(root) < lines) root *= 2;
    cost_limit_ = std::max(4096, root * 16);
  }

  // Marks changed lines of a in ca and of b in cb (both pre-sized to the lengths of a and b).
  // Returns the number of diagonal steps the search took (DiffStats).
  long run(std::vector<char>& ca, std::vector<char>& cb) {
    ca_ = &ca;
    cb_ = &cb;
    size_t diags = a_.size() + b_.size() + 3;
    fwd_.assign(diags, 0);
    bwd_.assign(diags, 0);
    compare(0, static_cast<int>(a_.size()), 0, static_cast<int>(b_.size()));
    return steps_;
  }

 private:
  // Diagonal k = x - y lives at index k + offset; k ranges over [-len(b) - 1, len(a) + 1].
  int& fwd(int k) { return fwd_[static_cast<size_t>(k + static_cast<int>(b_.size()) + 1)]; }
  int& bwd(int k) { return bwd_[static_cast<size_t>(k + static_cast<int>(b_.size()) + 1)]; }

  // Divide and conquer on the middle of an optimal edit path (Myers 1986, section 4b).
  void compare(int xlo, int xhi, int ylo, int yhi) {
    while (xlo < xhi && ylo < yhi && a_[xlo] == b_[ylo]) ++xlo, ++ylo;
    while (xlo < xhi && ylo < yhi && a_[xhi - 1] == b_[yhi - 1]) --xhi, --yhi;
    if (xlo == xhi) {
      for (int y = ylo; y < yhi; ++y) (*cb_)[y] = 1;
    } else if (ylo == yhi) {
      for (int x = xlo; x < xhi; ++x) (*ca_)[x] = 1;
    } else {
      auto [xmid, ymid] = middle(xlo, xhi, ylo, yhi);
      compare(xlo, xmid, ylo, ymid);
      compare(xmid, xhi, ymid, yhi);
    }
  }

  // Runs D-paths forward from (xlo, ylo) and backward from (xhi, yhi) in lockstep until they
  // meet; returns the meeting point, which lies on an optimal path. The box has at least one
  // difference and its first and last lines differ, so the point is strictly inside it.
  std::pair<int, int> middle(int xlo, int xhi, int ylo, int yhi) {
    int budget = cost_limit_;
    const int kmin = xlo - yhi, kmax = xhi - ylo;  // diagonals inside the box
    const int fk = xlo - ylo, bk = xhi - yhi;      // start diagonals
    const bool odd = ((fk - bk) & 1) != 0;
    int flo = fk, fhi = fk, blo = bk, bhi = bk;  // diagonals reached so far
    fwd(fk) = xlo;
    bwd(bk) = xhi;
    for (;;) {
      // One more edit forward. Out-of-range neighbours read as unreachable sentinels; at the
      // box's edge the reachable range shrinks to keep D's parity.
      if (flo > kmin) {
        fwd(--flo - 1) = -1;
      } else {
        ++flo;
      }
      if (fhi < kmax) {
        fwd(++fhi + 1) = -1;
      } else {
        --fhi;
      }
      steps_ += (fhi - flo) / 2 + 1;
      for (int k = fhi; k >= flo; k -= 2) {
        int left = fwd(k - 1), up = fwd(k + 1);
        int x = left < up ? up : left + 1;
        x = std::min({x, xhi, yhi + k});
        int y = x - k;
        while (x < xhi && y < yhi && a_[x] == b_[y]) ++x, ++y;
        fwd(k) = x;
        if (odd && blo <= k && k <= bhi && bwd(k) <= x) return {x, y};
      }
      // One more edit backward.
      if (blo > kmin) {
        bwd(--blo - 1) = INT_MAX;
      } else {
        ++blo;
      }
      if (bhi < kmax) {
        bwd(++bhi + 1) = INT_MAX;
      } else {
        --bhi;
      }
      steps_ += (bhi - blo) / 2 + 1;
      for (int k = bhi; k >= blo; k -= 2) {
        int down = bwd(k - 1), right = bwd(k + 1);
        int x = down < right ? down : right - 1;
        x = std::max({x, xlo, ylo + k});
        int y = x - k;
        while (x > xlo && y > ylo && a_[x - 1] == b_[y - 1]) --x, --y;
        bwd(k) = x;
        if (!odd && flo <= k && k <= fhi && x <= fwd(k)) return {x, y};
      }
      if (--budget == 0) return furthest_forward(flo, fhi, xhi, yhi);
    }
  }

  // Gives up on optimality for this box: splits it at the forward point that got furthest, so
  // pathological inputs (many lines, all reordered) still finish in bounded time. The result
  // is a correct diff, only not the smallest.
  std::pair<int, int> furthest_forward(int flo, int fhi, int xhi, int yhi) {
    std::pair<int, int> best{-1, -1};
    for (int k = fhi; k >= flo; k -= 2) {
      int x = fwd(k), y = x - k;
      if (x == xhi && y == yhi) continue;
      if (best.first < 0 || x + y > best.first + best.second) best = {x, y};
    }
    return best;
  }

  const std::vector<int>& a_;
  const std::vector<int>& b_;
  std::vector<char>* ca_ = nullptr;
  std::vector<char>* cb_ = nullptr;
  std::vector<int> fwd_, bwd_;
  int cost_limit_ = 0;
  long steps_ = 0;
};

// Changed flags with a false sentinel on each side: index i of the file is flag[i + 1].
struct Flags {
  std::vector<char> v;
  explicit Flags(size_t n) : v(n + 2, 0) {}
  char& operator[](long i) { return v[static_cast<size_t>(i + 1)]; }
};

// Where several runs of changes are equally good (a change next to a repeated line), moves each
// run to the place GNU diff puts it: merged with neighbouring runs where sliding allows, else as
// far down as it goes, but back up to where it lines up with a change in the other file, if it
// passed one on the way (so a replaced line reads as one change instead of two).
void slide_runs(const std::vector<int>& ids, Flags& mine, Flags& other, long n, long other_n) {
  long i = 0, j = 0;  // j: the line of the other file matched with line i of this one
  for (;;) {
    while (i < n && !mine[i]) {
      while (other[j]) ++j;
      ++i, ++j;
    }
    if (i == n) break;
    long start = i;
    while (mine[i]) ++i;
    while (other[j]) ++j;
    long aligned;  // an end of this run that meets a run of the other file; n means none
    long length;
    do {
      length = i - start;
      // Up, merging with earlier runs, while the line above equals the run's last line.
      while (start > 0 && ids[start - 1] == ids[i - 1]) {
        mine[--start] = 1;
        mine[--i] = 0;
        while (mine[start - 1]) --start;
        do --j;
        while (other[j]);
      }
      aligned = other[j - 1] ? i : n;
      // Down, merging with later runs, while the line below equals the run's first line.
      while (i < n && ids[start] == ids[i]) {
        mine[start++] = 0;
        mine[i++] = 1;
        while (mine[i]) ++i;
        ++j;
        while (j < other_n && other[j]) {
          aligned = i;
          ++j;
        }
      }
    } while (length != i - start);
    while (aligned < i) {
      mine[--start] = 1;
      mine[--i] = 0;
      do --j;
      while (other[j]);
    }
  }
}

struct Change {
  long old_start, deleted, new_start, inserted;
};

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return lines;
}

// Marks the changed lines of two files.
//
// Like GNU diff, only a window is analysed: the lines both files share at their start and end
// are left out, except for `horizon` of them next to the differing part. This matters beyond
// speed, because the lines in the window decide which lines count as unmatched and how far a
// run of changes can slide, and so exactly which of several equally small diffs is printed.
void find_changed_lines(const std::vector<std::string_view>& old_lines,
                        const std::vector<std::string_view>& new_lines, long horizon, Flags& ca,
                        Flags& cb, DiffStats& stats) {
  const long n = static_cast<long>(old_lines.size()), m = static_cast<long>(new_lines.size());
  long prefix = 0, suffix = 0;
  while (prefix < n && prefix < m && old_lines[prefix] == new_lines[prefix]) ++prefix;
  while (suffix < n - prefix && suffix < m - prefix &&
         old_lines[n - 1 - suffix] == new_lines[m - 1 - suffix]) {
    ++suffix;
  }
  const long lo = std::max(0L, prefix - horizon);
  const long cut = std::max(0L, suffix - horizon);
  const long wn = n - cut - lo, wm = m - cut - lo;  // window sizes

  std::unordered_map<std::string_view, int> intern;
  std::vector<int> a(static_cast<size_t>(wn)), b(static_cast<size_t>(wm));
  for (long i = 0; i < wn; ++i) {
    a[i] = intern.emplace(old_lines[lo + i], static_cast<int>(intern.size())).first->second;
  }
  for (long j = 0; j < wm; ++j) {
    b[j] = intern.emplace(new_lines[lo + j], static_cast<int>(intern.size())).first->second;
  }

  // A line without a match in the other file is certainly changed; leaving such lines out of
  // the search makes it cheaper and keeps them from steering which equal lines get matched.
  std::vector<char> in_a(intern.size(), 0), in_b(intern.size(), 0);
  for (int id : a) in_a[id] = 1;
  for (int id : b) in_b[id] = 1;
  std::vector<int> ka, kb;  // ids of the lines searched
  std::vector<long> ka_at, kb_at;
  Flags wa(a.size()), wb(b.size());
  for (long i = 0; i < wn; ++i) {
    if (in_b[a[i]]) {
      ka.push_back(a[i]);
      ka_at.push_back(i);
    } else {
      wa[i] = 1;
    }
  }
  for (long j = 0; j < wm; ++j) {
    if (in_a[b[j]]) {
      kb.push_back(b[j]);
      kb_at.push_back(j);
    } else {
      wb[j] = 1;
    }
  }
  std::vector<char> kca(ka.size(), 0), kcb(kb.size(), 0);
  stats.search_steps += ChangeFinder(ka, kb).run(kca, kcb);
  for (size_t i = 0; i < ka.size(); ++i) wa[ka_at[i]] = kca[i];
  for (size_t j = 0; j < kb.size(); ++j) wb[kb_at[j]] = kcb[j];

  slide_runs(a, wa, wb, wn, wm);
  slide_runs(b, wb, wa, wm, wn);
  for (long i = 0; i < wn; ++i) ca[lo + i] = wa[i];
  for (long j = 0; j < wm; ++j) cb[lo + j] = wb[j];
}

std::vector<Change> find_changes(const std::vector<std::string_view>& old_lines,
                                 const std::vector<std::string_view>& new_lines, long horizon,
                                 DiffStats& stats) {
  const long n = static_cast<long>(old_lines.size()), m = static_cast<long>(new_lines.size());
  Flags ca(old_lines.size()), cb(new_lines.size());
  find_changed_lines(old_lines, new_lines, horizon, ca, cb, stats);

  std::vector<Change> changes;
  long i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && !ca[i] && !cb[j]) {
      ++i, ++j;
      continue;
    }
    Change c{i, 0, j, 0};
    while (i < n && ca[i]) ++i;
    while (j < m && cb[j]) ++j;
    c.deleted = i - c.old_start;
    c.inserted = j - c.new_start;
    changes.push_back(c);
  }
  return changes;
}

// GNU's range notation: "start,count", "start" alone for one line, and for no lines the number
// of the line before the (empty) range.
void append_range(std::string& out, long start, long count) {
  if (count == 0) {
    out += std::to_string(start) + ",0";
  } else if (count == 1) {
    out += std::to_string(start + 1);
  } else {
    out += std::to_string(start + 1) + "," + std::to_string(count);
  }
}

std::string_view without_newline(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return line;
}

struct HunkLine {
  char prefix;
  std::string_view line;  // with its '\n' if it has one
};

// Prints one hunk's lines masked: known secrets everywhere, and the previous value of a secret
// wherever an added line shows a secret between the same prefix and suffix.
void append_hunk_lines(std::string& out, const std::vector<HunkLine>& lines,
                       const std::vector<std::string>& secrets) {
  std::vector<std::vector<Interval>> masks;
  std::vector<std::pair<std::string_view, std::string_view>> shapes;  // (P, Q) of added lines
  masks.reserve(lines.size());
  for (const HunkLine& hl : lines) {
    std::string_view text = without_newline(hl.line);
    masks.push_back(secret_intervals(text, secrets));
    if (hl.prefix == '+') {
      for (const Interval& iv : masks.back()) {
        shapes.emplace_back(text.substr(0, iv.first), text.substr(iv.second));
      }
    }
  }
  for (size_t k = 0; k < lines.size(); ++k) {
    std::string_view text = without_newline(lines[k].line);
    if (lines[k].prefix != '+' && !shapes.empty()) {
      std::vector<Interval>& iv = masks[k];
      size_t before = iv.size();
      for (const auto& [p, q] : shapes) {
        if (text.size() > p.size() + q.size() && text.starts_with(p) && text.ends_with(q)) {
          iv.emplace_back(p.size(), text.size() - q.size());
        }
      }
      if (iv.size() != before) {
        std::sort(iv.begin(), iv.end());
        std::vector<Interval> merged;
        for (const Interval& x : iv) {
          if (!merged.empty() && x.first <= merged.back().second) {
            merged.back().second = std::max(merged.back().second, x.second);
          } else {
            merged.push_back(x);
          }
        }
        iv = std::move(merged);
      }
    }
    out += lines[k].prefix;
    out += apply_mask(text, masks[k]);
    out += '\n';
    if (text.size() == lines[k].line.size()) out += "\\ No newline at end of file\n";
  }
}

// Secrets as the diff matches them: line by line, so a multi-line secret becomes its lines.
// Each secret's encoded forms count too (secret_forms.hpp): a JSON-escaped one is a single line.
std::vector<std::string> line_secrets(const std::vector<std::string>& secrets) {
  std::vector<std::string> out;
  for (const std::string& s : all_forms(secrets)) {
    for (std::string_view piece : split_lines(s)) {
      piece = without_newline(piece);
      if (!piece.empty()) out.emplace_back(piece);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::string mask_secrets(std::string_view text, const std::vector<std::string>& secrets) {
  return apply_mask(text, secret_intervals(text, all_forms(secrets)));
}

std::string unified_diff(std::string_view old_text, std::string_view new_text,
                         const std::string& old_label, const std::string& new_label,
                         const std::vector<std::string>& secrets, int context, DiffStats* stats) {
  DiffStats local;
  DiffStats& st = stats ? *stats : local;
  if (old_text == new_text) return "";
  if (context < 0) context = 0;
  const std::vector<std::string_view> old_lines = split_lines(old_text);
  const std::vector<std::string_view> new_lines = split_lines(new_text);
  const std::vector<Change> changes = find_changes(old_lines, new_lines, context, st);
  const std::vector<std::string> masked = line_secrets(secrets);
  const long n = static_cast<long>(old_lines.size());

  std::string out;
  out += "--- " + mask_secrets(old_label, masked) + "\n";
  out += "+++ " + mask_secrets(new_label, masked) + "\n";
  size_t first = 0;
  while (first < changes.size()) {
    // A hunk takes in following changes while the unchanged gap fits in two contexts.
    size_t last = first;
    while (last + 1 < changes.size() &&
           changes[last + 1].old_start - (changes[last].old_start + changes[last].deleted) <=
               2L * context) {
      ++last;
    }
    const Change& c0 = changes[first];
    const Change& c1 = changes[last];
    long old_begin = std::max(0L, c0.old_start - context);
    long new_begin = c0.new_start - (c0.old_start - old_begin);
    long old_end = std::min(n, c1.old_start + c1.deleted + context);
    long new_end = c1.new_start + c1.inserted + (old_end - (c1.old_start + c1.deleted));

    out += "@@ -";
    append_range(out, old_begin, old_end - old_begin);
    out += " +";
    append_range(out, new_begin, new_end - new_begin);
    out += " @@\n";

    std::vector<HunkLine> lines;
    long i = old_begin;
    for (size_t k = first; k <= last; ++k) {
      const Change& c = changes[k];
      for (; i < c.old_start; ++i) lines.push_back({' ', old_lines[i]});
      for (long d = 0; d < c.deleted; ++d) lines.push_back({'-', old_lines[i++]});
      for (long a = 0; a < c.inserted; ++a) lines.push_back({'+', new_lines[c.new_start + a]});
    }
    for (; i < old_end; ++i) lines.push_back({' ', old_lines[i]});
    append_hunk_lines(out, lines, masked);
    first = last + 1;
  }
  return out;
}

}  // namespace templet
