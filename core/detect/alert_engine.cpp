// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/alert_engine.h"

#include "detect/alert_windows.h"
#include "detect/detector_text.h"
#include "detect/rule_matcher.h"

#include "model/address.h"
#include "tcpscope_records.h"

#include <QHash>
#include <QSet>

#include <algorithm>
#include <array>
#include <climits>
#include <deque>
#include <limits>

namespace tcpscope {

namespace {

using detail::connectionLabel;
using detail::durationText;
using detail::Hit;
using detail::RateCounter;
using detail::Window;
using detail::Windows;

// One record looked at, in time order: a state change (connection index + history index),
// a packet, a kernel event, a drop, a listener sample, or a connection to test against the
// connection rules (its latest values).
enum class ItemType : quint8
{
    State,
    Packet,
    Event,
    Drop,
    Listener,
    ConnectionRules,
};

struct Item
{
    qint64 timeNs;
    ItemType type;
    int index;
    int sub;
};

// What the engine keeps of a connection while it is alive (and a while after it closed).
struct ConnInfo
{
    Connection c;         // latest values, without history
    int historySeen = 0;  // state changes already looked at
    qint64 lastNs = 0;    // latest record time of this connection
    bool closed = false;  // its change to CLOSE was looked at
    int peerIsLocal = -1; // the other end is a socket we also see (-1: not known yet)
    RateCounter segments; // data segments this socket's copies counted (see countedCopy)
};

struct Throttle
{
    qint64 lastNs = 0;
    quint64 suppressed = 0;
};

struct ZeroWindowStall
{
    qint64 startNs = 0;
    qint64 lastNs = 0;
    QSet<qint64> connections;
    QVector<qint64> packets;
    bool fired = false;
    QString summary; // "A:p → B:p"
};

// a + b without overflow (times near the end of qint64 from a hostile file).
qint64 addSat(qint64 a, qint64 b)
{
    qint64 r;
    return __builtin_add_overflow(a, b, &r)
               ? (b > 0 ? std::numeric_limits<qint64>::max() : std::numeric_limits<qint64>::min())
               : r;
}

} // namespace

struct AlertEngine::Private
{
    AlertConfig config;
    QVector<Alert> pending;
    // Alerts throttling left out since the last takeSuppressed (a trigger still counts them).
    static constexpr qsizetype kMaxSuppressedKept = 10000;
    QVector<Alert> suppressedAlerts;
    QHash<QString, Throttle> throttles;
    quint64 raised = 0;
    quint64 suppressed = 0;
    quint64 items = 0;
    qint64 nowNs = 0;
    qint64 lastSweepNs = 0;

    QHash<qint64, ConnInfo> connections;
    // Local sockets by "local>remote" endpoint text: a packet's sender that is one of ours
    // (loopback, local pairs) is seen twice, once per socket; the second copy is skipped.
    QHash<QString, qint64> localSockets;
    // Listening ports and the listener's "addr:port" (and connection id).
    QHash<quint16, std::pair<QString, qint64>> listeners;
    QHash<qint64, quint64> listenerDrops; // last cumulative sk_drops per listener connection
    bool kernelRetransmits = false;       // the kernel reports retransmissions itself

    // Interned address texts for Hit::value.
    QHash<QString, quint32> addressIds;
    QVector<QString> addresses;

    Windows synSyns, synCompleted, synOverflows; // by listener port text
    Windows synCookies, synAckResends;           // by listener port text
    Windows scanPorts;                           // by remote address
    Windows resets;                              // by remote address
    Windows refused;                             // by remote addr:port
    Windows retransConn, retransRemote;          // by conn id / remote address
    QHash<QString, RateCounter> remoteSegments;  // by remote address
    Windows drops;                               // by reason
    Windows timeWaits;                           // by remote addr:port
    QHash<QString, ZeroWindowStall> stalls;      // by advertiser>peer endpoint text
    QHash<QString, qint64> resetPairs;           // local pairs whose reset was counted, when
    std::deque<qint64> handshakes;               // recent handshake times (ns), for the median
    std::unique_ptr<detail::RuleMatcher> rules;  // the rules file's own rules

    quint32 addressId(const QString &addr)
    {
        auto it = addressIds.constFind(addr);
        if (it != addressIds.constEnd())
            return it.value();
        if (addresses.size() > 100000) {
            // A flood of spoofed sources: start over, with the SYN windows that name them.
            addressIds.clear();
            addresses.clear();
            synSyns = Windows();
        }
        const quint32 id = quint32(addresses.size());
        addresses.append(addr);
        addressIds.insert(addr, id);
        return id;
    }

    // Settings and switches are asked for per record: looked up once per name (the names are
    // literals, so their address is the key) instead of building a QString each time.
    mutable QHash<const char *, double> cachedParams;
    mutable QHash<const char *, bool> cachedOn;
    bool on(const char *kind) const
    {
        auto it = cachedOn.constFind(kind);
        if (it == cachedOn.constEnd())
            it = cachedOn.insert(kind, config.enabled(QLatin1String(kind)));
        return it.value();
    }
    double param(const char *name) const
    {
        auto it = cachedParams.constFind(name);
        if (it == cachedParams.constEnd())
            it = cachedParams.insert(name, config.value(QLatin1String(name)));
        return it.value();
    }
    qint64 paramNs(const char *name) const { return qint64(param(name)); }
    // The earliest time an open zero-window stall becomes long enough to report.
    qint64 nextStallNs = std::numeric_limits<qint64>::max();

    void raise(Alert alert)
    {
        const QString key = alert.kind + QChar(0x1f) + alert.subject;
        Throttle &t = throttles[key];
        const qint64 throttleNs = paramNs("alert.throttle");
        // Records come in time order within a reorder window, not strictly: an alert a little
        // older than the last one of its kind and subject is a repeat too.
        if (t.lastNs != 0 && qAbs(alert.timeNs - t.lastNs) < throttleNs) {
            ++t.suppressed;
            ++suppressed;
            if (suppressedAlerts.size() < kMaxSuppressedKept)
                suppressedAlerts.append(std::move(alert));
            return;
        }
        alert.suppressed = t.suppressed;
        t.suppressed = 0;
        t.lastNs = alert.timeNs;
        if (alert.connections.size() > Alert::kMaxEvidence)
            alert.connections.resize(Alert::kMaxEvidence);
        if (alert.packets.size() > Alert::kMaxEvidence)
            alert.packets.resize(Alert::kMaxEvidence);
        ++raised;
        pending.append(std::move(alert));
    }

    Alert builtin(const char *kind, qint64 timeNs, const QString &subject)
    {
        Alert a;
        a.kind = QLatin1String(kind);
        a.severity = config.severity(a.kind);
        a.timeNs = timeNs;
        a.subject = subject;
        return a;
    }

    // Connections -------------------------------------------------------------------------

    void noteConnection(const Connection &c)
    {
        ConnInfo &info = connections[c.id];
        info.c = c;
        info.c.history.clear();
        // Addresses may appear only in a later update (a socket that binds late): every update.
        if (c.role == ConnectionRole::Listener) {
            listeners.insert(c.localPort, {endpointText(c.localAddr, c.localPort), c.id});
        } else if (!c.localAddr.isEmpty() && !c.remoteAddr.isEmpty()) {
            localSockets.insert(endpointText(c.localAddr, c.localPort) + QLatin1Char('>') +
                                    endpointText(c.remoteAddr, c.remotePort),
                                c.id);
        }
        rules->addConnection(c);
    }

    void forget(qint64 id)
    {
        auto it = connections.find(id);
        if (it == connections.end())
            return;
        const Connection &c = it->c;
        if (c.role == ConnectionRole::Listener) {
            auto l = listeners.find(c.localPort);
            if (l != listeners.end() && l->second == id)
                listeners.erase(l);
            listenerDrops.remove(id);
        } else {
            const QString key = endpointText(c.localAddr, c.localPort) + QLatin1Char('>') +
                                endpointText(c.remoteAddr, c.remotePort);
            auto s = localSockets.find(key);
            if (s != localSockets.end() && s.value() == id)
                localSockets.erase(s);
        }
        rules->removeConnection(id);
        connections.erase(it);
    }

    void onStateChange(const ConnInfo &info, const StateChange &change)
    {
        const Connection &c = info.c;
        const QString remoteAddr = c.remoteAddr;
        const QString remote = endpointText(c.remoteAddr, c.remotePort);
        if (change.to == TcpState::Established &&
            (change.from == TcpState::SynSent || change.from == TcpState::SynRecv)) {
            if (c.role == ConnectionRole::Server && on("syn_flood"))
                synCompleted.at(QString::number(c.localPort)).add({change.timeNs, c.id, 0});
            if (c.handshakeNs >= 0 && on("handshake_slow"))
                onHandshake(c, change.timeNs);
        }
        if (change.to == TcpState::TimeWait && on("time_wait_buildup") && !c.remoteAddr.isEmpty()) {
            countAndRaise(timeWaits, "time_wait_buildup", "time_wait_buildup.window",
                          "time_wait_buildup.min_sockets", remote, remote, {change.timeNs, c.id, 0},
                          [&](int n, const QString &span) {
                              return QStringLiteral("%1 sockets toward %2 entered TIME_WAIT in "
                                                    "%3; each holds a local port for about a "
                                                    "minute")
                                  .arg(n)
                                  .arg(remote, span);
                          });
        }
        if (change.to != TcpState::Close)
            return;
        // A stall ends with its connection.
        for (auto it = stalls.begin(); it != stalls.end();) {
            if (it->connections.contains(c.id)) {
                checkStall(it.key(), *it, change.timeNs);
                it = stalls.erase(it);
            } else {
                ++it;
            }
        }
        // The connection ended: why, and what that says.
        const bool established = c.handshakeNs >= 0;
        if (c.closeReason == CloseReason::Reset && !remoteAddr.isEmpty() && on("rst_storm") &&
            firstOfLocalPair(c, change.timeNs)) {
            countAndRaise(resets, "rst_storm", "rst_storm.window", "rst_storm.min_resets",
                          remoteAddr, remoteAddr, {change.timeNs, c.id, 0},
                          [&](int n, const QString &span) {
                              return QStringLiteral("%1 connections with %2 ended by a reset in %3")
                                  .arg(n)
                                  .arg(remoteAddr, span);
                          });
        }
        if (c.closeReason == CloseReason::Refused && c.role == ConnectionRole::Client &&
            on("refused_burst")) {
            countAndRaise(refused, "refused_burst", "refused_burst.window",
                          "refused_burst.min_refused", remote, remote, {change.timeNs, c.id, 0},
                          [&](int n, const QString &span) {
                              return QStringLiteral("%1 connections to %2 refused in %3")
                                  .arg(n)
                                  .arg(remote, span);
                          });
        }
        if (c.role == ConnectionRole::Client && !established &&
            (c.closeReason == CloseReason::Refused || c.closeReason == CloseReason::Timeout ||
             c.closeReason == CloseReason::Aborted))
            onClosedPort(remoteAddr, c.remotePort, change.timeNs, c.id);
    }

    // The shape most detectors share: one more hit in the subject's window; at the threshold an
    // alert about the subject with the window's connections, and the window starts over.
    template <typename Summary>
    void countAndRaise(Windows &set, const char *kind, const char *window, const char *threshold,
                       const QString &subject, const QString &remote, const Hit &hit,
                       const Summary &summary)
    {
        Window &w = set.at(subject);
        w.expire(hit.timeNs, paramNs(window));
        w.add(hit);
        if (w.size() < param(threshold))
            return;
        Alert a = builtin(kind, hit.timeNs, subject);
        a.remote = remote;
        a.connections = w.connections();
        a.summary = summary(w.size(), durationText(w.spanNs()));
        w.clear();
        raise(std::move(a));
    }

    // Both sockets of a connection with both ends here end with the same reset: true for the
    // first of the two (and for every connection whose other end is elsewhere).
    bool firstOfLocalPair(const Connection &c, qint64 timeNs)
    {
        const QString here = endpointText(c.localAddr, c.localPort);
        const QString there = endpointText(c.remoteAddr, c.remotePort);
        if (!localSockets.contains(there + QLatin1Char('>') + here))
            return true;
        const QString pair =
            here < there ? here + QLatin1Char('|') + there : there + QLatin1Char('|') + here;
        auto it = resetPairs.find(pair);
        if (it != resetPairs.end() && qAbs(timeNs - it.value()) <= paramNs("rst_storm.window"))
            return false;
        resetPairs.insert(pair, timeNs);
        return true;
    }

    void onHandshake(const Connection &c, qint64 timeNs)
    {
        const qint64 h = c.handshakeNs;
        const qint64 minNs = paramNs("handshake_slow.min_time");
        const int minSamples = int(param("handshake_slow.min_samples"));
        bool slow = false;
        qint64 median = -1;
        if (h >= minNs) {
            if (int(handshakes.size()) >= minSamples && !handshakes.empty()) {
                std::vector<qint64> sorted(handshakes.begin(), handshakes.end());
                std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
                median = sorted[sorted.size() / 2];
                slow = double(h) >= param("handshake_slow.factor") * double(median);
            } else {
                slow = true;
            }
        }
        handshakes.push_back(h);
        if (handshakes.size() > 1001)
            handshakes.pop_front();
        if (!slow)
            return;
        const QString remote = endpointText(c.remoteAddr, c.remotePort);
        Alert a = builtin("handshake_slow", timeNs,
                          c.role == ConnectionRole::Server ? endpointText(c.localAddr, c.localPort)
                                                           : remote);
        a.remote = remote;
        a.connections = {c.id};
        a.summary =
            QStringLiteral("handshake of %1 took %2").arg(connectionLabel(c), durationText(h));
        if (median >= 0)
            a.summary += QStringLiteral(" (median %1)").arg(durationText(median));
        raise(std::move(a));
    }

    // A remote's port found closed or filtered (a refused or unanswered connect, a SYN the
    // kernel had no socket for).
    void onClosedPort(const QString &remoteAddr, quint16 port, qint64 timeNs, qint64 connId)
    {
        if (remoteAddr.isEmpty() || !on("port_scan"))
            return;
        Window &w = scanPorts.at(remoteAddr);
        w.expire(timeNs, paramNs("port_scan.window"));
        w.add({timeNs, connId, port});
        if (w.distinct() >= param("port_scan.min_ports")) {
            Alert a = builtin("port_scan", timeNs, remoteAddr);
            a.remote = remoteAddr;
            a.connections = w.connections();
            a.summary = QStringLiteral("%1 closed or filtered ports reached between this host and "
                                       "%2 in %3")
                            .arg(w.distinct())
                            .arg(remoteAddr, durationText(w.spanNs()));
            w.clear();
            raise(std::move(a));
        }
    }

    // Packets -----------------------------------------------------------------------------

    // True when this copy of a packet is the receiving socket's and the sender is a local
    // socket we also see (the sender's copy is the one counted).
    bool secondLocalCopy(const Packet &p, const QString &src, const QString &dst) const
    {
        return p.direction == PacketDirection::In &&
               localSockets.contains(src + QLatin1Char('>') + dst);
    }

    void onPacket(const Packet &p)
    {
        const bool syn = p.tcpFlags & TS_TCP_SYN;
        const bool ack = p.tcpFlags & TS_TCP_ACK;
        if (syn && !ack && p.direction == PacketDirection::In && on("syn_flood")) {
            auto l = listeners.constFind(p.dstPort);
            if (l != listeners.constEnd()) {
                const QString src = addressText(p.family, p.srcAddr);
                onSyn(p.dstPort, l->first, l->second, p.timeNs, addressId(src));
            }
        }
        if (syn && ack && p.direction == PacketDirection::Out && p.sockState == 0 &&
            on("syn_flood")) {
            // A SYN-ACK sent from a listening port with no request socket behind it: the
            // kernel answered with a SYN cookie instead of queueing the half-open (a normal
            // SYN-ACK finds its request socket, a Fast Open one its child socket).
            auto l = listeners.constFind(p.srcPort);
            if (l != listeners.constEnd())
                onSynPressure(synCookies, p.srcPort, p.timeNs, 0,
                              addressId(addressText(p.family, p.dstAddr)), 1,
                              "syn_flood.min_cookies", "SYN cookies sent");
        }
        if ((p.tcpFlags & TS_TCP_RST) && p.connectionId == 0 &&
            p.direction == PacketDirection::Out && p.seq == 0) {
            // The answer to a SYN on a closed port: RST|ACK with sequence 0 from no socket.
            onClosedPort(addressText(p.family, p.dstAddr), p.srcPort, p.timeNs, 0);
        }
        if (p.payloadLen > 0 && p.connectionId > 0 && on("retransmit_spike"))
            countSegments(p);
        const quint32 f = p.analysis;
        if (f & (AnalysisRetransmission | AnalysisZeroWindow) ||
            (stalls.size() > 0 && !(p.tcpFlags & TS_TCP_RST))) {
            const QString src = endpointText(addressText(p.family, p.srcAddr), p.srcPort);
            const QString dst = endpointText(addressText(p.family, p.dstAddr), p.dstPort);
            if (f & AnalysisRetransmission && on("retransmit_spike") &&
                !secondLocalCopy(p, src, dst) &&
                !(kernelRetransmits && p.direction == PacketDirection::Out))
                onRetransmission(p.connectionId, p.timeNs, 1, p.id);
            if (on("zero_window_stall"))
                onWindow(p, src, dst);
        }
    }

    // The copy of a packet that counts for its connection: the sender's own (Out), or the
    // receiving socket's when the sender is not one of ours.
    bool countedCopy(ConnInfo &info, const Packet &p)
    {
        if (p.direction == PacketDirection::Out)
            return true;
        if (info.peerIsLocal < 0) {
            const Connection &c = info.c;
            info.peerIsLocal =
                localSockets.contains(endpointText(c.remoteAddr, c.remotePort) + QLatin1Char('>') +
                                      endpointText(c.localAddr, c.localPort))
                    ? 1
                    : 0;
        }
        return info.peerIsLocal == 0;
    }

    void countSegments(const Packet &p)
    {
        auto it = connections.find(p.connectionId);
        if (it == connections.end() || !countedCopy(*it, p))
            return;
        const qint64 windowNs = paramNs("retransmit_spike.window");
        const quint64 n = std::max<quint64>(1, p.gsoSegs);
        it->segments.add(p.timeNs, windowNs, n);
        if (!it->c.remoteAddr.isEmpty())
            remoteSegments[it->c.remoteAddr].add(p.timeNs, windowNs, n);
    }

    // Enough retransmissions, and (when the segments sent are known) a large enough share of
    // them: a fast transfer resends a few segments in every second without anything wrong.
    bool retransmitsHigh(int retransmits, double minCount, const RateCounter *segments,
                         qint64 nowNs) const
    {
        if (retransmits < minCount)
            return false;
        const quint64 sent =
            segments ? segments->sum(nowNs, paramNs("retransmit_spike.window")) : 0;
        return sent == 0 || retransmits >= param("retransmit_spike.min_ratio") * double(sent);
    }

    void onSyn(quint16 port, const QString &listener, qint64 listenerId, qint64 timeNs,
               quint32 source)
    {
        const QString key = QString::number(port);
        const qint64 windowNs = paramNs("syn_flood.window");
        Window &syns = synSyns.at(key);
        syns.expire(timeNs, windowNs);
        syns.add({timeNs, 0, source});
        Window &done = synCompleted.at(key);
        done.expire(timeNs, windowNs);
        if (syns.size() >= param("syn_flood.min_syns") &&
            done.size() < param("syn_flood.max_completed") * syns.size()) {
            Alert a = builtin("syn_flood", timeNs, listener);
            const auto [top, topCount] = syns.mostCommon();
            if (topCount * 10 >= quint64(syns.size()) * 9 && top < quint32(addresses.size()))
                a.remote = addresses.at(top);
            a.connections = {listenerId};
            a.summary = QStringLiteral("SYN flood on %1: %2 SYNs from %3 source%4, %5 handshakes "
                                       "completed in %6")
                            .arg(listener)
                            .arg(syns.size())
                            .arg(syns.distinct())
                            .arg(syns.distinct() == 1 ? QString() : QStringLiteral("s"))
                            .arg(done.size())
                            .arg(durationText(syns.spanNs()));
            if (!a.remote.isEmpty() && syns.distinct() > 1)
                a.summary += QStringLiteral(", most from %1").arg(a.remote);
            a.summary += synEvidence(key, &syns, timeNs);
            syns.clear();
            raise(std::move(a));
        }
    }

    // What else the listener's windows hold, for the summary: ", 40 SYN cookies sent, ..."
    // (the window that raised the alert says it first and is left out).
    QString synEvidence(const QString &key, const Window *except, qint64 timeNs)
    {
        QString out;
        const qint64 windowNs = paramNs("syn_flood.window");
        struct Part
        {
            Windows *set;
            const char *one, *many;
        };
        const Part parts[] = {{&synSyns, "SYN", "SYNs"},
                              {&synCookies, "SYN cookie sent", "SYN cookies sent"},
                              {&synAckResends, "SYN-ACK resent to a half-open connection",
                               "SYN-ACKs resent to half-open connections"},
                              {&synOverflows, "SYN or connection dropped by a full queue",
                               "SYNs or connections dropped by a full queue"}};
        for (const Part &part : parts) {
            Window *w = part.set->find(key);
            if (!w || w == except)
                continue;
            w->expire(timeNs, windowNs);
            if (w->size() > 0)
                out += QStringLiteral(", %1 %2").arg(w->size()).arg(
                    QLatin1String(w->size() == 1 ? part.one : part.many));
        }
        return out;
    }

    // SYN cookies or SYN-ACK resends on one listener port while few handshakes complete.
    void onSynPressure(Windows &set, quint16 port, qint64 timeNs, qint64 connId, quint32 source,
                       quint32 count, const char *minParam, const char *what)
    {
        const QString key = QString::number(port);
        const qint64 windowNs = paramNs("syn_flood.window");
        Window &w = set.at(key);
        w.expire(timeNs, windowNs);
        w.add({timeNs, connId, source, count});
        Window &done = synCompleted.at(key);
        done.expire(timeNs, windowNs);
        if (w.size() < param(minParam) ||
            done.size() >= param("syn_flood.max_completed") * w.size())
            return;
        auto l = listeners.constFind(port);
        const QString listener =
            l != listeners.constEnd() ? l->first : QStringLiteral("port %1").arg(port);
        Alert a = builtin("syn_flood", timeNs, listener);
        a.connections = w.connections();
        if (l != listeners.constEnd() && !a.connections.contains(l->second))
            a.connections.prepend(l->second);
        a.summary = QStringLiteral("SYN flood on %1: %2 %3 in %4, %5 handshakes completed")
                        .arg(listener)
                        .arg(w.size())
                        .arg(QLatin1String(what), durationText(w.spanNs()))
                        .arg(done.size());
        a.summary += synEvidence(key, &w, timeNs);
        w.clear();
        raise(std::move(a));
    }

    void onOverflow(quint16 port, qint64 timeNs, quint64 count, const QString &what)
    {
        auto l = listeners.constFind(port);
        const QString listener =
            l != listeners.constEnd() ? l->first : QStringLiteral("port %1").arg(port);
        Window &w = synOverflows.at(QString::number(port));
        w.expire(timeNs, paramNs("syn_flood.window"));
        w.add({timeNs, l != listeners.constEnd() ? l->second : 0, 0,
               quint32(std::min<quint64>(count, UINT32_MAX))});
        if (w.size() >= param("syn_flood.min_overflows")) {
            Alert a = builtin("syn_flood", timeNs, listener);
            a.connections = w.connections();
            a.summary = QStringLiteral("SYN flood on %1: %2 %3 in %4")
                            .arg(listener)
                            .arg(w.size())
                            .arg(what, durationText(w.spanNs()));
            a.summary += synEvidence(QString::number(port), &w, timeNs);
            w.clear();
            raise(std::move(a));
        }
    }

    void onRetransmission(qint64 connId, qint64 timeNs, int segments, qint64 packetId)
    {
        if (connId <= 0)
            return;
        auto it = connections.constFind(connId);
        const Connection *c = it != connections.constEnd() ? &it->c : nullptr;
        const RateCounter *sent = it != connections.constEnd() ? &it->segments : nullptr;
        const qint64 windowNs = paramNs("retransmit_spike.window");
        const QString connKey = QString::number(connId);
        Window &w = retransConn.at(connKey);
        w.expire(timeNs, windowNs);
        w.add({timeNs, connId, quint32(packetId), quint32(segments)});
        if (retransmitsHigh(w.size(), param("retransmit_spike.min_per_connection"), sent, timeNs)) {
            Alert a = builtin("retransmit_spike", timeNs, QStringLiteral("conn ") + connKey);
            a.connections = {connId};
            if (c)
                a.remote = endpointText(c->remoteAddr, c->remotePort);
            a.summary = QStringLiteral("%1 retransmissions in %2%3 on %4")
                            .arg(w.size())
                            .arg(durationText(w.spanNs()), shareText(w.size(), sent, timeNs),
                                 c ? connectionLabel(*c) : QStringLiteral("conn ") + connKey);
            w.clear();
            raise(std::move(a));
        }
        if (!c || c->remoteAddr.isEmpty())
            return;
        Window &r = retransRemote.at(c->remoteAddr);
        r.expire(timeNs, windowNs);
        r.add({timeNs, connId, 0, quint32(segments)});
        auto rs = remoteSegments.constFind(c->remoteAddr);
        const RateCounter *remoteSent = rs != remoteSegments.constEnd() ? &*rs : nullptr;
        if (retransmitsHigh(r.size(), param("retransmit_spike.min_per_remote"), remoteSent,
                            timeNs)) {
            Alert a = builtin("retransmit_spike", timeNs, c->remoteAddr);
            a.remote = c->remoteAddr;
            a.connections = r.connections();
            a.summary = QStringLiteral("%1 retransmissions toward %2 in %3%4 over %5 connection%6")
                            .arg(r.size())
                            .arg(c->remoteAddr, durationText(r.spanNs()),
                                 shareText(r.size(), remoteSent, timeNs))
                            .arg(a.connections.size())
                            .arg(a.connections.size() == 1 ? QString() : QStringLiteral("s"));
            r.clear();
            raise(std::move(a));
        }
    }

    QString shareText(int retransmits, const RateCounter *sent, qint64 nowNs) const
    {
        const quint64 n = sent ? sent->sum(nowNs, paramNs("retransmit_spike.window")) : 0;
        if (n == 0)
            return {};
        return QStringLiteral(" (%1 % of %2 segments sent)")
            .arg(100.0 * retransmits / double(n), 0, 'f', 1)
            .arg(n);
    }

    // Zero windows: a stall starts with a segment advertising window 0 and ends with one from
    // the same sender advertising more (or the connection closing).
    void onWindow(const Packet &p, const QString &src, const QString &dst)
    {
        const QString key = src + QLatin1Char('>') + dst;
        if (p.analysis & AnalysisZeroWindow) {
            ZeroWindowStall &s = stalls[key];
            if (s.startNs == 0) {
                s.startNs = p.timeNs;
                nextStallNs = std::min(
                    nextStallNs, addSat(s.startNs, paramNs("zero_window_stall.min_duration")));
                s.summary = QStringLiteral("%1 advertised a zero window to %2").arg(src, dst);
            }
            s.lastNs = p.timeNs;
            if (p.connectionId > 0)
                s.connections.insert(p.connectionId);
            if (s.packets.size() < Alert::kMaxEvidence)
                s.packets.append(p.id);
            return;
        }
        auto it = stalls.find(key);
        if (it == stalls.end() || p.window == 0 || (p.tcpFlags & TS_TCP_SYN))
            return;
        checkStall(it.key(), *it, p.timeNs); // measured up to the reopening segment
        stalls.erase(it);
    }

    void checkStall(const QString &key, ZeroWindowStall &s, qint64 nowNs)
    {
        if (s.fired || nowNs - s.startNs < paramNs("zero_window_stall.min_duration"))
            return;
        s.fired = true;
        Alert a = builtin("zero_window_stall",
                          addSat(s.startNs, paramNs("zero_window_stall.min_duration")), key);
        a.connections = QVector<qint64>(s.connections.begin(), s.connections.end());
        std::sort(a.connections.begin(), a.connections.end());
        a.packets = s.packets;
        const qsizetype gt = key.indexOf(QLatin1Char('>'));
        a.remote = key.mid(gt + 1);
        // Name the socket that stopped reading (its local end is the advertiser), else any.
        QString who;
        for (qint64 id : a.connections) {
            auto c = connections.constFind(id);
            if (c == connections.constEnd())
                continue;
            const bool advertiser = endpointText(c->c.localAddr, c->c.localPort) == key.left(gt);
            if (who.isEmpty() || advertiser)
                who = (advertiser ? QStringLiteral("; not reading: ") : QStringLiteral("; on ")) +
                      connectionLabel(c->c);
            if (advertiser)
                break;
        }
        a.summary =
            QStringLiteral("%1 for %2 or more%3")
                .arg(s.summary, durationText(paramNs("zero_window_stall.min_duration")), who);
        raise(std::move(a));
    }

    // Kernel -------------------------------------------------------------------------------

    void onEvent(const KernelEvent &e)
    {
        if (e.kind == KernelEventKind::SynAckRetransmit && on("syn_flood")) {
            // Joined to the accepted connection, or to the listener when none came of it.
            auto it = connections.constFind(e.connectionId);
            if (it != connections.constEnd() &&
                (it->c.role == ConnectionRole::Listener || it->c.role == ConnectionRole::Server))
                onSynPressure(synAckResends, it->c.localPort, e.timeNs, e.connectionId, 0,
                              std::max<quint32>(1, e.segs), "syn_flood.min_synack_resends",
                              "SYN-ACKs resent to half-open connections");
            return;
        }
        if (e.kind == KernelEventKind::Retransmit && e.err == 0) {
            kernelRetransmits = true;
            if (on("retransmit_spike") && !(e.tcpFlags & TS_TCP_SYN))
                onRetransmission(e.connectionId, e.timeNs, std::max<int>(1, e.segs), 0);
        }
    }

    void onDrop(const DropEvent &d)
    {
        const bool syn = (d.tcpFlags & TS_TCP_SYN) && !(d.tcpFlags & TS_TCP_ACK);
        // SYNs to a closed port are port_scan's evidence, not a surge of their own.
        const bool closedPort = syn && d.reasonName == QLatin1String("NO_SOCKET");
        const bool named = !d.reasonName.isEmpty() && !config.ignoredDrops().contains(d.reasonName);
        // A full accept or SYN queue is syn_flood's evidence.
        const bool queueFull = d.reasonName == QLatin1String("TCP_LISTEN_OVERFLOW") ||
                               d.reasonName == QLatin1String("TCP_REQQFULLDROP");
        if (on("drop_surge") && named && !closedPort && !queueFull) {
            countAndRaise(
                drops, "drop_surge", "drop_surge.window", "drop_surge.min_drops", d.reasonName,
                QString(), {d.timeNs, d.connectionId, 0}, [&](int n, const QString &span) {
                    return QStringLiteral("the kernel dropped %1 TCP packets for %2 in %3")
                        .arg(n)
                        .arg(d.reasonName, span);
                });
        }
        if (closedPort)
            onClosedPort(d.srcAddr, d.dstPort, d.timeNs, 0);
        if (on("syn_flood") && (d.reasonName == QLatin1String("TCP_LISTEN_OVERFLOW") ||
                                d.reasonName == QLatin1String("TCP_REQQFULLDROP")))
            onOverflow(d.dstPort, d.timeNs, 1, QStringLiteral("SYNs dropped by a full queue"));
    }

    void onListener(const ListenerSample &l)
    {
        if (l.connectionId <= 0)
            return;
        auto it = listenerDrops.find(l.connectionId);
        if (it == listenerDrops.end()) {
            listenerDrops.insert(l.connectionId, l.drops);
            return;
        }
        const quint64 delta = l.drops > it.value() ? l.drops - it.value() : 0;
        it.value() = l.drops;
        if (delta > 0 && on("syn_flood"))
            onOverflow(l.port, l.timeNs, delta, QStringLiteral("connections the listener dropped"));
    }

    // Time ---------------------------------------------------------------------------------

    void advance(qint64 timeNs)
    {
        if (timeNs <= nowNs)
            return;
        nowNs = timeNs;
        if (nowNs >= nextStallNs) {
            nextStallNs = std::numeric_limits<qint64>::max();
            const qint64 minNs = paramNs("zero_window_stall.min_duration");
            for (auto it = stalls.begin(); it != stalls.end(); ++it) {
                checkStall(it.key(), *it, nowNs);
                if (!it->fired)
                    nextStallNs = std::min(nextStallNs, addSat(it->startNs, minNs));
            }
        }
        if (nowNs - lastSweepNs < 5'000'000'000)
            return;
        lastSweepNs = nowNs;
        // Each set of windows is swept with its own length, so a subject seen once (a spoofed
        // source) is forgotten as soon as its hit leaves the window.
        const std::pair<Windows *, const char *> sets[] = {
            {&synSyns, "syn_flood.window"},
            {&synCompleted, "syn_flood.window"},
            {&synOverflows, "syn_flood.window"},
            {&synCookies, "syn_flood.window"},
            {&synAckResends, "syn_flood.window"},
            {&scanPorts, "port_scan.window"},
            {&resets, "rst_storm.window"},
            {&refused, "refused_burst.window"},
            {&retransConn, "retransmit_spike.window"},
            {&retransRemote, "retransmit_spike.window"},
            {&drops, "drop_surge.window"},
            {&timeWaits, "time_wait_buildup.window"}};
        for (const auto &[set, window] : sets)
            set->sweep(nowNs, paramNs(window));
        rules->sweep(nowNs);
        for (auto it = resetPairs.begin(); it != resetPairs.end();) {
            if (nowNs - it.value() > paramNs("rst_storm.window"))
                it = resetPairs.erase(it);
            else
                ++it;
        }
        for (auto it = remoteSegments.begin(); it != remoteSegments.end();) {
            if (nowNs - it->lastNs() > 2 * paramNs("retransmit_spike.window"))
                it = remoteSegments.erase(it);
            else
                ++it;
        }
        // Closed connections are kept a minute for late packets, then forgotten.
        QVector<qint64> old;
        for (auto it = connections.cbegin(); it != connections.cend(); ++it)
            if (it->closed && nowNs - it->lastNs > 60'000'000'000)
                old.append(it.key());
        for (qint64 id : old)
            forget(id);
        for (auto it = stalls.begin(); it != stalls.end();) {
            if (nowNs - it->lastNs > 600'000'000'000)
                it = stalls.erase(it);
            else
                ++it;
        }
        for (auto it = throttles.begin(); it != throttles.end();) {
            if (nowNs - it->lastNs > 2 * paramNs("alert.throttle"))
                it = throttles.erase(it);
            else
                ++it;
        }
    }
};

AlertEngine::AlertEngine(const AlertConfig &config) : d(std::make_unique<Private>())
{
    d->config = config;
    d->rules = std::make_unique<detail::RuleMatcher>(
        config.rules(), [p = d.get()](Alert a) { p->raise(std::move(a)); });
}

AlertEngine::~AlertEngine() = default;

void AlertEngine::addBatch(const QVector<Connection> &changed, const QVector<Packet> &packets,
                           const KernelData &kernel)
{
    Private &p = *d;
    QVector<Item> items;
    items.reserve(packets.size() + kernel.events.size() + kernel.drops.size() +
                  kernel.listeners.size() + changed.size() * 2);
    const bool connRules = p.rules->hasConnectionRules();
    for (int i = 0; i < changed.size(); ++i) {
        const Connection &c = changed.at(i);
        p.noteConnection(c);
        ConnInfo &info = p.connections[c.id];
        qint64 last = c.startNs;
        for (int h = info.historySeen; h < c.history.size(); ++h) {
            items.append({c.history.at(h).timeNs, ItemType::State, i, h});
            last = std::max(last, c.history.at(h).timeNs);
        }
        if (!c.history.isEmpty())
            last = std::max(last, c.history.last().timeNs);
        info.historySeen = std::max<int>(info.historySeen, int(c.history.size()));
        info.lastNs = std::max(info.lastNs, last);
    }
    for (int i = 0; i < packets.size(); ++i)
        items.append({packets.at(i).timeNs, ItemType::Packet, i, 0});
    for (int i = 0; i < kernel.events.size(); ++i)
        items.append({kernel.events.at(i).timeNs, ItemType::Event, i, 0});
    for (int i = 0; i < kernel.drops.size(); ++i)
        items.append({kernel.drops.at(i).timeNs, ItemType::Drop, i, 0});
    for (int i = 0; i < kernel.listeners.size(); ++i)
        items.append({kernel.listeners.at(i).timeNs, ItemType::Listener, i, 0});
    std::stable_sort(items.begin(), items.end(),
                     [](const Item &a, const Item &b) { return a.timeNs < b.timeNs; });
    // Connection rules test each changed connection as it is at the end of the batch (its
    // counters may have crossed a threshold without a state change): at the batch's newest
    // record time.
    if (connRules) {
        qint64 end = items.isEmpty() ? p.nowNs : items.last().timeNs;
        for (const Connection &c : changed)
            if (!c.history.isEmpty())
                end = std::max(end, c.history.last().timeNs);
        for (int i = 0; i < changed.size(); ++i)
            items.append({end, ItemType::ConnectionRules, i, 0});
    }
    const bool packetRules = p.rules->hasPacketRules();
    const detail::RuleMatcher::FindConnection findConnection =
        [&p](qint64 id) -> const Connection * {
        auto it = p.connections.constFind(id);
        return it != p.connections.constEnd() ? &it->c : nullptr;
    };
    for (const Item &item : std::as_const(items)) {
        ++p.items;
        p.advance(item.timeNs);
        switch (item.type) {
        case ItemType::State: {
            const Connection &c = changed.at(item.index);
            auto it = p.connections.find(c.id);
            if (it != p.connections.end()) {
                const StateChange &change = c.history.at(item.sub);
                it->closed = it->closed || change.to == TcpState::Close;
                p.onStateChange(*it, change);
            }
            break;
        }
        case ItemType::ConnectionRules:
            p.rules->onConnection(changed.at(item.index), item.timeNs);
            break;
        case ItemType::Packet:
            p.onPacket(packets.at(item.index));
            if (packetRules)
                p.rules->onPacket(packets.at(item.index), findConnection);
            if (packets.at(item.index).connectionId > 0) {
                auto it = p.connections.find(packets.at(item.index).connectionId);
                if (it != p.connections.end())
                    it->lastNs = std::max(it->lastNs, item.timeNs);
            }
            break;
        case ItemType::Event:
            p.onEvent(kernel.events.at(item.index));
            break;
        case ItemType::Drop:
            p.onDrop(kernel.drops.at(item.index));
            break;
        case ItemType::Listener:
            p.onListener(kernel.listeners.at(item.index));
            break;
        }
    }
}

void AlertEngine::advanceTo(qint64 nowNs)
{
    d->advance(nowNs);
}

QVector<Alert> AlertEngine::takeAlerts()
{
    QVector<Alert> out;
    out.swap(d->pending);
    std::stable_sort(out.begin(), out.end(),
                     [](const Alert &a, const Alert &b) { return a.timeNs < b.timeNs; });
    return out;
}

QVector<Alert> AlertEngine::takeSuppressed()
{
    QVector<Alert> out;
    out.swap(d->suppressedAlerts);
    return out;
}

void AlertEngine::forgetConnections(const QVector<qint64> &ids)
{
    for (qint64 id : ids)
        d->forget(id);
}

quint64 AlertEngine::alertsRaised() const
{
    return d->raised;
}

quint64 AlertEngine::alertsSuppressed() const
{
    return d->suppressed;
}

quint64 AlertEngine::itemsSeen() const
{
    return d->items;
}

} // namespace tcpscope
