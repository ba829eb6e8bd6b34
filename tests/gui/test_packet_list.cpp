// SPDX-License-Identifier: GPL-3.0-or-later
// Packet list, details pane and the inspector's list <-> sequence graph link on the fixture's
// lossy transfer (TcpAnalyzer-style annotations), built in memory.
#include "charts/seq_graph_widget.h"
#include "models/connection_table_model.h"
#include "models/packet_store.h"
#include "models/packet_table_model.h"
#include "session/session_reader.h"
#include "session/session_writer.h"
#include "session_fixture.h"
#include "views/packet_details_view.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <QAbstractItemModelTester>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;
using M = PacketTableModel;

class TestPacketList : public QObject
{
    Q_OBJECT
    static constexpr qint64 kStart = 1'700'000'000'000'000'000;

    static Connection conn(qint64 id)
    {
        Connection c;
        c.id = id;
        c.pid = 200;
        c.comm = QStringLiteral("curl");
        c.family = 4;
        c.localAddr = QStringLiteral("127.0.0.1");
        c.remoteAddr = QStringLiteral("127.0.0.1");
        c.localPort = 40001;
        c.remotePort = 8080;
        c.startNs = kStart;
        return c;
    }

private slots:
    void listsSelectedConnectionWithAnalysis()
    {
        PacketStore store;
        QVector<Packet> all = testing::lossyTransferPackets(1, kStart, 1);
        all += testing::lossyTransferPackets(2, kStart + 100'000'000, 101);
        store.setPackets(all);
        M model(&store);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setOriginNs(kStart);
        QCOMPARE(model.rowCount(), 28); // nothing selected: every packet
        model.setConnections({2});
        QCOMPARE(model.rowCount(), 14);
        QCOMPARE(model.index(0, M::ColNo).data().toLongLong(), 101);
        QCOMPARE(model.index(0, M::ColFlags).data().toString(), QStringLiteral("SYN"));
        QCOMPARE(model.index(0, M::ColDirection).data().toString(), QStringLiteral("→ out"));
        QCOMPARE(model.index(1, M::ColTime).data().toString(), QStringLiteral("0.101000"));
        QCOMPARE(model.index(10, M::ColAnalysis).data().toString(), QStringLiteral("Fast retransmission"));
        QVERIFY(model.index(10, 0).data(Qt::BackgroundRole).isValid()); // problem: red
        QCOMPARE(model.index(8, M::ColAnalysis).data().toString(), QStringLiteral("Dup ACK #1"));
        model.setProblemsOnly(true);
        QVERIFY(model.rowCount() >= 4 && model.rowCount() < 14);
        for (int r = 0; r < model.rowCount(); ++r)
            QVERIFY(analysisIsProblem(model.packetAt(r).analysis));
        model.setProblemsOnly(false);
        model.setFilterText(QStringLiteral("dup"));
        QCOMPARE(model.rowCount(), 2);
        model.setFilterText(QString());
        model.sort(M::ColNo, Qt::DescendingOrder);
        QCOMPARE(model.index(0, M::ColNo).data().toLongLong(), 114);
        // Live: appended packets of the selected connection become rows.
        Packet extra = all.last();
        extra.id = 200;
        store.append({extra});
        QCOMPARE(model.rowCount(), 15);
    }

    // The same list from a recorded session file: SessionWriter -> SessionReader -> store.
    void listsPacketsOfARecordedSession()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("packets.tcpscope"));
        QVector<Packet> all = testing::lossyTransferPackets(1, kStart, 1);
        all += testing::lossyTransferPackets(2, kStart + 100'000'000, 101);
        {
            QString error;
            auto writer = SessionWriter::create(path, &error);
            QVERIFY2(writer, qPrintable(error));
            SessionInfo info;
            info.startedNs = kStart;
            info.packetsCaptured = true;
            writer->setInfo(info);
            writer->writeConnection(conn(1));
            writer->writeConnection(conn(2));
            writer->writePackets(all);
            QVERIFY2(writer->close(&error), qPrintable(error));
        }
        QString error;
        const auto session = SessionReader::read(path, &error);
        QVERIFY2(session, qPrintable(error));
        QCOMPARE(session->packets.size(), all.size());
        PacketStore store;
        store.setPackets(session->packets);
        M model(&store);
        model.setOriginNs(kStart);
        model.setConnections({2});
        QCOMPARE(model.rowCount(), 14);
        QCOMPARE(model.index(0, M::ColFlags).data().toString(), QStringLiteral("SYN"));
        QCOMPARE(model.index(8, M::ColAnalysis).data().toString(), QStringLiteral("Dup ACK #1"));
        QCOMPARE(model.index(10, M::ColAnalysis).data().toString(),
                 QStringLiteral("Fast retransmission"));
        QCOMPARE(model.index(1, M::ColTime).data().toString(), QStringLiteral("0.101000"));
    }

    void detailsShowOptionsAndAnalysis()
    {
        const QVector<Packet> packets = testing::lossyTransferPackets(1, kStart, 1);
        Packet syn = packets.first();
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7, unknown kind 99 (len 2).
        syn.options = QByteArray::fromHex("020405b40402080a0000007b0000000001030307" "6302");
        const Connection c = conn(1);
        PacketContext ctx;
        ctx.connection = &c;
        ctx.interfaces = {InterfaceInfo{1, QStringLiteral("lo"), 1}};
        ctx.originNs = kStart;
        syn.ifindex = 1;
        PacketDetailsView view;
        view.setPacket(syn, ctx);
        const QString text = view.lines().join(QLatin1Char('\n'));
        QVERIFY2(text.contains(QStringLiteral("MSS: 1460")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("SACK permitted")));
        QVERIFY(text.contains(QStringLiteral("TSval 123")));
        QVERIFY(text.contains(QStringLiteral("Window scale: 7")));
        QVERIFY(text.contains(QStringLiteral("kind 99")));
        QVERIFY(text.contains(QStringLiteral("Interface: lo (index 1)")));
        QVERIFY(text.contains(QStringLiteral("Process: curl (pid 200)")));
        QVERIFY(text.contains(QStringLiteral("SYN: Set")));
        Packet bad = syn;
        bad.parseStatus = 8; // TS_PARSE_TRUNC_OPTIONS
        view.setPacket(bad, ctx);
        QVERIFY(view.lines().first().startsWith(QStringLiteral("Malformed packet: Truncated TCP options")));
    }

    void graphClickSelectsRow()
    {
        PacketStore store;
        store.setPackets(testing::lossyTransferPackets(1, kStart, 1));
        ConnectionTableModel connections;
        connections.setConnections({conn(1)});
        PacketInspector inspector(&store, &connections);
        inspector.resize(1200, 600);
        inspector.setOriginNs(kStart);
        inspector.showSequenceGraph();
        inspector.show();
        QVERIFY(QTest::qWaitForWindowExposed(&inspector));
        inspector.setConnections({1}, 1);
        SeqGraphWidget *graph = inspector.seqGraph();
        QCOMPARE(graph->connectionId(), 1);
        const qint64 target = 11; // the fast retransmission
        const QPoint at = graph->pixelOf(target);
        QVERIFY(at.x() >= 0);
        QTest::mouseClick(graph, Qt::LeftButton, {}, at);
        QCOMPARE(inspector.packetsPanel()->currentPacketId(), graph->packetAt(at));
        QCOMPARE(inspector.detailsView()->packetId(), graph->packetAt(at));
        // And back: a row selects the graph's point.
        QVERIFY(inspector.packetsPanel()->selectPacket(4));
        QCOMPARE(graph->selectedPacket(), 4);
    }
};

QTEST_MAIN(TestPacketList)
#include "test_packet_list.moc"
