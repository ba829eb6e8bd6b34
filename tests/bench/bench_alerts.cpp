// SPDX-License-Identifier: GPL-3.0-or-later
// bench_alerts: what the detectors cost per record. A session file is read into memory in the
// slices a live capture publishes (core/detect/session_alerts.h), then the same slices go
// through AlertEngine several times, timed on this thread's CPU clock: the built-in detectors
// alone, and with custom rules (a packet rule, a counted packet rule and a connection rule).
//   bench_alerts FILE [--rounds N]
#include "detect/alert_engine.h"
#include "detect/session_alerts.h"
#include "session/session.h"

#include <QCoreApplication>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

using namespace tcpscope;

namespace {

struct Slice
{
    QVector<Connection> changed;
    QVector<Packet> packets;
    KernelData kernel;
};

double threadCpuSeconds()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// The median CPU seconds of `rounds` passes over the slices, and the alerts of the last one.
std::pair<double, quint64> timeEngine(const std::vector<Slice> &slices, const AlertConfig &config,
                                      int rounds)
{
    std::vector<double> times;
    quint64 alerts = 0;
    for (int r = 0; r < rounds; ++r) {
        AlertEngine engine(config);
        const double start = threadCpuSeconds();
        for (const Slice &s : slices) {
            engine.addBatch(s.changed, s.packets, s.kernel);
            engine.takeAlerts();
        }
        times.push_back(threadCpuSeconds() - start);
        alerts = engine.alertsRaised();
    }
    std::sort(times.begin(), times.end());
    return {times[times.size() / 2], alerts};
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: bench_alerts FILE [--rounds N]\n");
        return 2;
    }
    int rounds = 5;
    if (const qsizetype i = args.indexOf(QStringLiteral("--rounds")); i > 0 && i + 1 < args.size())
        rounds = std::max(1, args.at(i + 1).toInt());
    QString error;
    auto session = Session::open(args.at(1), &error);
    if (!session) {
        std::fprintf(stderr, "bench_alerts: %s\n", qPrintable(error));
        return 2;
    }
    std::vector<Slice> slices;
    replaySession(*session,
                  [&](const QVector<Connection> &c, const QVector<Packet> &p, const KernelData &k) {
                      slices.push_back({c, p, k});
                      return true;
                  });
    // Records = what the engine looks at: every state change once, packets and kernel records.
    AlertEngine counter;
    for (const Slice &s : slices)
        counter.addBatch(s.changed, s.packets, s.kernel);
    const quint64 records = counter.itemsSeen();
    std::printf("%s: %zu slices, %llu records (state changes, packets, kernel events, drops, "
                "listener samples)\n",
                qPrintable(args.at(1)), slices.size(), (unsigned long long)records);

    QString rulesError;
    const auto withRules = parseAlertConfig(
        QStringLiteral("alert big when tcp.len > 60000\n"
                       "alert resends when count(tcp.analysis.retransmission) by conn.id > 10 "
                       "over 1s\n"
                       "alert slow when conn.handshake_time > 100ms && conn.remote_port == 443\n"),
        &rulesError);
    if (!withRules) {
        std::fprintf(stderr, "bench_alerts: %s\n", qPrintable(rulesError));
        return 1;
    }
    for (const auto &[name, config] :
         {std::pair{"built-in detectors", AlertConfig()}, {"with 3 custom rules", *withRules}}) {
        const auto [seconds, alerts] = timeEngine(slices, config, rounds);
        std::printf("%-20s %7.3f CPU-s  %6.1f ns/record  %5.2f M records/s  %llu alerts  "
                    "(median of %d)\n",
                    name, seconds, records ? seconds * 1e9 / double(records) : 0.0,
                    seconds > 0 ? double(records) / seconds / 1e6 : 0.0, (unsigned long long)alerts,
                    rounds);
    }
    return 0;
}
