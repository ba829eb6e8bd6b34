// SPDX-License-Identifier: GPL-3.0-or-later
// Writes a session's packets as pcapng (https://ietf-opsawg-wg.github.io/draft-ietf-opsawg-pcap/):
// one Section Header Block, one Interface Description Block per captured interface (if_name,
// if_tsresol = 9 for ns timestamps, LINKTYPE_RAW since the kernel side keeps no link header),
// and one Enhanced Packet Block per packet whose data are the IP + TCP headers rebuilt from the
// recorded fields (real seq/ack/flags/window/options/TTL/TOS; payload = the snapshot when taken,
// else not captured: caplen < original length).
// Each packet names the process owning its socket twice: as data, in epb_processid_threadid
// (option 8: the pid, thread 0 = not known) and custom string options
// ("tcpscope.proc.name=curl", "tcpscope.cgroup.id=4242"; the SHB carries
// "tcpscope.host.name=box"), and as text, in an opt_comment
// "pid=1234 comm=curl conn=17 sock=0x... dir=in|out" that Wireshark shows as the packet comment.
// The custom options' Private Enterprise Number is the documentation one (see the .cpp).
// PcapngWriter streams (one block per packet, interfaces declared when first needed);
// writePcapng is the same for a loaded SessionData.
#pragma once

#include "session/session_reader.h"

#include <QHash>
#include <QIODevice>
#include <QSet>
#include <QString>
#include <QVector>

namespace tcpscope {

// The owner of a packet's socket, as far as the session knows it.
struct PcapngProcess
{
    quint32 pid = 0;      // process (tgid), 0 = not known: no epb_processid_threadid
    quint32 tid = 0;      // thread, 0 = not known (sessions record no thread per packet)
    QString comm;         // "" = not known
    quint64 cgroupId = 0; // cgroup v2 id, 0 = none recorded
    static PcapngProcess of(const Connection &c);
};

class PcapngWriter
{
public:
    explicit PcapngWriter(QIODevice &out) : m_out(out) {}
    // The Section Header Block and one Interface Description Block per interface of the session.
    bool begin(const SessionInfo &info);
    // Declares ifindex under name (its Interface Description Block) unless it already is; a
    // live stream calls it when a packet names an interface the capture learnt since begin().
    bool declareInterface(quint32 ifindex, const QString &name);
    // One Enhanced Packet Block; an interface the session did not list gets its block first
    // (pcapng allows them anywhere before their first use). owner names the socket's process
    // in the options and the comment.
    bool write(const Packet &packet, const PcapngProcess &owner);
    // The same with only a pid and comm known (0/"" = unknown): no cgroup option.
    bool write(const Packet &packet, quint32 pid, const QString &comm);
    // Writes what is still buffered; the caller then commits or discards the device.
    bool finish();
    QString error() const { return m_error; }
    qint64 written() const { return m_written; }

private:
    bool put(const QByteArray &block);
    quint32 interfaceId(quint32 ifindex);

    QIODevice &m_out;
    QHash<quint32, quint32> m_ifId;
    QByteArray m_buffer;
    qint64 m_written = 0;
    QString m_error;
};

// The ifindexes of the session's loopback interfaces (named "lo"), and whether a packet is the
// egress copy of a loopback packet (see dropLoopbackEgressCopies).
QSet<quint32> loopbackInterfaces(const SessionInfo &info);
inline bool isLoopbackEgressCopy(const Packet &p, const QSet<quint32> &loopback)
{
    return p.direction == PacketDirection::Out && loopback.contains(p.ifindex);
}

// connectionIds empty = every packet of the session (joined or not). Writes to a temporary file
// next to path and renames, so a failure (e.g. disk full) never leaves a half file under path.
// Returns the number of packets written, or -1 with a one-line reason.
qint64 writePcapng(const SessionData &session, const QString &path,
                   const QVector<qint64> &connectionIds, QString *error);

// On loopback TC sees every packet twice: at egress of `lo` (joined to the sender's socket) and
// again at ingress (joined to the receiver's). A whole-session export with both copies would
// show every packet twice to Wireshark, which then flags each copy as a retransmission.
// Removes the egress copies on interfaces named "lo" (session.info.interfaces) and returns how
// many were removed; what remains is each packet once as the receiving socket saw it, which is
// what `tcpdump -i lo` shows (a sender's egress copy can still be one GSO super-packet where the
// capture point shows its segments).
// Per-connection exports need no such step: each socket sees each packet once.
qint64 dropLoopbackEgressCopies(SessionData &session);

} // namespace tcpscope
