// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace tcpscope {

// Copies a session (possibly still being recorded, WAL mode) to dest as one self-contained
// file with the SQLite online backup API. Used by File > Save As. False + reason on failure
// (including a full disk: dest is removed, source untouched).
bool saveSessionCopy(const QString &source, const QString &dest, QString *error);

} // namespace tcpscope
