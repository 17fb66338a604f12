// fmt's format.go: padding and the formatting of integers, strings, runes and floats under the
// printer's flags, width and precision.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "renderer/gofmt.hpp"
#include "renderer/gofmt_printer.hpp"
#include "renderer/gostrconv.hpp"

namespace templet::gofmt {

void Printer::write_padding(int n) {
  if (n <= 0) return;
  out_.append(static_cast<size_t>(n), f.zero && !f.minus ? '0' : ' ');
}

// Pads out_[start..] to the width, on the left unless the minus flag is set.
void Printer::pad_from(size_t start) {
  if (!f.wid_present || f.wid == 0) return;
  const int n = f.wid - static_cast<int>(rune_count(std::string_view(out_).substr(start)));
  if (n <= 0) return;
  const char pad = f.zero && !f.minus ? '0' : ' ';
  if (f.minus) {
    out_.append(static_cast<size_t>(n), pad);
  } else {
    out_.insert(start, static_cast<size_t>(n), pad);
  }
}

void Printer::fmt_unicode(uint64_t u) {
  const uint64_t code = u;
  int prec = 4;
  if (f.prec_present && f.prec > 4) prec = f.prec;
  const size_t start = out_.size();
  out_ += "U+";
  char buf[16];
  int i = 16;
  do {
    buf[--i] = kUpperHex[u & 0xF];
    u >>= 4;
  } while (u != 0);
  const int nd = 16 - i;
  if (prec > nd) out_.append(static_cast<size_t>(prec - nd), '0');
  out_.append(buf + i, static_cast<size_t>(nd));
  if (f.sharp && code <= kMaxRune && is_print(static_cast<char32_t>(code))) {
    out_ += " '";
    append_rune(out_, static_cast<char32_t>(code));
    out_.push_back('\'');
  }
  const bool zero = f.zero;
  f.zero = false;
  pad_from(start);
  f.zero = zero;
}

void Printer::fmt_integer(uint64_t u, int base, bool is_signed, char32_t verb, bool upper) {
  const bool negative = is_signed && static_cast<int64_t>(u) < 0;
  if (negative) u = 0 - u;
  int prec = 0;
  if (f.prec_present) {
    prec = f.prec;
    if (prec == 0 && u == 0) {  // %.0d of 0 prints nothing but the padding
      const bool zero = f.zero;
      f.zero = false;
      write_padding(f.wid);
      f.zero = zero;
      return;
    }
  } else if (f.zero && !f.minus && f.wid_present) {
    prec = f.wid;
    if (negative || f.plus || f.space) --prec;  // room for the sign
  }
  const std::string_view digits = upper ? kUpperHex : kLowerHex;
  char buf[64];
  int i = 64;
  switch (base) {
    case 10:
      do {
        buf[--i] = static_cast<char>('0' + u % 10);
        u /= 10;
      } while (u != 0);
      break;
    case 16:
      do {
        buf[--i] = digits[u & 0xF];
        u >>= 4;
      } while (u != 0);
      break;
    case 8:
      do {
        buf[--i] = static_cast<char>('0' + (u & 7));
        u >>= 3;
      } while (u != 0);
      break;
    default:
      do {
        buf[--i] = static_cast<char>('0' + (u & 1));
        u >>= 1;
      } while (u != 0);
      break;
  }
  const int nd = 64 - i;
  const int zeros = prec > nd ? prec - nd : 0;
  const size_t start = out_.size();
  if (negative) {
    out_.push_back('-');
  } else if (f.plus) {
    out_.push_back('+');
  } else if (f.space) {
    out_.push_back(' ');
  }
  if (verb == 'O') out_ += "0o";
  if (f.sharp) {
    switch (base) {
      case 2:
        out_ += "0b";
        break;
      case 8:
        if (zeros == 0 && buf[i] != '0') out_.push_back('0');
        break;
      case 16:
        out_.push_back('0');
        out_.push_back(digits[16]);
        break;
      default:
        break;
    }
  }
  if (zeros > 0) out_.append(static_cast<size_t>(zeros), '0');
  out_.append(buf + i, static_cast<size_t>(nd));
  // Zero padding was done above as precision (or is overridden by an explicit precision).
  const bool zero = f.zero;
  f.zero = false;
  pad_from(start);
  f.zero = zero;
}

std::string_view Printer::truncate(std::string_view s) const {
  if (!f.prec_present) return s;
  int n = f.prec;
  for (size_t i = 0; i < s.size();) {
    if (--n < 0) return s.substr(0, i);
    i += static_cast<unsigned char>(s[i]) < 0x80 ? 1 : decode_rune(s, i).width;
  }
  return s;
}

void Printer::fmt_sbx(std::string_view s, bool upper) {
  const std::string_view digits = upper ? kUpperHex : kLowerHex;
  int length = static_cast<int>(std::min<size_t>(s.size(), std::numeric_limits<int>::max()));
  if (f.prec_present && f.prec < length) length = f.prec;
  int width = 2 * length;
  if (width > 0) {
    if (f.space) {
      if (f.sharp) width *= 2;  // 0x before every byte
      width += length - 1;
    } else if (f.sharp) {
      width += 2;
    }
  } else {
    if (f.wid_present) write_padding(f.wid);
    return;
  }
  if (f.wid_present && f.wid > width && !f.minus) write_padding(f.wid - width);
  if (f.sharp) {
    out_.push_back('0');
    out_.push_back(digits[16]);
  }
  for (int i = 0; i < length; ++i) {
    if (f.space && i > 0) {
      out_.push_back(' ');
      if (f.sharp) {
        out_.push_back('0');
        out_.push_back(digits[16]);
      }
    }
    const auto c = static_cast<unsigned char>(s[static_cast<size_t>(i)]);
    out_.push_back(digits[c >> 4]);
    out_.push_back(digits[c & 0xF]);
  }
  if (f.wid_present && f.wid > width && f.minus) write_padding(f.wid - width);
}

void Printer::fmt_q(std::string_view s) {
  s = truncate(s);
  const size_t start = out_.size();
  if (f.sharp && can_backquote(s)) {
    out_.push_back('`');
    out_.append(s);
    out_.push_back('`');
  } else {
    quote_with(out_, s, '"', f.plus);
  }
  pad_from(start);
}

void Printer::fmt_c(uint64_t c) {
  const size_t start = out_.size();
  append_rune(out_, c > kMaxRune ? kRuneError : static_cast<char32_t>(c));
  pad_from(start);
}

void Printer::fmt_qc(uint64_t c) {
  const size_t start = out_.size();
  quote_rune_with(out_, c > kMaxRune ? kRuneError : static_cast<char32_t>(c), f.plus);
  pad_from(start);
}

void Printer::fmt_float(double v, int size, char verb, int prec) {
  if (f.prec_present) prec = f.prec;
  // Lay the number out with an explicit sign at out_[start], then decide what to show.
  const size_t start = out_.size();
  out_.push_back('+');
  format_float(out_, v, verb, prec, size);
  if (out_[start + 1] == '-' || out_[start + 1] == '+') out_.erase(start, 1);
  if (f.space && out_[start] == '+' && !f.plus) out_[start] = ' ';
  const char lead = out_[start + 1];
  if (lead == 'I' || lead == 'N') {  // infinities and NaN are never zero padded
    const bool zero = f.zero;
    f.zero = false;
    if (lead == 'N' && !f.space && !f.plus) out_.erase(start, 1);
    pad_from(start);
    f.zero = zero;
    return;
  }
  if (f.sharp && verb != 'b') {
    // %#: always a decimal point, and %g keeps its trailing zeros.
    int digits = 0;
    if (verb == 'v' || verb == 'g' || verb == 'G' || verb == 'x') digits = prec == -1 ? 6 : prec;
    size_t tail = out_.size();
    bool has_point = false, saw_nonzero = false;
    for (size_t i = start + 1; i < out_.size(); ++i) {
      const char c = out_[i];
      if (c == '.') {
        has_point = true;
      } else if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
        tail = i;
        break;
      } else {
        if (c != '0') saw_nonzero = true;
        if (saw_nonzero) --digits;
      }
    }
    if (!has_point) {
      if (tail - start == 2 && out_[start + 1] == '0') --digits;  // a lone 0 is a digit
      out_.insert(tail++, 1, '.');
    }
    if (digits > 0) out_.insert(tail, static_cast<size_t>(digits), '0');
  }
  if (f.plus || out_[start] != '+') {
    const size_t len = out_.size() - start;
    if (f.zero && !f.minus && f.wid_present && static_cast<size_t>(f.wid) > len) {
      // Zeros go between the sign and the digits.
      out_.insert(start + 1, static_cast<size_t>(f.wid) - len, '0');
      return;
    }
    pad_from(start);
    return;
  }
  out_.erase(start, 1);
  pad_from(start);
}

}  // namespace templet::gofmt
