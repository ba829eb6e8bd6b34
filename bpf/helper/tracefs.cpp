// SPDX-License-Identifier: GPL-3.0-or-later
#include "tracefs.h"

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace tcpscope::helper {

namespace {
constexpr const char *kTracefs = "/sys/kernel/tracing";
constexpr const char *kDebugfsTracing = "/sys/kernel/debug/tracing/events";
constexpr long kTracefsMagic = 0x74726163;

bool isTracefs(const char *path)
{
    struct statfs st
    {
    };
    return statfs(path, &st) == 0 && st.f_type == kTracefsMagic;
}
} // namespace

bool Tracefs::ensure(std::string &error)
{
    // libbpf prefers /sys/kernel/debug/tracing when it exists, else /sys/kernel/tracing.
    const bool debugfs = access(kDebugfsTracing, F_OK) == 0;
    if (debugfs || isTracefs(kTracefs)) {
        // A helper with file capabilities only (not root) reads the event ids like any user:
        // tracefs is usually root-only (mode 0700).
        const std::string events = debugfs ? kDebugfsTracing : std::string(kTracefs) + "/events";
        if (access(events.c_str(), R_OK | X_OK) != 0) {
            error = "tracefs is mounted but " + events + " is not readable by uid " +
                    std::to_string(getuid()) + " (" + std::strerror(errno) +
                    "): classic tracepoints need root here (tp_btf needs no tracefs)";
            return false;
        }
        m_note = "tracefs already mounted";
        return true;
    }
    if (unshare(CLONE_NEWNS) != 0) {
        const int err = errno;
        error = err == EPERM
                    ? std::string("tracefs is not mounted at ") + kTracefs +
                          " and mounting it privately needs root (CAP_SYS_ADMIN), which a helper "
                          "with file capabilities does not have: mount it once as root (mount -t "
                          "tracefs nodev " +
                          kTracefs + ")"
                    : std::string("tracefs is not mounted and a private mount namespace failed: ") +
                          std::strerror(err);
        return false;
    }
    // Slave: we still see the host's later mounts, but ours never propagate back.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
        error = std::string("cannot make the mount namespace private: ") + std::strerror(errno);
        return false;
    }
    if (mount("nodev", kTracefs, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        error = std::string("cannot mount tracefs at ") + kTracefs + ": " + std::strerror(errno);
        return false;
    }
    m_mounted = true;
    m_note = "tracefs was not mounted; mounted it in the helper's private mount namespace";
    return true;
}

Tracefs::~Tracefs()
{
    if (m_mounted)
        umount2(kTracefs, MNT_DETACH);
}

} // namespace tcpscope::helper
