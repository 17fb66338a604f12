// fmt's printer state (fmt's pp and fmt types folded together), shared by the two files that
// implement it as Go splits fmt: gofmt_format.cpp (format.go: padding, integers, strings,
// floats) and gofmt.cpp (print.go: per-type dispatch, %v of composite values, Sprintf's
// directive parsing). Internal to the renderer.
#pragma once

#include <complex>
#include <span>
#include <string>
#include <string_view>

#include "renderer/value.hpp"

namespace templet::gofmt {

struct Flags {
  bool wid_present = false;
  bool prec_present = false;
  bool minus = false;
  bool plus = false;
  bool sharp = false;
  bool space = false;
  bool zero = false;
  // %+v and %#v: set instead of plus and sharp, which are cleared for the v verb.
  bool plus_v = false;
  bool sharp_v = false;
  int wid = 0;
  int prec = 0;
};

class Printer {
 public:
  explicit Printer(std::string& out) : out_(out) {}

  void print_arg(const Value& v, char32_t verb);
  // fmt's handleMethods for a Stringer: true when it printed v through its String().
  bool handle_methods(const Value& v, char32_t verb);
  void print_value(const Value& v, char32_t verb, int depth, const Type* slot);
  void print_struct(const Value& v, char32_t verb, int depth);
  void do_printf(std::string_view format, std::span<const Value> args);

  Flags f;

 private:
  // Low-level formatting (fmt's format.go).
  void write_padding(int n);
  void pad_from(size_t start);
  void pad_string(std::string_view s) {
    const size_t start = out_.size();
    out_.append(s);
    pad_from(start);
  }
  void fmt_boolean(bool b) { pad_string(b ? "true" : "false"); }
  void fmt_unicode(uint64_t u);
  void fmt_integer(uint64_t u, int base, bool is_signed, char32_t verb, bool upper);
  std::string_view truncate(std::string_view s) const;
  void fmt_s(std::string_view s) { pad_string(truncate(s)); }
  void fmt_sbx(std::string_view s, bool upper);
  void fmt_q(std::string_view s);
  void fmt_c(uint64_t c);
  void fmt_qc(uint64_t c);
  void fmt_float(double v, int size, char verb, int prec);

  // Per-type dispatch (fmt's print.go).
  void bad_verb(char32_t verb, const Value& v);
  void fmt0x64(uint64_t u, bool leading0x);
  void pp_integer(uint64_t u, bool is_signed, char32_t verb, const Value& v);
  void pp_float(double x, char32_t verb, const Value& v);
  void pp_complex(std::complex<double> z, char32_t verb, const Value& v);
  void pp_string(std::string_view s, char32_t verb, const Value& v);
  void pp_bytes(const Value& v, char32_t verb, std::string_view type_name);
  void pp_pointer(const Value& v, char32_t verb);

  int arg_number(int arg_num, std::string_view format, size_t& i, int num_args, bool& found);

  std::string& out_;
  bool good_arg_num_ = true;
  bool reordered_ = false;
};

}  // namespace templet::gofmt
