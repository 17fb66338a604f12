// Reading Consul's JSON Go-style, shared by the modules that build templet's Values of
// consul/api and consul-template types: absent or null fields are zero values.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace templet::dtypes {

const nlohmann::json* field(const nlohmann::json& j, const char* key);  // nullptr: absent/null
std::string str(const nlohmann::json& j, const char* key);
int64_t num(const nlohmann::json& j, const char* key);
uint64_t unum(const nlohmann::json& j, const char* key);
bool boolean(const nlohmann::json& j, const char* key);
std::vector<std::string> strings(const nlohmann::json& j, const char* key);

}  // namespace templet::dtypes
