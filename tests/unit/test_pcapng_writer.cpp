// SPDX-License-Identifier: GPL-3.0-or-later
// writePcapng on hand-built packets: the file is parsed back block by block (lengths, option
// TLVs, EPB fields) and the rebuilt IPv4/IPv6 + TCP headers are checked byte by byte, as are
// the options naming the owner process (epb_processid_threadid, custom options); tshark reads
// them without a complaint.
#include "export/pcapng_writer.h"
#include "tcp_analyzer_real_capture.h"
#include "tcpscope_records.h"
#include "test_addresses.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>
#include <csignal>
#include <sys/resource.h>

using namespace tcpscope;

namespace {

struct Block
{
    quint32 type = 0;
    QByteArray body; // between the leading length and the trailing length
};

struct Options
{
    QMultiHash<quint16, QByteArray> values;
    bool ended = false;
};

struct Epb
{
    quint32 interfaceId = 0;
    quint64 ts = 0;
    quint32 capLen = 0, origLen = 0;
    QByteArray data;
    Options options;
};

struct PcapngFile
{
    QVector<Block> blocks;
    QString error;
};

quint32 le32(const QByteArray &b, int at)
{
    return qFromLittleEndian<quint32>(reinterpret_cast<const uchar *>(b.constData()) + at);
}
quint16 le16(const QByteArray &b, int at)
{
    return qFromLittleEndian<quint16>(reinterpret_cast<const uchar *>(b.constData()) + at);
}
quint16 be16(const QByteArray &b, int at)
{
    return quint16((quint8(b[at]) << 8) | quint8(b[at + 1]));
}
quint32 be32(const QByteArray &b, int at)
{
    return (quint32(be16(b, at)) << 16) | be16(b, at + 2);
}

// Strict reader: every block's leading and trailing lengths agree, are multiples of 4 and stay
// inside the file; anything else is an error, so a sloppy writer cannot pass.
PcapngFile parseFile(const QString &path)
{
    PcapngFile f;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        f.error = QStringLiteral("cannot open");
        return f;
    }
    const QByteArray all = file.readAll();
    int at = 0;
    while (at < all.size()) {
        if (all.size() - at < 12) {
            f.error = QStringLiteral("trailing bytes at %1").arg(at);
            return f;
        }
        const quint32 type = le32(all, at);
        const quint32 len = le32(all, at + 4);
        if (len < 12 || len % 4 || at + qint64(len) > all.size()) {
            f.error = QStringLiteral("bad block length %1 at %2").arg(len).arg(at);
            return f;
        }
        if (le32(all, at + int(len) - 4) != len) {
            f.error = QStringLiteral("trailing length differs at %1").arg(at);
            return f;
        }
        f.blocks.append({type, all.mid(at + 8, int(len) - 12)});
        at += int(len);
    }
    return f;
}

// Parses option TLVs from body[at..]; false on a TLV running past the body or bad padding.
bool parseOptions(const QByteArray &body, int at, Options *out)
{
    while (at < body.size()) {
        if (body.size() - at < 4)
            return false;
        const quint16 code = le16(body, at);
        const quint16 len = le16(body, at + 2);
        const int padded = (len + 3) / 4 * 4;
        if (at + 4 + padded > body.size())
            return false;
        if (code == 0) {
            out->ended = len == 0 && at + 4 == body.size();
            return out->ended;
        }
        for (int i = at + 4 + len; i < at + 4 + padded; ++i) {
            if (body[i] != '\0')
                return false;
        }
        out->values.insert(code, body.mid(at + 4, len));
        at += 4 + padded;
    }
    return false; // no opt_endofopt
}

Epb parseEpb(const Block &b)
{
    Epb e;
    e.interfaceId = le32(b.body, 0);
    e.ts = (quint64(le32(b.body, 4)) << 32) | le32(b.body, 8);
    e.capLen = le32(b.body, 12);
    e.origLen = le32(b.body, 16);
    e.data = b.body.mid(20, int(e.capLen));
    const int optAt = 20 + int((e.capLen + 3) / 4 * 4);
    if (!parseOptions(b.body, optAt, &e.options))
        e.options.ended = false;
    return e;
}

quint16 checksum(const QByteArray &header)
{
    quint32 sum = 0;
    for (int i = 0; i + 1 < header.size(); i += 2)
        sum += be16(header, i);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return quint16(~sum & 0xFFFF);
}

Packet v4Syn()
{
    Packet p;
    p.id = 1;
    p.connectionId = 1;
    p.timeNs = 1'700'000'000'123'456'789LL;
    p.sockId = 0xabc;
    p.ifindex = 1;
    p.direction = PacketDirection::Out;
    p.srcAddr = test::ip4(127, 0, 0, 1);
    p.dstAddr = test::ip4(127, 0, 0, 2);
    p.srcPort = 40000;
    p.dstPort = 5201;
    p.seq = 0x11223344;
    p.ack = 0;
    p.tcpFlags = TS_TCP_SYN | TS_TCP_ECE | TS_TCP_CWR;
    p.window = 65495;
    p.ttl = 64;
    p.tos = 0x02; // ECT(0)
    p.ipId = 0x1234;
    p.ipFrag = 0x1; // DF
    p.ipHdrLen = 20;
    // MSS 65495, SACK permitted, timestamps, NOP, window scale 7: 20 bytes, data offset 10.
    p.options = QByteArray::fromHex("0204ffd70402080a0001e2400000000001030307");
    p.tcpHdrLen = 40;
    return p;
}

Packet v6Data()
{
    Packet p;
    p.id = 2;
    p.connectionId = 2;
    p.timeNs = 1'700'000'001'000'000'001LL;
    p.sockId = 0xdef;
    p.ifindex = 1;
    p.direction = PacketDirection::In;
    p.srcAddr = test::ip(QStringLiteral("::1"));
    p.dstAddr = test::ip(QStringLiteral("2001:db8::2"));
    p.srcPort = 443;
    p.dstPort = 50000;
    p.seq = 0xfffffff0;
    p.ack = 77;
    p.tcpFlags = TS_TCP_ACK | TS_TCP_PSH | TS_TCP_URG | TS_TCP_FIN | TS_TCP_RST;
    p.window = 512;
    p.urgPtr = 3;
    p.ttl = 63;
    p.tos = 0xb9;     // DSCP 46, ECN 1
    p.ipId = 0xABCDE; // flow label
    p.ipHdrLen = 40;
    p.tcpHdrLen = 20;
    p.payloadLen = 1000;
    p.payload = QByteArray("hello world");
    return p;
}

SessionData session()
{
    SessionData s;
    s.info.kernelRelease = QStringLiteral("6.18.0");
    s.info.hostname = QStringLiteral("box");
    s.info.tcpscopeVersion = QStringLiteral("0.3");
    s.info.interfaces = {{1, QStringLiteral("lo"), TS_ATTACH_TCX},
                         {2, QStringLiteral("eth0"), TS_ATTACH_TCX}};
    Connection c1;
    c1.id = 1;
    c1.pid = 1234;
    c1.comm = QStringLiteral("curl");
    c1.cgroupId = 0x1122334455;
    Connection c2;
    c2.id = 2;
    c2.pid = 99;
    c2.comm = QStringLiteral("nginx");
    s.connections = {c1, c2};
    s.packets = {v4Syn(), v6Data()};
    return s;
}

} // namespace

class TestPcapngWriter : public QObject
{
    Q_OBJECT

private slots:
    void blocksAndInterfaces();
    void ipv4HeaderAndOptions();
    void ipv6HeaderAndSnapshot();
    void filterByConnection();
    void unknownInterfaceAndUnjoined();
    void malformedPackets();
    void loopbackCopiesDropped();
    void tsharkAnalysisOfRealCapture();
    void unwritableDirectory();
    void diskFullLeavesOldFile();
    void processOptionsBytes();
    void hostNameOption();
    void unknownOwnerHasNoProcessOptions();
    void pidAndCommOnlyWriter();
    void tsharkReadsProcessOptions();

private:
    QVector<Block> write(const SessionData &s, const QVector<qint64> &ids = {},
                         qint64 expectWritten = -2);
    QTemporaryDir m_dir;
};

QVector<Block> TestPcapngWriter::write(const SessionData &s, const QVector<qint64> &ids,
                                       qint64 expectWritten)
{
    const QString path = m_dir.filePath(QStringLiteral("out.pcapng"));
    QString error;
    const qint64 n = writePcapng(s, path, ids, &error);
    if (expectWritten != -2)
        [&] { QCOMPARE(n, expectWritten); }();
    [&] { QVERIFY2(n >= 0, qPrintable(error)); }();
    const PcapngFile f = parseFile(path);
    [&] { QVERIFY2(f.error.isEmpty(), qPrintable(f.error)); }();
    return f.blocks;
}

void TestPcapngWriter::blocksAndInterfaces()
{
    const auto blocks = write(session(), {}, 2);
    QCOMPARE(blocks.size(), 1 + 2 + 2);
    // SHB: byte-order magic, version 1.0, unknown section length, options end properly.
    QCOMPARE(blocks[0].type, 0x0A0D0D0Au);
    QCOMPARE(le32(blocks[0].body, 0), 0x1A2B3C4Du);
    QCOMPARE(le16(blocks[0].body, 4), quint16(1));
    QCOMPARE(le16(blocks[0].body, 6), quint16(0));
    QCOMPARE(le32(blocks[0].body, 8), 0xFFFFFFFFu);
    Options shb;
    QVERIFY(parseOptions(blocks[0].body, 16, &shb));
    QCOMPARE(shb.values.value(3), QByteArray("Linux 6.18.0"));
    QCOMPARE(shb.values.value(4), QByteArray("tcpscope 0.3"));
    QVERIFY(shb.values.value(1).contains("checksum not captured"));

    const QStringList names = {QStringLiteral("lo"), QStringLiteral("eth0")};
    for (int i = 0; i < 2; ++i) {
        const Block &idb = blocks[1 + i];
        QCOMPARE(idb.type, 1u);
        QCOMPARE(le16(idb.body, 0), quint16(101)); // LINKTYPE_RAW
        Options o;
        QVERIFY(parseOptions(idb.body, 8, &o));
        QCOMPARE(QString::fromUtf8(o.values.value(2)), names[i]);
        QCOMPARE(o.values.value(9), QByteArray(1, char(9)));
    }
    QCOMPARE(blocks[3].type, 6u);
    QCOMPARE(blocks[4].type, 6u);
}

void TestPcapngWriter::ipv4HeaderAndOptions()
{
    const auto blocks = write(session(), {1}, 1);
    QCOMPARE(blocks.size(), 4);
    const Epb e = parseEpb(blocks[3]);
    QVERIFY(e.options.ended);
    QCOMPARE(e.interfaceId, 0u); // lo
    QCOMPARE(e.ts, quint64(1'700'000'000'123'456'789LL));
    QCOMPARE(e.capLen, 60u);
    QCOMPARE(e.origLen, 60u);
    const QByteArray &d = e.data;
    // IPv4 header
    QCOMPARE(quint8(d[0]), quint8(0x45));
    QCOMPARE(quint8(d[1]), quint8(0x02));
    QCOMPARE(be16(d, 2), quint16(60));
    QCOMPARE(be16(d, 4), quint16(0x1234));
    QCOMPARE(be16(d, 6), quint16(0x4000)); // DF
    QCOMPARE(quint8(d[8]), quint8(64));
    QCOMPARE(quint8(d[9]), quint8(6));
    QVERIFY(be16(d, 10) != 0);
    QCOMPARE(checksum(d.left(20)), quint16(0)); // a correct checksum sums to 0xFFFF
    QCOMPARE(d.mid(12, 4), QByteArray::fromHex("7f000001"));
    QCOMPARE(d.mid(16, 4), QByteArray::fromHex("7f000002"));
    // TCP header
    const QByteArray t = d.mid(20);
    QCOMPARE(be16(t, 0), quint16(40000));
    QCOMPARE(be16(t, 2), quint16(5201));
    QCOMPARE(be32(t, 4), 0x11223344u);
    QCOMPARE(be32(t, 8), 0u);
    QCOMPARE(quint8(t[12]) >> 4, 10);
    QCOMPARE(quint8(t[13]), quint8(0xC2)); // CWR|ECE|SYN
    QCOMPARE(be16(t, 14), quint16(65495));
    QCOMPARE(t.mid(20), v4Syn().options.toByteArray());
    QCOMPARE(QString::fromUtf8(e.options.values.value(1)),
             QStringLiteral("pid=1234 comm=curl conn=1 sock=0xabc dir=out"));
    QCOMPARE(le32(e.options.values.value(2), 0), 2u); // epb_flags: outbound
}

void TestPcapngWriter::ipv6HeaderAndSnapshot()
{
    const auto blocks = write(session(), {2}, 1);
    QCOMPARE(blocks.size(), 4);
    const Epb e = parseEpb(blocks[3]);
    QVERIFY(e.options.ended);
    QCOMPARE(e.ts, quint64(1'700'000'001'000'000'001LL));
    QCOMPARE(e.capLen, 40u + 20u + 11u); // snapshot only
    QCOMPARE(e.origLen, 40u + 20u + 1000u);
    const QByteArray &d = e.data;
    QCOMPARE(be32(d, 0), (6u << 28) | (0xb9u << 20) | 0xABCDEu);
    QCOMPARE(be16(d, 4), quint16(1020));
    QCOMPARE(quint8(d[6]), quint8(6));
    QCOMPARE(quint8(d[7]), quint8(63));
    QCOMPARE(d.mid(8, 16), QByteArray::fromHex("00000000000000000000000000000001"));
    QCOMPARE(d.mid(24, 16), QByteArray::fromHex("20010db8000000000000000000000002"));
    const QByteArray t = d.mid(40);
    QCOMPARE(be16(t, 0), quint16(443));
    QCOMPARE(be16(t, 2), quint16(50000));
    QCOMPARE(be32(t, 4), 0xfffffff0u);
    QCOMPARE(be32(t, 8), 77u);
    QCOMPARE(quint8(t[12]) >> 4, 5);
    QCOMPARE(quint8(t[13]), quint8(0x3D)); // URG|ACK|PSH|RST|FIN
    QCOMPARE(be16(t, 14), quint16(512));
    QCOMPARE(be16(t, 18), quint16(3));
    QCOMPARE(t.mid(20), QByteArray("hello world"));
    QCOMPARE(QString::fromUtf8(e.options.values.value(1)),
             QStringLiteral("pid=99 comm=nginx conn=2 sock=0xdef dir=in"));
    QCOMPARE(le32(e.options.values.value(2), 0), 1u); // inbound
    // The receiving socket's owner, thread not known.
    QCOMPARE(e.options.values.value(8), QByteArray::fromHex("63000000 00000000"));
}

void TestPcapngWriter::filterByConnection()
{
    SessionData s = session();
    Packet third = v4Syn();
    third.id = 3;
    third.connectionId = 2;
    s.packets.append(third);
    QCOMPARE(write(s, {2}, 2).size(), 3 + 2);
    QCOMPARE(write(s, {1, 2}, 3).size(), 3 + 3);
    QCOMPARE(write(s, {42}, 0).size(), 3); // nothing matches: header blocks only
    QCOMPARE(write(s, {}, 3).size(), 3 + 3);
}

void TestPcapngWriter::unknownInterfaceAndUnjoined()
{
    SessionData s = session();
    Packet p = v4Syn();
    p.ifindex = 7;
    p.connectionId = 0;
    p.sockId = 0;
    p.gsoSegs = 4;
    p.gsoSize = 1448;
    s.packets = {p};
    const auto blocks = write(s, {}, 1);
    QCOMPARE(blocks.size(), 1 + 3 + 1); // lo, eth0, and one for ifindex 7
    Options o;
    QVERIFY(parseOptions(blocks[3].body, 8, &o));
    QCOMPARE(o.values.value(2), QByteArray("ifindex7"));
    const Epb e = parseEpb(blocks[4]);
    QCOMPARE(e.interfaceId, 2u);
    QCOMPARE(QString::fromUtf8(e.options.values.value(1)),
             QStringLiteral("pid=0 comm=- conn=0 sock=0x0 dir=out gso=4x1448"));
}

void TestPcapngWriter::malformedPackets()
{
    SessionData s = session();
    Packet badOffset = v4Syn();
    badOffset.parseStatus = TS_PARSE_BAD_TCP_HDR_LEN;
    badOffset.tcpHdrLen = 12; // data offset 3: bogus, written as seen
    badOffset.options.clear();
    Packet truncOpts = v4Syn();
    truncOpts.parseStatus = TS_PARSE_TRUNC_OPTIONS;
    truncOpts.options = truncOpts.options.toByteArray().left(6);
    Packet frag = v4Syn();
    frag.parseStatus = TS_PARSE_FRAGMENT;
    frag.ipFrag = 0x4;
    frag.ipHdrLen = 24; // IP options present on the wire
    s.packets = {badOffset, truncOpts, frag};
    const auto blocks = write(s, {}, 3);
    QCOMPARE(blocks.size(), 3 + 3);

    const Epb a = parseEpb(blocks[3]);
    QCOMPARE(a.capLen, 40u);
    QCOMPARE(quint8(a.data[20 + 12]) >> 4, 3);
    QVERIFY(a.options.values.value(1).endsWith("dir=out malformed: bad TCP data offset"));

    const Epb b = parseEpb(blocks[4]);
    QCOMPARE(b.capLen, 20u + 20u + 6u); // the packet ended inside its options
    QCOMPARE(b.origLen, 20u + 40u);
    QCOMPARE(b.data.mid(40), truncOpts.options.toByteArray());
    QVERIFY(b.options.values.value(1).contains("malformed: TCP options truncated"));

    const Epb c = parseEpb(blocks[5]);
    QCOMPARE(c.capLen, 24u); // IP header only (options as NOPs), no TCP header to rebuild
    QCOMPARE(quint8(c.data[0]), quint8(0x46));
    QCOMPARE(checksum(c.data.left(24)), quint16(0));
    QCOMPARE(c.data.mid(20, 4), QByteArray(4, '\1'));
    QVERIFY(c.options.values.value(1).contains("malformed: non-first IP fragment"));
    QVERIFY(c.options.values.value(1).contains("ip options (4 bytes) not captured"));
}

void TestPcapngWriter::loopbackCopiesDropped()
{
    SessionData s = session();
    Packet sent = v4Syn(); // lo, out
    Packet received = sent;
    received.direction = PacketDirection::In;
    received.connectionId = 2;
    Packet eth = received;
    eth.ifindex = 2; // not loopback: kept in either direction
    s.packets = {sent, received, eth};
    QCOMPARE(dropLoopbackEgressCopies(s), 1);
    QCOMPARE(s.packets.size(), 2);
    QCOMPARE(s.packets[0].direction, PacketDirection::In);
    QCOMPARE(s.packets[1].ifindex, 2u);
    s.info.interfaces.clear(); // no interface names: nothing known to be loopback
    s.packets = {sent, received};
    QCOMPARE(dropLoopbackEgressCopies(s), 0);
}

void TestPcapngWriter::tsharkAnalysisOfRealCapture()
{
    // The rebuilt headers must carry everything Wireshark's TCP analysis uses (seq/ack, flags,
    // window, window scale, SACK blocks, timestamps, lengths): exporting the packets of a real
    // loopback capture with loss (a fixture taken with tcpdump) must make tshark reach the
    // verdicts it reached on the original capture, packet by packet.
    if (QStandardPaths::findExecutable(QStringLiteral("tshark")).isEmpty())
        QSKIP("MISSING TOOL tshark: packaging/deps.sh --with-test-tools installs it");
    using testana::kLoopbackLossCapture;
    SessionData s = session();
    s.packets.clear();
    int n = 0;
    for (const testana::CapturedPacket &c : kLoopbackLossCapture) {
        Packet p;
        p.id = ++n;
        p.connectionId = 1;
        p.ifindex = 1;
        p.timeNs = 1'700'000'000'000'000'000 + c.timeNs;
        p.direction = c.out ? PacketDirection::Out : PacketDirection::In;
        p.srcAddr = test::ip4(127, 0, 0, 1);
        p.dstAddr = test::ip4(127, 0, 0, 1);
        p.srcPort = c.out ? 40000 : 5201;
        p.dstPort = c.out ? 5201 : 40000;
        p.seq = c.seq;
        p.ack = c.ack;
        p.tcpFlags = c.flags;
        p.payloadLen = c.payload;
        p.window = c.window;
        p.options = QByteArray::fromHex(c.optionsHex);
        p.tcpHdrLen = quint8(20 + p.options.size());
        p.ipHdrLen = 20;
        p.ttl = 64;
        p.ipFrag = 1;
        s.packets.append(p);
    }
    const QString path = m_dir.filePath(QStringLiteral("real.pcapng"));
    QString error;
    QCOMPARE(writePcapng(s, path, {}, &error), qint64(n));

    // Frame numbers tshark flags, per analysis field.
    auto framesWith = [&](const QString &filter) {
        QProcess t;
        t.start(QStringLiteral("tshark"),
                {QStringLiteral("-n"), QStringLiteral("-r"), path, QStringLiteral("-Y"), filter,
                 QStringLiteral("-T"), QStringLiteral("fields"), QStringLiteral("-e"),
                 QStringLiteral("frame.number")});
        t.waitForFinished(60000);
        QSet<int> frames;
        for (const QByteArray &l : t.readAllStandardOutput().split('\n')) {
            if (!l.trimmed().isEmpty())
                frames.insert(l.trimmed().toInt());
        }
        return frames;
    };
    const QVector<QPair<quint32, const char *>> fields = {
        {AnalysisRetransmission, "tcp.analysis.retransmission"},
        {AnalysisFastRetransmission, "tcp.analysis.fast_retransmission"},
        {AnalysisSpuriousRetransmission, "tcp.analysis.spurious_retransmission"},
        {AnalysisDuplicateAck, "tcp.analysis.duplicate_ack"},
        {AnalysisOutOfOrder, "tcp.analysis.out_of_order"},
        {AnalysisPreviousSegmentNotCaptured, "tcp.analysis.lost_segment"},
        {AnalysisZeroWindow, "tcp.analysis.zero_window"},
        {AnalysisWindowFull, "tcp.analysis.window_full"},
        {AnalysisWindowUpdate, "tcp.analysis.window_update"},
        {AnalysisKeepAlive, "tcp.analysis.keep_alive"},
        {AnalysisAckedUnseenSegment, "tcp.analysis.ack_lost_segment"},
    };
    int flagged = 0;
    for (const auto &[bit, field] : fields) {
        QSet<int> expected;
        int i = 0;
        for (const testana::CapturedPacket &c : kLoopbackLossCapture) {
            ++i;
            if (c.expectedFlags & bit)
                expected.insert(i);
        }
        const QSet<int> seen = framesWith(QString::fromLatin1(field));
        QVERIFY2(seen == expected, field);
        flagged += int(seen.size());
    }
    QVERIFY(flagged > 0); // the fixture has retransmissions, dup ACKs, window updates
    QVERIFY(framesWith(QStringLiteral("_ws.malformed || _ws.expert.severity == error")).isEmpty());
}

void TestPcapngWriter::unwritableDirectory()
{
    // A directory that does not exist is unwritable even for root.
    const QString path = m_dir.filePath(QStringLiteral("no/such/dir/out.pcapng"));
    QString error;
    QCOMPARE(writePcapng(session(), path, {}, &error), -1);
    QVERIFY(error.startsWith(path + QStringLiteral(": cannot write")));
    QVERIFY(!error.contains(QLatin1Char('\n')));
    QVERIFY(!QFile::exists(path));
}

void TestPcapngWriter::diskFullLeavesOldFile()
{
    // A file size limit makes the kernel fail writes past it (EFBIG), as a full disk would.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("old.pcapng"));
    {
        QFile old(path);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("previous contents");
    }
    SessionData s = session();
    for (int i = 0; i < 2000; ++i) {
        Packet p = v6Data();
        p.payload = QByteArray(256, 'x');
        s.packets.append(p);
    }
    rlimit saved{};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur = 64 * 1024;
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
    QString error;
    const qint64 n = writePcapng(s, path, {}, &error);
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, oldHandler);
    QCOMPARE(n, -1);
    QVERIFY2(error.startsWith(path + QStringLiteral(": write failed")), qPrintable(error));
    QVERIFY(!error.contains(QLatin1Char('\n')));
    QFile old(path);
    QVERIFY(old.open(QIODevice::ReadOnly));
    QCOMPARE(old.readAll(), QByteArray("previous contents"));
    // No temporary file left behind.
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
             QStringList{QStringLiteral("old.pcapng")});
}

namespace {

// The option list of an EPB, as written (after the padded packet data).
QByteArray epbOptionBytes(const Block &b)
{
    const quint32 capLen = le32(b.body, 12);
    return b.body.mid(20 + int((capLen + 3) / 4 * 4));
}

// A string custom option (2988) as the pcapng specification lays it out, little-endian: code,
// length (PEN + text, without padding), the PEN 32473, the text, zeros to 32 bits.
QByteArray customString(const QByteArray &text)
{
    QByteArray o = QByteArray::fromHex("ac0b");
    const quint16 len = quint16(4 + text.size());
    o += char(len & 0xFF);
    o += char(len >> 8);
    o += QByteArray::fromHex("d97e0000"); // 32473
    o += text;
    while (o.size() % 4)
        o += '\0';
    return o;
}

} // namespace

void TestPcapngWriter::processOptionsBytes()
{
    const auto blocks = write(session(), {1}, 1);
    QCOMPARE(blocks.size(), 4);
    const QByteArray comment("pid=1234 comm=curl conn=1 sock=0xabc dir=out"); // 44 bytes
    QByteArray expected;
    expected += QByteArray::fromHex("0200 0400 02000000");          // epb_flags: outbound
    expected += QByteArray::fromHex("0800 0800 d2040000 00000000"); // pid 1234, thread 0
    // 23 bytes of text: length 27, one byte of padding.
    expected +=
        QByteArray::fromHex("ac0b 1b00 d97e0000") + "tcpscope.proc.name=curl" + QByteArray(1, '\0');
    expected += customString("tcpscope.cgroup.id=73588229205"); // 0x1122334455
    expected += QByteArray::fromHex("0100 2c00") + comment;
    expected += QByteArray::fromHex("0000 0000"); // opt_endofopt
    QCOMPARE(epbOptionBytes(blocks[3]).toHex(' '), expected.toHex(' '));

    // The other connection has no cgroup recorded: no option for it.
    const auto other = write(session(), {2}, 1);
    const Epb e = parseEpb(other[3]);
    QVERIFY(e.options.ended);
    QCOMPARE(e.options.values.values(2988),
             QList<QByteArray>{QByteArray::fromHex("d97e0000") + "tcpscope.proc.name=nginx"});
}

void TestPcapngWriter::hostNameOption()
{
    const auto blocks = write(session(), {}, 2);
    Options shb;
    QVERIFY(parseOptions(blocks[0].body, 16, &shb));
    QCOMPARE(shb.values.values(2988),
             QList<QByteArray>{QByteArray::fromHex("d97e0000") + "tcpscope.host.name=box"});
    // Byte-exact, at the end of the SHB's options: 22 bytes of text, length 26, two of padding.
    QVERIFY(blocks[0].body.endsWith(QByteArray::fromHex("ac0b 1a00 d97e0000") +
                                    "tcpscope.host.name=box" + QByteArray(2, '\0') +
                                    QByteArray::fromHex("00000000")));
    SessionData s = session();
    s.info.hostname.clear();
    Options none;
    QVERIFY(parseOptions(write(s, {}, 2)[0].body, 16, &none));
    QVERIFY(!none.values.contains(2988));
}

void TestPcapngWriter::unknownOwnerHasNoProcessOptions()
{
    SessionData s = session();
    Packet p = v4Syn();
    p.connectionId = 0; // joined to no connection
    s.packets = {p};
    const auto blocks = write(s, {}, 1);
    const Epb e = parseEpb(blocks[3]);
    QVERIFY(e.options.ended);
    QCOMPARE(e.options.values.keys().size(), 2); // epb_flags and the comment
    QVERIFY(e.options.values.contains(2) && e.options.values.contains(1));
}

void TestPcapngWriter::pidAndCommOnlyWriter()
{
    // The streaming writer given only a pid and comm (as `export --packets` has them): the pid
    // option and the name, no cgroup.
    QByteArray bytes;
    QBuffer buffer(&bytes);
    QVERIFY(buffer.open(QIODevice::WriteOnly));
    PcapngWriter writer(buffer);
    QVERIFY(writer.begin(session().info));
    QVERIFY(writer.write(v4Syn(), 4321, QStringLiteral("wget")));
    QVERIFY(writer.finish());
    buffer.close();
    const QString path = m_dir.filePath(QStringLiteral("stream.pcapng"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
    f.close();
    const PcapngFile file = parseFile(path);
    QVERIFY2(file.error.isEmpty(), qPrintable(file.error));
    const Epb e = parseEpb(file.blocks.constLast());
    QVERIFY(e.options.ended);
    QCOMPARE(e.options.values.value(8), QByteArray::fromHex("e1100000 00000000"));
    QCOMPARE(e.options.values.values(2988),
             QList<QByteArray>{QByteArray::fromHex("d97e0000") + "tcpscope.proc.name=wget"});
    QVERIFY(e.options.values.value(1).startsWith("pid=4321 comm=wget conn=1 "));
}

void TestPcapngWriter::tsharkReadsProcessOptions()
{
    // tshark reads a file carrying every process option (pid/thread, name, cgroup, host name)
    // without a word on stderr, shows the comment as the packet comment, finds nothing
    // malformed, and its pcapng file dissector finds each option where it was written, with no
    // expert note on any block. (The packets' own notes, such as the RST, are about TCP.)
    if (QStandardPaths::findExecutable(QStringLiteral("tshark")).isEmpty())
        QSKIP("MISSING TOOL tshark: packaging/deps.sh --with-test-tools installs it");
    const QString path = m_dir.filePath(QStringLiteral("process.pcapng"));
    QString error;
    QCOMPARE(writePcapng(session(), path, {}, &error), qint64(2));
    auto tshark = [&](const QStringList &args, QString *err) {
        QProcess t;
        t.start(QStringLiteral("tshark"), args);
        const bool finished = t.waitForFinished(60000);
        QStringList complaints;
        for (const QString &l : QString::fromLocal8Bit(t.readAllStandardError())
                                    .split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            // As root tshark warns that it runs as root, which says nothing about the file.
            if (!l.startsWith(QLatin1String("Running as user \"root\"")))
                complaints << l;
        }
        *err = complaints.join(QLatin1Char('\n'));
        if (!finished || t.exitStatus() != QProcess::NormalExit || t.exitCode() != 0)
            err->prepend(QStringLiteral("exit %1: ").arg(t.exitCode()));
        return QString::fromUtf8(t.readAllStandardOutput());
    };
    QString err;
    const QString list = tshark({QStringLiteral("-n"), QStringLiteral("-r"), path}, &err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(list.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size(), 2);
    const QString comments =
        tshark({QStringLiteral("-n"), QStringLiteral("-r"), path, QStringLiteral("-T"),
                QStringLiteral("fields"), QStringLiteral("-e"), QStringLiteral("frame.comment")},
               &err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QCOMPARE(comments, QStringLiteral("pid=1234 comm=curl conn=1 sock=0xabc dir=out\n"
                                      "pid=99 comm=nginx conn=2 sock=0xdef dir=in\n"));
    const QString flagged = tshark(
        {QStringLiteral("-n"), QStringLiteral("-r"), path, QStringLiteral("-Y"),
         QStringLiteral("_ws.malformed || _ws.expert.severity == error"), QStringLiteral("-T"),
         QStringLiteral("fields"), QStringLiteral("-e"), QStringLiteral("_ws.expert.message")},
        &err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    QVERIFY2(flagged.isEmpty(), qPrintable(flagged));

    // The file as pcapng blocks: the option codes and lengths of every block, in file order.
    const QString blocks = tshark(
        {QStringLiteral("-n"), QStringLiteral("-X"),
         QStringLiteral("read_format:MIME Files Format"), QStringLiteral("-r"), path,
         QStringLiteral("-T"), QStringLiteral("fields"), QStringLiteral("-e"),
         QStringLiteral("pcapng.options.option.code"), QStringLiteral("-e"),
         QStringLiteral("pcapng.options.option.length"), QStringLiteral("-e"),
         QStringLiteral("_ws.expert"), QStringLiteral("-e"), QStringLiteral("_ws.malformed")},
        &err);
    QVERIFY2(err.isEmpty(), qPrintable(err));
    const QStringList c = blocks.section(QLatin1Char('\n'), 0, 0).split(QLatin1Char('\t'));
    QCOMPARE(c.size(), 4);
    // SHB: comment, hardware, os, user application, host name, end; IDBs: name, description,
    // tsresol, end; EPBs: flags, pid/thread, name, [cgroup], comment, end.
    QCOMPARE(c[0], QStringLiteral("1,2,3,4,2988,0,2,3,9,0,2,3,9,0,2,8,2988,2988,1,0,2,8,2988,1,0"));
    QCOMPARE(c[1].section(QLatin1Char(','), 14), QStringLiteral("4,8,27,34,44,0,4,8,28,42,0"));
    QCOMPARE(c[2], QString()); // no expert info
    QCOMPARE(c[3], QString()); // nothing malformed
}

QTEST_GUILESS_MAIN(TestPcapngWriter)
#include "test_pcapng_writer.moc"
