// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_columns.h"

#include "session/session_private.h"

#include <QSet>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

namespace tcpscope {

namespace {

// SQL LIKE folds ASCII letters only; the same here, so a cached filter matches what SQL would.
void asciiLower(QByteArray *bytes)
{
    for (char &c : *bytes)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
}

bool fail(sqlite3 *db, QString *error)
{
    if (error)
        *error = sqlite::lastError(db);
    return false;
}

} // namespace

int ConnectionColumns::compare(const SortKey &a, const SortKey &b)
{
    if (a.cls != b.cls)
        return a.cls < b.cls ? -1 : 1;
    switch (a.cls) {
    case SortKey::Null:
        return 0;
    case SortKey::Number:
        if (a.isInt && b.isInt)
            return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
        else {
            const long double x = a.isInt ? (long double)a.i : a.r;
            const long double y = b.isInt ? (long double)b.i : b.r;
            return x < y ? -1 : (x > y ? 1 : 0);
        }
    case SortKey::Text:
    case SortKey::Blob: {
        const int n = std::min(a.bytes.size(), b.bytes.size());
        const int c = n > 0 ? std::memcmp(a.bytes.constData(), b.bytes.constData(), size_t(n)) : 0;
        if (c != 0)
            return c;
        return a.bytes.size() < b.bytes.size() ? -1 : (a.bytes.size() > b.bytes.size() ? 1 : 0);
    }
    }
    return 0;
}

int ConnectionColumns::Column::compareAt(size_t a, size_t b) const
{
    if (ranks.empty())
        return compare(keys[a], keys[b]);
    const Rank &x = ranks[a];
    const Rank &y = ranks[b];
    if (x.cls != y.cls)
        return x.cls < y.cls ? -1 : 1;
    return x.v < y.v ? -1 : (x.v > y.v ? 1 : 0);
}

void ConnectionColumns::clear()
{
    m_columns.clear();
    m_order.clear();
    m_ids.clear();
    m_idsLoaded = false;
    m_words.reset();
}

std::shared_ptr<const ConnectionColumns::Column>
ConnectionColumns::column(sqlite3 *db, const QString &name, qint64 rows, QString *error)
{
    if (const auto it = m_columns.constFind(name); it != m_columns.cend()) {
        m_order.removeOne(name);
        m_order.append(name);
        return *it;
    }
    // name is one of the file's own connections columns (checked by the caller).
    const QByteArray sql = "SELECT id, " + name.toLatin1() + " FROM connections ORDER BY id";
    sqlite::Stmt s = sqlite::prepare(db, sql.constData(), error);
    if (!s)
        return {};
    auto col = std::make_shared<Column>();
    rows = std::max<qint64>(rows, 0);
    col->ids.reserve(rows);
    col->ranks.reserve(size_t(rows));
    // Texts by their distinct values: each row holds the index of its text in `texts` until
    // the texts are sorted and the indexes become ranks.
    QHash<QByteArray, qint64> textIndex;
    std::vector<QByteArray> texts;
    bool ranked = true; // false once a REAL or a BLOB turns up: the values are kept as they are
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        col->ids.append(sqlite3_column_int64(s.get(), 0));
        SortKey k;
        switch (sqlite3_column_type(s.get(), 1)) {
        case SQLITE_INTEGER:
            k.cls = SortKey::Number;
            k.i = sqlite3_column_int64(s.get(), 1);
            break;
        case SQLITE_FLOAT:
            k.cls = SortKey::Number;
            k.isInt = false;
            k.r = sqlite3_column_double(s.get(), 1);
            break;
        // Text and blobs point into SQLite's row until the next step; a kept one is copied.
        case SQLITE_TEXT:
            k.cls = SortKey::Text;
            k.bytes = QByteArray::fromRawData(
                reinterpret_cast<const char *>(sqlite3_column_text(s.get(), 1)),
                sqlite3_column_bytes(s.get(), 1));
            break;
        case SQLITE_BLOB:
            k.cls = SortKey::Blob;
            k.bytes =
                QByteArray::fromRawData(static_cast<const char *>(sqlite3_column_blob(s.get(), 1)),
                                        sqlite3_column_bytes(s.get(), 1));
            break;
        default:
            break;
        }
        if (ranked && (k.cls == SortKey::Blob || (k.cls == SortKey::Number && !k.isInt))) {
            // Back to the values: the texts ranked so far become their bytes again.
            ranked = false;
            col->keys.reserve(size_t(rows));
            for (const Column::Rank &r : col->ranks) {
                SortKey old;
                old.cls = r.cls;
                if (r.cls == SortKey::Text)
                    old.bytes = texts[size_t(r.v)];
                else
                    old.i = r.v;
                col->keys.push_back(std::move(old));
            }
            col->ranks.clear();
            col->ranks.shrink_to_fit();
        }
        auto owned = [](const QByteArray &raw) { return QByteArray(raw.constData(), raw.size()); };
        if (!ranked) {
            k.bytes = owned(k.bytes);
            col->keys.push_back(std::move(k));
            continue;
        }
        qint64 v = k.i;
        if (k.cls == SortKey::Text) {
            const auto it = textIndex.constFind(k.bytes);
            if (it != textIndex.cend()) {
                v = it.value();
            } else {
                v = qint64(texts.size());
                texts.push_back(owned(k.bytes));
                textIndex.insert(texts.back(), v);
            }
        }
        col->ranks.push_back({k.cls, v});
    }
    if (rc != SQLITE_DONE) {
        fail(db, error);
        return {};
    }
    if (ranked && !texts.empty()) {
        // Rank the distinct texts by their bytes, then give each row its text's rank.
        std::vector<qint64> order(texts.size());
        for (size_t i = 0; i < order.size(); ++i)
            order[i] = qint64(i);
        std::sort(order.begin(), order.end(), [&texts](qint64 a, qint64 b) {
            const QByteArray &x = texts[size_t(a)];
            const QByteArray &y = texts[size_t(b)];
            const auto n = size_t(std::min(x.size(), y.size()));
            const int c = n > 0 ? std::memcmp(x.constData(), y.constData(), n) : 0;
            return c != 0 ? c < 0 : x.size() < y.size();
        });
        std::vector<qint64> rankOf(texts.size());
        for (size_t r = 0; r < order.size(); ++r)
            rankOf[size_t(order[r])] = qint64(r);
        for (Column::Rank &r : col->ranks)
            if (r.cls == SortKey::Text)
                r.v = rankOf[size_t(r.v)];
    }
    if (m_order.size() >= kMaxColumns)
        m_columns.remove(m_order.takeFirst());
    m_order.append(name);
    m_columns.insert(name, col);
    return col;
}

bool ConnectionColumns::ids(sqlite3 *db, qint64 rows, QVector<qint64> *out, QString *error)
{
    if (!m_idsLoaded) {
        sqlite::Stmt s = sqlite::prepare(db, "SELECT id FROM connections ORDER BY id", error);
        if (!s)
            return false;
        m_ids.clear();
        m_ids.reserve(std::max<qint64>(rows, 0));
        int rc;
        while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
            m_ids.append(sqlite3_column_int64(s.get(), 0));
        if (rc != SQLITE_DONE)
            return fail(db, error);
        m_idsLoaded = true;
    }
    *out = m_ids; // shared until either side changes
    return true;
}

std::shared_ptr<const WordIndex> WordIndex::read(sqlite3 *db, QString *error)
{
    // The columns a filter word is matched against, as SQL would turn them into text.
    sqlite::Stmt s = sqlite::prepare(
        db,
        "SELECT id, comm, pid, local_addr, remote_addr, local_port, remote_port, role,"
        " state, close_reason FROM connections ORDER BY id",
        error);
    if (!s)
        return {};
    auto index = std::make_shared<WordIndex>();
    QByteArray &text = index->text; // all rows in one buffer: no allocation per row
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        index->ids.append(sqlite3_column_int64(s.get(), 0));
        for (int c = 1; c <= 9; ++c) {
            // Each value as CAST(value AS TEXT) gives it: integers in decimal (formatted here,
            // SQLite's conversion costs more than the scan), everything else as SQLite turns
            // it into text. NULL never matches LIKE: it adds nothing.
            const int type = sqlite3_column_type(s.get(), c);
            if (type == SQLITE_NULL)
                continue;
            if (type == SQLITE_INTEGER) {
                char digits[24];
                const auto end =
                    std::to_chars(digits, digits + sizeof digits, sqlite3_column_int64(s.get(), c))
                        .ptr;
                text.append(digits, end - digits);
            } else {
                const auto *value = reinterpret_cast<const char *>(sqlite3_column_text(s.get(), c));
                text.append(value, sqlite3_column_bytes(s.get(), c));
            }
            text.append('\0');
        }
        index->ends.push_back(quint32(text.size()));
    }
    if (rc != SQLITE_DONE) {
        fail(db, error);
        return {};
    }
    asciiLower(&text);
    text.squeeze();
    return index;
}

void ConnectionColumns::adopt(std::shared_ptr<const WordIndex> words)
{
    if (!m_words)
        m_words = std::move(words);
}

bool ConnectionColumns::matching(sqlite3 *db, const QStringList &words, QVector<qint64> *out,
                                 QString *error)
{
    if (!m_words) {
        m_words = WordIndex::read(db, error);
        if (!m_words)
            return false;
    }
    QVector<QByteArray> needles;
    for (const QString &w : words) {
        QByteArray n = w.toUtf8();
        // A '\0' in a word cannot occur inside one value: it would match across two.
        if (n.contains('\0')) {
            out->clear();
            return true;
        }
        asciiLower(&n);
        needles.append(n);
    }
    out->clear();
    const WordIndex &index = *m_words;
    const std::string_view text(index.text.constData(), size_t(index.text.size()));
    size_t begin = 0;
    for (size_t i = 0; i < index.ends.size(); ++i) {
        const std::string_view row = text.substr(begin, index.ends[i] - begin);
        begin = index.ends[i];
        const bool matches =
            std::all_of(needles.cbegin(), needles.cend(), [row](const QByteArray &n) {
                return row.find(std::string_view(n.constData(), size_t(n.size()))) !=
                       std::string_view::npos;
            });
        if (matches)
            out->append(index.ids.at(qsizetype(i)));
    }
    return true;
}

bool Session::Private::cachedIds(const ConnectionQuery &query, QVector<qint64> *out) const
{
    QString err;
    const QStringList words = query.text.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    const QSet<qint64> wanted(query.ids.cbegin(), query.ids.cend());
    if (query.sortColumn == QLatin1String("id")) {
        // Id order is the table's own (rowid) order, that of the cached ids and of matching():
        // nothing to sort.
        out->clear();
        if (!words.isEmpty()) {
            if (!columns.matching(db.get(), words, out, &err))
                return fail(describeSqliteError(err));
            if (!wanted.isEmpty())
                out->removeIf([&wanted](qint64 id) { return !wanted.contains(id); });
            if (query.descending)
                std::reverse(out->begin(), out->end());
            return true;
        }
        if (!columns.ids(db.get(), connectionsIfKnown(), out, &err))
            return fail(describeSqliteError(err));
        if (!wanted.isEmpty()) {
            // The wanted ids the table has, in id order.
            std::vector<qint64> sorted(wanted.cbegin(), wanted.cend());
            std::sort(sorted.begin(), sorted.end());
            QVector<qint64> both;
            both.reserve(qsizetype(sorted.size()));
            std::set_intersection(out->cbegin(), out->cend(), sorted.cbegin(), sorted.cend(),
                                  std::back_inserter(both));
            *out = std::move(both);
        }
        if (query.descending)
            std::reverse(out->begin(), out->end());
        return true;
    }
    const std::shared_ptr<const ConnectionColumns::Column> col =
        columns.column(db.get(), query.sortColumn, connectionsIfKnown(), &err);
    if (!col)
        return fail(describeSqliteError(err));
    // Positions in col of the rows that pass the filters (col is in id order).
    std::vector<int> rowsOf;
    auto positionOf = [&col](qint64 id) {
        const auto it = std::lower_bound(col->ids.cbegin(), col->ids.cend(), id);
        return it != col->ids.cend() && *it == id ? int(it - col->ids.cbegin()) : -1;
    };
    if (!words.isEmpty()) {
        QVector<qint64> matching;
        if (!columns.matching(db.get(), words, &matching, &err))
            return fail(describeSqliteError(err));
        rowsOf.reserve(size_t(matching.size()));
        for (qint64 id : std::as_const(matching))
            if (const int pos = positionOf(id); pos >= 0)
                rowsOf.push_back(pos);
    } else {
        rowsOf.resize(size_t(col->ids.size()));
        for (size_t i = 0; i < rowsOf.size(); ++i)
            rowsOf[i] = int(i);
    }
    if (!wanted.isEmpty())
        std::erase_if(rowsOf, [&](int pos) { return !wanted.contains(col->ids.at(pos)); });
    // ORDER BY column, id, both in the asked direction.
    const bool desc = query.descending;
    std::sort(rowsOf.begin(), rowsOf.end(), [&col, desc](int a, int b) {
        int c = col->compareAt(size_t(a), size_t(b));
        if (c == 0)
            c = col->ids.at(a) < col->ids.at(b) ? -1 : (col->ids.at(a) > col->ids.at(b) ? 1 : 0);
        return desc ? c > 0 : c < 0;
    });
    out->clear();
    out->reserve(qsizetype(rowsOf.size()));
    for (int pos : rowsOf)
        out->append(col->ids.at(pos));
    return true;
}

} // namespace tcpscope
