// SPDX-License-Identifier: GPL-3.0-or-later
// Tells the user about a high-severity alert during a live capture: a desktop notification
// through org.freedesktop.Notifications on the D-Bus session bus when that service is there,
// otherwise (no session bus, no service, a build without QtDBus, or the call failing) a
// statusMessage for the window's status bar. At most one per interval; alerts in between are
// counted and told together when the interval ends (the Alerts tab lists every one).
#pragma once

#include "detect/alert.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace tcpscope {

class AlertNotifier : public QObject
{
    Q_OBJECT
public:
    enum class Delivery
    {
        Desktop,   // sent to the notification service
        StatusBar, // statusMessage emitted
        Throttled, // too soon after the previous one: counted for the next
    };

    explicit AlertNotifier(QObject *parent = nullptr);

    Delivery notify(const Alert &alert);
    void setInterval(int ms);
    int interval() const { return m_interval; }
    // Whether org.freedesktop.Notifications is registered (or can be started) on the session bus.
    static bool desktopServiceAvailable();
    quint64 desktopNotifications() const { return m_desktop; } // sent so far

signals:
    void statusMessage(const QString &text);

private:
    Delivery deliver(const QString &what, const QString &body);
    void flush();

    int m_interval = 5000;
    QElapsedTimer m_since; // since the last delivery
    QTimer m_flush;        // tells the alerts throttled meanwhile
    int m_pending = 0;
    Alert m_lastPending;
    quint64 m_desktop = 0;
};

} // namespace tcpscope
