// SPDX-License-Identifier: GPL-3.0-or-later
// Text for packet fields, shared by the packet list, the details pane and tooltips so a value
// reads the same everywhere.
#pragma once

#include "model/packet.h"

#include <QString>
#include <QStringList>

namespace tcpscope::pfmt {

// "SYN, ACK" in header bit order (as Wireshark's Info column); "" when no flag is set.
QString flagsText(quint8 tcpFlags);
// "→ out" / "← in".
QString directionText(PacketDirection direction);
// Seconds since originNs with µs precision: "12.345678".
QString relativeTime(qint64 timeNs, qint64 originNs);
// The address's text, "?" for no address.
QString address(const IpAddress &addr);
QString source(const Packet &p); // "127.0.0.1:40001", "[::1]:443"
QString destination(const Packet &p);
// "OK" or what the kernel-side parser found wrong (enum ts_parse_status), e.g.
// "Truncated TCP options (options area shorter than the data offset says)".
QString parseStatusText(quint8 status);
bool isMalformed(const Packet &p);
// Analysis column: analysisSummary, plus "Malformed: <reason>" when the parser gave up.
QString analysisText(const Packet &p);
// Window as the list shows it: scaled when the scale is known, else the raw value.
QString windowText(const Packet &p);
// Hex + ASCII lines of 16 bytes: "0000  47 45 54 20 ...  GET /...".
QStringList hexDump(const QByteArray &bytes);
// TCP state name of the packet's socket at the hook (kernel TCP_* numbering), "none" for 0.
QString sockStateText(quint8 state);

} // namespace tcpscope::pfmt
