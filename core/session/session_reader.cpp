// SPDX-License-Identifier: GPL-3.0-or-later
// Reading order matters: nothing in the file is evaluated (no views, triggers, defaults of
// unknown tables) before the schema has been checked against exactly what we wrote.
#include "session/session_reader.h"

#include "model/connection_columns.h"
#include "session/session_reader_impl.h"
#include "session/session_schema.h"
#include "session/sqlite_util.h"

#include <QFileInfo>
#include <QHash>
#include <QSet>

namespace tcpscope {

using detail::Reader;
using namespace detail; // bounds

namespace {

// SQLite's words for the two common ways a file is broken, in terms a user understands.
QString describe(const QString &sqliteError)
{
    if (sqliteError.contains(QLatin1String("file is not a database")))
        return QStringLiteral("not a tcpscope session (not an SQLite database)");
    if (sqliteError.contains(QLatin1String("malformed")) &&
        !sqliteError.startsWith(QLatin1String("corrupt")))
        return QStringLiteral("corrupt session file, truncated or damaged (%1)").arg(sqliteError);
    return sqliteError;
}

} // namespace

namespace detail {

sqlite::Stmt Reader::prepareBounded(const char *table, const char *what, qint64 limit,
                                    const char *sql, qint64 *count)
{
    QString err;
    const QByteArray countSql = QByteArray("SELECT count(*) FROM ") + table;
    if (!sqlite::queryInt(db, countSql.constData(), count, &err)) {
        fail(QStringLiteral("corrupt session: ") + err);
        return {};
    }
    if (*count > limit) {
        fail(QStringLiteral("session has %1 %2, more than this tcpscope reads (%3)")
                 .arg(*count)
                 .arg(QLatin1String(what))
                 .arg(limit));
        return {};
    }
    sqlite::Stmt stmt = sqlite::prepare(db, sql, &err);
    if (!stmt) {
        fail(QStringLiteral("corrupt session: ") + err);
        return {};
    }
    sqlite3_bind_int64(stmt.get(), 1, limit);
    return stmt;
}

bool Reader::text(sqlite3_stmt *stmt, int col, int maxChars, const char *what, QString *out)
{
    const int type = sqlite3_column_type(stmt, col);
    if (type != SQLITE_TEXT)
        return fail(QStringLiteral("corrupt session: %1 is not text").arg(QLatin1String(what)));
    const auto *data = reinterpret_cast<const char *>(sqlite3_column_text(stmt, col));
    const int bytes = sqlite3_column_bytes(stmt, col);
    if (bytes > maxChars * 4)
        return fail(QStringLiteral("corrupt session: %1 is implausibly long (%2 bytes)")
                        .arg(QLatin1String(what))
                        .arg(bytes));
    *out = QString::fromUtf8(data, bytes);
    return true;
}

bool Reader::checkHeader()
{
    QString err;
    qint64 appId = 0;
    if (!sqlite::queryInt(db, "PRAGMA application_id", &appId, &err))
        return fail(err);
    if (static_cast<std::int32_t>(appId) != schema::kApplicationId)
        return fail(QStringLiteral("not a tcpscope session (SQLite application_id 0x%1, expected "
                                   "0x%2)")
                        .arg(quint32(appId), 8, 16, QLatin1Char('0'))
                        .arg(quint32(schema::kApplicationId), 8, 16, QLatin1Char('0')));
    qint64 version = 0;
    if (!sqlite::queryInt(db, "PRAGMA user_version", &version, &err))
        return fail(err);
    if (version < schema::kMinUserVersion || version > schema::kUserVersion)
        return fail(QStringLiteral("unsupported session format version %1 (this tcpscope reads "
                                   "versions %2 to %3)")
                        .arg(version)
                        .arg(schema::kMinUserVersion)
                        .arg(schema::kUserVersion));
    this->version = int(version);
    // quick_check reads every page: catches truncation and torn writes before we trust rows.
    sqlite::Stmt check = sqlite::prepare(db, "PRAGMA quick_check(1)", &err);
    if (!check)
        return fail(QStringLiteral("corrupt session: ") + err);
    const int rc = sqlite3_step(check.get());
    if (rc != SQLITE_ROW)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    const QString result =
        QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(check.get(), 0)));
    if (result != QLatin1String("ok"))
        return fail(QStringLiteral("corrupt session: ") + result.left(200).simplified());
    return true;
}

bool Reader::checkSchema()
{
    QString err;
    sqlite::Stmt objects =
        sqlite::prepare(db, "SELECT type, name, tbl_name FROM sqlite_schema", &err);
    if (!objects)
        return fail(QStringLiteral("corrupt session: ") + err);
    QHash<QString, QString> tableTypes; // name -> type for everything with a name we use
    int rc;
    while ((rc = sqlite3_step(objects.get())) == SQLITE_ROW) {
        QString type, name;
        if (!text(objects.get(), 0, kMaxShortText, "schema type", &type) ||
            !text(objects.get(), 1, kMaxShortText, "schema name", &name))
            return false;
        const bool ourIndex =
            type == QLatin1String("index") && (schema::indexes(version).contains(name) ||
                                               name.startsWith(QLatin1String("sqlite_autoindex_")));
        if (type == QLatin1String("table"))
            tableTypes.insert(name, type);
        else if (!ourIndex)
            return fail(QStringLiteral("not a tcpscope session: unexpected %1 '%2' in the schema")
                            .arg(type, name.left(64)));
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    QSet<QString> expected;
    for (const schema::TableSpec &spec : schema::tables(version))
        expected.insert(QLatin1String(spec.name));
    for (auto it = tableTypes.cbegin(); it != tableTypes.cend(); ++it) {
        if (!expected.contains(it.key()))
            return fail(QStringLiteral("not a tcpscope session: unexpected table '%1'")
                            .arg(it.key().left(64)));
    }
    sqlite::Stmt columns =
        sqlite::prepare(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", &err);
    if (!columns)
        return fail(QStringLiteral("corrupt session: ") + err);
    for (const schema::TableSpec &spec : schema::tables(version)) {
        if (!tableTypes.contains(QLatin1String(spec.name)))
            return fail(QStringLiteral("not a tcpscope session: missing table '%1'")
                            .arg(QLatin1String(spec.name)));
        sqlite3_reset(columns.get());
        sqlite3_bind_text(columns.get(), 1, spec.name, -1, SQLITE_STATIC);
        QStringList found;
        while ((rc = sqlite3_step(columns.get())) == SQLITE_ROW) {
            QString col;
            if (!text(columns.get(), 0, kMaxShortText, "column name", &col))
                return false;
            found << col;
        }
        if (rc != SQLITE_DONE)
            return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
        if (found != spec.columns)
            return fail(QStringLiteral("not a tcpscope session: table '%1' has columns (%2), "
                                       "expected (%3)")
                            .arg(QLatin1String(spec.name), found.join(QLatin1Char(',')).left(300),
                                 spec.columns.join(QLatin1Char(','))));
    }
    return true;
}

bool Reader::readMeta(SessionInfo *info)
{
    QString err;
    sqlite::Stmt stmt = sqlite::prepare(db, "SELECT key, value FROM meta LIMIT 1000", &err);
    if (!stmt)
        return fail(QStringLiteral("corrupt session: ") + err);
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        QString key, value;
        if (!text(stmt.get(), 0, kMaxShortText, "meta key", &key) ||
            !text(stmt.get(), 1, kMaxMetaText, "meta value", &value))
            return false;
        if (key == QLatin1String(schema::kMetaKernel))
            info->kernelRelease = value;
        else if (key == QLatin1String(schema::kMetaHostname))
            info->hostname = value;
        else if (key == QLatin1String(schema::kMetaVersion))
            info->tcpscopeVersion = value;
        else if (key == QLatin1String(schema::kMetaProbes))
            info->probes = value.isEmpty() ? QStringList() : value.split(QLatin1Char('\n'));
        else if (key == QLatin1String(schema::kMetaStartedNs))
            info->startedNs = value.toLongLong();
        else if (key == QLatin1String(schema::kMetaStoppedNs))
            info->stoppedNs = value.toLongLong();
        else if (key == QLatin1String(schema::kMetaRecords))
            info->recordsReceived = value.toULongLong();
        else if (key == QLatin1String(schema::kMetaLost))
            info->lostRecords = value.toULongLong();
        else if (key == QLatin1String(schema::kMetaMissedRuns))
            info->missedProgramRuns = value.toULongLong(); // absent in older files: 0
        else if (key == QLatin1String(schema::kMetaPacketsCaptured))
            info->packetsCaptured = value == QLatin1String("1");
        else if (key == QLatin1String(schema::kMetaCaptureFilter))
            info->captureFilter = value;
        else if (key == QLatin1String(schema::kMetaPacketsReceived))
            info->packetsReceived = value.toULongLong();
        else if (key == QLatin1String(schema::kMetaLostPackets))
            info->lostPackets = value.toULongLong();
        else if (key == QLatin1String(schema::kMetaPacketsFiltered))
            info->packetsFiltered = value.toULongLong();
        else if (key == QLatin1String(schema::kMetaKernelMetrics))
            info->kernelMetrics = value == QLatin1String("1");
        else if (key == QLatin1String(schema::kMetaSampleIntervalUs))
            info->sampleIntervalUs = value.toUInt(); // not a number / out of range: 0
        else if (key == QLatin1String(schema::kMetaSamplesReceived))
            info->samplesReceived = value.toULongLong();
        else if (key == QLatin1String(schema::kMetaKernelEventsReceived))
            info->kernelEventsReceived = value.toULongLong();
        else if (key == QLatin1String(schema::kMetaDropsReceived))
            info->dropsReceived = value.toULongLong();
        // Unknown keys are allowed: later versions may add facts without breaking readers.
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

bool Reader::readConnections(QVector<Connection> *out)
{
    // Columns a file of this version does not have yet are selected as the value a connection
    // without that data has (v1: no packet counts, v1/v2: no kernel summary).
    QVector<const ConnectionColumn *> columns;
    QByteArray select;
    for (const ConnectionColumn &col : connectionColumns()) {
        if (!col.read())
            continue;
        select += select.isEmpty() ? "SELECT " : ", ";
        select += col.since <= version ? col.name : col.absentSql();
        columns << &col;
    }
    const QByteArray sql = select + " FROM connections ORDER BY id LIMIT ?1";
    qint64 count = 0;
    sqlite::Stmt stmt =
        prepareBounded("connections", "connections", kMaxConnections, sql.constData(), &count);
    if (!stmt)
        return false;
    out->reserve(count);
    sqlite3_stmt *s = stmt.get();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        Connection c;
        for (int i = 0; i < columns.size(); ++i) {
            const ConnectionColumn &col = *columns[i];
            ColumnValue v;
            switch (sqlite3_column_type(s, i)) {
            case SQLITE_NULL:
                v.kind = ColumnValue::Null;
                break;
            case SQLITE_INTEGER:
                v.kind = ColumnValue::Integer;
                break;
            case SQLITE_TEXT:
                v.kind = ColumnValue::Text;
                break;
            default:
                v.kind = ColumnValue::Other;
            }
            v.integer = sqlite3_column_int64(s, i);
            if (col.storage == ConnectionColumn::Text &&
                !text(s, i, kMaxShortText, col.name, &v.text))
                return false;
            if (!col.assign(c, v))
                return fail(QStringLiteral("corrupt session: connection %1 has an invalid %2")
                                .arg(c.id)
                                .arg(QLatin1String(col.name)));
        }
        if (c.kernel.srttUsMin > c.kernel.srttUsMax)
            return fail(QStringLiteral("corrupt session: connection %1 has an invalid srtt_us_min "
                                       "(above srtt_us_max)")
                            .arg(c.id));
        out->append(std::move(c));
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

bool Reader::readHistory(QVector<Connection> *conns)
{
    QHash<qint64, qsizetype> indexById;
    indexById.reserve(conns->size());
    for (qsizetype i = 0; i < conns->size(); ++i)
        indexById.insert(conns->at(i).id, i);
    qint64 count = 0;
    sqlite::Stmt stmt = prepareBounded(
        "state_changes", "state changes", kMaxStateChanges,
        "SELECT connection_id, ts_ns, from_state, to_state, ctx_pid, ctx_comm FROM state_changes"
        " ORDER BY connection_id, seq LIMIT ?1",
        &count);
    if (!stmt)
        return false;
    sqlite3_stmt *s = stmt.get();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const qint64 id = sqlite3_column_int64(s, 0);
        const auto it = indexById.constFind(id);
        if (it == indexById.cend())
            return fail(
                QStringLiteral("corrupt session: state change for unknown connection %1").arg(id));
        StateChange sc;
        QString from, to;
        sc.timeNs = sqlite3_column_int64(s, 1);
        sc.ctxPid = static_cast<quint32>(sqlite3_column_int64(s, 4));
        if (!text(s, 2, kMaxShortText, "from_state", &from) ||
            !text(s, 3, kMaxShortText, "to_state", &to) ||
            !text(s, 5, kMaxShortText, "ctx_comm", &sc.ctxComm))
            return false;
        sc.from = tcpStateFromName(from);
        sc.to = tcpStateFromName(to);
        (*conns)[*it].history.append(sc);
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

} // namespace detail

std::optional<SessionData> SessionReader::read(const QString &path, QString *error,
                                               const ReadOptions &options)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const QFileInfo fi(path);
    if (!fi.exists())
        return fail(QStringLiteral("no such file"));
    if (!fi.isFile())
        return fail(QStringLiteral("not a regular file"));
    if (!fi.isReadable())
        return fail(QStringLiteral("permission denied"));
    if (fi.size() == 0)
        return fail(QStringLiteral("empty file, not a tcpscope session"));

    QString err;
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READONLY, &err);
    if (!db)
        return fail(QStringLiteral("cannot open: ") + err);
    // Defensive settings before the first statement touches the file's schema.
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_VIEW, 0, nullptr);
    sqlite3_limit(db.get(), SQLITE_LIMIT_LENGTH, kMaxValueBytes);
    sqlite3_limit(db.get(), SQLITE_LIMIT_SQL_LENGTH, 100000);
    sqlite3_limit(db.get(), SQLITE_LIMIT_ATTACHED, 0);
    if (!sqlite::exec(db.get(), "PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON;",
                      &err)) {
        // "file is not a database" is what SQLite says about random bytes: make it ours.
        return fail(describe(err));
    }

    Reader reader;
    reader.db = db.get();
    SessionData data;
    if (!reader.checkHeader() || !reader.checkSchema() || !reader.readMeta(&data.info) ||
        !reader.readConnections(&data.connections) || !reader.readHistory(&data.connections)) {
        return fail(describe(reader.error));
    }
    // v1 files have no packets or interfaces: the same as a capture without packets.
    if (reader.version >= 2) {
        if (!reader.readInterfaces(&data.info) ||
            (options.packets && !reader.readPackets(data.connections, options, &data.packets)))
            return fail(describe(reader.error));
    }
    // v1/v2 files have no kernel metrics: kernelMetrics stays false, KernelData empty.
    if (reader.version >= 3 && options.kernel &&
        !reader.readKernel(data.connections, options, &data.kernel))
        return fail(describe(reader.error));
    return data;
}

} // namespace tcpscope
