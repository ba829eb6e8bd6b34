// SPDX-License-Identifier: GPL-3.0-or-later
#include "privileges.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tcpscope::helper {

namespace {
bool readCaps(__user_cap_data_struct (&data)[2])
{
    __user_cap_header_struct header{};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    return syscall(SYS_capget, &header, data) == 0;
}

bool writeCaps(__user_cap_data_struct (&data)[2], std::string &why)
{
    __user_cap_header_struct header{};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    if (syscall(SYS_capset, &header, data) == 0)
        return true;
    why = std::string("capset: ") + std::strerror(errno);
    return false;
}

bool effective(const __user_cap_data_struct (&data)[2], int cap)
{
    return data[cap / 32].effective & (1u << (cap % 32));
}
} // namespace

bool hasRequiredPrivileges()
{
    if (geteuid() == 0)
        return true;
    __user_cap_data_struct data[2] = {};
    if (!readCaps(data))
        return false;
    return effective(data, kCapBpf) && effective(data, kCapPerfmon) &&
           effective(data, kCapNetAdmin);
}

std::string privilegesAdvice(const char *argv0)
{
    std::string path = argv0 ? argv0 : "tcpscope-helper";
    char resolved[PATH_MAX];
    if (realpath("/proc/self/exe", resolved))
        path = resolved;
    return "try: sudo setcap cap_bpf,cap_perfmon,cap_net_admin,cap_sys_ptrace+ep " + path +
           "; for the installed package: sudo dpkg-reconfigure tcpscope";
}

std::string privilegesMessage(const char *argv0)
{
    return std::string("tcpscope-helper: ") + kPrivilegesNeeded + " (" + privilegesAdvice(argv0) +
           ")";
}

bool peerAllowed(int fd, std::string &why)
{
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        why = std::string("cannot read peer credentials: ") + std::strerror(errno);
        return false;
    }
    if (cred.uid == 0 || cred.uid == getuid())
        return true;
    why = "peer uid " + std::to_string(cred.uid) + " (pid " + std::to_string(cred.pid) +
          ") is neither root nor uid " + std::to_string(getuid()) + " that started the helper";
    return false;
}

bool dropCapability(int cap, std::string &why)
{
    __user_cap_data_struct data[2] = {};
    if (!readCaps(data)) {
        why = std::string("capget: ") + std::strerror(errno);
        return false;
    }
    const unsigned bit = 1u << (cap % 32);
    data[cap / 32].effective &= ~bit;
    data[cap / 32].permitted &= ~bit;
    data[cap / 32].inheritable &= ~bit;
    return writeCaps(data, why);
}

bool keepOnlyCapabilities(std::initializer_list<int> caps, std::string &why)
{
    __user_cap_data_struct data[2] = {};
    if (!readCaps(data)) {
        why = std::string("capget: ") + std::strerror(errno);
        return false;
    }
    __user_cap_data_struct keep[2] = {};
    for (int cap : caps) {
        const unsigned bit = 1u << (cap % 32);
        keep[cap / 32].permitted |= data[cap / 32].permitted & bit;
        keep[cap / 32].effective |= data[cap / 32].permitted & bit;
    }
    if (!writeCaps(keep, why))
        return false;
    // Ambient capabilities would survive an exec; the helper never execs, but none may linger.
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        why = std::string("PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno);
        return false;
    }
    // No core dumps and no ptrace attach by the invoking user: memory holds captured data.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        why = std::string("PR_SET_DUMPABLE: ") + std::strerror(errno);
        return false;
    }
    return true;
}

unsigned long long effectiveCapabilities()
{
    __user_cap_data_struct data[2] = {};
    if (!readCaps(data))
        return 0;
    return (static_cast<unsigned long long>(data[1].effective) << 32) | data[0].effective;
}

} // namespace tcpscope::helper
