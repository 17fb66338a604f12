// Go's text/template builtin functions (funcs.go): and, or, not, len, index, slice, print,
// printf, println, html, js, urlquery, eq, ne, lt, le, gt, ge, call. and/or are evaluated by the
// executor itself (they short-circuit); their entries here carry the signature only.
#include <cstdio>

#include "renderer/function.hpp"
#include "renderer/gofmt.hpp"

namespace templet {

namespace {

using Span = std::span<const Value>;
const Type* const kRV = &types::reflect_value;

// Go's indirectInterface: an interface holding nil is no value.
Value concrete(const Value& v) {
  return v.kind() == Kind::Nil ? Value() : v;
}

std::string go_sprint(const Value& v) {
  std::string s;
  gofmt::print_value(s, v);
  return s;
}

// Go's indexArg.
int64_t index_arg(const Value& index, int64_t cap) {
  int64_t x = 0;
  switch (index.kind()) {
    case Kind::Int:
      x = index.as_int();
      break;
    case Kind::Uint:
      x = static_cast<int64_t>(index.as_uint());
      break;
    case Kind::Invalid:
    case Kind::Nil:
      throw FuncError("cannot index slice/array with nil");
    default:
      throw FuncError("cannot index slice/array with type " + index.type()->name);
  }
  if (x < 0 || x > cap) throw FuncError("index out of range: " + std::to_string(x));
  return x;
}

Value fn_not(CallContext&, Span a) {
  return Value::boolean(!truth(concrete(a[0])));
}

Value fn_len(CallContext&, Span a) {
  const Value& item = a[0];
  if (item.kind() == Kind::Nil || (item.kind() == Kind::Struct && item.is_nil()))
    throw FuncError("len of nil pointer");
  switch (item.kind()) {
    case Kind::String:
      return Value::integer(static_cast<int64_t>(item.as_string().size()));
    case Kind::List:
      return Value::integer(static_cast<int64_t>(item.as_list().size()));
    case Kind::Map:
      return Value::integer(static_cast<int64_t>(item.as_map().size()));
    case Kind::Invalid:
      throw FuncError("reflect: call of reflect.Value.Type on zero Value");
    default:
      throw FuncError("len of type " + item.type()->name);
  }
}

// Go's prepareArg for a map key.
Value prepare_key(const Value& index, const Type* key) {
  if (!index.valid() || index.kind() == Kind::Nil) {
    if (key->kind != Kind::Interface)
      throw FuncError("value is nil; should be of type " + key->name);
    return Value::nil();
  }
  if (index.type() == key || key->kind == Kind::Interface) return index;
  bool int_like = [](Kind k) { return k == Kind::Int || k == Kind::Uint; }(index.kind());
  if (int_like && (key->kind == Kind::Int || key->kind == Kind::Uint)) {
    if (key->kind == Kind::Int)
      return Value::integer(
          index.kind() == Kind::Int ? index.as_int() : static_cast<int64_t>(index.as_uint()), key);
    return Value::uinteger(
        index.kind() == Kind::Uint ? index.as_uint() : static_cast<uint64_t>(index.as_int()), key);
  }
  throw FuncError("value has type " + index.type()->name + "; should be " + key->name);
}

Value zero_of(const Type* t);

Value fn_index(CallContext&, Span a) {
  Value item = concrete(a[0]);
  if (!item.valid()) throw FuncError("index of untyped nil");
  for (size_t i = 1; i < a.size(); ++i) {
    Value index = concrete(a[i]);
    if (item.kind() == Kind::Nil || (item.is_nil() && item.kind() == Kind::Struct))
      throw FuncError("index of nil pointer");
    switch (item.kind()) {
      case Kind::List: {
        const auto& items = item.as_list();
        int64_t x = index_arg(index, static_cast<int64_t>(items.size()));
        if (x == static_cast<int64_t>(items.size()))
          throw FuncError("reflect: slice index out of range");
        Value next = items[x];
        item = std::move(next);
        break;
      }
      case Kind::String: {
        const auto& s = item.as_string();
        int64_t x = index_arg(index, static_cast<int64_t>(s.size()));
        if (x == static_cast<int64_t>(s.size()))
          throw FuncError("reflect: string index out of range");
        item = Value::uinteger(static_cast<unsigned char>(s[x]), &types::uint8);
        break;
      }
      case Kind::Map: {
        Value key = prepare_key(index, item.type()->key);
        if (const Value* v = item.map_find(key)) {
          Value next = *v;
          item = std::move(next);
        } else {
          item = zero_of(item.type()->elem);
        }
        break;
      }
      default:
        throw FuncError("can't index item of type " + item.type()->name);
    }
  }
  return item;
}

Value fn_slice(CallContext&, Span a) {
  Value item = concrete(a[0]);
  if (!item.valid()) throw FuncError("slice of untyped nil");
  size_t nidx = a.size() - 1;
  if (nidx > 3) throw FuncError("too many slice indexes: " + std::to_string(nidx));
  int64_t len = 0;
  switch (item.kind()) {
    case Kind::String:
      if (nidx == 3) throw FuncError("cannot 3-index slice a string");
      len = static_cast<int64_t>(item.as_string().size());
      break;
    case Kind::List:
      len = static_cast<int64_t>(item.as_list().size());
      break;
    default:
      throw FuncError("can't slice item of type " + item.type()->name);
  }
  int64_t idx[3] = {0, len, len};
  for (size_t i = 0; i < nidx; ++i) idx[i] = index_arg(concrete(a[i + 1]), len);
  if (idx[0] > idx[1])
    throw FuncError("invalid slice index: " + std::to_string(idx[0]) + " > " +
                    std::to_string(idx[1]));
  if (nidx == 3 && idx[1] > idx[2])
    throw FuncError("invalid slice index: " + std::to_string(idx[1]) + " > " +
                    std::to_string(idx[2]));
  if (item.kind() == Kind::String)
    return Value::string(item.as_string().substr(idx[0], idx[1] - idx[0]), item.type());
  const auto& items = item.as_list();
  return Value::list(std::vector<Value>(items.begin() + idx[0], items.begin() + idx[1]),
                     item.type());
}

// Comparison kinds, as Go's basicKind.
enum class BK { Invalid, Bool, Complex, Int, Float, String, Uint };
BK basic_kind(const Value& v) {
  switch (v.kind()) {
    case Kind::Bool:
      return BK::Bool;
    case Kind::Int:
      return BK::Int;
    case Kind::Uint:
      return BK::Uint;
    case Kind::Float:
      return BK::Float;
    case Kind::Complex:
      return BK::Complex;
    case Kind::String:
      return BK::String;
    default:
      return BK::Invalid;
  }
}

// Go 1.21+ names the two types (text/template/funcs.go).
std::string bad_comparison(const Value& a, const Value& b) {
  return "incompatible types for comparison: " + a.type()->name + " and " + b.type()->name;
}
const char* const kBadComparisonType = "invalid type for comparison";

bool is_nil_value(const Value& v) {
  return !v.valid() || v.is_nil();
}

bool eq2(const Value& arg1, const Value& raw) {
  Value arg = concrete(raw);
  BK k1 = basic_kind(arg1), k2 = basic_kind(arg);
  if (k1 != k2) {
    if (k1 == BK::Int && k2 == BK::Uint)
      return arg1.as_int() >= 0 && static_cast<uint64_t>(arg1.as_int()) == arg.as_uint();
    if (k1 == BK::Uint && k2 == BK::Int)
      return arg.as_int() >= 0 && arg1.as_uint() == static_cast<uint64_t>(arg.as_int());
    if (arg1.valid() && arg.valid()) throw FuncError(bad_comparison(arg1, arg));
    return false;
  }
  switch (k1) {
    case BK::Bool:
      return arg1.as_bool() == arg.as_bool();
    case BK::Complex:
      return arg1.as_complex() == arg.as_complex();
    case BK::Float:
      return arg1.as_float() == arg.as_float();
    case BK::Int:
      return arg1.as_int() == arg.as_int();
    case BK::String:
      return arg1.as_string() == arg.as_string();
    case BK::Uint:
      return arg1.as_uint() == arg.as_uint();
    case BK::Invalid:
      break;
  }
  if (arg1.valid() && arg.valid() && arg1.kind() != arg.kind())
    throw FuncError("non-comparable types " + go_sprint(arg1) + ": " + arg1.type()->name + ", " +
                    arg.type()->name + ": " + go_sprint(arg));
  if (is_nil_value(arg1) || is_nil_value(arg)) return is_nil_value(arg) == is_nil_value(arg1);
  if (arg.kind() == Kind::List || arg.kind() == Kind::Map || arg.kind() == Kind::Func)
    throw FuncError("non-comparable type " + go_sprint(arg) + ": " + arg.type()->name);
  // Structs: equal when every field is equal (Go's == on comparable structs).
  if (arg1.type() != arg.type()) return false;
  const auto& f1 = arg1.as_fields();
  const auto& f2 = arg.as_fields();
  for (size_t i = 0; i < f1.size() && i < f2.size(); ++i)
    if (!eq2(concrete(f1[i]), f2[i])) return false;
  return true;
}

Value fn_eq(CallContext&, Span a) {
  Value arg1 = concrete(a[0]);
  if (a.size() < 2) throw FuncError("missing argument for comparison");
  for (size_t i = 1; i < a.size(); ++i)
    if (eq2(arg1, a[i])) return Value::boolean(true);
  return Value::boolean(false);
}

Value fn_ne(CallContext&, Span a) {
  return Value::boolean(!eq2(concrete(a[0]), a[1]));
}

bool lt2(const Value& raw1, const Value& raw2) {
  Value arg1 = concrete(raw1), arg2 = concrete(raw2);
  BK k1 = basic_kind(arg1);
  if (k1 == BK::Invalid) throw FuncError(kBadComparisonType);
  BK k2 = basic_kind(arg2);
  if (k2 == BK::Invalid) throw FuncError(kBadComparisonType);
  if (k1 != k2) {
    if (k1 == BK::Int && k2 == BK::Uint)
      return arg1.as_int() < 0 || static_cast<uint64_t>(arg1.as_int()) < arg2.as_uint();
    if (k1 == BK::Uint && k2 == BK::Int)
      return arg2.as_int() >= 0 && arg1.as_uint() < static_cast<uint64_t>(arg2.as_int());
    throw FuncError(bad_comparison(arg1, arg2));
  }
  switch (k1) {
    case BK::Bool:
    case BK::Complex:
      throw FuncError(kBadComparisonType);
    case BK::Float:
      return arg1.as_float() < arg2.as_float();
    case BK::Int:
      return arg1.as_int() < arg2.as_int();
    case BK::String:
      return arg1.as_string() < arg2.as_string();
    case BK::Uint:
      return arg1.as_uint() < arg2.as_uint();
    default:
      throw FuncError(kBadComparisonType);
  }
}

bool le2(const Value& a, const Value& b) {
  return lt2(a, b) || eq2(concrete(a), b);
}

Value fn_lt(CallContext&, Span a) {
  return Value::boolean(lt2(a[0], a[1]));
}
Value fn_le(CallContext&, Span a) {
  return Value::boolean(le2(a[0], a[1]));
}
Value fn_gt(CallContext&, Span a) {
  return Value::boolean(!le2(a[0], a[1]));
}
Value fn_ge(CallContext&, Span a) {
  return Value::boolean(!lt2(a[0], a[1]));
}

// Go's evalArgs: Sprint of the arguments, where no value prints "<no value>".
std::string eval_args(Span a) {
  if (a.size() == 1 && a[0].type() == &types::string) return a[0].as_string();
  std::vector<Value> printable;
  printable.reserve(a.size());
  for (const auto& v : a)
    printable.push_back(v.valid() && v.kind() != Kind::Nil ? v : Value::string("<no value>"));
  std::string s;
  gofmt::sprint(s, printable);
  return s;
}

bool taint_of(Span a) {
  for (const auto& v : a)
    if (v.tainted()) return true;
  return false;
}

Value string_result(std::string s, Span args) {
  return taint_of(args) ? Value::tainted_string(std::move(s)) : Value::string(std::move(s));
}

Value fn_html(CallContext&, Span a) {
  std::string s = eval_args(a), out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return string_result(std::move(out), a);
}

// Decodes one UTF-8 rune at s[i]; returns U+FFFD with size 1 for invalid input, as Go does.
char32_t decode_rune(std::string_view s, size_t i, size_t& size) {
  unsigned char c = s[i];
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  size = 1;
  if (c < 0x80) return c;
  if (c >= 0xC2 && c < 0xE0 && cont(1)) {
    size = 2;
    return ((c & 0x1F) << 6) | (s[i + 1] & 0x3F);
  }
  if (c >= 0xE0 && c < 0xF0 && cont(1) && cont(2)) {
    char32_t r = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
    if (r >= 0x800 && (r < 0xD800 || r > 0xDFFF)) {
      size = 3;
      return r;
    }
    return 0xFFFD;
  }
  if (c >= 0xF0 && c < 0xF5 && cont(1) && cont(2) && cont(3)) {
    char32_t r = ((c & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) |
                 (s[i + 3] & 0x3F);
    if (r >= 0x10000 && r <= 0x10FFFF) {
      size = 4;
      return r;
    }
  }
  return 0xFFFD;
}

Value fn_js(CallContext&, Span a) {
  std::string s = eval_args(a), out;
  static const char* hex = "0123456789ABCDEF";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\'':
          out += "\\'";
          break;
        case '"':
          out += "\\\"";
          break;
        case '<':
          out += "\\u003C";
          break;
        case '>':
          out += "\\u003E";
          break;
        case '&':
          out += "\\u0026";
          break;
        case '=':
          out += "\\u003D";
          break;
        default:
          if (c < ' ') {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    size_t size;
    char32_t r = decode_rune(s, i, size);
    if (gofmt::is_print(r)) {
      out.append(s, i, size);
    } else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(r));
      out += buf;
    }
    i += size - 1;
  }
  return string_result(std::move(out), a);
}

Value fn_urlquery(CallContext&, Span a) {
  std::string s = eval_args(a), out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return string_result(std::move(out), a);
}

Value fn_print(CallContext&, Span a) {
  std::string s;
  gofmt::sprint(s, a);
  return string_result(std::move(s), a);
}

Value fn_println(CallContext&, Span a) {
  std::string s;
  gofmt::sprintln(s, a);
  return string_result(std::move(s), a);
}

Value fn_printf(CallContext&, Span a) {
  std::string s;
  gofmt::sprintf(s, a[0].as_string(), a.subspan(1));
  return string_result(std::move(s), a);
}

// argv[0] is the callee's text (inserted by the executor), argv[1] the function value.
Value fn_call(CallContext& ctx, Span a) {
  const std::string& name = a[0].as_string();
  Value fn = concrete(a[1]);
  if (!fn.valid()) throw FuncError("call of nil");
  if (fn.kind() != Kind::Func)
    throw FuncError("non-function " + name + " of type " + fn.type()->name);
  const FuncData& f = fn.as_func();
  Span args = a.subspan(2);
  size_t num_in = f.params.size();
  if (f.variadic) {
    if (args.size() < num_in - 1)
      throw FuncError("wrong number of args for " + name + ": got " + std::to_string(args.size()) +
                      " want at least " + std::to_string(num_in - 1));
  } else if (args.size() != num_in) {
    throw FuncError("wrong number of args for " + name + ": got " + std::to_string(args.size()) +
                    " want " + std::to_string(num_in));
  }
  std::vector<Value> argv;
  for (size_t i = 0; i < args.size(); ++i) {
    Value arg = concrete(args[i]);
    const Type* t = (!f.variadic || i < num_in - 1) ? f.params[i] : f.params.back();
    if (t == nullptr) t = &types::any;
    if (!arg.valid()) {
      if (t->kind == Kind::Interface || t->kind == Kind::List || t->kind == Kind::Map) {
        argv.push_back(t->kind == Kind::Interface ? Value::nil() : Value::typed_nil(t));
        continue;
      }
      throw FuncError("arg " + std::to_string(i) + ": value is nil; should be of type " + t->name);
    }
    if (arg.type() != t && t != &types::any)
      throw FuncError("arg " + std::to_string(i) + ": value has type " + arg.type()->name +
                      "; should be " + t->name);
    argv.push_back(arg);
  }
  return f.call(ctx, argv);
}

Value zero_of(const Type* t) {
  if (t->kind == Kind::Interface) return Value::nil();
  switch (t->kind) {
    case Kind::String:
      return Value::string("", t);
    case Kind::Int:
      return Value::integer(0, t);
    case Kind::Uint:
      return Value::uinteger(0, t);
    case Kind::Float:
      return Value::floating(0, t);
    case Kind::Bool:
      return Value::boolean(false);
    default:
      return Value::typed_nil(t);
  }
}

Function make(std::string name, std::vector<const Type*> params, bool variadic, NativeFunc fn,
              Builtin b = Builtin::None) {
  Function f;
  f.name = std::move(name);
  f.params = std::move(params);
  f.variadic = variadic;
  f.call = std::move(fn);
  f.builtin = b;
  return f;
}

FunctionTable build() {
  FunctionTable t;
  const Type* any = &types::any;
  t.add(make("and", {kRV, kRV}, true, nullptr, Builtin::And));
  t.add(make("or", {kRV, kRV}, true, nullptr, Builtin::Or));
  t.add(make("call", {kRV, kRV}, true, fn_call, Builtin::Call));
  t.add(make("html", {any}, true, fn_html));
  t.add(make("index", {kRV, kRV}, true, fn_index));
  t.add(make("slice", {kRV, kRV}, true, fn_slice));
  t.add(make("js", {any}, true, fn_js));
  t.add(make("len", {kRV}, false, fn_len));
  t.add(make("not", {kRV}, false, fn_not));
  t.add(make("print", {any}, true, fn_print));
  t.add(make("printf", {&types::string, any}, true, fn_printf));
  t.add(make("println", {any}, true, fn_println));
  t.add(make("urlquery", {any}, true, fn_urlquery));
  t.add(make("eq", {kRV, kRV}, true, fn_eq));
  t.add(make("ge", {kRV, kRV}, false, fn_ge));
  t.add(make("gt", {kRV, kRV}, false, fn_gt));
  t.add(make("le", {kRV, kRV}, false, fn_le));
  t.add(make("lt", {kRV, kRV}, false, fn_lt));
  t.add(make("ne", {kRV, kRV}, false, fn_ne));
  return t;
}

}  // namespace

const FunctionTable& builtin_functions() {
  static const FunctionTable table = build();
  return table;
}

}  // namespace templet
