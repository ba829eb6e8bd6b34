// SPDX-License-Identifier: GPL-3.0-or-later
// `record --pcapng-out PATH|-`: the packets of a running capture as a pcapng stream, written as
// LiveCapture publishes them (a few times a second), with the same blocks and options as
// `export --packets X.pcapng` (core/export/pcapng_writer.h), the owning process included.
// PATH follows the output policy for streams (core/output_file.h): "-" is stdout, an existing
// FIFO is written straight into (opening waits for its reader, e.g. Wireshark), a path that does
// not exist is created as a new regular file (0600: it holds other users' traffic). Anything
// else, an existing regular file included, is refused.
// A reader that goes away (the FIFO or pipe closed: EPIPE, or POLLERR while idle) ends the
// stream; record then stops the capture as it would on Ctrl-C.
#pragma once

#include "export/pcapng_writer.h"
#include "unique_fd.h"

#include <QFile>
#include <QHash>
#include <QSet>
#include <QString>
#include <QVector>
#include <memory>

namespace tcpscope::cli {

class PcapngStream
{
public:
    // Opens path (blocks until a FIFO has a reader). nullptr + one line "PATH: why".
    static std::unique_ptr<PcapngStream> open(const QString &path, QString *error);

    bool toStdout() const { return m_stdout; }
    // The Section Header Block and the interfaces known at the start.
    bool begin(const SessionInfo &info);
    // Remembers the owners of changed connections (connectionsUpdated comes before the
    // packetsAdded that names them): one small entry per connection seen.
    void noteConnections(const QVector<Connection> &changed);
    // Writes one published batch and hands it to the reader at once. interfaces: the capture's
    // interfaces now (names for new IDBs, and which are loopback: their egress copies are left
    // out as the whole-session export does). False once the stream failed (see error()).
    bool write(const QVector<Packet> &packets, const QVector<InterfaceInfo> &interfaces);
    // True when a FIFO's or pipe's reader has closed its end (checked without writing).
    bool readerGone() const;
    QString error() const { return m_error; }
    qint64 packetsWritten() const { return m_packets; }
    qint64 loopbackCopies() const { return m_loopbackCopies; }

private:
    PcapngStream() = default;
    bool fail(const QString &why);

    QString m_path;
    bool m_stdout = false;
    UniqueFd m_fd; // not stdout
    QFile m_file;
    std::unique_ptr<PcapngWriter> m_writer;
    QHash<qint64, PcapngProcess> m_owners;
    QSet<quint32> m_loopback;
    qint64 m_packets = 0;
    qint64 m_loopbackCopies = 0;
    QString m_error;
};

} // namespace tcpscope::cli
