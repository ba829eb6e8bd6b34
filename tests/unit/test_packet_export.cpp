// SPDX-License-Identifier: GPL-3.0-or-later
// export --packets from a Session: every stored field of every packet survives a CSV and a JSON
// round trip (parsed back and compared field by field), a connection's export holds only its
// packets, pcapng streams a file tshark reads with the same headers, and bad requests fail
// clearly (unknown suffix, a symlink as output) without touching anything.
#include "export/packet_export.h"
#include "export/session_export.h"
#include "model/address.h"
#include "packet_compare.h"
#include "session/session.h"
#include "session/session_schema.h"
#include "session/session_writer.h"
#include "test_addresses.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;
using tcpscope::testing::comparePackets;

namespace {

constexpr qint64 kT0 = 1'764'300'000'123'456'789;

// Packets whose every field differs from its default and from its neighbours' (a field written
// to the wrong column or not at all shows up), IPv4 and IPv6, unknown analysis values included.
QVector<Packet> packets()
{
    QVector<Packet> out;
    for (int i = 0; i < 6; ++i) {
        Packet p;
        p.id = i + 1;
        p.connectionId = i < 3 ? 1 : (i < 5 ? 2 : 0);
        p.timeNs = kT0 + i * 1'000'017;
        p.sockId = 0x7fff'0000'1234'0000ull + quint64(i);
        p.ifindex = i == 1 || i == 2 ? 1 : 2; // lo: packet 2 is a loopback egress copy
        p.direction = i % 2 ? PacketDirection::Out : PacketDirection::In;
        p.parseStatus = quint8(i == 4 ? 8 : 0);
        p.sockState = quint8(1 + i);
        if (i != 3) {
            p.srcAddr = test::ip4(10, 0, 0, quint8(1 + i));
            p.dstAddr = test::ip4(192, 0, 2, quint8(200 + i));
        } else {
            p.srcAddr = test::ip(QStringLiteral("2001:db8::10"));
            p.dstAddr = test::ip(QStringLiteral("2001:db8::1"));
        }
        p.srcPort = quint16(40000 + i);
        p.dstPort = quint16(443 - i);
        p.seq = 0xfffff000u + quint32(i) * 1000;
        p.ack = 123456789u + quint32(i);
        p.tcpFlags = quint8(i == 0 ? 0x02 : (i == 5 ? 0xff : 0x18));
        p.window = quint16(65535 - i);
        p.urgPtr = quint16(i * 3);
        p.payloadLen = quint32(i * 100);
        p.skbLen = quint32(i * 100 + 66);
        p.gsoSegs = quint16(i);
        p.gsoSize = quint16(i * 1448);
        p.ttl = quint8(64 - i);
        p.tos = quint8(i * 4);
        p.vlanTci = quint16(i * 7);
        p.vlanDepth = quint8(i % 3);
        p.ipFrag = quint8(i % 2);
        p.ipId = quint32(0x1000 + i);
        p.ipHdrLen = quint8(p.srcAddr.isV6() ? 40 : 20);
        p.tcpHdrLen = quint8(i == 4 ? 28 : 32);
        p.options = i == 4 ? QByteArray::fromHex("020405b4")
                           : QByteArray::fromHex("0101080a0000000100000002");
        p.payload = i == 2 ? QByteArray("GET / HTTP/1.1\r\n\"x\",y") : QByteArray();
        p.analysis =
            i == 5 ? 0xffffu : (i == 1 ? (AnalysisRetransmission | AnalysisDuplicateAck) : 0);
        p.dupAckNum = quint32(i == 1 ? 2 : 0);
        p.relSeq = quint32(1 + i * 1000);
        p.relAck = quint32(i);
        p.bytesInFlight = i == 0 ? -1 : i * 1000;
        p.scaledWindow = i == 0 ? -1 : qint64(p.window) << 7;
        p.ackRttNs = i % 2 ? 15'000 + i : -1;
        out.append(p);
    }
    return out;
}

QStringList splitCsvLine(const QString &line)
{
    QStringList fields;
    QString cur;
    bool quoted = false;
    for (qsizetype i = 0; i < line.size(); ++i) {
        const QChar ch = line[i];
        if (quoted) {
            if (ch == QLatin1Char('"') && i + 1 < line.size() && line[i + 1] == QLatin1Char('"')) {
                cur += ch;
                ++i;
            } else if (ch == QLatin1Char('"')) {
                quoted = false;
            } else {
                cur += ch;
            }
        } else if (ch == QLatin1Char('"')) {
            quoted = true;
        } else if (ch == QLatin1Char(',')) {
            fields << cur;
            cur.clear();
        } else {
            cur += ch;
        }
    }
    fields << cur;
    return fields;
}

// CSV records, each split into fields (quoted line breaks kept inside their field).
QVector<QStringList> readCsv(const QByteArray &data)
{
    QVector<QStringList> rows;
    QString record;
    bool quoted = false;
    for (const QChar ch : QString::fromUtf8(data)) {
        if (ch == QLatin1Char('"'))
            quoted = !quoted;
        if (!quoted && ch == QLatin1Char('\n')) {
            if (record.endsWith(QLatin1Char('\r')))
                record.chop(1);
            rows.append(splitCsvLine(record));
            record.clear();
        } else {
            record += ch;
        }
    }
    return rows;
}

// A Packet back from one exported row (name -> text; empty text = unknown).
Packet fromRow(const std::function<QString(const char *)> &v)
{
    Packet p;
    auto i64 = [&](const char *k) { return v(k).isEmpty() ? qint64(-1) : v(k).toLongLong(); };
    auto u64 = [&](const char *k) { return v(k).toULongLong(); };
    p.id = i64("id");
    p.connectionId = i64("connection_id");
    p.timeNs = i64("time_ns");
    p.sockId = u64("sock_id");
    p.ifindex = quint32(u64("ifindex"));
    p.direction =
        v("direction") == QLatin1String("out") ? PacketDirection::Out : PacketDirection::In;
    p.parseStatus = quint8(u64("parse_status"));
    p.sockState = schema::sockStateFromName(v("sock_state")).value_or(0xff);
    AddressFamily family = AddressFamily::None;
    familyFromNumber(qint64(u64("family")), &family);
    p.srcAddr = IpAddress::parse(family, v("src_addr"));
    p.dstAddr = IpAddress::parse(family, v("dst_addr"));
    p.srcPort = quint16(u64("src_port"));
    p.dstPort = quint16(u64("dst_port"));
    p.seq = quint32(u64("seq"));
    p.ack = quint32(u64("ack"));
    tcpFlagsFromNames(v("tcp_flags"), &p.tcpFlags);
    p.window = quint16(u64("window"));
    p.urgPtr = quint16(u64("urg_ptr"));
    p.payloadLen = quint32(u64("payload_len"));
    p.skbLen = quint32(u64("skb_len"));
    p.gsoSegs = quint16(u64("gso_segs"));
    p.gsoSize = quint16(u64("gso_size"));
    p.ttl = quint8(u64("ttl"));
    p.tos = quint8(u64("tos"));
    p.vlanTci = quint16(u64("vlan_tci"));
    p.vlanDepth = quint8(u64("vlan_depth"));
    p.ipFrag = quint8(u64("ip_frag"));
    p.ipId = quint32(u64("ip_id"));
    p.ipHdrLen = quint8(u64("ip_hdr_len"));
    p.tcpHdrLen = quint8(u64("tcp_hdr_len"));
    p.options = QByteArray::fromHex(v("options").toLatin1());
    p.payload = QByteArray::fromHex(v("payload").toLatin1());
    analysisFlagsFromNames(v("analysis"), &p.analysis);
    p.dupAckNum = quint32(u64("dup_ack_num"));
    p.relSeq = quint32(u64("rel_seq"));
    p.relAck = quint32(u64("rel_ack"));
    p.bytesInFlight = i64("bytes_in_flight");
    p.scaledWindow = i64("scaled_window");
    p.ackRttNs = i64("ack_rtt_ns");
    return p;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestPacketExport : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_file;
    std::unique_ptr<Session> m_session;

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_file = m_dir.filePath(QStringLiteral("p.tcpscope"));
        QString error;
        auto writer = SessionWriter::create(m_file, &error);
        QVERIFY2(writer, qPrintable(error));
        SessionInfo info;
        info.startedNs = kT0 - 1'000'000;
        info.stoppedNs = kT0 + 1'000'000'000;
        info.packetsCaptured = true;
        info.interfaces = {{1, QStringLiteral("lo"), 1}, {2, QStringLiteral("eth0"), 1}};
        writer->setInfo(info);
        for (qint64 id : {1, 2}) {
            Connection c;
            c.id = id;
            c.pid = quint32(100 + id);
            c.comm = QStringLiteral("curl");
            c.localAddr = c.remoteAddr = test::ip(QStringLiteral("10.0.0.1"));
            c.startNs = kT0;
            c.state = TcpState::Established;
            c.history = {{kT0, TcpState::Close, TcpState::SynSent, 0, QString()}};
            writer->writeConnection(c);
        }
        writer->writePackets(packets());
        QVERIFY(writer->close(&error));
        m_session = Session::open(m_file, &error);
        QVERIFY2(m_session, qPrintable(error));
        QCOMPARE(m_session->packetCount(), qint64(packets().size()));
    }

    void csvRoundTrip()
    {
        const QString out = m_dir.filePath(QStringLiteral("all.csv"));
        PacketExportResult result;
        QString error;
        QVERIFY2(exportPackets(*m_session, out, 0, &result, &error), qPrintable(error));
        const QVector<Packet> want = packets();
        QCOMPARE(result.written, qint64(want.size())); // CSV keeps loopback egress copies
        const QVector<QStringList> rows = readCsv(readAll(out));
        QCOMPARE(rows.size(), want.size() + 1);
        QCOMPARE(rows[0], packetExportColumns());
        for (int i = 0; i < want.size(); ++i) {
            const QStringList &row = rows[i + 1];
            QCOMPARE(row.size(), rows[0].size());
            const Packet back = fromRow(
                [&](const char *name) { return row.value(rows[0].indexOf(QLatin1String(name))); });
            comparePackets(back, want[i]);
        }
        // Flags by name, readable without the source.
        QCOMPARE(rows[1][rows[0].indexOf(QStringLiteral("tcp_flags"))], QStringLiteral("SYN"));
        QCOMPARE(rows[2][rows[0].indexOf(QStringLiteral("analysis"))],
                 QStringLiteral("retransmission|duplicate_ack"));
    }

    void jsonRoundTrip()
    {
        const QString out = m_dir.filePath(QStringLiteral("conn1.json"));
        PacketExportResult result;
        QString error;
        QVERIFY2(exportPackets(*m_session, out, 1, &result, &error), qPrintable(error));
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(readAll(out), &parseError);
        QCOMPARE(parseError.error, QJsonParseError::NoError);
        const QJsonArray rows = doc.array();
        QVector<Packet> want;
        for (const Packet &p : packets())
            if (p.connectionId == 1)
                want.append(p);
        QCOMPARE(rows.size(), want.size());
        QCOMPARE(result.written, qint64(want.size()));
        for (int i = 0; i < want.size(); ++i) {
            const QJsonObject o = rows[i].toObject();
            QCOMPARE(o.keys().size(), packetExportColumns().size());
            const Packet back = fromRow([&](const char *name) {
                const QJsonValue v = o.value(QLatin1String(name));
                if (v.isNull())
                    return QString();
                // Integers exactly (ns timestamps and socket ids exceed a double's 53 bits).
                return v.isString() ? v.toString() : QString::number(v.toInteger());
            });
            comparePackets(back, want[i]);
        }
    }

    void pcapngReadByTshark()
    {
        const QString out = m_dir.filePath(QStringLiteral("all.pcapng"));
        PacketExportResult result;
        QString error;
        QVERIFY2(exportPackets(*m_session, out, 0, &result, &error), qPrintable(error));
        // Packet 2 (out on lo) is a loopback egress copy: left out of a whole-session pcapng.
        QCOMPARE(result.loopbackCopies, qint64(1));
        QCOMPARE(result.written, qint64(packets().size() - 1));
        const QString tshark = QStandardPaths::findExecutable(QStringLiteral("tshark"));
        if (tshark.isEmpty())
            QSKIP("tshark not installed");
        QProcess p;
        p.start(tshark, {QStringLiteral("-r"), out, QStringLiteral("-T"), QStringLiteral("fields"),
                         QStringLiteral("-e"), QStringLiteral("tcp.srcport"), QStringLiteral("-e"),
                         QStringLiteral("tcp.seq_raw"), QStringLiteral("-e"),
                         QStringLiteral("frame.comment")});
        QVERIFY(p.waitForFinished(60000));
        const QStringList lines = QString::fromUtf8(p.readAllStandardOutput())
                                      .split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), int(result.written));
        int line = 0;
        for (const Packet &want : packets()) {
            if (want.id == 2)
                continue;
            const QStringList f = lines[line++].split(QLatin1Char('\t'));
            QCOMPARE(f.value(0).toUInt(), uint(want.srcPort));
            QCOMPARE(f.value(1).toUInt(), uint(want.seq));
            QVERIFY2(f.value(2).contains(QStringLiteral("conn=%1").arg(want.connectionId)),
                     qPrintable(f.value(2)));
        }
    }

    void errors()
    {
        QString error;
        PacketExportResult result;
        const QString txt = m_dir.filePath(QStringLiteral("p.txt"));
        QVERIFY(!exportPackets(*m_session, txt, 0, &result, &error));
        QVERIFY2(error.contains(QStringLiteral("unknown format")), qPrintable(error));
        QVERIFY(!QFile::exists(txt));
        // A symlink is never written through, nor replaced.
        const QString target = m_dir.filePath(QStringLiteral("target"));
        const QString link = m_dir.filePath(QStringLiteral("link.csv"));
        QVERIFY(QFile::link(target, link));
        QVERIFY(!exportPackets(*m_session, link, 0, &result, &error));
        QVERIFY2(error.contains(QStringLiteral("symbolic link")), qPrintable(error));
        QVERIFY(!QFile::exists(target));
        QVERIFY(QFileInfo(link).isSymLink());
    }
};

QTEST_GUILESS_MAIN(TestPacketExport)
#include "test_packet_export.moc"
