// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/connection_export.h"
#include "test_addresses.h"

#include <QBuffer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;

class TestConnectionExport : public QObject
{
    Q_OBJECT

private slots:
    void columns();
    void csvQuotingAndValues();
    void jsonValues();
    void emptyJson();
    void exportByPath();
    void kernelColumns();
    void kernelColumnsNotCaptured();
    void terminationColumns();
    void annotationsColumn();
    void ownerColumns();
};

namespace {

Connection closedConnection()
{
    Connection c;
    c.id = 1;
    c.pid = 321;
    c.comm = QStringLiteral("we,ird \"name\"\nx");
    c.localAddr = test::ip(QStringLiteral("127.0.0.1"));
    c.localPort = 40000;
    c.remoteAddr = test::ip(QStringLiteral("127.0.0.1"));
    c.remotePort = 8080;
    c.role = ConnectionRole::Client;
    c.startNs = 1'764'300'000'123'456'789;
    c.endNs = c.startNs + 2'500'000; // 2.5 ms
    c.handshakeNs = 50'000;
    c.state = TcpState::Close;
    c.closeReason = CloseReason::Fin;
    c.haveCloseStats = true;
    c.bytesSent = 10'000'000'000ULL;
    c.bytesReceived = 5;
    c.retransmits = 2;
    c.srttUs = 30;
    c.minRttUs = 10;
    c.packets.packetsIn = 7;
    c.packets.packetsOut = 9;
    c.packets.payloadBytesIn = 5;
    c.packets.payloadBytesOut = 10'000'000'000ULL;
    c.packets.retransmissions = 3;
    c.packets.fastRetransmissions = 1;
    c.packets.dupAcks = 4;
    c.packets.outOfOrder = 2;
    c.packets.lostSegments = 1;
    c.packets.zeroWindows = 6;
    c.packets.resets = 1;
    c.packets.irttNs = 123'000;
    c.kernel.samples = 812;
    c.kernel.srttUsMin = 18;
    c.kernel.srttUsMax = 4'000'000'000u;
    c.kernel.cwndMax = 1234;
    c.kernel.retransmits = 17;
    c.kernel.synRetransmits = 2;
    c.kernel.synAckRetransmits = 0;
    c.kernel.resetsSent = 1;
    c.kernel.resetsReceived = 3;
    c.kernel.drops = 5;
    c.history = {{c.startNs, TcpState::Close, TcpState::SynSent, 1, QString()},
                 {c.startNs + 50'000, TcpState::SynSent, TcpState::Established, 0, QString()},
                 {c.endNs, TcpState::Established, TcpState::Close, 0, QString()}};
    return c;
}

Connection openConnection()
{
    Connection c;
    c.id = 2;
    c.localAddr = test::ip(QStringLiteral("::1"));
    c.remoteAddr = test::ip(QStringLiteral("::1"));
    c.startNs = 1'764'300'000'000'000'000;
    c.state = TcpState::Established;
    c.history = {{c.startNs, TcpState::SynSent, TcpState::Established, 0, QString()}};
    return c;
}

// Minimal RFC 4180 parser so the test checks what a CSV reader really gets back.
QList<QStringList> parseCsv(const QString &text)
{
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar ch = text[i];
        if (quoted) {
            if (ch == QLatin1Char('"') && i + 1 < text.size() && text[i + 1] == QLatin1Char('"')) {
                field += ch;
                ++i;
            } else if (ch == QLatin1Char('"')) {
                quoted = false;
            } else {
                field += ch;
            }
        } else if (ch == QLatin1Char('"')) {
            quoted = true;
        } else if (ch == QLatin1Char(',')) {
            row << field;
            field.clear();
        } else if (ch == QLatin1Char('\r') && i + 1 < text.size() &&
                   text[i + 1] == QLatin1Char('\n')) {
            row << field;
            rows << row;
            row.clear();
            field.clear();
            ++i;
        } else {
            field += ch;
        }
    }
    return rows;
}

} // namespace

void TestConnectionExport::columns()
{
    const QStringList required =
        QStringLiteral(
            "id,pid,comm,family,local_addr,local_port,remote_addr,remote_port,start_ns,end_ns,"
            "duration_ms,handshake_ms,bytes_sent,bytes_received,retransmits,close_reason,states")
            .split(QLatin1Char(','));
    const QStringList cols = connectionExportColumns();
    QCOMPARE(cols.mid(0, required.size()), required);
    QVERIFY(cols.contains(QLatin1String("role")));
    QVERIFY(cols.contains(QLatin1String("srtt_us")));
    QVERIFY(cols.contains(QLatin1String("min_rtt_us")));
    for (const char *name :
         {"packets_in", "packets_out", "retransmissions_seen", "dup_acks", "zero_windows",
          "out_of_order", "lost_segments", "resets_seen", "irtt_ms"})
        QVERIFY2(cols.contains(QLatin1String(name)), name);
    QCOMPARE(cols.size(), QSet<QString>(cols.begin(), cols.end()).size()); // no duplicates
    // The kernel-view columns append, in this order, right after the packet columns (nothing
    // reordered).
    const QStringList kernel =
        QStringLiteral("srtt_us_min,srtt_us_max,cwnd_max,resets_sent,resets_received,drops")
            .split(QLatin1Char(','));
    const qsizetype at = cols.indexOf(QLatin1String("irtt_ms")) + 1;
    QCOMPARE(cols.mid(at, kernel.size()), kernel);
    for (const char *name : {"kernel_samples", "kernel_retransmits", "syn_retransmits",
                             "synack_retransmits", "listen_drops", "backlog_max"})
        QVERIFY2(cols.indexOf(QLatin1String(name)) > at, name);
}

void TestConnectionExport::csvQuotingAndValues()
{
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    QString error;
    QVERIFY(writeConnectionsCsv({closedConnection(), openConnection()}, buf, &error));
    const QList<QStringList> rows = parseCsv(QString::fromUtf8(buf.data()));
    QCOMPARE(rows.size(), 3);
    const QStringList cols = connectionExportColumns();
    QCOMPARE(rows[0], cols);
    auto cell = [&](int row, const char *name) {
        return rows[row][cols.indexOf(QLatin1String(name))];
    };
    QCOMPARE(rows[1].size(), cols.size());
    QCOMPARE(cell(1, "comm"), closedConnection().comm); // comma, quotes, newline survive
    QCOMPARE(cell(1, "start_ns"), QStringLiteral("1764300000123456789"));
    QCOMPARE(cell(1, "end_ns"), QStringLiteral("1764300000125956789"));
    QCOMPARE(cell(1, "duration_ms"), QStringLiteral("2.500"));
    QCOMPARE(cell(1, "handshake_ms"), QStringLiteral("0.050"));
    QCOMPARE(cell(1, "bytes_sent"), QStringLiteral("10000000000"));
    QCOMPARE(cell(1, "close_reason"), QStringLiteral("fin"));
    QCOMPARE(cell(1, "states"), QStringLiteral("SYN_SENT>ESTABLISHED>CLOSE"));
    QCOMPARE(cell(1, "role"), QStringLiteral("client"));
    QCOMPARE(cell(1, "srtt_us"), QStringLiteral("30"));
    QCOMPARE(cell(2, "family"), QStringLiteral("6"));
    QCOMPARE(cell(2, "end_ns"), QString());     // open: unknown, not 0
    QCOMPARE(cell(2, "bytes_sent"), QString()); // no close stats yet
    QCOMPARE(cell(2, "close_reason"), QStringLiteral("open"));
    QCOMPARE(cell(2, "states"), QStringLiteral("SYN_SENT>ESTABLISHED"));
    // Packet analysis columns.
    QCOMPARE(cell(1, "packets_in"), QStringLiteral("7"));
    QCOMPARE(cell(1, "packets_out"), QStringLiteral("9"));
    QCOMPARE(cell(1, "payload_bytes_out"), QStringLiteral("10000000000"));
    QCOMPARE(cell(1, "retransmissions_seen"), QStringLiteral("3"));
    QCOMPARE(cell(1, "fast_retransmissions"), QStringLiteral("1"));
    QCOMPARE(cell(1, "dup_acks"), QStringLiteral("4"));
    QCOMPARE(cell(1, "out_of_order"), QStringLiteral("2"));
    QCOMPARE(cell(1, "lost_segments"), QStringLiteral("1"));
    QCOMPARE(cell(1, "zero_windows"), QStringLiteral("6"));
    QCOMPARE(cell(1, "window_full"), QStringLiteral("0"));
    QCOMPARE(cell(1, "resets_seen"), QStringLiteral("1"));
    QCOMPARE(cell(1, "irtt_ms"), QStringLiteral("0.123"));
    QCOMPARE(cell(2, "packets_in"), QString()); // no packets seen: unknown, not 0
    QCOMPARE(cell(2, "dup_acks"), QString());
    QCOMPARE(cell(2, "irtt_ms"), QString());
}

void TestConnectionExport::jsonValues()
{
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    QString error;
    QVERIFY(writeConnectionsJson({closedConnection(), openConnection()}, buf, &error));
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(buf.data(), &perr);
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString()));
    QVERIFY(doc.isArray());
    const QJsonArray arr = doc.array();
    QCOMPARE(arr.size(), 2);
    const QJsonObject a = arr[0].toObject();
    QCOMPARE(a.keys().size(), connectionExportColumns().size());
    QCOMPARE(a.value(QLatin1String("comm")).toString(), closedConnection().comm);
    QCOMPARE(a.value(QLatin1String("pid")).toInteger(), 321);
    QCOMPARE(a.value(QLatin1String("duration_ms")).toDouble(), 2.5);
    QCOMPARE(a.value(QLatin1String("close_reason")).toString(), QStringLiteral("fin"));
    // 64-bit values must be written exactly, not via a double.
    QVERIFY(buf.data().contains("\"start_ns\": 1764300000123456789"));
    const QJsonObject b = arr[1].toObject();
    QVERIFY(b.value(QLatin1String("end_ns")).isNull());
    QVERIFY(b.value(QLatin1String("handshake_ms")).isNull());
    QCOMPARE(a.value(QLatin1String("dup_acks")).toInteger(), 4);
    QCOMPARE(a.value(QLatin1String("zero_windows")).toInteger(), 6);
    QCOMPARE(a.value(QLatin1String("out_of_order")).toInteger(), 2);
    QCOMPARE(a.value(QLatin1String("irtt_ms")).toDouble(), 0.123);
    QVERIFY(b.value(QLatin1String("dup_acks")).isNull());
    QVERIFY(b.value(QLatin1String("packets_in")).isNull());
}

void TestConnectionExport::emptyJson()
{
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    QVERIFY(writeConnectionsJson({}, buf, nullptr));
    QVERIFY(QJsonDocument::fromJson(buf.data()).isArray());
    QCOMPARE(QJsonDocument::fromJson(buf.data()).array().size(), 0);
}

void TestConnectionExport::exportByPath()
{
    QTemporaryDir dir;
    QString error;
    const QString csv = dir.filePath(QStringLiteral("out.CSV"));
    QVERIFY2(exportConnections({closedConnection()}, csv, &error), qPrintable(error));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().startsWith("id,pid,comm,"));
    QVERIFY(
        exportConnections({closedConnection()}, dir.filePath(QStringLiteral("o.json")), &error));
    QVERIFY(!exportConnections({}, dir.filePath(QStringLiteral("o.xml")), &error));
    QVERIFY(error.contains(QLatin1String("unknown format")));
    QVERIFY(!exportConnections({}, dir.filePath(QStringLiteral("no/dir/o.csv")), &error));
    QVERIFY(!error.isEmpty());
}

void TestConnectionExport::kernelColumns()
{
    Connection listener = openConnection();
    listener.id = 3;
    listener.role = ConnectionRole::Listener;
    listener.kernel.listenDrops = 4;
    listener.kernel.backlogMax = 129;
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    QString error;
    QVERIFY(writeConnectionsCsv({closedConnection(), openConnection(), listener}, buf, &error));
    const QList<QStringList> rows = parseCsv(QString::fromUtf8(buf.data()));
    QCOMPARE(rows.size(), 4);
    const QStringList cols = connectionExportColumns();
    auto cell = [&](int row, const char *name) {
        const qsizetype i = cols.indexOf(QLatin1String(name));
        return i < 0 ? QStringLiteral("<no column %1>").arg(QLatin1String(name)) : rows[row][i];
    };
    QCOMPARE(cell(1, "srtt_us_min"), QStringLiteral("18"));
    QCOMPARE(cell(1, "srtt_us_max"), QStringLiteral("4000000000"));
    QCOMPARE(cell(1, "cwnd_max"), QStringLiteral("1234"));
    QCOMPARE(cell(1, "resets_sent"), QStringLiteral("1"));
    QCOMPARE(cell(1, "resets_received"), QStringLiteral("3"));
    QCOMPARE(cell(1, "drops"), QStringLiteral("5"));
    QCOMPARE(cell(1, "kernel_samples"), QStringLiteral("812"));
    QCOMPARE(cell(1, "kernel_retransmits"), QStringLiteral("17"));
    QCOMPARE(cell(1, "syn_retransmits"), QStringLiteral("2"));
    QCOMPARE(cell(1, "synack_retransmits"), QStringLiteral("0"));
    QCOMPARE(cell(1, "listen_drops"), QString()); // not a listener
    QCOMPARE(cell(1, "backlog_max"), QString());
    // Captured but no sample of this connection: extremes unknown, counts are real zeros.
    QCOMPARE(cell(2, "srtt_us_min"), QString());
    QCOMPARE(cell(2, "srtt_us_max"), QString());
    QCOMPARE(cell(2, "cwnd_max"), QString());
    QCOMPARE(cell(2, "resets_sent"), QStringLiteral("0"));
    QCOMPARE(cell(2, "drops"), QStringLiteral("0"));
    QCOMPARE(cell(3, "listen_drops"), QStringLiteral("4"));
    QCOMPARE(cell(3, "backlog_max"), QStringLiteral("129"));

    QBuffer json;
    json.open(QIODevice::WriteOnly);
    QVERIFY(writeConnectionsJson({closedConnection(), openConnection()}, json, &error));
    const QJsonArray arr = QJsonDocument::fromJson(json.data()).array();
    const QJsonObject a = arr[0].toObject(), b = arr[1].toObject();
    QCOMPARE(a.value(QLatin1String("srtt_us_max")).toInteger(), 4'000'000'000LL);
    QCOMPARE(a.value(QLatin1String("cwnd_max")).toInteger(), 1234);
    QCOMPARE(a.value(QLatin1String("resets_received")).toInteger(), 3);
    QCOMPARE(a.value(QLatin1String("drops")).toInteger(), 5);
    QVERIFY(b.value(QLatin1String("srtt_us_min")).isNull());
    QCOMPARE(b.value(QLatin1String("resets_sent")).toInteger(), 0);
    QVERIFY(b.value(QLatin1String("resets_sent")).isDouble()); // a number, not null
}

void TestConnectionExport::kernelColumnsNotCaptured()
{
    // --no-tcpinfo or a file from before the kernel view: every kernel column is unknown, never 0.
    ConnectionExportOptions options;
    options.kernelMetrics = false;
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    QString error;
    QVERIFY(writeConnectionsCsv({closedConnection()}, buf, &error, options));
    const QList<QStringList> rows = parseCsv(QString::fromUtf8(buf.data()));
    const QStringList cols = connectionExportColumns();
    for (const char *name :
         {"srtt_us_min", "srtt_us_max", "cwnd_max", "resets_sent", "resets_received", "drops",
          "kernel_samples", "kernel_retransmits", "syn_retransmits", "synack_retransmits"})
        QVERIFY2(rows[1][cols.indexOf(QLatin1String(name))].isEmpty(), name);
    QCOMPARE(rows[1][cols.indexOf(QLatin1String("srtt_us"))], QStringLiteral("30")); // close stats
    QBuffer json;
    json.open(QIODevice::WriteOnly);
    QVERIFY(writeConnectionsJson({closedConnection()}, json, &error, options));
    const QJsonObject a = QJsonDocument::fromJson(json.data()).array()[0].toObject();
    QVERIFY(a.value(QLatin1String("drops")).isNull());
    QVERIFY(a.value(QLatin1String("cwnd_max")).isNull());
}

void TestConnectionExport::terminationColumns()
{
    // Local close: FIN_WAIT1 at +10 ms, FIN_WAIT2 at +11 ms, handed to the timewait socket
    // (CLOSE) at +20 ms; the session ended 30 s after the start, inside TIME_WAIT's 60 s.
    Connection local = closedConnection();
    local.kernel = KernelSummary{}; // no traced RST: an orderly close
    const qint64 t0 = local.startNs;
    local.endNs = t0 + 20'000'000;
    local.history = {{t0, TcpState::Close, TcpState::SynSent, 1, QString()},
                     {t0 + 50'000, TcpState::SynSent, TcpState::Established, 0, QString()},
                     {t0 + 10'000'000, TcpState::Established, TcpState::FinWait1, 0, QString()},
                     {t0 + 11'000'000, TcpState::FinWait1, TcpState::FinWait2, 0, QString()},
                     {local.endNs, TcpState::FinWait2, TcpState::Close, 0, QString()}};
    // Reset by the peer while established.
    Connection reset = closedConnection();
    reset.id = 4;
    reset.closeReason = CloseReason::Reset;
    reset.kernel.resetsReceived = 1;
    reset.kernel.resetsSent = 0;
    ConnectionExportOptions options;
    options.sessionEndNs = t0 + 30'000'000'000;
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    QString error;
    QVERIFY(writeConnectionsCsv({local, openConnection(), reset}, buf, &error, options));
    const QList<QStringList> rows = parseCsv(QString::fromUtf8(buf.data()));
    const QStringList cols = connectionExportColumns();
    auto cell = [&](int row, const char *name) {
        const qsizetype i = cols.indexOf(QLatin1String(name));
        return i < 0 ? QStringLiteral("<no column %1>").arg(QLatin1String(name)) : rows[row][i];
    };
    QCOMPARE(cell(1, "closed_first"), QStringLiteral("local"));
    QCOMPARE(cell(1, "reset_by"), QString());
    QCOMPARE(cell(1, "half_closed_ms"), QStringLiteral("10.000"));
    QCOMPARE(cell(1, "fin_wait2_ms"), QStringLiteral("9.000"));
    QCOMPARE(cell(1, "time_wait_ms"), QStringLiteral("29980.000")); // still running at the end
    QCOMPARE(cell(1, "time_wait_inferred"), QStringLiteral("1"));
    for (const char *name : {"closed_first", "reset_by", "half_closed_ms", "fin_wait2_ms",
                             "time_wait_ms", "time_wait_inferred"})
        QVERIFY2(cell(2, name).isEmpty(), name); // open, never closed: all unknown
    QCOMPARE(cell(3, "reset_by"), QStringLiteral("peer"));
    QCOMPARE(cell(3, "time_wait_ms"), QString()); // an RST skips TIME_WAIT

    // Without a stop time (killed recorder) the last instant the connections know bounds it.
    QBuffer json;
    json.open(QIODevice::WriteOnly);
    QVERIFY(writeConnectionsJson({local}, json, &error));
    const QJsonObject a = QJsonDocument::fromJson(json.data()).array()[0].toObject();
    QCOMPARE(a.value(QLatin1String("closed_first")).toString(), QStringLiteral("local"));
    QCOMPARE(a.value(QLatin1String("time_wait_ms")).toDouble(), 0.0);
    QVERIFY(a.value(QLatin1String("reset_by")).isNull());
}

// The user's notes on a connection (and on its packets) in its `annotations` cell, one per
// line; a connection without notes has an unknown cell.
void TestConnectionExport::annotationsColumn()
{
    const Connection a = closedConnection();
    Connection b = openConnection();
    QVERIFY(a.id != b.id);
    Annotation onA;
    onA.connectionId = a.id;
    onA.text = QStringLiteral("slow, see\nthe graph");
    onA.author = QStringLiteral("alice");
    Annotation onPacket = onA;
    onPacket.packetId = 42;
    onPacket.text = QStringLiteral("lost here");
    onPacket.author.clear();
    Annotation onRange;
    onRange.startNs = 1;
    onRange.endNs = 2;
    onRange.text = QStringLiteral("deploy");
    const QVector<Annotation> notes{onA, onPacket, onRange};
    ConnectionExportOptions options;
    options.annotations = &notes;
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    QString error;
    QVERIFY(writeConnectionsJson({a, b}, buf, &error, options));
    const QJsonArray rows = QJsonDocument::fromJson(buf.data()).array();
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows[0].toObject().value(QLatin1String("annotations")).toString(),
             QStringLiteral("slow, see the graph (alice)\npacket 42: lost here"));
    QVERIFY(rows[1].toObject().value(QLatin1String("annotations")).isNull());
    // Appended after the termination columns; the owner columns come after it.
    const QStringList cols = connectionExportColumns();
    QCOMPARE(cols.at(cols.indexOf(QLatin1String("time_wait_inferred")) + 1),
             QStringLiteral("annotations"));
}

void TestConnectionExport::ownerColumns()
{
    // Where the socket lives: the host, the cgroup path and what it names, the namespace.
    Connection a = closedConnection();
    a.id = 1;
    a.cgroupId = 25;
    a.netnsIno = 4026532000u;
    Connection b = closedConnection();
    b.id = 2;
    b.cgroupId = 26; // not named by the capture
    b.netnsIno = 4026531840u;
    const QString id(64, QLatin1Char('e'));
    OwnerNames names;
    names.cgroupPaths.insert(25, QStringLiteral("/kubepods/burstable/pod5e1f2a3b-4c5d-4e6f-8a9b-"
                                                "0c1d2e3f4a5b/crio-%1.scope")
                                     .arg(id));
    names.netnsNames.insert(4026532000u, QStringLiteral("blue"));
    ConnectionExportOptions options;
    options.host = QStringLiteral("web1");
    options.owners = &names;
    const QHash<qint64, qint64> peers{{a.id, b.id}, {b.id, a.id}};
    options.peers = &peers;
    QBuffer buf;
    buf.open(QIODevice::WriteOnly);
    QString error;
    QVERIFY(writeConnectionsJson({a, b}, buf, &error, options));
    const QJsonArray rows = QJsonDocument::fromJson(buf.data()).array();
    QCOMPARE(rows.size(), 2);
    const QJsonObject x = rows[0].toObject(), y = rows[1].toObject();
    QCOMPARE(x.value(QLatin1String("host")).toString(), QStringLiteral("web1"));
    QCOMPARE(x.value(QLatin1String("cgroup_path")).toString(), names.cgroupPaths.value(25));
    QCOMPARE(x.value(QLatin1String("container_id")).toString(), id);
    QCOMPARE(x.value(QLatin1String("pod_uid")).toString(),
             QStringLiteral("5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"));
    QCOMPARE(x.value(QLatin1String("systemd_unit")).toString(),
             QStringLiteral("crio-%1.scope").arg(id));
    QCOMPARE(x.value(QLatin1String("netns")).toString(), QStringLiteral("blue"));
    for (const char *unknown : {"cgroup_path", "container_id", "pod_uid", "systemd_unit"})
        QVERIFY2(y.value(QLatin1String(unknown)).isNull(), unknown);
    QCOMPARE(y.value(QLatin1String("netns")).toString(), QStringLiteral("4026531840"));
    QCOMPARE(x.value(QLatin1String("peer")).toInteger(), b.id);
    QCOMPARE(y.value(QLatin1String("peer")).toInteger(), a.id);
    const QStringList cols = connectionExportColumns();
    QCOMPARE(cols.mid(cols.size() - 7),
             QStringLiteral("host,cgroup_path,container_id,pod_uid,systemd_unit,netns,peer")
                 .split(QLatin1Char(',')));
}

QTEST_GUILESS_MAIN(TestConnectionExport)
#include "test_connection_export.moc"
