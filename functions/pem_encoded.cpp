// pkiCert's value, consul-template's dependency.PemEncoded (dependency/vault_pki.go): a struct
// value (so `{{ . }}` prints `{CERT KEY CA [CHAIN...]}`), with the methods templates call on it:
// Data (itself, so Vault Agent's `.Data.Cert` works), CaChainContains and Equals.
#include <algorithm>

#include "functions/data_types.hpp"

namespace templet::dtypes {

namespace {

enum Field { kCert, kKey, kCa, kChain };

bool same(const Value& a, const Value& b) {
  if (a.type() != pem_encoded() || b.type() != pem_encoded()) return false;
  const auto& x = a.as_fields();
  const auto& y = b.as_fields();
  for (int f : {kCert, kKey, kCa})
    if (x[f].as_string() != y[f].as_string()) return false;
  const auto& cx = x[kChain].is_nil() ? std::vector<Value>() : x[kChain].as_list();
  const auto& cy = y[kChain].is_nil() ? std::vector<Value>() : y[kChain].as_list();
  return std::equal(cx.begin(), cx.end(), cy.begin(), cy.end(),
                    [](const Value& p, const Value& q) { return p.as_string() == q.as_string(); });
}

Type make_type() {
  Type t;
  t.kind = Kind::Struct;
  t.name = "dependency.PemEncoded";
  t.fields = {"Cert", "Key", "CA", "CAChain"};
  t.pointer = false;
  t.methods.push_back(
      Method{"Data", {}, false, [](CallContext&, const Value& self, auto) { return self; }});
  t.methods.push_back(Method{
      "CaChainContains", {&types::string}, false, [](CallContext&, const Value& self, auto args) {
        const Value& chain = self.as_fields()[kChain];
        if (chain.is_nil()) return Value::boolean(false);
        for (const auto& c : chain.as_list())
          if (c.as_string() == args[0].as_string()) return Value::boolean(true);
        return Value::boolean(false);
      }});
  t.methods.push_back(
      Method{"Equals", {nullptr}, false, [](CallContext&, const Value& self, auto args) {
               return Value::boolean(same(self, args[0]));
             }});
  return t;
}

}  // namespace

const Type* pem_encoded() {
  static const Type t = make_type();
  return &t;
}

Value pem_encoded_value(const pki::PemBundle& pems) {
  Value chain = Value::typed_nil(&types::list_string);
  if (!pems.ca_chain.empty()) {
    std::vector<Value> items;
    for (const auto& c : pems.ca_chain) items.push_back(Value::tainted_string(c));
    chain = Value::list(std::move(items), &types::list_string).with_taint();
  }
  return Value::structure(pem_encoded(),
                          {Value::tainted_string(pems.cert), Value::tainted_string(pems.key),
                           Value::tainted_string(pems.ca), std::move(chain)});
}

}  // namespace templet::dtypes
