// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture_controller.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

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

std::unique_ptr<LiveCapture> CaptureController::makeCapture(const std::optional<RemoteTarget> &host, bool relay)
{
    auto capture = std::make_unique<LiveCapture>();
    capture->setTrigger(m_trigger); // the GUI sets no rotation, which a trigger excludes
    capture->setRemote(host);
    const QString label = hostLabel(host);
    if (!relay) {
        // A host beside the live view: only its end is told, naming it.
        connect(capture.get(), &LiveCapture::failed, this,
                [this, label](const QString &reason) { emit failed(tr("%1: %2").arg(label, reason)); });
        connect(capture.get(), &LiveCapture::helperMessage, this, [this, label](const QString &text, bool warning) {
            if (warning)
                emit helperWarning(tr("%1: %2").arg(label, text));
        });
        return capture;
    }
    connect(capture.get(), &LiveCapture::connectionsUpdated, this, &CaptureController::connectionsUpdated);
    connect(capture.get(), &LiveCapture::packetsAdded, this, &CaptureController::packetsAdded);
    connect(capture.get(), &LiveCapture::kernelDataAdded, this, &CaptureController::kernelDataAdded);
    connect(capture.get(), &LiveCapture::statsUpdated, this, &CaptureController::statsUpdated);
    connect(capture.get(), &LiveCapture::infoReady, this, &CaptureController::infoReady);
    connect(capture.get(), &LiveCapture::failed, this, [this, label](const QString &reason) {
        emit failed(isMultiHost() ? tr("%1: %2").arg(label, reason) : reason);
    });
    connect(capture.get(), &LiveCapture::stopped, this, &CaptureController::stopped);
    connect(capture.get(), &LiveCapture::alertsRaised, this, &CaptureController::alertsRaised);
    connect(capture.get(), &LiveCapture::helperMessage, this, [this, label](const QString &text, bool warning) {
        if (warning)
            emit helperWarning(isMultiHost() ? tr("%1: %2").arg(label, text) : text);
    });
    return capture;
}

bool CaptureController::start(const CaptureOptions &options, const QVector<std::optional<RemoteTarget>> &hosts,
                              QString *error)
{
    if (isRunning())
        return true;
    if (hosts.isEmpty()) {
        *error = tr("No host is chosen (Capture ▸ Remote Hosts…)");
        return false;
    }
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/captures");
    if (!QDir().mkpath(dir)) {
        *error = tr("Cannot create the capture directory %1").arg(dir);
        return false;
    }
    const QString stem = dir + QStringLiteral("/capture-%1")
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
            parts << partsDir + (hosts[i] ? QStringLiteral("/remote-%1.tcpscope").arg(i) : QStringLiteral("/local.tcpscope"));
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
                for (auto &c : others)
                    c->stop();
                if (first)
                    first->stop();
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
