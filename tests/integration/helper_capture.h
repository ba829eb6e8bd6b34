// SPDX-License-Identifier: GPL-3.0-or-later
// Test support: groups the records of one helper session into connections.
#pragma once

#include "wire.h"

#include <QString>
#include <QStringList>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tcpscope::test {

inline const char *stateName(int s)
{
    static const char *names[] = {
        "?",     "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",
        "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV"};
    return s >= 0 && s <= 12 ? names[s] : "?";
}

// Everything one helper session produced, split into connections. A socket id can come back
// after CLOSE (in tracepoint mode it may be a reused sk pointer), so a CLOSE ends a connection.
struct Connection
{
    std::uint64_t id = 0;
    std::vector<ts_state_change> changes;
    std::optional<ts_close_stats> close;
};

struct Capture
{
    std::vector<Connection> conns;
    std::map<std::uint64_t, std::size_t> open, lastClosed;
    std::uint64_t statsFrames = 0;
    std::vector<ts_packet> packets;       // packet records (snapshot records: their ts_packet)
    std::vector<ts_packet_snap> snaps;    // snapshot records as received
    std::vector<ts_interface> interfaces; // attach/detach reports
    std::uint64_t packetsFiltered = 0;    // from the latest Stats
    std::uint64_t packetsLost = 0;
    std::uint64_t lost = 0;       // ring buffer losses (latest Stats, all buffers)
    std::uint64_t missedRuns = 0; // program runs the kernel skipped (latest Stats)
    // tcpinfo.bpf.c and the helper's listener poll / BTF reason tables
    std::vector<ts_tcp_sample> samples;
    std::vector<ts_tcp_event> events;
    std::vector<ts_drop> drops;
    std::vector<ts_listener_sample> listeners;
    std::map<std::pair<std::uint16_t, std::uint32_t>, std::string> reasonNames; // (table, value)
    bool helperClosed = false; // the helper closed its socket (after Stop: everything drained)

    // Value of a reason name in a table the helper sent (never a hard-coded number).
    std::optional<std::uint32_t> reasonValue(std::uint16_t table, const std::string &name) const
    {
        for (const auto &[key, n] : reasonNames)
            if (key.first == table && n == name)
                return key.second;
        return std::nullopt;
    }
    QString reasonName(std::uint16_t table, std::uint32_t value) const
    {
        const auto it = reasonNames.find({table, value});
        return it == reasonNames.end() ? QStringLiteral("?%1").arg(value)
                                       : QString::fromStdString(it->second);
    }

    void add(const ts_state_change &c)
    {
        auto it = open.find(c.sock_id);
        if (it == open.end()) {
            conns.push_back({c.sock_id, {}, {}});
            it = open.emplace(c.sock_id, conns.size() - 1).first;
        }
        conns[it->second].changes.push_back(c);
        if (c.newstate == 7) { // TCP_CLOSE: the next record with this id is a new socket
            lastClosed[c.sock_id] = it->second;
            open.erase(it);
        }
    }
    void add(const ts_close_stats &c)
    {
        if (auto it = lastClosed.find(c.sock_id); it != lastClosed.end())
            conns[it->second].close = c;
    }
    // Connection whose first record matches; -1 if none yet.
    int find(const std::function<bool(const ts_state_change &)> &first) const
    {
        for (std::size_t i = 0; i < conns.size(); ++i)
            if (first(conns[i].changes.front()))
                return int(i);
        return -1;
    }
    bool closed(int i) const { return i >= 0 && conns[i].close.has_value(); }
    QString describe(int i) const
    {
        QStringList s;
        if (i < 0)
            return "(none)";
        for (const auto &c : conns[i].changes)
            s << QStringLiteral("%1>%2 pid=%3(%4) src=%5 ctx=%6 %7->%8")
                     .arg(stateName(c.oldstate), stateName(c.newstate))
                     .arg(c.pid)
                     .arg(c.comm)
                     .arg(c.owner_source)
                     .arg(c.ctx_pid)
                     .arg(c.sport)
                     .arg(c.dport);
        return s.join("; ");
    }
};

} // namespace tcpscope::test
