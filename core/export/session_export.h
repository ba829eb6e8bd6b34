// SPDX-License-Identifier: GPL-3.0-or-later
// Exports straight from a Session: connections and packets are streamed from the file to the
// output (a 10-million-packet session exports in constant memory). Used by `tcpscope export`
// and the GUI's export actions.
#pragma once

#include "export/connection_export.h"
#include "filter/display_filter.h"

#include <QString>

namespace tcpscope {

class Session;

enum class PacketFileFormat
{
    Csv,
    Json,
    Pcapng
};

// From the suffix (.csv, .json, .pcapng; case-insensitive; "-" is pcapng on stdout); false
// for anything else.
bool packetFormatForPath(const QString &path, PacketFileFormat *format);

// Where open connections end on a chart or in the termination columns: when the capture
// stopped, else the last thing the session recorded. And the time origin: when the capture
// started, else the first connection.
qint64 sessionEndNs(const Session &session);
qint64 sessionOriginNs(const Session &session);

// Every connection, in id order, to path (.csv/.json, or "-" for CSV on stdout); with a
// connection filter (FilterTarget::Connections), those it matches. *written (may be null) gets
// the number of rows. text: see TextOptions (CSV only).
bool exportConnections(const Session &session, const QString &path, QString *error,
                       const DisplayFilter &filter = DisplayFilter(), qint64 *written = nullptr,
                       const TextOptions &text = {});

struct PacketExportResult
{
    qint64 written = 0;
    qint64 loopbackCopies = 0; // pcapng of a whole session: loopback egress copies left out
};

// The packets of connectionId (> 0) or of the whole session (0) to path, format from its
// suffix. CSV and JSON hold every stored packet; pcapng of the whole session leaves out the
// loopback egress copies (see dropLoopbackEgressCopies). The caller checks first that there is
// something to export (the connection exists, it has packets). With a packet filter, only the
// packets it matches: CSV and JSON test every stored copy; the whole-session pcapng tests the
// copy it writes (the received one of a loopback packet). False + one-line reason.
bool exportPackets(const Session &session, const QString &path, qint64 connectionId,
                   PacketExportResult *result, QString *error,
                   const DisplayFilter &filter = DisplayFilter(), const TextOptions &text = {});

} // namespace tcpscope
