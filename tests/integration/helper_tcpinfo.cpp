// SPDX-License-Identifier: GPL-3.0-or-later
#include "helper_tcpinfo.h"

#include "helper_session.h"

#include <QProcess>
#include <algorithm>
#include <map>
#include <sys/stat.h>

namespace tcpscope::test {

namespace {
constexpr int kTcpListen = 10, kTcpClose = 7, kTcpSynSent = 2, kTcpSynRecv = 3;
}

wire::StartOptions tcpinfoOnly(std::uint32_t intervalUs)
{
    wire::StartOptions o;
    o.flags = wire::StartOptions::kTcpInfo;
    o.sampleIntervalUs = intervalUs;
    return o;
}

Bulk runBulk(bool v6, const std::function<void(unsigned)> &beforeClient)
{
    Bulk b;
    b.family = v6 ? AF_INET6 : AF_INET;
    const QString fam = v6 ? "6" : "4";
    QProcess server, client;
    server.start(binDir() + "/ts_traffic",
                 {"server", fam, QString::number(kBulkBytes), QString::number(kRequestBytes)});
    b.serverPort = readPort(server);
    if (b.serverPort == 0)
        qFatal("ts_traffic server did not start");
    if (beforeClient)
        beforeClient(b.serverPort);
    client.start(binDir() + "/ts_traffic",
                 {"client", fam, QString::number(b.serverPort), QString::number(kRequestBytes),
                  QString::number(kBulkBytes)});
    b.clientPort = readPort(client);
    // Generous: under induced loss, retransmission timeouts stretch the transfer.
    if (!client.waitForFinished(120000) || !server.waitForFinished(10000) ||
        client.exitCode() != 0 || server.exitCode() != 0)
        qFatal("bulk traffic failed: client %d %s / server %d %s", client.exitCode(),
               client.readAllStandardError().constData(), server.exitCode(),
               server.readAllStandardError().constData());
    return b;
}

Sides findSides(const Capture &cap, const Bulk &b)
{
    Sides s;
    s.client = cap.find([&](const ts_state_change &c) {
        return c.family == b.family && c.oldstate == kTcpClose && c.newstate == kTcpSynSent &&
               c.dport == b.serverPort;
    });
    s.server = cap.find([&](const ts_state_change &c) {
        return c.family == b.family && c.oldstate == kTcpListen && c.newstate == kTcpSynRecv &&
               c.sport == b.serverPort && c.dport == b.clientPort;
    });
    return s;
}

std::vector<ts_tcp_sample> samplesOf(const Capture &cap, std::uint64_t id)
{
    std::vector<ts_tcp_sample> out;
    for (const auto &s : cap.samples)
        if (s.sock_id == id)
            out.push_back(s);
    std::stable_sort(out.begin(), out.end(),
                     [](const auto &a, const auto &b) { return a.hdr.ts_ns < b.hdr.ts_ns; });
    return out;
}

RetransWindow retransInWindow(const Capture &cap, std::uint64_t t0, std::uint64_t t1,
                              const std::function<bool(const ts_tcp_event &)> &mine)
{
    RetransWindow w;
    std::map<std::uint64_t, std::uint32_t> netnsOf; // sock id -> netns, from lifecycle records
    for (const auto &c : cap.conns)
        netnsOf[c.id] = c.changes.front().netns_ino;
    const std::uint32_t here = ownNetns();
    for (const auto &e : cap.events) {
        const bool retrans = e.kind == TS_EV_RETRANSMIT && e.err == 0;
        const bool synack = e.kind == TS_EV_SYNACK_RETRANSMIT;
        if ((!retrans && !synack) || e.hdr.ts_ns < t0 || e.hdr.ts_ns > t1)
            continue;
        const std::uint64_t n = retrans ? e.segs : 1;
        const auto ns = netnsOf.find(e.sock_id);
        if (ns != netnsOf.end() && ns->second != here) {
            w.otherNetns += n;
            continue;
        }
        w.segs += n;
        if (!mine(e))
            w.others << QStringLiteral("%1 %2->%3 segs=%4 id=%5")
                            .arg(retrans ? "retransmit" : "synack")
                            .arg(e.sport)
                            .arg(e.dport)
                            .arg(n)
                            .arg(e.sock_id);
    }
    return w;
}

std::uint32_t ownNetns()
{
    struct stat st
    {
    };
    return ::stat("/proc/self/ns/net", &st) == 0 ? std::uint32_t(st.st_ino) : 0;
}

} // namespace tcpscope::test
