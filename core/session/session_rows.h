// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to Session: turns one SQLite row of a session table into its model value, tolerantly.
// A value out of its range (a negative RTT, a port above 65535, text where a number belongs)
// makes that one field unknown (its sentinel: 0, -1, empty) and is counted; a row whose identity
// cannot be known (a packet's direction or family, an event's kind, a sample's congestion state)
// is skipped and counted. Only SQLite errors (structural damage) stop a query. Not an API.
#pragma once

#include "model/connection.h"
#include "model/connection_columns.h"

#include <QByteArray>
#include <QString>
#include <sqlite3.h>

namespace tcpscope::rows {

constexpr int kMaxShortText = 256; // comm, addresses, state names
constexpr int kMaxMetaText = 64 * 1024;
constexpr int kMaxReasonName = 64; // ts_reason_name.name

// Reads typed cells of the current row of s; every out-of-range cell adds one to *bad.
struct Cells
{
    sqlite3_stmt *s;
    quint64 *bad;

    bool isNull(int col) const { return sqlite3_column_type(s, col) == SQLITE_NULL; }
    // An INTEGER in [lo, hi], else sentinel (counted).
    qint64 ranged(int col, qint64 lo, qint64 hi, qint64 sentinel);
    quint32 u32(int col) { return quint32(ranged(col, 0, UINT32_MAX, 0)); }
    // Unsigned 64-bit kernel values stored bit for bit: any INTEGER.
    quint64 u64(int col);
    // NULL = unknown (-1, not counted); out of [lo, hi] = unknown (-1, counted).
    qint64 optional(int col, qint64 lo, qint64 hi);
    // TEXT of at most maxChars characters, else empty (counted).
    QString text(int col, int maxChars);
    // BLOB of at most maxBytes bytes, else empty (counted).
    QByteArray blob(int col, int maxBytes);
    // An address as inet_ntop prints it, in `family` (as stored: 4 or 6); empty text is no
    // address, text that is not one of that family is no address (counted).
    IpAddress address(int col, qint64 family);
    void count() { ++*bad; }
};

// Column lists, in the order the decoders below read them. Connections: v1/v2 select constants
// for later columns.
QByteArray connectionColumns(int version, ConnectionFields fields = ConnectionFields::all());
// The columns connectionColumns() selects for `fields`, in that order (what connection() reads).
QVector<const ConnectionColumn *> readColumns(const ConnectionFields &fields);
extern const char *const kStateChangeColumns;
extern const char *const kPacketColumns; // v2/v3 packets table
extern const char *const kSampleColumns;
extern const char *const kEventColumns;
extern const char *const kDropColumns;
extern const char *const kListenerColumns;

// A row selected with connectionColumns(version, fields); cols = readColumns(fields) (taken
// once per query, not per row).
void connection(Cells &c, Connection *out, const QVector<const ConnectionColumn *> &cols);
void connection(Cells &c, Connection *out);   // every column
void stateChange(Cells &c, StateChange *out); // columns from 1 (0 = connection_id)
// False = the row is skipped (counted). connection_id is read as given (0 for NULL); the caller
// checks it names a connection.
bool packet(Cells &c, Packet *out);
bool sample(Cells &c, TcpSample *out);
bool event(Cells &c, KernelEvent *out);
bool drop(Cells &c, DropEvent *out);
bool listener(Cells &c, ListenerSample *out);

} // namespace tcpscope::rows
