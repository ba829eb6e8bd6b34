// SPDX-License-Identifier: GPL-3.0-or-later
// Joins the kernel's view of connections (tcpinfo.bpf.c samples/events/drops, the helper's
// listener samples) to the connections ConnectionTracker builds, converts them to KernelData
// (wall time, reason names) and keeps Connection::kernel summaries up to date.
//
// These records come through their own ring buffer, so they can overtake the lifecycle record
// that creates their connection. A record joins:
//   sample          the connection its sock_id names, else its local/remote tuple.
//   event           sock_id, else the tuple as given, else (no socket: sock_id 0, e.g. a RST the
//                   stack sends for a packet without a socket) the swapped tuple, i.e. the peer
//                   on this host. A swapped join marks the event on that connection but does not
//                   count in its summary (its own RST received is counted from its own event).
//   SYN-ACK resend  sock_id names the LISTENER: only the request's tuple, to the accepted
//                   connection (never by swapped tuple: on loopback that is the client).
//   drop            sock_id when it names a connection (not a listener), else the packet's tuple
//                   to the connection whose local end is its destination (received), else its
//                   source (sent; also a SYN to a closed port: the refused client), else the
//                   listener its sock_id names (e.g. a listen-queue overflow).
//   listener        the listener connection its sock_id names, else the open listener on that
//                   family/port, else the port.
// Tuple joins follow PacketJoiner::tupleTargetAt: the connection instance alive at the record's
// time (a closed one for PacketJoiner's closedJoinNs of trailing records, until a SYN starts
// the next instance on the tuple; a pure SYN only while the connection was still open).
// A record that finds nothing waits, per tuple, for holdNs of record time (count-capped); when
// a lifecycle record registers a connection with that tuple (either orientation) the waiting
// records try again, in order. When the wait ends a sample or event of an established-like
// socket founds a connection that predates the capture (PacketJoiner::addPredating, the same
// rule as for packets), a listener sample founds a listener connection; anything else is
// emitted with connectionId 0. Not thread-safe: owned by the ingest thread.
// A record naming the socket of a connection ConnectionTracker has evicted is late: emitted at
// once with connectionId 0, counted in late(), never joined by tuple to a newer connection and
// never founding one. forget() drops what the joiner kept for evicted connections.
#pragma once

#include "connection_tracker.h"
#include "model/kernel.h"
#include "packet_joiner.h"

#include <QHash>
#include <QVector>

#include <array>
#include <variant>

namespace tcpscope {

class KernelJoiner
{
public:
    struct Limits
    {
        qint64 holdNs = 2'000'000'000;    // record time a record waits for its connection
        qsizetype maxHeld = 50'000;       // all tuples together; oldest groups give up first
        qsizetype maxHeldPerTuple = 4096; // one tuple (a SYN flood to a closed port)
    };

    KernelJoiner(ConnectionTracker &tracker, PacketJoiner &packets)
        : m_tracker(tracker), m_packets(packets)
    {
    }
    void setLimits(const Limits &limits) { m_limits = limits; }
    // wall ns = record monotonic ns + offset (the tracker's and packet joiner's offset).
    void setClockOffset(qint64 monoToWallNs) { m_offsetNs = monoToWallNs; }

    // Call after PacketJoiner::onStateChange for every lifecycle record: records waiting for
    // this socket's tuple (or, for a listener, its port) try again.
    void onStateChange(const ts_state_change &rec);
    void onSample(const ts_tcp_sample &rec);
    void onEvent(const ts_tcp_event &rec);
    void onDrop(const ts_drop &rec);
    void onListener(const ts_listener_sample &rec);
    void onReasonName(const ts_reason_name &rec);
    // Record time has reached monoNs (e.g. from the helper's Stats): expire what waited too long.
    void advanceTo(quint64 monoNs);
    // End of capture: every waiting record is decided now.
    void flushAll();

    // Records decided since the previous call, each vector sorted by time.
    KernelData takeData();

    // The name of a reason value (table = enum ts_reason_table); "reason N" when the helper
    // sent no name for it.
    QString reasonName(quint16 table, quint32 value) const;
    quint64 unjoined() const { return m_unjoined; }
    quint64 late() const { return m_late; } // of unjoined: naming an evicted connection's socket
    qsizetype held() const { return m_heldCount; }
    quint64 nowMonoNs() const { return m_nowMonoNs; }
    // Connections ConnectionTracker::evictClosed() returned: listener entries naming them go.
    void forget(const QVector<Connection> &evicted);
    qsizetype listenersHeld() const
    {
        return m_listenerByFamilyPort.size() + m_firstListenDrops.size();
    }

    // Conversions with wall time; connection and reason names are filled in by the joiner.
    static TcpSample toSample(const ts_tcp_sample &rec, qint64 monoToWallNs);
    static KernelEvent toEvent(const ts_tcp_event &rec, qint64 monoToWallNs);
    static DropEvent toDrop(const ts_drop &rec, qint64 monoToWallNs);
    static ListenerSample toListener(const ts_listener_sample &rec, qint64 monoToWallNs);

private:
    using Value = std::variant<TcpSample, KernelEvent, DropEvent, ListenerSample>;
    // One record with what its join needs. a/b = local/remote (sample, event), source/
    // destination (drop), bound address (listener, b unused).
    struct Item
    {
        Value value;
        quint64 monoNs = 0;
        quint64 sockId = 0;
        quint8 sockState = 0;
        IpAddress a;
        quint16 aPort = 0;
        IpAddress b;
        quint16 bPort = 0;
    };
    struct Target
    {
        qint64 id = 0;
        bool viaPeer = false; // joined by the swapped tuple: marker only, not counted
    };
    struct Held
    {
        quint64 firstMonoNs = 0;
        QVector<Item> items;
    };

    qint64 timeOf(const Item &item) const;
    Target target(const Item &item) const;
    qint64 byOwnSock(quint64 sockId) const;
    // localIsB: b is the local end (events: the swapped tuple; drops: the destination).
    qint64 byTuple(const Item &item, bool localIsB) const;
    qint64 listenerFor(const Item &item) const;
    TupleKey holdKey(const Item &item) const;
    void add(Item &&item);
    void deliver(Item &&item, const Target &target);
    void summarize(Connection &c, const Item &item, bool viaPeer);
    void retryGroup(const TupleKey &key);
    void decideGroup(const TupleKey &key);
    qint64 found(const Held &group);
    void expire(bool all);
    void noteTime(quint64 monoNs);

    ConnectionTracker &m_tracker;
    PacketJoiner &m_packets;
    Limits m_limits;
    qint64 m_offsetNs = 0;
    quint64 m_nowMonoNs = 0;
    quint64 m_nextDeadline = ~quint64(0);
    quint64 m_unjoined = 0;
    quint64 m_late = 0;
    QHash<TupleKey, Held> m_held;
    qsizetype m_heldCount = 0;
    QHash<quint32, qint64> m_listenerByFamilyPort; // family << 16 | port -> open listener id
    QHash<quint16, qint64> m_listenerByPort;
    QHash<qint64, quint64> m_firstListenDrops; // listener id -> sk_drops first seen
    QHash<quint32, QString> m_reasonNames[3];  // index = enum ts_reason_table
    KernelData m_out;
};

} // namespace tcpscope
