// The dynamic values templates compute with, modelled on the Go values text/template sees.
//
// A Value is 16 bytes: a pointer to its Go type descriptor and an 8-byte payload (a scalar, or a
// reference-counted pointer to shared immutable data). Copying a Value never copies a string or a
// container, which is what lets a snapshot of Vault/Consul data be read by many renders at once.
// Go type identity is kept because it changes output and errors: `%T`, `int` vs `int64` vs
// `json.Number`, `[]string` vs `[]interface {}`, and a missing key in `map[string]string` (zero
// "") vs `map[string]interface {}` (no value).
#pragma once

#include <atomic>
#include <complex>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace templet {

// Go reflect kinds that matter to templates. Interface is only ever a parameter or element type:
// a Value never has it (an interface holding nothing is Kind::Nil).
enum class Kind : uint8_t {
  Invalid,
  Nil,
  Bool,
  Int,
  Uint,
  Float,
  Complex,
  String,
  List,
  Map,
  Struct,
  Func,
  Interface,
};

class Value;
struct CallContext;

// A method on a struct type (consul-template's Scratch.Get, for instance). Receives the receiver
// first, then the arguments.
struct Method {
  std::string name;
  std::vector<const struct Type*> params;  // nullptr entries mean interface{}
  bool variadic = false;                   // last param is ...T (params.back() is T)
  std::function<Value(CallContext&, const Value& self, std::span<const Value> args)> call;
};

// A Go type. Instances are canonical: two Values have the same Go type iff their Type pointers are
// equal. Built-in types live in `types::`; functions create their own struct types once.
struct Type {
  Kind kind = Kind::Invalid;
  std::string name;            // how Go's %T spells it: "int", "[]string", "*dependency.Secret"
  const Type* elem = nullptr;  // List and Map element type
  const Type* key = nullptr;   // Map key type
  // Struct: field names, in declaration order; a lower-case one is unexported (printed by fmt,
  // refused to templates).
  std::vector<std::string> fields;
  std::vector<Method> methods;  // Struct: methods callable as .Name
  bool pointer = false;  // Struct reached through a pointer (*T): fields may be looked up, nil-able
  bool number_text = false;  // json.Number: a String that prints its literal text
  // Struct: encoding/json's field options, one per field (empty: none): 'o' omitempty, '-' the
  // field is never encoded, ' ' plain.
  std::string json_options;
  // Struct or String (time.Time): a MarshalJSON method, as the Value encoding/json encodes in
  // this one's place.
  std::function<Value(const Value&)> marshal_json;
  // Struct: a String() method (fmt.Stringer), which fmt prints for %v %s %x %X %q.
  std::function<std::string(const Value&)> stringer;

  int field_index(std::string_view field) const;
  const Method* method(std::string_view m) const;
};

namespace types {
extern const Type nil;  // the "type" of an untyped nil, printed "<nil>"
extern const Type any;  // interface {}
extern const Type boolean;
extern const Type int_;  // Go int (constants, len, indexes)
extern const Type int64;
extern const Type int32;
extern const Type uint;
extern const Type uint8;
extern const Type uint64;
extern const Type float64;
extern const Type complex128;
extern const Type string;
extern const Type json_number;
extern const Type list_any;     // []interface {}
extern const Type list_string;  // []string
extern const Type list_int;     // []int
extern const Type map_any;      // map[string]interface {}
extern const Type map_string;   // map[string]string
extern const Type map_any_any;  // map[interface {}]interface {}
extern const Type error;        // error (as a parameter or interface type)
}  // namespace types

// Shared, immutable payloads. Reference counts are atomic so that a snapshot built on a fetch
// thread can be released there while a render still holds parts of it.
// No virtual destructor: the owning Value knows its kind and deletes the right type, which
// keeps the header to 8 bytes (snapshots hold hundreds of thousands of strings).
struct HeapObject {
  mutable std::atomic<uint32_t> refs{1};
  bool tainted = false;  // derived from a Vault secret: masked wherever templet prints it
};

struct StringData : HeapObject {
  std::string text;
  explicit StringData(std::string t) : text(std::move(t)) {}
};

struct ListData : HeapObject {
  std::vector<Value> items;
};

// Entries are kept sorted in Go's map-key order (fmtsort), which is the order Go prints and
// ranges over them; lookup is a binary search.
struct MapData : HeapObject {
  std::vector<std::pair<Value, Value>> entries;
};

struct StructData : HeapObject {
  std::vector<Value> fields;  // parallel to Type::fields
};

struct ComplexData : HeapObject {
  std::complex<double> z;
  explicit ComplexData(std::complex<double> v) : z(v) {}
};

using NativeFunc = std::function<Value(CallContext&, std::span<const Value>)>;
struct FuncData : HeapObject {
  std::string name;
  std::vector<const Type*> params;
  bool variadic = false;
  NativeFunc call;
};

class Value {
 public:
  Value() = default;  // invalid: Go's zero reflect.Value, printed "<no value>"
  Value(const Value& o) : type_(o.type_), u_(o.u_) { retain(); }
  Value(Value&& o) noexcept : type_(o.type_), u_(o.u_) { o.type_ = nullptr; }
  Value& operator=(const Value& o) {
    if (this != &o) {
      o.retain();
      release();
      type_ = o.type_;
      u_ = o.u_;
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      release();
      type_ = o.type_;
      u_ = o.u_;
      o.type_ = nullptr;
    }
    return *this;
  }
  ~Value() { release(); }

  // Constructors for each Go type family.
  static Value nil() { return Value(&types::nil, U{}); }
  static Value boolean(bool b) {
    U u;
    u.b = b;
    return Value(&types::boolean, u);
  }
  static Value integer(int64_t i, const Type* t = &types::int_) {
    U u;
    u.i = i;
    return Value(t, u);
  }
  static Value uinteger(uint64_t v, const Type* t = &types::uint64) {
    U u;
    u.u = v;
    return Value(t, u);
  }
  static Value floating(double f, const Type* t = &types::float64) {
    U u;
    u.f = f;
    return Value(t, u);
  }
  static Value complex(std::complex<double> z);
  static Value string(std::string s, const Type* t = &types::string);
  static Value tainted_string(std::string s);
  static Value list(std::vector<Value> items, const Type* t = &types::list_any);
  // Entries in any order; they are sorted here. Duplicate keys: the last one wins.
  static Value map(std::vector<std::pair<Value, Value>> entries, const Type* t = &types::map_any);
  static Value structure(const Type* t, std::vector<Value> fields);
  static Value func(std::string name, std::vector<const Type*> params, bool variadic,
                    NativeFunc call);
  // A typed nil of a nil-able type (nil []string, nil *Secret...).
  static Value typed_nil(const Type* t);

  bool valid() const { return type_ != nullptr; }
  const Type* type() const { return type_; }
  Kind kind() const { return type_ ? type_->kind : Kind::Invalid; }
  bool is_nil() const;  // untyped nil, or a nil list/map/pointer/func

  bool as_bool() const { return u_.b; }
  int64_t as_int() const { return u_.i; }
  uint64_t as_uint() const { return u_.u; }
  double as_float() const { return u_.f; }
  std::complex<double> as_complex() const { return static_cast<const ComplexData*>(u_.p)->z; }
  const std::string& as_string() const;  // String kinds only
  const std::vector<Value>& as_list() const;
  const std::vector<std::pair<Value, Value>>& as_map() const;
  const std::vector<Value>& as_fields() const;
  const FuncData& as_func() const { return *static_cast<const FuncData*>(u_.p); }

  // Map lookup in Go's semantics; nullptr when absent.
  const Value* map_find(const Value& key) const;
  const Value* map_find(std::string_view key) const;

  bool tainted() const { return heap() && heap()->tainted; }
  // A copy marked as derived from a secret (strings and containers; scalars cannot be marked).
  Value with_taint() const;

  const HeapObject* heap() const { return is_heap_kind() && u_.p ? u_.p : nullptr; }

 private:
  union U {
    bool b;
    int64_t i;
    uint64_t u;
    double f;
    HeapObject* p;
    U() : i(0) {}
  };
  Value(const Type* t, U u) : type_(t), u_(u) {}

  bool is_heap_kind() const {
    switch (kind()) {
      case Kind::String:
      case Kind::List:
      case Kind::Map:
      case Kind::Struct:
      case Kind::Func:
      case Kind::Complex:
        return true;
      default:
        return false;
    }
  }
  void retain() const {
    if (auto* h = heap()) h->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() {
    if (auto* h = heap()) {
      if (h->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
    }
  }
  void destroy();  // deletes the payload as its real type

  const Type* type_ = nullptr;
  U u_;
};

// Go's fmtsort order for two map keys of the map's key type.
int compare_keys(const Value& a, const Value& b);

// Go's truthiness (text/template isTrue): false, 0, nil, and empty string/list/map are false.
bool truth(const Value& v);

}  // namespace templet
