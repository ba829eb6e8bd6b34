// SPDX-License-Identifier: GPL-3.0-or-later
// What a built-in detector may ask of the alert engine, and nothing more: the settings of the
// rules file, raising an alert (throttled per kind and subject), and what the engine knows of
// the connections, listeners and local socket pairs it has been fed. The engine
// (core/detect/alert_engine.cpp) owns one context and hands it to each detector; the detectors
// keep their own windows. Internal to core/detect; record time only.
#pragma once

#include "detect/alert.h"
#include "detect/alert_rules.h"
#include "detect/alert_windows.h"
#include "detect/detector_text.h"
#include "model/connection.h"

#include <QHash>
#include <QString>
#include <QVector>

#include <utility>

namespace tcpscope::detail {

// A socket's two ends as the model holds them: the key of the table of local sockets.
struct SocketEnds
{
    IpAddress localAddr;
    quint16 localPort = 0;
    IpAddress remoteAddr;
    quint16 remotePort = 0;

    static SocketEnds of(const Connection &c)
    {
        return {c.localAddr, c.localPort, c.remoteAddr, c.remotePort};
    }
    // The same pair seen from the other end.
    SocketEnds reversed() const { return {remoteAddr, remotePort, localAddr, localPort}; }
    bool operator==(const SocketEnds &) const = default;
};

inline size_t qHash(const SocketEnds &k, size_t seed = 0)
{
    return qHashMulti(seed, k.localAddr, k.localPort, k.remoteAddr, k.remotePort);
}

// What the engine keeps of a connection while it is alive (and a while after it closed).
struct ConnInfo
{
    Connection c;         // latest values, without history
    int historySeen = 0;  // state changes already looked at
    qint64 lastNs = 0;    // latest record time of this connection
    bool closed = false;  // its change to CLOSE was looked at
    int peerIsLocal = -1; // the other end is a socket we also see (-1: not known yet)
    RateCounter segments; // data segments this socket's copies counted (retransmit_spike)
};

// The listener on a port: its "addr:port" and its connection id.
using ListenerInfo = std::pair<QString, qint64>;

class DetectorContext
{
public:
    explicit DetectorContext(const AlertConfig &config) : m_config(config) {}

    // Settings ------------------------------------------------------------------------------

    const AlertConfig &config() const { return m_config; }
    // Settings and switches are asked for per record: looked up once per name (the names are
    // literals, so their address is the key) instead of building a QString each time.
    bool on(const char *kind) const
    {
        auto it = m_cachedOn.constFind(kind);
        if (it == m_cachedOn.constEnd())
            it = m_cachedOn.insert(kind, m_config.enabled(QLatin1String(kind)));
        return it.value();
    }
    double param(const char *name) const
    {
        auto it = m_cachedParams.constFind(name);
        if (it == m_cachedParams.constEnd())
            it = m_cachedParams.insert(name, m_config.value(QLatin1String(name)));
        return it.value();
    }
    qint64 paramNs(const char *name) const { return qint64(param(name)); }

    // Alerts --------------------------------------------------------------------------------

    // A built-in detector's alert with its configured severity.
    Alert builtin(const char *kind, qint64 timeNs, const QString &subject) const;
    // Throttled per kind and subject (alert.throttle); evidence cut to Alert::kMaxEvidence.
    void raise(Alert alert);

    // The shape most detectors share: one more hit in the subject's window; at the threshold an
    // alert about the subject with the window's connections, and the window starts over.
    // summary(hits, span text) words it.
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

    // Connections ---------------------------------------------------------------------------

    const ConnInfo *connection(qint64 id) const
    {
        auto it = m_connections.constFind(id);
        return it != m_connections.constEnd() ? &*it : nullptr;
    }
    ConnInfo *connection(qint64 id)
    {
        auto it = m_connections.find(id);
        return it != m_connections.end() ? &*it : nullptr;
    }
    const ListenerInfo *listener(quint16 port) const
    {
        auto it = m_listeners.constFind(port);
        return it != m_listeners.constEnd() ? &*it : nullptr;
    }
    // Whether these ends are a socket we see: a packet's sender that is one of ours (loopback,
    // local pairs) is seen twice, once per socket.
    bool isLocalSocket(const SocketEnds &ends) const { return m_localSockets.contains(ends); }
    // The copy of a packet that counts for its connection: the sender's own (Out), or the
    // receiving socket's when the sender is not one of ours.
    bool countedCopy(ConnInfo &info, const Packet &p);

    // The engine's side ---------------------------------------------------------------------

    // A connection created or changed: its latest values, its listener or local socket.
    ConnInfo &noteConnection(const Connection &c);
    // Its state goes (a closed connection's late records find nothing).
    void forget(qint64 id);
    // Closed connections whose last record is more than a minute before nowNs.
    QVector<qint64> staleConnections(qint64 nowNs) const;
    // Forgets the throttles of subjects quiet for two throttle periods.
    void sweep(qint64 nowNs);

    QVector<Alert> takeAlerts();
    QVector<Alert> takeSuppressed();
    quint64 alertsRaised() const { return m_raised; }
    quint64 alertsSuppressed() const { return m_suppressed; }

private:
    struct Throttle
    {
        qint64 lastNs = 0;
        quint64 suppressed = 0;
    };

    AlertConfig m_config;
    mutable QHash<const char *, double> m_cachedParams;
    mutable QHash<const char *, bool> m_cachedOn;

    QVector<Alert> m_pending;
    // Alerts throttling left out since the last takeSuppressed (a trigger still counts them).
    static constexpr qsizetype kMaxSuppressedKept = 10000;
    QVector<Alert> m_suppressedAlerts;
    QHash<QString, Throttle> m_throttles;
    quint64 m_raised = 0;
    quint64 m_suppressed = 0;

    QHash<qint64, ConnInfo> m_connections;
    QHash<SocketEnds, qint64> m_localSockets;
    QHash<quint16, ListenerInfo> m_listeners;
};

} // namespace tcpscope::detail
