// SPDX-License-Identifier: GPL-3.0-or-later
// Chunk compression on real-looking packets: sizes and speeds of zstd (levels 1, 3, 9) and lz4
// (fast, HC) for chunks of 256, 1024 and 4096 packets, and bytes per packet of a whole session
// file written by SessionWriter. The traffic: bulk transfers (MSS segments, an ACK every second
// segment, TCP timestamps, jittered arrival times) and short request/response connections.
// Usage: bench_chunk_codec [packets, default 400000]. Prints a table; no verdicts.
#include "session/chunk_codec.h"
#include "session/session_writer.h"
#include "test_addresses.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <cstdio>
#include <zstd.h>
#ifdef TCPSCOPE_BENCH_LZ4
#include <lz4.h>
#include <lz4hc.h>
#endif

using namespace tcpscope;

namespace {

Connection conn(qint64 id)
{
    Connection c;
    c.id = id;
    c.localAddr = test::ip(QStringLiteral("10.1.0.2"));
    c.remoteAddr = test::ip(QStringLiteral("10.1.0.%1").arg(3 + id % 200));
    c.localPort = quint16(32768 + id % 28000);
    c.remotePort = id % 5 ? 443 : 5201;
    c.startNs = 1'764'000'000'000'000'000 + id * 1000;
    return c;
}

// One connection's packets; bulk ones are long, the others a handshake, a request, a
// response and the close.
QVector<Packet> traffic(QRandomGenerator &r, const Connection &c, bool bulk, qint64 *id, qint64 *ts,
                        int count)
{
    const chunk::Tuple t = chunk::tupleOf(c);
    QVector<Packet> out;
    quint32 seq = r.generate(), ack = r.generate(), tsval = r.generate();
    const quint32 isnOut = seq, isnIn = ack;
    for (int i = 0; i < count; ++i) {
        Packet p;
        p.id = (*id += 1 + r.bounded(3)); // other connections' packets in between
        p.connectionId = c.id;
        *ts += bulk ? 4000 + r.bounded(8000) : 20000 + r.bounded(200000);
        p.timeNs = *ts;
        const bool out_ = bulk ? (i % 3 != 2) : (i % 2 == 0);
        p.direction = out_ ? PacketDirection::Out : PacketDirection::In;
        p.srcAddr = out_ ? t.local : t.remote;
        p.dstAddr = out_ ? t.remote : t.local;
        p.srcPort = out_ ? t.localPort : t.remotePort;
        p.dstPort = out_ ? t.remotePort : t.localPort;
        const quint32 len =
            out_ ? (bulk ? 1448 : 200 + r.bounded(800)) : (bulk ? 0 : r.bounded(4000));
        p.seq = out_ ? seq : ack;
        p.ack = out_ ? ack : seq;
        (out_ ? seq : ack) += len;
        p.relSeq = p.seq - (out_ ? isnOut : isnIn);
        p.relAck = p.ack - (out_ ? isnIn : isnOut);
        p.tcpFlags = i == 0 ? 0x02 : (len ? 0x18 : 0x10);
        p.window = quint16(500 + r.bounded(30));
        p.payloadLen = len;
        p.skbLen = len + 52;
        p.ttl = 64;
        p.ipHdrLen = 20;
        p.tcpHdrLen = 32;
        p.ipId = quint32(i + r.bounded(2));
        p.ipFrag = 1;
        p.sockId = 0x9000'0000ULL + quint64(c.id);
        p.sockState = 1;
        p.ifindex = 2;
        tsval += r.bounded(3);
        QByteArray options("\x01\x01\x08\x0a", 4);
        options.append(reinterpret_cast<const char *>(&tsval), 4);
        options.append(reinterpret_cast<const char *>(&tsval), 4);
        p.options = options;
        p.scaledWindow = qint64(p.window) << 7;
        p.bytesInFlight = out_ ? qint64(r.bounded(64)) * 1448 : -1;
        p.ackRttNs = out_ ? -1 : 20000 + r.bounded(50000);
        out.append(p);
    }
    return out;
}

struct Result
{
    qint64 bytes = 0;
    qint64 compressNs = 0, decompressNs = 0;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int total = argc > 1 ? QByteArray(argv[1]).toInt() : 400000;
    QRandomGenerator r(42);
    QVector<QPair<Connection, QVector<Packet>>> conns;
    qint64 id = 0, made = 0;
    for (qint64 cid = 1; made < total; ++cid) {
        const bool bulk = cid % 20 == 0;
        qint64 ts = 1'764'000'000'000'000'000 + cid * 1'000'000;
        const Connection c = conn(cid);
        conns.append({c, traffic(r, c, bulk, &id, &ts, bulk ? 20000 : 10 + r.bounded(20))});
        made += conns.last().second.size();
    }
    std::printf("%lld packets in %lld connections (5%% bulk transfers)\n", made,
                qint64(conns.size()));
    std::printf("%-6s %-10s %12s %14s %14s\n", "N", "codec", "bytes/packet", "compress MB/s",
                "decompress MB/s");
    for (int n : {256, 1024, 4096}) {
        QVector<QByteArray> raws;
        qint64 rawTotal = 0;
        for (const auto &[c, packets] : conns) {
            for (qsizetype i = 0; i < packets.size(); i += n) {
                raws.append(chunk::encodePackets(packets.mid(i, n), chunk::tupleOf(c)));
                rawTotal += raws.last().size();
            }
        }
        std::printf("%-6d %-10s %12.1f\n", n, "raw", double(rawTotal) / made);
        auto run = [&](const char *name, auto compress, auto decompress) {
            Result res;
            QElapsedTimer t;
            QVector<QByteArray> packed;
            t.start();
            for (const QByteArray &raw : raws)
                packed.append(compress(raw));
            res.compressNs = t.nsecsElapsed();
            for (const QByteArray &p : packed)
                res.bytes += p.size();
            t.restart();
            for (qsizetype i = 0; i < packed.size(); ++i)
                decompress(packed[i], raws[i].size());
            res.decompressNs = t.nsecsElapsed();
            std::printf("%-6d %-10s %12.1f %14.0f %14.0f\n", n, name, double(res.bytes) / made,
                        rawTotal / 1e6 / (res.compressNs / 1e9),
                        rawTotal / 1e6 / (res.decompressNs / 1e9));
        };
        for (int level : {1, 3, 9}) {
            const QByteArray name = "zstd-" + QByteArray::number(level);
            run(
                name.constData(),
                [level](const QByteArray &raw) {
                    QByteArray out(qsizetype(ZSTD_compressBound(size_t(raw.size()))), '\0');
                    out.resize(
                        qsizetype(ZSTD_compress(out.data(), size_t(out.size()), raw.constData(),
                                                size_t(raw.size()), level)));
                    return out;
                },
                [](const QByteArray &z, qsizetype size) {
                    QByteArray out(size, '\0');
                    ZSTD_decompress(out.data(), size_t(size), z.constData(), size_t(z.size()));
                });
        }
#ifdef TCPSCOPE_BENCH_LZ4
        for (bool hc : {false, true}) {
            run(
                hc ? "lz4-hc" : "lz4",
                [hc](const QByteArray &raw) {
                    QByteArray out(LZ4_compressBound(int(raw.size())), '\0');
                    const int k = hc ? LZ4_compress_HC(raw.constData(), out.data(), int(raw.size()),
                                                       int(out.size()), LZ4HC_CLEVEL_DEFAULT)
                                     : LZ4_compress_default(raw.constData(), out.data(),
                                                            int(raw.size()), int(out.size()));
                    out.resize(k);
                    return out;
                },
                [](const QByteArray &z, qsizetype size) {
                    QByteArray out(size, '\0');
                    LZ4_decompress_safe(z.constData(), out.data(), int(z.size()), int(size));
                });
        }
#endif
    }
    // The whole file, as SessionWriter writes it (packets in id order across connections).
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("bench.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    if (!writer) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    QVector<Packet> all;
    for (const auto &[c, packets] : conns) {
        writer->writeConnection(c);
        all += packets;
    }
    std::sort(all.begin(), all.end(), [](const Packet &a, const Packet &b) { return a.id < b.id; });
    QElapsedTimer t;
    t.start();
    for (qsizetype i = 0; i < all.size(); i += 4096)
        writer->writePackets(all.mid(i, 4096));
    if (!writer->close(&error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const double secs = t.nsecsElapsed() / 1e9;
    std::printf("session file: %.1f bytes/packet (%lld bytes, connections included), written at "
                "%.0f packets/s\n",
                double(QFileInfo(file).size()) / made, QFileInfo(file).size(), made / secs);
    return 0;
}
