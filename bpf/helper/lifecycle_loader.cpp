// SPDX-License-Identifier: GPL-3.0-or-later
#include "lifecycle_loader.h"
#include "ring_wakeup.h"

#include "tracefs.h"

#include "lifecycle.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace tcpscope::helper {

LifecycleLoader::~LifecycleLoader()
{
    lifecycle_bpf::destroy(m_skel); // detaches links, closes maps and programs
}

bool LifecycleLoader::loadMode(bool btf, std::string &error)
{
    lifecycle_bpf::destroy(m_skel);
    m_skel = lifecycle_bpf::open();
    if (!m_skel) {
        error = std::string("cannot open BPF object: ") + std::strerror(errno);
        return false;
    }
    if (m_ringbufBytes && bpf_map__set_max_entries(m_skel->maps.events, m_ringbufBytes) != 0) {
        error = "invalid ring buffer size " + std::to_string(m_ringbufBytes);
        return false;
    }
    m_skel->rodata->ts_wakeup_bytes = ringWakeupBytes(m_skel->maps.events);
    bpf_program__set_autoload(m_skel->progs.tcpscope_lc_btf, btf);
    bpf_program__set_autoload(m_skel->progs.tcpscope_lc_tp, !btf);
    const int err = lifecycle_bpf::load(m_skel);
    if (err) {
        error = std::string(btf ? "tp_btf" : "tracepoint") + " load failed: " + std::strerror(-err);
        lifecycle_bpf::destroy(m_skel);
        m_skel = nullptr;
        return false;
    }
    return true;
}

bool LifecycleLoader::load(bool forceTracepoint, unsigned ringbufBytes, Tracefs &tracefs,
                           std::string &error)
{
    m_ringbufBytes = ringbufBytes;
    m_report = {"inet_sock_set_state", "unavailable", ""};
    std::string why;
    if (forceTracepoint)
        why = "tp_btf skipped: --force-tracepoint";
    else if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
        why = "tp_btf unavailable: no kernel BTF at /sys/kernel/btf/vmlinux";
    else if (loadMode(true, why)) {
        m_report.status = "tp_btf";
        return true;
    }
    std::string tracefsError;
    if (!tracefs.ensure(tracefsError)) {
        m_report.detail = why + "; " + tracefsError;
        error = m_report.detail;
        return false;
    }
    std::string tpError;
    if (!loadMode(false, tpError)) {
        m_report.detail = why + "; " + tpError;
        error = m_report.detail;
        return false;
    }
    m_report.status = "tracepoint";
    m_report.detail =
        why + "; " + tracefs.note() + "; socket ids: cookie if already allocated, else pointer";
    return true;
}

bool LifecycleLoader::attach(std::string &error)
{
    if (!m_skel) {
        error = "attach before load";
        return false;
    }
    const int err = lifecycle_bpf::attach(m_skel); // link-based: gone when our fds close
    if (err) {
        error = "attach (" + m_report.status + ") failed: " + std::strerror(-err);
        return false;
    }
    return true;
}

int LifecycleLoader::eventsFd() const
{
    return m_skel ? bpf_map__fd(m_skel->maps.events) : -1;
}

int LifecycleLoader::listenersFd() const
{
    return m_skel ? bpf_map__fd(m_skel->maps.listeners) : -1;
}

OwnerMapFds LifecycleLoader::ownerMaps() const
{
    return ownerMapFds(m_skel ? m_skel->obj : nullptr);
}

int LifecycleLoader::ptrIdsFd() const
{
    return m_skel ? bpf_map__fd(m_skel->maps.ptr_ids) : -1;
}

bool LifecycleLoader::readLost(std::vector<std::uint64_t> &perCpu) const
{
    const int cpus = libbpf_num_possible_cpus();
    if (!m_skel || cpus <= 0)
        return false;
    perCpu.assign(static_cast<std::size_t>(cpus), 0);
    const std::uint32_t key = 0;
    return bpf_map_lookup_elem(bpf_map__fd(m_skel->maps.lost), &key, perCpu.data()) == 0;
}

bool LifecycleLoader::readMissedRuns(std::uint64_t &total) const
{
    total = 0;
    if (!m_skel)
        return false;
    bool ok = true;
    bpf_program *prog = nullptr;
    bpf_object__for_each_program(prog, m_skel->obj)
    {
        const int fd = bpf_program__fd(prog);
        if (fd < 0)
            continue; // autoload switched off: never loaded, never runs
        bpf_prog_info info{};
        std::uint32_t len = sizeof info;
        // An older kernel fills a shorter prefix and leaves recursion_misses at 0.
        if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
            ok = false;
            continue;
        }
        total += info.recursion_misses;
    }
    return ok;
}

} // namespace tcpscope::helper
