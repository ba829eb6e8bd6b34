// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to SessionReader: the reading state shared by session_reader.cpp (header, schema,
// meta, connections) and session_reader_packets.cpp (interfaces, packets). Not an API.
#pragma once

#include "model/connection.h"
#include "session/session_reader.h"
#include "session/sqlite_util.h"

#include <QByteArray>
#include <QSet>
#include <QString>
#include <QVector>

namespace tcpscope::detail {

// Bounds that a real session never reaches; a file beyond them is refused, not half-read.
constexpr int kMaxValueBytes = 1 << 20; // any single text value (SQLITE_LIMIT_LENGTH)
constexpr qint64 kMaxConnections = 10'000'000;
constexpr qint64 kMaxStateChanges = 100'000'000;
constexpr qint64 kMaxPackets = 20'000'000;
constexpr qint64 kMaxInterfaces = 100'000;
constexpr qint64 kMaxKernelRows = 20'000'000; // per kernel table (samples, events, drops, ...)
constexpr int kMaxShortText = 256;            // comm, addresses, state names
constexpr int kMaxMetaText = 64 * 1024;       // probes report etc.

struct Reader
{
    sqlite3 *db = nullptr;
    QString error;
    int version = 0;               // user_version, checked
    QSet<qint64> knownIds;         // connection ids, for the kernel tables' connection_id
    qint64 kernelRowsExpected = 0; // rows the last prepareKernelQuery() counted

    bool fail(const QString &why)
    {
        if (error.isEmpty())
            error = why;
        return false;
    }

    bool checkHeader();
    bool checkSchema();
    bool readMeta(SessionInfo *info);
    bool readConnections(QVector<Connection> *out);
    bool readHistory(QVector<Connection> *conns);
    bool readInterfaces(SessionInfo *info);
    bool readPackets(const QVector<Connection> &conns, const ReadOptions &options,
                     QVector<Packet> *out);
    bool readKernel(const QVector<Connection> &conns, const ReadOptions &options, KernelData *out);
    bool readSamples(const ReadOptions &options, QVector<TcpSample> *out);
    bool readEvents(const ReadOptions &options, QVector<KernelEvent> *out);
    bool readDrops(const ReadOptions &options, QVector<DropEvent> *out);
    bool readListeners(const ReadOptions &options, QVector<ListenerSample> *out);
    // Counts (bounded by kMaxKernelRows) and prepares "SELECT rowid, columns FROM table" with
    // the connection filter of options, in time order. Null after fail().
    sqlite::Stmt prepareKernelQuery(const char *table, const char *what, const char *columns,
                                    const ReadOptions &options);
    // connection_id at col: NULL -> 0; else it must name a known connection.
    bool kernelConnection(sqlite3_stmt *stmt, int col, qint64 *out);
    bool badRow(const char *what, qint64 rowid, const char *field);
    bool blob(sqlite3_stmt *stmt, int col, int maxBytes, const char *what, QByteArray *out);
    bool text(sqlite3_stmt *stmt, int col, int maxChars, const char *what, QString *out);
    // Counts `table`'s rows and refuses more than `limit` (a hostile file must not make us
    // allocate without bound), then prepares `sql`, whose ?1 is bound to `limit`.
    // Null after fail().
    sqlite::Stmt prepareBounded(const char *table, const char *what, qint64 limit, const char *sql,
                                qint64 *count);
};

} // namespace tcpscope::detail
