// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_writer.h"

#include "model/address.h"
#include "model/connection_columns.h"
#include "output_file.h"
#include "session/session_schema.h"
#include "session/session_writer_chunks.h"
#include "session/session_writer_kernel.h"
#include "session/sqlite_util.h"

#include <QHash>
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <thread>
#include <variant>

namespace tcpscope {

// Connections whose per-connection writer state may go (SessionWriter::forgetConnections).
struct Forget
{
    QVector<qint64> ids;
};

using Work = std::variant<SessionInfo, Connection, QVector<Packet>, KernelData, Forget,
                          QVector<Alert>, OwnerNames>;

// What the queue between the capture and the writer thread may hold: ~250 000 packets, over a
// second of the fastest capture this machine sustains (the writer takes the whole queue every
// batch; under unthrottled churn a batch holds 10-30 MB).
constexpr qint64 kQueueBudgetBytes = qint64(64) << 20;

// Held back on the session's file system for the final summary after the disk fills up: the
// summary is a few pages of meta rows and interruptions in the write-ahead log (measured: under
// 20 pages of 4 KiB); the rest is headroom.
constexpr qint64 kFinalReserveBytes = qint64(256) << 10;

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
    sqlite::Stmt insertAlert;               // prepared on the first alert
    sqlite::Stmt insertCgroup, insertNetns; // prepared on the first names
    detail::KernelRowWriter kernelRows;
    detail::ChunkWriter chunks; // format 4: packets and samples
    // State changes already in the file per connection: how many, and a hash over them. The
    // tracker only appends to a history, so an update inserts just the new changes instead of
    // deleting and rewriting all of them (a churning connection is upserted several times).
    struct WrittenHistory
    {
        qsizetype count = 0;
        size_t hash = 0;
    };
    QHash<qint64, WrittenHistory> histories;
    // Evicted connections whose chunk state could not go yet (records still buffered).
    QVector<qint64> forgetLater;
    qsizetype kept = 0; // connections kept for, after the last batch (under mutex)
    int major = schema::kMajor;
    SpaceReserve reserve; // released for the final summary when the disk is full
    // The newest summary that a failed or skipped batch held (writer thread): after the disk
    // filled up, the summary sent at stop may arrive in any batch, not only the final one.
    std::optional<SessionInfo> unwrittenInfo;

    // Bounded queue: packets and kernel records beyond the budget are left out and counted
    // (stored in meta), so a disk that cannot keep up never grows memory without bound.
    qint64 queuedBytes = 0;
    quint64 dropped = 0;        // records left out so far (under mutex)
    quint64 accepted = 0;       // records queued for writing (under mutex)
    quint64 droppedWritten = 0; // the value last stored in meta (writer thread)

    std::mutex mutex;
    std::condition_variable wake;      // writer thread: work arrived or stop requested
    std::condition_variable committed; // flush(): a batch finished
    std::deque<Work> queue;
    quint64 enqueued = 0;    // sequence number of the last queued item
    quint64 done = 0;        // sequence number of the last item committed (or failed)
    quint64 flushTicket = 0; // flush() requests: every buffered chunk written
    quint64 flushServed = 0;
    bool stopRequested = false;
    bool closed = false;
    QString error; // first write error, sticky
    std::thread thread;

    void run();
    // final: the last batch before close (every buffered chunk is written).
    bool writeBatch(std::deque<Work> &batch, bool final, QString *err);
    bool writeInfo(const SessionInfo &info, QString *err);
    bool writeInterruptions(const QVector<Interruption> &list, QString *err);
    bool writeKeptWindows(const QVector<KeptWindow> &list, QString *err);
    bool writeConnection(const Connection &conn, QString *err);
    bool writeHosts(const QVector<HostInfo> &hosts, QString *err);
    QVector<ConnectionColumn> columns; // those of the file, in order
    bool writePackets(const QVector<Packet> &packets, QString *err);
    bool writeAlerts(const QVector<Alert> &alerts, QString *err);
    bool writeOwnerNames(const OwnerNames &names, QString *err);
    void writeFinalInfo();
    void enqueue(Work work, qint64 bytes = 0, quint64 records = 0);
};

namespace {

constexpr const char *kUpsertMeta = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)";
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

// "INSERT OR REPLACE INTO connections(<every column>) VALUES(?1, ...)", in table order.
// The columns a file of this writer's format has (the row format 3 lacks those of 4.x).
QVector<ConnectionColumn> writtenColumns(int major)
{
    QVector<ConnectionColumn> out;
    for (const ConnectionColumn &col : connectionColumns())
        if (col.since <= (major >= 4 ? schema::kUserVersion : major))
            out.append(col);
    return out;
}

QByteArray upsertConnectionSql(int major)
{
    QByteArray names, binds;
    const QVector<ConnectionColumn> columns = writtenColumns(major);
    for (qsizetype i = 0; i < columns.size(); ++i) {
        names += (i ? ", " : "") + QByteArray(columns[i].name);
        binds += (i ? ",?" : "?") + QByteArray::number(i + 1);
    }
    return "INSERT OR REPLACE INTO connections(" + names + ") VALUES(" + binds + ")";
}

void bindValue(sqlite3_stmt *s, int col, const ColumnValue &v)
{
    if (v.kind == ColumnValue::Integer)
        sqlite3_bind_int64(s, col, v.integer);
    else if (v.kind == ColumnValue::Text)
        sqlite::bindText(s, col, v.text);
    else
        sqlite3_bind_null(s, col);
}

// A negative value where only -1 means unknown would be refused by the reader: unknown too.
void bindOptional(sqlite3_stmt *s, int col, qint64 value, qint64 unknown = -1)
{
    if (value == unknown || value < 0)
        sqlite3_bind_null(s, col);
    else
        sqlite3_bind_int64(s, col, value);
}

} // namespace

bool SessionWriter::Private::writeInfo(const SessionInfo &info, QString *err)
{
    QList<QPair<const char *, QString>> rows = {
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
        {schema::kMetaReaderDropped, QString::number(info.readerDropped)},
    };
    if (!info.remote.isEmpty())
        rows.append({schema::kMetaRemote, info.remote});
    if (info.alertsRecorded)
        rows.append({schema::kMetaAlertsRecorded, QStringLiteral("1")});
    if (!info.trigger.isEmpty()) {
        rows.append({schema::kMetaTrigger, info.trigger});
        rows.append({schema::kMetaTriggerPreNs, QString::number(info.triggerPreNs)});
        rows.append({schema::kMetaTriggerPostNs, QString::number(info.triggerPostNs)});
        rows.append({schema::kMetaTriggerRingBytes, QString::number(info.triggerRingBytes)});
        rows.append({schema::kMetaTriggerDiscarded, QString::number(info.triggerDiscarded)});
    }
    // Facts that may be unknown (-1) are left out rather than written as a value.
    for (const auto &[key, value] :
         {std::pair{schema::kMetaReorderWindowNs, info.reorderWindowNs},
          {schema::kMetaRecordsReordered, info.recordsReordered},
          {schema::kMetaMaxInversionNs, info.maxInversionNs},
          {schema::kMetaRecordsBeyondWindow, info.recordsBeyondWindow},
          {schema::kMetaMaxLateNs, info.maxLateNs},
          {schema::kMetaRecordsAfterEviction, info.recordsAfterEviction}})
        if (value >= 0)
            rows.append({key, QString::number(value)});
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
    return major < 4 || (writeInterruptions(info.interruptions, err) &&
                         writeKeptWindows(info.keptWindows, err) && writeHosts(info.hosts, err));
}

bool SessionWriter::Private::writeHosts(const QVector<HostInfo> &list, QString *err)
{
    if (!sqlite::exec(db.get(), "DELETE FROM hosts", err))
        return false;
    sqlite::Stmt insert = sqlite::prepare(
        db.get(),
        "INSERT INTO hosts(id, name, kernel, probes, source, clock_offset_ns, offset_error_ns,"
        " offset_method) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
        err);
    if (!insert)
        return false;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const HostInfo &h = list[i];
        sqlite3_stmt *s = insert.get();
        sqlite3_bind_int64(s, 1, i); // ids are positions: 0, 1, 2 ...
        sqlite::bindText(s, 2, h.name);
        sqlite::bindText(s, 3, h.kernel);
        sqlite::bindText(s, 4, h.probes.join(QLatin1Char('\n')));
        sqlite::bindText(s, 5, h.source);
        sqlite3_bind_int64(s, 6, h.clockOffsetNs);
        sqlite3_bind_int64(s, 7, std::max<qint64>(h.offsetErrorNs, -1));
        sqlite::bindText(s, 8, offsetMethodName(h.offsetMethod));
        if (!stepDone(db.get(), s, err))
            return false;
    }
    return true;
}

bool SessionWriter::Private::writeKeptWindows(const QVector<KeptWindow> &list, QString *err)
{
    if (!sqlite::exec(db.get(), "DELETE FROM kept_windows", err))
        return false;
    sqlite::Stmt insert = sqlite::prepare(
        db.get(), "INSERT INTO kept_windows(start_ns, end_ns, triggers) VALUES(?1,?2,?3)", err);
    if (!insert)
        return false;
    for (const KeptWindow &w : list) {
        sqlite3_bind_int64(insert.get(), 1, w.startNs);
        sqlite3_bind_int64(insert.get(), 2, w.endNs);
        sqlite::bindText(insert.get(), 3, w.triggers.join(QLatin1Char('\n')));
        if (!stepDone(db.get(), insert.get(), err))
            return false;
    }
    return true;
}

bool SessionWriter::Private::writeInterruptions(const QVector<Interruption> &list, QString *err)
{
    // A handful of rows, rewritten with the meta rows: the last one may still be growing.
    if (!sqlite::exec(db.get(), "DELETE FROM interruptions", err))
        return false;
    const sqlite::Stmt insert = sqlite::prepare(
        db.get(),
        "INSERT INTO interruptions(start_ns, end_ns, records_lost, reason) VALUES(?1,?2,?3,?4)",
        err);
    if (!insert)
        return false;
    for (const Interruption &i : list) {
        sqlite3_stmt *s = insert.get();
        sqlite3_bind_int64(s, 1, std::max<qint64>(i.startNs, 0));
        bindOptional(s, 2, i.endNs, 0);
        bindOptional(s, 3, i.recordsLost);
        sqlite::bindText(s, 4, i.reason);
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
        sqlite3_bind_int64(s, 9, qint64(p.family()));
        sqlite::bindText(s, 10, p.srcAddr.toString());
        sqlite3_bind_int64(s, 11, p.srcPort);
        sqlite::bindText(s, 12, p.dstAddr.toString());
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
    if (columns.isEmpty())
        columns = writtenColumns(major);
    if (major >= 4) {
        // The packet totals of what is in the file (see ChunkWriter::rowCounts).
        Connection row = c;
        row.packets = chunks.rowCounts(c.id, c.packets);
        for (qsizetype i = 0; i < columns.size(); ++i)
            bindValue(s, int(i + 1), columns[i].value(row));
    } else {
        for (qsizetype i = 0; i < columns.size(); ++i)
            bindValue(s, int(i + 1), columns[i].value(c));
    }
    if (!stepDone(db.get(), s, err))
        return false;

    // Which changes the file lacks: those after the ones written, if those are still the
    // connection's first ones (otherwise, and for a connection new to this file, all of them).
    WrittenHistory &written = histories[c.id];
    qsizetype from = 0;
    size_t hash = 0;
    for (qsizetype i = 0; i < c.history.size(); ++i) {
        const StateChange &sc = c.history[i];
        hash = qHashMulti(hash, sc.timeNs, int(sc.from), int(sc.to), sc.ctxPid, sc.ctxComm);
        if (i + 1 == written.count && hash == written.hash)
            from = written.count;
    }
    if (from == 0 && written.count > 0) {
        sqlite3_bind_int64(deleteHistory.get(), 1, c.id);
        if (!stepDone(db.get(), deleteHistory.get(), err))
            return false;
    }
    written = WrittenHistory{c.history.size(), hash};
    sqlite3_stmt *h = insertChange.get();
    for (qsizetype i = from; i < c.history.size(); ++i) {
        const StateChange &sc = c.history[i];
        sqlite3_bind_int64(h, 1, c.id);
        sqlite3_bind_int64(h, 2, i);
        sqlite3_bind_int64(h, 3, sc.timeNs);
        sqlite3_bind_text(h, 4, tcpStateNameAscii(sc.from), -1, SQLITE_STATIC);
        sqlite3_bind_text(h, 5, tcpStateNameAscii(sc.to), -1, SQLITE_STATIC);
        sqlite3_bind_int64(h, 6, sc.ctxPid);
        sqlite::bindText(h, 7, sc.ctxComm);
        if (!stepDone(db.get(), h, err))
            return false;
    }
    return true;
}

bool SessionWriter::Private::writeAlerts(const QVector<Alert> &alerts, QString *err)
{
    if (!insertAlert) {
        insertAlert = sqlite::prepare(
            db.get(),
            "INSERT INTO alerts(time_ns, kind, custom, severity, subject, summary, remote,"
            " connections, packets, suppressed) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            err);
        if (!insertAlert)
            return false;
    }
    auto ids = [](const QVector<qint64> &list) {
        QStringList out;
        out.reserve(list.size());
        for (qint64 id : list)
            out.append(QString::number(id));
        return out.join(QLatin1Char(' '));
    };
    sqlite3_stmt *s = insertAlert.get();
    for (const Alert &a : alerts) {
        sqlite3_bind_int64(s, 1, a.timeNs);
        sqlite::bindText(s, 2, a.kind);
        sqlite3_bind_int(s, 3, a.custom ? 1 : 0);
        sqlite::bindText(s, 4, alertSeverityName(a.severity));
        sqlite::bindText(s, 5, a.subject);
        sqlite::bindText(s, 6, a.summary);
        if (a.remote.isEmpty())
            sqlite3_bind_null(s, 7);
        else
            sqlite::bindText(s, 7, a.remote);
        sqlite::bindText(s, 8, ids(a.connections));
        sqlite::bindText(s, 9, ids(a.packets));
        sqlite3_bind_int64(s, 10, qint64(std::min<quint64>(a.suppressed, INT64_MAX)));
        if (!stepDone(db.get(), s, err))
            return false;
    }
    return true;
}

bool SessionWriter::Private::writeOwnerNames(const OwnerNames &names, QString *err)
{
    if (!insertCgroup) {
        insertCgroup = sqlite::prepare(
            db.get(), "INSERT OR REPLACE INTO cgroups(id, path) VALUES(?1,?2)", err);
        insertNetns = insertCgroup ? sqlite::prepare(db.get(),
                                                     "INSERT OR REPLACE INTO netns_names(inode, "
                                                     "name) VALUES(?1,?2)",
                                                     err)
                                   : nullptr;
        if (!insertNetns)
            return false;
    }
    auto put = [&](sqlite3_stmt *s, const QHash<quint64, QString> &map) {
        for (auto it = map.cbegin(); it != map.cend(); ++it) {
            sqlite3_bind_int64(s, 1, qint64(it.key())); // cgroup ids: stored bit-for-bit
            sqlite::bindText(s, 2, it.value());
            if (!stepDone(db.get(), s, err))
                return false;
        }
        return true;
    };
    return put(insertCgroup.get(), names.cgroupPaths) && put(insertNetns.get(), names.netnsNames);
}

bool SessionWriter::Private::writeBatch(std::deque<Work> &batch, bool final, QString *err)
{
    // A busy connection is updated many times per batch; only its last version matters.
    QHash<qint64, std::size_t> lastIndex;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (const auto *conn = std::get_if<Connection>(&batch[i]))
            lastIndex.insert(conn->id, i);
    }
    const bool chunked = major >= 4;
    // Format 4: the connections whose row this batch writes, after the chunks (below).
    std::vector<const Connection *> rows;
    auto rollback = [this] {
        sqlite::exec(db.get(), "ROLLBACK", nullptr);
        // Which state changes are in the file is no longer known: rewrite each next time.
        for (WrittenHistory &w : histories)
            w.count = -1;
    };
    if (!sqlite::exec(db.get(), "BEGIN IMMEDIATE", err))
        return false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        bool ok = true;
        if (const auto *info = std::get_if<SessionInfo>(&batch[i])) {
            chunks.setKernelMetrics(info->kernelMetrics);
            ok = writeInfo(*info, err);
        } else if (auto *packets = std::get_if<QVector<Packet>>(&batch[i])) {
            if (chunked) {
                chunks.addPackets(std::move(*packets));
                // The batch's copy goes as its packets are buffered, and a batch of a long
                // backlog is written as it goes: memory holds one copy of a bounded number.
                *packets = {};
                if (chunks.overBudget())
                    ok = chunks.flushChunks(false, err);
            } else {
                ok = writePackets(*packets, err);
            }
        } else if (const auto *kernel = std::get_if<KernelData>(&batch[i])) {
            if (chunked)
                chunks.noteKernel(*kernel);
            ok = kernelRows.write(*kernel, err);
        } else if (const auto *alerts = std::get_if<QVector<Alert>>(&batch[i])) {
            ok = major < 4 || writeAlerts(*alerts, err);
        } else if (const auto *names = std::get_if<OwnerNames>(&batch[i])) {
            ok = major < 4 || writeOwnerNames(*names, err);
        } else if (const auto *forget = std::get_if<Forget>(&batch[i])) {
            forgetLater += forget->ids;
        } else if (const auto *conn = std::get_if<Connection>(&batch[i])) {
            if (chunked)
                chunks.noteConnection(*conn);
            if (lastIndex.value(conn->id) == i) {
                if (chunked)
                    rows.push_back(conn);
                else
                    ok = writeConnection(*conn, err);
            }
        }
        if (!ok) {
            rollback();
            return false;
        }
    }
    quint64 droppedNow = 0;
    {
        std::lock_guard lock(mutex);
        droppedNow = dropped;
    }
    // Chunks first, then the rows: a row written after its connection's chunks carries their
    // totals already, so only the rows of connections that did not change in this batch need
    // the separate totals update (under churn that update was a quarter of the writer's time).
    bool ok = !chunked || chunks.flushChunks(final, err);
    for (const Connection *conn : rows) {
        if (!ok)
            break;
        ok = writeConnection(*conn, err);
        chunks.totalsWritten(conn->id);
    }
    ok = ok && (!chunked || chunks.writeTotals(err));
    if (ok && droppedNow != droppedWritten) {
        sqlite3_stmt *s = upsertMeta.get();
        sqlite3_bind_text(s, 1, schema::kMetaWriterDropped, -1, SQLITE_STATIC);
        sqlite::bindText(s, 2, QString::number(droppedNow));
        ok = stepDone(db.get(), s, err);
        droppedWritten = droppedNow;
    }
    if (!ok || !sqlite::exec(db.get(), "COMMIT", err)) {
        rollback();
        return false;
    }
    // Their final rows are in the file now: what was kept to write them again can go.
    QVector<qint64> waiting;
    for (qint64 id : std::as_const(forgetLater)) {
        histories.remove(id);
        if (chunked && !chunks.forget(id))
            waiting.push_back(id);
    }
    forgetLater.swap(waiting);
    const qsizetype keptNow = std::max(histories.size(), chunks.connectionsKept());
    std::lock_guard lock(mutex);
    kept = keptNow;
    return true;
}

void SessionWriter::Private::run()
{
    std::unique_lock lock(mutex);
    for (;;) {
        // Buffered chunks become due with time, not only with new work: wake up for them.
        wake.wait_for(lock, detail::ChunkWriter::kMaxAge / 2, [this] {
            return stopRequested || !queue.empty() || flushTicket != flushServed;
        });
        const bool final = stopRequested;
        const quint64 ticket = flushTicket;
        std::deque<Work> batch;
        batch.swap(queue);
        queuedBytes = 0;
        const quint64 batchEnd = enqueued;
        lock.unlock();
        QString err;
        // After a failed batch (disk full) nothing more is written: the file stays as it was
        // at the last commit, consistent, instead of gaining batches with gaps between them.
        lock.lock();
        const bool failedBefore = !error.isEmpty();
        lock.unlock();
        const bool ok = failedBefore || writeBatch(batch, final || ticket != flushServed, &err);
        const bool written = ok && !failedBefore;
        if (!written) {
            for (const Work &w : batch) {
                if (const auto *info = std::get_if<SessionInfo>(&w))
                    unwrittenInfo = *info;
            }
        }
        // The final summary is tried once more when any batch failed, this last one included.
        if (final && !written)
            writeFinalInfo();
        lock.lock();
        if (!ok && error.isEmpty())
            error = QStringLiteral("cannot write session: ") + err;
        done = batchEnd;
        flushServed = ticket;
        committed.notify_all();
        if (final)
            return;
    }
}

// After a failed batch (the disk is full) the file keeps what was committed before it. The
// last thing tried is the capture's final summary: when it stopped, why, and how many records
// the file lacks. That is a few pages, written into the space held back for it since the file
// was created; if even that is not enough, the file simply stays as it was.
void SessionWriter::Private::writeFinalInfo()
{
    reserve.release();
    if (!unwrittenInfo || major < 4)
        return;
    SessionInfo info = *unwrittenInfo;
    // Records handed to the writer and not in the file: every record type is counted where it
    // is stored.
    qint64 stored = 0;
    QString err;
    if (!sqlite::queryInt(db.get(),
                          "SELECT (SELECT coalesce(sum(count), 0) FROM packet_chunks)"
                          " + (SELECT coalesce(sum(count), 0) FROM sample_chunks)"
                          " + (SELECT count(*) FROM kernel_events) + (SELECT count(*) FROM drops)"
                          " + (SELECT count(*) FROM listener_samples)",
                          &stored, &err))
        return;
    quint64 notWritten = 0;
    {
        std::lock_guard lock(mutex);
        notWritten = accepted > quint64(stored) ? accepted - quint64(stored) : 0;
        dropped += notWritten;
        info.writerDropped = dropped;
    }
    for (Interruption &i : info.interruptions) {
        if (i.endNs == 0 && i.recordsLost < 0)
            i.recordsLost = qint64(notWritten);
    }
    if (!sqlite::exec(db.get(), "BEGIN IMMEDIATE", &err))
        return;
    bool ok = writeInfo(info, &err);
    if (ok) {
        sqlite3_stmt *s = upsertMeta.get();
        sqlite3_bind_text(s, 1, schema::kMetaWriterDropped, -1, SQLITE_STATIC);
        sqlite::bindText(s, 2, QString::number(info.writerDropped));
        ok = stepDone(db.get(), s, &err);
    }
    if (!ok || !sqlite::exec(db.get(), "COMMIT", &err))
        sqlite::exec(db.get(), "ROLLBACK", nullptr);
}

void SessionWriter::Private::enqueue(Work work, qint64 bytes, quint64 records)
{
    {
        std::lock_guard lock(mutex);
        if (closed)
            return;
        if (records > 0 && queuedBytes + bytes > kQueueBudgetBytes) {
            dropped += records;
            return;
        }
        queuedBytes += bytes;
        accepted += records;
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

std::unique_ptr<SessionWriter> SessionWriter::create(const QString &path, QString *error,
                                                     int formatMajor)
{
    QString err;
    auto fail = [&](const QString &what) {
        if (error)
            *error = what + err;
        return nullptr;
    };
    // Created here as a new regular file (never through a symlink, never over a device), then
    // opened by SQLite without following symlinks.
    if (!createSessionFile(path, &err))
        return fail(QStringLiteral("cannot create session file: "));
    std::unique_ptr<SessionWriter> writer(new SessionWriter);
    Private &p = *writer->d;
    p.reserve = SpaceReserve(path, kFinalReserveBytes);
    p.major = formatMajor == schema::kRowFormat ? schema::kRowFormat : schema::kMajor;
    // NOMUTEX: the connection is used by one thread at a time (set up here, then only the
    // writer thread, then close() after joining it); SQLite's own mutexes would only cost.
    p.db = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
                        &err);
    if (!p.db)
        return fail(QStringLiteral("cannot create session file: "));
    sqlite3 *db = p.db.get();
    const QByteArray pragmas = QByteArrayLiteral("PRAGMA application_id = ") +
                               QByteArray::number(schema::kApplicationId) +
                               "; PRAGMA user_version = " +
                               QByteArray::number(p.major >= 4 ? schema::kUserVersion : p.major) +
                               "; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                               // A batch under connection churn touches more pages than the
                               // default 2 MiB cache holds (connection rows, their state
                               // changes, chunks, indexes): SQLite then spilled pages into the
                               // log mid-transaction and read evicted ones back (measured: a
                               // sixth of the writer thread). The reader uses 16 MiB too.
                               " PRAGMA cache_size = -16384;";
    if (!sqlite::exec(db, pragmas.constData(), &err))
        return fail(QStringLiteral("cannot initialise session file: "));
    const QByteArray create = QByteArrayLiteral("BEGIN; ") + schema::createSql(p.major) + "COMMIT;";
    if (!sqlite::exec(db, create.constData(), &err))
        return fail(QStringLiteral("cannot create session schema: "));
    p.upsertMeta = sqlite::prepare(db, kUpsertMeta, &err);
    p.upsertConnection = p.upsertMeta
                             ? sqlite::prepare(db, upsertConnectionSql(p.major).constData(), &err)
                             : nullptr;
    p.deleteHistory = p.upsertConnection ? sqlite::prepare(db, kDeleteHistory, &err) : nullptr;
    p.insertChange = p.deleteHistory ? sqlite::prepare(db, kInsertChange, &err) : nullptr;
    const bool rows = p.major < 4;
    p.insertPacket = p.insertChange && rows ? sqlite::prepare(db, kInsertPacket, &err) : nullptr;
    p.deleteInterfaces = p.insertChange && (p.insertPacket || !rows)
                             ? sqlite::prepare(db, kDeleteInterfaces, &err)
                             : nullptr;
    p.insertInterface = p.deleteInterfaces ? sqlite::prepare(db, kInsertInterface, &err) : nullptr;
    if (!p.insertInterface || !p.kernelRows.prepare(db, rows, &err) ||
        (!rows && !p.chunks.prepare(db, &err)))
        return fail(QStringLiteral("cannot prepare session statements: "));
    p.thread = std::thread([&p] {
        // Named for profilers and top -H: the thread that encodes, compresses and commits.
        pthread_setname_np(pthread_self(), "tcpscope-writer");
        p.run();
    });
    return writer;
}

void SessionWriter::setInfo(const SessionInfo &info)
{
    // The writer's copy gets lists of its own. A capture keeps its SessionInfo and edits the
    // interruptions in place (a stall grows while it lasts); Qt decides whether such an edit
    // may write into storage shared with this copy by a relaxed load of the reference count,
    // which does not order it after the writer thread's last read of that storage.
    SessionInfo own = info;
    own.interruptions.detach();
    d->enqueue(std::move(own));
}

void SessionWriter::writeConnection(const Connection &conn)
{
    d->enqueue(conn);
}

void SessionWriter::writePackets(QVector<Packet> packets)
{
    if (packets.isEmpty())
        return;
    qint64 bytes = 0;
    for (const Packet &p : packets)
        bytes += p.memoryBytes();
    const auto count = quint64(packets.size());
    d->enqueue(std::move(packets), bytes, count);
}

void SessionWriter::writeKernelData(const KernelData &data)
{
    if (data.isEmpty())
        return;
    const qint64 bytes = data.samples.size() * qint64(sizeof(TcpSample)) +
                         data.events.size() * qint64(sizeof(KernelEvent) + 32) +
                         data.drops.size() * qint64(sizeof(DropEvent) + 64) +
                         data.listeners.size() * qint64(sizeof(ListenerSample) + 32);
    d->enqueue(data, bytes,
               quint64(data.samples.size() + data.events.size() + data.drops.size() +
                       data.listeners.size()));
}

void SessionWriter::writeAlerts(const QVector<Alert> &alerts)
{
    if (!alerts.isEmpty())
        d->enqueue(alerts);
}

void SessionWriter::writeOwnerNames(const OwnerNames &names)
{
    if (!names.isEmpty())
        d->enqueue(names);
}

void SessionWriter::forgetConnections(const QVector<qint64> &ids)
{
    if (!ids.isEmpty())
        d->enqueue(Forget{ids});
}

qsizetype SessionWriter::connectionsKept()
{
    std::lock_guard lock(d->mutex);
    return d->kept;
}

QString SessionWriter::writeError()
{
    std::lock_guard lock(d->mutex);
    return d->error;
}

void SessionWriter::waitForRoom(qint64 maxQueuedBytes)
{
    std::unique_lock lock(d->mutex);
    d->committed.wait(lock, [&] {
        return d->queuedBytes <= maxQueuedBytes || d->closed || !d->error.isEmpty() ||
               !d->thread.joinable();
    });
}

bool SessionWriter::flush(QString *error)
{
    std::unique_lock lock(d->mutex);
    if (!d->closed) {
        const quint64 ticket = ++d->flushTicket;
        d->wake.notify_one();
        d->committed.wait(lock, [&] { return d->flushServed >= ticket || !d->thread.joinable(); });
    }
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
    d->chunks.reset();
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
