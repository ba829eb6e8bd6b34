// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/session_job.h"

#include "models/background_thread.h"
#include "session/session.h"

#include <QThread>

namespace tcpscope {

struct SessionJob::Run
{
    std::atomic<bool> cancel{false};
    QString error;
    Done done;
    std::unique_ptr<QThread> thread;
};

SessionJob::SessionJob(QObject *parent, Priority priority) : QObject(parent), m_priority(priority)
{
}

SessionJob::~SessionJob()
{
    for (const auto &run : std::as_const(m_running))
        run->cancel = true;
    for (const auto &run : std::as_const(m_running))
        run->thread->wait();
}

void SessionJob::start(const QString &sessionPath, Work work, Done done)
{
    const bool wasRunning = isRunning();
    if (m_current) {
        m_current->cancel = true;
        m_current.reset();
    }
    auto run = std::make_shared<Run>();
    run->done = std::move(done);
    Run *raw = run.get();
    const bool background = m_priority == Priority::Background;
    run->thread.reset(QThread::create([raw, sessionPath, background, work = std::move(work)] {
        if (background)
            lowerCurrentThreadPriority();
        {
            const std::unique_ptr<Session> session =
                Session::open(sessionPath, &raw->error, &raw->cancel);
            if (session && !raw->cancel.load())
                work(*session, raw->cancel);
        }
        releaseFreedMemory();
    }));
    const std::weak_ptr<Run> weak = run;
    connect(
        run->thread.get(), &QThread::finished, this,
        [this, weak] {
            if (const std::shared_ptr<Run> finished = weak.lock())
                onThreadFinished(finished);
        },
        Qt::QueuedConnection);
    m_running.append(run);
    m_current = run;
    run->thread->start();
    if (!wasRunning)
        emit runningChanged(true);
}

void SessionJob::cancel()
{
    if (!m_current)
        return;
    m_current->cancel = true;
    m_current.reset();
    emit runningChanged(false);
}

void SessionJob::onThreadFinished(const std::shared_ptr<Run> &run)
{
    run->thread->wait();
    m_running.removeOne(run);
    if (run != m_current)
        return;
    m_current.reset();
    run->done(run->error);
    emit runningChanged(false);
}

} // namespace tcpscope
