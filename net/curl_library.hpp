// libcurl, loaded with dlopen the first time an address needs it (https, a proxy, user info).
//
// Linking libcurl would load it and the ~30 libraries Debian builds it against (OpenSSL, GnuTLS,
// Kerberos, LDAP, SSH...) into every templet process: 7.9 MB of the idle daemon's 16.4 MB RSS.
// A daemon that talks only to local agents over plain http never needs them, so they are loaded
// on demand. The headers still come from libcurl's -dev package; only the calls go through here.
#pragma once

#include <curl/curl.h>

#include <string>

namespace templet {

struct CurlLibrary {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  void (*easy_reset)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

// The loaded and globally initialised library, or nullptr with `error` set to why not
// ("libcurl.so.4: cannot open shared object file..."). Loads once per process.
const CurlLibrary* curl_library(std::string* error);

}  // namespace templet
