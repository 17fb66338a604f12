// KV v2 path rewriting: where a template's `secret/foo` is really read, written and listed.
//
// Follows consul-template's shim (reference §3.3 table): `secret/foo` on a v2 mount `secret/`
// reads `secret/data/foo`; paths already under data/, metadata/ or subkeys/ are left alone; a
// list of `secret/x` goes to `secret/metadata/x`. `ns` is the client's Vault namespace.
#pragma once

#include <string>

namespace templet::live {

std::string shim_kv2_path(const std::string& raw, const std::string& mount, const std::string& ns);
std::string shim_kv2_list_path(const std::string& raw, const std::string& mount,
                               const std::string& ns);

}  // namespace templet::live
