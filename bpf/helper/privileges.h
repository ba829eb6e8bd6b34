// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>

namespace tcpscope::helper {

// True when we are root or hold CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN as effective caps.
bool hasRequiredPrivileges();
// The one line printed when hasRequiredPrivileges() is false.
std::string privilegesMessage(const char *argv0);
// SO_PEERCRED: only root or the user who started us (real uid) may drive the helper.
bool peerAllowed(int fd, std::string &why);

} // namespace tcpscope::helper
