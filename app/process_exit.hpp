// How `run` ends the process when a watcher thread may still be running.
//
// Stopping lets go of watcher threads inside a Consul blocking query (functions/live): such a
// thread may wake up at any moment until the process is gone, and then logs through spdlog and
// returns through the HTTP client (libcurl and its TLS library, for https). Returning from main
// would run static destructors (spdlog's registry, OpenSSL's cleanup at exit) under it, so the
// process ends here instead: output flushed, no destructors run.
#pragma once

namespace templet {

// Flushes stdout, stderr and the log, then ends the process with `status` without running
// destructors or exit handlers. Under AddressSanitizer it first runs the leak check that a
// normal exit would have run.
[[noreturn]] void exit_without_destructors(int status);

}  // namespace templet
