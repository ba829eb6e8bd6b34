// SPDX-License-Identifier: GPL-3.0-or-later
// Format 4 chunks: packet and sample round trips of every field (edge values, both directions,
// addresses derived from the tuple or stored, options and payload snapshots of every length),
// hostile chunks (every truncation, bad layout, impossible lengths, unknown codec, damaged or
// truncated zstd data) refused per chunk without reading outside the buffer, a file whose
// damaged chunks are left out and counted while the rest reads, and a random-stream property:
// whatever SessionWriter is given, Session returns exactly.
#include "session/chunk_codec.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "session_sql.h"
#include "test_addresses.h"

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <arpa/inet.h>
#include <utility>

using namespace tcpscope;

class TestChunkCodec : public QObject
{
    Q_OBJECT

private slots:
    void packetsRoundTrip();
    void samplesRoundTrip();
    void hostileRawChunks();
    void hostileCompressedChunks();
    void damagedChunksInAFile();
    void randomStreamsThroughWriter();
};

namespace {

// The first field in which a and b differ, empty when none.
QString diff(const Packet &a, const Packet &b)
{
#define SAME(f)                                                                                    \
    if (!(a.f == b.f))                                                                             \
        return QStringLiteral(#f);
    SAME(id);
    SAME(connectionId);
    SAME(timeNs);
    SAME(sockId);
    SAME(ifindex);
    SAME(direction);
    SAME(parseStatus);
    SAME(sockState);
    SAME(family());
    SAME(srcAddr);
    SAME(dstAddr);
    SAME(srcPort);
    SAME(dstPort);
    SAME(seq);
    SAME(ack);
    SAME(tcpFlags);
    SAME(window);
    SAME(urgPtr);
    SAME(payloadLen);
    SAME(skbLen);
    SAME(gsoSegs);
    SAME(gsoSize);
    SAME(ttl);
    SAME(tos);
    SAME(vlanTci);
    SAME(vlanDepth);
    SAME(ipFrag);
    SAME(ipId);
    SAME(ipHdrLen);
    SAME(tcpHdrLen);
    SAME(options);
    SAME(payload);
    SAME(analysis);
    SAME(dupAckNum);
    SAME(relSeq);
    SAME(relAck);
    SAME(bytesInFlight);
    SAME(scaledWindow);
    SAME(ackRttNs);
#undef SAME
    return {};
}

QString diff(const TcpSample &a, const TcpSample &b)
{
#define SAME(f)                                                                                    \
    if (!(a.f == b.f))                                                                             \
        return QStringLiteral(#f);
    SAME(connectionId);
    SAME(timeNs);
    SAME(srttUs);
    SAME(rttvarUs);
    SAME(minRttUs);
    SAME(cwnd);
    SAME(ssthresh);
    SAME(sndWnd);
    SAME(rcvWnd);
    SAME(packetsOut);
    SAME(retransOut);
    SAME(lostOut);
    SAME(sackedOut);
    SAME(inFlight);
    SAME(mss);
    SAME(totalRetrans);
    SAME(bytesAcked);
    SAME(bytesReceived);
    SAME(deliveryRate);
    SAME(caState);
    SAME(fields);
#undef SAME
    return {};
}

Connection connection(qint64 id, int family)
{
    Connection c;
    c.id = id;
    c.localAddr =
        test::ip(family == 6 ? QStringLiteral("2001:db8::1") : QStringLiteral("10.0.0.1"));
    c.remoteAddr = test::ip(family == 6 ? QStringLiteral("::1") : QStringLiteral("127.0.0.1"));
    c.localPort = quint16(40000 + id);
    c.remotePort = 443;
    c.startNs = 1'700'000'000'000'000'000 + id;
    c.state = TcpState::Established;
    return c;
}

// A packet of connection c (0 = unjoined, its own addresses); `odd` gives it addresses that
// differ from the connection's (must be stored).
Packet packet(QRandomGenerator &r, qint64 id, qint64 ts, const Connection *c, bool odd)
{
    Packet p;
    p.id = id;
    p.connectionId = c ? c->id : 0;
    p.timeNs = ts;
    p.direction = r.bounded(2) ? PacketDirection::Out : PacketDirection::In;
    const chunk::Tuple t = c ? chunk::tupleOf(*c) : chunk::Tuple{};
    if (c && !odd) {
        const bool out = p.isOutgoing();
        p.srcAddr = out ? t.local : t.remote;
        p.dstAddr = out ? t.remote : t.local;
        p.srcPort = out ? t.localPort : t.remotePort;
        p.dstPort = out ? t.remotePort : t.localPort;
    } else {
        const AddressFamily family =
            c ? c->family() : (r.bounded(2) ? AddressFamily::IPv6 : AddressFamily::IPv4);
        std::array<quint8, 16> src{}, dst{};
        for (int i = 0; i < 16; ++i) {
            src[i] = quint8(r.bounded(256));
            dst[i] = quint8(r.bounded(256));
        }
        p.srcAddr = IpAddress(family, src.data());
        p.dstAddr = IpAddress(family, dst.data());
        p.srcPort = quint16(r.bounded(65536));
        p.dstPort = quint16(r.bounded(65536));
    }
    auto u32 = [&r] { return r.generate(); };
    p.sockId = r.generate64();
    p.ifindex = u32();
    p.parseStatus = quint8(r.bounded(9));
    p.sockState = quint8(r.bounded(13));
    p.seq = u32();
    p.ack = u32();
    p.relSeq = u32();
    p.relAck = u32();
    p.tcpFlags = quint8(r.bounded(256));
    p.window = quint16(r.bounded(65536));
    p.urgPtr = quint16(r.bounded(65536));
    p.payloadLen = u32();
    p.skbLen = u32();
    p.gsoSegs = quint16(r.bounded(65536));
    p.gsoSize = quint16(r.bounded(65536));
    p.ttl = quint8(r.bounded(256));
    p.tos = quint8(r.bounded(256));
    p.vlanTci = quint16(r.bounded(65536));
    p.vlanDepth = quint8(r.bounded(256));
    p.ipFrag = quint8(r.bounded(8));
    p.ipId = u32();
    p.ipHdrLen = quint8(r.bounded(256));
    p.tcpHdrLen = quint8(r.bounded(256));
    p.analysis = quint32(r.bounded(65536));
    p.dupAckNum = u32();
    auto optional = [&r]() -> qint64 {
        switch (r.bounded(4)) {
        case 0:
            return -1;
        case 1:
            return 0;
        case 2:
            return std::numeric_limits<qint64>::max();
        default:
            return qint64(r.generate64() >> 1);
        }
    };
    p.bytesInFlight = optional();
    p.scaledWindow = r.bounded(2) ? -1 : qint64(r.bounded(65536)) << r.bounded(15);
    p.ackRttNs = optional();
    QByteArray options(r.bounded(41), '\0');
    for (char &b : options)
        b = char(r.bounded(256));
    p.options = options;
    p.payload = QByteArray(r.bounded(3) ? 0 : r.bounded(257), '\0');
    for (char &b : p.payload)
        b = char(r.bounded(256));
    return p;
}

TcpSample sample(QRandomGenerator &r, qint64 connectionId, qint64 ts)
{
    TcpSample s;
    s.connectionId = connectionId;
    s.timeNs = ts;
    for (quint32 *f :
         {&s.srttUs, &s.rttvarUs, &s.minRttUs, &s.cwnd, &s.ssthresh, &s.sndWnd, &s.rcvWnd,
          &s.packetsOut, &s.retransOut, &s.lostOut, &s.sackedOut, &s.inFlight, &s.totalRetrans})
        *f = r.generate();
    s.mss = quint32(r.bounded(65536));
    s.bytesAcked = r.generate64();
    s.bytesReceived = r.generate64();
    s.deliveryRate = r.generate64();
    s.caState = quint8(r.bounded(5));
    s.fields = quint16(r.bounded(65536));
    return s;
}

QVector<Packet> somePackets(QRandomGenerator &r, const Connection *c, int n)
{
    QVector<Packet> out;
    qint64 id = 1 + r.bounded(1000), ts = 0;
    for (int i = 0; i < n; ++i) {
        id += 1 + r.bounded(3) * r.bounded(100000);    // gaps up to ~200k ids
        ts += qint64(r.bounded(2'000'000'000)) - 1000; // may go back a little
        out.append(packet(r, id, std::max<qint64>(ts, 0), c, r.bounded(10) == 0));
    }
    return out;
}

} // namespace

void TestChunkCodec::packetsRoundTrip()
{
    QRandomGenerator r(7);
    const Connection v4 = connection(5, 4), v6 = connection(6, 6);
    for (const Connection *c : {&v4, &v6, static_cast<const Connection *>(nullptr)}) {
        for (int n : {1, 2, 17, 1024}) {
            const QVector<Packet> in = somePackets(r, c, n);
            const chunk::Tuple tuple = c ? chunk::tupleOf(*c) : chunk::Tuple{};
            const QByteArray raw = chunk::encodePackets(in, tuple);
            QByteArray back;
            QString error;
            QVERIFY2(chunk::decompress(chunk::compress(raw, chunk::CodecZstd), chunk::CodecZstd,
                                       raw.size(), &back, &error),
                     qPrintable(error));
            QCOMPARE(back, raw);
            QVector<Packet> out;
            quint64 bad = 0;
            QVERIFY2(chunk::decodePackets(back, c ? c->id : 0, &out, &bad, &error),
                     qPrintable(error));
            QCOMPARE(bad, 0u);
            QCOMPARE(out.size(), in.size());
            for (int i = 0; i < n; ++i)
                QVERIFY2(
                    diff(out[i], in[i]).isEmpty(),
                    qPrintable(QStringLiteral("packet %1: %2").arg(i).arg(diff(out[i], in[i]))));
        }
    }
    // Sizes: a bulk transfer's headers-only packets (the common case) compress well.
    QVector<Packet> bulk;
    const Connection c = connection(9, 4);
    const chunk::Tuple t = chunk::tupleOf(c);
    for (int i = 0; i < 1024; ++i) {
        Packet p;
        p.id = 100 + i * 3;
        p.connectionId = 9;
        p.timeNs = 1'700'000'000'000'000'000 + i * 11'000;
        p.direction = i % 3 == 2 ? PacketDirection::In : PacketDirection::Out;
        const bool out = p.isOutgoing();
        p.srcAddr = out ? t.local : t.remote;
        p.dstAddr = out ? t.remote : t.local;
        p.srcPort = out ? t.localPort : t.remotePort;
        p.dstPort = out ? t.remotePort : t.localPort;
        p.seq = out ? 1000 + quint32(i) * 1448 : 5000;
        p.ack = out ? 5000 : 1000 + quint32(i) * 1448;
        p.relSeq = out ? 1 + quint32(i) * 1448 : 1;
        p.relAck = out ? 1 : 1 + quint32(i) * 1448;
        p.tcpFlags = 0x10;
        p.window = 512;
        p.payloadLen = out ? 1448 : 0;
        p.skbLen = p.payloadLen + 52;
        p.ttl = 64;
        p.ipHdrLen = 20;
        p.tcpHdrLen = 32;
        p.ipId = quint32(i);
        p.sockId = 0x1234;
        p.options =
            (QByteArray("\x01\x01\x08\x0a", 4) + QByteArray::number(1000000 + i / 4)).left(12);
        p.scaledWindow = 512 << 7;
        p.bytesInFlight = out ? 1448 * (i % 20) : -1;
        bulk.append(p);
    }
    const QByteArray packed = chunk::compress(chunk::encodePackets(bulk, t), chunk::CodecZstd);
    qInfo("bulk transfer: %.1f bytes/packet in a chunk of 1024", double(packed.size()) / 1024);
    QVERIFY(packed.size() < 40 * 1024);
}

void TestChunkCodec::samplesRoundTrip()
{
    QRandomGenerator r(11);
    QVector<TcpSample> in;
    qint64 ts = 5;
    for (int i = 0; i < 300; ++i) {
        ts += r.bounded(1'000'000);
        in.append(sample(r, 3, ts));
    }
    const QByteArray raw = chunk::encodeSamples(in);
    QVector<TcpSample> out;
    quint64 bad = 0;
    QString error;
    QVERIFY2(chunk::decodeSamples(raw, 3, &out, &bad, &error), qPrintable(error));
    QCOMPARE(bad, 0u);
    QCOMPARE(out.size(), in.size());
    for (int i = 0; i < in.size(); ++i)
        QVERIFY2(diff(out[i], in[i]).isEmpty(), qPrintable(diff(out[i], in[i])));
}

void TestChunkCodec::hostileRawChunks()
{
    QRandomGenerator r(3);
    const Connection c = connection(1, 4);
    const QByteArray raw = chunk::encodePackets(somePackets(r, &c, 20), chunk::tupleOf(c));
    QVector<Packet> out;
    quint64 bad = 0;
    QString error;
    // Every truncation and every extension is a size mismatch, never a read past the end.
    for (int len = 0; len < raw.size(); ++len) {
        out.clear();
        QVERIFY(!chunk::decodePackets(raw.left(len), 1, &out, &bad, &error));
        QVERIFY(!error.isEmpty());
    }
    QVERIFY(!chunk::decodePackets(raw + "x", 1, &out, &bad, &error));
    QByteArray wrong = raw;
    wrong[0] = 9; // layout
    QVERIFY(!chunk::decodePackets(wrong, 1, &out, &bad, &error));
    QVERIFY(error.contains(QLatin1String("layout")));
    wrong = raw;
    const quint32 huge = 0xffffffffu; // count
    std::memcpy(wrong.data() + 4, &huge, 4);
    QVERIFY(!chunk::decodePackets(wrong, 1, &out, &bad, &error));
    // A sample chunk is not a packet chunk.
    QVERIFY(!chunk::decodePackets(chunk::encodeSamples({sample(r, 1, 1)}), 1, &out, &bad, &error));
    // Random bytes of every length up to 4 KiB: errors, no crash.
    for (int i = 0; i < 2000; ++i) {
        QByteArray junk(r.bounded(4096), '\0');
        for (char &b : junk)
            b = char(r.bounded(256));
        if (junk.size() > 1)
            junk[0] = 1, junk[1] = char(1 + r.bounded(2));
        chunk::decodePackets(junk, 1, &out, &bad, &error);
        QVector<TcpSample> samples;
        chunk::decodeSamples(junk, 1, &samples, &bad, &error);
    }
}

void TestChunkCodec::hostileCompressedChunks()
{
    QRandomGenerator r(5);
    const Connection c = connection(1, 6);
    const QByteArray raw = chunk::encodePackets(somePackets(r, &c, 50), chunk::tupleOf(c));
    const QByteArray z = chunk::compress(raw, chunk::CodecZstd);
    QByteArray out;
    QString error;
    QVERIFY(!chunk::decompress(z, 7, raw.size(), &out, &error));
    QVERIFY(error.contains(QLatin1String("codec 7")));
    QVERIFY(!chunk::decompress(z, chunk::CodecZstd, raw.size() + 1, &out, &error));
    QVERIFY(!chunk::decompress(z, chunk::CodecZstd, qint64(1) << 40, &out, &error));
    QVERIFY(!chunk::decompress(z, chunk::CodecZstd, -1, &out, &error));
    for (int len = 0; len < z.size(); len += 7)
        QVERIFY(!chunk::decompress(z.left(len), chunk::CodecZstd, raw.size(), &out, &error));
    QVERIFY(!chunk::decompress(raw.left(10), chunk::CodecNone, raw.size(), &out, &error));
    // Flipped bytes: an error, or bytes of the promised size that then decode or fail cleanly.
    for (int i = 0; i < 500; ++i) {
        QByteArray damaged = z;
        damaged[r.bounded(damaged.size())] = char(r.bounded(256));
        if (chunk::decompress(damaged, chunk::CodecZstd, raw.size(), &out, &error)) {
            QCOMPARE(out.size(), raw.size());
            QVector<Packet> packets;
            quint64 bad = 0;
            chunk::decodePackets(out, 1, &packets, &bad, &error);
        }
    }
}

void TestChunkCodec::damagedChunksInAFile()
{
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("d.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    QRandomGenerator r(9);
    QVector<Packet> all;
    for (qint64 id = 1; id <= 4; ++id) {
        const Connection c = connection(id, 4);
        writer->writeConnection(c);
        for (int i = 0; i < 10; ++i)
            all.append(packet(r, id * 100 + i, id * 1000 + i, &c, false));
    }
    writer->writePackets(all);
    QVERIFY2(writer->close(&error), qPrintable(error));
    testing::sql(file,
                 "UPDATE packet_chunks SET data = substr(data, 1, 10) WHERE connection_id = 1;"
                 "UPDATE packet_chunks SET codec = 7 WHERE connection_id = 2;"
                 "UPDATE packet_chunks SET raw_bytes = 5 WHERE connection_id = 3;");
    const auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY(s->packets(1).isEmpty());
    QVERIFY(s->packets(2).isEmpty());
    QVERIFY(s->packets(3).isEmpty());
    QCOMPARE(s->packets(4).size(), 10);
    QCOMPARE(s->packetsFromId(1, 1000).size(), 10);
    QVERIFY(s->error().isEmpty()); // the file is fine; three chunks are not
    QVERIFY(s->badChunks() >= 3);
    QVERIFY2(s->badChunkError().startsWith(QLatin1String("packet chunk ")),
             qPrintable(s->badChunkError()));
    qInfo("%s", qPrintable(s->badChunkError()));
}

void TestChunkCodec::randomStreamsThroughWriter()
{
    // Random connections, interleaved packets (joined and not) and samples in random batches:
    // every value written reads back equal, through chunks cut by size and by close.
    for (quint32 seed : {1u, 2u, 3u}) {
        QRandomGenerator r(seed);
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("p.tcpscope"));
        QString error;
        auto writer = SessionWriter::create(file, &error);
        QVERIFY2(writer, qPrintable(error));
        QVector<Connection> conns;
        for (qint64 id = 1; id <= 20; ++id)
            conns.append(connection(id, r.bounded(2) ? 6 : 4));
        for (const Connection &c : conns)
            writer->writeConnection(c);
        QVector<Packet> packets;
        QVector<TcpSample> samples;
        qint64 id = 0, ts = 1'700'000'000'000'000'000;
        QVector<Packet> batch;
        for (int i = 0; i < 5000; ++i) {
            ts += 1 + r.bounded(100000); // distinct times: samples of all connections merge by time
            const int which = r.bounded(21);
            const Connection *c = which == 0 ? nullptr : &conns[which - 1];
            batch.append(packet(r, ++id, ts, c, r.bounded(20) == 0));
            if (r.bounded(50) == 0 || i == 4999) {
                packets += batch;
                // Handed over: the writer thread reads the shared buffer after this returns.
                writer->writePackets(std::exchange(batch, {}));
            }
            if (r.bounded(10) == 0) {
                const TcpSample t = sample(r, r.bounded(21), ts);
                writer->writeKernelData(KernelData{{t}, {}, {}, {}});
                samples.append(t);
            }
            if (i == 2500) { // a close mid-way: its buffer becomes a chunk
                Connection closed = conns[4];
                closed.endNs = ts;
                writer->writeConnection(closed);
            }
        }
        QVERIFY2(writer->close(&error), qPrintable(error));
        const auto s = Session::open(file, &error);
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->packetCount(), qint64(packets.size()));
        QVector<Packet> back;
        s->forEachPacket(-1, [&back](const Packet &p) {
            back.append(p);
            return true;
        });
        QCOMPARE(back.size(), packets.size());
        for (int i = 0; i < packets.size(); ++i)
            QVERIFY2(diff(back[i], packets[i]).isEmpty(),
                     qPrintable(QStringLiteral("seed %1 packet %2: %3")
                                    .arg(seed)
                                    .arg(packets[i].id)
                                    .arg(diff(back[i], packets[i]))));
        for (const Connection &c : conns) {
            const QVector<Packet> mine = s->packets(c.id);
            qsizetype n = 0;
            for (const Packet &p : packets)
                n += p.connectionId == c.id ? 1 : 0;
            QCOMPARE(mine.size(), n);
        }
        QVector<TcpSample> sback;
        s->forEachSample(-1, [&sback](const TcpSample &t) {
            sback.append(t);
            return true;
        });
        QCOMPARE(sback.size(), samples.size());
        for (int i = 0; i < samples.size(); ++i)
            QVERIFY2(diff(sback[i], samples[i]).isEmpty(), qPrintable(diff(sback[i], samples[i])));
        QCOMPARE(s->valuesOutOfRange(), 0u);
        QCOMPARE(s->badChunks(), 0u);
        quint64 perSecond = 0;
        for (const SecondBucket &b : s->seconds())
            perSecond += b.packets;
        QCOMPARE(perSecond, quint64(packets.size()));
    }
}

QTEST_GUILESS_MAIN(TestChunkCodec)
#include "test_chunk_codec.moc"
