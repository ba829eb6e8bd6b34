// SPDX-License-Identifier: GPL-3.0-or-later
// Worker threads that pass over a session: background passes (SessionJob::Priority::Background)
// yield the CPU to the GUI thread and to the passes a user waits for, and every pass gives back
// the memory it freed when it ends.
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

// Called by a pass when it ends: it has freed its handle's page cache (up to 16 MiB of
// page-sized blocks) and whatever it built into its thread's malloc arena, which glibc keeps
// mapped when the blocks are not at the arena's top. Returns the free pages to the system so
// the app does not keep each pass's peak. Does nothing where the C library is not glibc.
void releaseFreedMemory();

} // namespace tcpscope
