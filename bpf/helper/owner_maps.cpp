// SPDX-License-Identifier: GPL-3.0-or-later
#include "owner_maps.h"

extern "C" {
#include "tcpscope_owner_maps.h"
}

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/vfs.h>

namespace tcpscope::helper {

namespace {

constexpr const char *kMapNames[] = {"owner_cfg",   "owner_cgroups", "owner_netns", "owner_pids",
                                     "owner_comms", "owner_verdict", "listeners"};

int *fdSlot(OwnerMapFds &fds, std::size_t i)
{
    int *slots[] = {&fds.config, &fds.cgroups, &fds.netns,    &fds.pids,
                    &fds.comms,  &fds.verdict, &fds.listeners};
    return slots[i];
}

} // namespace

OwnerMapFds ownerMapFds(bpf_object *obj)
{
    OwnerMapFds fds;
    for (std::size_t i = 0; i < std::size(kMapNames); ++i)
        if (bpf_map *map = obj ? bpf_object__find_map_by_name(obj, kMapNames[i]) : nullptr)
            *fdSlot(fds, i) = bpf_map__fd(map);
    return fds;
}

bool reuseOwnerMaps(bpf_object *obj, const OwnerMapFds &fds, std::string &error)
{
    OwnerMapFds copy = fds;
    for (std::size_t i = 0; i < std::size(kMapNames); ++i) {
        bpf_map *map = bpf_object__find_map_by_name(obj, kMapNames[i]);
        if (!map) {
            error = std::string("BPF object has no map ") + kMapNames[i];
            return false;
        }
        const int fd = *fdSlot(copy, i);
        if (!fds.valid() || fd < 0) {
            bpf_map__set_max_entries(map, 1);
            continue;
        }
        if (const int err = bpf_map__reuse_fd(map, fd); err != 0) {
            error = std::string("cannot share map ") + kMapNames[i] + ": " + std::strerror(-err);
            return false;
        }
    }
    return true;
}

bool writeOwnerFilter(const OwnerMapFds &fds, const wire::StartOptions &start, bool ptrIds,
                      std::string &error)
{
    if (!start.hasOwnerTerms())
        return true; // owner_cfg stays all zero: no owner filter
    const std::uint8_t one = 1;
    auto fail = [&error](const std::string &what) {
        error = "cannot write the owner filter (" + what + "): " + std::strerror(errno);
        return false;
    };
    for (std::uint64_t id : start.cgroupIds)
        if (bpf_map_update_elem(fds.cgroups, &id, &one, BPF_ANY))
            return fail("cgroups");
    for (std::uint32_t inode : start.netnsInodes)
        if (bpf_map_update_elem(fds.netns, &inode, &one, BPF_ANY))
            return fail("network namespaces");
    for (std::uint32_t pid : start.pids)
        if (bpf_map_update_elem(fds.pids, &pid, &one, BPF_ANY))
            return fail("pids");
    for (const std::string &comm : start.comms) {
        ts_comm_key key{};
        std::memcpy(key.comm, comm.data(), std::min(comm.size(), sizeof key.comm - 1));
        if (bpf_map_update_elem(fds.comms, &key, &one, BPF_ANY))
            return fail("process names");
    }
    ts_owner_config cfg{};
    cfg.cgroups = start.cgroupIds.empty() ? 0 : 1;
    cfg.netns = start.netnsInodes.empty() ? 0 : 1;
    cfg.pids = start.pids.empty() ? 0 : 1;
    cfg.comms = start.comms.empty() ? 0 : 1;
    cfg.ptr_ids = ptrIds ? 1 : 0;
    cfg.enabled = 1;
    const std::uint32_t zero = 0;
    if (bpf_map_update_elem(fds.config, &zero, &cfg, BPF_ANY))
        return fail("configuration");
    return true;
}

std::uint32_t missingPid(const wire::StartOptions &start, std::size_t *index)
{
    for (std::size_t i = 0; i < start.pids.size(); ++i) {
        struct stat st
        {
        };
        const std::string dir = "/proc/" + std::to_string(start.pids[i]);
        if (::stat(dir.c_str(), &st) != 0) {
            if (index)
                *index = i;
            return start.pids[i];
        }
    }
    return 0;
}

namespace {

// The cgroup2 mount point in /proc/self/mountinfo ("" when there is none).
std::string cgroup2Mount()
{
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        const std::size_t dash = line.find(" - ");
        if (dash == std::string::npos)
            continue;
        std::istringstream tail(line.substr(dash + 3));
        std::string fstype;
        tail >> fstype;
        if (fstype != "cgroup2")
            continue;
        std::istringstream head(line.substr(0, dash));
        std::string id, parent, dev, root, mountPoint;
        head >> id >> parent >> dev >> root >> mountPoint;
        // Octal escapes (\040 for a space) are left as they are: such mounts are not standard.
        return mountPoint;
    }
    return {};
}

} // namespace

wire::HostOwners hostOwners(const std::string &cgroupRoot, const std::string &netnsDir)
{
    wire::HostOwners out;
    const std::string root = cgroupRoot.empty() ? cgroup2Mount() : cgroupRoot;
    struct stat st
    {
    };
    if (root.empty() || ::stat(root.c_str(), &st) != 0) {
        out.flags |= wire::HostOwners::kNoCgroup2;
    } else {
        // Breadth first: a tree larger than the report keeps its upper levels (the services,
        // slices and pods a filter names) rather than one deep branch.
        std::deque<std::string> queue{"/"};
        out.cgroups.push_back({std::uint64_t(st.st_ino), "/"});
        while (!queue.empty()) {
            const std::string rel = queue.front();
            queue.pop_front();
            const std::string dirPath = root + (rel == "/" ? "" : rel);
            DIR *dir = ::opendir(dirPath.c_str());
            if (!dir)
                continue;
            while (dirent *e = ::readdir(dir)) {
                if (e->d_type != DT_DIR || std::strcmp(e->d_name, ".") == 0 ||
                    std::strcmp(e->d_name, "..") == 0)
                    continue;
                const std::string childRel = (rel == "/" ? "" : rel) + "/" + e->d_name;
                if (out.cgroups.size() >= wire::kMaxReportCgroups) {
                    out.flags |= wire::HostOwners::kCgroupsTruncated;
                    break;
                }
                if (childRel.size() > wire::kMaxString) {
                    out.flags |= wire::HostOwners::kCgroupsTruncated;
                    continue;
                }
                // The cgroup id is the directory's inode (what bpf_get_current_cgroup_id and
                // the kernfs node id of the cgroup give).
                struct stat cst
                {
                };
                if (::stat((root + childRel).c_str(), &cst) != 0)
                    continue; // removed meanwhile
                out.cgroups.push_back({std::uint64_t(cst.st_ino), childRel});
                queue.push_back(childRel);
            }
            ::closedir(dir);
            if (out.flags & wire::HostOwners::kCgroupsTruncated &&
                out.cgroups.size() >= wire::kMaxReportCgroups)
                break;
        }
    }
    if (DIR *dir = ::opendir(netnsDir.c_str())) {
        while (dirent *e = ::readdir(dir)) {
            if (e->d_name[0] == '.' || out.netns.size() >= wire::kMaxReportNetns)
                continue;
            // The bind mount's inode is the namespace's (nsfs).
            struct stat nst
            {
            };
            const std::string path = netnsDir + "/" + e->d_name;
            // Only a mounted namespace (nsfs): a file left behind by a failed `ip netns add` is
            // not.
            struct statfs fs
            {
            };
            constexpr long kNsfsMagic = 0x6e736673;
            if (::statfs(path.c_str(), &fs) != 0 || long(fs.f_type) != kNsfsMagic)
                continue;
            if (::stat(path.c_str(), &nst) != 0 || nst.st_ino == 0 || nst.st_ino > 0xffffffffull)
                continue;
            if (std::strlen(e->d_name) > 255)
                continue;
            out.netns.push_back({std::uint32_t(nst.st_ino), e->d_name});
        }
        ::closedir(dir);
    }
    return out;
}

} // namespace tcpscope::helper
