// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_writer.h"

#include "session/session_schema.h"
#include "session/sqlite_util.h"

#include <QHash>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

namespace tcpscope {

using Work = std::variant<SessionInfo, Connection>;

struct SessionWriter::Private
{
    sqlite::Db db;
    sqlite::Stmt upsertMeta;
    sqlite::Stmt upsertConnection;
    sqlite::Stmt deleteHistory;
    sqlite::Stmt insertChange;

    std::mutex mutex;
    std::condition_variable wake;      // writer thread: work arrived or stop requested
    std::condition_variable committed; // flush(): a batch finished
    std::deque<Work> queue;
    quint64 enqueued = 0; // sequence number of the last queued item
    quint64 done = 0;     // sequence number of the last item committed (or failed)
    bool stopRequested = false;
    bool closed = false;
    QString error; // first write error, sticky
    std::thread thread;

    void run();
    bool writeBatch(std::deque<Work> &batch, QString *err);
    bool writeInfo(const SessionInfo &info, QString *err);
    bool writeConnection(const Connection &conn, QString *err);
    void enqueue(Work work);
};

namespace {

constexpr const char *kUpsertMeta = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)";
constexpr const char *kUpsertConnection =
    "INSERT OR REPLACE INTO connections(id, sock_id, pid, comm, owner_source, cgroup_id, netns,"
    " family, local_addr, local_port, remote_addr, remote_port, role, start_ns, end_ns,"
    " handshake_ns, state, close_reason, have_close_stats, bytes_sent, bytes_received, segs_in,"
    " segs_out, retransmits, srtt_us, min_rtt_us, sk_err, states)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
    "?23,?24,?25,?26,?27,?28)";
constexpr const char *kDeleteHistory = "DELETE FROM state_changes WHERE connection_id = ?1";
constexpr const char *kInsertChange =
    "INSERT INTO state_changes(connection_id, seq, ts_ns, from_state, to_state, ctx_pid,"
    " ctx_comm) VALUES(?1,?2,?3,?4,?5,?6,?7)";

bool stepDone(sqlite3 *db, sqlite3_stmt *stmt, QString *err)
{
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc == SQLITE_DONE)
        return true;
    *err = sqlite::lastError(db);
    return false;
}

} // namespace

bool SessionWriter::Private::writeInfo(const SessionInfo &info, QString *err)
{
    const QList<QPair<const char *, QString>> rows = {
        {schema::kMetaKernel, info.kernelRelease},
        {schema::kMetaHostname, info.hostname},
        {schema::kMetaVersion, info.tcpscopeVersion},
        {schema::kMetaProbes, info.probes.join(QLatin1Char('\n'))},
        {schema::kMetaStartedNs, QString::number(info.startedNs)},
        {schema::kMetaStoppedNs, QString::number(info.stoppedNs)},
        {schema::kMetaRecords, QString::number(info.recordsReceived)},
        {schema::kMetaLost, QString::number(info.lostRecords)},
        {schema::kMetaMissedRuns, QString::number(info.missedProgramRuns)},
    };
    sqlite3_stmt *stmt = upsertMeta.get();
    for (const auto &[key, value] : rows) {
        sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
        sqlite::bindText(stmt, 2, value);
        if (!stepDone(db.get(), stmt, err))
            return false;
    }
    return true;
}

bool SessionWriter::Private::writeConnection(const Connection &c, QString *err)
{
    sqlite3_stmt *s = upsertConnection.get();
    // u64 kernel values are stored bit-for-bit in SQLite's signed 64-bit integers.
    sqlite3_bind_int64(s, 1, c.id);
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(c.sockId));
    sqlite3_bind_int64(s, 3, c.pid);
    sqlite::bindText(s, 4, c.comm);
    sqlite3_bind_int64(s, 5, c.ownerSource);
    sqlite3_bind_int64(s, 6, static_cast<sqlite3_int64>(c.cgroupId));
    sqlite3_bind_int64(s, 7, c.netnsIno);
    sqlite3_bind_int64(s, 8, c.family);
    sqlite::bindText(s, 9, c.localAddr);
    sqlite3_bind_int64(s, 10, c.localPort);
    sqlite::bindText(s, 11, c.remoteAddr);
    sqlite3_bind_int64(s, 12, c.remotePort);
    sqlite::bindText(s, 13, connectionRoleName(c.role));
    sqlite3_bind_int64(s, 14, c.startNs);
    if (c.endNs != 0)
        sqlite3_bind_int64(s, 15, c.endNs);
    else
        sqlite3_bind_null(s, 15);
    if (c.handshakeNs >= 0)
        sqlite3_bind_int64(s, 16, c.handshakeNs);
    else
        sqlite3_bind_null(s, 16);
    sqlite::bindText(s, 17, tcpStateName(c.state));
    sqlite::bindText(s, 18, closeReasonName(c.closeReason));
    sqlite3_bind_int64(s, 19, c.haveCloseStats ? 1 : 0);
    sqlite3_bind_int64(s, 20, static_cast<sqlite3_int64>(c.bytesSent));
    sqlite3_bind_int64(s, 21, static_cast<sqlite3_int64>(c.bytesReceived));
    sqlite3_bind_int64(s, 22, c.segsIn);
    sqlite3_bind_int64(s, 23, c.segsOut);
    sqlite3_bind_int64(s, 24, c.retransmits);
    sqlite3_bind_int64(s, 25, c.srttUs);
    sqlite3_bind_int64(s, 26, c.minRttUs);
    sqlite3_bind_int64(s, 27, c.skErr);
    sqlite::bindText(s, 28, c.statesPath());
    if (!stepDone(db.get(), s, err))
        return false;

    sqlite3_bind_int64(deleteHistory.get(), 1, c.id);
    if (!stepDone(db.get(), deleteHistory.get(), err))
        return false;
    sqlite3_stmt *h = insertChange.get();
    for (qsizetype i = 0; i < c.history.size(); ++i) {
        const StateChange &sc = c.history[i];
        sqlite3_bind_int64(h, 1, c.id);
        sqlite3_bind_int64(h, 2, i);
        sqlite3_bind_int64(h, 3, sc.timeNs);
        sqlite::bindText(h, 4, tcpStateName(sc.from));
        sqlite::bindText(h, 5, tcpStateName(sc.to));
        sqlite3_bind_int64(h, 6, sc.ctxPid);
        sqlite::bindText(h, 7, sc.ctxComm);
        if (!stepDone(db.get(), h, err))
            return false;
    }
    return true;
}

bool SessionWriter::Private::writeBatch(std::deque<Work> &batch, QString *err)
{
    // A busy connection is updated many times per batch; only its last version matters.
    QHash<qint64, std::size_t> lastIndex;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (const auto *conn = std::get_if<Connection>(&batch[i]))
            lastIndex.insert(conn->id, i);
    }
    if (!sqlite::exec(db.get(), "BEGIN IMMEDIATE", err))
        return false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        bool ok = true;
        if (const auto *info = std::get_if<SessionInfo>(&batch[i]))
            ok = writeInfo(*info, err);
        else if (const auto *conn = std::get_if<Connection>(&batch[i]);
                 lastIndex.value(conn->id) == i)
            ok = writeConnection(*conn, err);
        if (!ok) {
            sqlite::exec(db.get(), "ROLLBACK", nullptr);
            return false;
        }
    }
    if (!sqlite::exec(db.get(), "COMMIT", err)) {
        sqlite::exec(db.get(), "ROLLBACK", nullptr);
        return false;
    }
    return true;
}

void SessionWriter::Private::run()
{
    std::unique_lock lock(mutex);
    for (;;) {
        wake.wait(lock, [this] { return stopRequested || !queue.empty(); });
        if (queue.empty() && stopRequested)
            return;
        std::deque<Work> batch;
        batch.swap(queue);
        const quint64 batchEnd = enqueued;
        lock.unlock();
        QString err;
        const bool ok = writeBatch(batch, &err);
        lock.lock();
        if (!ok && error.isEmpty())
            error = QStringLiteral("cannot write session: ") + err;
        done = batchEnd;
        committed.notify_all();
    }
}

void SessionWriter::Private::enqueue(Work work)
{
    {
        std::lock_guard lock(mutex);
        if (closed)
            return;
        queue.push_back(std::move(work));
        ++enqueued;
    }
    wake.notify_one();
}

SessionWriter::SessionWriter() : d(std::make_unique<Private>()) {}

SessionWriter::~SessionWriter()
{
    close();
}

std::unique_ptr<SessionWriter> SessionWriter::create(const QString &path, QString *error)
{
    QString err;
    auto fail = [&](const QString &what) {
        if (error)
            *error = what + err;
        return nullptr;
    };
    // Stale -wal/-shm files next to a new database would be replayed into it.
    sqlite::removeDatabaseFiles(path);
    std::unique_ptr<SessionWriter> writer(new SessionWriter);
    Private &p = *writer->d;
    p.db = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &err);
    if (!p.db)
        return fail(QStringLiteral("cannot create session file: "));
    sqlite3 *db = p.db.get();
    const QByteArray pragmas =
        QByteArrayLiteral("PRAGMA application_id = ") + QByteArray::number(schema::kApplicationId) +
        "; PRAGMA user_version = " + QByteArray::number(schema::kUserVersion) +
        "; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
    if (!sqlite::exec(db, pragmas.constData(), &err))
        return fail(QStringLiteral("cannot initialise session file: "));
    const QByteArray create = QByteArrayLiteral("BEGIN; ") + schema::kCreateSql + "COMMIT;";
    if (!sqlite::exec(db, create.constData(), &err))
        return fail(QStringLiteral("cannot create session schema: "));
    p.upsertMeta = sqlite::prepare(db, kUpsertMeta, &err);
    p.upsertConnection = p.upsertMeta ? sqlite::prepare(db, kUpsertConnection, &err) : nullptr;
    p.deleteHistory = p.upsertConnection ? sqlite::prepare(db, kDeleteHistory, &err) : nullptr;
    p.insertChange = p.deleteHistory ? sqlite::prepare(db, kInsertChange, &err) : nullptr;
    if (!p.insertChange)
        return fail(QStringLiteral("cannot prepare session statements: "));
    p.thread = std::thread([&p] { p.run(); });
    return writer;
}

void SessionWriter::setInfo(const SessionInfo &info)
{
    d->enqueue(info);
}

void SessionWriter::writeConnection(const Connection &conn)
{
    d->enqueue(conn);
}

bool SessionWriter::flush(QString *error)
{
    std::unique_lock lock(d->mutex);
    const quint64 target = d->enqueued;
    d->committed.wait(lock, [&] { return d->done >= target || !d->thread.joinable(); });
    if (!d->error.isEmpty()) {
        if (error)
            *error = d->error;
        return false;
    }
    return true;
}

bool SessionWriter::close(QString *error)
{
    {
        std::lock_guard lock(d->mutex);
        if (d->closed) {
            if (error && !d->error.isEmpty())
                *error = d->error;
            return d->error.isEmpty();
        }
        d->closed = true;
        d->stopRequested = true;
    }
    d->wake.notify_one();
    if (d->thread.joinable())
        d->thread.join();

    // The thread is gone: the handle is ours again. Leave one self-contained file behind.
    QString err;
    d->upsertMeta.reset();
    d->upsertConnection.reset();
    d->deleteHistory.reset();
    d->insertChange.reset();
    if (d->db) {
        if (!sqlite::exec(d->db.get(),
                          "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;", &err) &&
            d->error.isEmpty())
            d->error = QStringLiteral("cannot finalize session file: ") + err;
        d->db.reset();
    }
    if (!d->error.isEmpty()) {
        if (error)
            *error = d->error;
        return false;
    }
    return true;
}

} // namespace tcpscope
