#include "renderer/gofmt.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "renderer/gofmt_printer.hpp"
#include "renderer/gostrconv.hpp"

namespace templet::gofmt {

namespace {

bool is_byte_type(const Type* t) {
  return t && t->kind == Kind::Uint && t->name == "uint8";
}

std::string_view pointee_name(const Type* t) {
  std::string_view n = t->name;
  if (t->pointer && !n.empty() && n[0] == '*') n.remove_prefix(1);
  return n;
}

}  // namespace

void Printer::bad_verb(char32_t verb, const Value& v) {
  out_ += "%!";
  append_rune(out_, verb);
  out_.push_back('(');
  if (!v.valid() || v.kind() == Kind::Nil) {
    out_ += kNilAngle;
  } else {
    out_ += v.type()->name;
    out_.push_back('=');
    print_arg(v, 'v');
  }
  out_.push_back(')');
}

void Printer::fmt0x64(uint64_t u, bool leading0x) {
  const bool sharp = f.sharp;
  f.sharp = leading0x;
  fmt_integer(u, 16, false, 'v', false);
  f.sharp = sharp;
}

void Printer::pp_integer(uint64_t u, bool is_signed, char32_t verb, const Value& v) {
  switch (verb) {
    case 'v':
      if (f.sharp_v && !is_signed) {
        fmt0x64(u, true);
      } else {
        fmt_integer(u, 10, is_signed, verb, false);
      }
      return;
    case 'd':
      fmt_integer(u, 10, is_signed, verb, false);
      return;
    case 'b':
      fmt_integer(u, 2, is_signed, verb, false);
      return;
    case 'o':
    case 'O':
      fmt_integer(u, 8, is_signed, verb, false);
      return;
    case 'x':
      fmt_integer(u, 16, is_signed, verb, false);
      return;
    case 'X':
      fmt_integer(u, 16, is_signed, verb, true);
      return;
    case 'c':
      fmt_c(u);
      return;
    case 'q':
      fmt_qc(u);
      return;
    case 'U':
      fmt_unicode(u);
      return;
    default:
      bad_verb(verb, v);
  }
}

void Printer::pp_float(double x, char32_t verb, const Value& v) {
  switch (verb) {
    case 'v':
      fmt_float(x, 64, 'g', -1);
      return;
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
      fmt_float(x, 64, static_cast<char>(verb), -1);
      return;
    case 'f':
    case 'e':
    case 'E':
      fmt_float(x, 64, static_cast<char>(verb), 6);
      return;
    case 'F':
      fmt_float(x, 64, 'f', 6);
      return;
    default:
      bad_verb(verb, v);
  }
}

void Printer::pp_complex(std::complex<double> z, char32_t verb, const Value& v) {
  switch (verb) {
    case 'v':
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
    case 'f':
    case 'F':
    case 'e':
    case 'E': {
      const bool plus = f.plus;
      out_.push_back('(');
      pp_float(z.real(), verb, v);
      f.plus = true;
      pp_float(z.imag(), verb, v);
      out_ += "i)";
      f.plus = plus;
      return;
    }
    default:
      bad_verb(verb, v);
  }
}

void Printer::pp_string(std::string_view s, char32_t verb, const Value& v) {
  switch (verb) {
    case 'v':
      if (f.sharp_v) {
        fmt_q(s);
      } else {
        fmt_s(s);
      }
      return;
    case 's':
      fmt_s(s);
      return;
    case 'x':
      fmt_sbx(s, false);
      return;
    case 'X':
      fmt_sbx(s, true);
      return;
    case 'q':
      fmt_q(s);
      return;
    default:
      bad_verb(verb, v);
  }
}

// A []uint8 under %s %q %x %X (and %v %d at the top level, where Go names it []byte).
void Printer::pp_bytes(const Value& v, char32_t verb, std::string_view type_name) {
  const auto& items = v.as_list();
  if (verb == 'v' || verb == 'd') {
    if (f.sharp_v) {
      out_ += type_name;
      if (v.is_nil()) {
        out_ += "(nil)";
        return;
      }
      out_.push_back('{');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out_ += ", ";
        fmt0x64(items[i].as_uint() & 0xFF, true);
      }
      out_.push_back('}');
    } else {
      out_.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out_.push_back(' ');
        fmt_integer(items[i].as_uint() & 0xFF, 10, false, verb, false);
      }
      out_.push_back(']');
    }
    return;
  }
  std::string bytes;
  bytes.reserve(items.size());
  for (const auto& b : items) bytes.push_back(static_cast<char>(b.as_uint()));
  switch (verb) {
    case 's':
      fmt_s(bytes);
      return;
    case 'x':
      fmt_sbx(bytes, false);
      return;
    case 'X':
      fmt_sbx(bytes, true);
      return;
    default:
      fmt_q(bytes);
      return;
  }
}

void Printer::pp_pointer(const Value& v, char32_t verb) {
  const uint64_t u = v.is_nil() ? 0 : kFakeAddress;
  switch (verb) {
    case 'v':
      if (f.sharp_v) {
        out_.push_back('(');
        out_ += v.type()->name;
        out_ += ")(";
        if (u == 0) {
          out_ += "nil";
        } else {
          fmt0x64(u, true);
        }
        out_.push_back(')');
      } else if (u == 0) {
        pad_string(kNilAngle);
      } else {
        fmt0x64(u, !f.sharp);
      }
      return;
    case 'p':
      fmt0x64(u, !f.sharp);
      return;
    case 'b':
    case 'o':
    case 'd':
    case 'x':
    case 'X':
      pp_integer(u, false, verb, v);
      return;
    default:
      bad_verb(verb, v);
  }
}

void Printer::print_arg(const Value& v, char32_t verb) {
  if (!v.valid() || v.kind() == Kind::Nil) {
    if (verb == 'T' || verb == 'v') {
      pad_string(kNilAngle);
    } else {
      bad_verb(verb, v);
    }
    return;
  }
  if (verb == 'T') {
    fmt_s(v.type()->name);
    return;
  }
  if (verb == 'p') {
    switch (v.kind()) {
      case Kind::List:
      case Kind::Map:
      case Kind::Func:
        pp_pointer(v, verb);
        return;
      case Kind::Struct:
        if (v.type()->pointer) {
          pp_pointer(v, verb);
          return;
        }
        break;
      default:
        break;
    }
    bad_verb(verb, v);
    return;
  }
  const bool byte_slice =
      v.kind() == Kind::List && is_byte_type(v.type()->elem) && v.type()->name == "[]uint8";
  // %w wraps errors only in fmt.Errorf; Sprintf reports it as a bad verb, except that a []byte
  // skips that check and reaches its elements, each reported.
  if (verb == 'w' && !byte_slice) {
    switch (v.kind()) {
      case Kind::List:
      case Kind::Map:
      case Kind::Struct:
      case Kind::Func:
        bad_verb(verb, v);
        return;
      default:
        break;
    }
  }
  // A top-level []byte is formatted by fmt's []byte case, which names its type []byte.
  if (byte_slice) {
    switch (verb) {
      case 'v':
      case 'd':
      case 's':
      case 'x':
      case 'X':
      case 'q':
        pp_bytes(v, verb, "[]byte");
        return;
      default:
        break;
    }
  }
  if (handle_methods(v, verb)) return;
  print_value(v, verb, 0, nullptr);
}

bool Printer::handle_methods(const Value& v, char32_t verb) {
  if (v.kind() != Kind::Struct || !v.type()->stringer || v.is_nil() || f.sharp_v) return false;
  switch (verb) {
    case 'v':
    case 's':
    case 'x':
    case 'X':
    case 'q': {
      Value s = Value::string(v.type()->stringer(v));
      if (v.tainted()) s = s.with_taint();
      pp_string(s.as_string(), verb, s);
      return true;
    }
    default:
      return false;
  }
}

// slot is the static type of the container slot holding v (interface {} for most), which names
// a nil interface under %#v.
void Printer::print_value(const Value& v, char32_t verb, int depth, const Type* slot) {
  if (verb == 'w' && depth > 0) {  // fmt's method check rejects %w on every element
    bad_verb(verb, v);
    return;
  }
  if (depth > 0 && handle_methods(v, verb)) return;
  switch (v.kind()) {
    case Kind::Invalid:
    case Kind::Nil:
    case Kind::Interface:
      // A nil interface inside a container: no padding and no bad-verb report, as in Go.
      if (f.sharp_v) {
        out_ += slot && slot->kind == Kind::Interface ? std::string_view(slot->name)
                                                      : std::string_view("interface {}");
        out_ += "(nil)";
      } else {
        out_ += kNilAngle;
      }
      return;
    case Kind::Bool:
      if (verb == 't' || verb == 'v') {
        fmt_boolean(v.as_bool());
      } else {
        bad_verb(verb, v);
      }
      return;
    case Kind::Int:
      pp_integer(static_cast<uint64_t>(v.as_int()), true, verb, v);
      return;
    case Kind::Uint:
      pp_integer(v.as_uint(), false, verb, v);
      return;
    case Kind::Float:
      pp_float(v.as_float(), verb, v);
      return;
    case Kind::Complex:
      pp_complex(v.as_complex(), verb, v);
      return;
    case Kind::String:
      pp_string(v.as_string(), verb, v);
      return;
    case Kind::Map: {
      const Type* t = v.type();
      if (f.sharp_v) {
        out_ += t->name;
        if (v.is_nil()) {
          out_ += "(nil)";
          return;
        }
        out_.push_back('{');
      } else {
        out_ += "map[";
      }
      bool first = true;
      for (const auto& [key, val] : v.as_map()) {
        if (!first) {
          if (f.sharp_v) {
            out_ += ", ";
          } else {
            out_.push_back(' ');
          }
        }
        first = false;
        print_value(key, verb, depth + 1, t->key);
        out_.push_back(':');
        print_value(val, verb, depth + 1, t->elem);
      }
      out_.push_back(f.sharp_v ? '}' : ']');
      return;
    }
    case Kind::Struct:
      if (v.type()->pointer) {
        if (v.is_nil()) {
          pp_pointer(v, verb);
          return;
        }
        // Go prints &{...} at depth 0 only; deeper it formats the pointer itself: an address
        // under %v (templet keeps &{...} there, see the header), the address as a number
        // under %d/%x..., and %!q(*T=&{...}) for verbs a pointer does not take.
        if (depth > 0 && verb != 'v') {
          pp_pointer(v, verb);
          return;
        }
        out_.push_back('&');
      }
      print_struct(v, verb, depth + (v.type()->pointer ? 1 : 0));
      return;
    case Kind::List: {
      const Type* t = v.type();
      if ((verb == 's' || verb == 'q' || verb == 'x' || verb == 'X') && is_byte_type(t->elem)) {
        pp_bytes(v, verb, t->name);
        return;
      }
      const auto& items = v.as_list();
      if (f.sharp_v) {
        out_ += t->name;
        if (v.is_nil()) {
          out_ += "(nil)";
          return;
        }
        out_.push_back('{');
        for (size_t i = 0; i < items.size(); ++i) {
          if (i > 0) out_ += ", ";
          print_value(items[i], verb, depth + 1, t->elem);
        }
        out_.push_back('}');
      } else {
        out_.push_back('[');
        for (size_t i = 0; i < items.size(); ++i) {
          if (i > 0) out_.push_back(' ');
          print_value(items[i], verb, depth + 1, t->elem);
        }
        out_.push_back(']');
      }
      return;
    }
    case Kind::Func:
      pp_pointer(v, verb);
      return;
  }
}

void Printer::print_struct(const Value& v, char32_t verb, int depth) {
  const Type* t = v.type();
  if (f.sharp_v) out_ += pointee_name(t);
  out_.push_back('{');
  const auto& fields = v.as_fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      if (f.sharp_v) {
        out_ += ", ";
      } else {
        out_.push_back(' ');
      }
    }
    if ((f.plus_v || f.sharp_v) && i < t->fields.size() && !t->fields[i].empty()) {
      out_ += t->fields[i];
      out_.push_back(':');
    }
    print_value(fields[i], verb, depth + 1, &types::any);
  }
  out_.push_back('}');
}

// ---------------------------------------------------------------------------------------------
// Printf's format parsing.

namespace {

bool too_large(int64_t x) {
  return x > 1000000 || x < -1000000;
}

// Parses a decimal number in format[start, end). On overflow the rest of the format is consumed.
struct Num {
  int num = 0;
  bool ok = false;
  size_t next = 0;
};

Num parse_num(std::string_view s, size_t start, size_t end) {
  Num r;
  if (start >= end) {
    r.next = end;
    return r;
  }
  size_t i = start;
  for (; i < end && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (too_large(r.num)) return Num{0, false, end};
    r.num = r.num * 10 + (s[i] - '0');
    r.ok = true;
  }
  r.next = i;
  return r;
}

// A * width or precision argument: an integer operand within +-1e6.
struct IntArg {
  int num = 0;
  bool ok = false;
};

IntArg int_from_arg(std::span<const Value> args, int& arg_num) {
  IntArg r;
  if (arg_num >= static_cast<int>(args.size())) return r;
  const Value& v = args[static_cast<size_t>(arg_num)];
  int64_t n = 0;
  if (v.kind() == Kind::Int) {
    n = v.as_int();
    r.ok = true;
  } else if (v.kind() == Kind::Uint) {
    if (static_cast<int64_t>(v.as_uint()) >= 0) {
      n = static_cast<int64_t>(v.as_uint());
      r.ok = true;
    }
  }
  ++arg_num;
  if (too_large(n)) {
    n = 0;
    r.ok = false;
  }
  r.num = static_cast<int>(n);
  return r;
}

}  // namespace

// An argument index [n] at format[i]: returns the new argument number and advances i.
int Printer::arg_number(int arg_num, std::string_view format, size_t& i, int num_args,
                        bool& found) {
  found = false;
  if (i >= format.size() || format[i] != '[') return arg_num;
  reordered_ = true;
  // Find the closing bracket; a malformed index skips just the bracket (or through the ']').
  const std::string_view rest = format.substr(i);
  int index = 0;
  size_t width = 1;
  bool ok = false;
  if (rest.size() >= 3) {
    for (size_t k = 1; k < rest.size(); ++k) {
      if (rest[k] == ']') {
        const Num n = parse_num(rest, 1, k);
        width = k + 1;
        if (n.ok && n.next == k) {
          index = n.num - 1;
          ok = true;
        }
        break;
      }
    }
  }
  i += width;
  if (ok && index >= 0 && index < num_args) {
    found = true;
    return index;
  }
  good_arg_num_ = false;
  found = ok;
  return arg_num;
}

void Printer::do_printf(std::string_view format, std::span<const Value> args) {
  const size_t end = format.size();
  const int num_args = static_cast<int>(args.size());
  int arg_num = 0;
  bool after_index = false;
  reordered_ = false;
  for (size_t i = 0; i < end;) {
    good_arg_num_ = true;
    const size_t lasti = i;
    while (i < end && format[i] != '%') ++i;
    if (i > lasti) out_.append(format.substr(lasti, i - lasti));
    if (i >= end) break;
    ++i;  // skip %

    f = Flags{};
    for (bool flags = true; flags && i < end;) {
      switch (format[i]) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = true;
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          flags = false;
          continue;
      }
      ++i;
    }

    arg_num = arg_number(arg_num, format, i, num_args, after_index);

    if (i < end && format[i] == '*') {
      ++i;
      const IntArg w = int_from_arg(args, arg_num);
      f.wid = w.num;
      f.wid_present = w.ok;
      if (!w.ok) out_ += "%!(BADWIDTH)";
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;  // no zero padding on the right
      }
      after_index = false;
    } else {
      const Num n = parse_num(format, i, end);
      f.wid = n.num;
      f.wid_present = n.ok;
      i = n.next;
      if (after_index && f.wid_present) good_arg_num_ = false;  // "%[3]2d"
    }

    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) good_arg_num_ = false;  // "%[3].2d"
      arg_num = arg_number(arg_num, format, i, num_args, after_index);
      if (i < end && format[i] == '*') {
        ++i;
        const IntArg p = int_from_arg(args, arg_num);
        f.prec = p.num;
        f.prec_present = p.ok;
        if (f.prec < 0) {  // a negative precision means none
          f.prec = 0;
          f.prec_present = false;
        }
        if (!f.prec_present) out_ += "%!(BADPREC)";
        after_index = false;
      } else {
        const Num n = parse_num(format, i, end);
        f.prec = n.num;
        f.prec_present = n.ok;
        i = n.next;
        if (!f.prec_present) {  // "%.d" means precision 0
          f.prec = 0;
          f.prec_present = true;
        }
      }
    }

    if (!after_index) arg_num = arg_number(arg_num, format, i, num_args, after_index);

    if (i >= end) {
      out_ += "%!(NOVERB)";
      break;
    }

    char32_t verb = static_cast<unsigned char>(format[i]);
    size_t size = 1;
    if (verb >= 0x80) {
      const Decoded d = decode_rune(format, i);
      verb = d.r;
      size = d.width;
    }
    i += size;

    if (verb == '%') {  // a literal percent takes no operand and ignores width and precision
      out_.push_back('%');
    } else if (!good_arg_num_) {
      out_ += "%!";
      append_rune(out_, verb);
      out_ += "(BADINDEX)";
    } else if (arg_num >= num_args) {
      out_ += "%!";
      append_rune(out_, verb);
      out_ += "(MISSING)";
    } else {
      const Value& arg = args[static_cast<size_t>(arg_num)];
      if (verb == 'v' || verb == 'w') {
        f.sharp_v = f.sharp;
        f.sharp = false;
        f.plus_v = f.plus;
        f.plus = false;
      }
      print_arg(arg, verb);
      ++arg_num;
    }
  }

  if (!reordered_ && arg_num < num_args) {
    f = Flags{};
    out_ += "%!(EXTRA ";
    for (int k = arg_num; k < num_args; ++k) {
      if (k > arg_num) out_ += ", ";
      const Value& arg = args[static_cast<size_t>(k)];
      if (!arg.valid() || arg.kind() == Kind::Nil) {
        out_ += kNilAngle;
      } else {
        out_ += arg.type()->name;
        out_.push_back('=');
        print_arg(arg, 'v');
      }
    }
    out_.push_back(')');
  }
}

namespace {

bool is_string_arg(const Value& v) {
  return v.kind() == Kind::String;
}

}  // namespace

void sprint(std::string& out, std::span<const Value> args) {
  Printer p(out);
  bool prev_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_string = is_string_arg(args[i]);
    if (i > 0 && !is_string && !prev_string) out.push_back(' ');
    p.print_arg(args[i], 'v');
    prev_string = is_string;
  }
}

void sprintln(std::string& out, std::span<const Value> args) {
  Printer p(out);
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out.push_back(' ');
    p.print_arg(args[i], 'v');
  }
  out.push_back('\n');
}

void sprintf(std::string& out, std::string_view format, std::span<const Value> args) {
  Printer p(out);
  p.do_printf(format, args);
}

void print_value(std::string& out, const Value& v) {
  Printer p(out);
  if (p.handle_methods(v, 'v')) return;
  if (v.kind() == Kind::Struct && v.type()->pointer && !v.is_nil()) {
    // text/template indirects a pointer before printing it.
    p.print_struct(v, 'v', 1);
    return;
  }
  p.print_arg(v, 'v');
}

}  // namespace templet::gofmt
