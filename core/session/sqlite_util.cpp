// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/sqlite_util.h"

#include <QFileInfo>
#include <QUrl>

namespace tcpscope::sqlite {

Db open(const QString &path, int flags, QString *error, const char *uriParameters)
{
    // Percent-encoding everything but '/' keeps '?' and '#' in file names literal.
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QByteArray uri = "file:" + QUrl::toPercentEncoding(absolute, "/");
    if (uriParameters && *uriParameters)
        uri += QByteArray("?") + uriParameters;
    sqlite3 *raw = nullptr;
    const int rc = sqlite3_open_v2(uri.constData(), &raw, flags | SQLITE_OPEN_URI, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK) {
        if (error)
            *error = raw ? lastError(raw) : QString::fromUtf8(sqlite3_errstr(rc));
        return nullptr;
    }
    sqlite3_extended_result_codes(raw, 1);
    return db;
}

QString lastError(sqlite3 *db)
{
    return QString::fromUtf8(sqlite3_errmsg(db));
}

bool exec(sqlite3 *db, const char *sql, QString *error)
{
    char *message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    if (rc == SQLITE_OK)
        return true;
    if (error)
        *error = QString::fromUtf8(message ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    return false;
}

Stmt prepare(sqlite3 *db, const char *sql, QString *error)
{
    sqlite3_stmt *raw = nullptr;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
        if (error)
            *error = lastError(db);
        return nullptr;
    }
    return Stmt(raw);
}

bool queryInt(sqlite3 *db, const char *sql, qint64 *out, QString *error)
{
    Stmt stmt = prepare(db, sql, error);
    if (!stmt)
        return false;
    const int rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) {
        if (error)
            *error = rc == SQLITE_DONE ? QStringLiteral("no result") : lastError(db);
        return false;
    }
    *out = sqlite3_column_int64(stmt.get(), 0);
    return true;
}

int bindText(sqlite3_stmt *stmt, int index, const QString &text)
{
    const QByteArray utf8 = text.toUtf8();
    return sqlite3_bind_text(stmt, index, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
}

bool stepDone(sqlite3 *db, sqlite3_stmt *stmt, QString *error)
{
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc == SQLITE_DONE)
        return true;
    if (error)
        *error = lastError(db);
    return false;
}

} // namespace tcpscope::sqlite
