// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_writer_kernel.h"

#include "model/connection.h"
#include "session/session_schema.h"

namespace tcpscope::detail {

namespace {

constexpr const char *kInsertSample =
    "INSERT INTO tcp_samples(connection_id, ts_ns, fields, srtt_us, rttvar_us, min_rtt_us, cwnd,"
    " ssthresh, snd_wnd, rcv_wnd, packets_out, retrans_out, lost_out, sacked_out, in_flight, mss,"
    " total_retrans, bytes_acked, bytes_received, delivery_rate, ca_state)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)";
constexpr const char *kInsertEvent =
    "INSERT INTO kernel_events(connection_id, ts_ns, kind, state, seq, segs, err, tcp_flags,"
    " reason, reason_name, old_ca_state, new_ca_state, srtt_us, cwnd)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)";
constexpr const char *kInsertDrop =
    "INSERT INTO drops(connection_id, ts_ns, reason, reason_name, location, ifindex, family,"
    " src_addr, src_port, dst_addr, dst_port, tcp_flags, sock_state, seq, ack, payload_len)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)";
constexpr const char *kInsertListener =
    "INSERT INTO listener_samples(connection_id, ts_ns, sock_id, family, addr, port, backlog,"
    " max_backlog, drops) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)";

// connection_id: 0 = not joined, stored as NULL so sqlite3 users can say IS NULL.
void bindConnection(sqlite3_stmt *s, int col, qint64 id)
{
    if (id == 0)
        sqlite3_bind_null(s, col);
    else
        sqlite3_bind_int64(s, col, id);
}

void bindCaState(sqlite3_stmt *s, int col, quint8 ca)
{
    sqlite::bindText(s, col, caStateName(ca));
}

// u64 kernel values are stored bit-for-bit in SQLite's signed 64-bit integers.
void bindU64(sqlite3_stmt *s, int col, quint64 v)
{
    sqlite3_bind_int64(s, col, static_cast<sqlite3_int64>(v));
}

} // namespace

bool KernelRowWriter::prepare(sqlite3 *db, bool sampleRows, QString *err)
{
    m_db = db;
    m_sampleRows = sampleRows;
    m_sample = sampleRows ? sqlite::prepare(db, kInsertSample, err) : nullptr;
    m_event = m_sample || !sampleRows ? sqlite::prepare(db, kInsertEvent, err) : nullptr;
    m_drop = m_event ? sqlite::prepare(db, kInsertDrop, err) : nullptr;
    m_listener = m_drop ? sqlite::prepare(db, kInsertListener, err) : nullptr;
    return bool(m_listener);
}

void KernelRowWriter::reset()
{
    m_sample.reset();
    m_event.reset();
    m_drop.reset();
    m_listener.reset();
}

bool KernelRowWriter::write(const KernelData &data, QString *err)
{
    return (!m_sampleRows || writeSamples(data.samples, err)) && writeEvents(data.events, err) &&
           writeDrops(data.drops, err) && writeListeners(data.listeners, err);
}

bool KernelRowWriter::writeSamples(const QVector<TcpSample> &samples, QString *err)
{
    sqlite3_stmt *s = m_sample.get();
    for (const TcpSample &t : samples) {
        bindConnection(s, 1, t.connectionId);
        sqlite3_bind_int64(s, 2, t.timeNs);
        sqlite3_bind_int64(s, 3, t.fields);
        sqlite3_bind_int64(s, 4, t.srttUs);
        sqlite3_bind_int64(s, 5, t.rttvarUs);
        sqlite3_bind_int64(s, 6, t.minRttUs);
        sqlite3_bind_int64(s, 7, t.cwnd);
        sqlite3_bind_int64(s, 8, t.ssthresh);
        sqlite3_bind_int64(s, 9, t.sndWnd);
        sqlite3_bind_int64(s, 10, t.rcvWnd);
        sqlite3_bind_int64(s, 11, t.packetsOut);
        sqlite3_bind_int64(s, 12, t.retransOut);
        sqlite3_bind_int64(s, 13, t.lostOut);
        sqlite3_bind_int64(s, 14, t.sackedOut);
        sqlite3_bind_int64(s, 15, t.inFlight);
        sqlite3_bind_int64(s, 16, t.mss);
        sqlite3_bind_int64(s, 17, t.totalRetrans);
        bindU64(s, 18, t.bytesAcked);
        bindU64(s, 19, t.bytesReceived);
        bindU64(s, 20, t.deliveryRate);
        bindCaState(s, 21, t.caState);
        if (!sqlite::stepDone(m_db, s, err))
            return false;
    }
    return true;
}

bool KernelRowWriter::writeEvents(const QVector<KernelEvent> &events, QString *err)
{
    sqlite3_stmt *s = m_event.get();
    for (const KernelEvent &e : events) {
        bindConnection(s, 1, e.connectionId);
        sqlite3_bind_int64(s, 2, e.timeNs);
        sqlite::bindText(s, 3, kernelEventKindName(e.kind));
        sqlite::bindText(s, 4, schema::sockStateName(e.state));
        sqlite3_bind_int64(s, 5, e.seq);
        sqlite3_bind_int64(s, 6, e.segs);
        sqlite3_bind_int64(s, 7, e.err);
        sqlite3_bind_int64(s, 8, e.tcpFlags);
        if (e.reason == 0xffffffffu) // TS_REASON_NONE: the kernel gave no reason
            sqlite3_bind_null(s, 9);
        else
            sqlite3_bind_int64(s, 9, e.reason);
        sqlite::bindText(s, 10, e.reasonName);
        if (e.kind == KernelEventKind::CongestionState) {
            bindCaState(s, 11, e.oldCaState);
            bindCaState(s, 12, e.newCaState);
        } else {
            sqlite3_bind_null(s, 11);
            sqlite3_bind_null(s, 12);
        }
        sqlite3_bind_int64(s, 13, e.srttUs);
        sqlite3_bind_int64(s, 14, e.cwnd);
        if (!sqlite::stepDone(m_db, s, err))
            return false;
    }
    return true;
}

bool KernelRowWriter::writeDrops(const QVector<DropEvent> &drops, QString *err)
{
    sqlite3_stmt *s = m_drop.get();
    for (const DropEvent &d : drops) {
        bindConnection(s, 1, d.connectionId);
        sqlite3_bind_int64(s, 2, d.timeNs);
        sqlite3_bind_int64(s, 3, d.reason);
        sqlite::bindText(s, 4, d.reasonName);
        bindU64(s, 5, d.location);
        sqlite3_bind_int64(s, 6, d.ifindex);
        sqlite3_bind_int64(s, 7, qint64(d.srcAddr.family()));
        sqlite::bindText(s, 8, d.srcAddr.toString());
        sqlite3_bind_int64(s, 9, d.srcPort);
        sqlite::bindText(s, 10, d.dstAddr.toString());
        sqlite3_bind_int64(s, 11, d.dstPort);
        sqlite3_bind_int64(s, 12, d.tcpFlags);
        sqlite::bindText(s, 13, schema::sockStateName(d.sockState));
        sqlite3_bind_int64(s, 14, d.seq);
        sqlite3_bind_int64(s, 15, d.ack);
        sqlite3_bind_int64(s, 16, d.payloadLen);
        if (!sqlite::stepDone(m_db, s, err))
            return false;
    }
    return true;
}

bool KernelRowWriter::writeListeners(const QVector<ListenerSample> &listeners, QString *err)
{
    sqlite3_stmt *s = m_listener.get();
    for (const ListenerSample &l : listeners) {
        bindConnection(s, 1, l.connectionId);
        sqlite3_bind_int64(s, 2, l.timeNs);
        bindU64(s, 3, l.sockId);
        sqlite3_bind_int64(s, 4, qint64(l.addr.family()));
        sqlite::bindText(s, 5, l.addr.toString());
        sqlite3_bind_int64(s, 6, l.port);
        sqlite3_bind_int64(s, 7, l.backlog);
        sqlite3_bind_int64(s, 8, l.maxBacklog);
        bindU64(s, 9, l.drops);
        if (!sqlite::stepDone(m_db, s, err))
            return false;
    }
    return true;
}

} // namespace tcpscope::detail
