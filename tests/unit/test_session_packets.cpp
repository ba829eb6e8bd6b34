// SPDX-License-Identifier: GPL-3.0-or-later
// Session format v2: packets, interfaces, PacketCounts columns and packet capture facts round
// trip; ReadOptions; version 1 files still read; a hostile schema is refused with one
// line, hostile packet values read as unknown and are counted.
#include "packet_compare.h"
#include "session/session_reader.h"
#include "session/session_schema.h"
#include "session/session_writer.h"
#include "session/session_writer_chunks.h"
#include "session_sql.h"
#include "test_addresses.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <arpa/inet.h>
#include <sqlite3.h>

extern "C" {
#include "tcpscope_records.h"
}

using namespace tcpscope;
using tcpscope::testing::comparePackets;

class TestSessionPackets : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void roundTrip_data();
    void roundTrip();
    void rowTotalsMatchChunksAtEveryCommit();
    void closedOrOverBudgetGoAtNextBatch();
    void readOptions();
    void version1FileStillReads();
    void rejects_data();
    void rejects();
    void toleratesValues_data();
    void toleratesValues();

private:
    // The row format (3) unless asked: these tests cover its SQL surface and hostile rows.
    QString writeSession(const char *name, int major = 3);
    std::unique_ptr<QTemporaryDir> m_dir;
};

namespace {

Connection conn(qint64 id)
{
    Connection c;
    c.id = id;
    c.sockId = 100 + quint64(id);
    c.pid = 42;
    c.comm = QStringLiteral("curl");
    c.localAddr = test::ip(QStringLiteral("127.0.0.1"));
    c.localPort = quint16(40000 + id);
    c.remoteAddr = test::ip(QStringLiteral("127.0.0.1"));
    c.remotePort = 80;
    c.role = ConnectionRole::Client;
    c.startNs = 1'700'000'000'000'000'000;
    c.state = TcpState::Established;
    PacketCounts &k = c.packets;
    k.packetsIn = 10 + quint64(id);
    k.packetsOut = 20;
    k.payloadBytesIn = 0x1'0000'0000ULL;
    k.payloadBytesOut = 5;
    k.retransmissions = 3;
    k.fastRetransmissions = 1;
    k.spuriousRetransmissions = 1;
    k.dupAcks = 4;
    k.outOfOrder = 5;
    k.lostSegments = 6;
    k.zeroWindows = 7;
    k.zeroWindowProbes = 8;
    k.windowFull = 9;
    k.windowUpdates = 10;
    k.keepAlives = 11;
    k.resets = 12;
    k.irttNs = id == 1 ? 123456 : -1;
    k.mssLocal = 65483;
    k.mssRemote = id == 1 ? 1460 : -1;
    k.wscaleLocal = 7;
    k.wscaleRemote = id == 1 ? 14 : -1;
    k.sackPermitted = true;
    k.timestamps = id == 1;
    return c;
}

Packet packet(qint64 id, qint64 connectionId)
{
    Packet p;
    p.id = id;
    p.connectionId = connectionId;
    p.timeNs = 1'700'000'000'000'000'000 + id;
    p.sockId = 0x8000'0000'0000'0001ULL;
    p.ifindex = 1;
    p.direction = id % 2 ? PacketDirection::Out : PacketDirection::In;
    p.parseStatus = id == 3 ? TS_PARSE_TRUNC_OPTIONS : TS_PARSE_OK;
    p.sockState = id == 2 ? 12 : 1;
    p.srcAddr = test::ip(id == 4 ? QStringLiteral("2001:db8::1") : QStringLiteral("10.0.0.1"));
    p.dstAddr = test::ip(id == 4 ? QStringLiteral("::1") : QStringLiteral("127.0.0.1"));
    p.srcPort = 40001;
    p.dstPort = 80;
    p.seq = 0xffff'fff0u;
    p.ack = 7;
    p.tcpFlags = 0xff;
    p.window = 65535;
    p.urgPtr = 1;
    p.payloadLen = 1448;
    p.skbLen = 1500;
    p.gsoSegs = 2;
    p.gsoSize = 724;
    p.ttl = 64;
    p.tos = 3;
    p.vlanTci = 100;
    p.vlanDepth = 1;
    p.ipFrag = 1;
    p.ipId = 0xfffff;
    p.ipHdrLen = 20;
    p.tcpHdrLen = 32;
    p.options = id == 1 ? QByteArray() : QByteArray("\x01\x01\x08\x0a\x00\x00\x00\x01", 8);
    p.payload = id == 1 ? QByteArray(256, 'x') : QByteArray();
    p.analysis = 0x8001;
    p.dupAckNum = 2;
    p.relSeq = 1;
    p.relAck = 0xffff'ffffu;
    p.bytesInFlight = id == 1 ? -1 : 2896;
    p.scaledWindow = id == 1 ? -1 : 65535 << 7;
    p.ackRttNs = id == 1 ? -1 : 50'000;
    return p;
}

SessionInfo info()
{
    SessionInfo i;
    i.kernelRelease = QStringLiteral("6.1.0");
    i.startedNs = 1;
    i.packetsCaptured = true;
    i.captureFilter = QStringLiteral("port 80 net 10.0.0.0/8");
    i.packetsReceived = 5;
    i.lostPackets = 2;
    i.packetsFiltered = 77;
    i.lostRecords = 2;
    i.interfaces = {{1, QStringLiteral("lo"), TS_ATTACH_TCX},
                    {7, QStringLiteral("veth-a"), TS_ATTACH_CLSACT},
                    {9, QStringLiteral("gone0"), TS_ATTACH_NONE}};
    return i;
}

} // namespace

using tcpscope::testing::sql;

void TestSessionPackets::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QString TestSessionPackets::writeSession(const char *name, int major)
{
    QString file = m_dir->filePath(QLatin1String(name));
    QString error;
    auto writer = SessionWriter::create(file, &error, major);
    if (!writer)
        return QString();
    writer->setInfo(info());
    writer->writeConnection(conn(1));
    writer->writeConnection(conn(2));
    writer->writePackets({packet(1, 1), packet(2, 2), packet(3, 0)});
    writer->writePackets({packet(4, 1)});
    if (!writer->close(&error))
        return QString();
    return file;
}

void TestSessionPackets::roundTrip_data()
{
    QTest::addColumn<int>("major");
    QTest::newRow("rows (3)") << 3;
    QTest::newRow("chunks (4)") << 4;
}

void TestSessionPackets::roundTrip()
{
    QFETCH(int, major);
    const QString file = writeSession("round.tcpscope", major);
    QVERIFY(!file.isEmpty());
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    const SessionInfo want = info();
    QCOMPARE(data->info.packetsCaptured, true);
    QCOMPARE(data->info.captureFilter, want.captureFilter);
    QCOMPARE(data->info.packetsReceived, want.packetsReceived);
    QCOMPARE(data->info.lostPackets, want.lostPackets);
    QCOMPARE(data->info.packetsFiltered, want.packetsFiltered);
    QCOMPARE(data->info.interfaces, want.interfaces);
    QCOMPARE(data->connections.size(), 2);
    if (major >= 4) {
        // Chunked files count a connection's totals from the packets they hold.
        PacketCounts one, two;
        one.add(packet(1, 1));
        one.add(packet(4, 1));
        two.add(packet(2, 2));
        QCOMPARE(data->connections[0].packets, conn(1).packets.withTotalsOf(one));
        QCOMPARE(data->connections[1].packets, conn(2).packets.withTotalsOf(two));
        QCOMPARE(data->connections[0].packets.packetsOut, quint64(1));
        QCOMPARE(data->connections[0].packets.packetsIn, quint64(1));
    } else {
        QCOMPARE(data->connections[0].packets, conn(1).packets);
        QCOMPARE(data->connections[1].packets, conn(2).packets);
    }
    QCOMPARE(data->packets.size(), 4);
    comparePackets(data->packets[0], packet(1, 1));
    comparePackets(data->packets[1], packet(2, 2));
    comparePackets(data->packets[2], packet(3, 0)); // not joined: NULL in the file
    comparePackets(data->packets[3], packet(4, 1));
}

// Format 4: after every commit a connection's row counts exactly the packets its chunks hold,
// whether the row was rewritten in that batch (the connection changed) or only its totals
// were (packets of an unchanged connection).
void TestSessionPackets::rowTotalsMatchChunksAtEveryCommit()
{
    const QString file = m_dir->filePath(QStringLiteral("totals.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error, 4);
    QVERIFY2(writer, qPrintable(error));
    auto check = [&](qint64 id, qint64 want) {
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open_v2(QFile::encodeName(file).constData(), &db, SQLITE_OPEN_READONLY,
                                 nullptr),
                 SQLITE_OK);
        sqlite3_stmt *s = nullptr;
        QCOMPARE(sqlite3_prepare_v2(db,
                                    "SELECT (SELECT packets_in + packets_out FROM connections "
                                    "WHERE id = ?1), (SELECT coalesce(sum(count), 0) FROM "
                                    "packet_chunks WHERE connection_id = ?1)",
                                    -1, &s, nullptr),
                 SQLITE_OK);
        sqlite3_bind_int64(s, 1, id);
        QCOMPARE(sqlite3_step(s), SQLITE_ROW);
        const qint64 row = sqlite3_column_int64(s, 0), chunks = sqlite3_column_int64(s, 1);
        sqlite3_finalize(s);
        sqlite3_close(db);
        QCOMPARE(chunks, want);
        QCOMPARE(row, want);
    };
    writer->setInfo(info());
    Connection c = conn(1);
    c.packets = PacketCounts{};
    // The connection and its first packets in one batch.
    writer->writeConnection(c);
    writer->writePackets({packet(1, 1), packet(2, 1)});
    QVERIFY2(writer->flush(&error), qPrintable(error));
    check(1, 2);
    // Packets of a connection that did not change: only its totals are updated.
    writer->writePackets({packet(3, 1)});
    QVERIFY2(writer->flush(&error), qPrintable(error));
    check(1, 3);
    // It closes, with packets queued before and after its last version in the same batch.
    writer->writePackets({packet(4, 1)});
    c.state = TcpState::Close;
    c.endNs = c.startNs + 1'000'000;
    writer->writeConnection(c);
    writer->writePackets({packet(5, 1)});
    QVERIFY2(writer->flush(&error), qPrintable(error));
    check(1, 5);
    QVERIFY2(writer->close(&error), qPrintable(error));
    check(1, 5);
}

// A batch carries a closing connection's row before its last packets: those still go out at the
// next batch, not after waiting the chunk age like an open connection's (under churn that wait
// held every short connection's packets in memory). Beyond the writer's packet budget, every
// buffer goes at the next batch.
void TestSessionPackets::closedOrOverBudgetGoAtNextBatch()
{
    sqlite3 *raw = nullptr;
    QCOMPARE(sqlite3_open(":memory:", &raw), SQLITE_OK);
    const sqlite::Db db(raw);
    QString error;
    QVERIFY2(sqlite::exec(raw, schema::createSql().constData(), &error), qPrintable(error));
    QVERIFY2(sqlite::exec(raw, schema::createMinorTablesSql().constData(), &error),
             qPrintable(error));
    auto chunked = [raw](qint64 id) {
        sqlite3_stmt *s = nullptr;
        sqlite3_prepare_v2(raw,
                           "SELECT coalesce(sum(count), 0) FROM packet_chunks"
                           " WHERE connection_id = ?1",
                           -1, &s, nullptr);
        sqlite3_bind_int64(s, 1, id);
        const qint64 n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
        sqlite3_finalize(s);
        return n;
    };
    detail::ChunkWriter chunks;
    QVERIFY2(chunks.prepare(raw, &error), qPrintable(error));
    Connection open = conn(1), closed = conn(2);
    closed.state = TcpState::Close;
    closed.endNs = closed.startNs + 1'000'000;
    chunks.noteConnection(open);
    chunks.noteConnection(closed);
    chunks.addPackets({packet(1, 1), packet(2, 2), packet(3, 2)});
    QVERIFY2(chunks.flushChunks(false, &error), qPrintable(error));
    QCOMPARE(chunked(2), 2);
    QCOMPARE(chunked(1), 0); // open: waits for more (kChunkRecords, its close or kMaxAge)
    // One more straggler of the closed connection (its last ACK) also goes at once.
    chunks.addPackets({packet(4, 2)});
    QVERIFY2(chunks.flushChunks(false, &error), qPrintable(error));
    QCOMPARE(chunked(2), 3);
    QVERIFY2(chunks.flushChunks(true, &error), qPrintable(error));
    QCOMPARE(chunked(1), 1);
    QCOMPARE(chunks.packetsBuffered(), 0);
    // A storm of open connections with a few packets each: none is due, but beyond the budget
    // the next flush writes them all.
    const qint64 storm = detail::ChunkWriter::kMaxBufferedPackets / 3 + 10;
    QVector<Packet> burst;
    for (qint64 id = 100; id < 100 + storm; ++id) {
        chunks.noteConnection(conn(id));
        for (int k = 0; k < 3; ++k)
            burst.append(packet(10 + (id - 100) * 3 + k, id));
    }
    chunks.addPackets(burst);
    QVERIFY(chunks.overBudget());
    QVERIFY2(chunks.flushChunks(false, &error), qPrintable(error));
    QCOMPARE(chunks.packetsBuffered(), 0);
    QVERIFY(!chunks.overBudget());
    QCOMPARE(chunked(100 + storm / 2), 3);
    chunks.reset();
}

void TestSessionPackets::readOptions()
{
    const QString file = writeSession("opts.tcpscope");
    QString error;
    ReadOptions none;
    none.packets = false;
    auto data = SessionReader::read(file, &error, none);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(data->packets.isEmpty());
    QCOMPARE(data->connections.size(), 2);
    QCOMPARE(data->info.interfaces.size(), 3);
    ReadOptions one;
    one.connectionId = 1;
    data = SessionReader::read(file, &error, one);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->packets.size(), 2);
    QCOMPARE(data->packets[0].id, qint64(1));
    QCOMPARE(data->packets[1].id, qint64(4));
    one.connectionId = 99;
    data = SessionReader::read(file, &error, one);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(data->packets.isEmpty());
}

void TestSessionPackets::version1FileStillReads()
{
    // A version 1 file as tcpscope 0.1 wrote it: no packet tables, no PacketCounts columns.
    const QString file = writeSession("v1.tcpscope");
    // The v2 (packet) and v3 (kernel metrics) columns go, and so do the tables and meta keys.
    QStringList drops;
    for (const QString &c : schema::connectionPacketColumns() + schema::connectionKernelColumns())
        drops << QStringLiteral("ALTER TABLE connections DROP COLUMN %1;").arg(c);
    const QByteArray statements =
        "DROP TABLE packets; DROP TABLE interfaces; DROP TABLE tcp_samples; "
        "DROP TABLE kernel_events; DROP TABLE drops; DROP TABLE listener_samples; "
        "DELETE FROM meta WHERE key IN "
        "('packets_captured','capture_filter','packets_received','lost_packets',"
        "'packets_filtered','kernel_metrics','sample_interval_us','samples_received',"
        "'kernel_events_received','drops_received'); " +
        drops.join(QLatin1Char(' ')).toLatin1() + " PRAGMA user_version = 1; VACUUM;";
    sql(file, statements.constData());
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->connections.size(), 2);
    QCOMPARE(data->connections[0].pid, 42u);
    QCOMPARE(data->connections[0].packets, PacketCounts{});
    QVERIFY(data->packets.isEmpty());
    QVERIFY(!data->info.packetsCaptured);
    QVERIFY(data->info.interfaces.isEmpty());
    // A v1 file with a packets table is not a v1 file.
    sql(file, "CREATE TABLE packets(id INTEGER);");
    QVERIFY(!SessionReader::read(file, &error));
    QVERIFY2(error.contains(QLatin1String("unexpected table 'packets'")), qPrintable(error));
}

void TestSessionPackets::rejects_data()
{
    // Structural damage only: a schema that is not ours is refused with one line.
    QTest::addColumn<QString>("statement");
    QTest::addColumn<QString>("expected");
    QTest::newRow("extra index") << "CREATE INDEX evil ON packets(seq)"
                                 << "unexpected index 'evil'";
    QTest::newRow("missing column") << "ALTER TABLE packets DROP COLUMN ack_rtt_ns"
                                    << "table 'packets' has columns";
}

void TestSessionPackets::toleratesValues_data()
{
    // A value out of range (ack_rtt_ns = -10 was once written by tcpscope itself) reads as
    // unknown and is counted; a packet without a direction or family is left out, counted.
    QTest::addColumn<QString>("statement");
    QTest::addColumn<bool>("skipsRow");
    QTest::newRow("options too long")
        << QStringLiteral("UPDATE packets SET options = zeroblob(41) WHERE id = 2") << false;
    QTest::newRow("payload too long")
        << QStringLiteral("UPDATE packets SET payload = zeroblob(257) WHERE id = 2") << false;
    QTest::newRow("options as text")
        << QStringLiteral("UPDATE packets SET options = 'abc' WHERE id = 2") << false;
    QTest::newRow("direction") << QStringLiteral(
                                      "UPDATE packets SET direction = 'sideways' WHERE id = 2")
                               << true;
    QTest::newRow("family") << QStringLiteral("UPDATE packets SET family = 5 WHERE id = 2") << true;
    QTest::newRow("address") << QStringLiteral("UPDATE packets SET src_addr = '::1' WHERE id = 2")
                             << false;
    QTest::newRow("port") << QStringLiteral("UPDATE packets SET dst_port = 70000 WHERE id = 2")
                          << false;
    QTest::newRow("flags") << QStringLiteral("UPDATE packets SET tcp_flags = 256 WHERE id = 2")
                           << false;
    QTest::newRow("parse status") << QStringLiteral(
                                         "UPDATE packets SET parse_status = 9 WHERE id = 2")
                                  << false;
    QTest::newRow("analysis bits")
        << QStringLiteral("UPDATE packets SET analysis = %1 WHERE id = 2")
               .arg(quint64(kAnalysisFlagsAll) + 1) // the first bit no flag uses
        << false;
    QTest::newRow("seq as text") << QStringLiteral("UPDATE packets SET seq = 'x' WHERE id = 2")
                                 << false;
    QTest::newRow("sock state") << QStringLiteral(
                                       "UPDATE packets SET sock_state = 'BOGUS' WHERE id = 2")
                                << false;
    QTest::newRow("orphan packet")
        << QStringLiteral("UPDATE packets SET connection_id = 77 WHERE id = 2") << false;
    QTest::newRow("negative ack rtt")
        << QStringLiteral("UPDATE packets SET ack_rtt_ns = -10 WHERE id = 2") << false;
    QTest::newRow("interface attach")
        << QStringLiteral("UPDATE interfaces SET attach = 'xdp' WHERE ifindex = 1") << false;
    QTest::newRow("interface name")
        << QStringLiteral("UPDATE interfaces SET name = x'00' WHERE ifindex = 1") << false;
}

void TestSessionPackets::toleratesValues()
{
    QFETCH(QString, statement);
    QFETCH(bool, skipsRow);
    const QString file = writeSession("odd.tcpscope");
    QString error;
    const auto before = SessionReader::read(file, &error);
    QVERIFY2(before, qPrintable(error));
    QCOMPARE(before->valuesOutOfRange, 0u);
    const int changed = testing::sqlChanges(file, statement.toUtf8().constData());
    QCOMPARE(changed, 1);
    const auto after = SessionReader::read(file, &error);
    QVERIFY2(after, qPrintable(error));
    QVERIFY2(after->valuesOutOfRange >= 1u, qPrintable(QString::number(after->valuesOutOfRange)));
    QCOMPARE(after->packets.size(), before->packets.size() - (skipsRow ? 1 : 0));
    QCOMPARE(after->info.interfaces.size(), before->info.interfaces.size());
    if (skipsRow || !statement.contains(QLatin1String("packets")))
        return;
    // The one changed field is unknown; packet 2 is otherwise intact.
    const Packet &was = before->packets[1];
    const Packet &now = after->packets[1];
    QCOMPARE(now.id, was.id);
    QCOMPARE(now.timeNs, was.timeNs);
    if (statement.contains(QLatin1String("ack_rtt_ns")))
        QCOMPARE(now.ackRttNs, qint64(-1));
    if (statement.contains(QLatin1String("dst_port")))
        QCOMPARE(now.dstPort, quint16(0));
    if (statement.contains(QLatin1String("connection_id")))
        QCOMPARE(now.connectionId, qint64(0));
    if (statement.contains(QLatin1String("options")))
        QVERIFY(now.options.isEmpty());
}

void TestSessionPackets::rejects()
{
    QFETCH(QString, statement);
    QFETCH(QString, expected);
    const QString file = writeSession("hostile.tcpscope");
    sql(file, statement.toUtf8().constData());
    QString error;
    QVERIFY(!SessionReader::read(file, &error));
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(!error.contains(QLatin1Char('\n')), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestSessionPackets)
#include "test_session_packets.moc"
