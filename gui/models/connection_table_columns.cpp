// SPDX-License-Identifier: GPL-3.0-or-later
// The connection table's columns (ConnectionTableModel::viewColumns): for each, its header,
// tooltip, alignment, the stored connection columns it shows, sorting, cell text, cell tooltip,
// colours and default width; and the Owner column's cell and tooltip.
#include "models/connection_table_model.h"

#include "util/format.h"

#include <QStringList>

namespace tcpscope {

namespace {

bool hasStats(const Connection &c)
{
    return c.haveCloseStats;
}

} // namespace

int ConnectionTableModel::column(const char *key)
{
    const QVector<ViewColumn> &columns = viewColumns();
    for (int i = 0; i < columns.size(); ++i)
        if (qstrcmp(columns.at(i).key, key) == 0)
            return i;
    qFatal("no connection table column '%s'", key);
}

const QVector<ConnectionTableModel::ViewColumn> &ConnectionTableModel::viewColumns()
{
    using M = ConnectionTableModel;
    // The stored columns a table column shows, by their names in connection_columns.cpp.
    const auto stored = [](auto... names) {
        return QVector<const ConnectionColumn *>{&connectionColumn(names)...};
    };
    // Tooltips several columns share.
    const auto kernelTip = [](const M &, const Connection &c) -> QString {
        return QStringLiteral("%1 kernel samples: srtt %2–%3 µs, cwnd up to %4")
            .arg(c.kernel.samples)
            .arg(c.kernel.srttUsMin)
            .arg(c.kernel.srttUsMax)
            .arg(c.kernel.cwndMax);
    };
    const auto statsTip = [](const M &, const Connection &c) -> QString {
        if (!hasStats(c))
            return QStringLiteral("Known when the connection closes");
        return QStringLiteral("%1 bytes sent (acked), %2 bytes received; %3 segments out, %4 in")
            .arg(c.bytesSent)
            .arg(c.bytesReceived)
            .arg(c.segsOut)
            .arg(c.segsIn);
    };
    const auto ownerTip = [](const M &m, const Connection &c) { return m.ownerToolTip(c); };
    // Counts and kernel metrics are blank rather than 0 (unknown, or nothing happened), so the
    // rows where something happened stand out.
    static const QVector<ViewColumn> columns{
        {.key = "id",
         .header = "ID",
         .tip = "Session-local connection id",
         .numeric = true,
         .stored = stored("id"),
         .sorts = true,
         .widthSample = "99999",
         .display = [](const M &, const Connection &c) -> QVariant { return c.id; }},
        {.key = "process",
         .header = "Process",
         .tip = "Owning process name (comm)",
         .stored = stored("comm"),
         .sorts = true,
         .widthSample = "processname123",
         .display = [](const M &, const Connection &c) -> QVariant { return c.comm; },
         .toolTip = ownerTip},
        {.key = "pid",
         .header = "PID",
         .tip = "Owning process id (tgid)",
         .numeric = true,
         .stored = stored("pid"),
         .sorts = true,
         .widthSample = "4194304",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.pid ? QVariant(c.pid) : QVariant(QString());
         },
         .toolTip = ownerTip},
        {.key = "role",
         .header = "Role",
         .tip = "client (connect), server (accepted) or listener",
         .stored = stored("role"),
         .sorts = true,
         .widthSample = "listener",
         .display = [](const M &, const Connection &c) -> QVariant {
             return connectionRoleName(c.role);
         }},
        {.key = "family",
         .header = "Family",
         .tip = "Address family",
         .stored = stored("family"),
         .sorts = true,
         .widthSample = "IPv6",
         .display = [](const M &, const Connection &c) -> QVariant {
             return familyName(c.family());
         }},
        {.key = "local",
         .header = "Local",
         .tip = "Local address and port",
         .stored = stored("local_addr", "local_port"),
         .sorts = true,
         .widthSample = "255.255.255.255:65535",
         .display = [](const M &, const Connection &c) -> QVariant {
             return endpointText(c.localAddr, c.localPort);
         }},
        {.key = "remote",
         .header = "Remote",
         .tip = "Remote address and port",
         .stored = stored("remote_addr", "remote_port"),
         .sorts = true,
         .widthSample = "255.255.255.255:65535",
         .display = [](const M &, const Connection &c) -> QVariant {
             if (c.role == ConnectionRole::Listener)
                 return QString();
             return endpointText(c.remoteAddr, c.remotePort);
         }},
        {.key = "peer",
         .header = "Peer",
         .tip = "The other end of this connection when it is in the session too (the other "
                "local socket, or the other host's in a merged session): its connection id; "
                "double-click it or right-click ▸ Go to Peer to select it",
         .numeric = true,
         .widthSample = "99999",
         .display = [](const M &m, const Connection &c) -> QVariant {
             const qint64 peer = m.peerOf(c.id);
             return peer > 0 ? QVariant(peer) : QVariant(QString());
         }},
        {.key = "state",
         .header = "State",
         .tip = "Current (or last) TCP state",
         .stored = stored("state"),
         .sorts = true,
         .widthSample = "ESTABLISHED",
         .display = [](const M &, const Connection &c) -> QVariant {
             return tcpStateName(c.state);
         }},
        {.key = "start",
         .header = "Start",
         .tip = "Local time of the first state change seen",
         .stored = stored("start_ns"),
         .sorts = true,
         .widthSample = "00:00:00.000",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.startNs ? fmt::wallTime(c.startNs) : QString();
         },
         .toolTip = [](const M &, const Connection &c) -> QString {
             return c.startNs ? fmt::wallDateTime(c.startNs) : QString();
         }},
        {.key = "duration",
         .header = "Duration",
         .tip = "Lifetime: first state change to CLOSE (open: up to now / session end)",
         .numeric = true,
         .stored = stored("start_ns", "end_ns"),
         .widthSample = "999.9 ms",
         .display = [](const M &m, const Connection &c) -> QVariant {
             if (c.isOpen() && m.m_referenceNs <= c.startNs)
                 return QString();
             return fmt::durationMs(c.durationMs(c.isOpen() ? m.m_referenceNs : 0));
         },
         .toolTip = [](const M &m, const Connection &c) -> QString {
             if (c.isOpen())
                 return QStringLiteral("Still open (measured up to %1)")
                     .arg(m.m_referenceNs ? fmt::wallTime(m.m_referenceNs) : QStringLiteral("?"));
             return QStringLiteral("%1 → %2").arg(fmt::wallTime(c.startNs), fmt::wallTime(c.endNs));
         },
         .provisional = [](const Connection &c) { return c.isOpen(); }},
        {.key = "handshake",
         .header = "Handshake",
         .tip = "SYN_SENT/SYN_RECV to ESTABLISHED",
         .numeric = true,
         .stored = stored("handshake_ns"),
         .sorts = true,
         .widthSample = "99.99 ms",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.handshakeNs >= 0 ? fmt::durationMs(c.handshakeNs / 1e6) : QString();
         }},
        {.key = "sent",
         .header = "Sent",
         .tip = "Bytes sent and acknowledged by the peer (known when the connection closed)",
         .numeric = true,
         .stored = stored("bytes_sent"),
         .sorts = true,
         .widthSample = "999.9 KiB",
         .display = [](const M &, const Connection &c) -> QVariant {
             return hasStats(c) ? fmt::bytes(c.bytesSent) : QString();
         },
         .toolTip = statsTip},
        {.key = "received",
         .header = "Received",
         .tip = "Bytes received in order (known when the connection closed)",
         .numeric = true,
         .stored = stored("bytes_received"),
         .sorts = true,
         .widthSample = "999.9 KiB",
         .display = [](const M &, const Connection &c) -> QVariant {
             return hasStats(c) ? fmt::bytes(c.bytesReceived) : QString();
         },
         .toolTip = statsTip},
        {.key = "retrans",
         .header = "Retrans",
         .tip = "Total retransmitted segments",
         .numeric = true,
         .stored = stored("retransmits"),
         .sorts = true,
         .widthSample = "Retrans",
         .display = [](const M &, const Connection &c) -> QVariant {
             return hasStats(c) ? QVariant(c.retransmits) : QVariant(QString());
         },
         .alarming = [](const Connection &c) { return c.retransmits > 0; }},
        {.key = "srtt",
         .header = "SRTT",
         .tip = "Smoothed round-trip time at close",
         .numeric = true,
         .stored = stored("srtt_us"),
         .sorts = true,
         .widthSample = "99.99 ms",
         .display = [](const M &, const Connection &c) -> QVariant {
             return hasStats(c) && c.srttUs ? fmt::durationMs(c.srttUs / 1000.0) : QString();
         },
         .toolTip = [](const M &, const Connection &c) -> QString {
             return hasStats(c)
                        ? QStringLiteral("srtt %1 µs, min RTT %2 µs").arg(c.srttUs).arg(c.minRttUs)
                        : QString();
         }},
        {.key = "srtt_min",
         .header = "SRTT min",
         .tip = "Lowest smoothed RTT of the kernel's samples (tcp_probe)",
         .numeric = true,
         .stored = stored("srtt_us_min"),
         .sorts = true,
         .widthSample = "99.99 ms",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.srttUsMin ? fmt::durationMs(c.kernel.srttUsMin / 1000.0) : QString();
         },
         .toolTip = kernelTip},
        {.key = "srtt_max",
         .header = "SRTT max",
         .tip = "Highest smoothed RTT of the kernel's samples (tcp_probe)",
         .numeric = true,
         .stored = stored("srtt_us_max"),
         .sorts = true,
         .widthSample = "99.99 ms",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.srttUsMax ? fmt::durationMs(c.kernel.srttUsMax / 1000.0) : QString();
         },
         .toolTip = kernelTip},
        {.key = "cwnd_max",
         .header = "cwnd max",
         .tip = "Largest congestion window of the kernel's samples, in packets",
         .numeric = true,
         .stored = stored("cwnd_max"),
         .sorts = true,
         .widthSample = "99999",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.cwndMax ? QVariant(c.kernel.cwndMax) : QVariant(QString());
         },
         .toolTip = kernelTip},
        {.key = "kernel_retrans",
         .header = "Resent",
         .tip = "Segments the kernel retransmitted, traced as they happened (SYN and SYN-ACK "
                "resends included)",
         .numeric = true,
         .stored = stored("kernel_retransmits"),
         .sorts = true,
         .widthSample = "99999",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.retransmits ? QVariant(c.kernel.retransmits) : QVariant(QString());
         },
         .toolTip = [](const M &, const Connection &c) -> QString {
             return QStringLiteral("%1 segments resent (%2 SYN, %3 SYN-ACK)")
                 .arg(c.kernel.retransmits)
                 .arg(c.kernel.synRetransmits)
                 .arg(c.kernel.synAckRetransmits);
         },
         .alarming = [](const Connection &c) { return c.kernel.retransmits > 0; }},
        {.key = "resets",
         .header = "RST",
         .tip = "RST segments sent + received by this socket, as the kernel traced them",
         .numeric = true,
         .stored = stored("resets_sent", "resets_received"),
         .widthSample = "99↑ 99↓",
         .display = [](const M &, const Connection &c) -> QVariant {
             if (c.kernel.resetsSent + c.kernel.resetsReceived == 0)
                 return QString();
             return QStringLiteral("%1↑ %2↓").arg(c.kernel.resetsSent).arg(c.kernel.resetsReceived);
         },
         .toolTip = [](const M &, const Connection &c) -> QString {
             return QStringLiteral("%1 RST sent, %2 RST received")
                 .arg(c.kernel.resetsSent)
                 .arg(c.kernel.resetsReceived);
         },
         .alarming =
             [](const Connection &c) { return c.kernel.resetsSent + c.kernel.resetsReceived > 0; }},
        {.key = "drops",
         .header = "Drops",
         .tip = "Incoming packets of this connection the kernel dropped (reasons in the Kernel "
                "metrics tab)",
         .numeric = true,
         .stored = stored("drops"),
         .sorts = true,
         .widthSample = "99999",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.drops ? QVariant(c.kernel.drops) : QVariant(QString());
         },
         .alarming = [](const Connection &c) { return c.kernel.drops > 0; }},
        {.key = "close_reason",
         .header = "Close reason",
         .tip = "How the connection ended",
         .stored = stored("close_reason"),
         .sorts = true,
         .widthSample = "listener-closed",
         .display = [](const M &, const Connection &c) -> QVariant {
             return closeReasonName(c.closeReason);
         },
         .alarming =
             [](const Connection &c) {
                 return c.closeReason == CloseReason::Reset ||
                        c.closeReason == CloseReason::Refused ||
                        c.closeReason == CloseReason::Timeout ||
                        c.closeReason == CloseReason::Aborted;
             }},
        {.key = "states",
         .header = "States",
         .tip = "Every state the connection went through",
         .stored = stored("states"),
         .sorts = true,
         .widthSample = "SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2",
         .display = [](const M &, const Connection &c) -> QVariant { return c.statesPath(); },
         .toolTip = [](const M &m, const Connection &c) -> QString {
             // The page holds no histories; a tooltip is one row, asked for when hovered.
             const std::optional<Connection> full = m.connection(c.id);
             QStringList lines;
             for (const StateChange &sc : full ? full->history : c.history)
                 lines << QStringLiteral("%1  %2 → %3")
                              .arg(fmt::wallTime(sc.timeNs), tcpStateName(sc.from),
                                   tcpStateName(sc.to));
             return lines.join(QLatin1Char('\n'));
         }},
        {.key = "owner",
         .header = "Owner",
         .tip = "Who owns the socket beyond the process: its container (and Kubernetes pod) or "
                "systemd unit, read from its cgroup path; the tooltip has the path and the "
                "network namespace",
         .stored = stored("cgroup_id"),
         .widthSample = "user@1000.service",
         .display = [](const M &m, const Connection &c) { return m.ownerCell(c); },
         .toolTip = ownerTip},
        {.key = "host",
         .header = "Host",
         .tip = "The machine the socket is on (the host the session was captured on)",
         .stored = stored("host_id"),
         .display = [](const M &m, const Connection &c) -> QVariant {
             // Each connection's own host in a session of several (tcpscope merge).
             return m.m_hostNames.size() > 1 ? m.m_hostNames.value(c.hostId) : m.m_host;
         }},
    };
    return columns;
}

QVariant ConnectionTableModel::ownerCell(const Connection &c) const
{
    // The most specific owner the path names: container (with its pod), else the unit.
    const auto a = m_attributions.constFind(c.cgroupId);
    if (a == m_attributions.cend())
        return {};
    if (!a->containerId.isEmpty()) {
        QString s =
            (a->runtime.isEmpty() ? QStringLiteral("container ") : a->runtime + QLatin1Char(' ')) +
            a->containerId.left(12);
        if (!a->podUid.isEmpty())
            s += QStringLiteral(" (pod %1)").arg(a->podUid.left(8));
        return s;
    }
    if (!a->podUid.isEmpty())
        return QStringLiteral("pod %1").arg(a->podUid.left(8));
    if (!a->systemdUnit.isEmpty())
        return a->systemdUnit;
    return m_owners.cgroupPaths.value(c.cgroupId);
}

QString ConnectionTableModel::ownerToolTip(const Connection &c) const
{
    const QString path = m_owners.cgroupPaths.value(c.cgroupId);
    const QString netns = m_owners.netnsNames.value(c.netnsIno);
    QStringList lines{QStringLiteral("%1 (pid %2)").arg(c.comm).arg(c.pid)};
    lines << QStringLiteral("cgroup %1%2")
                 .arg(c.cgroupId)
                 .arg(path.isEmpty() ? QString() : QStringLiteral(": ") + path);
    if (const auto a = m_attributions.constFind(c.cgroupId); a != m_attributions.cend()) {
        if (!a->systemdUnit.isEmpty())
            lines << QStringLiteral("systemd unit: %1").arg(a->systemdUnit);
        if (!a->containerId.isEmpty())
            lines << QStringLiteral("container: %1%2")
                         .arg(a->containerId, a->runtime.isEmpty()
                                                  ? QString()
                                                  : QStringLiteral(" (%1)").arg(a->runtime));
        if (!a->podUid.isEmpty())
            lines << QStringLiteral("Kubernetes pod: %1, QoS %2").arg(a->podUid, a->qos);
    }
    lines << QStringLiteral("network namespace %1%2")
                 .arg(c.netnsIno)
                 .arg(netns.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(netns));
    return lines.join(QLatin1Char('\n'));
}

} // namespace tcpscope
