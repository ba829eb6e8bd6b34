// SPDX-License-Identifier: GPL-3.0-or-later
// The triggered-capture ring: records inside a window are kept (those waiting in the ring when
// the trigger comes, and later ones), records outside every window are not, overlapping windows
// merge and remember each trigger, the ring stays within its byte budget by dropping its oldest
// records, and an expression trigger becomes a rule.
#include "capture/trigger_ring.h"

#include <QTest>

using namespace tcpscope;

namespace {

constexpr qint64 kS = 1'000'000'000;
constexpr qint64 kT0 = 1'800'000'000 * kS;

QVector<Packet> packets(qint64 fromId, qint64 fromNs, int n, qint64 stepNs)
{
    QVector<Packet> out;
    for (int i = 0; i < n; ++i) {
        Packet p;
        p.id = fromId + i;
        p.timeNs = fromNs + i * stepNs;
        out.append(p);
    }
    return out;
}

Alert alertAt(qint64 t, const QString &kind = QStringLiteral("port_scan"))
{
    Alert a;
    a.kind = kind;
    a.subject = QStringLiteral("10.0.0.1");
    a.timeNs = t;
    return a;
}

} // namespace

class TestTriggerRing : public QObject
{
    Q_OBJECT
private slots:
    void keepsTheWindowAroundATrigger()
    {
        TriggerSettings s;
        s.trigger = QStringLiteral("kind:port_scan");
        s.preNs = 2 * kS;
        s.postNs = 1 * kS;
        TriggerRing ring(s);
        // 10 s of one packet every 100 ms, the trigger at 5 s, in two publish steps.
        ring.add(packets(1, kT0, 60, kS / 10), {}); // 0 .. 5.9 s
        QVERIFY(!ring.isTrigger(alertAt(kT0, QStringLiteral("rst_storm"))));
        QVERIFY(ring.isTrigger(alertAt(kT0 + 5 * kS)));
        ring.trigger(alertAt(kT0 + 5 * kS));
        ring.add(packets(61, kT0 + 6 * kS, 40, kS / 10), {}); // 6 .. 9.9 s
        QVector<Packet> due;
        QVector<TcpSample> samples;
        ring.take(&due, &samples);
        // 3 s .. 6 s inclusive: 31 packets, in id order.
        QCOMPARE(due.size(), 31);
        QCOMPARE(due.first().timeNs, kT0 + 3 * kS);
        QCOMPARE(due.last().timeNs, kT0 + 6 * kS);
        QVERIFY(std::is_sorted(due.begin(), due.end(),
                               [](const Packet &a, const Packet &b) { return a.id < b.id; }));
        QCOMPARE(ring.kept(), 31u);
        QCOMPARE(ring.discarded(), 69u); // waiting, never asked for
        QCOMPARE(ring.windows().size(), 1);
        QCOMPARE(ring.windows().first().startNs, kT0 + 3 * kS);
        QCOMPARE(ring.windows().first().endNs, kT0 + 6 * kS);
        QVERIFY(ring.windows().first().triggers.first().startsWith(
            QLatin1String("port_scan 10.0.0.1 at ")));
    }

    void overlappingWindowsMerge()
    {
        TriggerSettings s;
        s.trigger = QStringLiteral("kind:port_scan");
        s.preNs = s.postNs = kS;
        TriggerRing ring(s);
        ring.trigger(alertAt(kT0 + 10 * kS));
        ring.trigger(alertAt(kT0 + 11 * kS)); // overlaps: 9 .. 12
        ring.trigger(alertAt(kT0 + 20 * kS)); // apart: 19 .. 21
        ring.trigger(alertAt(kT0 + 5 * kS));  // earlier, apart: 4 .. 6
        QCOMPARE(ring.windows().size(), 3);
        QCOMPARE(ring.windows().at(0).startNs, kT0 + 4 * kS);
        QCOMPARE(ring.windows().at(1).startNs, kT0 + 9 * kS);
        QCOMPARE(ring.windows().at(1).endNs, kT0 + 12 * kS);
        QCOMPARE(ring.windows().at(1).triggers.size(), 2);
        QCOMPARE(ring.windows().at(2).endNs, kT0 + 21 * kS);
        // Late records land in their window directly.
        ring.add(packets(1, kT0 + 11 * kS, 1, 0), {});
        TcpSample sample;
        sample.timeNs = kT0 + 20 * kS;
        ring.add({}, {sample});
        QVector<Packet> due;
        QVector<TcpSample> samples;
        ring.take(&due, &samples);
        QCOMPARE(due.size(), 1);
        QCOMPARE(samples.size(), 1);
    }

    void aFloodOfTriggersIsOneWindowWithAShortList()
    {
        TriggerSettings s;
        s.trigger = QStringLiteral("kind:port_scan");
        s.preNs = s.postNs = 10 * kS;
        TriggerRing ring(s);
        QVERIFY(ring.trigger(alertAt(kT0 + 10 * kS)));
        QVERIFY(ring.trigger(alertAt(kT0 + 12 * kS))); // extends it to 2 .. 22 s
        for (int i = 2; i < 30; ++i) // inside the window: counted, nothing new kept
            QVERIFY(!ring.trigger(alertAt(kT0 + 11 * kS)));
        QCOMPARE(ring.windows().size(), 1);
        const QStringList lines = ring.windows().first().triggers;
        QCOMPARE(lines.size(), 21);
        QCOMPARE(lines.last(), QStringLiteral("... and 10 more"));
        Alert odd = alertAt(kT0 + 40 * kS);
        odd.subject = QStringLiteral("a\nb");
        ring.trigger(odd);
        QVERIFY(!ring.windows().last().triggers.first().contains(QLatin1Char('\n')));
    }

    void ringStaysWithinItsBudget()
    {
        TriggerSettings s;
        s.trigger = QStringLiteral("kind:port_scan");
        s.ringBytes = 100 * qint64(sizeof(Packet));
        TriggerRing ring(s);
        ring.add(packets(1, kT0, 1000, kS / 1000), {});
        QVERIFY(ring.bytesHeld() <= s.ringBytes);
        QCOMPARE(ring.discarded(), 1000u); // 900 dropped for space + 100 waiting
        QVERIFY(ring.spanHeldNs() > 0);
        QVERIFY(ring.spanHeldNs() < kS / 10);
    }

    void expressionTrigger()
    {
        TriggerSettings s;
        s.trigger = QStringLiteral("tcp.flags.reset == 1");
        QCOMPARE(s.alertKind(), QStringLiteral("trigger"));
        QCOMPARE(s.ruleText(),
                 QStringLiteral("alert trigger severity=low when tcp.flags.reset == 1"));
        s.trigger = QStringLiteral("kind:syn_flood");
        QCOMPARE(s.alertKind(), QStringLiteral("syn_flood"));
        QVERIFY(s.ruleText().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestTriggerRing)
#include "test_trigger_ring.moc"
