// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_store.h"

#include "session/sqlite_util.h"

#include <QFileInfo>
#include <QThread>

namespace tcpscope {

namespace {

bool copyPages(sqlite3 *src, sqlite3 *dst, QString *err)
{
    sqlite3_backup *backup = sqlite3_backup_init(dst, "main", src, "main");
    if (!backup) {
        *err = sqlite::lastError(dst);
        return false;
    }
    int rc;
    // Copy in steps so a recording writer is never blocked for long; retry while it holds a lock.
    do {
        rc = sqlite3_backup_step(backup, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            QThread::msleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    const int finish = sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE || finish != SQLITE_OK) {
        *err = sqlite::lastError(dst);
        if (err->isEmpty() || *err == QLatin1String("not an error"))
            *err = QString::fromUtf8(sqlite3_errstr(rc != SQLITE_DONE ? rc : finish));
        return false;
    }
    return true;
}

} // namespace

bool saveSessionCopy(const QString &source, const QString &dest, QString *error)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    const QFileInfo src(source);
    if (!src.exists())
        return fail(QStringLiteral("%1: no such file").arg(source));
    if (src.canonicalFilePath() == QFileInfo(dest).canonicalFilePath())
        return fail(QStringLiteral("cannot copy a session onto itself"));

    QString err;
    sqlite::Db in = sqlite::open(source, SQLITE_OPEN_READONLY, &err);
    if (!in)
        return fail(QStringLiteral("%1: %2").arg(source, err));
    sqlite::removeDatabaseFiles(dest);
    sqlite::Db out = sqlite::open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &err);
    bool ok = out && copyPages(in.get(), out.get(), &err);
    // The copy inherits WAL mode from a file being recorded; a saved file must stand alone.
    if (ok)
        ok = sqlite::exec(out.get(), "PRAGMA journal_mode = DELETE", &err);
    out.reset();
    if (!ok) {
        sqlite::removeDatabaseFiles(dest);
        return fail(QStringLiteral("cannot write %1: %2").arg(dest, err));
    }
    return true;
}

} // namespace tcpscope
