// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "model/annotation.h"
#include "session/sqlite_util.h"

#include <QMap>
#include <QString>
#include <QVector>

namespace tcpscope {

// Copies a session (possibly still being recorded, WAL mode) to dest as one self-contained
// file with the SQLite online backup API. Used by File > Save As. False + reason on failure
// (including a full disk: dest is removed, source untouched).
bool saveSessionCopy(const QString &source, const QString &dest, QString *error);

// Opens a session file for reading without creating anything beside it: no -shm, -wal or
// -journal. A file in WAL mode with no write-ahead log left (the usual state after a recording
// that a reader kept open while it stopped) is opened immutable; one with a log and its -shm (a
// recording running, or killed) is read through them, as they are; a file in rollback mode is
// opened read-only. nullptr + reason when the file cannot be read that way: then, if
// *needsRecovery, a write was interrupted and `tcpscope recover` (recoverSession) is the way out,
// which the reason says.
sqlite::Db openSessionReadOnly(const QString &path, QString *error, bool *needsRecovery = nullptr);

// `tcpscope recover FILE`: finishes what an interrupted writer left beside a session (rolls a
// hot -journal back, folds a -wal in) by opening it read-write, leaves it one self-contained
// file, and checks it with SQLite's quick_check. Only a regular file that is a tcpscope session
// by its header is opened for writing. False + one-line reason.
bool recoverSession(const QString &path, QString *error);

// Saves what the user is looking at (key -> value, as the app names them; docs/SESSION_FORMAT.md
// `view_state`) into the finished session file at path, replacing the view saved before. The
// file is opened for writing only here, and only when it is a regular file that is a tcpscope
// session of format 4 by its header, owned by this user and writable, and not being recorded
// (no -wal or -journal beside it, not in WAL mode). A file of an earlier 4.x minor gains the
// tables of the minors after it (empty) and becomes 4.3. False + one-line reason; the file is
// unchanged then.
// The file checks of saveSessionView (everything but the format, which needs the file open):
// true when it would write the file, else false + the reason. Cheap: a stat and a header read.
bool canKeepView(const QString &path, QString *why);
// The annotations replace the ones saved before as well (model/annotation.h).
bool saveSessionView(const QString &path, const QMap<QString, QString> &view,
                     const QVector<Annotation> &annotations, QString *error);

} // namespace tcpscope
