// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture_controller.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include <algorithm>

namespace tcpscope {

namespace {
// Resets the override cursor however the blocking call it brackets ends.
struct BusyCursor
{
    BusyCursor() { QApplication::setOverrideCursor(Qt::WaitCursor); }
    ~BusyCursor() { QApplication::restoreOverrideCursor(); }
};
} // namespace

CaptureController::CaptureController(QObject *parent) : QObject(parent) {}

CaptureController::~CaptureController()
{
    for (auto &c : m_others)
        c->stop();
    if (m_capture)
        m_capture->stop();
}

namespace {
QString hostLabel(const std::optional<RemoteTarget> &host)
{
    return host ? host->destination : CaptureController::tr("this machine");
}
} // namespace

bool CaptureController::start(const CaptureOptions &options, QString *error)
{
    return start(options, {std::nullopt}, error);
}

std::unique_ptr<LiveCapture> CaptureController::makeCapture(const std::optional<RemoteTarget> &host,
                                                            bool relay)
{
    auto capture = std::make_unique<LiveCapture>();
    capture->setTrigger(m_trigger); // the GUI sets no rotation, which a trigger excludes
    capture->setRemote(host);
    const QString label = hostLabel(host);
    if (!relay) {
        // A host beside the live view: only its end is told, naming it, while it is one of ours.
        LiveCapture *const self = capture.get();
        auto ours = [this, self] {
            return std::any_of(m_others.begin(), m_others.end(),
                               [self](const auto &c) { return c.get() == self; });
        };
        connect(self, &LiveCapture::failed, this, [this, ours, label](const QString &reason) {
            if (ours())
                emit failed(tr("%1: %2").arg(label, reason));
        });
        connect(self, &LiveCapture::helperMessage, this,
                [this, ours, label](const QString &text, bool warning) {
                    if (warning && ours())
                        emit helperWarning(tr("%1: %2").arg(label, text));
                });
        return capture;
    }
    // Relayed only while it is the window's capture: a capture given up on at start may still
    // have updates on their way (queued from its ingest thread).
    LiveCapture *const self = capture.get();
    auto forward = [this, self](auto signal) {
        return [this, self, signal](const auto &...args) {
            if (m_capture.get() == self)
                emit(this->*signal)(args...);
        };
    };
    connect(self, &LiveCapture::connectionsUpdated, this,
            forward(&CaptureController::connectionsUpdated));
    connect(self, &LiveCapture::packetsAdded, this, forward(&CaptureController::packetsAdded));
    connect(self, &LiveCapture::kernelDataAdded, this,
            forward(&CaptureController::kernelDataAdded));
    connect(self, &LiveCapture::statsUpdated, this, forward(&CaptureController::statsUpdated));
    connect(self, &LiveCapture::infoReady, this, forward(&CaptureController::infoReady));
    connect(self, &LiveCapture::stopped, this, forward(&CaptureController::stopped));
    connect(self, &LiveCapture::alertsRaised, this, forward(&CaptureController::alertsRaised));
    connect(self, &LiveCapture::failed, this, [this, self, label](const QString &reason) {
        if (m_capture.get() == self)
            emit failed(isMultiHost() ? tr("%1: %2").arg(label, reason) : reason);
    });
    connect(self, &LiveCapture::helperMessage, this,
            [this, self, label](const QString &text, bool warning) {
                if (warning && m_capture.get() == self)
                    emit helperWarning(isMultiHost() ? tr("%1: %2").arg(label, text) : text);
            });
    return capture;
}

bool CaptureController::start(const CaptureOptions &options,
                              const QVector<std::optional<RemoteTarget>> &hosts, QString *error)
{
    if (isRunning())
        return true;
    if (hosts.isEmpty()) {
        *error = tr("No host is chosen (Capture ▸ Remote Hosts…)");
        return false;
    }
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) +
                        QStringLiteral("/captures");
    if (!QDir().mkpath(dir)) {
        *error = tr("Cannot create the capture directory %1").arg(dir);
        return false;
    }
    const QString stem =
        dir + QStringLiteral("/capture-%1")
                  .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss")));
    QStringList parts;
    QString partsDir;
    if (hosts.size() == 1) {
        parts << stem + QStringLiteral(".tcpscope");
    } else {
        // A directory only this capture uses: the parts are merged from it, then removed.
        partsDir = stem + QStringLiteral(".parts");
        for (int n = 2; QFileInfo::exists(partsDir); ++n)
            partsDir = stem + QStringLiteral("-%1.parts").arg(n);
        if (!QDir().mkdir(partsDir)) {
            *error = tr("Cannot create the directory %1 for the hosts' parts").arg(partsDir);
            return false;
        }
        for (qsizetype i = 0; i < hosts.size(); ++i)
            parts << partsDir + (hosts[i] ? QStringLiteral("/remote-%1.tcpscope").arg(i)
                                          : QStringLiteral("/local.tcpscope"));
    }
    std::unique_ptr<LiveCapture> first;
    std::vector<std::unique_ptr<LiveCapture>> others;
    {
        BusyCursor busy; // bounded: each helper's Hello or its error arrives within seconds
        for (qsizetype i = 0; i < hosts.size(); ++i) {
            std::unique_ptr<LiveCapture> capture = makeCapture(hosts[i], i == 0);
            QString why;
            if (!capture->start(parts[i], options, &why)) {
                *error = hosts.size() == 1 ? why : tr("%1: %2").arg(hostLabel(hosts[i]), why);
                // Stopped quietly: their last counters and stopped() are not the window's news.
                for (auto &c : others) {
                    c->disconnect(this);
                    c->stop();
                }
                if (first) {
                    first->disconnect(this);
                    first->stop();
                }
                if (!partsDir.isEmpty())
                    QDir(partsDir).removeRecursively();
                return false;
            }
            if (i == 0)
                first = std::move(capture);
            else
                others.push_back(std::move(capture));
        }
    }
    m_capture = std::move(first);
    m_others = std::move(others);
    m_labels.clear();
    for (const auto &h : hosts)
        m_labels << hostLabel(h);
    m_parts = hosts.size() > 1 ? parts : QStringList();
    m_partsDir = partsDir;
    m_merged = hosts.size() > 1 ? stem + QStringLiteral(".tcpscope") : QString();
    for (int n = 2; !m_merged.isEmpty() && QFileInfo::exists(m_merged); ++n)
        m_merged = stem + QStringLiteral("-%1.tcpscope").arg(n);
    m_options = options;
    return true;
}

void CaptureController::stop()
{
    if (!m_capture)
        return;
    BusyCursor busy; // bounded: each helper detaches and its writer finishes the file
    for (auto &c : m_others)
        c->stop();
    m_capture->stop();
}

void CaptureController::release()
{
    m_others.clear();
    m_capture.reset();
    m_parts.clear();
    m_partsDir.clear();
    m_merged.clear();
}

bool CaptureController::isRunning() const
{
    if (m_capture && m_capture->isRunning())
        return true;
    for (const auto &c : m_others) {
        if (c->isRunning())
            return true;
    }
    return false;
}

QString CaptureController::sessionPath() const
{
    return m_capture ? m_capture->sessionPath() : QString();
}

} // namespace tcpscope
