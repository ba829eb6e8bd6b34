// SPDX-License-Identifier: GPL-3.0-or-later
// Background passes over a session (SessionJob::Priority::Background) yield the CPU to the GUI
// thread and to the passes a user waits for.
#pragma once

namespace tcpscope {

// Lowers the calling thread's scheduling priority to nice 10 (or leaves it where it is, when
// it is already lower). QThread::LowPriority does nothing under Linux's default scheduler
// (SCHED_OTHER has a single static priority); a thread's own nice value does: at nice 10 a
// thread gets about a tenth of the share of a nice-0 thread on a contended CPU. On a 2-core
// machine a session's open starts several passes at once (alerts raised from the records, the
// Peer column's pairs, one-way delays); without this they took most of the CPU from the
// sorting, filtering and painting a user is waiting for. When nothing else runs they run at
// full speed.
void lowerCurrentThreadPriority();

} // namespace tcpscope
