// systemd's notification protocol (Type=notify) without linking libsystemd: one datagram to the
// unix socket named by NOTIFY_SOCKET ("READY=1", "STATUS=...", "STOPPING=1").
#pragma once

#include <string>

namespace templet {

// Sends `state` when NOTIFY_SOCKET is set; returns false when unset or on failure.
bool sd_notify_send(const std::string& state);

}  // namespace templet
