// SPDX-License-Identifier: GPL-3.0-or-later
#include "util/packet_format.h"

#include "model/address.h"
#include "model/connection.h"
#include "tcpscope_records.h"
#include "util/format.h"

namespace tcpscope::pfmt {

QString flagsText(quint8 f)
{
    static const char *const names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    QStringList parts;
    for (int bit = 0; bit < 8; ++bit)
        if (f & (1u << bit))
            parts << QLatin1String(names[bit]);
    return parts.join(QStringLiteral(", "));
}

QString directionText(PacketDirection direction)
{
    return direction == PacketDirection::Out ? QStringLiteral("→ out") : QStringLiteral("← in");
}

QString relativeTime(qint64 timeNs, qint64 originNs)
{
    const qint64 us = (timeNs - originNs) / 1000;
    const qint64 absUs = us < 0 ? -us : us;
    return QStringLiteral("%1%2.%3")
        .arg(us < 0 ? QStringLiteral("-") : QString())
        .arg(absUs / 1'000'000)
        .arg(absUs % 1'000'000, 6, 10, QLatin1Char('0'));
}

QString address(const IpAddress &addr)
{
    const QString text = addr.toString();
    return text.isEmpty() ? QStringLiteral("?") : text;
}

QString source(const Packet &p)
{
    return endpointText(address(p.srcAddr), p.srcPort);
}

QString destination(const Packet &p)
{
    return endpointText(address(p.dstAddr), p.dstPort);
}

QString parseStatusText(quint8 status)
{
    switch (status) {
    case TS_PARSE_OK:
        return QStringLiteral("OK");
    case TS_PARSE_TRUNC_IP:
        return QStringLiteral("Truncated IP header (shorter than its own length field)");
    case TS_PARSE_BAD_IP:
        return QStringLiteral("Bad IP header (header or total length inconsistent)");
    case TS_PARSE_TRUNC_EXTHDR:
        return QStringLiteral("Truncated IPv6 extension header");
    case TS_PARSE_TOO_MANY_EXTHDR:
        return QStringLiteral("Too many IPv6 extension headers (parser follows 8)");
    case TS_PARSE_FRAGMENT:
        return QStringLiteral("Non-first IP fragment (no TCP header)");
    case TS_PARSE_TRUNC_TCP:
        return QStringLiteral("Truncated TCP header (fewer than 20 bytes)");
    case TS_PARSE_BAD_TCP_HDR_LEN:
        return QStringLiteral("Bad TCP header length (data offset < 5 or beyond the IP payload)");
    case TS_PARSE_TRUNC_OPTIONS:
        return QStringLiteral("Truncated TCP options (shorter than the data offset says)");
    }
    return QStringLiteral("Unknown parse status %1").arg(status);
}

bool isMalformed(const Packet &p)
{
    return p.parseStatus != TS_PARSE_OK || (p.analysis & AnalysisMalformed);
}

QString analysisText(const Packet &p)
{
    QString text = analysisSummary(p.analysis, p.dupAckNum);
    if (p.parseStatus != TS_PARSE_OK && !(p.analysis & AnalysisMalformed))
        text = text.isEmpty() ? QStringLiteral("Malformed") : QStringLiteral("Malformed, ") + text;
    return text;
}

QString windowText(const Packet &p)
{
    return QString::number(p.scaledWindow >= 0 ? p.scaledWindow : qint64(p.window));
}

QStringList hexDump(const QByteArray &bytes)
{
    QStringList lines;
    for (int off = 0; off < bytes.size(); off += 16) {
        QString hex, ascii;
        for (int i = 0; i < 16; ++i) {
            if (off + i < bytes.size()) {
                const auto c = quint8(bytes.at(off + i));
                hex += QStringLiteral("%1 ").arg(c, 2, 16, QLatin1Char('0'));
                ascii += (c >= 0x20 && c < 0x7f) ? QChar(c) : QLatin1Char('.');
            } else {
                hex += QStringLiteral("   ");
            }
            if (i == 7)
                hex += QLatin1Char(' ');
        }
        lines << QStringLiteral("%1  %2 %3").arg(off, 4, 16, QLatin1Char('0')).arg(hex, ascii);
    }
    return lines;
}

QString sockStateText(quint8 state)
{
    return state == 0 ? QStringLiteral("none (no connection socket found)")
                      : tcpStateName(TcpState(state));
}

} // namespace tcpscope::pfmt
