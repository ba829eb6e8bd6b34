// SPDX-License-Identifier: GPL-3.0-or-later
// Value types for connections and their lifecycle: produced by ConnectionTracker (live) or
// SessionReader (from a file), consumed by the session writer, exporters and the GUI.
// Plain data, copyable, no Qt widgets; QString used for text that the GUI shows.
#pragma once

#include "model/address.h"
#include "model/host.h"
#include "model/kernel.h"
#include "model/packet.h"

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>
#include <cstdint>

namespace tcpscope {

// Numbering follows include/net/tcp_states.h so kernel values map 1:1.
enum class TcpState : std::uint8_t
{
    Unknown = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,
};

// "ESTABLISHED", "SYN_SENT", ... (names as in ss/tcpstates); "UNKNOWN" for anything else.
QString tcpStateName(TcpState state);
const char *tcpStateNameAscii(TcpState state);  // the same name, static ASCII
TcpState tcpStateFromName(const QString &name); // inverse; Unknown when not a name

enum class CloseReason : std::uint8_t
{
    Open = 0,     // not closed (yet / when the capture ended)
    Fin = 1,      // orderly: both FINs exchanged
    Reset = 2,    // RST sent or received after establishment (sk_err ECONNRESET or abort)
    Refused = 3,  // SYN answered by RST (ECONNREFUSED)
    Timeout = 4,  // ETIMEDOUT: SYN or data retransmissions exhausted
    Aborted = 5,  // closed before establishment for another reason
    Listener = 6, // a listening socket that stopped listening
};
// "open","fin","rst","refused","timeout","aborted","listener-closed"
QString closeReasonName(CloseReason reason);
CloseReason closeReasonFromName(const QString &name);

enum class ConnectionRole : std::uint8_t
{
    Unknown = 0,
    Client = 1,
    Server = 2,
    Listener = 3
};
QString connectionRoleName(ConnectionRole role); // "unknown","client","server","listener"
ConnectionRole connectionRoleFromName(const QString &name);

struct StateChange
{
    qint64 timeNs = 0; // wall clock, ns since the epoch
    TcpState from = TcpState::Unknown;
    TcpState to = TcpState::Unknown;
    quint32 ctxPid = 0; // task the kernel hook ran in (informational)
    QString ctxComm;
};

struct Connection
{
    qint64 id = 0;      // session-local id, 1-based, stable within a session file
    qint32 hostId = 0;  // the host it was seen on: index into Session::hosts(), 0 = the
                        // recording host (every connection of a one-host session)
    quint64 sockId = 0; // kernel socket cookie (or pointer id, see tcpscope_records.h)
    quint32 pid = 0;    // owner process (tgid), 0 = unknown
    QString comm;
    quint8 ownerSource = 0; // enum ts_owner_source
    quint64 cgroupId = 0;
    quint32 netnsIno = 0;
    IpAddress localAddr; // null until the socket's addresses are seen
    quint16 localPort = 0;
    IpAddress remoteAddr;
    quint16 remotePort = 0;
    ConnectionRole role = ConnectionRole::Unknown;

    qint64 startNs = 0;                 // wall ns of the first state change seen
    qint64 endNs = 0;                   // wall ns of the change to CLOSE; 0 while open
    qint64 handshakeNs = -1;            // SYN_SENT/SYN_RECV -> ESTABLISHED; -1 when not observed
    TcpState state = TcpState::Unknown; // current (last) state
    CloseReason closeReason = CloseReason::Open;

    bool haveCloseStats = false; // the following are valid only when the kernel gave them
    quint64 bytesSent = 0;       // bytes_acked
    quint64 bytesReceived = 0;
    quint32 segsIn = 0;
    quint32 segsOut = 0;
    quint32 retransmits = 0;
    quint32 srttUs = 0;
    quint32 minRttUs = 0;
    qint32 skErr = 0;

    QVector<StateChange> history;
    PacketCounts packets; // from the packet analysis; all zero when packets were not captured
    KernelSummary kernel; // from tcpinfo samples/events/drops; all zero when not captured

    bool isOpen() const { return endNs == 0; }
    // The socket's family, as its addresses say; None while they are not known.
    AddressFamily family() const { return localAddr.family(); }
    // Duration in ms: end - start, or (nowNs - start) while open when nowNs > 0.
    double durationMs(qint64 nowNs = 0) const;
    // "SYN_SENT>ESTABLISHED>FIN_WAIT1>..." (the states entered, starting with the first 'from'
    // when it is a real state, e.g. CLOSE>SYN_SENT>... is printed from SYN_SENT on).
    QString statesPath() const;
};

// Capture-level facts shown by `tcpscope info` and the status bar.
// A stretch of a capture with records missing, and why: tcpscope did not read and the helper
// dropped what did not fit its queue, the helper ended unexpectedly, or the session file could
// not be written.
struct Interruption
{
    qint64 startNs = 0;      // wall ns
    qint64 endNs = 0;        // wall ns; 0 = the capture ended with it
    qint64 recordsLost = -1; // counted or estimated; -1 = unknown
    QString reason;
    bool operator==(const Interruption &) const = default;
};
// One line for an interruption: "START .. END (D s): reason; N records lost" (UTC, ISO 8601).
QString interruptionText(const Interruption &i);

// Triggered capture: a stretch of time whose packets and kernel samples the session keeps,
// and the triggers that opened it ("port_scan 127.0.0.1 at 2026-...Z", merged ones too).
struct KeptWindow
{
    qint64 startNs = 0; // wall ns
    qint64 endNs = 0;
    QStringList triggers;
    bool operator==(const KeptWindow &) const = default;
};

struct SessionInfo
{
    QString kernelRelease;
    QString hostname;
    QString remote; // the ssh destination of a remote capture (record --remote); "" = local
    QString tcpscopeVersion;
    QStringList probes;   // "inet_sock_set_state=tp_btf", "...=unavailable (reason)"
    qint64 startedNs = 0; // wall ns when the capture started
    qint64 stoppedNs = 0; // wall ns when it stopped (0 = still running / killed)
    quint64 recordsReceived = 0;
    // Everything the kernel side could not deliver: ring buffer reserve failures (all CPUs)
    // plus missedProgramRuns. Non-zero means the session is incomplete.
    quint64 lostRecords = 0;
    // Of lostRecords: runs of our BPF programs the kernel skipped (recursion protection), each
    // at least one state change never recorded. Ring buffer losses = lostRecords - this.
    quint64 missedProgramRuns = 0;
    // Packet capture. packetsCaptured false = lifecycle only (--no-packets or old file).
    bool packetsCaptured = false;
    QString captureFilter;       // the --filter text as given ("" = everything)
    quint64 packetsReceived = 0; // packet records received
    quint64 lostPackets = 0;     // packet ring buffer losses (part of lostRecords)
    quint64 packetsFiltered = 0; // left out by the kernel-side filter (not a loss)
    QVector<InterfaceInfo> interfaces;
    // Kernel metrics. kernelMetrics false = not captured (--no-tcpinfo or old file).
    bool kernelMetrics = false;
    quint32 sampleIntervalUs = 0; // minimum tcp_probe interval per connection, 0 = every sample
    quint64 samplesReceived = 0;
    quint64 kernelEventsReceived = 0;
    quint64 dropsReceived = 0;
    // Records the session writer had to leave out because its queue was over its byte budget
    // (the disk could not keep up). Non-zero means the session is incomplete.
    quint64 writerDropped = 0;
    // Records the helper dropped because tcpscope did not read them in time (stopped, swapping,
    // too slow). Non-zero means the session is incomplete; interruptions say when.
    quint64 readerDropped = 0;
    // Record order (core/pipeline/reorder_window.h), over the recording so far: the reorder
    // window, records that arrived after a newer one and were put back in time order, the
    // largest such inversion, records later than the window (processed as they came, analysis
    // clamped), how far behind the latest of them was, and records that arrived after their
    // connection had been evicted (stored without a connection). -1 = not recorded (files
    // written before tcpscope kept these facts).
    qint64 reorderWindowNs = -1;
    qint64 recordsReordered = -1;
    qint64 maxInversionNs = -1;
    qint64 recordsBeyondWindow = -1;
    qint64 maxLateNs = -1;
    qint64 recordsAfterEviction = -1;
    QVector<Interruption> interruptions; // in time order
    // The detectors ran while recording (core/detect): the file's alerts are what they raised
    // (none is an answer). False: no detectors ran, the file says nothing about alerts.
    bool alertsRecorded = false;
    // Triggered capture (record --trigger): packets and kernel samples are kept only inside
    // keptWindows, from `triggerPreNs` before to `triggerPostNs` after each trigger. Empty
    // trigger: everything was kept. triggerDiscarded: records left out (not asked for).
    QString trigger;
    qint64 triggerPreNs = 0;
    qint64 triggerPostNs = 0;
    qint64 triggerRingBytes = 0;
    quint64 triggerDiscarded = 0;
    QVector<KeptWindow> keptWindows; // in time order, disjoint
    // The hosts whose connections the session holds (format 4.6, model/host.h), by id. Empty =
    // one host, described by kernelRelease, hostname, probes and remote above.
    QVector<HostInfo> hosts;
};

} // namespace tcpscope

Q_DECLARE_METATYPE(tcpscope::Connection)
Q_DECLARE_METATYPE(tcpscope::SessionInfo)
