// SPDX-License-Identifier: GPL-3.0-or-later
// One machine whose connections a session holds. A recording holds one (the machine it ran
// on, or the remote one for record --remote); `tcpscope merge` puts several on one time axis
// and keeps each one's identity and how its clock was aligned. Stored in the session file's
// `hosts` table (format 4.6; docs/SESSION_FORMAT.md).
#pragma once

#include <QString>
#include <QStringList>
#include <QtGlobal>

namespace tcpscope {

// How a host's clock offset was found.
enum class OffsetMethod : quint8
{
    None,       // not aligned: offset 0 (the reference host, or nothing to align on)
    Recorded,   // measured while recording (the live capture's hook)
    User,       // given by the user (merge --offset)
    Handshakes, // from the handshakes of connections seen on both hosts (NTP-style)
};
QString offsetMethodName(OffsetMethod m); // "none", "recorded", "user", "handshakes"
// The method of that name; false for anything else.
bool offsetMethodFromName(const QString &name, OffsetMethod *out);

struct HostInfo
{
    qint32 id = 0;      // Connection::hostId; 0 = the recording host / the merge's first input
    QString name;       // host name
    QString kernel;     // uname -r
    QStringList probes; // the probe report of its capture (SessionInfo::probes)
    QString source;     // the input file it was merged from, or the ssh destination; "" = local
    // What was added to this host's timestamps to put them on the session's time axis, ns,
    // and a bound on its error (-1 = unknown).
    qint64 clockOffsetNs = 0;
    qint64 offsetErrorNs = -1;
    OffsetMethod offsetMethod = OffsetMethod::None;

    // The most hosts a session holds (a reader leaves out rows beyond it).
    static constexpr int kMaxHosts = 4096;
    bool operator==(const HostInfo &) const = default;
};

} // namespace tcpscope
