#include "net/curl_library.hpp"

#include <dlfcn.h>

#include <mutex>

namespace templet {

namespace {

// Debian's libcurl4 (the OpenSSL flavour libcurl4-openssl-dev builds against) installs this name.
constexpr const char* kSoname = "libcurl.so.4";

struct Loaded {
  CurlLibrary api{};
  std::string error;
  bool ok = false;
};

template <typename Fn>
bool bind(void* lib, const char* name, Fn& fn, std::string& error) {
  void* sym = dlsym(lib, name);
  if (!sym) {
    error = std::string(kSoname) + ": no symbol " + name;
    return false;
  }
  fn = reinterpret_cast<Fn>(sym);
  return true;
}

Loaded load() {
  Loaded l;
  // RTLD_LOCAL: its OpenSSL and GnuTLS symbols stay out of the global namespace.
  void* lib = dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    l.error = why ? why : kSoname;
    return l;
  }
  CurlLibrary& a = l.api;
  l.ok = bind(lib, "curl_global_init", a.global_init, l.error) &&
         bind(lib, "curl_easy_init", a.easy_init, l.error) &&
         bind(lib, "curl_easy_cleanup", a.easy_cleanup, l.error) &&
         bind(lib, "curl_easy_reset", a.easy_reset, l.error) &&
         bind(lib, "curl_easy_setopt", a.easy_setopt, l.error) &&
         bind(lib, "curl_easy_perform", a.easy_perform, l.error) &&
         bind(lib, "curl_easy_getinfo", a.easy_getinfo, l.error) &&
         bind(lib, "curl_easy_strerror", a.easy_strerror, l.error) &&
         bind(lib, "curl_slist_append", a.slist_append, l.error) &&
         bind(lib, "curl_slist_free_all", a.slist_free_all, l.error);
  if (l.ok && a.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    l.error = std::string(kSoname) + ": curl_global_init failed";
    l.ok = false;
  }
  // Never dlclose: handles and OpenSSL's atexit handlers outlive any one client.
  return l;
}

std::once_flag loaded_once;
Loaded* loaded = nullptr;

}  // namespace

const CurlLibrary* curl_library(std::string* error) {
  std::call_once(loaded_once, [] { loaded = new Loaded(load()); });
  if (loaded->ok) return &loaded->api;
  if (error) *error = loaded->error;
  return nullptr;
}

}  // namespace templet
