// consul-template's pure helper functions (strings, encodings, maths, collections, digests) and
// the curated `sprig_*` subset, registered into a FunctionTable with Go's signatures, results,
// result types and error messages. Data functions (Vault/Consul/env/file) live elsewhere.
#pragma once

#include "renderer/function.hpp"

namespace templet {

namespace types {
// What `loop` returns. Go returns a `<-chan int64`; templet materialises it as a List of int64
// whose type prints like Go's, so `range` works and `%T` still says what Go says.
extern const Type loop_stream;
}  // namespace types

void register_helper_functions(FunctionTable& table);

}  // namespace templet
