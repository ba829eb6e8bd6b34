// SPDX-License-Identifier: GPL-3.0-or-later
#include "tcpinfo_loader.h"
#include "ring_wakeup.h"

#include "tcpinfo_maps.h"
#include "tracefs.h"

#include "tcpinfo.skel.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <memory>
#include <unistd.h>

namespace tcpscope::helper {

namespace {

struct Hook
{
    const char *name;     // tracepoint name = ProbeReport name
    const char *category; // classic tracepoint system
    const char *btfProg;
    const char *tpProg;
};

constexpr Hook kHooks[] = {
    {"tcp_probe", "tcp", "ti_probe_btf", "ti_probe_tp"},
    {"tcp_retransmit_skb", "tcp", "ti_rtx_btf", "ti_rtx_tp"},
    {"tcp_retransmit_synack", "tcp", "ti_synack_btf", "ti_synack_tp"},
    {"tcp_send_reset", "tcp", "ti_rst_tx_btf", "ti_rst_tx_tp"},
    {"tcp_receive_reset", "tcp", "ti_rst_rx_btf", "ti_rst_rx_tp"},
    {"tcp_cong_state_set", "tcp", "ti_cong_btf", "ti_cong_tp"},
    {"kfree_skb", "skb", "ti_drop_btf", "ti_drop_tp"},
};
constexpr std::size_t kHookCount = sizeof kHooks / sizeof kHooks[0];

struct BtfDeleter
{
    void operator()(btf *b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;

std::string errnoText(int err)
{
    return std::strerror(err < 0 ? -err : err);
}

bool hasMember(const btf *b, const char *structName, const char *member)
{
    const int id = btf__find_by_name_kind(b, structName, BTF_KIND_STRUCT);
    if (id < 0)
        return false;
    const btf_type *t = btf__type_by_id(b, id);
    const btf_member *m = btf_members(t);
    for (unsigned i = 0; i < btf_vlen(t); ++i)
        if (std::strcmp(btf__name_by_offset(b, m[i].name_off), member) == 0)
            return true;
    return false;
}

bool tracepointExists(const Hook &h)
{
    const std::string tail = std::string("/events/") + h.category + "/" + h.name;
    return access(("/sys/kernel/tracing" + tail).c_str(), F_OK) == 0 ||
           access(("/sys/kernel/debug/tracing" + tail).c_str(), F_OK) == 0;
}

// What a hook's program can read on this kernel, for the probe report (the BPF side makes the
// same decision with CO-RE existence checks on the tracepoints' record layouts).
std::string argumentNote(const btf *b, std::size_t hook)
{
    if (!b)
        return {};
    const std::string name = kHooks[hook].name;
    auto yesNo = [](bool v) { return v ? "yes" : "no"; };
    if (name == "tcp_retransmit_skb")
        return hasMember(b, "trace_event_raw_tcp_retransmit_skb", "err")
                   ? "err argument: yes"
                   : "err argument: no (only successful retransmits fire)";
    if (name == "tcp_send_reset")
        return std::string("reset reason: ") +
               yesNo(hasMember(b, "trace_event_raw_tcp_send_reset", "reason"));
    if (name == "kfree_skb")
        return std::string("drop reason: ") +
               yesNo(hasMember(b, "trace_event_raw_kfree_skb", "reason")) +
               ", rx_sk: " + yesNo(hasMember(b, "trace_event_raw_kfree_skb", "rx_sk"));
    return {};
}

// mode per hook: 0 = neither entry point, 1 = tp_btf, 2 = classic tracepoint.
void setAutoload(tcpinfo_bpf *skel, const std::vector<int> &modes)
{
    for (std::size_t i = 0; i < kHookCount; ++i) {
        const int mode = i < modes.size() ? modes[i] : 0;
        bpf_program__set_autoload(bpf_object__find_program_by_name(skel->obj, kHooks[i].btfProg),
                                  mode == 1);
        bpf_program__set_autoload(bpf_object__find_program_by_name(skel->obj, kHooks[i].tpProg),
                                  mode == 2);
    }
}

} // namespace

TcpInfoLoader::~TcpInfoLoader()
{
    tcpinfo_bpf::destroy(m_skel); // detaches links, closes maps and programs
}

// Loads and attaches one program in a throw-away object: both can fail independently (a missing
// BTF target, a verifier rejection, a tracepoint that does not exist on this kernel).
bool TcpInfoLoader::trial(std::size_t hook, Mode mode, std::string &error) const
{
    const bool btf = mode == Mode::Btf;
    const char *what = btf ? "tp_btf" : "tracepoint";
    tcpinfo_bpf *skel = tcpinfo_bpf::open();
    if (!skel) {
        error = std::string("cannot open BPF object: ") + errnoText(errno);
        return false;
    }
    // Minimal maps: the trial's records are thrown away, its per-socket state is never used.
    bpf_map__set_max_entries(skel->maps.tcpinfo_events, 4096);
    bpf_map__set_max_entries(skel->maps.sample_last, 64);
    bpf_map__set_max_entries(skel->maps.ptr_ids, 64);
    if (!reuseOwnerMaps(skel->obj, {}, error)) {
        tcpinfo_bpf::destroy(skel);
        return false;
    }
    std::vector<int> only(kHookCount, 0);
    only[hook] = btf ? 1 : 2;
    setAutoload(skel, only);
    int err = tcpinfo_bpf::load(skel);
    if (err) {
        error = std::string(what) + " load failed: " + errnoText(err);
        tcpinfo_bpf::destroy(skel);
        return false;
    }
    bpf_program *prog = bpf_object__find_program_by_name(skel->obj, btf ? kHooks[hook].btfProg
                                                                        : kHooks[hook].tpProg);
    bpf_link *link = bpf_program__attach(prog);
    if (!link) {
        error = std::string(what) + " attach failed: " + errnoText(errno);
        tcpinfo_bpf::destroy(skel);
        return false;
    }
    bpf_link__destroy(link);
    tcpinfo_bpf::destroy(skel);
    return true;
}

bool TcpInfoLoader::loadModes(unsigned ringbufBytes, int lifecyclePtrIdsFd, std::string &error)
{
    tcpinfo_bpf::destroy(m_skel);
    m_attached = false;
    m_skel = tcpinfo_bpf::open();
    if (!m_skel) {
        error = std::string("cannot open tcpinfo BPF object: ") + errnoText(errno);
        return false;
    }
    if (ringbufBytes && bpf_map__set_max_entries(m_skel->maps.tcpinfo_events, ringbufBytes)) {
        error = "invalid tcpinfo ring buffer size " + std::to_string(ringbufBytes);
        tcpinfo_bpf::destroy(m_skel);
        m_skel = nullptr;
        return false;
    }
    m_skel->rodata->ts_wakeup_bytes = ringWakeupBytes(m_skel->maps.tcpinfo_events);
    m_sharedPtrIds = false;
    m_shareFailed = false;
    if (lifecyclePtrIdsFd < 0)
        bpf_map__set_max_entries(m_skel->maps.ptr_ids, 64); // never used: keep it small
    else if (bpf_map__reuse_fd(m_skel->maps.ptr_ids, lifecyclePtrIdsFd) == 0)
        m_sharedPtrIds = true;
    else
        m_shareFailed = true;
    if (!reuseOwnerMaps(m_skel->obj, m_ownerMaps, error)) {
        tcpinfo_bpf::destroy(m_skel);
        m_skel = nullptr;
        return false;
    }
    std::vector<int> modes;
    for (Mode m : m_modes)
        modes.push_back(m == Mode::Btf ? 1 : m == Mode::Tracepoint ? 2 : 0);
    setAutoload(m_skel, modes);
    const int err = tcpinfo_bpf::load(m_skel);
    if (err) {
        error = "tcpinfo load failed: " + errnoText(err);
        tcpinfo_bpf::destroy(m_skel);
        m_skel = nullptr;
        return false;
    }
    return true;
}

// Attaches every loaded program as the probe, and keeps the links for Start: the programs emit
// nothing until configure() enables them. Attaching and detaching each once, then attaching
// again at Start, cost the helper's start 5-20 ms per hook (a tracepoint's first probe patches
// kernel text; its last one waits for readers to leave).
bool TcpInfoLoader::attachEarly()
{
    if (tcpinfo_bpf::attach(m_skel) != 0) {
        tcpinfo_bpf::detach(m_skel);
        return false;
    }
    m_attached = true;
    return true;
}

bool TcpInfoLoader::load(bool forceTracepoint, unsigned ringbufBytes, int lifecyclePtrIdsFd,
                         Tracefs &tracefs, std::string &error)
{
    m_reports.clear();
    BtfPtr vmlinux(btf__load_vmlinux_btf());
    const std::string btfMissing =
        vmlinux ? std::string() : "no kernel BTF (/sys/kernel/btf/vmlinux): " + errnoText(errno);
    auto hasBtfTrace = [&](std::size_t i) {
        return vmlinux && btf__find_by_name_kind(
                              vmlinux.get(), ("btf_trace_" + std::string(kHooks[i].name)).c_str(),
                              BTF_KIND_TYPEDEF) >= 0;
    };
    bool tracefsTried = false, tracefsOk = false;
    std::string tracefsError;
    auto ensureTracefs = [&] {
        if (!tracefsTried) {
            tracefsTried = true;
            tracefsOk = tracefs.ensure(tracefsError);
        }
        return tracefsOk;
    };

    // Fast path (the usual case): every hook in the preferred mode, loaded together in the real
    // object and attached once each. Only if that fails is each hook probed on its own.
    const Mode preferred = forceTracepoint ? Mode::Tracepoint : Mode::Btf;
    bool all = true;
    for (std::size_t i = 0; i < kHookCount && all; ++i)
        all = preferred == Mode::Btf ? hasBtfTrace(i)
                                     : ensureTracefs() && tracepointExists(kHooks[i]);
    std::string fastError;
    m_modes.assign(kHookCount, preferred);
    if (all && loadModes(ringbufBytes, lifecyclePtrIdsFd, fastError) && attachEarly()) {
        for (std::size_t i = 0; i < kHookCount; ++i) {
            std::string detail = forceTracepoint
                                     ? "tp_btf skipped: --force-tracepoint; " + tracefs.note()
                                     : std::string();
            const std::string args = argumentNote(vmlinux.get(), i);
            if (!args.empty())
                detail += (detail.empty() ? "" : "; ") + args;
            m_reports.push_back(
                {kHooks[i].name, forceTracepoint ? "tracepoint" : "tp_btf", detail});
        }
        noteSharing();
        return true;
    }
    tcpinfo_bpf::destroy(m_skel);
    m_skel = nullptr;

    m_modes.assign(kHookCount, Mode::None);
    std::size_t usable = 0;
    for (std::size_t i = 0; i < kHookCount; ++i) {
        const Hook &h = kHooks[i];
        wire::ProbeReport r{h.name, "unavailable", ""};
        std::string why;
        if (forceTracepoint)
            why = "tp_btf skipped: --force-tracepoint";
        else if (!vmlinux)
            why = "tp_btf unavailable: " + btfMissing;
        else if (!hasBtfTrace(i))
            why = std::string("tp_btf unavailable: kernel has no btf_trace_") + h.name;
        else if (trial(i, Mode::Btf, why))
            m_modes[i] = Mode::Btf;
        if (m_modes[i] == Mode::None) {
            std::string tpWhy;
            if (!ensureTracefs())
                tpWhy = "tracepoint unavailable: " + tracefsError;
            else if (!tracepointExists(h))
                tpWhy = std::string("tracepoint unavailable: no events/") + h.category + "/" +
                        h.name + " on this kernel";
            else if (trial(i, Mode::Tracepoint, tpWhy))
                m_modes[i] = Mode::Tracepoint;
            if (m_modes[i] == Mode::Tracepoint) {
                r.status = "tracepoint";
                why += "; " + tracefs.note();
            } else {
                why += "; " + tpWhy;
            }
        } else {
            r.status = "tp_btf";
        }
        const std::string args = m_modes[i] == Mode::None ? "" : argumentNote(vmlinux.get(), i);
        r.detail = std::move(why);
        if (!args.empty()) {
            if (!r.detail.empty())
                r.detail += "; ";
            r.detail += args;
        }
        usable += m_modes[i] != Mode::None;
        m_reports.push_back(std::move(r));
    }
    if (!usable) {
        error = "no tcpinfo hook is available";
        return false;
    }
    if (!loadModes(ringbufBytes, lifecyclePtrIdsFd, error)) {
        // Every program passed on its own, so this is unexpected (e.g. memory for the ring).
        for (wire::ProbeReport &r : m_reports) {
            r.status = "unavailable";
            r.detail = error;
        }
        return false;
    }
    noteSharing();
    return true;
}

void TcpInfoLoader::noteSharing()
{
    if (!m_shareFailed)
        return;
    for (wire::ProbeReport &r : m_reports)
        if (r.status != "unavailable")
            r.detail += std::string(r.detail.empty() ? "" : "; ") +
                        "cannot share lifecycle's socket ids: may differ from lifecycle's";
}

bool TcpInfoLoader::configure(std::uint32_t sampleIntervalUs, std::string &error)
{
    if (!m_skel) {
        error = "tcpinfo not loaded";
        return false;
    }
    ts_tcpinfo_config cfg{};
    cfg.sample_interval_ns = std::uint64_t(sampleIntervalUs) * 1000u;
    cfg.shared_ptr_ids = m_sharedPtrIds ? 1 : 0;
    cfg.enabled = 1;
    const std::uint32_t zero = 0;
    if (bpf_map_update_elem(bpf_map__fd(m_skel->maps.tcpinfo_config), &zero, &cfg, BPF_ANY)) {
        error = "cannot write the tcpinfo configuration: " + errnoText(errno);
        return false;
    }
    return true;
}

bool TcpInfoLoader::attach(std::string &error)
{
    if (!m_skel) {
        error = "tcpinfo attach before load";
        return false;
    }
    if (m_attached)
        return true;                             // since the probe
    const int err = tcpinfo_bpf::attach(m_skel); // only the loaded program of each hook
    if (err) {
        error = "tcpinfo attach failed: " + errnoText(err);
        return false;
    }
    m_attached = true;
    return true;
}

int TcpInfoLoader::eventsFd() const
{
    return m_skel ? bpf_map__fd(m_skel->maps.tcpinfo_events) : -1;
}

bool TcpInfoLoader::addLost(std::vector<std::uint64_t> &perCpu) const
{
    const int cpus = libbpf_num_possible_cpus();
    if (!m_skel || cpus <= 0)
        return false;
    std::vector<std::uint64_t> mine(static_cast<std::size_t>(cpus), 0);
    const std::uint32_t key = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(m_skel->maps.tcpinfo_lost), &key, mine.data()) != 0)
        return false;
    if (perCpu.size() < mine.size())
        perCpu.resize(mine.size(), 0);
    for (std::size_t i = 0; i < mine.size(); ++i)
        perCpu[i] += mine[i];
    return true;
}

bool TcpInfoLoader::readMissedRuns(std::uint64_t &total) const
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
            continue; // the other entry point of a hook: never loaded
        bpf_prog_info info{};
        std::uint32_t len = sizeof info;
        if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) {
            ok = false;
            continue;
        }
        total += info.recursion_misses;
    }
    return ok;
}

} // namespace tcpscope::helper
