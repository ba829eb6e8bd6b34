// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "cli_info_kernel.h"
#include "session/session.h"

#include <QJsonObject>

namespace tcpscope::cli {

// The session summary `tcpscope info --json` prints (documented in the README).
QJsonObject infoJson(const QString &file, const Session &session, const SessionInfo &info,
                     const ConnectionTotals &totals);

// "tcx", "clsact", "detached" or "attach failed" for InterfaceInfo::attach.
QString attachText(quint8 attach);

} // namespace tcpscope::cli
