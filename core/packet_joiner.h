// SPDX-License-Identifier: GPL-3.0-or-later
// Joins packet records (ts_packet) to the connections ConnectionTracker builds from lifecycle
// records, runs each connection's TcpAnalyzer and keeps Connection::packets up to date.
//
// Records reach it in timestamp order (core/pipeline/record_pipeline.h puts them back in order;
// a record later than the reorder window is processed in arrival order). A packet joins:
//   1. the connection its sock_id names (open, or recently closed), else
//   2. by its 4-tuple + family (local end = dst for In, src for Out), the connection instance
//      alive at the packet's time (tupleTargetAt): one socket lifetime. A tuple's connection is
//      alive while open and, once closed (or in TIME_WAIT), for closedJoinNs of trailing ACK,
//      FIN or RST, until a pure SYN on the tuple starts the next instance: from that SYN on,
//      the old connection takes no tuple joins (a late record stamped before the SYN still goes
//      to it). That first SYN is flagged AnalysisPortsReused, as Wireshark's "TCP port numbers
//      reused". Else
//   3. it is held, per 4-tuple, for holdNs of record time (count-capped): handshake packets of
//      an accepted socket (listener: sock_id 0; request socket: NEW_SYN_RECV) and packets that
//      overtook their socket's first state change. When a connection with that tuple appears,
//      or a later packet of the tuple joins, the held packets are delivered first, in order.
// A held group that expires becomes a connection of its own when one of its packets names an
// established-like socket (sock_state ESTABLISHED, FIN_WAIT*, CLOSE_WAIT, LAST_ACK, CLOSING,
// SYN_SENT): a connection that predates the capture (role unknown, pid 0, state from
// sock_state; later state changes of that socket continue it). Anything else (e.g. a RST
// answering a SYN to a closed port, TIME_WAIT leftovers) is emitted with connectionId 0.
// Packet ids are 1-based in timestamp order: takePackets() hands out only packets older than
// every packet still held (ties in arrival order), so a held handshake gets its place in time.
// Not thread-safe: owned by the ingest thread.
//
// When ConnectionTracker evicts a closed connection (after its grace period), forget() drops
// its analyzer and tuple entries. A packet that still names the evicted socket afterwards is
// late: it is emitted with connectionId 0 (stored, not analysed against the connection) and
// counted in packetsLate(); it never founds a connection of its own. A handshake packet (SYN
// flag, or a socket in SYN_SENT / SYN_RECV / NEW_SYN_RECV) is never late: a socket id can name
// a new socket (ids from pointers, request sockets), and that handshake belongs to the next
// instance on its tuple. A packet whose tuple was only known from an evicted connection is
// simply unjoined (or, a pure SYN, starts a new one).
#pragma once

#include "analysis/tcp_analyzer.h"
#include "connection_tracker.h"
#include "model/packet.h"
#include "pipeline/tuple_key.h"

#include <QHash>
#include <QVector>

#include <array>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tcpscope {

class PacketJoiner
{
public:
    struct Limits
    {
        qint64 holdNs = 2'000'000'000;        // record time a packet waits for its connection
        qsizetype maxHeld = 50'000;           // all tuples together; oldest groups give up first
        qsizetype maxHeldPerTuple = 4096;     // one tuple (a flood to a closed port)
        qint64 closedJoinNs = 60'000'000'000; // tuple join to a closed connection (TIME_WAIT)
    };

    explicit PacketJoiner(ConnectionTracker &tracker) : m_tracker(tracker) {}
    void setLimits(const Limits &limits) { m_limits = limits; }
    // Same offset as ConnectionTracker::setClockOffset (sets both).
    void setClockOffset(qint64 monoToWallNs);

    // Lifecycle records go through here so held packets are delivered when their connection
    // appears (forwarded to the tracker first).
    void onStateChange(const ts_state_change &rec);
    void onCloseStats(const ts_close_stats &rec);
    // One packet record; snap = payload snapshot bytes (ts_packet_snap), empty for ts_packet.
    void onPacket(const ts_packet &rec, std::span<const quint8> snap = {});
    void onInterface(const ts_interface &rec);
    // Record time has reached monoNs (e.g. from the helper's Stats): expire what waited too long.
    void advanceTo(quint64 monoNs);
    // End of capture: every held packet is decided now (joined, new connection or unjoined).
    void flushAll();

    // Packets decided since the previous call, in id order.
    QVector<Packet> takePackets();
    // Interfaces seen so far (ifindex order of first appearance); changed since last take.
    bool takeInterfacesChanged();
    const QVector<InterfaceInfo> &interfaces() const { return m_interfaces; }

    quint64 packetsEmitted() const { return quint64(m_nextPacketId - 1); }
    quint64 packetsUnjoined() const { return m_unjoined; }
    // Of packetsUnjoined: packets naming the socket of an evicted connection.
    quint64 packetsLate() const { return m_late; }
    qsizetype packetsHeld() const { return m_heldCount; }
    // Latest record time seen (monotonic ns), the clock eviction runs on.
    quint64 nowMonoNs() const { return m_nowMonoNs; }
    // Connections ConnectionTracker::evictClosed() returned: their analyzer and tuple entries go.
    void forget(const QVector<Connection> &evicted);
    qsizetype analyzersHeld() const { return qsizetype(m_analyzers.size()); }
    qsizetype tuplesHeld() const { return m_tuples.size(); }

    // ts_packet (+ snapshot) -> Packet with wall time; no id, connection or analysis yet.
    static Packet toPacket(const ts_packet &rec, qint64 monoToWallNs, std::span<const quint8> snap);

    // Shared with KernelJoiner (core/kernel_joiner.h), so both join by one tuple index and found
    // connections for sockets that predate the capture by one rule.
    // Key of a local/remote tuple (core/pipeline/tuple_key.h).
    static TupleKey tupleKey(const IpAddress &local, quint16 localPort, const IpAddress &remote,
                             quint16 remotePort);
    static TupleKey tupleKey(const ts_state_change &rec); // the socket's local/remote
    // The latest connection registered with that tuple (open or closed), 0 = none.
    qint64 idForTuple(const TupleKey &key) const { return m_tuples.value(key).id; }
    // The connection instance on that tuple alive at timeNs (see the class comment), 0 = none.
    // pureSyn: the record is a SYN without ACK, which never joins a closed or TIME_WAIT one.
    qint64 tupleTargetAt(const TupleKey &key, qint64 timeNs, bool pureSyn) const;
    // SYNs flagged AnalysisPortsReused (a new instance on a tuple used before).
    quint64 portsReused() const { return m_portsReused; }
    // Kernel TCP_* states of "a connection's own socket" (not listener, request or TIME_WAIT).
    static bool isConnectionSocketState(quint8 state);
    // A connection known only from its records (it predates the capture): role unknown, pid 0,
    // state from the kernel; registered under its socket id and tuple, so later state changes
    // continue it and held packets of the tuple join it now. Returns its id.
    struct PredatingSocket
    {
        quint64 sockId = 0;
        IpAddress local;
        quint16 localPort = 0;
        IpAddress remote;
        quint16 remotePort = 0;
        quint8 state = 0; // TCP_*
    };
    qint64 addPredating(const PredatingSocket &socket, qint64 startNs);

private:
    struct Held
    {
        quint64 firstMonoNs = 0;
        QVector<Packet> packets;
    };

    // One tuple's connection instances: the current one, and the one before it for records
    // stamped before the current instance began.
    struct TupleEntry
    {
        qint64 id = 0;
        qint64 prevId = 0;
        qint64 instanceStartNs = 0; // records older than this belong to prevId
        qint64 nextSynNs = -1;      // a pure SYN of the next instance was seen at this time
    };

    static TupleKey tupleKey(const Packet &p);
    qint64 joinTarget(const Packet &p) const;
    bool aliveAt(qint64 id, qint64 timeNs, bool pureSyn) const;
    bool lateForEvicted(const Packet &p) const;
    void noteSyn(Packet &p, qint64 target);
    qint64 heldWatermarkNs() const;
    void deliver(Packet &&p, qint64 connectionId);
    void drainHeld(const TupleKey &key, qint64 connectionId);
    void decideGroup(const TupleKey &key);
    void expire(bool all);
    void noteTime(quint64 monoNs);
    void registerTuple(const TupleKey &key, qint64 id);

    ConnectionTracker &m_tracker;
    Limits m_limits;
    qint64 m_offsetNs = 0;
    qint64 m_nextPacketId = 1;
    quint64 m_unjoined = 0;
    quint64 m_late = 0;
    quint64 m_nowMonoNs = 0;
    quint64 m_nextDeadline = ~quint64(0);
    QHash<TupleKey, TupleEntry> m_tuples;        // connection instances per local/remote tuple
    QHash<qint64, QVector<TupleKey>> m_keysById; // the tuples each held connection registered
    QHash<TupleKey, Held> m_held;
    qsizetype m_heldCount = 0;
    std::unordered_map<qint64, TcpAnalyzer> m_analyzers;
    QVector<Packet> m_out; // decided, no id yet (takePackets numbers them in time order)
    std::vector<std::pair<qint64, qsizetype>> m_order; // takePackets' (time, position) pairs
    quint64 m_portsReused = 0;
    QVector<InterfaceInfo> m_interfaces;
    bool m_interfacesChanged = false;
};

} // namespace tcpscope
