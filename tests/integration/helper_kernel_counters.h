// SPDX-License-Identifier: GPL-3.0-or-later
// Test support for comparing what the helper reports with the kernel's own counters, and for
// inducing packet loss with nftables (no netem on this kernel).
#pragma once

#include <QString>
#include <cstdint>
#include <optional>

namespace tcpscope::test {

// One counter of /proc/net/snmp ("Tcp", "RetransSegs") or /proc/net/netstat ("TcpExt",
// "ListenOverflows"): a header line of names followed by a line of values per group. These are
// the counters `nstat` shows, for this process's network namespace, system-wide within it.
std::optional<std::uint64_t> kernelCounter(const QString &file, const QString &group,
                                           const QString &name);

// An nftables table with one input rule that randomly drops `percent` % of the TCP packets
// with the given source (or destination) port. The table is deleted by the destructor, so it
// goes away on every test outcome (QVERIFY returns); a table left by a crashed run of this
// test (same name prefix, dead pid) is removed by removeStale().
class NftDropRule
{
public:
    NftDropRule() = default;
    NftDropRule(const NftDropRule &) = delete;
    NftDropRule &operator=(const NftDropRule &) = delete;
    ~NftDropRule() { remove(); }

    static bool available();   // nft is installed and usable
    static void removeStale(); // tables "tcpscope_test_<pid>" whose pid is gone
    bool install(unsigned port, bool sourcePort, unsigned percent, QString *error);
    // Same, with any nft match expression before "counter drop".
    bool installMatch(const QString &match, QString *error);
    // Packets the rule dropped so far (its counter), -1 if unknown.
    long long dropped() const;
    void remove();
    QString table() const { return m_table; }

private:
    QString m_table;
};

} // namespace tcpscope::test
