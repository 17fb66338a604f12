// Sprig's camelcase, snakecase and kebabcase: huandu/xstrings' ToCamelCase, ToSnakeCase and
// ToKebabCase (convert.go), as Debian's xstrings 1.3.3 has them. consul-template builds Sprig
// 3.3.0 with xstrings 1.5.0, whose ToPascalCase (what 3.3.0's camelcase calls) gives the same
// upper camel case; the snake and kebab splitting is unchanged since 1.3.3.
//
// The splitter walks the bytes as xstrings does: invalid UTF-8 is glued to the rune after it,
// and a run of connectors (space, '_', '-') or of punctuation is one word. Character classes
// are Go's unicode ones for ASCII and Latin-1, approximated beyond (letters by the template
// lexer's tables, case by the case mapping).
#include "functions/sprig_internal.hpp"
#include "renderer/lexer.hpp"

namespace templet::helpers::sprig {

namespace {

constexpr int32_t kRuneError = golang::kRuneError;

struct Rune {
  int32_t r;
  size_t size;
};

// utf8.DecodeRuneInString: an invalid byte is U+FFFD of size 1, the empty string size 0.
Rune decode(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  int w = 0;
  int32_t r = golang::decode_rune(s, 0, &w);
  return {r, static_cast<size_t>(w)};
}

int32_t map_case(int32_t r, bool upper) {
  if (r < 0x80)
    return upper ? (r >= 'a' && r <= 'z' ? r - 32 : r) : (r >= 'A' && r <= 'Z' ? r + 32 : r);
  std::string one;
  golang::append_rune(one, r);
  std::string m = upper ? to_upper(one) : to_lower(one);
  return decode(m).r;
}
bool is_upper(int32_t r) {
  return map_case(r, false) != r;
}
bool is_connector(int32_t r) {
  return r == '-' || r == '_' || golang::is_space_rune(r);
}
// unicode.IsLetter.
bool is_letter(int32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  if (r < 0x100)
    return r == 0xAA || r == 0xB5 || r == 0xBA || (r >= 0xC0 && r != 0xD7 && r != 0xF7);
  return golang::is_alphanumeric(r);
}
// unicode.IsNumber.
bool is_number(int32_t r) {
  return (r >= '0' && r <= '9') || r == 0xB2 || r == 0xB3 || r == 0xB9 || (r >= 0xBC && r <= 0xBE);
}
// unicode.IsPunct ($+<=>^`|~ are symbols, not punctuation).
bool is_punct(int32_t r) {
  if (r < 0x80)
    return r != 0 && std::string_view("!\"#%&'()*,-./:;?@[\\]_{}").find(static_cast<char>(r)) !=
                         std::string_view::npos;
  switch (r) {
    case 0xA1:
    case 0xA7:
    case 0xAB:
    case 0xB6:
    case 0xB7:
    case 0xBB:
    case 0xBF:
      return true;
    default:
      return (r >= 0x2010 && r <= 0x2027) ||
             (r >= 0x2030 && r <= 0x205E && r != 0x2044 && r != 0x2052) ||
             (r >= 0x3001 && r <= 0x3003) || (r >= 0x3008 && r <= 0x3011);
  }
}
// xstrings' isAlphabet: a letter that is not CJK.
bool is_alphabet(int32_t r) {
  if (!is_letter(r)) return false;
  if (r < 0x3400) return true;
  return !((r >= 0x4E00 && r <= 0x9FCC) || (r >= 0x3400 && r <= 0x4D85) ||
           (r >= 0x20000 && r <= 0x2B81D));
}

// nextValidRune: the first valid rune and the bytes up to its end; `prev` when there is none.
Rune next_valid(std::string_view s, int32_t prev) {
  size_t size = 0;
  while (!s.empty()) {
    Rune d = decode(s);
    size += d.size;
    if (d.r != kRuneError) return {d.r, size};
    s.remove_prefix(d.size);
  }
  return {prev, size};
}

enum class Word { Invalid, Number, Upper, Alphabet, Connector, Punct, Other };

struct Split {
  Word type = Word::Invalid;
  std::string_view word, rest;
};

// xstrings' nextWord.
Split next_word(std::string_view str) {
  Split out;
  if (str.empty()) return out;
  size_t offset = 0;
  std::string_view rem = str;
  Rune x = next_valid(rem, kRuneError);
  offset += x.size;
  if (x.r == kRuneError) {
    out.word = str.substr(0, offset);
    out.rest = str.substr(offset);
    return out;
  }
  // Extends the word over the runes `keep` accepts.
  auto extend = [&](auto keep) {
    while (!rem.empty()) {
      x = next_valid(rem, x.r);
      if (!keep(x.r)) break;
      offset += x.size;
      rem.remove_prefix(x.size);
    }
  };
  auto lower_alphabet = [](int32_t r) { return is_alphabet(r) && !is_upper(r); };
  if (is_connector(x.r)) {
    out.type = Word::Connector;
    rem.remove_prefix(x.size);
    extend(is_connector);
  } else if (is_punct(x.r)) {
    out.type = Word::Punct;
    rem.remove_prefix(x.size);
    extend(is_punct);
  } else if (is_upper(x.r)) {
    out.type = Word::Upper;
    rem.remove_prefix(x.size);
    if (!rem.empty()) {
      x = next_valid(rem, x.r);
      if (is_upper(x.r)) {
        size_t prev_size = x.size;
        offset += x.size;
        rem.remove_prefix(x.size);
        while (!rem.empty()) {
          x = next_valid(rem, x.r);
          if (!is_upper(x.r)) break;
          prev_size = x.size;
          offset += x.size;
          rem.remove_prefix(x.size);
        }
        // "HTTPStatus" is "HTTP" and "Status": the last capital starts the next word.
        if (!rem.empty() && is_alphabet(x.r)) {
          offset -= prev_size;
          rem = str.substr(offset);
        }
      } else if (is_alphabet(x.r)) {
        offset += x.size;
        rem.remove_prefix(x.size);
        extend(lower_alphabet);
      }
    }
  } else if (is_alphabet(x.r)) {
    out.type = Word::Alphabet;
    rem.remove_prefix(x.size);
    extend(lower_alphabet);
  } else if (is_number(x.r)) {
    out.type = Word::Number;
    rem.remove_prefix(x.size);
    extend(is_number);
  } else {
    out.type = Word::Other;
    rem.remove_prefix(x.size);
    while (!rem.empty()) {
      x = next_valid(rem, x.r);
      if (x.size == 0 || is_connector(x.r) || is_alphabet(x.r) || is_number(x.r) || is_punct(x.r))
        break;
      offset += x.size;
      rem.remove_prefix(x.size);
    }
  }
  out.word = str.substr(0, offset);
  out.rest = rem;
  return out;
}

// xstrings' toLower: capitals and connectors of a word lowered, other words as they are.
void lower_word(std::string& buf, Word wt, std::string_view s, char connector) {
  if (wt != Word::Upper && wt != Word::Connector) {
    buf += s;
    return;
  }
  while (!s.empty()) {
    Rune d = decode(s);
    s.remove_prefix(d.size);
    if (is_connector(d.r))
      buf += connector;
    else
      golang::append_rune(buf, is_upper(d.r) ? map_case(d.r, false) : d.r);
  }
}

// xstrings' camelCaseToLowerCase.
std::string to_lower_case(std::string_view str, char connector) {
  std::string buf;
  if (str.empty()) return buf;
  Split w = next_word(str);
  while (!w.rest.empty()) {
    if (w.type != Word::Connector) lower_word(buf, w.type, w.word, connector);
    Word prev = w.type;
    std::string_view last = w.word;
    w = next_word(w.rest);
    auto separable = [](Word t) {
      return t != Word::Invalid && t != Word::Punct && t != Word::Connector;
    };
    switch (prev) {
      case Word::Number:
        while (w.type == Word::Alphabet || w.type == Word::Number) {
          lower_word(buf, w.type, w.word, connector);
          w = next_word(w.rest);
        }
        if (separable(w.type)) buf += connector;
        break;
      case Word::Connector:
        lower_word(buf, prev, last, connector);
        break;
      case Word::Punct:
        break;
      default: {
        if (w.type != Word::Number) {
          if (w.type != Word::Connector && w.type != Word::Punct) buf += connector;
          break;
        }
        if (w.rest.empty()) break;
        std::string_view number = w.word;
        w = next_word(w.rest);
        // A number followed by no letters belongs to the word before: "Bld4Floor" is bld4_floor.
        if (w.type != Word::Alphabet) {
          lower_word(buf, Word::Number, number, connector);
          if (w.type != Word::Connector && w.type != Word::Punct) buf += connector;
          break;
        }
        // Lower-case letters after it start a new word with it: "HTTP2xx" is http_2xx.
        buf += connector;
        lower_word(buf, Word::Number, number, connector);
        while (w.type == Word::Alphabet || w.type == Word::Number) {
          lower_word(buf, w.type, w.word, connector);
          w = next_word(w.rest);
        }
        if (w.type != Word::Invalid && w.type != Word::Connector && w.type != Word::Punct)
          buf += connector;
      }
    }
  }
  lower_word(buf, w.type, w.word, connector);
  return buf;
}

// xstrings 1.3.3's ToCamelCase: each word capitalised, its other letters lowered, connectors
// dropped (leading ones kept, and a doubled one kept once).
std::string to_camel_case(std::string_view str) {
  std::string buf;
  if (str.empty()) return buf;
  int32_t r0 = 0, r1 = 0;
  size_t size = 0;
  while (!str.empty()) {
    Rune d = decode(str);
    r0 = d.r;
    size = d.size;
    str.remove_prefix(d.size);
    if (!is_connector(r0)) {
      r0 = map_case(r0, true);
      break;
    }
    golang::append_rune(buf, r0);
  }
  if (str.empty()) {
    // Also when the string is all connectors: the last one is written twice, as in Go.
    if (size != 0) golang::append_rune(buf, r0);
    return buf;
  }
  while (!str.empty()) {
    r1 = r0;
    Rune d = decode(str);
    r0 = d.r;
    str.remove_prefix(d.size);
    if (is_connector(r0) && is_connector(r1)) {
      golang::append_rune(buf, r1);
      continue;
    }
    if (is_connector(r1)) {
      r0 = map_case(r0, true);
    } else {
      r0 = map_case(r0, false);
      golang::append_rune(buf, r1);
    }
  }
  golang::append_rune(buf, r0);
  return buf;
}

}  // namespace

void register_case(FunctionTable& t) {
  define(t, "sprig_camelcase", {&types::string},
         [](Args a) { return Value::string(to_camel_case(a[0].as_string())); });
  define(t, "sprig_snakecase", {&types::string},
         [](Args a) { return Value::string(to_lower_case(a[0].as_string(), '_')); });
  define(t, "sprig_kebabcase", {&types::string},
         [](Args a) { return Value::string(to_lower_case(a[0].as_string(), '-')); });
}

}  // namespace templet::helpers::sprig
