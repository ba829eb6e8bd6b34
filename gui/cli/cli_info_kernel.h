// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to `tcpscope info`: the lines about the kernel's view of the connections.
#pragma once

#include "session/session_reader.h"

#include <QString>
#include <functional>

namespace tcpscope::cli {

// Calls line(label, value) for each line; a value may span lines (already indented).
void kernelLines(const SessionData &session,
                 const std::function<void(const char *, const QString &)> &line);

} // namespace tcpscope::cli
