// SPDX-License-Identifier: GPL-3.0-or-later
#include "alert_notifier.h"

#ifdef TCPSCOPE_HAVE_QT_DBUS
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#endif

#include <QPointer>

namespace tcpscope {

namespace {
#ifdef TCPSCOPE_HAVE_QT_DBUS
const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");
#endif
} // namespace

AlertNotifier::AlertNotifier(QObject *parent) : QObject(parent)
{
    m_flush.setSingleShot(true);
    connect(&m_flush, &QTimer::timeout, this, &AlertNotifier::flush);
}

void AlertNotifier::setInterval(int ms)
{
    m_interval = std::max(0, ms);
}

bool AlertNotifier::desktopServiceAvailable()
{
#ifdef TCPSCOPE_HAVE_QT_DBUS
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected() || !bus.interface())
        return false;
    if (bus.interface()->isServiceRegistered(kService).value())
        return true;
    return bus.interface()->activatableServiceNames().value().contains(kService);
#else
    return false;
#endif
}

AlertNotifier::Delivery AlertNotifier::notify(const Alert &alert)
{
    if (m_since.isValid() && m_since.elapsed() < m_interval) {
        ++m_pending;
        m_lastPending = alert;
        if (!m_flush.isActive())
            m_flush.start(int(std::max<qint64>(1, m_interval - m_since.elapsed())));
        return Delivery::Throttled;
    }
    m_since.start();
    return deliver(tr("%1 (%2)").arg(alert.kind, alertSeverityName(alert.severity)), alert.summary);
}

void AlertNotifier::flush()
{
    if (m_pending == 0)
        return;
    const int n = m_pending;
    const Alert last = m_lastPending;
    m_pending = 0;
    m_since.start();
    if (n == 1)
        deliver(tr("%1 (%2)").arg(last.kind, alertSeverityName(last.severity)), last.summary);
    else
        deliver(tr("%1 more high-severity alerts").arg(n),
                tr("The latest: %1. The Alerts tab lists them all.").arg(last.summary));
}

AlertNotifier::Delivery AlertNotifier::deliver(const QString &what, const QString &body)
{
    const QString status = tr("Alert: %1 — %2").arg(what, body);
#ifdef TCPSCOPE_HAVE_QT_DBUS
    if (desktopServiceAvailable()) {
        QDBusMessage call =
            QDBusMessage::createMethodCall(kService, kPath, kService, QStringLiteral("Notify"));
        QVariantMap hints;
        hints.insert(QStringLiteral("urgency"), QVariant::fromValue(uchar(2))); // critical
        hints.insert(QStringLiteral("desktop-entry"), QStringLiteral("tcpscope"));
        // The body may be read as markup by the server: the summary is text.
        call << QStringLiteral("tcpscope") << uint(0) << QStringLiteral("dialog-warning")
             << tr("tcpscope: %1").arg(what) << body.toHtmlEscaped() << QStringList() << hints
             << int(-1);
        auto *watcher =
            new QDBusPendingCallWatcher(QDBusConnection::sessionBus().asyncCall(call), this);
        QPointer<AlertNotifier> self(this);
        connect(watcher, &QDBusPendingCallWatcher::finished, this,
                [self, status](QDBusPendingCallWatcher *w) {
                    w->deleteLater();
                    if (self && w->isError())
                        emit self->statusMessage(status);
                });
        ++m_desktop;
        return Delivery::Desktop;
    }
#endif
    emit statusMessage(status);
    return Delivery::StatusBar;
}

} // namespace tcpscope
