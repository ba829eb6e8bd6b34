// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "unique_fd.h"

namespace tcpscope::helper {

// Blocks SIGTERM/SIGINT and returns a signalfd for them, so shutdown is an ordinary poll event
// handled in the main loop (no async-signal-safety concerns). SIGPIPE is ignored.
UniqueFd setupSignals();
// Drains the signalfd; returns the signal number read, or 0.
int readSignal(int signalFd);

} // namespace tcpscope::helper
