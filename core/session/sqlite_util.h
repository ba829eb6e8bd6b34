// SPDX-License-Identifier: GPL-3.0-or-later
// RAII owners and small helpers around the SQLite C API, shared by the session writer, reader
// and copier. Every failure is turned into one line of text the user can read.
#pragma once

#include <QByteArray>
#include <QString>
#include <memory>
#include <sqlite3.h>

namespace tcpscope::sqlite {

struct DbCloser
{
    void operator()(sqlite3 *db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer
{
    void operator()(sqlite3_stmt *stmt) const { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Opens path (a plain file path, turned into a file: URI so that no part of the name is ever
// interpreted as a URI parameter). flags: SQLITE_OPEN_READONLY or READWRITE|CREATE.
// uriParameters: e.g. "immutable=1", appended to the URI as given.
Db open(const QString &path, int flags, QString *error, const char *uriParameters = nullptr);

// The connection's last error message, as text.
QString lastError(sqlite3 *db);

// Runs one or more statements that return no rows. False + "what: sqlite error" on failure.
bool exec(sqlite3 *db, const char *sql, QString *error);

// Prepares one statement; nullptr + reason on failure.
Stmt prepare(sqlite3 *db, const char *sql, QString *error);

// For a query returning one integer (e.g. PRAGMA user_version). False + reason on failure.
bool queryInt(sqlite3 *db, const char *sql, qint64 *out, QString *error);

// Binds a QString as UTF-8 text (copied by SQLite).
int bindText(sqlite3_stmt *stmt, int index, const QString &text);

// Steps a statement that returns no rows, then resets it and clears its bindings for the next
// use. False + the connection's error text unless it finished (SQLITE_DONE).
bool stepDone(sqlite3 *db, sqlite3_stmt *stmt, QString *error);

} // namespace tcpscope::sqlite
