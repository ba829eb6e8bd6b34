// SPDX-License-Identifier: GPL-3.0-or-later
// Display filters: one expression language for packets and connections, with Wireshark's field
// names and operators where Wireshark has the field (ip.addr == 10.0.0.0/8 && tcp.port == 443,
// tcp.analysis.retransmission) and tcpscope's own fields for what the kernel knows
// (proc.name == "nginx", kernel.srtt > 10ms, drop.reason == "NO_SOCKET"). The language, every
// field and the semantics are documented in docs/FILTERS.md.
//
// Compile once (DisplayFilter::compile), then evaluate per packet or connection: evaluation
// switches on precompiled field ids and compares numbers or bytes; no string lookups. What a
// filter reads besides the packet or connection itself (the packet's connection, kernel drops
// and RSTs, interface names, the time origin) comes from a FilterContext built once
// (filterContextForSession builds exactly what a filter needs from a Session).
//
// QtCore only: the GUI validates as the user types with DisplayFilter::check and completes
// field names from filter::fields() (core/filter/fields.h).
#pragma once

#include "analysis/peer_transit.h"
#include "model/cgroup.h"
#include "model/connection.h"
#include "model/connection_columns.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace tcpscope {

class Session;

namespace filter {
struct Program;
}

// What a filter selects. A packet filter may use every field (connection fields test the
// packet's connection); a connection filter only the fields that describe a connection: a
// packet field there is a compile error (see docs/FILTERS.md).
enum class FilterTarget : quint8
{
    Packets,
    Connections,
};

struct FilterError
{
    int column = 0;  // 1-based; the expression's length + 1 when the error is at its end
    int length = 0;  // characters the error covers (0 at the end)
    QString message; // one line naming the column: "unknown field 'tcp.prot' at 1; did you
                     // mean tcp.port?"
};

// What evaluation reads besides the packet or connection. Fill only what the filter needs
// (DisplayFilter::needs*); filterContextForSession does that from a Session.
class FilterContext
{
public:
    // frame.time_relative counts from here (wall ns): the first packet of the session's
    // whole-session pcapng export, so the values are those tshark shows for that file.
    qint64 originNs = 0;
    // Where conn.duration of a connection still open ends (wall ns; 0: open ones have none).
    qint64 sessionEndNs = 0;
    // host.name of every connection of a one-host session: the machine it was captured on
    // ("": unknown). A session of several hosts names each connection's by setHosts().
    QString hostName;
    // The session's hosts (Session::hosts): host.name is then the name of the connection's
    // host (Connection::hostId), of host 0 for records without a connection.
    void setHosts(const QVector<HostInfo> &hosts);
    const QString *hostNameOf(qint32 hostId) const;

    // The packets' connections (without history), for connection fields in packet filters.
    void addConnection(const Connection &connection);
    // Forgets a connection and its kernel events (a live consumer's memory stays bounded).
    void removeConnection(qint64 id);
    // Kernel drops and sent RSTs, for drop.reason and rst.reason (joined ones only).
    void addKernelEvents(const KernelData &kernel);
    void setInterfaces(const QVector<InterfaceInfo> &interfaces);
    // The session's cgroup paths and namespace names (Session::ownerNames).
    void setOwnerNames(const OwnerNames &names);
    // Both ends of each connection (sessionPeers), for conn.peer.
    void setPeers(const QHash<qint64, qint64> &peers) { m_peers = peers; }
    // Each packet's one-way delay or loss (sessionTransitMarks), for peer.delay and peer.lost.
    void setTransitMarks(const QHash<qint64, PeerTransitMark> &marks) { m_transit = marks; }

    const Connection *connection(qint64 id) const;
    const QStringList *dropReasons(qint64 connectionId) const;
    const QStringList *rstReasons(qint64 connectionId) const;
    const QString *interfaceName(quint32 ifindex) const;
    const QString *cgroupPath(quint64 cgroupId) const;
    const CgroupAttribution *cgroupAttribution(quint64 cgroupId) const;
    // The ip netns name; nullptr when it has none.
    const QString *netnsName(quint64 inode) const;
    qint64 peerOf(qint64 connectionId) const { return m_peers.value(connectionId, 0); }
    PeerTransitMark transitMark(qint64 packetId) const { return m_transit.value(packetId); }

private:
    QVector<QString> m_hostNames; // by host id
    QHash<qint64, Connection> m_connections;
    QHash<qint64, QStringList> m_dropReasons, m_rstReasons;
    QHash<quint32, QString> m_interfaces;
    OwnerNames m_owners;
    QHash<quint64, CgroupAttribution> m_attributions; // by cgroup id, from m_owners
    QHash<qint64, qint64> m_peers;
    QHash<qint64, PeerTransitMark> m_transit;
};

class DisplayFilter
{
public:
    DisplayFilter(); // the empty filter: valid, matches everything

    // text compiled for target. An empty (or blank) text gives the empty filter. On error the
    // result is invalid (matches nothing) and *error says where and what was expected.
    static DisplayFilter compile(const QString &text, FilterTarget target,
                                 FilterError *error = nullptr);
    // Validation as the user types: nullopt when text compiles for target.
    static std::optional<FilterError> check(const QString &text, FilterTarget target);

    bool isValid() const { return m_valid; }
    bool isEmpty() const; // valid and without a condition
    QString text() const { return m_text; }
    FilterTarget target() const { return m_target; }

    // What the FilterContext must hold for this filter.
    bool needsConnections() const;  // connection fields on packets
    bool needsKernelEvents() const; // drop.reason, rst.reason
    bool needsInterfaces() const;   // iface.name
    bool needsOwnerNames() const;   // cgroup.path, container.id, ..., netns
    bool needsOrigin() const;       // frame.time_relative
    bool needsSessionEnd() const;   // conn.duration
    bool needsPeers() const;        // conn.peer
    bool needsPeerTransit() const;  // peer.delay, peer.lost
    // The columns a connection needs for matches(Connection): when the filter reads only
    // identity and lifetime fields (proc.*, conn.id/state/role/close_reason/duration/
    // handshake_time, addresses and ports, host.name, conn.peer), exactly the columns those
    // read (and id), else all. An empty filter reads nothing: id only.
    ConnectionFields connectionFields() const;

    bool matches(const Packet &packet, const FilterContext &context) const;
    bool matches(const Connection &connection, const FilterContext &context) const;

private:
    std::shared_ptr<const filter::Program> m_program; // null: empty filter
    QString m_text;
    FilterTarget m_target = FilterTarget::Packets;
    bool m_valid = true;
};

// A context with what filter needs from session: its connections (packet filters with
// connection fields), kernel drops and RSTs, interface names, the time origin and end. One pass
// over the connection summaries at most; never reads packets except the first few.
FilterContext filterContextForSession(const Session &session, const DisplayFilter &filter);

} // namespace tcpscope
