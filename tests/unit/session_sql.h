// SPDX-License-Identifier: GPL-3.0-or-later
// Raw SQL against a session file, for the session tests that corrupt or extend a file the
// writer produced. One copy shared by test_session_store, test_session_packets and
// test_session_kernel.
#pragma once

#include <QFile>
#include <QString>
#include <QTest>
#include <sqlite3.h>

namespace tcpscope::testing {

// Runs `statements` on `file`; a failure fails the current test (QCOMPARE/QVERIFY2 return
// from here only, as they did from the former per-test copies).
inline void sql(const QString &file, const char *statements)
{
    sqlite3 *db = nullptr;
    QCOMPARE(sqlite3_open(QFile::encodeName(file).constData(), &db), SQLITE_OK);
    char *err = nullptr;
    const int rc = sqlite3_exec(db, statements, nullptr, nullptr, &err);
    const QString message = QString::fromUtf8(err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, qPrintable(message));
}

// Runs one statement on `file` and returns the rows it changed (-1 when it failed).
inline int sqlChanges(const QString &file, const char *statement)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open(QFile::encodeName(file).constData(), &db) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    const int rc = sqlite3_exec(db, statement, nullptr, nullptr, nullptr);
    const int changes = sqlite3_total_changes(db);
    sqlite3_close(db);
    return rc == SQLITE_OK ? changes : -1;
}

} // namespace tcpscope::testing
