// SPDX-License-Identifier: GPL-3.0-or-later
// The kernel's own view of connections: tcp_probe samples, discrete events
// (retransmits, resets, congestion-state changes), kernel drops of TCP packets with their named
// reason, and listener accept-queue samples. Produced by LiveCapture (live) or SessionReader (from
// a file), already joined to connection ids and converted to wall time; consumed by the session
// writer, exporters, the CLI and the GUI. Plain copyable data.
#pragma once

#include "model/address.h"

#include <QMetaType>
#include <QString>
#include <QVector>
#include <cstdint>

namespace tcpscope {

// Which fields of a TcpSample are valid: the TS_SAMPLE_* bits of tcpscope_records.h.
struct TcpSample
{
    qint64 connectionId = 0; // joined connection (by socket cookie, else 4-tuple)
    qint64 timeNs = 0;       // wall ns
    quint32 srttUs = 0;
    quint32 rttvarUs = 0;
    quint32 minRttUs = 0; // 0 = no sample (the kernel's ~0U is mapped to 0)
    quint32 cwnd = 0;     // packets
    quint32 ssthresh = 0; // packets; 0 = infinite / not yet set (TS_SSTHRESH_INFINITE mapped)
    quint32 sndWnd = 0;   // bytes
    quint32 rcvWnd = 0;   // bytes
    quint32 packetsOut = 0;
    quint32 retransOut = 0;
    quint32 lostOut = 0;
    quint32 sackedOut = 0;
    quint32 inFlight = 0; // packets
    quint32 mss = 0;
    quint32 totalRetrans = 0;
    quint64 bytesAcked = 0;
    quint64 bytesReceived = 0;
    quint64 deliveryRate = 0; // bytes/s, 0 = unknown
    quint8 caState = 0;       // 0 Open, 1 Disorder, 2 CWR, 3 Recovery, 4 Loss
    quint16 fields = 0;       // TS_SAMPLE_* bits
    quint64 bytesInFlight() const { return quint64(inFlight) * mss; }
};

enum class KernelEventKind : quint8
{
    Retransmit = 1, // tcp_retransmit_skb
    // tcp_retransmit_synack: the accepted connection by tuple, else the listener
    SynAckRetransmit = 2,
    ResetSent = 3,
    ResetReceived = 4,
    CongestionState = 5,
};
// "retransmit","synack-retransmit","rst-sent","rst-received","cong-state"
QString kernelEventKindName(KernelEventKind kind);
bool kernelEventKindFromName(const QString &name, KernelEventKind *kind);
// "Open","Disorder","CWR","Recovery","Loss", "CA(n)" for others.
QString caStateName(quint8 caState);

struct KernelEvent
{
    qint64 connectionId = 0; // 0 = not joined to any connection
    qint64 timeNs = 0;       // wall ns
    KernelEventKind kind = KernelEventKind::Retransmit;
    quint8 state = 0; // TcpState numbering, 0 unknown
    quint32 seq = 0;
    quint16 segs = 0;    // retransmitted segments (Retransmit, SynAckRetransmit)
    qint32 err = 0;      // Retransmit: 0 = sent; a negative errno = the kernel failed to send
    quint8 tcpFlags = 0; // Retransmit: TS_TCP_* of the resent skb (SYN / FIN resends)
    quint32 reason = 0xffffffffu; // ResetSent: enum sk_rst_reason value; 0xffffffff = none given
    QString reasonName;    // its name from the kernel's BTF ("NOT_SPECIFIED", ...), "" = none
    quint8 oldCaState = 0; // CongestionState only
    quint8 newCaState = 0;
    quint32 srttUs = 0; // at the event (full sockets), 0 unknown
    quint32 cwnd = 0;
};

struct DropEvent
{
    qint64 connectionId = 0; // 0 = not joined (e.g. SYN to a closed port has no connection)
    qint64 timeNs = 0;       // wall ns
    quint32 reason = 0;      // enum skb_drop_reason value
    QString reasonName;      // "NO_SOCKET", "TCP_LISTEN_OVERFLOW", ... from the kernel's BTF
    quint64 location = 0;    // kernel text address of the dropping call site
    quint32 ifindex = 0;
    IpAddress srcAddr; // the dropped packet's own source (not oriented to a connection)
    quint16 srcPort = 0;
    IpAddress dstAddr;
    quint16 dstPort = 0;
    quint8 tcpFlags = 0;  // TS_TCP_*
    quint8 sockState = 0; // state of the socket the kernel had, 0 none
    quint32 seq = 0;
    quint32 ack = 0;
    quint32 payloadLen = 0;
};

struct ListenerSample
{
    qint64 connectionId = 0; // the listener's connection (role Listener), 0 = not known
    qint64 timeNs = 0;       // wall ns
    quint64 sockId = 0;
    IpAddress addr;
    quint16 port = 0;
    quint32 backlog = 0; // accept queue depth
    quint32 maxBacklog = 0;
    quint64 drops = 0; // cumulative sk_drops of the listener
};

// A batch (live) or everything (file), each vector in time order.
struct KernelData
{
    QVector<TcpSample> samples;
    QVector<KernelEvent> events;
    QVector<DropEvent> drops;
    QVector<ListenerSample> listeners;
    bool isEmpty() const
    {
        return samples.isEmpty() && events.isEmpty() && drops.isEmpty() && listeners.isEmpty();
    }
    void append(const KernelData &other)
    {
        samples += other.samples;
        events += other.events;
        drops += other.drops;
        listeners += other.listeners;
    }
};

// Per-connection totals kept on Connection (summary columns, CSV/JSON, the table).
struct KernelSummary
{
    quint32 samples = 0;
    quint32 srttUsMin = 0; // over samples with RTT; 0 = none
    quint32 srttUsMax = 0;
    quint32 cwndMax = 0;
    quint32 retransmits = 0;    // segments resent by the kernel (sum of Retransmit segs with err 0)
    quint32 synRetransmits = 0; // of those, SYN resends (client handshake)
    quint32 synAckRetransmits = 0; // server handshake
    quint32 resetsSent = 0;
    quint32 resetsReceived = 0;
    quint32 drops = 0;       // kernel drops joined to this connection
    quint32 listenDrops = 0; // listeners: last sk_drops minus the first seen
    quint32 backlogMax = 0;  // listeners: deepest accept queue seen
};

} // namespace tcpscope

Q_DECLARE_METATYPE(tcpscope::KernelData)
