// SPDX-License-Identifier: GPL-3.0-or-later
#include "privileges.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tcpscope::helper {

namespace {
// Older headers lack the 5.8 capabilities; the numbers are ABI.
constexpr int kCapNetAdmin = 12;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

bool effective(const __user_cap_data_struct (&data)[2], int cap)
{
    return data[cap / 32].effective & (1u << (cap % 32));
}
} // namespace

bool hasRequiredPrivileges()
{
    if (geteuid() == 0)
        return true;
    __user_cap_header_struct header{};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0)
        return false;
    return effective(data, kCapBpf) && effective(data, kCapPerfmon) &&
           effective(data, kCapNetAdmin);
}

std::string privilegesMessage(const char *argv0)
{
    std::string path = argv0 ? argv0 : "tcpscope-helper";
    char resolved[PATH_MAX];
    if (realpath("/proc/self/exe", resolved))
        path = resolved;
    return "tcpscope-helper: needs root or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (try: sudo "
           "setcap cap_bpf,cap_perfmon,cap_net_admin,cap_sys_ptrace+ep " +
           path + ")";
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

} // namespace tcpscope::helper
