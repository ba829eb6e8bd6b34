// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture_controller.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>
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
    if (m_capture)
        m_capture->stop();
}

bool CaptureController::start(const CaptureOptions &options, QString *error)
{
    if (isRunning())
        return true;
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + QStringLiteral("/captures");
    if (!QDir().mkpath(dir)) {
        *error = tr("Cannot create the capture directory %1").arg(dir);
        return false;
    }
    const QString path = dir + QStringLiteral("/capture-%1.tcpscope")
                                   .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss")));
    auto capture = std::make_unique<LiveCapture>();
    capture->setTrigger(m_trigger); // the GUI sets no rotation, which a trigger excludes
    connect(capture.get(), &LiveCapture::connectionsUpdated, this, &CaptureController::connectionsUpdated);
    connect(capture.get(), &LiveCapture::packetsAdded, this, &CaptureController::packetsAdded);
    connect(capture.get(), &LiveCapture::kernelDataAdded, this, &CaptureController::kernelDataAdded);
    connect(capture.get(), &LiveCapture::statsUpdated, this, &CaptureController::statsUpdated);
    connect(capture.get(), &LiveCapture::infoReady, this, &CaptureController::infoReady);
    connect(capture.get(), &LiveCapture::failed, this, &CaptureController::failed);
    connect(capture.get(), &LiveCapture::stopped, this, &CaptureController::stopped);
    connect(capture.get(), &LiveCapture::alertsRaised, this, &CaptureController::alertsRaised);
    connect(capture.get(), &LiveCapture::helperMessage, this, [this](const QString &text, bool warning) {
        if (warning)
            emit helperWarning(text);
    });
    {
        BusyCursor busy; // bounded: the helper's Hello or its error arrives within seconds
        if (!capture->start(path, options, error))
            return false;
    }
    m_capture = std::move(capture);
    m_options = options;
    return true;
}

void CaptureController::stop()
{
    if (!m_capture)
        return;
    BusyCursor busy; // bounded: the helper detaches and the writer finishes the file
    m_capture->stop();
}

void CaptureController::release()
{
    m_capture.reset();
}

bool CaptureController::isRunning() const
{
    return m_capture && m_capture->isRunning();
}

QString CaptureController::sessionPath() const
{
    return m_capture ? m_capture->sessionPath() : QString();
}

} // namespace tcpscope
