// exit_without_destructors (see process_exit.hpp).
#include "app/process_exit.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEMPLET_LEAK_CHECK_AT_EXIT 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEMPLET_LEAK_CHECK_AT_EXIT 1
#endif
#ifdef TEMPLET_LEAK_CHECK_AT_EXIT
#include <sanitizer/lsan_interface.h>
#endif

namespace templet {

void exit_without_destructors(int status) {
  if (auto logger = spdlog::default_logger()) logger->flush();
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
#ifdef TEMPLET_LEAK_CHECK_AT_EXIT
  // _Exit skips the check LeakSanitizer runs at exit; threads still running are scanned as
  // roots, so what they hold is not reported.
  __lsan_do_leak_check();
#endif
  std::_Exit(status);
}

}  // namespace templet
