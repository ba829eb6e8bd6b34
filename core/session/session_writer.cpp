// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_writer.h"

#include "session/session_schema.h"
#include "session/session_writer_kernel.h"
#include "session/sqlite_util.h"

#include <QHash>
#include <arpa/inet.h>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <variant>

namespace tcpscope {

using Work = std::variant<SessionInfo, Connection, QVector<Packet>, KernelData>;

struct SessionWriter::Private
{
    sqlite::Db db;
    sqlite::Stmt upsertMeta;
    sqlite::Stmt upsertConnection;
    sqlite::Stmt deleteHistory;
    sqlite::Stmt insertChange;
    sqlite::Stmt insertPacket;
    sqlite::Stmt deleteInterfaces;
    sqlite::Stmt insertInterface;
    detail::KernelRowWriter kernelRows;

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
    bool writePackets(const QVector<Packet> &packets, QString *err);
    void enqueue(Work work);
};

namespace {

constexpr const char *kUpsertMeta = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)";
constexpr const char *kUpsertConnection =
    "INSERT OR REPLACE INTO connections(id, sock_id, pid, comm, owner_source, cgroup_id, netns,"
    " family, local_addr, local_port, remote_addr, remote_port, role, start_ns, end_ns,"
    " handshake_ns, state, close_reason, have_close_stats, bytes_sent, bytes_received, segs_in,"
    " segs_out, retransmits, srtt_us, min_rtt_us, sk_err, states, packets_in, packets_out,"
    " payload_bytes_in, payload_bytes_out, retransmissions_seen, fast_retransmissions,"
    " spurious_retransmissions, dup_acks, out_of_order, lost_segments, zero_windows,"
    " zero_window_probes, window_full, window_updates, keep_alives, resets_seen, irtt_ns,"
    " mss_local, mss_remote, wscale_local, wscale_remote, sack_permitted, timestamps,"
    " kernel_samples, srtt_us_min, srtt_us_max, cwnd_max, kernel_retransmits, syn_retransmits,"
    " synack_retransmits, resets_sent, resets_received, drops, listen_drops, backlog_max)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
    "?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37,?38,?39,?40,?41,?42,?43,?44,"
    "?45,?46,?47,?48,?49,?50,?51,?52,?53,?54,?55,?56,?57,?58,?59,?60,?61,?62,?63)";
constexpr const char *kInsertPacket =
    "INSERT INTO packets(id, connection_id, ts_ns, sock_id, sock_state, ifindex, direction,"
    " parse_status, family, src_addr, src_port, dst_addr, dst_port, seq, ack, tcp_flags, window,"
    " urg_ptr, payload_len, skb_len, gso_segs, gso_size, ttl, tos, vlan_tci, vlan_depth, ip_frag,"
    " ip_id, ip_hdr_len, tcp_hdr_len, options, payload, analysis, dup_ack_num, rel_seq, rel_ack,"
    " bytes_in_flight, scaled_window, ack_rtt_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
    "?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,"
    "?36,?37,?38,?39)";
constexpr const char *kDeleteInterfaces = "DELETE FROM interfaces";
constexpr const char *kInsertInterface =
    "INSERT INTO interfaces(ifindex, name, attach) VALUES(?1, ?2, ?3)";
constexpr const char *kDeleteHistory = "DELETE FROM state_changes WHERE connection_id = ?1";
constexpr const char *kInsertChange =
    "INSERT INTO state_changes(connection_id, seq, ts_ns, from_state, to_state, ctx_pid,"
    " ctx_comm) VALUES(?1,?2,?3,?4,?5,?6,?7)";

using sqlite::stepDone;

void bindOptional(sqlite3_stmt *s, int col, qint64 value, qint64 unknown = -1)
{
    if (value == unknown)
        sqlite3_bind_null(s, col);
    else
        sqlite3_bind_int64(s, col, value);
}

QString addressText(int family, const std::array<quint8, 16> &addr)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf))
        return QString();
    return QString::fromLatin1(buf);
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
        {schema::kMetaPacketsCaptured,
         info.packetsCaptured ? QStringLiteral("1") : QStringLiteral("0")},
        {schema::kMetaCaptureFilter, info.captureFilter},
        {schema::kMetaPacketsReceived, QString::number(info.packetsReceived)},
        {schema::kMetaLostPackets, QString::number(info.lostPackets)},
        {schema::kMetaPacketsFiltered, QString::number(info.packetsFiltered)},
        {schema::kMetaKernelMetrics,
         info.kernelMetrics ? QStringLiteral("1") : QStringLiteral("0")},
        {schema::kMetaSampleIntervalUs, QString::number(info.sampleIntervalUs)},
        {schema::kMetaSamplesReceived, QString::number(info.samplesReceived)},
        {schema::kMetaKernelEventsReceived, QString::number(info.kernelEventsReceived)},
        {schema::kMetaDropsReceived, QString::number(info.dropsReceived)},
    };
    sqlite3_stmt *stmt = upsertMeta.get();
    for (const auto &[key, value] : rows) {
        sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
        sqlite::bindText(stmt, 2, value);
        if (!stepDone(db.get(), stmt, err))
            return false;
    }
    if (!stepDone(db.get(), deleteInterfaces.get(), err))
        return false;
    for (const InterfaceInfo &i : info.interfaces) {
        sqlite3_stmt *s = insertInterface.get();
        sqlite3_bind_int64(s, 1, i.ifindex);
        sqlite::bindText(s, 2, i.name);
        sqlite::bindText(s, 3, schema::attachName(i.attach));
        if (!stepDone(db.get(), s, err))
            return false;
    }
    return true;
}

bool SessionWriter::Private::writePackets(const QVector<Packet> &packets, QString *err)
{
    sqlite3_stmt *s = insertPacket.get();
    for (const Packet &p : packets) {
        sqlite3_bind_int64(s, 1, p.id);
        bindOptional(s, 2, p.connectionId, 0);
        sqlite3_bind_int64(s, 3, p.timeNs);
        sqlite3_bind_int64(s, 4, static_cast<sqlite3_int64>(p.sockId));
        sqlite::bindText(s, 5, schema::sockStateName(p.sockState));
        sqlite3_bind_int64(s, 6, p.ifindex);
        sqlite3_bind_text(s, 7, p.isOutgoing() ? "out" : "in", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 8, p.parseStatus);
        sqlite3_bind_int64(s, 9, p.family);
        sqlite::bindText(s, 10, addressText(p.family, p.srcAddr));
        sqlite3_bind_int64(s, 11, p.srcPort);
        sqlite::bindText(s, 12, addressText(p.family, p.dstAddr));
        sqlite3_bind_int64(s, 13, p.dstPort);
        sqlite3_bind_int64(s, 14, p.seq);
        sqlite3_bind_int64(s, 15, p.ack);
        sqlite3_bind_int64(s, 16, p.tcpFlags);
        sqlite3_bind_int64(s, 17, p.window);
        sqlite3_bind_int64(s, 18, p.urgPtr);
        sqlite3_bind_int64(s, 19, p.payloadLen);
        sqlite3_bind_int64(s, 20, p.skbLen);
        sqlite3_bind_int64(s, 21, p.gsoSegs);
        sqlite3_bind_int64(s, 22, p.gsoSize);
        sqlite3_bind_int64(s, 23, p.ttl);
        sqlite3_bind_int64(s, 24, p.tos);
        sqlite3_bind_int64(s, 25, p.vlanTci);
        sqlite3_bind_int64(s, 26, p.vlanDepth);
        sqlite3_bind_int64(s, 27, p.ipFrag);
        sqlite3_bind_int64(s, 28, p.ipId);
        sqlite3_bind_int64(s, 29, p.ipHdrLen);
        sqlite3_bind_int64(s, 30, p.tcpHdrLen);
        // Zero-length blobs stay blobs (not NULL): bind a valid pointer.
        static const char empty = 0;
        sqlite3_bind_blob(s, 31, p.options.isEmpty() ? &empty : p.options.constData(),
                          int(p.options.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(s, 32, p.payload.isEmpty() ? &empty : p.payload.constData(),
                          int(p.payload.size()), SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 33, p.analysis);
        sqlite3_bind_int64(s, 34, p.dupAckNum);
        sqlite3_bind_int64(s, 35, p.relSeq);
        sqlite3_bind_int64(s, 36, p.relAck);
        bindOptional(s, 37, p.bytesInFlight);
        bindOptional(s, 38, p.scaledWindow);
        bindOptional(s, 39, p.ackRttNs);
        if (!stepDone(db.get(), s, err))
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
    const PacketCounts &k = c.packets;
    sqlite3_bind_int64(s, 29, static_cast<sqlite3_int64>(k.packetsIn));
    sqlite3_bind_int64(s, 30, static_cast<sqlite3_int64>(k.packetsOut));
    sqlite3_bind_int64(s, 31, static_cast<sqlite3_int64>(k.payloadBytesIn));
    sqlite3_bind_int64(s, 32, static_cast<sqlite3_int64>(k.payloadBytesOut));
    sqlite3_bind_int64(s, 33, k.retransmissions);
    sqlite3_bind_int64(s, 34, k.fastRetransmissions);
    sqlite3_bind_int64(s, 35, k.spuriousRetransmissions);
    sqlite3_bind_int64(s, 36, k.dupAcks);
    sqlite3_bind_int64(s, 37, k.outOfOrder);
    sqlite3_bind_int64(s, 38, k.lostSegments);
    sqlite3_bind_int64(s, 39, k.zeroWindows);
    sqlite3_bind_int64(s, 40, k.zeroWindowProbes);
    sqlite3_bind_int64(s, 41, k.windowFull);
    sqlite3_bind_int64(s, 42, k.windowUpdates);
    sqlite3_bind_int64(s, 43, k.keepAlives);
    sqlite3_bind_int64(s, 44, k.resets);
    bindOptional(s, 45, k.irttNs);
    bindOptional(s, 46, k.mssLocal);
    bindOptional(s, 47, k.mssRemote);
    bindOptional(s, 48, k.wscaleLocal);
    bindOptional(s, 49, k.wscaleRemote);
    sqlite3_bind_int64(s, 50, k.sackPermitted ? 1 : 0);
    sqlite3_bind_int64(s, 51, k.timestamps ? 1 : 0);
    detail::KernelRowWriter::bindSummary(s, 52, c.kernel);
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
        else if (const auto *packets = std::get_if<QVector<Packet>>(&batch[i]))
            ok = writePackets(*packets, err);
        else if (const auto *kernel = std::get_if<KernelData>(&batch[i]))
            ok = kernelRows.write(*kernel, err);
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
    p.insertPacket = p.insertChange ? sqlite::prepare(db, kInsertPacket, &err) : nullptr;
    p.deleteInterfaces = p.insertPacket ? sqlite::prepare(db, kDeleteInterfaces, &err) : nullptr;
    p.insertInterface = p.deleteInterfaces ? sqlite::prepare(db, kInsertInterface, &err) : nullptr;
    if (!p.insertInterface || !p.kernelRows.prepare(db, &err))
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

void SessionWriter::writePackets(const QVector<Packet> &packets)
{
    if (!packets.isEmpty())
        d->enqueue(packets);
}

void SessionWriter::writeKernelData(const KernelData &data)
{
    if (!data.isEmpty())
        d->enqueue(data);
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
    d->insertPacket.reset();
    d->deleteInterfaces.reset();
    d->insertInterface.reset();
    d->kernelRows.reset();
    if (d->db) {
        // Leaving WAL needs the only connection to the file: while a reader (a Session of the
        // GUI, `tcpscope info`) has it open, the file stays in WAL mode with every batch
        // committed, which is as complete, just not yet one self-contained file.
        if (!sqlite::exec(d->db.get(),
                          "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;", &err)) {
            const int code = sqlite3_errcode(d->db.get()) & 0xff;
            if (code != SQLITE_BUSY && code != SQLITE_LOCKED && d->error.isEmpty())
                d->error = QStringLiteral("cannot finalize session file: ") + err;
        }
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
