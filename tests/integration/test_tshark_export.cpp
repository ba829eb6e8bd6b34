// SPDX-License-Identifier: GPL-3.0-or-later
// tcpscope against the ecosystem, on the real kernel with real loopback traffic:
//  * `tcpscope record` + `tcpscope export --packets`: tshark reads the pcapng without complaint
//    and sees, packet by packet, the session's ports, seq/ack, flags and window, with the
//    process comment (IPv4 and IPv6); each packet's epb_processid_threadid option names the
//    client's pid and its custom options the process name (the section header the host name),
//    where tshark's pcapng file dissector finds them too, with no expert note;
//  * induced loss (nftables statistical drop) captured at once by tcpscope and by tcpdump:
//    tcpscope's counts for the client and the server connection equal tshark's analysis of each
//    socket's own export, and equal tshark's analysis of the tcpdump file except for packets
//    whose order the two vantage points saw differently, each of which is named and counted;
//  * `export --chart seq` renders a PNG of the requested size.
// Needs root, tshark, tcpdump and nft (packaging/deps.sh --with-test-tools); skips loudly without.
#include "pcapng_options.h"
#include "session/session_reader.h"
#include "tshark_support.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>
#include <csignal>
#include <unistd.h>

using namespace tcpscope;

using namespace tcpscope::tshark_test;
using namespace tcpscope::pcapng_test;

namespace {

// One TCP packet of a capture, for comparing two captures of the same stream taken at
// different points: its identity (the header fields that tell packets apart; the n-th packet
// with identical headers is a packet of its own), its direction, and the verdicts that depend
// on the order of the packets.
struct Seen
{
    QString id;
    bool fromClient = false;
    bool dupAck = false;
    bool notAdvanced = false; // retransmission or out-of-order
    bool keepAlive = false;
    // From the capture's order:
    QString prevSameDir;             // id of the previous packet of its direction
    bool lastOtherKeepAlive = false; // the other direction's last packet was a keep-alive
    int dirIndex = 0;                // position among the packets of its direction
};

QString headerKey(quint16 srcPort, quint32 seq, quint32 ack, quint16 window, quint32 len,
                  quint32 flags)
{
    return QStringLiteral("%1 seq=%2 ack=%3 win=%4 len=%5 flags=0x%6")
        .arg(srcPort)
        .arg(seq)
        .arg(ack)
        .arg(window)
        .arg(len)
        .arg(flags & 0xff, 2, 16, QLatin1Char('0'));
}

// Fills in ids (with repeat numbers) and the order-derived fields, in capture order.
void annotate(QVector<Seen> &packets)
{
    QHash<QString, int> repeats;
    QString prev[2];
    bool lastKeepAlive[2] = {false, false};
    int count[2] = {0, 0};
    for (Seen &p : packets) {
        p.id += QStringLiteral(" #%1").arg(repeats[p.id]++);
        const int dir = p.fromClient ? 0 : 1;
        p.prevSameDir = prev[dir];
        p.lastOtherKeepAlive = lastKeepAlive[1 - dir];
        p.dirIndex = count[dir]++;
        prev[dir] = p.id;
        lastKeepAlive[dir] = p.keepAlive;
    }
}

// For each direction: prefixSame[dir][i] is true when the first i packets of that direction are
// the same packets (in any order) in both captures.
void samePrefixes(const QVector<Seen> &a, const QVector<Seen> &b, QVector<bool> prefixSame[2])
{
    for (int dir = 0; dir < 2; ++dir) {
        QStringList seqA, seqB;
        for (const Seen &p : a)
            if ((p.fromClient ? 0 : 1) == dir)
                seqA << p.id;
        for (const Seen &p : b)
            if ((p.fromClient ? 0 : 1) == dir)
                seqB << p.id;
        QHash<QString, int> balance;
        int unbalanced = 0;
        auto add = [&](const QString &id, int d) {
            int &v = balance[id];
            if (v == 0)
                ++unbalanced;
            v += d;
            if (v == 0)
                --unbalanced;
        };
        prefixSame[dir] = {true};
        for (int i = 0; i < qMax(seqA.size(), seqB.size()); ++i) {
            if (i < seqA.size())
                add(seqA[i], 1);
            if (i < seqB.size())
                add(seqB[i], -1);
            prefixSame[dir].append(unbalanced == 0);
        }
    }
}

// How one socket's view of the stream (tcpscope) differs from the tap's (tcpdump on lo), and
// whether each difference in a verdict has its cause in the two captures' order:
//  * a duplicate ACK is decided by the packet's own direction alone (same seq, ACK and window
//    as that direction's previous packet), except that a repeat answering the other side's
//    keep-alive is a keep-alive ACK instead: its verdict may differ only if the previous
//    packet of its direction differs, or the keep-alive status of the other direction's last
//    packet before it does;
//  * whether a data segment advances the sequence is decided by the packets of its direction
//    before it: its verdict may differ only if that set of packets differs.
// Packets one capture holds and the other does not (a GSO packet at the sender's TC egress is
// several segments at the tap) must not be duplicate ACKs. The sequence verdicts are compared
// only for a view that holds exactly the tap's packets (the receiving socket's): the sender's
// GSO packets are other segments than the tap's, so its verdicts on them cannot be matched.
struct OrderAccount
{
    int reordered = 0;              // packets whose previous packet of their direction differs
    int dupGained = 0, dupLost = 0; // explained: dup ACK only in the view / tap
    int notAdvancedGained = 0, notAdvancedLost = 0; // likewise for retransmission + out-of-order
    int onlyInView = 0, onlyInTap = 0;
    QStringList explained, unexplained;
};

OrderAccount accountOrder(const QVector<Seen> &view, const QVector<Seen> &tap,
                          bool compareNotAdvanced)
{
    OrderAccount acc;
    QHash<QString, int> tapIndex;
    for (int i = 0; i < tap.size(); ++i)
        tapIndex.insert(tap[i].id, i);
    QVector<bool> prefixSame[2];
    samePrefixes(view, tap, prefixSame);
    QSet<QString> matched;
    for (int i = 0; i < view.size(); ++i) {
        const Seen &v = view[i];
        const auto it = tapIndex.constFind(v.id);
        if (it == tapIndex.constEnd()) {
            ++acc.onlyInView;
            if (v.dupAck || (compareNotAdvanced && v.notAdvanced))
                acc.unexplained << QStringLiteral("view #%1 %2: flagged, not in the tap's capture")
                                       .arg(i + 1)
                                       .arg(v.id);
            continue;
        }
        matched.insert(v.id);
        const Seen &t = tap[*it];
        const QString where =
            QStringLiteral("view #%1 / tap #%2 %3").arg(i + 1).arg(*it + 1).arg(v.id);
        const bool predecessorDiffers = v.prevSameDir != t.prevSameDir;
        if (predecessorDiffers)
            ++acc.reordered;
        if (v.dupAck != t.dupAck) {
            const bool why = predecessorDiffers || v.lastOtherKeepAlive != t.lastOtherKeepAlive;
            const QString text =
                QStringLiteral("%1: dup ACK %2 in the view, %3 at the tap; previous of its "
                               "direction: view %4, tap %5")
                    .arg(where, v.dupAck ? QStringLiteral("yes") : QStringLiteral("no"),
                         t.dupAck ? QStringLiteral("yes") : QStringLiteral("no"), v.prevSameDir,
                         t.prevSameDir);
            if (why) {
                (v.dupAck ? acc.dupGained : acc.dupLost)++;
                acc.explained << text;
            } else {
                acc.unexplained << text;
            }
        }
        if (compareNotAdvanced && v.notAdvanced != t.notAdvanced) {
            const int dir = v.fromClient ? 0 : 1;
            const bool why = v.dirIndex != t.dirIndex || !prefixSame[dir].value(v.dirIndex, false);
            const QString text =
                QStringLiteral("%1: retransmission/out-of-order %2 in the view, "
                               "%3 at the tap")
                    .arg(where, v.notAdvanced ? QStringLiteral("yes") : QStringLiteral("no"),
                         t.notAdvanced ? QStringLiteral("yes") : QStringLiteral("no"));
            if (why) {
                (v.notAdvanced ? acc.notAdvancedGained : acc.notAdvancedLost)++;
                acc.explained << text;
            } else {
                acc.unexplained << text;
            }
        }
    }
    for (int i = 0; i < tap.size(); ++i) {
        if (matched.contains(tap[i].id))
            continue;
        ++acc.onlyInTap;
        if (tap[i].dupAck || (compareNotAdvanced && tap[i].notAdvanced))
            acc.unexplained
                << QStringLiteral("tap #%1 %2: flagged, not in the view").arg(i + 1).arg(tap[i].id);
    }
    return acc;
}

} // namespace

class TestTsharkExport : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void exportReadsBackInTshark();
    void lossAnalysisAgreesWithTshark();

private:
    void startRecorder(QProcess &rec, const QString &file, const QString &filter);
    QString waitUntilLive(QProcess &rec, const QString &file);
    void stopRecorder(QProcess &rec);
    int tsharkCount(const QString &pcap, const QString &filter);
    QStringList tsharkFields(const QString &pcap, const QString &filter, const QStringList &fields);

    QString m_tcpscope, m_helper, m_traffic;
    QTemporaryDir m_dir;
};

void TestTsharkExport::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: tcpscope record loads BPF programs and nft/tcpdump need root; run as "
              "root for this test");
    for (const char *tool : {"tshark", "tcpdump", "nft"}) {
        if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
            QSKIP(qPrintable(QStringLiteral("MISSING TOOL %1: install the test tools with "
                                            "packaging/deps.sh --with-test-tools")
                                 .arg(QLatin1String(tool))));
    }
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_helper = qEnvironmentVariable("TCPSCOPE_HELPER");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_helper).isExecutable(), "TCPSCOPE_HELPER not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    QVERIFY(m_dir.isValid());
    NftLoss::remove(); // a table left by a killed earlier run
}

void TestTsharkExport::startRecorder(QProcess &rec, const QString &file, const QString &filter)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_HELPER"), m_helper);
    rec.setProcessEnvironment(env);
    rec.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"), file,
                           QStringLiteral("--filter"), filter});
    QVERIFY(rec.waitForStarted());
}

// Empty when the recorder is live; else why not. A helper that refuses packet capture options
// (this build's BPF side cannot capture packets) makes the recorder exit naming "Start:".
QString TestTsharkExport::waitUntilLive(QProcess &rec, const QString &file)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 20000) {
        if (rec.state() == QProcess::NotRunning)
            return QStringLiteral("tcpscope record exited: ") +
                   QString::fromLocal8Bit(rec.readAllStandardError()).trimmed();
        QString error;
        ReadOptions none;
        none.packets = false;
        const auto data = SessionReader::read(file, &error, none);
        if (data && data->info.startedNs > 0)
            return QString();
        QTest::qWait(100);
    }
    return QStringLiteral("tcpscope record did not become live within 20 s");
}

void TestTsharkExport::stopRecorder(QProcess &rec)
{
    // The last packets (FIN, final ACK) are in the ring buffer by now; give the helper a moment
    // to forward them before asking the recorder to stop (it drains what arrived).
    QTest::qWait(500);
    ::kill(pid_t(rec.processId()), SIGINT);
    QVERIFY(rec.waitForFinished(30000));
    QVERIFY2(rec.exitStatus() == QProcess::NormalExit && rec.exitCode() == 0,
             rec.readAllStandardError().constData());
}

int TestTsharkExport::tsharkCount(const QString &pcap, const QString &filter)
{
    const Run r = run(QStringLiteral("tshark"),
                      {QStringLiteral("-n"), QStringLiteral("-r"), pcap, QStringLiteral("-Y"),
                       filter, QStringLiteral("-T"), QStringLiteral("fields"), QStringLiteral("-e"),
                       QStringLiteral("frame.number")});
    if (r.exitCode != 0) {
        qWarning() << "tshark failed:" << r.err;
        return -1;
    }
    return int(r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size());
}

QStringList TestTsharkExport::tsharkFields(const QString &pcap, const QString &filter,
                                           const QStringList &fields)
{
    QStringList args = {
        QStringLiteral("-n"),         QStringLiteral("-r"),     pcap,
        QStringLiteral("-T"),         QStringLiteral("fields"), QStringLiteral("-E"),
        QStringLiteral("separator=|")};
    if (!filter.isEmpty())
        args << QStringLiteral("-Y") << filter;
    for (const QString &f : fields)
        args << QStringLiteral("-e") << f;
    const Run r = run(QStringLiteral("tshark"), args);
    if (r.exitCode != 0)
        qWarning() << "tshark failed:" << r.err;
    return r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

void TestTsharkExport::exportReadsBackInTshark()
{
    // Both exchanges use one server port each; the filter keeps other loopback traffic (other
    // tests on this machine) out of the session.
    struct Flow
    {
        int family;
        QProcess server, client;
        quint16 serverPort = 0, clientPort = 0;
        qint64 clientPid = 0; // processId() is 0 once the process has exited
    };
    Flow flows[2];
    flows[0].family = 4;
    flows[1].family = 6;
    QStringList ports;
    for (Flow &f : flows) {
        f.server.start(m_traffic, {QStringLiteral("server"), QString::number(f.family),
                                   QStringLiteral("300000"), QStringLiteral("20000")});
        QVERIFY(f.server.waitForStarted());
        f.serverPort = readPort(f.server);
        QVERIFY(f.serverPort);
        ports << QString::number(f.serverPort);
    }
    const QString file = m_dir.filePath(QStringLiteral("export.tcpscope"));
    QProcess rec;
    startRecorder(rec, file, QStringLiteral("port ") + ports.join(QLatin1Char(',')));
    if (const QString why = waitUntilLive(rec, file); !why.isEmpty()) {
        if (why.contains(QLatin1String("Start:")))
            QSKIP(qPrintable(
                QStringLiteral("PACKET CAPTURE UNAVAILABLE from this tcpscope-helper: ") + why));
        QFAIL(qPrintable(why));
    }
    for (Flow &f : flows) {
        f.client.start(m_traffic, {QStringLiteral("client"), QString::number(f.family),
                                   QString::number(f.serverPort), QStringLiteral("20000"),
                                   QStringLiteral("300000")});
        QVERIFY(f.client.waitForStarted());
        f.clientPid = f.client.processId();
        f.clientPort = readPort(f.client);
        QVERIFY(f.client.waitForFinished(20000) && f.client.exitCode() == 0);
        QVERIFY(f.server.waitForFinished(20000) && f.server.exitCode() == 0);
    }
    stopRecorder(rec);

    QString error;
    const auto session = SessionReader::read(file, &error);
    QVERIFY2(session, qPrintable(error));
    if (!session->info.packetsCaptured)
        QSKIP(qPrintable(QStringLiteral("PACKET CAPTURE UNAVAILABLE: probes %1")
                             .arg(session->info.probes.join(QLatin1Char(' ')))));
    QCOMPARE(session->info.lostPackets, quint64(0));

    for (Flow &f : flows) {
        const Connection *client = findConn(*session, f.clientPort, f.serverPort);
        QVERIFY2(client,
                 qPrintable(QStringLiteral("no client connection for IPv%1").arg(f.family)));
        QVector<Packet> packets;
        for (const Packet &p : session->packets) {
            if (p.connectionId == client->id)
                packets.append(p);
        }
        QVERIFY(packets.size() >= 6); // handshake, data, ACKs, FINs

        const QString pcap = m_dir.filePath(QStringLiteral("client%1.pcapng").arg(f.family));
        const Run ex =
            run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--packets"), pcap,
                             QStringLiteral("--connection"), QString::number(client->id)});
        QVERIFY2(ex.exitCode == 0, qPrintable(ex.err));
        QVERIFY2(ex.out.startsWith(QStringLiteral("wrote %1 packets").arg(packets.size())),
                 qPrintable(ex.out));

        // tshark reads the whole file without a complaint and finds nothing malformed.
        const Run all =
            run(QStringLiteral("tshark"), {QStringLiteral("-n"), QStringLiteral("-r"), pcap});
        QCOMPARE(all.exitCode, 0);
        QVERIFY2(tsharkComplaints(all.err).isEmpty(), qPrintable(all.err));
        QCOMPARE(tsharkCount(pcap, QStringLiteral("_ws.malformed || _ws.expert.severity == error")),
                 0);

        // Field by field, in order.
        const QString ipSrc = f.family == 4 ? QStringLiteral("ip.src") : QStringLiteral("ipv6.src");
        const QStringList rows =
            tsharkFields(pcap, QString(),
                         {ipSrc, QStringLiteral("tcp.srcport"), QStringLiteral("tcp.dstport"),
                          QStringLiteral("tcp.seq_raw"), QStringLiteral("tcp.ack_raw"),
                          QStringLiteral("tcp.flags"), QStringLiteral("tcp.window_size_value"),
                          QStringLiteral("tcp.len"), QStringLiteral("frame.comment")});
        QCOMPARE(rows.size(), packets.size());
        for (int i = 0; i < rows.size(); ++i) {
            const Packet &p = packets[i];
            const QStringList c = rows[i].split(QLatin1Char('|'));
            QCOMPARE(c.size(), 9);
            const QString where =
                QStringLiteral("IPv%1 packet %2: %3").arg(f.family).arg(i).arg(rows[i]);
            QVERIFY2(c[1].toUInt() == p.srcPort && c[2].toUInt() == p.dstPort, qPrintable(where));
            QVERIFY2(c[3].toUInt() == p.seq, qPrintable(where));
            QVERIFY2(c[4].toUInt() == p.ack, qPrintable(where));
            bool ok = false;
            QVERIFY2(c[5].toUInt(&ok, 16) == p.tcpFlags && ok, qPrintable(where));
            QVERIFY2(c[6].toUInt() == p.window, qPrintable(where));
            QVERIFY2(c[7].toUInt() == p.payloadLen, qPrintable(where));
            QVERIFY2(c[8].startsWith(QStringLiteral("pid=%1 comm=ts_client conn=%2 ")
                                         .arg(client->pid)
                                         .arg(client->id)),
                     qPrintable(where));
            QVERIFY2(
                c[8].contains(p.isOutgoing() ? QLatin1String("dir=out") : QLatin1String("dir=in")),
                qPrintable(where));
        }
        QCOMPARE(qint64(client->pid), f.clientPid);

        // The process as data: every packet's epb_processid_threadid holds the client's pid
        // (thread 0: not known), its custom options the process name (and, where the export
        // knows it, the cgroup id); the section header holds the host name.
        QString parseError;
        const QVector<BlockOptions> blocks = pcapngOptions(pcap, &parseError);
        QVERIFY2(parseError.isEmpty(), qPrintable(parseError));
        QVERIFY(!blocks.isEmpty() && blocks[0].type == 0x0A0D0D0Au);
        QCOMPARE(customStrings(blocks[0]),
                 QStringList{QStringLiteral("tcpscope.host.name=") + session->info.hostname});
        QByteArray pidTid(8, '\0');
        qToLittleEndian<quint32>(client->pid, pidTid.data());
        int epbs = 0;
        for (const BlockOptions &b : blocks) {
            if (b.type != 6)
                continue;
            const QString where = QStringLiteral("IPv%1 EPB %2").arg(f.family).arg(epbs);
            ++epbs;
            QVERIFY2(optionValue(b, 8) == pidTid,
                     qPrintable(where + QStringLiteral(": option 8 = ") +
                                QString::fromLatin1(optionValue(b, 8).toHex(' '))));
            QVERIFY2(optionValue(b, 8, 1).isNull(), qPrintable(where)); // only once
            const QStringList texts = customStrings(b);
            QVERIFY2(texts.value(0) == QLatin1String("tcpscope.proc.name=ts_client"),
                     qPrintable(where + QLatin1Char(' ') + texts.join(QLatin1Char(','))));
            // The cgroup the client ran in (every process has one with cgroup v2).
            const QStringList expected =
                client->cgroupId != 0
                    ? QStringList{texts.value(0),
                                  QStringLiteral("tcpscope.cgroup.id=%1").arg(client->cgroupId)}
                    : QStringList{texts.value(0)};
            QVERIFY2(texts == expected,
                     qPrintable(where + QLatin1Char(' ') + texts.join(QLatin1Char(','))));
        }
        QCOMPARE(epbs, int(packets.size()));
        // tshark 4.0 has no field for the pid (it reads past option 8 and custom options of a
        // PEN it does not know); its pcapng file dissector lists each EPB's options 8 and 2988
        // and has nothing to say about any block.
        const Run fileView = run(
            QStringLiteral("tshark"),
            {QStringLiteral("-n"), QStringLiteral("-X"),
             QStringLiteral("read_format:MIME Files Format"), QStringLiteral("-r"), pcap,
             QStringLiteral("-T"), QStringLiteral("fields"), QStringLiteral("-e"),
             QStringLiteral("pcapng.options.option.code"), QStringLiteral("-e"),
             QStringLiteral("_ws.expert"), QStringLiteral("-e"), QStringLiteral("_ws.malformed")});
        QCOMPARE(fileView.exitCode, 0);
        QVERIFY2(tsharkComplaints(fileView.err).isEmpty(), qPrintable(fileView.err));
        const QStringList view =
            fileView.out.section(QLatin1Char('\n'), 0, 0).split(QLatin1Char('\t'));
        QCOMPARE(view.size(), 3);
        QCOMPARE(view[0].split(QLatin1Char(',')).count(QStringLiteral("8")), epbs);
        QVERIFY(view[0].split(QLatin1Char(',')).count(QStringLiteral("2988")) >= epbs + 1);
        QCOMPARE(view[1], QString());
        QCOMPARE(view[2], QString());

        // The whole-session export shows each loopback packet once: this flow's packets there
        // are exactly the client socket's view.
        const QString whole = m_dir.filePath(QStringLiteral("whole%1.pcapng").arg(f.family));
        const Run ew =
            run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--packets"), whole});
        QVERIFY2(ew.exitCode == 0, qPrintable(ew.err));
        QCOMPARE(tsharkCount(whole, QStringLiteral("tcp.port == %1 && tcp.port == %2")
                                        .arg(f.clientPort)
                                        .arg(f.serverPort)),
                 int(packets.size()));
    }

    // The sequence graph of a connection as an image of the requested size (PNG IHDR).
    const Connection *client = findConn(*session, flows[0].clientPort, flows[0].serverPort);
    const QString png = m_dir.filePath(QStringLiteral("seq.png"));
    const Run chart = run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--chart"),
                                       QStringLiteral("seq"), QStringLiteral("--connection"),
                                       QString::number(client->id), QStringLiteral("-o"), png,
                                       QStringLiteral("--size"), QStringLiteral("800x600")});
    QVERIFY2(chart.exitCode == 0, qPrintable(chart.err));
    QFile img(png);
    QVERIFY(img.open(QIODevice::ReadOnly));
    const QByteArray head = img.read(24);
    QCOMPARE(head.left(8), QByteArray("\x89PNG\r\n\x1a\n", 8));
    auto be32 = [&](int at) {
        return (quint32(quint8(head[at])) << 24) | (quint32(quint8(head[at + 1])) << 16) |
               (quint32(quint8(head[at + 2])) << 8) | quint8(head[at + 3]);
    };
    QCOMPARE(be32(16), 800u);
    QCOMPARE(be32(20), 600u);

    // Clear errors: an unknown connection id.
    const Run unknown =
        run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--packets"),
                         m_dir.filePath(QStringLiteral("x.pcapng")), QStringLiteral("--connection"),
                         QStringLiteral("999999")});
    QCOMPARE(unknown.exitCode, 2);
    QVERIFY2(unknown.err.contains(QLatin1String("no connection with id 999999")),
             qPrintable(unknown.err));
    QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("x.pcapng"))));
}

void TestTsharkExport::lossAnalysisAgreesWithTshark()
{
    // The server sends a few MB to the client; 5 % of everything the server's port sends is
    // dropped at the input hook, i.e. after TC ingress and after tcpdump's tap on lo: both
    // tcpscope and tcpdump see every packet, including those then dropped.
    constexpr int kServerSends = 8 * 1000 * 1000;
    QProcess server, client;
    server.start(m_traffic, {QStringLiteral("server"), QStringLiteral("4"),
                             QString::number(kServerSends), QStringLiteral("1000")});
    QVERIFY(server.waitForStarted());
    const quint16 serverPort = readPort(server);
    QVERIFY(serverPort);

    const QString file = m_dir.filePath(QStringLiteral("loss.tcpscope"));
    const QString pcap = m_dir.filePath(QStringLiteral("loss.pcap"));
    QProcess rec;
    startRecorder(rec, file, QStringLiteral("port %1").arg(serverPort));
    if (const QString why = waitUntilLive(rec, file); !why.isEmpty()) {
        if (why.contains(QLatin1String("Start:")))
            QSKIP(qPrintable(
                QStringLiteral("PACKET CAPTURE UNAVAILABLE from this tcpscope-helper: ") + why));
        QFAIL(qPrintable(why));
    }

    QProcess tcpdump;
    tcpdump.start(QStringLiteral("tcpdump"),
                  {QStringLiteral("-i"), QStringLiteral("lo"), QStringLiteral("-s"),
                   QStringLiteral("96"), QStringLiteral("--immediate-mode"), QStringLiteral("-U"),
                   QStringLiteral("--time-stamp-precision=nano"), QStringLiteral("-n"),
                   QStringLiteral("-w"), pcap, QStringLiteral("tcp port %1").arg(serverPort)});
    QVERIFY(tcpdump.waitForStarted());
    // tcpdump says "listening on lo" once its capture is open.
    QElapsedTimer t;
    t.start();
    QByteArray dumpErr;
    while (!dumpErr.contains("listening on") && t.elapsed() < 10000) {
        tcpdump.waitForReadyRead(200);
        dumpErr += tcpdump.readAllStandardError();
    }
    QVERIFY2(dumpErr.contains("listening on"), dumpErr.constData());

    quint16 clientPort = 0;
    {
        NftLoss loss;
        QVERIFY(loss.install(serverPort, 5));
        client.start(m_traffic,
                     {QStringLiteral("client"), QStringLiteral("4"), QString::number(serverPort),
                      QStringLiteral("1000"), QString::number(kServerSends)});
        QVERIFY(client.waitForStarted());
        clientPort = readPort(client);
        QVERIFY(clientPort);
        QVERIFY(client.waitForFinished(120000) && client.exitCode() == 0);
        QVERIFY(server.waitForFinished(120000) && server.exitCode() == 0);
    } // loss rule removed here, whatever happened above

    stopRecorder(rec);
    ::kill(pid_t(tcpdump.processId()), SIGINT);
    QVERIFY(tcpdump.waitForFinished(10000));
    dumpErr += tcpdump.readAllStandardError();
    QVERIFY2(dumpErr.contains("\n0 packets dropped by kernel"), dumpErr.constData());

    QString error;
    const auto session = SessionReader::read(file, &error);
    QVERIFY2(session, qPrintable(error));
    QCOMPARE(session->info.lostPackets, quint64(0));
    if (!session->info.packetsCaptured)
        QSKIP(qPrintable(QStringLiteral("PACKET CAPTURE UNAVAILABLE: probes %1")
                             .arg(session->info.probes.join(QLatin1Char(' ')))));
    const Connection *cli = findConn(*session, clientPort, serverPort);
    const Connection *srv = findConn(*session, serverPort, clientPort);
    QVERIFY(cli && srv);

    const QString stream =
        QStringLiteral("tcp.port == %1 && tcp.port == %2").arg(clientPort).arg(serverPort);
    struct Counts
    {
        int packets = -1, retrans = -1, dupAcks = -1, ooo = -1;
        QString text() const
        {
            return QStringLiteral("packets %1, retransmissions %2, dup ACKs %3, out-of-order %4")
                .arg(packets)
                .arg(retrans)
                .arg(dupAcks)
                .arg(ooo);
        }
    };
    auto tsharkCounts = [&](const QString &capture) {
        Counts c;
        c.packets = tsharkCount(capture, stream);
        c.retrans =
            tsharkCount(capture, stream + QStringLiteral(" && tcp.analysis.retransmission"));
        c.dupAcks = tsharkCount(capture, stream + QStringLiteral(" && tcp.analysis.duplicate_ack"));
        c.ooo = tsharkCount(capture, stream + QStringLiteral(" && tcp.analysis.out_of_order"));
        return c;
    };
    auto tcpscopeCounts = [](const Connection *c) {
        Counts k;
        k.packets = int(c->packets.packetsIn + c->packets.packetsOut);
        k.retrans = int(c->packets.retransmissions);
        k.dupAcks = int(c->packets.dupAcks);
        k.ooo = int(c->packets.outOfOrder);
        return k;
    };
    // tshark on tcpscope's own export of each socket's view: the same packets with tcpscope's
    // timestamps, which separates "different analysis" from "different packets or times".
    auto exportedCounts = [&](const Connection *c) {
        const QString out = m_dir.filePath(QStringLiteral("loss-%1.pcapng").arg(c->id));
        const Run ex =
            run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--packets"), out,
                             QStringLiteral("--connection"), QString::number(c->id)});
        return ex.exitCode == 0 ? tsharkCounts(out) : Counts{};
    };
    const Counts dump = tsharkCounts(pcap);
    const Counts cliK = tcpscopeCounts(cli), srvK = tcpscopeCounts(srv);
    const Counts cliX = exportedCounts(cli), srvX = exportedCounts(srv);
    const QString report =
        QStringLiteral("loss comparison, stream %1<->%2 (client conn %3, server conn %4):\n"
                       "  tshark on tcpdump -i lo:          %5\n"
                       "  tcpscope, client connection:      %6\n"
                       "  tcpscope, server connection:      %7\n"
                       "  tshark on tcpscope client export: %8\n"
                       "  tshark on tcpscope server export: %9")
            .arg(clientPort)
            .arg(serverPort)
            .arg(cli->id)
            .arg(srv->id)
            .arg(dump.text(), cliK.text(), srvK.text(), cliX.text(), srvX.text());
    qInfo().noquote() << report;

    // Real loss happened, or the comparison proves nothing. (Random loss does not always cause
    // duplicate ACKs — a lost tail segment is resent on timeout — so they are compared
    // below but not required here; requiring them made the test fail on such runs.)
    QVERIFY2(dump.retrans > 0, qPrintable(report));

    // On the very same packets and times, tcpscope's verdicts are tshark's: exact for the
    // receiving socket (the client: the server sends the data).
    QVERIFY2(cliK.packets == cliX.packets && cliK.retrans == cliX.retrans &&
                 cliK.dupAcks == cliX.dupAcks && cliK.ooo == cliX.ooo,
             qPrintable(report));
    // The sender's own view (its data at egress, GSO packets unsegmented): the same packets and
    // dup ACKs as tshark finds in its export. Known open difference, rare (seen once in ~10
    // runs): one resend of a partly overlapping GSO packet that tcpscope counts as a
    // retransmission and tshark 4.0 flags as neither; docs/ANALYSIS.md "Known differences".
    QVERIFY2(srvK.packets == srvX.packets && srvK.dupAcks == srvX.dupAcks, qPrintable(report));
    QVERIFY2(qAbs((srvK.retrans + srvK.ooo) - (srvX.retrans + srvX.ooo)) <= 1, qPrintable(report));
    if (srvK.retrans != srvX.retrans || srvK.ooo != srvX.ooo)
        qWarning().noquote() << "KNOWN DIFFERENCE on the sender's GSO view:" << report;

    // `info` counts each wire packet once: both sockets are on this host, so the pair counts
    // from the client socket (whose verdicts were just found equal to tshark's); the sum of
    // both sockets' views is given beside it.
    const Run infoRun = run(m_tcpscope, {QStringLiteral("info"), QStringLiteral("--json"), file});
    QCOMPARE(infoRun.exitCode, 0);
    const QJsonObject packets = QJsonDocument::fromJson(infoRun.out.toUtf8())
                                    .object()
                                    .value(QLatin1String("packets"))
                                    .toObject();
    const QJsonObject wire = packets.value(QLatin1String("analysis")).toObject();
    const QJsonObject both = packets.value(QLatin1String("analysis_per_socket")).toObject();
    auto field = [](const QJsonObject &o, const char *name) {
        return o.value(QLatin1String(name)).toInt(-1);
    };
    const QString infoReport = report + QStringLiteral("\n  info --json packets: ") +
                               QString::fromUtf8(QJsonDocument(packets).toJson());
    QVERIFY2(field(packets, "local_pairs") == 1, qPrintable(infoReport));
    QVERIFY2(field(packets, "wire_packets") == cliK.packets, qPrintable(infoReport));
    QVERIFY2(field(wire, "retransmissions") == cliK.retrans &&
                 field(wire, "dup_acks") == cliK.dupAcks && field(wire, "out_of_order") == cliK.ooo,
             qPrintable(infoReport));
    QVERIFY2(field(packets, "joined") == cliK.packets + srvK.packets &&
                 field(both, "retransmissions") == cliK.retrans + srvK.retrans,
             qPrintable(infoReport));

    // Against tcpdump, packet by packet. Each socket sees its own packets at TC egress in the
    // order it sent them; tcpdump on lo sees every packet where lo receives it, after the per-CPU
    // backlog queues, and the peer's TC ingress a moment later. Packets one socket sent from two
    // CPUs (ACKs from softirq and from the reading process) can come out of those queues in
    // another order, and the two receive paths run in parallel, so each direction's order can
    // differ between the views (docs/ANALYSIS.md, "Vantage point"). Duplicate ACKs and "does not
    // advance the sequence" depend on that order; everything else about them must agree.
    QVector<Seen> tap;
    for (const QString &row :
         tsharkFields(pcap, stream,
                      {QStringLiteral("tcp.srcport"), QStringLiteral("tcp.seq_raw"),
                       QStringLiteral("tcp.ack_raw"), QStringLiteral("tcp.window_size_value"),
                       QStringLiteral("tcp.len"), QStringLiteral("tcp.flags"),
                       QStringLiteral("tcp.analysis.duplicate_ack"),
                       QStringLiteral("tcp.analysis.retransmission"),
                       QStringLiteral("tcp.analysis.out_of_order"),
                       QStringLiteral("tcp.analysis.keep_alive")})) {
        const QStringList c = row.split(QLatin1Char('|'));
        QCOMPARE(c.size(), 10);
        Seen p;
        p.id = headerKey(quint16(c[0].toUInt()), c[1].toUInt(), c[2].toUInt(),
                         quint16(c[3].toUInt()), c[4].toUInt(), c[5].toUInt(nullptr, 16));
        p.fromClient = c[0].toUInt() == clientPort;
        p.dupAck = !c[6].isEmpty();
        p.notAdvanced = !c[7].isEmpty() || !c[8].isEmpty();
        p.keepAlive = !c[9].isEmpty();
        tap.append(p);
    }
    annotate(tap);
    QCOMPARE(int(tap.size()), dump.packets);
    auto viewOf = [&](const Connection *conn) {
        QVector<Seen> v;
        for (const Packet &pk : session->packets) {
            if (pk.connectionId != conn->id)
                continue;
            Seen p;
            p.id = headerKey(pk.srcPort, pk.seq, pk.ack, pk.window, pk.payloadLen, pk.tcpFlags);
            p.fromClient = pk.srcPort == clientPort;
            p.dupAck = pk.analysis & AnalysisDuplicateAck;
            p.notAdvanced = pk.analysis & (AnalysisRetransmission | AnalysisOutOfOrder);
            p.keepAlive = pk.analysis & AnalysisKeepAlive;
            v.append(p);
        }
        annotate(v);
        return v;
    };
    auto accountText = [](const char *who, const OrderAccount &a) {
        return QStringLiteral("%1 vs tcpdump: %2 packets after a different previous packet of "
                              "their direction; dup ACKs +%3 -%4, retransmission/out-of-order "
                              "+%5 -%6 from that order; %7 packets only in the view, %8 only in "
                              "tcpdump's capture\n  %9\n  UNEXPLAINED: %10")
            .arg(QLatin1String(who))
            .arg(a.reordered)
            .arg(a.dupGained)
            .arg(a.dupLost)
            .arg(a.notAdvancedGained)
            .arg(a.notAdvancedLost)
            .arg(a.onlyInView)
            .arg(a.onlyInTap)
            .arg(a.explained.join(QStringLiteral("\n  ")),
                 a.unexplained.isEmpty() ? QStringLiteral("none")
                                         : a.unexplained.join(QStringLiteral("\n  ")));
    };
    const QVector<Seen> cliView = viewOf(cli), srvView = viewOf(srv);
    const OrderAccount cliAcc = accountOrder(cliView, tap, true);
    const OrderAccount srvAcc = accountOrder(srvView, tap, false);
    const QString orderReport = report + QLatin1Char('\n') + accountText("client", cliAcc) +
                                QLatin1Char('\n') + accountText("server", srvAcc);
    if (!cliAcc.explained.isEmpty() || !srvAcc.explained.isEmpty())
        qInfo().noquote() << orderReport;

    // The receiving socket saw exactly tcpdump's packets, none more, none fewer. The sending
    // socket sees its own data at TC egress, where a GSO super-packet can still be one packet
    // that the tap shows as segments, so it may hold fewer, larger packets.
    QVERIFY2(cliK.packets == dump.packets && int(cliView.size()) == dump.packets &&
                 cliAcc.onlyInView == 0 && cliAcc.onlyInTap == 0,
             qPrintable(orderReport));
    QVERIFY2(srvK.packets <= dump.packets, qPrintable(orderReport));
    // Every verdict that differs from tshark's on tcpdump's capture has its cause in the order,
    // and the counts differ by exactly those packets.
    QVERIFY2(cliAcc.unexplained.isEmpty() && srvAcc.unexplained.isEmpty(), qPrintable(orderReport));
    QVERIFY2(cliK.dupAcks == dump.dupAcks + cliAcc.dupGained - cliAcc.dupLost &&
                 srvK.dupAcks == dump.dupAcks + srvAcc.dupGained - srvAcc.dupLost,
             qPrintable(orderReport));
    // Every data segment that does not advance the sequence is a retransmission or out-of-order
    // in both analyses. Which of the two it is depends on the time since the highest segment
    // against the iRTT (tens of µs on loopback), and tcpscope stamps packets at TC while tcpdump
    // stamps them at its tap (see docs/ANALYSIS.md): a borderline packet may move between the
    // two, so the split is compared above on identical timestamps. The sender's view of its own
    // resends is at egress, where two resent segments can still be one GSO packet: at least
    // one, at most tcpdump's count.
    QVERIFY2(cliK.retrans + cliK.ooo ==
                 dump.retrans + dump.ooo + cliAcc.notAdvancedGained - cliAcc.notAdvancedLost,
             qPrintable(orderReport));
    QVERIFY2(srvK.retrans + srvK.ooo >= 1 && srvK.retrans + srvK.ooo <= dump.retrans + dump.ooo,
             qPrintable(orderReport));
    if (cliK.retrans != dump.retrans || srvK.retrans != dump.retrans)
        qInfo().noquote()
            << "retransmission/out-of-order split differs from tcpdump's by"
            << qAbs(cliK.retrans - dump.retrans) << "(client)" << qAbs(srvK.retrans - dump.retrans)
            << "(server) borderline packets; their sum agrees (order differences aside, named "
               "above when there are any)";
}

QTEST_GUILESS_MAIN(TestTsharkExport)
#include "test_tshark_export.moc"
