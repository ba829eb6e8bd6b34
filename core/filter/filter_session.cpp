// SPDX-License-Identifier: GPL-3.0-or-later
// A FilterContext from a Session: only what the filter reads is loaded.
#include "filter/display_filter.h"

#include "analysis/peers.h"
#include "export/pcapng_writer.h"
#include "export/session_export.h"
#include "session/session.h"

namespace tcpscope {

FilterContext filterContextForSession(const Session &session, const DisplayFilter &filter)
{
    FilterContext context;
    const SessionInfo info = session.info();
    context.setInterfaces(info.interfaces);
    context.hostName = info.hostname;
    context.setHosts(session.hosts());
    if (filter.needsConnections()) {
        session.forEachConnection(
            [&](const Connection &c) {
                context.addConnection(c);
                return true;
            },
            false);
    }
    if (filter.needsOwnerNames())
        context.setOwnerNames(session.ownerNames());
    if (filter.needsKernelEvents() && info.kernelMetrics)
        context.addKernelEvents(session.kernelEvents());
    if (filter.needsSessionEnd())
        context.sessionEndNs = sessionEndNs(session);
    if (filter.needsPeers())
        context.setPeers(sessionPeers(session));
    if (filter.needsPeerTransit())
        context.setTransitMarks(sessionTransitMarks(session));
    if (filter.needsOrigin()) {
        // The first packet the whole-session pcapng export writes (it leaves out loopback
        // egress copies): frame.time_relative then reads as tshark shows it for that file.
        const QSet<quint32> loopback = loopbackInterfaces(info);
        session.forEachPacket(-1, [&](const Packet &p) {
            if (isLoopbackEgressCopy(p, loopback))
                return true;
            context.originNs = p.timeNs;
            return false;
        });
    }
    return context;
}

} // namespace tcpscope
