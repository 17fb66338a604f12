// consul-template's debug functions over go-spew's default configuration: spew_sdump returns
// what spew.Sdump prints (types, lengths, one item per line, a space of indent per level),
// spew_sprintf formats as spew.Sprintf does for the verbs other than %+v and %#v (which are
// fmt's), and spew_dump / spew_printf write the same text to templet's stderr and render
// nothing, as consul-template writes to its stdout. Caveats that cannot match Go: pointers
// print a placeholder address (Go prints the heap address), slices report cap equal to len,
// and a map prints its keys in Go's sorted order (spew's default leaves them in random order).
// A dump derived from a secret goes to stderr masked, since stderr is templet's log.
#include <iostream>

#include "functions/helpers_internal.hpp"
#include "renderer/diff.hpp"
#include "renderer/gofmt.hpp"

namespace templet::helpers {

namespace {

struct Dumper {
  std::string out;
  int depth = 0;
  bool ignore_next_indent = false;
  bool ignore_next_type = false;

  void indent() {
    if (ignore_next_indent) {
      ignore_next_indent = false;
      return;
    }
    out.append(static_cast<size_t>(depth), ' ');
  }

  void nil_interface() {
    indent();
    out += "(interface {}) <nil>";
  }

  void dump(const Value& v) {
    if (!v.valid() || v.kind() == Kind::Nil) return nil_interface();
    if (v.kind() == Kind::Struct && v.type()->pointer) return dump_pointer(v);
    if (!ignore_next_type) {
      indent();
      out += "(" + go_type(v) + ") ";
    }
    ignore_next_type = false;
    size_t len = 0, cap = 0;
    if (v.kind() == Kind::List) len = cap = v.as_list().size();
    if (v.kind() == Kind::Map) len = v.as_map().size();
    if (v.kind() == Kind::String) len = v.as_string().size();
    if (len != 0 || cap != 0) {
      out += "(";
      if (len != 0) out += "len=" + std::to_string(len);
      if (cap != 0) out += (len != 0 ? " " : "") + std::string("cap=") + std::to_string(cap);
      out += ") ";
    }
    switch (v.kind()) {
      case Kind::Bool:
        out += v.as_bool() ? "true" : "false";
        break;
      case Kind::Int:
        out += std::to_string(v.as_int());
        break;
      case Kind::Uint:
        out += std::to_string(v.as_uint());
        break;
      case Kind::Float:
        out += format_float(v.as_float(), 'g');
        break;
      case Kind::String:
        out += go_quote(v.as_string());
        break;
      case Kind::List:
        if (v.is_nil()) {
          out += "<nil>";
          break;
        }
        out += "{\n";
        ++depth;
        for (size_t i = 0; i < v.as_list().size(); ++i) {
          dump(v.as_list()[i]);
          out += i + 1 < v.as_list().size() ? ",\n" : "\n";
        }
        --depth;
        indent();
        out += "}";
        break;
      case Kind::Map: {
        if (v.is_nil()) {
          out += "<nil>";
          break;
        }
        out += "{\n";
        ++depth;
        const auto& entries = v.as_map();
        for (size_t i = 0; i < entries.size(); ++i) {
          dump(entries[i].first);
          out += ": ";
          ignore_next_indent = true;
          dump(entries[i].second);
          out += i + 1 < entries.size() ? ",\n" : "\n";
        }
        --depth;
        indent();
        out += "}";
        break;
      }
      case Kind::Struct:
        dump_fields(v);
        break;
      default:
        out += go_v(v);
    }
  }

  void dump_fields(const Value& v) {
    out += "{\n";
    ++depth;
    const auto& names = v.type()->fields;
    const auto& fields = v.as_fields();
    for (size_t i = 0; i < names.size() && i < fields.size(); ++i) {
      indent();
      out += names[i] + ": ";
      ignore_next_indent = true;
      dump(fields[i]);
      out += i + 1 < names.size() ? ",\n" : "\n";
    }
    --depth;
    indent();
    out += "}";
  }

  void dump_pointer(const Value& v) {
    indent();
    std::string name = v.type()->name;
    if (!name.empty() && name[0] == '*') name = name.substr(1);
    out += "(*" + name + ")";
    if (v.is_nil()) {
      out += "(<nil>)";
      return;
    }
    out += "(0xc000010000)(";
    ignore_next_type = true;
    dump_fields(v);
    out += ")";
  }
};

std::string sdump(Args a) {
  Dumper d;
  for (const auto& v : a) {
    d.depth = 0;
    d.dump(v);
    d.out += "\n";
  }
  return d.out;
}

std::string sprintf(Args a) {
  std::string out;
  gofmt::sprintf(out, a[0].as_string(), a.subspan(1));
  return out;
}

bool any_tainted(Args a) {
  for (const auto& v : a)
    if (v.tainted()) return true;
  return false;
}

void to_stderr(const std::string& text, Args a) {
  std::cerr << (any_tainted(a) ? std::string(kSecretMask) + "\n" : text) << std::flush;
}

}  // namespace

void register_spew(FunctionTable& t) {
  const Type* S_ = &types::string;
  define(
      t, "spew_sdump", {nullptr}, [](Args a) { return Value::string(sdump(a)); }, true);
  define(
      t, "spew_sprintf", {S_, nullptr}, [](Args a) { return Value::string(sprintf(a)); }, true);
  define(
      t, "spew_dump", {nullptr},
      [](Args a) {
        to_stderr(sdump(a), a);
        return Value::string("");
      },
      true);
  define(
      t, "spew_printf", {S_, nullptr},
      [](Args a) {
        to_stderr(sprintf(a), a);
        return Value::string("");
      },
      true);
}

}  // namespace templet::helpers
