// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/background_thread.h"

#include <cerrno>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace tcpscope {

void lowerCurrentThreadPriority()
{
    constexpr int kBackgroundNice = 10;
    // On Linux PRIO_PROCESS with a thread id sets that one thread's nice value.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    errno = 0;
    const int current = getpriority(PRIO_PROCESS, tid);
    if (errno != 0 || current >= kBackgroundNice)
        return;
    // Failure leaves the thread at its priority: it is an optimisation, never required.
    (void)setpriority(PRIO_PROCESS, tid, kBackgroundNice);
}

void releaseFreedMemory()
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

} // namespace tcpscope
