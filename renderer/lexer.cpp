#include "renderer/lexer.hpp"

#include "renderer/gofmt.hpp"
#include "renderer/gostrconv.hpp"

#include <algorithm>
#include <cstdio>

namespace templet {

namespace golang {
namespace {
struct RuneRange {
  int32_t lo, hi;
};
#include "renderer/lexer_tables.inc"

template <size_t N>
bool in_ranges(const RuneRange (&table)[N], int32_t r) {
  const RuneRange* end = table + N;
  const RuneRange* it =
      std::upper_bound(table, end, r, [](int32_t v, const RuneRange& rr) { return v < rr.lo; });
  if (it == table) return false;
  --it;
  return r <= it->hi;
}
}  // namespace

int32_t decode_rune(std::string_view s, size_t i, int* width) {
  gofmt::Decoded d = gofmt::decode_rune(s, i);
  *width = static_cast<int>(d.width);
  return static_cast<int32_t>(d.r);
}

void append_rune(std::string& out, int32_t r) {
  gofmt::append_rune(out, r < 0 ? gofmt::kRuneError : static_cast<char32_t>(r));
}

bool is_print(int32_t r) {
  return r >= 0 && gofmt::is_print(static_cast<char32_t>(r));
}

bool is_alphanumeric(int32_t r) {
  if (r < 0x80) {
    return r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  }
  return in_ranges(kAlnumRanges, r);
}

bool is_space_rune(int32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Go's %q, %.Nq and %#U: the one implementation is renderer/gofmt.
std::string quote_prefix(std::string_view s, size_t runes) {
  std::string out;
  Value arg[] = {Value::string(std::string(s))};
  gofmt::sprintf(out, "%." + std::to_string(runes) + "q", arg);
  return out;
}

std::string quote(std::string_view s) {
  std::string out;
  gofmt::quote(out, s);
  return out;
}

std::string format_U(int32_t r) {
  std::string out;
  Value arg[] = {Value::integer(r, &types::int32)};
  gofmt::sprintf(out, "%#U", arg);
  return out;
}

}  // namespace golang

using golang::kEof;

std::string Item::describe() const {
  switch (type) {
    case ItemType::Eof:
      return "EOF";
    case ItemType::Error:
      return std::string(val);
    default:
      break;
  }
  if (type > ItemType::Keyword) {
    std::string out = "<";
    out.append(val);
    out += '>';
    return out;
  }
  if (val.size() > 10) return golang::quote_prefix(val, 10) + "...";
  return golang::quote(val);
}

namespace {
constexpr std::string_view kLeftComment = "/*";
constexpr std::string_view kRightComment = "*/";

bool is_space(int32_t r) {
  return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

bool has_left_trim_marker(std::string_view s) {
  return s.size() >= 2 && s[0] == '-' && is_space(static_cast<unsigned char>(s[1]));
}
bool has_right_trim_marker(std::string_view s) {
  return s.size() >= 2 && is_space(static_cast<unsigned char>(s[0])) && s[1] == '-';
}
size_t right_trim_length(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && is_space(static_cast<unsigned char>(s[n - 1]))) --n;
  return s.size() - n;
}
size_t left_trim_length(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_space(static_cast<unsigned char>(s[n]))) ++n;
  return n;
}
int count_newlines(std::string_view s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}
bool contains_rune(std::string_view valid, int32_t r) {
  return r >= 0 && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos;
}
}  // namespace

Lexer::Lexer(std::string_view input, std::string_view left_delim, std::string_view right_delim)
    : input_(input),
      left_(left_delim.empty() ? std::string_view("{{") : left_delim),
      right_(right_delim.empty() ? std::string_view("}}") : right_delim) {}

int32_t Lexer::next() {
  if (pos_ >= input_.size()) {
    at_eof_ = true;
    return kEof;
  }
  unsigned char c = static_cast<unsigned char>(input_[pos_]);
  if (c < 0x80) {
    ++pos_;
    if (c == '\n') ++line_;
    return c;
  }
  int w;
  int32_t r = golang::decode_rune(input_, pos_, &w);
  pos_ += w;
  return r;
}

int32_t Lexer::peek() {
  int32_t r = next();
  backup();
  return r;
}

// Steps back over the rune before pos_, decoding backwards as utf8.DecodeLastRuneInString does.
void Lexer::backup() {
  if (at_eof_ || pos_ == 0) return;
  unsigned char c = static_cast<unsigned char>(input_[pos_ - 1]);
  if (c < 0x80) {
    --pos_;
    if (c == '\n') --line_;
    return;
  }
  size_t lim = pos_ >= 4 ? pos_ - 4 : 0;
  size_t start = pos_ - 1;
  while (start > lim && (static_cast<unsigned char>(input_[start]) & 0xC0) == 0x80) --start;
  int w;
  golang::decode_rune(input_.substr(0, pos_), start, &w);
  if (start + w != pos_) w = 1;
  pos_ -= w;
}

Item Lexer::take(ItemType t) {
  Item i{t, static_cast<int64_t>(start_), input_.substr(start_, pos_ - start_), start_line_};
  start_ = pos_;
  start_line_ = line_;
  return i;
}

Lexer::State Lexer::emit(ItemType t) {
  return emit_item(take(t));
}

Lexer::State Lexer::emit_item(const Item& i) {
  item_ = i;
  return State::Done;
}

void Lexer::ignore() {
  line_ += count_newlines(input_.substr(start_, pos_ - start_));
  start_ = pos_;
  start_line_ = line_;
}

bool Lexer::accept(std::string_view valid) {
  if (contains_rune(valid, next())) return true;
  backup();
  return false;
}

void Lexer::accept_run(std::string_view valid) {
  while (contains_rune(valid, next())) {
  }
  backup();
}

Lexer::State Lexer::error(std::string msg) {
  error_ = std::move(msg);
  item_ = Item{ItemType::Error, static_cast<int64_t>(start_), error_, start_line_};
  start_ = 0;
  pos_ = 0;
  input_ = input_.substr(0, 0);
  return State::Done;
}

Item Lexer::next_item() {
  item_ = Item{ItemType::Eof, static_cast<int64_t>(pos_), "EOF", start_line_};
  State state = inside_action_ ? State::InsideAction : State::Text;
  for (;;) {
    switch (state) {
      case State::Done:
        return item_;
      case State::Text:
        state = lex_text();
        break;
      case State::LeftDelim:
        state = lex_left_delim();
        break;
      case State::Comment:
        state = lex_comment();
        break;
      case State::RightDelim:
        state = lex_right_delim();
        break;
      case State::InsideAction:
        state = lex_inside_action();
        break;
      case State::Space:
        state = lex_space();
        break;
      case State::Identifier:
        state = lex_identifier();
        break;
      case State::Field:
        state = lex_field_or_variable(ItemType::Field);
        break;
      case State::Variable:
        state = lex_variable();
        break;
      case State::Char:
        state = lex_char();
        break;
      case State::Number:
        state = lex_number();
        break;
      case State::Quote:
        state = lex_quote();
        break;
      case State::RawQuote:
        state = lex_raw_quote();
        break;
    }
  }
}

Lexer::State Lexer::lex_text() {
  size_t x = input_.find(left_, pos_);
  if (x != std::string_view::npos) {
    if (x > pos_) {
      pos_ = x;
      size_t trim = 0;
      size_t delim_end = pos_ + left_.size();
      if (has_left_trim_marker(input_.substr(delim_end))) {
        trim = right_trim_length(input_.substr(start_, pos_ - start_));
      }
      pos_ -= trim;
      line_ += count_newlines(input_.substr(start_, pos_ - start_));
      Item i = take(ItemType::Text);
      pos_ += trim;
      ignore();
      if (!i.val.empty()) return emit_item(i);
    }
    return State::LeftDelim;
  }
  pos_ = input_.size();
  if (pos_ > start_) {
    line_ += count_newlines(input_.substr(start_, pos_ - start_));
    return emit(ItemType::Text);
  }
  return emit(ItemType::Eof);
}

bool Lexer::at_right_delim(bool* trim) {
  std::string_view rest = input_.substr(pos_);
  if (has_right_trim_marker(rest) && rest.substr(2).starts_with(right_)) {
    *trim = true;
    return true;
  }
  *trim = false;
  return rest.starts_with(right_);
}

Lexer::State Lexer::lex_left_delim() {
  pos_ += left_.size();
  bool trim = has_left_trim_marker(input_.substr(pos_));
  size_t after = trim ? 2 : 0;
  if (input_.substr(pos_ + after).starts_with(kLeftComment)) {
    pos_ += after;
    ignore();
    return State::Comment;
  }
  Item i = take(ItemType::LeftDelim);
  inside_action_ = true;
  pos_ += after;
  ignore();
  paren_depth_ = 0;
  return emit_item(i);
}

Lexer::State Lexer::lex_comment() {
  pos_ += kLeftComment.size();
  size_t x = input_.find(kRightComment, pos_);
  if (x == std::string_view::npos) return error("unclosed comment");
  pos_ = x + kRightComment.size();
  bool trim;
  if (!at_right_delim(&trim)) return error("comment ends before closing delimiter");
  // Like Go, the comment item is taken without counting the newlines inside it.
  Item i = take(ItemType::Comment);
  if (trim) pos_ += 2;
  pos_ += right_.size();
  if (trim) pos_ += left_trim_length(input_.substr(pos_));
  ignore();
  if (emit_comments_) return emit_item(i);
  return State::Text;
}

Lexer::State Lexer::lex_right_delim() {
  bool trim;
  at_right_delim(&trim);
  if (trim) {
    pos_ += 2;
    ignore();
  }
  pos_ += right_.size();
  Item i = take(ItemType::RightDelim);
  if (trim) {
    pos_ += left_trim_length(input_.substr(pos_));
    ignore();
  }
  inside_action_ = false;
  return emit_item(i);
}

Lexer::State Lexer::lex_inside_action() {
  bool trim;
  if (at_right_delim(&trim)) {
    if (paren_depth_ == 0) return State::RightDelim;
    return error("unclosed left paren");
  }
  int32_t r = next();
  if (r == kEof) return error("unclosed action");
  if (is_space(r)) {
    backup();
    return State::Space;
  }
  switch (r) {
    case '=':
      return emit(ItemType::Assign);
    case ':':
      if (next() != '=') return error("expected :=");
      return emit(ItemType::Declare);
    case '|':
      return emit(ItemType::Pipe);
    case '"':
      return State::Quote;
    case '`':
      return State::RawQuote;
    case '$':
      return State::Variable;
    case '\'':
      return State::Char;
    case '.':
      if (pos_ < input_.size()) {
        char c = input_[pos_];
        if (c < '0' || c > '9') return State::Field;
      }
      backup();
      return State::Number;
    case '+':
    case '-':
      backup();
      return State::Number;
    case '(':
      ++paren_depth_;
      return emit(ItemType::LeftParen);
    case ')':
      if (--paren_depth_ < 0) return error("unexpected right paren");
      return emit(ItemType::RightParen);
    default:
      break;
  }
  if (r >= '0' && r <= '9') {
    backup();
    return State::Number;
  }
  if (golang::is_alphanumeric(r)) {
    backup();
    return State::Identifier;
  }
  if (r < 0x80 && r >= 0x20 && r < 0x7F) return emit(ItemType::Char);
  return error("unrecognized character in action: " + golang::format_U(r));
}

Lexer::State Lexer::lex_space() {
  int spaces = 0;
  for (;;) {
    int32_t r = peek();
    if (!is_space(r)) break;
    next();
    ++spaces;
  }
  std::string_view from_last = input_.substr(pos_ - 1);
  if (has_right_trim_marker(from_last) && from_last.substr(2).starts_with(right_)) {
    backup();
    if (spaces == 1) return State::RightDelim;
  }
  return emit(ItemType::Space);
}

namespace {
ItemType keyword(std::string_view w) {
  switch (w.size()) {
    case 2:
      if (w == "if") return ItemType::If;
      break;
    case 3:
      if (w == "end") return ItemType::End;
      if (w == "nil") return ItemType::Nil;
      break;
    case 4:
      if (w == "else") return ItemType::Else;
      if (w == "with") return ItemType::With;
      break;
    case 5:
      if (w == "block") return ItemType::Block;
      if (w == "break") return ItemType::Break;
      if (w == "range") return ItemType::Range;
      break;
    case 6:
      if (w == "define") return ItemType::Define;
      break;
    case 8:
      if (w == "continue") return ItemType::Continue;
      if (w == "template") return ItemType::Template;
      break;
    default:
      break;
  }
  return ItemType::Error;  // not a keyword
}
}  // namespace

Lexer::State Lexer::lex_identifier() {
  int32_t r;
  for (;;) {
    r = next();
    if (!golang::is_alphanumeric(r)) break;
  }
  backup();
  std::string_view word = input_.substr(start_, pos_ - start_);
  if (!at_terminator()) return error("bad character " + golang::format_U(r));
  ItemType k = keyword(word);
  if (k != ItemType::Error) {
    if ((k == ItemType::Break && !break_ok_) || (k == ItemType::Continue && !continue_ok_)) {
      return emit(ItemType::Identifier);
    }
    return emit(k);
  }
  if (word == "true" || word == "false") return emit(ItemType::Bool);
  return emit(ItemType::Identifier);
}

Lexer::State Lexer::lex_variable() {
  if (at_terminator()) return emit(ItemType::Variable);
  return lex_field_or_variable(ItemType::Variable);
}

Lexer::State Lexer::lex_field_or_variable(ItemType t) {
  if (at_terminator()) return emit(t == ItemType::Variable ? ItemType::Variable : ItemType::Dot);
  int32_t r;
  for (;;) {
    r = next();
    if (!golang::is_alphanumeric(r)) {
      backup();
      break;
    }
  }
  if (!at_terminator()) return error("bad character " + golang::format_U(r));
  return emit(t);
}

bool Lexer::at_terminator() {
  int32_t r = peek();
  if (is_space(r)) return true;
  switch (r) {
    case kEof:
    case '.':
    case ',':
    case '|':
    case ':':
    case ')':
    case '(':
      return true;
    default:
      break;
  }
  return input_.substr(pos_).starts_with(right_);
}

Lexer::State Lexer::lex_char() {
  for (;;) {
    int32_t r = next();
    if (r == '\\') {
      r = next();
      if (r != kEof && r != '\n') continue;
      return error("unterminated character constant");
    }
    if (r == kEof || r == '\n') return error("unterminated character constant");
    if (r == '\'') break;
  }
  return emit(ItemType::CharConstant);
}

Lexer::State Lexer::lex_number() {
  if (!scan_number()) {
    return error("bad number syntax: " + golang::quote(input_.substr(start_, pos_ - start_)));
  }
  int32_t sign = peek();
  if (sign == '+' || sign == '-') {
    if (!scan_number() || input_[pos_ - 1] != 'i') {
      return error("bad number syntax: " + golang::quote(input_.substr(start_, pos_ - start_)));
    }
    return emit(ItemType::Complex);
  }
  return emit(ItemType::Number);
}

bool Lexer::scan_number() {
  accept("+-");
  std::string_view digits = "0123456789_";
  if (accept("0")) {
    if (accept("xX")) {
      digits = "0123456789abcdefABCDEF_";
    } else if (accept("oO")) {
      digits = "01234567_";
    } else if (accept("bB")) {
      digits = "01_";
    }
  }
  accept_run(digits);
  if (accept(".")) accept_run(digits);
  if (digits.size() == 11 && accept("eE")) {
    accept("+-");
    accept_run("0123456789_");
  }
  if (digits.size() == 23 && accept("pP")) {
    accept("+-");
    accept_run("0123456789_");
  }
  accept("i");
  if (golang::is_alphanumeric(peek())) {
    next();
    return false;
  }
  return true;
}

Lexer::State Lexer::lex_quote() {
  for (;;) {
    int32_t r = next();
    if (r == '\\') {
      r = next();
      if (r != kEof && r != '\n') continue;
      return error("unterminated quoted string");
    }
    if (r == kEof || r == '\n') return error("unterminated quoted string");
    if (r == '"') break;
  }
  return emit(ItemType::String);
}

Lexer::State Lexer::lex_raw_quote() {
  for (;;) {
    int32_t r = next();
    if (r == kEof) return error("unterminated raw quoted string");
    if (r == '`') break;
  }
  return emit(ItemType::RawString);
}

}  // namespace templet
