// SPDX-License-Identifier: GPL-3.0-or-later
// tcpscope-extcap's answers to Wireshark's extcap queries: the interface list, the link type
// (the one pcapng_writer's interface blocks declare), the configuration arguments, and the
// refusals of an unknown interface or a capture without a FIFO.
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

namespace {

struct Result
{
    int code = -1;
    QStringList lines;
    QString err;
};

Result extcap(const QStringList &args)
{
    QProcess p;
    p.start(qEnvironmentVariable("TCPSCOPE_EXTCAP"), args);
    Result r;
    if (!p.waitForFinished(10000))
        return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.lines =
        QString::fromUtf8(p.readAllStandardOutput()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace

class TestExtcap : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY2(!qEnvironmentVariable("TCPSCOPE_EXTCAP").isEmpty(),
                 "run through ctest (TCPSCOPE_EXTCAP not set)");
    }

    void interfaces()
    {
        // Wireshark 4.x adds its own version.
        for (const QStringList &args : {QStringList{QStringLiteral("--extcap-interfaces")},
                                        QStringList{QStringLiteral("--extcap-interfaces"),
                                                    QStringLiteral("--extcap-version=4.2")}}) {
            const Result r = extcap(args);
            QCOMPARE(r.code, 0);
            QCOMPARE(r.lines.size(), 2);
            QVERIFY2(QRegularExpression(QStringLiteral("^extcap \\{version=\\d+\\.\\d+\\.\\d+\\}"))
                         .match(r.lines[0])
                         .hasMatch(),
                     qPrintable(r.lines[0]));
            QCOMPARE(r.lines[1], QStringLiteral("interface {value=tcpscope}{display=tcpscope: TCP "
                                                "connections with process data (eBPF)}"));
        }
    }

    void dlts()
    {
        const Result r = extcap({QStringLiteral("--extcap-dlts"),
                                 QStringLiteral("--extcap-interface"), QStringLiteral("tcpscope")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.lines.size(), 1);
        // LINKTYPE_RAW (101), as every interface block of tcpscope's pcapng.
        QVERIFY2(r.lines[0].startsWith(QLatin1String("dlt {number=101}{name=RAW}{display=")),
                 qPrintable(r.lines[0]));
    }

    void config()
    {
        const Result r = extcap(
            {QStringLiteral("--extcap-config"), QStringLiteral("--extcap-interface=tcpscope")});
        QCOMPARE(r.code, 0);
        const QRegularExpression arg(
            QStringLiteral("^arg \\{number=(\\d+)\\}\\{call=(--[a-z-]+)\\}\\{display=[^}]+\\}"
                           "\\{type=([a-z]+)\\}"));
        QStringList calls;
        for (int i = 0; i < r.lines.size(); ++i) {
            const auto m = arg.match(r.lines[i]);
            QVERIFY2(m.hasMatch(), qPrintable(r.lines[i]));
            QCOMPARE(m.captured(1).toInt(), i);
            QVERIFY2(!r.lines[i].contains(QLatin1String("}}")), qPrintable(r.lines[i]));
            calls << m.captured(2) + QLatin1Char(':') + m.captured(3);
        }
        QCOMPARE(calls, (QStringList{QStringLiteral("--filter:string"),
                                     QStringLiteral("--duration:unsigned"),
                                     QStringLiteral("--snap:unsigned"),
                                     QStringLiteral("--keep-session:fileselect")}));
    }

    void refusals()
    {
        Result r = extcap({QStringLiteral("--extcap-dlts"), QStringLiteral("--extcap-interface"),
                           QStringLiteral("eth0")});
        QCOMPARE(r.code, 2);
        QVERIFY(r.lines.isEmpty());
        QVERIFY2(r.err.contains(QLatin1String("no interface 'eth0'")), qPrintable(r.err));
        r = extcap({QStringLiteral("--capture"), QStringLiteral("--extcap-interface"),
                    QStringLiteral("tcpscope")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains(QLatin1String("--fifo")), qPrintable(r.err));
        r = extcap({QStringLiteral("--capture"), QStringLiteral("--extcap-interface"),
                    QStringLiteral("tcpscope"), QStringLiteral("--fifo"), QStringLiteral("/nx"),
                    QStringLiteral("--duration"), QStringLiteral("ten")});
        QCOMPARE(r.code, 2);
        // A filter check (Wireshark validating the capture filter field) is accepted.
        r = extcap({QStringLiteral("--extcap-interface"), QStringLiteral("tcpscope"),
                    QStringLiteral("--extcap-capture-filter"), QStringLiteral("port 80")});
        QCOMPARE(r.code, 0);
    }
};

QTEST_GUILESS_MAIN(TestExtcap)
#include "test_extcap.moc"
