// SPDX-License-Identifier: GPL-3.0-or-later
// Packet list, details pane and the inspector's list <-> sequence graph link on the fixture's
// lossy transfer (TcpAnalyzer-style annotations), written to a session file and paged from it.
#include "charts/seq_graph_widget.h"
#include "models/connection_table_model.h"
#include "models/packet_table_model.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "session_fixture.h"
#include "test_addresses.h"
#include "views/connection_detail_view.h"
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
        c.localAddr = test::ip(QStringLiteral("127.0.0.1"));
        c.remoteAddr = test::ip(QStringLiteral("127.0.0.1"));
        c.localPort = 40001;
        c.remotePort = 8080;
        c.startNs = kStart;
        return c;
    }

    QTemporaryDir m_dir;
    int m_files = 0;

    // Connections 1 and 2 with these packets in a session file (the writer kept open when asked,
    // for live appends).
    std::shared_ptr<Session> sessionOf(const QVector<Packet> &packets,
                                       std::unique_ptr<SessionWriter> *keepOpen = nullptr)
    {
        const QString path = m_dir.filePath(QStringLiteral("p%1.tcpscope").arg(++m_files));
        QString error;
        auto writer = SessionWriter::create(path, &error);
        if (!writer)
            qFatal("%s", qPrintable(error));
        SessionInfo info;
        info.startedNs = kStart;
        info.packetsCaptured = true;
        writer->setInfo(info);
        writer->writeConnection(conn(1));
        writer->writeConnection(conn(2));
        writer->writePackets(packets);
        writer->flush();
        if (keepOpen)
            *keepOpen = std::move(writer);
        else
            writer->close();
        return std::shared_ptr<Session>(Session::open(path, &error));
    }

private slots:
    void listsSelectedConnectionWithAnalysis()
    {
        QVector<Packet> all = testing::lossyTransferPackets(1, kStart, 1);
        all += testing::lossyTransferPackets(2, kStart + 100'000'000, 101);
        std::unique_ptr<SessionWriter> writer;
        std::shared_ptr<Session> session = sessionOf(all, &writer);
        QVERIFY(session);
        M model;
        model.setSession(session);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setOriginNs(kStart);
        QCOMPARE(model.rowCount(), 28); // nothing selected: every packet
        model.setConnections({2});
        QCOMPARE(model.rowCount(), 14);
        QCOMPARE(model.index(0, M::ColNo).data().toLongLong(), 101);
        QCOMPARE(model.index(0, M::ColFlags).data().toString(), QStringLiteral("SYN"));
        QCOMPARE(model.index(0, M::ColDirection).data().toString(), QStringLiteral("→ out"));
        QCOMPARE(model.index(1, M::ColTime).data().toString(), QStringLiteral("0.101000"));
        QCOMPARE(model.index(10, M::ColAnalysis).data().toString(),
                 QStringLiteral("Fast retransmission"));
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
        // Live: packets the recorder appended to the selected connection become rows.
        Packet extra = all.last();
        extra.id = 200;
        writer->writePackets({extra});
        QVERIFY(writer->flush());
        QVERIFY(session->refresh());
        model.refresh();
        QCOMPARE(model.rowCount(), 15);
        model.sort(M::ColNo, Qt::AscendingOrder);
        model.setConnections({});
        QCOMPARE(model.rowCount(), 29);
        QCOMPARE(model.index(28, M::ColNo).data().toLongLong(), 200);
    }

    // The same list from a closed session file: SessionWriter -> Session -> pages.
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
        const std::shared_ptr<Session> session = Session::open(path, &error);
        QVERIFY2(session, qPrintable(error));
        QCOMPARE(session->packetCount(), all.size());
        M model;
        model.setSession(session);
        model.setOriginNs(kStart);
        model.setConnections({2});
        QCOMPARE(model.rowCount(), 14);
        QCOMPARE(model.index(0, M::ColFlags).data().toString(), QStringLiteral("SYN"));
        QCOMPARE(model.index(8, M::ColAnalysis).data().toString(), QStringLiteral("Dup ACK #1"));
        QCOMPARE(model.index(10, M::ColAnalysis).data().toString(),
                 QStringLiteral("Fast retransmission"));
        QCOMPARE(model.index(1, M::ColTime).data().toString(), QStringLiteral("0.101000"));
    }

    // Both ends of one connection in the session: the client's lossy transfer and what the
    // server received 20 µs after each send (the lost segment never arrives). The One-way delay
    // column, the details' Peer section and the Kernel metrics header's Both ends line.
    void oneWayDelayOfBothEnds()
    {
        const QVector<Packet> client = testing::lossyTransferPackets(1, kStart, 1);
        QVector<Packet> all = client;
        constexpr qint64 kDelay = 20'000;
        for (const Packet &p : client) {
            if (p.id == 5)
                continue; // +4: lost in the network
            Packet q = p;
            q.id = p.id + 100;
            q.connectionId = 2;
            q.direction = p.isOutgoing() ? PacketDirection::In : PacketDirection::Out;
            q.timeNs = p.isOutgoing() ? p.timeNs + kDelay : p.timeNs - kDelay;
            q.analysis = 0;
            all.append(q);
        }
        const QString path = m_dir.filePath(QStringLiteral("ends.tcpscope"));
        {
            QString error;
            auto writer = SessionWriter::create(path, &error);
            QVERIFY2(writer, qPrintable(error));
            SessionInfo info;
            info.startedNs = kStart;
            info.packetsCaptured = true;
            writer->setInfo(info);
            Connection server = conn(2);
            server.localPort = 8080;
            server.remotePort = 40001;
            server.role = ConnectionRole::Server;
            server.comm = QStringLiteral("nginx");
            writer->writeConnection(conn(1));
            writer->writeConnection(server);
            writer->writePackets(all);
            QVERIFY2(writer->close(&error), qPrintable(error));
        }
        QString error;
        const std::shared_ptr<Session> session = Session::open(path, &error);
        QVERIFY2(session, qPrintable(error));

        M model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSession(session);
        model.setConnections({1});
        QCOMPARE(model.headerData(M::ColPeerDelay, Qt::Horizontal).toString(),
                 QStringLiteral("One-way delay"));
        QTRY_VERIFY(model.transitReady());
        QCOMPARE(model.peerOf(1), 2);
        QCOMPARE(model.index(0, M::ColPeerDelay).data().toString(), QStringLiteral("20.0 µs"));
        QCOMPARE(model.index(1, M::ColPeerDelay).data().toString(), QStringLiteral("20.0 µs"));
        QCOMPARE(model.index(4, M::ColPeerDelay).data().toString(),
                 QStringLiteral("✗ not received"));
        QVERIFY(model.index(4, M::ColPeerDelay).data(Qt::ForegroundRole).isValid());
        QVERIFY(model.index(4, M::ColPeerDelay)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("lost in the network")));
        QVERIFY(model.index(0, M::ColPeerDelay)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("packet 101")));
        // The fast retransmission of the lost segment arrived.
        QCOMPARE(model.index(10, M::ColPeerDelay).data().toString(), QStringLiteral("20.0 µs"));
        // Sorting by the column: lost last.
        model.sort(M::ColPeerDelay, Qt::AscendingOrder);
        QCOMPARE(model.index(model.rowCount() - 1, M::ColNo).data().toLongLong(), 5);
        model.sort(M::ColNo, Qt::AscendingOrder);
        // The display filter fields over the same session.
        model.setFilterText(QStringLiteral("peer.lost"));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, M::ColNo).data().toLongLong(), 5);
        model.setFilterText(QStringLiteral("peer.delay >= 20us"));
        QCOMPARE(model.rowCount(), 13);
        model.setFilterText(QString());

        // The details of a delivered and of a lost packet.
        PacketDetailsView details;
        const Connection c = conn(1);
        PacketContext ctx;
        ctx.connection = &c;
        ctx.peerConnectionId = model.peerOf(1);
        ctx.transit = model.transitMark(model.packetAt(0));
        details.setPacket(model.packetAt(0), ctx);
        QString text = details.lines().join(QLatin1Char('\n'));
        QVERIFY2(text.contains(QStringLiteral("Peer: connection 2")), qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("Received by the peer after 20.0 µs")),
                 qPrintable(text));
        ctx.transit = model.transitMark(model.packetAt(4));
        details.setPacket(model.packetAt(4), ctx);
        text = details.lines().join(QLatin1Char('\n'));
        QVERIFY2(text.contains(QStringLiteral("Not received by the peer (lost in transit)")),
                 qPrintable(text));

        // The server's side: what it received came 20 µs after the send.
        model.setConnections({2});
        QTRY_VERIFY(model.transitReady());
        QCOMPARE(model.index(0, M::ColPeerDelay).data().toString(), QStringLiteral("20.0 µs"));
        QVERIFY(model.index(0, M::ColPeerDelay)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("Sent by the other end")));

        // Kernel metrics tab: one-way delays and losses each way.
        ConnectionDetailView view;
        view.setSession(session);
        view.setConnections({1}, 1);
        view.rebuildNow();
        QTRY_VERIFY(!view.peerSummary().isEmpty());
        const QString summary = view.peerSummary();
        QVERIFY2(summary.contains(QStringLiteral(
                     "→ #2 one-way 20.0 µs / 20.0 µs / 20.0 µs (min / median / max of 7)")),
                 qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("1 of 8 sent not received")), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("← #2 one-way 20.0 µs")), qPrintable(summary));
        QVERIFY2(summary.contains(QStringLiteral("0 of 6 sent not received")), qPrintable(summary));
        // No kernel samples here: the text that says so carries the line (once rebuilt; the
        // view rebuilds itself when shown).
        view.rebuildNow();
        QVERIFY2(view.emptyText().contains(summary), qPrintable(view.emptyText()));
    }

    void detailsShowOptionsAndAnalysis()
    {
        const QVector<Packet> packets = testing::lossyTransferPackets(1, kStart, 1);
        Packet syn = packets.first();
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7, unknown kind 99 (len 2).
        syn.options = QByteArray::fromHex("020405b40402080a0000007b0000000001030307"
                                          "6302");
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
        QVERIFY(view.lines().first().startsWith(
            QStringLiteral("Malformed packet: Truncated TCP options")));
    }

    void graphClickSelectsRow()
    {
        PacketInspector inspector;
        inspector.setSession(sessionOf(testing::lossyTransferPackets(1, kStart, 1)));
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
