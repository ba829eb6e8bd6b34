// SPDX-License-Identifier: GPL-3.0-or-later
#include "reason_names.h"

#include <algorithm>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string_view>

namespace tcpscope::helper {

namespace {

struct BtfDeleter
{
    void operator()(btf *b) const { btf__free(b); }
};

std::uint64_t monotonicNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1000000000ull + std::uint64_t(ts.tv_nsec);
}

void addName(std::vector<ts_reason_name> &out, std::uint16_t table, std::uint32_t value,
             std::string_view name, std::string_view prefix, std::uint64_t now)
{
    if (name.substr(0, prefix.size()) == prefix && name.size() > prefix.size())
        name.remove_prefix(prefix.size());
    ts_reason_name rec{};
    rec.hdr.type = TS_REC_REASON_NAME;
    rec.hdr.size = sizeof rec;
    rec.hdr.ts_ns = now;
    rec.table = table;
    rec.value = value;
    const std::size_t n = std::min(name.size(), sizeof rec.name - 1); // NUL stays
    std::memcpy(rec.name, name.data(), n);
    out.push_back(rec);
}

// Appends every enumerator of `enum enumName`; false if the kernel has no such enum.
bool addEnum(const btf *b, const char *enumName, std::string_view prefix, std::uint16_t table,
             std::uint64_t now, std::vector<ts_reason_name> &out)
{
    int id = btf__find_by_name_kind(b, enumName, BTF_KIND_ENUM);
    if (id < 0)
        id = btf__find_by_name_kind(b, enumName, BTF_KIND_ENUM64);
    if (id < 0)
        return false;
    const btf_type *t = btf__type_by_id(b, id);
    const unsigned n = btf_vlen(t);
    if (btf_is_enum(t)) {
        const struct btf_enum *e = btf_enum(t);
        for (unsigned i = 0; i < n; ++i)
            addName(out, table, static_cast<std::uint32_t>(e[i].val),
                    btf__name_by_offset(b, e[i].name_off), prefix, now);
    } else {
        const struct btf_enum64 *e = btf_enum64(t);
        for (unsigned i = 0; i < n; ++i)
            addName(out, table, static_cast<std::uint32_t>(btf_enum64_value(e + i)),
                    btf__name_by_offset(b, e[i].name_off), prefix, now);
    }
    return true;
}

} // namespace

std::vector<ts_reason_name> kernelReasonNames(std::string &error)
{
    std::vector<ts_reason_name> out;
    std::unique_ptr<btf, BtfDeleter> vmlinux(btf__load_vmlinux_btf());
    if (!vmlinux) {
        error = std::string("no kernel BTF, reasons stay numeric: ") + std::strerror(errno);
        return out;
    }
    const std::uint64_t now = monotonicNs();
    if (!addEnum(vmlinux.get(), "skb_drop_reason", "SKB_DROP_REASON_", TS_REASONS_SKB_DROP, now,
                 out))
        error = "kernel BTF has no enum skb_drop_reason";
    if (!addEnum(vmlinux.get(), "sk_rst_reason", "SK_RST_REASON_", TS_REASONS_SK_RST, now, out))
        error += std::string(error.empty() ? "" : "; ") + "kernel BTF has no enum sk_rst_reason";
    return out;
}

} // namespace tcpscope::helper
