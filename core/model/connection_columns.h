// SPDX-License-Identifier: GPL-3.0-or-later
// The columns of the session file's `connections` table, defined once: SQL name and type, the
// format version that added the column, and how its value is taken from / put into a
// Connection. The schema text, the writer's upsert, the reader's SELECT and decoding and the
// plain columns of the CSV/JSON export are all generated from this list, so a column is added
// in exactly one place (see connectionColumns()).
#pragma once

#include "model/connection.h"

#include <QString>
#include <QStringList>
#include <QVector>
#include <bitset>
#include <limits>

namespace tcpscope {

// One stored value as SQLite holds it. The reader fills `integer` with SQLite's integer
// conversion of whatever is stored (0 for NULL), like sqlite3_column_int64().
struct ColumnValue
{
    enum Kind : quint8
    {
        Null,
        Integer,
        Text,
        Other // a REAL or BLOB where an integer or text belongs
    };
    Kind kind = Null;
    qint64 integer = 0;
    QString text;

    static ColumnValue null() { return {}; }
    static ColumnValue of(qint64 v) { return {Integer, v, {}}; }
    static ColumnValue of(const QString &s) { return {Text, 0, s}; }
};

struct ConnectionColumn
{
    enum Storage : quint8
    {
        Int,  // a signed integer
        U64,  // an unsigned 64-bit value stored bit-for-bit in SQLite's signed integer
        Text, // UTF-8 text, at most the reader's short-text bound
    };

    const char *name;    // SQL column name
    const char *sqlType; // type and constraints as in CREATE TABLE
    int since;           // schema version (user_version) that added the column
    Storage storage;
    // Optional integers: the field value meaning "unknown", stored as NULL; values outside
    // [lo, hi] are unknown too. Not optional: nullable == false.
    bool nullable = false;
    qint64 unknown = 0;
    qint64 lo = 0;
    qint64 hi = 0;

    ColumnValue (*get)(const ConnectionColumn &column, const Connection &c) = nullptr;
    // False: the value does not fit the field (wrong type, out of [lo, hi], a name that is not
    // one): the field is left as it was (a new Connection's value, which means unknown) and
    // the reader counts it (Session::valuesOutOfRange). Null for columns that are written but
    // derived from other data on reading (`states` from state_changes).
    bool (*set)(const ConnectionColumn &column, Connection &c, const ColumnValue &v) = nullptr;
    // The display-filter field that tests this column's value (docs/FILTERS.md), null when the
    // language has none; filterUnit is appended to an integer value to make its literal ("us"
    // for srtt_us: kernel.srtt == 200us). core/filter/filter_expression.h builds expressions
    // ("Apply as Filter") from it.
    const char *filterField = nullptr;
    const char *filterUnit = "";

    ColumnValue value(const Connection &c) const { return get(*this, c); }
    bool read() const { return set != nullptr; }
    bool assign(Connection &c, const ColumnValue &v) const { return set(*this, c, v); }
    // What the reader selects in place of this column from a file older than `since`: the
    // value a connection without that data has.
    const char *absentSql() const { return nullable ? "NULL" : "0"; }
};

// Which of a connection's columns a reader asks for (Session::forEachConnection); every field
// not asked for keeps a new Connection's value.
class ConnectionFields
{
public:
    // Every column.
    static ConnectionFields all();
    // Identity and lifetime: id, owner (pid, comm), host, addresses and ports, role, start, end,
    // handshake, state and close reason. What the timeline draws from: a fifth of the columns.
    static ConnectionFields lifetime();
    // Only id, which every reader keys on; add() names the others.
    ConnectionFields() { m_columns.set(0); }
    // Adds the column `name`; aborts on an unknown name (a programming error).
    ConnectionFields &add(const char *name);
    bool isAll() const { return m_all; }
    // True when the column (an entry of connectionColumns()) is asked for.
    bool has(const ConnectionColumn &column) const;
    bool operator==(const ConnectionFields &other) const
    {
        return m_all == other.m_all && m_columns == other.m_columns;
    }

    static constexpr int kMaxColumns = 128; // room for every column, by its position

private:
    bool m_all = false;
    std::bitset<kMaxColumns> m_columns;
};

// Every column of `connections`, in table order (older versions' columns first: a version
// only appends). To add a column: append one entry to the list in connection_columns.cpp with
// `since` = the new kUserVersion, and describe it in docs/SESSION_FORMAT.md.
const QVector<ConnectionColumn> &connectionColumns();
// The column named `name`; aborts on an unknown name (a programming error).
const ConnectionColumn &connectionColumn(const char *name);
// Names of the columns a file of `version` has, in order.
QStringList connectionColumnNames(int version);
// Names of the columns added exactly in `version`, in order.
QStringList connectionColumnNamesAddedIn(int version);
// "CREATE TABLE connections (...);" with the columns a file of `version` (user_version) has;
// by default every column (the current version).
QByteArray connectionsCreateSql(int version = std::numeric_limits<int>::max());
// The user_version whose columns a file of format major.minor has (1..3, else major * 1000 +
// minor).
inline int connectionColumnsVersion(int major, int minor)
{
    return major >= 4 ? major * 1000 + minor : major;
}

} // namespace tcpscope
