// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to Session: connection columns held in memory for sorting and text filtering, so a
// click on a table header or a filter word costs a sort of a compact array instead of an
// unindexed ORDER BY or LIKE scan over every row. Each column is read once, when first asked for
// (SELECT id, column FROM connections), and dropped when the file changes. Not an API.
#pragma once

#include "session/sqlite_util.h"

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>
#include <QVector>
#include <functional>
#include <memory>
#include <vector>

namespace tcpscope {

// One SQLite value as ORDER BY compares it: NULL < numbers < text < blob; numbers by value,
// text and blobs by bytes (BINARY collation).
struct SortKey
{
    enum Class : quint8
    {
        Null,
        Number,
        Text,
        Blob
    };
    Class cls = Null;
    bool isInt = true;
    qint64 i = 0;
    double r = 0;
    QByteArray bytes; // text or blob
};

// The text a filter word is matched against: per connection in id order, the filter columns
// as text, lower-case, each followed by '\0', one connection after the other in `text`;
// ends[i] is where connection i ends. ~70 bytes per connection.
struct WordIndex
{
    QVector<qint64> ids;
    QByteArray text;
    std::vector<quint32> ends;

    // One pass over the connections table; null + error on failure.
    static std::shared_ptr<const WordIndex> read(sqlite3 *db, QString *error);
};

class ConnectionColumns
{
public:
    // Ids in id order and, per id, the column's value (same positions as ids()).
    struct Column
    {
        // A value as a class and an integer that order rows as compare() orders their values:
        // the number itself, or a text's rank among the column's distinct texts (so a sort
        // compares two integers, and a column of a few distinct names keeps each name once).
        struct Rank
        {
            SortKey::Class cls;
            qint64 v;
        };
        QVector<qint64> ids;
        std::vector<Rank> ranks;   // every value an integer, NULL or text: ~16 bytes a row
        std::vector<SortKey> keys; // otherwise (a REAL or a BLOB somewhere): the values
        // -1, 0, 1 as compare() of the values at positions a and b.
        int compareAt(size_t a, size_t b) const;
    };

    void clear();
    // Reads the column when it is not cached; null + error on failure. rows: how many
    // connections the table holds, as far as the caller knows (storage is reserved for them;
    // counting them here would read the whole table once more).
    std::shared_ptr<const Column> column(sqlite3 *db, const QString &name, qint64 rows,
                                         QString *error);
    // Every connection id in id order, read once; false + error on failure. rows as for column().
    bool ids(sqlite3 *db, qint64 rows, QVector<qint64> *out, QString *error);
    // Ids whose filter text contains every word (ASCII case-insensitive, as SQL LIKE), in id
    // order; false + error on failure. words are lower-case.
    bool matching(sqlite3 *db, const QStringList &words, QVector<qint64> *out, QString *error);
    // Takes a word index read elsewhere (another handle on the same file state) when none is
    // loaded yet.
    void adopt(std::shared_ptr<const WordIndex> words);
    bool hasWordIndex() const { return m_words != nullptr; }

    static int compare(const SortKey &a, const SortKey &b);

private:
    // Each cached column costs ~40 bytes per connection (8 MB for 200k): the few most recent.
    static constexpr int kMaxColumns = 4;
    QHash<QString, std::shared_ptr<const Column>> m_columns;
    QStringList m_order; // least recently used first
    QVector<qint64> m_ids;
    bool m_idsLoaded = false;
    std::shared_ptr<const WordIndex> m_words;
};

} // namespace tcpscope
