// The template lexer: splits template text into items the way Go's text/template/parse lexer
// does (same item kinds, same positions and line numbers, same error messages).
//
// Items point into the source (string_view); only error messages own text, and those live in
// the lexer. The lexer is pulled one item at a time by the parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace templet {

// The order matters: kinds after Keyword print as <word> in messages, as in Go.
enum class ItemType : uint8_t {
  Error,         // val is the message
  Bool,          // true, false
  Char,          // a printable ASCII character not otherwise handled (e.g. ',')
  CharConstant,  // 'x'
  Comment,       // /* ... */
  Complex,       // 1+2i
  Assign,        // =
  Declare,       // :=
  Eof,
  Field,       // .Name
  Identifier,  // a name not starting with . or $
  LeftDelim,
  LeftParen,
  Number,  // a number, including imaginary
  Pipe,
  RawString,  // `...` (with the quotes)
  RightDelim,
  RightParen,
  Space,     // a run of spaces inside an action
  String,    // "..." (with the quotes)
  Text,      // text outside actions
  Variable,  // $, $x
  Keyword,   // boundary: the ones below are keywords
  Block,
  Break,
  Continue,
  Dot,
  Define,
  Else,
  End,
  If,
  Nil,
  Range,
  Template,
  With,
};

struct Item {
  ItemType type = ItemType::Eof;
  int64_t pos = 0;
  std::string_view val;
  int line = 1;
  // The item as Go prints it in "unexpected X in Y" messages.
  std::string describe() const;
};

class Lexer {
 public:
  Lexer(std::string_view input, std::string_view left_delim, std::string_view right_delim);
  Lexer(const Lexer&) = delete;
  Lexer& operator=(const Lexer&) = delete;

  void set_options(bool emit_comments, bool break_ok, bool continue_ok) {
    emit_comments_ = emit_comments;
    break_ok_ = break_ok;
    continue_ok_ = continue_ok;
  }
  Item next_item();

 private:
  enum class State : uint8_t {
    Done,
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Identifier,
    Field,
    Variable,
    Char,
    Number,
    Quote,
    RawQuote,
  };

  int32_t next();
  int32_t peek();
  void backup();
  Item take(ItemType t);
  State emit(ItemType t);
  State emit_item(const Item& i);
  void ignore();
  bool accept(std::string_view valid);
  void accept_run(std::string_view valid);
  State error(std::string msg);
  bool at_terminator();
  bool at_right_delim(bool* trim);
  bool scan_number();

  State lex_text();
  State lex_left_delim();
  State lex_comment();
  State lex_right_delim();
  State lex_inside_action();
  State lex_space();
  State lex_identifier();
  State lex_field_or_variable(ItemType t);
  State lex_variable();
  State lex_char();
  State lex_number();
  State lex_quote();
  State lex_raw_quote();

  std::string_view input_;
  std::string_view left_;
  std::string_view right_;
  size_t pos_ = 0;
  size_t start_ = 0;
  bool at_eof_ = false;
  int paren_depth_ = 0;
  int line_ = 1;
  int start_line_ = 1;
  bool inside_action_ = false;
  bool emit_comments_ = false;
  bool break_ok_ = true;
  bool continue_ok_ = true;
  Item item_;
  std::string error_;  // storage for the message of an Error item
};

// Helpers shared with the parser and the node printers: Go's rune classes and formatting.
namespace golang {
constexpr int32_t kEof = -1;
constexpr int32_t kRuneError = 0xFFFD;
// Decodes one rune at s[i] like utf8.DecodeRuneInString (invalid: U+FFFD, width 1).
int32_t decode_rune(std::string_view s, size_t i, int* width);
void append_rune(std::string& out, int32_t r);
bool is_print(int32_t r);                                    // strconv.IsPrint
bool is_alphanumeric(int32_t r);                             // '_' or unicode letter or digit
bool is_space_rune(int32_t r);                               // unicode.IsSpace
std::string quote(std::string_view s);                       // strconv.Quote / %q
std::string quote_prefix(std::string_view s, size_t runes);  // %.Nq
std::string format_U(int32_t r);                             // %#U
}  // namespace golang

}  // namespace templet
