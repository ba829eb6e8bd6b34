// SPDX-License-Identifier: GPL-3.0-or-later
// Opening order matters: nothing in the file is evaluated (no views, triggers, defaults of
// unknown tables) before the schema has been checked against what tcpscope writes.
#include "session/session.h"

#include "session/session_private.h"
#include "session/session_schema.h"
#include "session/session_store.h"

#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <algorithm>
#include <limits>

namespace tcpscope {

namespace {

constexpr int kMaxValueBytes = 1 << 20; // any single value (SQLITE_LIMIT_LENGTH)

struct Opener
{
    sqlite3 *db;
    QString error;
    SessionFormat format;

    bool fail(const QString &why)
    {
        if (error.isEmpty())
            error = why;
        return false;
    }
    bool text(sqlite3_stmt *s, int col, QString *out)
    {
        if (sqlite3_column_type(s, col) != SQLITE_TEXT || sqlite3_column_bytes(s, col) > 1024)
            return fail(QStringLiteral("not a tcpscope session: a schema name is not short text"));
        *out = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(s, col)));
        return true;
    }
    bool checkHeader();
    bool checkSchema(QStringList *connectionColumns);
};

bool Opener::checkHeader()
{
    QString err;
    qint64 appId = 0;
    if (!sqlite::queryInt(db, "PRAGMA application_id", &appId, &err))
        return fail(describeSqliteError(err));
    if (static_cast<std::int32_t>(appId) != schema::kApplicationId)
        return fail(QStringLiteral("not a tcpscope session (SQLite application_id 0x%1, expected "
                                   "0x%2)")
                        .arg(quint32(appId), 8, 16, QLatin1Char('0'))
                        .arg(quint32(schema::kApplicationId), 8, 16, QLatin1Char('0')));
    qint64 version = 0;
    if (!sqlite::queryInt(db, "PRAGMA user_version", &version, &err))
        return fail(describeSqliteError(err));
    const schema::Version v = schema::versionFromUserVersion(version);
    if (v.major == 0)
        return fail(QStringLiteral("unsupported session format version %1 (this tcpscope reads "
                                   "versions 1 to %2.x)")
                        .arg(version)
                        .arg(schema::kMajor));
    if (v.major > schema::kMajor)
        return fail(QStringLiteral("session format %1.%2 is newer than this tcpscope reads (up to "
                                   "%3.x): update tcpscope to open it")
                        .arg(v.major)
                        .arg(v.minor)
                        .arg(schema::kMajor));
    format.major = v.major;
    format.minor = v.minor;
    return true;
}

bool Opener::checkSchema(QStringList *connectionColumns)
{
    // A later minor of our major may add tables, columns and indexes this reader ignores; the
    // exact shape is required otherwise. Views and triggers would run code: never accepted.
    const bool newerMinor = format.major == schema::kMajor && format.minor > schema::kMinor;
    const int version = format.major;
    QString err;
    sqlite::Stmt objects = sqlite::prepare(db, "SELECT type, name FROM sqlite_schema", &err);
    if (!objects)
        return fail(describeSqliteError(err));
    QSet<QString> tables;
    int rc;
    while ((rc = sqlite3_step(objects.get())) == SQLITE_ROW) {
        QString type, name;
        if (!text(objects.get(), 0, &type) || !text(objects.get(), 1, &name))
            return false;
        if (type == QLatin1String("table")) {
            tables.insert(name);
            continue;
        }
        const bool ourIndex = type == QLatin1String("index") &&
                              (newerMinor || schema::indexes(version).contains(name) ||
                               name.startsWith(QLatin1String("sqlite_autoindex_")));
        if (!ourIndex)
            return fail(QStringLiteral("not a tcpscope session: unexpected %1 '%2' in the schema")
                            .arg(type, name.left(64)));
    }
    if (rc != SQLITE_DONE)
        return fail(describeSqliteError(sqlite::lastError(db)));
    const QVector<schema::TableSpec> specs = schema::tablesOf(version, format.minor);
    QSet<QString> expected;
    for (const schema::TableSpec &spec : specs)
        expected.insert(QLatin1String(spec.name));
    for (const QString &t : std::as_const(tables)) {
        if (!expected.contains(t) && !newerMinor && !t.startsWith(QLatin1String("sqlite_")))
            return fail(
                QStringLiteral("not a tcpscope session: unexpected table '%1'").arg(t.left(64)));
    }
    sqlite::Stmt columns =
        sqlite::prepare(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", &err);
    if (!columns)
        return fail(describeSqliteError(err));
    for (const schema::TableSpec &spec : specs) {
        if (!tables.contains(QLatin1String(spec.name)))
            return fail(QStringLiteral("not a tcpscope session: missing table '%1'")
                            .arg(QLatin1String(spec.name)));
        sqlite3_reset(columns.get());
        sqlite3_bind_text(columns.get(), 1, spec.name, -1, SQLITE_STATIC);
        QStringList found;
        while ((rc = sqlite3_step(columns.get())) == SQLITE_ROW) {
            QString col;
            if (!text(columns.get(), 0, &col))
                return false;
            found << col;
        }
        if (rc != SQLITE_DONE)
            return fail(describeSqliteError(sqlite::lastError(db)));
        // A newer minor may append columns: ours must come first, in order.
        const bool fits =
            newerMinor ? found.mid(0, spec.columns.size()) == spec.columns : found == spec.columns;
        if (!fits)
            return fail(QStringLiteral("not a tcpscope session: table '%1' has columns (%2), "
                                       "expected (%3)")
                            .arg(QLatin1String(spec.name), found.join(QLatin1Char(',')).left(300),
                                 spec.columns.join(QLatin1Char(','))));
        if (QLatin1String(spec.name) == QLatin1String("connections"))
            *connectionColumns = spec.columns;
    }
    return true;
}

QByteArray idList(const QVector<qint64> &ids)
{
    QJsonArray array;
    for (qint64 id : ids)
        array.append(id);
    return QJsonDocument(array).toJson(QJsonDocument::Compact);
}

} // namespace

QString describeSqliteError(const QString &sqliteError)
{
    if (sqliteError.contains(QLatin1String("file is not a database")))
        return QStringLiteral("not a tcpscope session (not an SQLite database)");
    if (sqliteError.contains(QLatin1String("malformed")) &&
        !sqliteError.startsWith(QLatin1String("corrupt")))
        return QStringLiteral("corrupt session file, truncated or damaged (%1)").arg(sqliteError);
    if (sqliteError.startsWith(QLatin1String("corrupt")) ||
        sqliteError.startsWith(QLatin1String("not a tcpscope")))
        return sqliteError;
    return QStringLiteral("corrupt session: ") + sqliteError;
}

bool Session::Private::fail(const QString &why) const
{
    if (error.isEmpty())
        error = why;
    return false;
}

sqlite::Stmt Session::Private::prepare(const QByteArray &sql) const
{
    QString err;
    sqlite::Stmt stmt = sqlite::prepare(db.get(), sql.constData(), &err);
    if (!stmt)
        fail(describeSqliteError(err));
    return stmt;
}

bool Session::Private::done(int rc) const
{
    flushBad();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) // ROW: the caller stopped early
        return true;
    return fail(describeSqliteError(sqlite::lastError(db.get())));
}

bool Session::Private::queryInt(const QByteArray &sql, qint64 *out) const
{
    QString err;
    if (sqlite::queryInt(db.get(), sql.constData(), out, &err))
        return true;
    return fail(describeSqliteError(err));
}

qint64 Session::Private::joined(qint64 connectionId) const
{
    if (connectionId == 0)
        return 0;
    if (!knownIds) {
        // Sorted ids (rowid order) and a binary search: 8 bytes a connection and no hashing,
        // which for 200k connections costs a fraction of a QSet's build.
        knownIds.emplace();
        knownIds->reserve(size_t(connectionsIfKnown()));
        sqlite::Stmt s = prepare("SELECT id FROM connections ORDER BY id");
        int rc = SQLITE_DONE;
        while (s && (rc = sqlite3_step(s.get())) == SQLITE_ROW)
            knownIds->push_back(sqlite3_column_int64(s.get(), 0));
        done(rc);
    }
    if (std::binary_search(knownIds->cbegin(), knownIds->cend(), connectionId))
        return connectionId;
    ++localBad;
    return 0;
}

bool Session::Private::readInterruptions(QVector<Interruption> &out)
{
    // Format 4.1 on (the schema check made sure the table is there); earlier files have none.
    if (format.major != 4 || format.minor < 1)
        return true;
    sqlite::Stmt stmt = prepare("SELECT start_ns, end_ns, records_lost, reason FROM interruptions"
                                " ORDER BY start_ns LIMIT 10000");
    if (!stmt)
        return false;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        rows::Cells c = cells(stmt.get());
        Interruption i;
        i.startNs = c.ranged(0, 0, INT64_MAX, 0);
        const qint64 end = c.optional(1, 0, INT64_MAX);
        i.endNs = end < 0 ? 0 : end;
        i.recordsLost = c.optional(2, 0, INT64_MAX);
        i.reason = c.text(3, rows::kMaxMetaText);
        out.append(i);
    }
    return done(rc);
}

bool Session::Private::readKeptWindows(QVector<KeptWindow> &out)
{
    if (format.major != 4 || format.minor < 4)
        return true;
    sqlite::Stmt stmt = prepare("SELECT start_ns, end_ns, triggers FROM kept_windows"
                                " ORDER BY start_ns LIMIT " +
                                QByteArray::number(schema::kMaxKeptWindows));
    if (!stmt)
        return false;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        rows::Cells c = cells(stmt.get());
        const quint64 before = localBad;
        KeptWindow w;
        w.startNs = c.ranged(0, 0, INT64_MAX, 0);
        w.endNs = c.ranged(1, 0, INT64_MAX, 0);
        const QString triggers = c.text(2, rows::kMaxMetaText);
        w.triggers = triggers.isEmpty() ? QStringList() : triggers.split(QLatin1Char('\n'));
        if (w.endNs < w.startNs)
            c.count();
        if (localBad == before)
            out.append(w);
    }
    return done(rc);
}

bool Session::Private::readHosts(QVector<HostInfo> &out)
{
    if (format.major != 4 || format.minor < 6)
        return true;
    // Like the annotations: a row that does not fit is left out and counted, a value that
    // does not fit is unknown (counted); never a reason to refuse the file.
    sqlite::Stmt stmt = prepare("SELECT id, name, kernel, probes, source, clock_offset_ns,"
                                " offset_error_ns, offset_method FROM hosts ORDER BY id LIMIT " +
                                QByteArray::number(HostInfo::kMaxHosts));
    if (!stmt) {
        error.clear();
        ++outOfRange;
        return true;
    }
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        rows::Cells c = cells(stmt.get());
        HostInfo h;
        const quint64 before = localBad;
        h.id = qint32(c.ranged(0, 0, HostInfo::kMaxHosts - 1, -1));
        if (localBad != before || h.id != out.size()) {
            // Ids are 0, 1, 2 ... in order: a gap or a hostile id makes the rest unplaceable.
            if (localBad == before)
                c.count();
            break;
        }
        h.name = c.text(1, rows::kMaxShortText);
        h.kernel = c.text(2, rows::kMaxShortText);
        const QString probes = c.text(3, rows::kMaxMetaText);
        h.probes = probes.isEmpty() ? QStringList() : probes.split(QLatin1Char('\n'));
        h.source = c.text(4, rows::kMaxShortText);
        h.clockOffsetNs = c.ranged(5, INT64_MIN, INT64_MAX, 0);
        h.offsetErrorNs = c.ranged(6, -1, INT64_MAX, -1);
        const QString method = c.text(7, rows::kMaxShortText);
        if (!offsetMethodFromName(method, &h.offsetMethod)) {
            c.count();
            h.offsetMethod = OffsetMethod::None;
        }
        out.append(h);
    }
    // Like the annotations and the view: a read error ends the list early and is counted (ROW:
    // the loop stopped at an unplaceable id, counted above).
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        ++localBad;
    flushBad();
    error.clear();
    return true;
}

bool Session::Private::readSavedView()
{
    savedView.clear();
    if (format.major != 4 || format.minor < 3) // the schema check made sure 4.3 has the table
        return true;
    // The view is a convenience: a damaged or hostile one is left out (counted), never a
    // reason to refuse the file. Keys first, then each value on its own, so one value beyond
    // the length limit costs only itself; a value longer than kMaxViewValue reads as empty.
    QStringList keys;
    sqlite::Stmt list = prepare("SELECT key FROM view_state ORDER BY key LIMIT 256");
    sqlite::Stmt one = prepare("SELECT value FROM view_state WHERE key = ?1");
    if (!list || !one) {
        error.clear();
        ++outOfRange;
        return true;
    }
    int rc;
    while ((rc = sqlite3_step(list.get())) == SQLITE_ROW) {
        rows::Cells c = cells(list.get());
        const QString key = c.text(0, rows::kMaxShortText);
        if (!key.isEmpty())
            keys << key;
    }
    if (rc != SQLITE_DONE)
        ++localBad;
    for (const QString &key : std::as_const(keys)) {
        sqlite3_reset(one.get());
        sqlite::bindText(one.get(), 1, key);
        if (sqlite3_step(one.get()) == SQLITE_ROW) {
            rows::Cells c = cells(one.get());
            savedView.insert(key, c.text(0, schema::kMaxViewValue));
        } else {
            ++localBad; // too big to read, or unreadable
            savedView.insert(key, QString());
        }
    }
    flushBad();
    error.clear();
    return true;
}

bool Session::Private::readAnnotations()
{
    annotations.clear();
    if (format.major != 4 || format.minor < 3)
        return true;
    // Every field bounded; a row that does not fit is left out and counted. Like the view,
    // never a reason to refuse the file.
    int rc;
    sqlite::Stmt notes = prepare("SELECT connection_id, packet_id, start_ns, end_ns, text, author,"
                                 " created_ns FROM annotations ORDER BY id LIMIT " +
                                 QByteArray::number(Annotation::kMaxPerSession));
    if (notes) {
        while ((rc = sqlite3_step(notes.get())) == SQLITE_ROW) {
            rows::Cells c = cells(notes.get());
            Annotation a;
            const quint64 before = localBad;
            a.connectionId = c.ranged(0, 0, INT64_MAX, 0);
            a.packetId = c.ranged(1, 0, INT64_MAX, 0);
            a.startNs = c.ranged(2, 0, INT64_MAX, 0);
            a.endNs = c.ranged(3, 0, INT64_MAX, 0);
            a.text = c.text(4, Annotation::kMaxText);
            a.author = c.text(5, Annotation::kMaxAuthor);
            a.createdNs = c.ranged(6, 0, INT64_MAX, 0);
            // text() bounds bytes (4 per character); a note is bounded in characters.
            if (a.text.size() > Annotation::kMaxText || a.author.size() > Annotation::kMaxAuthor)
                c.count();
            if (localBad == before && !a.text.isEmpty())
                annotations.append(a);
        }
        if (rc != SQLITE_DONE)
            ++localBad;
    }
    flushBad();
    error.clear();
    return true;
}

bool Session::Private::readMeta()
{
    sqlite::Stmt stmt = prepare("SELECT key, value FROM meta LIMIT 1000");
    if (!stmt)
        return false;
    SessionInfo i = {};
    i.interfaces = info.interfaces;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        rows::Cells c = cells(stmt.get());
        const QString key = c.text(0, rows::kMaxShortText);
        const QString value = c.text(1, rows::kMaxMetaText);
        using namespace schema;
        auto is = [&key](const char *name) { return key == QLatin1String(name); };
        // Numbers are written as plain decimal digits: anything else ("yesterday", "-5",
        // "1e400", " 7") is unknown (0) and counted, like an out-of-range cell.
        auto number = [&](quint64 max) -> quint64 {
            bool ok = !value.isEmpty() && value.size() <= 20 &&
                      std::all_of(value.cbegin(), value.cend(), [](QChar ch) {
                          return ch >= QLatin1Char('0') && ch <= QLatin1Char('9');
                      });
            const quint64 v = ok ? value.toULongLong(&ok) : 0;
            if (!ok || v > max) {
                c.count();
                return 0;
            }
            return v;
        };
        // A fact that may be unknown: anything but plain digits is unknown (-1), and counted.
        auto optional = [&]() -> qint64 {
            const bool digits =
                !value.isEmpty() && std::all_of(value.cbegin(), value.cend(), [](QChar ch) {
                    return ch >= QLatin1Char('0') && ch <= QLatin1Char('9');
                });
            if (!digits) {
                c.count();
                return -1;
            }
            return qint64(number(quint64(std::numeric_limits<qint64>::max())));
        };
        auto flag = [&]() {
            if (value != QLatin1String("0") && value != QLatin1String("1"))
                c.count();
            return value == QLatin1String("1");
        };
        constexpr quint64 kI64 = quint64(std::numeric_limits<qint64>::max());
        constexpr quint64 kU64 = std::numeric_limits<quint64>::max();
        if (is(kMetaKernel))
            i.kernelRelease = value;
        else if (is(kMetaHostname))
            i.hostname = value;
        else if (is(kMetaRemote))
            i.remote = value;
        else if (is(kMetaVersion))
            i.tcpscopeVersion = value;
        else if (is(kMetaProbes))
            i.probes = value.isEmpty() ? QStringList() : value.split(QLatin1Char('\n'));
        else if (is(kMetaStartedNs))
            i.startedNs = qint64(number(kI64));
        else if (is(kMetaStoppedNs))
            i.stoppedNs = qint64(number(kI64));
        else if (is(kMetaRecords))
            i.recordsReceived = number(kU64);
        else if (is(kMetaLost))
            i.lostRecords = number(kU64);
        else if (is(kMetaMissedRuns))
            i.missedProgramRuns = number(kU64);
        else if (is(kMetaPacketsCaptured))
            i.packetsCaptured = flag();
        else if (is(kMetaCaptureFilter))
            i.captureFilter = value;
        else if (is(kMetaPacketsReceived))
            i.packetsReceived = number(kU64);
        else if (is(kMetaLostPackets))
            i.lostPackets = number(kU64);
        else if (is(kMetaPacketsFiltered))
            i.packetsFiltered = number(kU64);
        else if (is(kMetaKernelMetrics))
            i.kernelMetrics = flag();
        else if (is(kMetaSampleIntervalUs))
            i.sampleIntervalUs = quint32(number(std::numeric_limits<quint32>::max()));
        else if (is(kMetaSamplesReceived))
            i.samplesReceived = number(kU64);
        else if (is(kMetaKernelEventsReceived))
            i.kernelEventsReceived = number(kU64);
        else if (is(kMetaDropsReceived))
            i.dropsReceived = number(kU64);
        else if (is(kMetaWriterDropped))
            i.writerDropped = number(kU64);
        else if (is(kMetaReaderDropped))
            i.readerDropped = number(kU64);
        else if (is(kMetaReorderWindowNs))
            i.reorderWindowNs = optional();
        else if (is(kMetaRecordsReordered))
            i.recordsReordered = optional();
        else if (is(kMetaMaxInversionNs))
            i.maxInversionNs = optional();
        else if (is(kMetaRecordsBeyondWindow))
            i.recordsBeyondWindow = optional();
        else if (is(kMetaMaxLateNs))
            i.maxLateNs = optional();
        else if (is(kMetaRecordsAfterEviction))
            i.recordsAfterEviction = optional();
        else if (is(kMetaAlertsRecorded))
            i.alertsRecorded = value == QLatin1String("1");
        else if (is(kMetaTrigger))
            i.trigger = value;
        else if (is(kMetaTriggerPreNs))
            i.triggerPreNs = number(INT64_MAX);
        else if (is(kMetaTriggerPostNs))
            i.triggerPostNs = number(INT64_MAX);
        else if (is(kMetaTriggerRingBytes))
            i.triggerRingBytes = number(INT64_MAX);
        else if (is(kMetaTriggerDiscarded))
            i.triggerDiscarded = number(kU64);
        // Unknown keys are allowed: later versions may add facts without breaking readers.
    }
    if (!done(rc) || !readInterruptions(i.interruptions) || !readKeptWindows(i.keptWindows) ||
        !readHosts(i.hosts))
        return false;
    info = i;
    if (!hasPackets())
        return true;
    info.interfaces.clear();
    sqlite::Stmt ifs = prepare("SELECT ifindex, name, attach FROM interfaces ORDER BY ifindex"
                               " LIMIT 100000");
    if (!ifs)
        return false;
    while ((rc = sqlite3_step(ifs.get())) == SQLITE_ROW) {
        rows::Cells c = cells(ifs.get());
        InterfaceInfo f;
        f.ifindex = c.u32(0);
        f.name = c.text(1, 16);
        const auto a = schema::attachFromName(c.text(2, rows::kMaxShortText));
        if (!a)
            c.count();
        f.attach = a.value_or(quint8(3)); // TS_ATTACH_FAILED: nothing known was attached
        info.interfaces.append(f);
    }
    return done(rc);
}

bool Session::Private::readCounts()
{
    connectionCount.reset();
    knownIds.reset();
    chunkSpans.reset();
    packetCount.reset();
    if (chunked())
        return queryInt("SELECT ifnull(max(last_id), 0) FROM packet_chunks", &lastPacketId);
    if (hasPackets())
        return queryInt("SELECT ifnull(max(id), 0) FROM packets", &lastPacketId);
    return true;
}

qint64 Session::Private::connections() const
{
    if (!connectionCount) {
        qint64 n = 0;
        if (!queryInt("SELECT count(*) FROM connections", &n))
            return 0; // error says why; asked again next time
        connectionCount = n;
    }
    return *connectionCount;
}

qint64 Session::Private::packets() const
{
    if (!packetCount) {
        qint64 n = 0;
        if (chunked()) {
            if (!queryInt("SELECT ifnull(sum(count), 0) FROM packet_chunks", &n))
                return 0; // error says why; asked again next time
        } else if (hasPackets() && !queryInt("SELECT count(*) FROM packets", &n)) {
            return 0;
        }
        packetCount = n;
    }
    return *packetCount;
}

bool Session::Private::readHistory(qint64 id, QVector<StateChange> *out) const
{
    sqlite::Stmt s = prepare(QByteArray("SELECT ") + rows::kStateChangeColumns +
                             " FROM state_changes WHERE connection_id = ?1 ORDER BY seq");
    if (!s)
        return false;
    sqlite3_bind_int64(s.get(), 1, id);
    return eachRow(s.get(), [&](rows::Cells &c) {
        StateChange sc;
        rows::stateChange(c, &sc);
        out->append(sc);
        return true;
    });
}

bool Session::Private::readHistories(QHash<qint64, Connection> *byId) const
{
    if (byId->isEmpty())
        return true;
    sqlite::Stmt s = prepare(QByteArray("SELECT ") + rows::kStateChangeColumns +
                             " FROM state_changes WHERE connection_id IN"
                             " (SELECT value FROM json_each(?1)) ORDER BY connection_id, seq");
    if (!s)
        return false;
    const QByteArray list = idList(byId->keys().toVector());
    sqlite3_bind_text(s.get(), 1, list.constData(), int(list.size()), SQLITE_TRANSIENT);
    return eachRow(s.get(), [&](rows::Cells &c) {
        const auto it = byId->find(sqlite3_column_int64(s.get(), 0));
        if (it == byId->end())
            return true;
        StateChange sc;
        rows::stateChange(c, &sc);
        it->history.append(sc);
        return true;
    });
}

Session::Session() : d(std::make_unique<Private>()) {}
Session::~Session() = default;

std::unique_ptr<Session> Session::open(const QString &path, QString *error,
                                       const std::atomic<bool> *cancel, const Progress &progress)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return nullptr;
    };
    auto cancelled = [cancel] { return cancel && cancel->load(); };
    const QFileInfo fi(path);
    if (!fi.exists())
        return fail(QStringLiteral("no such file"));
    if (!fi.isFile())
        return fail(QStringLiteral("not a regular file"));
    if (!fi.isReadable())
        return fail(QStringLiteral("permission denied"));
    if (fi.size() == 0)
        return fail(QStringLiteral("empty file, not a tcpscope session"));
    if (progress)
        progress(0);

    QString err;
    // Nothing is created beside the file (no -shm, -wal or -journal); a file an interrupted
    // writer left behind says how to recover it.
    bool needsRecovery = false;
    sqlite::Db db = openSessionReadOnly(path, &err, &needsRecovery);
    if (!db)
        return fail(needsRecovery ? err : QStringLiteral("cannot open: ") + err);
    // Defensive settings before the first statement touches the file's schema.
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_VIEW, 0, nullptr);
    sqlite3_limit(db.get(), SQLITE_LIMIT_LENGTH, kMaxValueBytes);
    sqlite3_limit(db.get(), SQLITE_LIMIT_SQL_LENGTH, 100000);
    sqlite3_limit(db.get(), SQLITE_LIMIT_ATTACHED, 0);
    if (!sqlite::exec(db.get(),
                      "PRAGMA trusted_schema = OFF; PRAGMA cell_size_check = ON;"
                      " PRAGMA cache_size = -16384;",
                      &err))
        return fail(describeSqliteError(err));

    Opener opener{db.get(), {}, {}};
    if (!opener.checkHeader())
        return fail(opener.error);
    std::unique_ptr<Session> session(new Session);
    Private &p = *session->d;
    if (!opener.checkSchema(&p.connectionColumns))
        return fail(opener.error);
    if (cancelled())
        return fail(QStringLiteral("cancelled"));
    if (progress)
        progress(30);
    p.db = std::move(db);
    p.path = path;
    p.format = opener.format;
    if (!p.readMeta() || !p.readCounts() || !p.readSavedView() || !p.readAnnotations())
        return fail(p.error);
    if (cancelled())
        return fail(QStringLiteral("cancelled"));
    if (progress)
        progress(100);
    return session;
}

QVector<Annotation> Session::annotations() const
{
    std::lock_guard lock(d->mutex);
    return d->annotations;
}

QMap<QString, QString> Session::savedView() const
{
    std::lock_guard lock(d->mutex);
    return d->savedView;
}

QString Session::path() const
{
    return d->path;
}

SessionFormat Session::format() const
{
    return d->format;
}

SessionInfo Session::info() const
{
    std::lock_guard lock(d->mutex);
    return d->info;
}

quint64 Session::valuesOutOfRange() const
{
    return d->outOfRange.load();
}

quint64 Session::badChunks() const
{
    return d->badChunks.load();
}

QString Session::badChunkError() const
{
    std::lock_guard lock(d->mutex);
    return d->lastChunkError;
}

QString Session::error() const
{
    std::lock_guard lock(d->mutex);
    return d->error;
}

bool Session::refresh()
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    const qint64 connections = d->connections(), packets = d->lastPacketId;
    const SessionInfo before = d->info;
    // A live file changes rows in place (a connection closing): columns are read again.
    d->columns.clear();
    if (!d->readMeta() || !d->readCounts())
        return false;
    return connections != d->connections() || packets != d->lastPacketId ||
           before.stoppedNs != d->info.stoppedNs ||
           before.recordsReceived != d->info.recordsReceived;
}

qint64 Session::connectionCount() const
{
    std::lock_guard lock(d->mutex);
    return d->connections();
}

QVector<qint64> Session::connectionIds(const ConnectionQuery &query) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    // The sort column names a cached column (and is spliced into SQL there): only a name of the
    // file's own connections columns.
    if (!d->connectionColumns.contains(query.sortColumn)) {
        d->fail(
            QStringLiteral("no connections column '%1' to sort by").arg(query.sortColumn.left(64)));
        return {};
    }
    QVector<qint64> ids;
    d->cachedIds(query, &ids);
    return ids;
}

std::shared_ptr<const WordIndex> Session::readWordIndex() const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    QString err;
    std::shared_ptr<const WordIndex> index = WordIndex::read(d->db.get(), &err);
    if (!index)
        d->fail(describeSqliteError(err));
    return index;
}

bool Session::adoptWordIndex(const std::shared_ptr<const WordIndex> &index) const
{
    std::lock_guard lock(d->mutex);
    if (d->columns.hasWordIndex())
        return true;
    if (!index || index->ids.size() != d->connections())
        return false;
    if (!index->ids.isEmpty() && d->lastConnectionId() != index->ids.constLast())
        return false;
    d->columns.adopt(index);
    return true;
}

bool Session::hasWordIndex() const
{
    std::lock_guard lock(d->mutex);
    return d->columns.hasWordIndex();
}

QVector<Connection> Session::connections(const QVector<qint64> &ids, bool withHistory) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    if (ids.isEmpty())
        return {};
    sqlite::Stmt s = d->prepare("SELECT " + rows::connectionColumns(d->columnsVersion()) +
                                " FROM connections WHERE id IN (SELECT value FROM json_each(?1))");
    if (!s)
        return {};
    const QByteArray list = idList(ids);
    sqlite3_bind_text(s.get(), 1, list.constData(), int(list.size()), SQLITE_TRANSIENT);
    QHash<qint64, Connection> byId;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        rows::Cells c = d->cells(s.get());
        Connection conn;
        rows::connection(c, &conn);
        const qint64 id = conn.id;
        byId.emplace(id, std::move(conn)); // insert() would copy: it takes a const reference
    }
    s.reset();
    if (d->done(rc) && withHistory)
        d->readHistories(&byId);
    QVector<Connection> out;
    out.reserve(ids.size());
    for (qint64 id : ids) {
        const auto it = byId.constFind(id);
        if (it != byId.cend())
            out.append(*it);
    }
    return out;
}

std::optional<Connection> Session::connection(qint64 id) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    sqlite::Stmt s = d->prepare("SELECT " + rows::connectionColumns(d->columnsVersion()) +
                                " FROM connections WHERE id = ?1");
    if (!s)
        return std::nullopt;
    sqlite3_bind_int64(s.get(), 1, id);
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) {
        d->done(rc);
        return std::nullopt;
    }
    Connection conn;
    rows::Cells c = d->cells(s.get());
    rows::connection(c, &conn);
    s.reset();
    d->readHistory(id, &conn.history);
    d->flushBad();
    return conn;
}

qint64 Session::lastConnectionId() const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    return d->lastConnectionId();
}

qint64 Session::Private::lastConnectionId() const
{
    qint64 id = 0;
    queryInt("SELECT ifnull(max(id), 0) FROM connections", &id);
    return id;
}

QVector<HostInfo> Session::hosts() const
{
    std::lock_guard lock(d->mutex);
    if (!d->info.hosts.isEmpty())
        return d->info.hosts;
    // One host: the one meta describes, on its own time axis.
    HostInfo h;
    h.name = d->info.hostname;
    h.kernel = d->info.kernelRelease;
    h.probes = d->info.probes;
    h.source = d->info.remote;
    h.offsetErrorNs = 0;
    return {h};
}

QVector<Connection> Session::connectionsAfter(qint64 afterId, int limit, bool withHistory) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    sqlite::Stmt s = d->prepare("SELECT " + rows::connectionColumns(d->columnsVersion()) +
                                " FROM connections WHERE id > ?1 ORDER BY id LIMIT ?2");
    if (!s)
        return {};
    sqlite3_bind_int64(s.get(), 1, afterId);
    sqlite3_bind_int64(s.get(), 2, std::max(limit, 0));
    QHash<qint64, Connection> byId;
    QVector<qint64> order;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        rows::Cells c = d->cells(s.get());
        Connection conn;
        rows::connection(c, &conn);
        order.append(conn.id);
        const qint64 id = conn.id;
        byId.emplace(id, std::move(conn));
    }
    s.reset();
    if (d->done(rc) && withHistory)
        d->readHistories(&byId);
    QVector<Connection> out;
    out.reserve(order.size());
    for (qint64 id : std::as_const(order))
        out.append(byId.value(id));
    return out;
}

QVector<Connection> Session::allConnections(bool withHistory, const ConnectionFields &fields) const
{
    QVector<Connection> all;
    all.reserve(connectionCount());
    forEachConnection(
        [&all](const Connection &c) {
            all.append(c);
            return true;
        },
        withHistory, fields);
    return all;
}

void Session::forEachConnection(const std::function<bool(const Connection &)> &fn, bool withHistory,
                                const ConnectionFields &fields) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    sqlite::Stmt s = d->prepare("SELECT " + rows::connectionColumns(d->columnsVersion(), fields) +
                                " FROM connections ORDER BY id");
    if (!s)
        return;
    const QVector<const ConnectionColumn *> cols = rows::readColumns(fields);
    // History streams beside the connections (both in id order): one pass over each table.
    sqlite::Stmt h;
    int hrc = SQLITE_DONE;
    if (withHistory) {
        h = d->prepare(QByteArray("SELECT ") + rows::kStateChangeColumns +
                       " FROM state_changes ORDER BY connection_id, seq");
        if (!h)
            return;
        hrc = sqlite3_step(h.get());
    }
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        Connection conn;
        rows::Cells c = d->cells(s.get());
        rows::connection(c, &conn, cols);
        while (withHistory && hrc == SQLITE_ROW) {
            const qint64 owner = sqlite3_column_int64(h.get(), 0);
            if (owner > conn.id)
                break;
            if (owner == conn.id) {
                rows::Cells hc = d->cells(h.get());
                StateChange sc;
                rows::stateChange(hc, &sc);
                conn.history.append(sc);
            } else {
                ++d->localBad; // names no connection: never shown
            }
            hrc = sqlite3_step(h.get());
        }
        if (withHistory && hrc != SQLITE_ROW && hrc != SQLITE_DONE) {
            d->done(hrc);
            return;
        }
        if (!fn(conn)) {
            d->flushBad();
            return;
        }
    }
    while (withHistory && hrc == SQLITE_ROW) { // after the last connection: orphans
        ++d->localBad;
        hrc = sqlite3_step(h.get());
    }
    if (d->done(rc) && withHistory)
        d->done(hrc);
}

QVector<SecondBucket> Session::seconds(qint64 fromNs, qint64 toNs) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    QVector<SecondBucket> out;
    d->readSeconds(fromNs, toNs, &out);
    return out;
}

} // namespace tcpscope
