// unified_diff must print exactly what GNU `diff -u` prints (users compare the two), and must
// never print a secret, known or rotated away.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "renderer/diff.hpp"

using templet::DiffStats;
using templet::mask_secrets;
using templet::unified_diff;

namespace {

struct DiffCase {
  const char* name;
  const char* old_text;
  const char* new_text;
  int context;
  const char* expected;
};

// Expected outputs were produced by GNU diffutils 3.8: `diff -U<context> --label old --label new`.
const DiffCase kGnuCases[] = {
    {"one line changed in the middle",
     "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\n",
     "line1\nline2\nline3\nline4\nLINE5\nline6\nline7\nline8\nline9\nline10\n", 3,
     R"(--- old
+++ new
@@ -2,7 +2,7 @@
 line2
 line3
 line4
-line5
+LINE5
 line6
 line7
 line8
)"},
    {"insert at start", "line1\nline2\nline3\nline4\nline5\nline6\n",
     "new\nline1\nline2\nline3\nline4\nline5\nline6\n", 3,
     R"(--- old
+++ new
@@ -1,3 +1,4 @@
+new
 line1
 line2
 line3
)"},
    {"delete at end", "line1\nline2\nline3\nline4\nline5\nline6\n",
     "line1\nline2\nline3\nline4\nline5\n", 3,
     R"(--- old
+++ new
@@ -3,4 +3,3 @@
 line3
 line4
 line5
-line6
)"},
    {"single line file", "a\n", "b\n", 3,
     R"(--- old
+++ new
@@ -1 +1 @@
-a
+b
)"},
    {"old has no final newline", "line1\nline2\nline3\nline4", "line1\nline2\nline3\nline4\n", 3,
     R"(--- old
+++ new
@@ -1,4 +1,4 @@
 line1
 line2
 line3
-line4
\ No newline at end of file
+line4
)"},
    {"new has no final newline", "line1\nline2\nline3\nline4\n", "line1\nline2\nline3\nline4", 3,
     R"(--- old
+++ new
@@ -1,4 +1,4 @@
 line1
 line2
 line3
-line4
+line4
\ No newline at end of file
)"},
    {"both lack final newline, last line changed", "x\ny", "x\nz", 3,
     R"(--- old
+++ new
@@ -1,2 +1,2 @@
 x
-y
\ No newline at end of file
+z
\ No newline at end of file
)"},
    {"both lack final newline, change earlier",
     "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8",
     "line1\ntwo\nline3\nline4\nline5\nline6\nline7\nline8", 3,
     R"(--- old
+++ new
@@ -1,5 +1,5 @@
 line1
-line2
+two
 line3
 line4
 line5
)"},
    {"created from empty", "", "a\nb\n", 3,
     R"(--- old
+++ new
@@ -0,0 +1,2 @@
+a
+b
)"},
    {"emptied", "a\nb\nc\n", "", 3,
     R"(--- old
+++ new
@@ -1,3 +0,0 @@
-a
-b
-c
)"},
    {"empty to partial line", "", "x", 3,
     R"(--- old
+++ new
@@ -0,0 +1 @@
+x
\ No newline at end of file
)"},
    {"gap of six lines merges",
     "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\nline11\nline12\nline13"
     "\nline14\nline15\nline16\nline17\nline18\nline19\nline20\n",
     "line1\nline2\nX\nline4\nline5\nline6\nline7\nline8\nline9\nY\nline11\nline12\nline13\nline14"
     "\nline15\nline16\nline17\nline18\nline19\nline20\n",
     3,
     R"(--- old
+++ new
@@ -1,13 +1,13 @@
 line1
 line2
-line3
+X
 line4
 line5
 line6
 line7
 line8
 line9
-line10
+Y
 line11
 line12
 line13
)"},
    {"gap of seven lines splits",
     "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\nline11\nline12\nline13"
     "\nline14\nline15\nline16\nline17\nline18\nline19\nline20\n",
     "line1\nline2\nX\nline4\nline5\nline6\nline7\nline8\nline9\nline10\nY\nline12\nline13\nline14"
     "\nline15\nline16\nline17\nline18\nline19\nline20\n",
     3,
     R"(--- old
+++ new
@@ -1,6 +1,6 @@
 line1
 line2
-line3
+X
 line4
 line5
 line6
@@ -8,7 +8,7 @@
 line8
 line9
 line10
-line11
+Y
 line12
 line13
 line14
)"},
    {"repeated braces", "a {\n  x\n}\nb {\n  y\n}\n", "a {\n  x\n}\nc {\n  z\n}\nb {\n  y\n}\n", 3,
     R"(--- old
+++ new
@@ -1,6 +1,9 @@
 a {
   x
 }
+c {
+  z
+}
 b {
   y
 }
)"},
    {"blank line runs", "a\n\n\nb\n\nc\n", "a\n\nb\n\n\n\nc\n", 3,
     R"(--- old
+++ new
@@ -1,6 +1,7 @@
 a
 
-
 b
 
+
+
 c
)"},
    {"replace block",
     "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\nline11\nline12\n",
     "line1\nline2\nline3\np\nq\nline8\nline9\nline10\nline11\nline12\n", 3,
     R"(--- old
+++ new
@@ -1,10 +1,8 @@
 line1
 line2
 line3
-line4
-line5
-line6
-line7
+p
+q
 line8
 line9
 line10
)"},
    {"zero context", "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\n",
     "line1\nB\nline3\nline4\nline5\nline6\nline7\nH\nline9\nline10\n", 0,
     R"(--- old
+++ new
@@ -2 +2 @@
-line2
+B
@@ -8 +8 @@
-line8
+H
)"},
    {"one line of context",
     "line1\nline2\nline3\nline4\nline5\nline6\nline7\nline8\nline9\nline10\n",
     "line1\nB\nline3\nline4\nline5\nF\nline7\nline8\nline9\nline10\n", 1,
     R"(--- old
+++ new
@@ -1,3 +1,3 @@
 line1
-line2
+B
 line3
@@ -5,3 +5,3 @@
 line5
-line6
+F
 line7
)"},
    {"crlf lines", "a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n", 3,
     "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\r\n-b\r\n+B\r\n c\r\n"},
};

// Applies a unified diff to `old_text`; throws if the diff does not fit it. Checks diffs whose
// exact form is not known in advance.
std::string apply_diff(const std::string& old_text, const std::string& diff) {
  std::vector<std::string> old_lines;
  for (size_t pos = 0; pos < old_text.size();) {
    size_t nl = old_text.find('\n', pos);
    size_t end = nl == std::string::npos ? old_text.size() : nl + 1;
    old_lines.push_back(old_text.substr(pos, end - pos));
    pos = end;
  }
  struct Record {
    char kind;
    std::string line;  // with '\n' unless a "\ No newline" marker follows
  };
  std::vector<Record> records;
  std::istringstream in(diff);
  std::string line;
  std::getline(in, line);  // ---
  std::getline(in, line);  // +++
  while (std::getline(in, line)) {
    if (line.empty()) throw std::runtime_error("empty diff line");
    if (line[0] == '\\') {
      if (records.empty() || records.back().kind == '@') throw std::runtime_error("stray marker");
      records.back().line.pop_back();
    } else {
      records.push_back({line[0], line[0] == '@' ? line : line.substr(1) + "\n"});
    }
  }
  std::string out;
  size_t next_old = 0;
  for (const Record& r : records) {
    if (r.kind == '@') {
      long start = std::stol(r.line.substr(4));
      size_t comma = r.line.find(',');
      size_t space = r.line.find(' ', 4);
      bool empty = comma < space && r.line.substr(comma + 1, space - comma - 1) == "0";
      size_t first = static_cast<size_t>(empty ? start : start - 1);
      if (first < next_old) throw std::runtime_error("hunks out of order");
      for (; next_old < first; ++next_old) out += old_lines.at(next_old);
    } else if (r.kind == ' ' || r.kind == '-') {
      if (next_old >= old_lines.size() || old_lines[next_old] != r.line) {
        throw std::runtime_error("diff does not fit the old text at: " + r.line);
      }
      ++next_old;
      if (r.kind == ' ') out += r.line;
    } else if (r.kind == '+') {
      out += r.line;
    } else {
      throw std::runtime_error("bad diff line: " + r.line);
    }
  }
  for (; next_old < old_lines.size(); ++next_old) out += old_lines[next_old];
  return out;
}

std::string read_all(FILE* f) {
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("unified_diff matches GNU diff -u on a table of cases", "[diff]") {
  for (const DiffCase& c : kGnuCases) {
    INFO(c.name);
    CHECK(unified_diff(c.old_text, c.new_text, "old", "new", {}, c.context) == c.expected);
    CHECK(apply_diff(c.old_text, unified_diff(c.old_text, c.new_text, "old", "new", {},
                                              c.context)) == c.new_text);
  }
}

TEST_CASE("unified_diff of equal texts is empty", "[diff]") {
  CHECK(unified_diff("", "", "a", "b", {}).empty());
  CHECK(unified_diff("x\ny", "x\ny", "a", "b", {"x"}).empty());
}

TEST_CASE("unified_diff agrees with /usr/bin/diff -u on random texts", "[diff]") {
  if (access("/usr/bin/diff", X_OK) != 0) {
    WARN("/usr/bin/diff not available; skipped");
    return;
  }
  char dir_template[] = "/tmp/templet-diff-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string a_path = dir + "/a", b_path = dir + "/b";
  std::mt19937 rng(20240611);
  const char* words[] = {"a", "b", "c", "}", "", "  key: value"};
  auto random_text = [&](int max_lines) {
    std::string text;
    int n = static_cast<int>(rng() % static_cast<unsigned>(max_lines + 1));
    for (int i = 0; i < n; ++i) text += std::string(words[rng() % 6]) + "\n";
    if (!text.empty() && rng() % 4 == 0) text.pop_back();
    return text;
  };
  auto most_copies = [](const std::string& text) {
    std::map<std::string, int> count;
    int most = 0;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) most = std::max(most, ++count[l]);
    return most;
  };
  int compared = 0;
  while (compared < 200) {
    std::string a = random_text(14);
    std::string b;
    if (rng() % 2 == 0) {
      b = random_text(14);
    } else {  // a few edits of a, the common case for rendered files
      b = a;
      for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
        size_t at = b.empty() ? 0 : rng() % (b.size() + 1);
        b.insert(at, std::string(words[rng() % 6]) + "\n");
      }
    }
    // GNU diff sets aside lines with more than five copies in the other file as "confusing"
    // for speed, which can make its diff larger than the minimal one templet prints. Compare
    // where both aim for the minimal diff.
    if (most_copies(a) > 5 || most_copies(b) > 5) continue;
    ++compared;
    write_text(a_path, a);
    write_text(b_path, b);
    int ctx = static_cast<int>(rng() % 4);
    std::string cmd = "/usr/bin/diff -U" + std::to_string(ctx) + " --label old --label new " +
                      a_path + " " + b_path;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string expected = read_all(p);
    pclose(p);
    std::string got = unified_diff(a, b, "old", "new", {}, ctx);
    INFO("old:\n" << a << "\nnew:\n" << b << "\ncontext " << ctx);
    REQUIRE(got == expected);
    REQUIRE(apply_diff(a, got) == b);
  }
  unlink(a_path.c_str());
  unlink(b_path.c_str());
  rmdir(dir.c_str());
}

TEST_CASE("unified_diff is fast on a large file with small changes", "[diff]") {
  std::string a, b;
  for (int i = 0; i < 200000; ++i) {
    std::string line = "entry " + std::to_string(i) + "\n";
    a += line;
    b += i == 123456 ? "changed\n" : line;
  }
  DiffStats stats;
  std::string d = unified_diff(a, b, "old", "new", {}, 3, &stats);
  CHECK(d ==
        "--- old\n+++ new\n@@ -123454,7 +123454,7 @@\n entry 123453\n entry 123454\n"
        " entry 123455\n-entry 123456\n+changed\n entry 123457\n entry 123458\n"
        " entry 123459\n");
  // The common prefix and suffix are skipped, and lines found on one side only are changes
  // without any search: nothing is left to search.
  CHECK(stats.search_steps == 0);
}

TEST_CASE("unified_diff stays bounded and correct on a full reordering", "[diff]") {
  std::vector<std::string> lines;
  for (int i = 0; i < 20000; ++i) lines.push_back("l" + std::to_string(i) + "\n");
  std::string a, b;
  for (const auto& l : lines) a += l;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) b += *it;
  DiffStats stats;
  std::string d = unified_diff(a, b, "old", "new", {}, 3, &stats);
  CHECK(apply_diff(a, d) == b);
  // An unbounded Myers search needs about 8e8 steps here (N^2 for the first split, half as much
  // again below it); the per-region budget keeps it to about 9e7.
  CHECK(stats.search_steps < 150'000'000);
}

TEST_CASE("mask_secrets replaces every occurrence, longest and overlapping as one", "[diff]") {
  CHECK(mask_secrets("user=admin pass=hunter2 again hunter2", {"hunter2"}) ==
        "user=admin pass=******** again ********");
  CHECK(mask_secrets("token abcdef", {"abc", "abcdef"}) == "token ********");
  CHECK(mask_secrets("xabcdey", {"abc", "cde"}) == "x********y");
  CHECK(mask_secrets("nothing here", {"", "absent"}) == "nothing here");
  CHECK(mask_secrets("-----BEGIN KEY-----\nAAA\nBBB\n-----END KEY-----\n", {"AAA\nBBB"}) ==
        "-----BEGIN KEY-----\n********\n-----END KEY-----\n");
  CHECK(mask_secrets("", {"x"}).empty());
}

TEST_CASE("unified_diff masks known secrets in every kind of line", "[diff]") {
  std::string old_text = "user: app\npassword: s3cret\nurl: http://app:s3cret@db\nport: 1\n";
  std::string new_text = "user: app\npassword: s3cret\nurl: http://app:s3cret@db\nport: 2\n";
  std::string d = unified_diff(old_text, new_text, "old", "new", {"s3cret"});
  CHECK(d ==
        "--- old\n+++ new\n@@ -1,4 +1,4 @@\n user: app\n password: ********\n"
        " url: http://app:********@db\n-port: 1\n+port: 2\n");
  CHECK_FALSE(contains(d, "s3cret"));
}

TEST_CASE("unified_diff masks a rotated-away secret by its position", "[diff]") {
  std::string old_text = "db:\n  user: app\n  password: oldpass\n  host: db1\n";
  std::string new_text = "db:\n  user: app\n  password: newpass\n  host: db1\n";
  std::string d = unified_diff(old_text, new_text, "old", "new", {"newpass"});
  CHECK(d ==
        "--- old\n+++ new\n@@ -1,4 +1,4 @@\n db:\n   user: app\n-  password: ********\n"
        "+  password: ********\n   host: db1\n");
  CHECK_FALSE(contains(d, "oldpass"));
  CHECK_FALSE(contains(d, "newpass"));

  SECTION("inside a longer line, with a suffix and a missing final newline") {
    std::string o = "a\nDSN=postgres://u:OLD-VALUE@h/db?ssl=1";
    std::string n = "a\nDSN=postgres://u:fresh@h/db?ssl=1\n";
    std::string dd = unified_diff(o, n, "old", "new", {"fresh"});
    CHECK(dd ==
          "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-DSN=postgres://u:********@h/db?ssl=1\n"
          "\\ No newline at end of file\n+DSN=postgres://u:********@h/db?ssl=1\n");
    CHECK_FALSE(contains(dd, "OLD-VALUE"));
  }

  SECTION("lines of another shape are left alone") {
    std::string o = "password: old\nname: bob\n";
    std::string n = "password: new!\nname: bob\n";
    std::string dd = unified_diff(o, n, "old", "new", {"new!"});
    CHECK(dd ==
          "--- old\n+++ new\n@@ -1,2 +1,2 @@\n-password: ********\n+password: ********\n"
          " name: bob\n");
  }

  SECTION("several secrets in one hunk, several rotated") {
    std::string o = "k1=aaa\nk2=bbb\nk3=ccc\n";
    std::string n = "k1=AAA\nk2=BBB\nk3=ccc\n";
    std::string dd = unified_diff(o, n, "old", "new", {"AAA", "BBB", "ccc"});
    for (const char* s : {"aaa", "bbb", "ccc", "AAA", "BBB"}) CHECK_FALSE(contains(dd, s));
  }
}

TEST_CASE("unified_diff masks multi-line secrets line by line, and labels", "[diff]") {
  std::string key = "-----BEGIN KEY-----\nMIIEow\nAKCAQE\n-----END KEY-----\n";
  std::string d =
      unified_diff("key: none\n", "key: |\n" + key, "/etc/app/AKCAQE.pem", "new", {key, ""});
  CHECK_FALSE(contains(d, "MIIEow"));
  CHECK_FALSE(contains(d, "AKCAQE"));
  CHECK(contains(d, "--- /etc/app/********.pem\n"));
}
