// SPDX-License-Identifier: GPL-3.0-or-later
#include "proc_scan.h"

#include "tcpscope_maps.h"

#include <bpf/bpf.h>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tcpscope::helper {

namespace {

constexpr const char *kListenState = "0A"; // TCP_LISTEN in /proc/net/tcp's hex "st" column

struct ListenEntry
{
    std::uint16_t port;
    std::uint16_t family;
};

// inode -> {port, family} for every LISTEN line of one /proc/net/tcp* file.
void readProcNet(const char *path, std::uint16_t family, std::map<unsigned long, ListenEntry> &out)
{
    std::ifstream in(path);
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retr, uid, timeout;
        unsigned long inode = 0;
        if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >>
              timeout >> inode))
            continue;
        const auto colon = local.rfind(':');
        if (state != kListenState || colon == std::string::npos || inode == 0)
            continue;
        const unsigned long port = std::strtoul(local.c_str() + colon + 1, nullptr, 16);
        if (port == 0 || port > 0xffff)
            continue;
        out[inode] = {static_cast<std::uint16_t>(port), family};
    }
}

std::string cgroup2Mount()
{
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        // ... mount_point ... - fstype source options
        const auto dash = line.find(" - ");
        if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0)
            continue;
        std::istringstream f(line);
        std::string id, parent, devno, root, mountPoint;
        if (f >> id >> parent >> devno >> root >> mountPoint)
            return mountPoint;
    }
    return {};
}

// bpf_get_current_cgroup_id() is the kernfs id, i.e. the cgroup directory's inode number.
std::uint64_t cgroupIdOf(std::uint32_t pid, const std::string &mount)
{
    if (mount.empty())
        return 0;
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("0::", 0) != 0)
            continue;
        struct stat st
        {
        };
        if (stat((mount + line.substr(3)).c_str(), &st) == 0)
            return st.st_ino;
    }
    return 0;
}

std::string commOf(std::uint32_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    std::getline(in, comm);
    return comm;
}

bool isPidDir(const char *name)
{
    if (!*name)
        return false;
    for (; *name; ++name)
        if (*name < '0' || *name > '9')
            return false;
    return true;
}

} // namespace

std::uint32_t ownNetnsInode()
{
    struct stat st
    {
    };
    return stat("/proc/self/ns/net", &st) == 0 ? static_cast<std::uint32_t>(st.st_ino) : 0;
}

std::vector<ScannedListener> scanListeners()
{
    std::map<unsigned long, ListenEntry> byInode;
    readProcNet("/proc/net/tcp", AF_INET, byInode);
    readProcNet("/proc/net/tcp6", AF_INET6, byInode);
    std::vector<ScannedListener> result;
    if (byInode.empty())
        return result;

    // inode -> lowest pid holding it: for pre-forked servers that is usually the parent.
    std::map<unsigned long, std::uint32_t> owner;
    DIR *proc = opendir("/proc");
    if (!proc)
        return result;
    while (dirent *p = readdir(proc)) {
        if (!isPidDir(p->d_name))
            continue;
        const std::uint32_t pid = static_cast<std::uint32_t>(std::strtoul(p->d_name, nullptr, 10));
        const std::string fdDir = std::string("/proc/") + p->d_name + "/fd";
        DIR *fds = opendir(fdDir.c_str());
        if (!fds)
            continue; // exited meanwhile, or a kernel thread
        while (dirent *f = readdir(fds)) {
            char target[64];
            const std::string link = fdDir + "/" + f->d_name;
            const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
            if (n <= 8 || std::strncmp(target, "socket:[", 8) != 0)
                continue;
            target[n] = '\0';
            const unsigned long inode = std::strtoul(target + 8, nullptr, 10);
            if (!byInode.count(inode))
                continue;
            auto it = owner.find(inode);
            if (it == owner.end() || pid < it->second)
                owner[inode] = pid;
        }
        closedir(fds);
    }
    closedir(proc);

    const std::string mount = cgroup2Mount();
    for (const auto &[inode, pid] : owner) {
        const ListenEntry &e = byInode[inode];
        result.push_back({e.port, e.family, pid, cgroupIdOf(pid, mount), commOf(pid)});
    }
    return result;
}

int seedListenersMap(int mapFd, const std::vector<ScannedListener> &listeners)
{
    const std::uint32_t netns = ownNetnsInode();
    int added = 0;
    for (const ScannedListener &l : listeners) {
        ts_listener_key key{};
        key.netns_ino = netns;
        key.port = l.port;
        key.family = l.family;
        ts_listener value{};
        value.owner.pid = l.pid;
        value.owner.cgroup_id = l.cgroupId;
        value.owner.source = TS_OWNER_SCAN;
        std::strncpy(value.owner.comm, l.comm.c_str(), TS_COMM_LEN - 1);
        value.sock_id = 0; // unknown: /proc has no socket cookie
        if (bpf_map_update_elem(mapFd, &key, &value, BPF_NOEXIST) == 0)
            ++added;
    }
    return added;
}

} // namespace tcpscope::helper
