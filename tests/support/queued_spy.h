// SPDX-License-Identifier: GPL-3.0-or-later
// A signal spy for signals emitted on another thread.
#pragma once

#include <QList>
#include <QObject>
#include <QVariant>

#include <type_traits>

namespace testspy {

// QSignalSpy records a signal's arguments on the emitting thread, without a lock, so a test
// that reads it while a worker thread emits races with that thread. QueuedSpy records them on
// the thread that made it: directly for a signal emitted there, queued (through that thread's
// event loop, which QTRY_* runs) for one emitted elsewhere, as the application's own receivers
// get them. Read it like a QSignalSpy: one list of arguments per emission.
class QueuedSpy : public QObject, public QList<QList<QVariant>>
{
public:
    template <typename Sender, typename... Args>
    QueuedSpy(const Sender *sender, void (Sender::*signal)(Args...))
    {
        QObject::connect(sender, signal, this, [this](std::decay_t<Args>... args) {
            append(QList<QVariant>{QVariant::fromValue(args)...});
        });
    }
};

} // namespace testspy
