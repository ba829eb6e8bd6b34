// SPDX-License-Identifier: GPL-3.0-or-later
// One pass over a session on a worker thread, through its own Session handle (calls on one
// Session are serialised, so a long pass on the shared one would make the GUI thread's page
// reads wait). The work fills whatever its lambda captures; done() then runs on the owner's
// thread. A new start() or cancel() makes the running pass stop at its next poll of the flag and
// its done() is dropped. Destroying the job stops and joins its threads.
#pragma once

#include <QObject>
#include <QString>
#include <QVector>

#include <atomic>
#include <functional>
#include <memory>

namespace tcpscope {

class Session;

class SessionJob : public QObject
{
    Q_OBJECT
public:
    using Work = std::function<void(const Session &session, const std::atomic<bool> &cancel)>;
    // error: the session could not be opened (empty on success).
    using Done = std::function<void(const QString &error)>;

    // Whether a user waits for the result (a filter being applied, a tab being opened) or it
    // fills in beside what the user does (alerts raised from the records, the Peer and one-way
    // delay columns). Background passes run at a lower priority (models/background_thread.h),
    // so they take neither the GUI thread's CPU nor that of a pass the user waits for.
    enum class Priority
    {
        Normal,
        Background,
    };

    explicit SessionJob(QObject *parent = nullptr, Priority priority = Priority::Normal);
    ~SessionJob() override;

    void start(const QString &sessionPath, Work work, Done done);
    void cancel();
    bool isRunning() const { return m_current != nullptr; }

signals:
    void runningChanged(bool running);

private:
    struct Run;
    void onThreadFinished(const std::shared_ptr<Run> &run);

    Priority m_priority;
    std::shared_ptr<Run> m_current;
    QVector<std::shared_ptr<Run>> m_running; // every run whose thread has not been joined
};

} // namespace tcpscope
