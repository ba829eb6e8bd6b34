// SPDX-License-Identifier: GPL-3.0-or-later
// Session, the query interface: every query against a file written by SessionWriter
// (connection ids sorted by any column and filtered by text or id list, pages by id, one
// connection with history, packets of a connection by position, packets from an id, the
// kernel's view per connection, per-second aggregates, refresh of a file still being written,
// interruptions) and its errors (unknown sort column, damaged pages reported by the query that
// reads them).
#include "session/session.h"
#include "session/session_writer.h"
#include "session_kernel_fixture.h"
#include "session_sql.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <arpa/inet.h>

using namespace tcpscope;
using namespace tcpscope::testing;

class TestSession : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void openAndCounts();
    void connectionIds();
    void wordIndexReadAhead();
    void sortsMixedValuesLikeSql();
    void connectionPages();
    void lifetimeFields();
    void packetsByConnection();
    void packetsFromId();
    void kernelPerConnection();
    void secondsAggregates();
    void refreshSeesAppends();
    void damagedPageIsAQueryError();
    void ownerNamesRoundTrip();
    void interruptionsRoundTrip();
    void rowTotalsCountStoredPackets();
    void recordOrderRoundTrip();
    void packetIdAtRankWithGaps_data();
    void packetIdAtRankWithGaps();

private:
    QString write(const char *name, SessionWriter **keepOpen = nullptr);
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SessionWriter> m_writer;
};

namespace {

constexpr int kConnections = 6;
constexpr int kPacketsPerConnection = 50;

Connection connection(qint64 id)
{
    Connection c = conn(id, id == 6 ? ConnectionRole::Listener : ConnectionRole::Client);
    c.comm = id % 2 ? QStringLiteral("curl") : QStringLiteral("nginx_worker");
    c.pid = quint32(100 + id);
    c.remotePort = quint16(id == 3 ? 443 : 80);
    c.bytesSent = quint64(1000 * (kConnections - id)); // reverse of id order
    c.startNs = kT0 + id * 1'000'000'000LL;
    c.endNs = id <= 2 ? c.startNs + 500'000'000 : 0;
    c.closeReason = id <= 2 ? CloseReason::Fin : CloseReason::Open;
    StateChange sc;
    sc.timeNs = c.startNs;
    sc.from = TcpState::Close;
    sc.to = TcpState::SynSent;
    sc.ctxComm = c.comm;
    c.history = {sc};
    sc.from = TcpState::SynSent;
    sc.to = TcpState::Established;
    c.history.append(sc);
    return c;
}

// Packets interleaved across connections (ids in capture order), plus unjoined ones.
QVector<Packet> packets()
{
    QVector<Packet> out;
    qint64 id = 1;
    for (int i = 0; i < kPacketsPerConnection; ++i) {
        for (qint64 c = 0; c <= kConnections; ++c) {
            Packet p;
            p.id = id++;
            p.connectionId = c;
            p.timeNs = kT0 + c * 1'000'000'000LL + i * 1000;
            p.direction = i % 2 ? PacketDirection::In : PacketDirection::Out;
            p.srcAddr = IpAddress::parse(AddressFamily::IPv4, u"127.0.0.1");
            p.dstAddr = IpAddress::parse(AddressFamily::IPv4, u"127.0.0.1");
            p.srcPort = quint16(50000 + c);
            p.dstPort = 80;
            p.seq = quint32(1000 + i * 100);
            p.payloadLen = 100;
            p.tcpFlags = 0x18;
            p.ackRttNs = i % 3 ? -1 : 5000;
            out.append(p);
        }
    }
    return out;
}

} // namespace

void TestSession::init()
{
    m_writer.reset();
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QString TestSession::write(const char *name, SessionWriter **keepOpen)
{
    QString file = m_dir->filePath(QLatin1String(name));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    if (!writer)
        return {};
    SessionInfo i = info();
    i.packetsCaptured = true;
    writer->setInfo(i);
    for (qint64 id = 1; id <= kConnections; ++id)
        writer->writeConnection(connection(id));
    writer->writePackets(packets());
    KernelData k = batch1();
    k.samples.append(sample(4, 7));
    writer->writeKernelData(k);
    if (keepOpen) {
        if (!writer->flush(&error))
            return {};
        *keepOpen = writer.get();
        m_writer = std::move(writer);
        return file;
    }
    return writer->close(&error) ? file : QString();
}

void TestSession::openAndCounts()
{
    const QString file = write("s.tcpscope");
    QString error;
    const auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->path(), file);
    QVERIFY(s->format().major >= 3);
    QCOMPARE(s->info().kernelRelease, QStringLiteral("6.18.0"));
    QCOMPARE(s->connectionCount(), qint64(kConnections));
    QCOMPARE(s->packetCount(), qint64(kPacketsPerConnection * (kConnections + 1)));
    QCOMPARE(s->valuesOutOfRange(), 0u);
    QVERIFY(s->error().isEmpty());
    // Cancel before it starts: no session.
    std::atomic<bool> cancel{true};
    QVERIFY(!Session::open(file, &error, &cancel));
    QCOMPARE(error, QStringLiteral("cancelled"));
    int last = -1;
    QVERIFY(Session::open(file, &error, nullptr, [&last](int p) { last = p; }));
    QCOMPARE(last, 100);
}

void TestSession::connectionIds()
{
    const auto s = Session::open(write("ids.tcpscope"), nullptr);
    QVERIFY(s);
    ConnectionQuery q;
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{1, 2, 3, 4, 5, 6}));
    q.sortColumn = QStringLiteral("bytes_sent");
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{6, 5, 4, 3, 2, 1}));
    q.descending = true;
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{1, 2, 3, 4, 5, 6}));
    // Ties keep id order (in the direction asked).
    q.sortColumn = QStringLiteral("comm");
    q.descending = false;
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{1, 3, 5, 2, 4, 6}));
    // Text: every word must match one of the columns, case-insensitive; '_' is literal.
    q = {};
    q.text = QStringLiteral("CURL");
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{1, 3, 5}));
    q.text = QStringLiteral("curl 443");
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{3}));
    q.text = QStringLiteral("x_w");
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{2, 4, 6}));
    q.text = QStringLiteral("nginx%");
    QVERIFY(s->connectionIds(q).isEmpty());
    q.text = QStringLiteral("x_worker fin");
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{2}));
    q.text = QStringLiteral("listener");
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{6}));
    // Words with the id order reversed, with an id list, and with another sort column.
    q.text = QStringLiteral("curl");
    q.descending = true;
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{5, 3, 1}));
    q.ids = {1, 2, 5, 99};
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{5, 1}));
    q.descending = false;
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{1, 5}));
    q.ids.clear();
    q.sortColumn = QStringLiteral("bytes_sent");
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{5, 3, 1}));
    // An id list restricts, the order is still the query's.
    q = {};
    q.ids = {5, 2, 99, 4};
    q.descending = true;
    QCOMPARE(s->connectionIds(q), (QVector<qint64>{5, 4, 2}));
    // The sort column is checked against the table's columns: nothing is spliced blindly.
    q = {};
    q.sortColumn = QStringLiteral("id; DROP TABLE connections");
    QVERIFY(s->connectionIds(q).isEmpty());
    QVERIFY2(s->error().contains(QLatin1String("no connections column")), qPrintable(s->error()));
    q.sortColumn = QStringLiteral("remote_port");
    QCOMPARE(s->connectionIds(q).size(), kConnections);
    QVERIFY(s->error().isEmpty());
}

void TestSession::wordIndexReadAhead()
{
    // Read through one handle, adopted by another on the same file: the adopting session
    // answers words from it without reading the text itself, exactly as it would have.
    SessionWriter *writer = nullptr;
    const QString file = write("words.tcpscope", &writer);
    const auto reader = Session::open(file, nullptr);
    const auto shown = Session::open(file, nullptr);
    QVERIFY(reader && shown);
    QVERIFY(!shown->hasWordIndex());
    const std::shared_ptr<const WordIndex> index = reader->readWordIndex();
    QVERIFY2(index, qPrintable(reader->error()));
    QVERIFY(shown->adoptWordIndex(index));
    QVERIFY(shown->hasWordIndex());
    ConnectionQuery q;
    q.text = QStringLiteral("curl 443");
    QCOMPARE(shown->connectionIds(q), (QVector<qint64>{3}));
    q.text = QStringLiteral("nginx");
    QCOMPARE(shown->connectionIds(q), (QVector<qint64>{2, 4, 6}));

    // The file grows: the shown session drops its index on refresh, and an index of the old
    // rows (one connection short) is refused; the session then reads the text itself.
    Connection seventh = connection(5);
    seventh.id = 7;
    seventh.comm = QStringLiteral("wget");
    writer->writeConnection(seventh);
    QVERIFY(writer->flush());
    QVERIFY(shown->refresh());
    QVERIFY(!shown->hasWordIndex());
    QVERIFY(!shown->adoptWordIndex(index));
    QVERIFY(!shown->hasWordIndex());
    q.text = QStringLiteral("wget");
    QCOMPARE(shown->connectionIds(q), (QVector<qint64>{7}));
    QVERIFY(shown->hasWordIndex());
    // One is loaded: adopting keeps it (and says the session has one).
    QVERIFY(shown->adoptWordIndex(index));
    QCOMPARE(shown->connectionIds(q), (QVector<qint64>{7}));

    // A damaged connections table: no index, and the reason.
    const auto fresh = Session::open(file, nullptr);
    QVERIFY(fresh);
    QVERIFY(!fresh->adoptWordIndex(nullptr));
    testing::sql(file, "ALTER TABLE connections RENAME COLUMN comm TO comm_gone");
    QVERIFY(!fresh->readWordIndex());
    QVERIFY2(!fresh->error().isEmpty(), "a failed read says why");
}

void TestSession::sortsMixedValuesLikeSql()
{
    // SQLite orders NULL < numbers < text < blob, text by bytes; the in-memory sort must agree
    // whether the column holds integers, NULL and text (compared by rank) or also REAL and BLOB
    // values (compared as values).
    const QString file = write("mixed.tcpscope");
    auto sqlOrder = [&file](const char *dir) {
        QVector<qint64> ids;
        sqlite3 *db = nullptr;
        if (sqlite3_open(QFile::encodeName(file).constData(), &db) == SQLITE_OK) {
            sqlite3_stmt *st = nullptr;
            const QByteArray q = QByteArray("SELECT id FROM connections ORDER BY handshake_ns ") +
                                 dir + ", id " + dir;
            if (sqlite3_prepare_v2(db, q.constData(), -1, &st, nullptr) == SQLITE_OK)
                while (sqlite3_step(st) == SQLITE_ROW)
                    ids.append(sqlite3_column_int64(st, 0));
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return ids;
    };
    auto check = [&] {
        const auto s = Session::open(file, nullptr);
        QVERIFY(s);
        ConnectionQuery q;
        q.sortColumn = QStringLiteral("handshake_ns");
        const QVector<qint64> asc = sqlOrder("ASC");
        QCOMPARE(asc.size(), 6);
        QCOMPARE(s->connectionIds(q), asc);
        q.descending = true;
        QCOMPARE(s->connectionIds(q), sqlOrder("DESC"));
    };
    testing::sql(file, "UPDATE connections SET handshake_ns = CASE id WHEN 1 THEN NULL"
                       " WHEN 2 THEN 'abc' WHEN 3 THEN 5 WHEN 4 THEN 'Abc' WHEN 5 THEN -3"
                       " ELSE 'ab' END");
    check();
    testing::sql(file, "UPDATE connections SET handshake_ns = 2.5 WHERE id = 5;"
                       "UPDATE connections SET handshake_ns = x'01' WHERE id = 6");
    check();
}

void TestSession::connectionPages()
{
    const auto s = Session::open(write("pages.tcpscope"), nullptr);
    QVERIFY(s);
    const QVector<Connection> page = s->connections({4, 1, 77, 3});
    QCOMPARE(page.size(), 3);
    QCOMPARE(page[0].id, 4);
    QCOMPARE(page[1].id, 1);
    QCOMPARE(page[2].id, 3);
    QVERIFY(page[0].history.isEmpty()); // a table page needs no history
    QCOMPARE(page[1].comm, QStringLiteral("curl"));
    QCOMPARE(page[1].endNs, connection(1).endNs);
    QCOMPARE(page[1].closeReason, CloseReason::Fin);
    const auto one = s->connection(2);
    QVERIFY(one);
    QCOMPARE(one->history.size(), 2);
    QCOMPARE(one->history[1].to, TcpState::Established);
    QCOMPARE(one->kernel.retransmits, connection(2).kernel.retransmits);
    QVERIFY(!s->connection(77));
    QVector<qint64> seen;
    s->forEachConnection(
        [&seen](const Connection &c) {
            seen.append(c.id);
            if (c.history.size() != 2)
                seen.append(-1);
            return c.id < 4;
        },
        true);
    QCOMPARE(seen, (QVector<qint64>{1, 2, 3, 4}));
}

void TestSession::lifetimeFields()
{
    const auto s = Session::open(write("lifetime.tcpscope"), nullptr);
    QVERIFY(s);
    const QVector<Connection> full = s->allConnections(true);
    const QVector<Connection> lean = s->allConnections(true, ConnectionFields::lifetime());
    QCOMPARE(lean.size(), full.size());
    QVERIFY(s->error().isEmpty());
    bool someCounts = false;
    for (int i = 0; i < full.size(); ++i) {
        const Connection &f = full[i];
        const Connection &l = lean[i];
        // Identity and lifetime as in the full read, with the same history.
        QCOMPARE(l.id, f.id);
        QCOMPARE(l.pid, f.pid);
        QCOMPARE(l.comm, f.comm);
        QCOMPARE(l.hostId, f.hostId);
        QCOMPARE(l.family(), f.family());
        QCOMPARE(l.localAddr, f.localAddr);
        QCOMPARE(l.localPort, f.localPort);
        QCOMPARE(l.remoteAddr, f.remoteAddr);
        QCOMPARE(l.remotePort, f.remotePort);
        QCOMPARE(l.role, f.role);
        QCOMPARE(l.startNs, f.startNs);
        QCOMPARE(l.endNs, f.endNs);
        QCOMPARE(l.handshakeNs, f.handshakeNs);
        QCOMPARE(l.state, f.state);
        QCOMPARE(l.closeReason, f.closeReason);
        QCOMPARE(l.history.size(), f.history.size());
        for (int h = 0; h < f.history.size(); ++h) {
            QCOMPARE(l.history[h].timeNs, f.history[h].timeNs);
            QCOMPARE(l.history[h].to, f.history[h].to);
        }
        // Everything else is not read: a new Connection's value, not counted as damage.
        QCOMPARE(l.kernel.retransmits, Connection().kernel.retransmits);
        QCOMPARE(l.packets.packetsIn, Connection().packets.packetsIn);
        someCounts = someCounts || f.kernel.retransmits != 0 || f.packets.packetsIn != 0;
    }
    QVERIFY(someCounts); // the fields left out do hold data in this file
    QCOMPARE(s->valuesOutOfRange(), quint64(0));
    // Every name in the lifetime subset is a column.
    auto columnsIn = [](const ConnectionFields &f) {
        int n = 0;
        for (const ConnectionColumn &col : connectionColumns())
            n += f.has(col) ? 1 : 0;
        return n;
    };
    QCOMPARE(columnsIn(ConnectionFields::lifetime()), 14);
    QCOMPARE(columnsIn(ConnectionFields::all()), int(connectionColumns().size()));
    QCOMPARE(columnsIn(ConnectionFields()), 1); // id
    QCOMPARE(columnsIn(ConnectionFields().add("comm").add("comm")), 2);
    // Read with only some columns: those hold the file's values, the others a new one's.
    QVector<Connection> two;
    s->forEachConnection(
        [&two](const Connection &c) {
            two.append(c);
            return true;
        },
        false, ConnectionFields().add("comm").add("remote_port"));
    QCOMPARE(two.size(), full.size());
    for (qsizetype i = 0; i < two.size(); ++i) {
        QCOMPARE(two[i].id, full[i].id);
        QCOMPARE(two[i].comm, full[i].comm);
        QCOMPARE(two[i].remotePort, full[i].remotePort);
        QCOMPARE(two[i].localPort, Connection().localPort);
        QCOMPARE(two[i].remoteAddr, Connection().remoteAddr);
        QCOMPARE(two[i].startNs, Connection().startNs);
    }
    QCOMPARE(s->valuesOutOfRange(), quint64(0));
}

void TestSession::packetsByConnection()
{
    const auto s = Session::open(write("p.tcpscope"), nullptr);
    QVERIFY(s);
    QCOMPARE(s->packetCount(3), qint64(kPacketsPerConnection));
    QCOMPARE(s->packetCount(0), qint64(kPacketsPerConnection)); // not joined
    QCOMPARE(s->packetCount(77), qint64(0));
    const QVector<Packet> all = packets();
    QVector<Packet> want;
    for (const Packet &p : all)
        if (p.connectionId == 3)
            want.append(p);
    const QVector<Packet> got = s->packets(3);
    QCOMPARE(got.size(), want.size());
    for (int i = 0; i < got.size(); ++i) {
        QCOMPARE(got[i].id, want[i].id);
        QCOMPARE(got[i].connectionId, 3);
        QCOMPARE(got[i].timeNs, want[i].timeNs);
        QCOMPARE(got[i].seq, want[i].seq);
        QCOMPARE(got[i].ackRttNs, want[i].ackRttNs);
        QCOMPARE(got[i].direction, want[i].direction);
        QCOMPARE(got[i].srcPort, want[i].srcPort);
    }
    // Positions within the connection.
    const QVector<Packet> page = s->packets(3, 10, 5);
    QCOMPARE(page.size(), 5);
    QCOMPARE(page[0].id, want[10].id);
    QCOMPARE(page[4].id, want[14].id);
    QCOMPARE(s->packets(3, kPacketsPerConnection - 2, 100).size(), 2);
    QVERIFY(s->packets(3, kPacketsPerConnection, 100).isEmpty());
    QCOMPARE(s->packets(0, 0, 3).size(), 3);
    QCOMPARE(s->packets(0, 0, 3)[0].connectionId, 0);
    qint64 n = 0;
    s->forEachPacket(5, [&n](const Packet &p) { return p.connectionId == 5 && ++n < 7; });
    QCOMPARE(n, 7);
}

void TestSession::packetsFromId()
{
    const auto s = Session::open(write("ids.tcpscope"), nullptr);
    QVERIFY(s);
    const QVector<Packet> all = packets();
    const QVector<Packet> got = s->packetsFromId(100, 30);
    QCOMPARE(got.size(), 30);
    for (int i = 0; i < got.size(); ++i) {
        QCOMPARE(got[i].id, 100 + i);
        QCOMPARE(got[i].connectionId, all[99 + i].connectionId);
        QCOMPARE(got[i].timeNs, all[99 + i].timeNs);
    }
    QCOMPARE(s->packetsFromId(all.size() - 1, 30).size(), 2);
    QVERIFY(s->packetsFromId(all.size() + 1, 30).isEmpty());
    qint64 count = 0, last = 0;
    bool ordered = true;
    s->forEachPacket(-1, [&](const Packet &p) {
        ordered = ordered && p.id > last;
        last = p.id;
        ++count;
        return true;
    });
    QVERIFY(ordered);
    QCOMPARE(count, qint64(all.size()));
}

void TestSession::kernelPerConnection()
{
    const auto s = Session::open(write("k.tcpscope"), nullptr);
    QVERIFY(s);
    const KernelData one = s->kernelData(1);
    QCOMPARE(one.samples.size(), 2);
    compare(one.samples[0], sample(1, 1));
    compare(one.samples[1], sample(1, 4));
    QCOMPARE(one.events.size(), 2);
    compare(one.events[1], testing::event(1, 5, KernelEventKind::CongestionState));
    QVERIFY(one.drops.isEmpty());
    const KernelData noSamples = s->kernelData(1, false);
    QVERIFY(noSamples.samples.isEmpty());
    QCOMPARE(noSamples.events.size(), 2);
    const KernelData listener = s->kernelData(3);
    QCOMPARE(listener.listeners.size(), 1);
    const KernelData unjoined = s->kernelData(0);
    QCOMPARE(unjoined.samples.size(), 1);
    QCOMPARE(unjoined.drops.size(), 1);
    const KernelData all = s->kernelEvents();
    QVERIFY(all.samples.isEmpty());
    QCOMPARE(all.events.size(), batch1().events.size());
    QCOMPARE(all.drops.size(), batch1().drops.size());
    QCOMPARE(all.listeners.size(), batch1().listeners.size());
    qint64 samples = 0;
    s->forEachSample(-1, [&samples](const TcpSample &) { return ++samples > 0; });
    QCOMPARE(samples, batch1().samples.size() + 1);
}

void TestSession::secondsAggregates()
{
    const auto s = Session::open(write("sec.tcpscope"), nullptr);
    QVERIFY(s);
    const QVector<SecondBucket> all = s->seconds();
    QVERIFY(!all.isEmpty());
    quint64 packetsSum = 0, payload = 0;
    quint32 opened = 0, closed = 0, samples = 0, drops = 0;
    for (const SecondBucket &b : all) {
        QCOMPARE(b.secondNs % 1'000'000'000, 0);
        packetsSum += b.packets;
        payload += b.payloadBytes;
        opened += b.opened;
        closed += b.closed;
        samples += b.samples;
        drops += b.drops;
    }
    QCOMPARE(packetsSum, quint64(packets().size()));
    QCOMPARE(payload, quint64(packets().size()) * 100);
    QCOMPARE(opened, quint32(kConnections));
    QCOMPARE(closed, 2u);
    QCOMPARE(samples, quint32(batch1().samples.size() + 1));
    QCOMPARE(drops, quint32(batch1().drops.size()));
    QCOMPARE(all.last().active, quint32(kConnections - 2));
    // A range: the second of connection 3 only.
    const qint64 t3 = kT0 + 3'000'000'000LL;
    const QVector<SecondBucket> third = s->seconds(t3, t3 + 999'999'999);
    QCOMPARE(third.size(), 1);
    QCOMPARE(third[0].opened, 1u);
    QCOMPARE(third[0].packets, quint64(kPacketsPerConnection));
}

void TestSession::refreshSeesAppends()
{
    SessionWriter *writer = nullptr;
    const QString file = write("live.tcpscope", &writer);
    QVERIFY(writer);
    QString error;
    const auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->connectionCount(), qint64(kConnections));
    QVERIFY(!s->refresh());
    writer->writeConnection(connection(7));
    Packet p = packets().first();
    p.id = packets().size() + 1;
    p.connectionId = 7;
    writer->writePackets({p});
    QVERIFY2(writer->flush(&error), qPrintable(error));
    QVERIFY(s->refresh());
    QCOMPARE(s->connectionCount(), qint64(kConnections + 1));
    QCOMPARE(s->packetCount(7), 1);
    QVERIFY(s->connection(7));
    QVERIFY2(writer->close(&error), qPrintable(error));
}

void TestSession::damagedPageIsAQueryError()
{
    // Opening does no page scan; a query that meets a damaged page says so in one line.
    const QString file = write("dmg.tcpscope");
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadWrite));
    const qint64 size = f.size();
    QVERIFY(size > 8 * 4096);
    // Garbage over the second half (packet, sample and aggregate pages); page 1 stays intact.
    QVERIFY(f.seek(size / 2));
    f.write(QByteArray(size - size / 2, '\xa5'));
    f.close();
    QString error;
    const auto s = Session::open(file, &error);
    if (!s) {
        // The schema or a count landed on a damaged page: refused with one line.
        QVERIFY2(error.startsWith(QLatin1String("corrupt")), qPrintable(error));
        QVERIFY2(!error.contains(QLatin1Char('\n')), qPrintable(error));
        return;
    }
    QStringList errors;
    auto collect = [&] {
        if (!s->error().isEmpty())
            errors << s->error();
    };
    s->forEachPacket(-1, [](const Packet &) { return true; });
    collect();
    s->forEachSample(-1, [](const TcpSample &) { return true; });
    collect();
    s->forEachConnection([](const Connection &) { return true; }, true);
    collect();
    s->kernelEvents();
    collect();
    s->seconds();
    collect();
    QVERIFY(!errors.isEmpty());
    for (const QString &e : std::as_const(errors)) {
        QVERIFY2(e.startsWith(QLatin1String("corrupt")), qPrintable(e));
        QVERIFY2(!e.contains(QLatin1Char('\n')), qPrintable(e));
    }
    qInfo("damaged file: %s", qPrintable(errors.first()));
}

void TestSession::ownerNamesRoundTrip()
{
    const QString file = m_dir->filePath(QStringLiteral("owners.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    writer->setInfo(info());
    OwnerNames names;
    names.cgroupPaths.insert(25, QStringLiteral("/system.slice/nginx.service"));
    names.cgroupPaths.insert(0xfffffffffffffff0ULL, QStringLiteral("/big")); // stored bit-for-bit
    names.netnsNames.insert(4026532000, QStringLiteral("blue"));
    writer->writeOwnerNames(names);
    OwnerNames later; // a second lookup of the same id replaces its row
    later.cgroupPaths.insert(25, QStringLiteral("/system.slice/nginx.service"));
    writer->writeOwnerNames(later);
    QVERIFY2(writer->close(&error), qPrintable(error));
    auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->ownerNames().cgroupPaths, names.cgroupPaths);
    QCOMPARE(s->ownerNames().netnsNames, names.netnsNames);
    QCOMPARE(s->valuesOutOfRange(), 0u);
    // Hostile rows are left out and counted; a file of an earlier minor has no names.
    s.reset();
    sql(file, "INSERT INTO cgroups(id, path) VALUES(7, 'x'), (9, ''), (0, '/zero')");
    s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->ownerNames().cgroupPaths.value(7), QStringLiteral("x"));
    QCOMPARE(s->ownerNames().cgroupPaths.size(), 3);
    QVERIFY(s->valuesOutOfRange() >= 1);
    s.reset();
    sql(file, "DROP TABLE cgroups; DROP TABLE netns_names;"
              "ALTER TABLE connections DROP COLUMN host_id; DROP TABLE hosts;"
              "ALTER TABLE connections DROP COLUMN isn_local;"
              "ALTER TABLE connections DROP COLUMN isn_remote;"
              "PRAGMA user_version = 4004;");
    s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY(s->ownerNames().isEmpty());
}

void TestSession::interruptionsRoundTrip()
{
    const QString file = m_dir->filePath(QStringLiteral("gaps.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo i = info();
    i.readerDropped = 1234;
    i.interruptions = {{kT0 + 1'000'000'000, kT0 + 21'000'000'000, 1234,
                        QStringLiteral("tcpscope did not read in time")},
                       {kT0 + 30'000'000'000, 0, -1,
                        QStringLiteral("the capture ended early: tcpscope-helper closed")}};
    writer->setInfo(i);
    // Written again (a stall grows while it lasts): the rows are replaced, not added.
    i.interruptions.first().endNs += 1'000'000'000;
    writer->setInfo(i);
    QVERIFY2(writer->close(&error), qPrintable(error));
    QVERIFY(writer->writeError().isEmpty());

    auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY(s->format().minor >= 1);
    QCOMPARE(s->info().readerDropped, quint64(1234));
    QCOMPARE(s->info().interruptions, i.interruptions);
    QCOMPARE(s->valuesOutOfRange(), 0u);
    QVERIFY(interruptionText(i.interruptions.first()).contains(QLatin1String("(21.0 s)")));
    QVERIFY(
        interruptionText(i.interruptions.last()).contains(QLatin1String("records lost: unknown")));

    // Hostile values read as unknown and are counted, not fatal.
    s.reset();
    sql(file,
        "UPDATE interruptions SET records_lost = -5, end_ns = 'soon' WHERE end_ns IS NOT NULL");
    s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->info().interruptions.first().recordsLost, qint64(-1));
    QCOMPARE(s->info().interruptions.first().endNs, qint64(0));
    QCOMPARE(s->valuesOutOfRange(), 2u);

    // A 4.0 file has no such table and reads as having none; a 4.1 file without it is damaged.
    s.reset();
    sql(file, "DROP TABLE interruptions; DROP TABLE view_state; DROP TABLE annotations;"
              "DROP TABLE alerts; DROP TABLE kept_windows;"
              "DROP TABLE cgroups; DROP TABLE netns_names;"
              "ALTER TABLE connections DROP COLUMN host_id; DROP TABLE hosts;"
              "ALTER TABLE connections DROP COLUMN isn_local;"
              "ALTER TABLE connections DROP COLUMN isn_remote;"
              "PRAGMA user_version = 4000;");
    s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY(s->info().interruptions.isEmpty());
    s.reset();
    sql(file, "PRAGMA user_version = 4001;");
    QVERIFY(!Session::open(file, &error));
    QVERIFY2(error.contains(QLatin1String("missing table 'interruptions'")), qPrintable(error));
}

// A connection's packet totals in the file are those of its packets in the file, at every
// commit: what a killed recorder or a full disk leaves agrees with itself. A connection whose
// packets never reach the writer keeps the totals it came with.
void TestSession::rowTotalsCountStoredPackets()
{
    const QString file = m_dir->filePath(QStringLiteral("totals.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo i = info();
    i.packetsCaptured = true;
    writer->setInfo(i);
    Connection withPackets = connection(1);
    QVector<Packet> ps;
    for (const Packet &p : packets())
        if (p.connectionId == 1)
            ps.append(p);
    QCOMPARE(ps.size(), kPacketsPerConnection);
    ps[3].analysis = AnalysisRetransmission | AnalysisFastRetransmission;
    ps[4].analysis = AnalysisDuplicateAck;
    ps[5].parseStatus = 1; // malformed: a packet, no payload counted
    ps[5].analysis = AnalysisMalformed;
    // The analyzer's totals run ahead of what the writer was given (here: 10 more packets).
    for (const Packet &p : std::as_const(ps))
        withPackets.packets.add(p);
    withPackets.packets.packetsIn += 10;
    withPackets.packets.irttNs = 123;
    withPackets.packets.mssLocal = 1460;
    Connection without = connection(2);
    without.packets.packetsIn = 7;
    without.packets.dupAcks = 2;

    // The first half, committed while the connection is open (its chunk is not due yet).
    writer->writePackets(ps.mid(0, 20));
    writer->writeConnection(withPackets);
    writer->writeConnection(without);
    QVERIFY2(writer->flush(&error), qPrintable(error));
    {
        auto s = Session::open(file, &error);
        QVERIFY2(s, qPrintable(error));
        const Connection c = s->connection(1).value();
        QCOMPARE(c.packets.packetsIn + c.packets.packetsOut, quint64(s->packetCount(1)));
        QCOMPARE(s->connection(2)->packets.packetsIn, quint64(7));
        QCOMPARE(s->connection(2)->packets.dupAcks, quint32(2));
    }
    writer->writePackets(ps.mid(20));
    QVERIFY2(writer->close(&error), qPrintable(error));

    auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    const Connection c = s->connection(1).value();
    QCOMPARE(s->packetCount(1), qint64(kPacketsPerConnection));
    QCOMPARE(c.packets.packetsIn + c.packets.packetsOut, quint64(kPacketsPerConnection));
    PacketCounts want;
    for (const Packet &p : std::as_const(ps))
        want.add(p);
    QCOMPARE(c.packets.packetsIn, want.packetsIn);
    QCOMPARE(c.packets.payloadBytesOut, want.payloadBytesOut);
    QCOMPARE(c.packets.payloadBytesIn, quint64(100 * (kPacketsPerConnection / 2 - 1)));
    QCOMPARE(c.packets.retransmissions, quint32(1));
    QCOMPARE(c.packets.fastRetransmissions, quint32(1));
    QCOMPARE(c.packets.dupAcks, quint32(1));
    // Handshake facts are the analyzer's.
    QCOMPARE(c.packets.irttNs, qint64(123));
    QCOMPARE(c.packets.mssLocal, 1460);
    QCOMPARE(s->connection(2)->packets.packetsIn, quint64(7));
}

QTEST_GUILESS_MAIN(TestSession)
#include "test_session.moc"

// The record-order facts are kept when known, absent when not (read as -1), and a hostile value
// reads as unknown and is counted instead of refusing the file.
void TestSession::recordOrderRoundTrip()
{
    const QString file = m_dir->filePath(QStringLiteral("order.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo i = info();
    i.reorderWindowNs = 500'000'000;
    i.recordsReordered = 0; // known to be zero: written, not left out
    i.maxInversionNs = 0;
    i.recordsBeyondWindow = 7;
    i.maxLateNs = 610'000'000;
    // recordsAfterEviction stays unknown (-1)
    writer->setInfo(i);
    QVERIFY2(writer->close(&error), qPrintable(error));

    auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->info().reorderWindowNs, qint64(500'000'000));
    QCOMPARE(s->info().recordsReordered, qint64(0));
    QCOMPARE(s->info().maxInversionNs, qint64(0));
    QCOMPARE(s->info().recordsBeyondWindow, qint64(7));
    QCOMPARE(s->info().maxLateNs, qint64(610'000'000));
    QCOMPARE(s->info().recordsAfterEviction, qint64(-1));
    QCOMPARE(s->valuesOutOfRange(), 0u);
    s.reset();
    // Unknown is left out of the file, not written as a value.
    QCOMPARE(sqlChanges(file, "UPDATE meta SET value = value WHERE key = 'records_after_eviction'"),
             0);
    QCOMPARE(sqlChanges(file, "UPDATE meta SET value = value WHERE key = 'max_late_ns'"), 1);

    sql(file, "UPDATE meta SET value = '-3' WHERE key = 'records_beyond_window';"
              "UPDATE meta SET value = 'many' WHERE key = 'max_late_ns';");
    s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->info().recordsBeyondWindow, qint64(-1));
    QCOMPARE(s->info().maxLateNs, qint64(-1));
    QCOMPARE(s->info().reorderWindowNs, qint64(500'000'000));
    QCOMPARE(s->valuesOutOfRange(), 2u);
}

void TestSession::packetIdAtRankWithGaps_data()
{
    QTest::addColumn<int>("format");
    QTest::newRow("chunks") << 4;
    QTest::newRow("rows") << 3;
}

// Row -> id for a file whose ids have gaps (what a killed recorder or a full disk leaves):
// every rank answers the id a walk over all packets in id order finds there, with connections
// interleaved, chunks split at 1024 packets, unjoined packets and a long run of missing ids.
void TestSession::packetIdAtRankWithGaps()
{
    QFETCH(int, format);
    const QString file = m_dir->filePath(QStringLiteral("gaps-%1.tcpscope").arg(format));
    QString error;
    auto writer = SessionWriter::create(file, &error, format);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo i = info();
    i.packetsCaptured = true;
    writer->setInfo(i);
    for (qint64 id = 1; id <= 3; ++id)
        writer->writeConnection(connection(id));
    QVector<Packet> written;
    quint32 rng = 12345;
    auto next = [&rng] { return rng = rng * 1103515245u + 12345u, (rng >> 16) & 0x7fff; };
    for (qint64 id = 40; id < 9000; ++id) {
        if (id % 7 == 0 || (id > 3000 && id < 4500) || next() % 5 == 0)
            continue; // not in the file
        Packet p;
        p.id = id;
        // Connection 1 is a bulk stream (chunks of 1024), 2 and 3 interleave, 0 = not joined.
        const int r = int(next() % 10);
        p.connectionId = r < 6 ? 1 : r < 8 ? 2 : r < 9 ? 3 : 0;
        p.timeNs = kT0 + id * 1000;
        p.srcAddr = IpAddress::parse(AddressFamily::IPv4, u"127.0.0.1");
        p.dstAddr = IpAddress::parse(AddressFamily::IPv4, u"127.0.0.1");
        p.srcPort = quint16(50000 + p.connectionId);
        p.dstPort = 80;
        p.ackRttNs = -1;
        written.append(p);
    }
    writer->writePackets(written);
    QVERIFY2(writer->close(&error), qPrintable(error));

    const auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->packetCount(), qint64(written.size()));
    for (qint64 rank = 0; rank < written.size(); ++rank)
        QCOMPARE(s->packetIdAtRank(rank), written.at(rank).id);
    QCOMPARE(s->packetIdAtRank(written.size()), qint64(0));
    QCOMPARE(s->packetIdAtRank(-1), qint64(0));
}
