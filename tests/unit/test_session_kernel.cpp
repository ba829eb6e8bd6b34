// SPDX-License-Identifier: GPL-3.0-or-later
// Session format v3: the kernel's view (tcp samples, kernel events, drops with named reasons,
// listener samples), KernelSummary columns and kernel meta facts round trip field by field;
// ReadOptions (kernel=false, one connection); version 2 files still read; a hostile schema is
// refused with one line, hostile kernel values read as unknown and are counted; a write failure
// (file size limit, as a full disk) keeps the batches committed before it.
#include "session/session_reader.h"
#include "session/session_writer.h"
#include "session_kernel_fixture.h"
#include "session_sql.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <sqlite3.h>
#include <sys/resource.h>

extern "C" {
#include "tcpscope_records.h"
}

using namespace tcpscope;

class TestSessionKernel : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void roundTrip_data();
    void roundTrip();
    void timeOrderAcrossBatches();
    void connectionFilter();
    void kernelFalse();
    void version2FileStillReads();
    void rejects_data();
    void rejects();
    void toleratesValues_data();
    void toleratesValues();
    void writeFailureKeepsEarlierBatches();
    void unwritableLocation();

private:
    // The row format (3) unless asked: these tests cover its SQL surface and hostile rows.
    QString writeSession(const char *name, int major = 3);
    std::unique_ptr<QTemporaryDir> m_dir;
};

using namespace tcpscope::testing;

void TestSessionKernel::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QString TestSessionKernel::writeSession(const char *name, int major)
{
    QString file = m_dir->filePath(QLatin1String(name));
    QString error;
    auto writer = SessionWriter::create(file, &error, major);
    if (!writer)
        return QString();
    writer->setInfo(info());
    writer->writeConnection(conn(1));
    writer->writeConnection(conn(2));
    writer->writeConnection(conn(3, ConnectionRole::Listener));
    writer->writeKernelData(batch1());
    writer->writeKernelData({}); // empty batches are no work
    if (!writer->close(&error))
        return QString();
    return file;
}

void TestSessionKernel::roundTrip_data()
{
    QTest::addColumn<int>("major");
    QTest::newRow("rows (3)") << 3;
    QTest::newRow("chunks (4)") << 4;
}

void TestSessionKernel::roundTrip()
{
    QFETCH(int, major);
    const QString file = writeSession("round.tcpscope", major);
    QVERIFY(!file.isEmpty());
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    const SessionInfo want = info();
    QCOMPARE(data->info.kernelMetrics, true);
    QCOMPARE(data->info.sampleIntervalUs, want.sampleIntervalUs);
    QCOMPARE(data->info.samplesReceived, want.samplesReceived);
    QCOMPARE(data->info.kernelEventsReceived, want.kernelEventsReceived);
    QCOMPARE(data->info.dropsReceived, want.dropsReceived);
    QCOMPARE(data->connections.size(), 3);
    compare(data->connections[0].kernel, conn(1).kernel);
    compare(data->connections[1].kernel, conn(2).kernel);
    compare(data->connections[2].kernel, conn(3, ConnectionRole::Listener).kernel);

    const KernelData k = batch1();
    QCOMPARE(data->kernel.samples.size(), k.samples.size());
    for (qsizetype i = 0; i < k.samples.size(); ++i)
        compare(data->kernel.samples[i], k.samples[i]);
    QCOMPARE(data->kernel.events.size(), k.events.size());
    for (qsizetype i = 0; i < k.events.size(); ++i)
        compare(data->kernel.events[i], k.events[i]);
    QCOMPARE(data->kernel.drops.size(), k.drops.size());
    for (qsizetype i = 0; i < k.drops.size(); ++i)
        compare(data->kernel.drops[i], k.drops[i]);
    QCOMPARE(data->kernel.listeners.size(), k.listeners.size());
    for (qsizetype i = 0; i < k.listeners.size(); ++i)
        compare(data->kernel.listeners[i], k.listeners[i]);

    if (major != 3)
        return; // the SQL surface below is the row format's
    // What sqlite3 users see: NULL for unjoined rows and unknown extremes, reason names stored.
    sqlite3 *db = nullptr;
    QCOMPARE(
        sqlite3_open_v2(QFile::encodeName(file).constData(), &db, SQLITE_OPEN_READONLY, nullptr),
        SQLITE_OK);
    auto one = [db](const char *q) {
        sqlite3_stmt *s = nullptr;
        sqlite3_prepare_v2(db, q, -1, &s, nullptr);
        QString v;
        if (s && sqlite3_step(s) == SQLITE_ROW)
            v = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(s, 0)));
        sqlite3_finalize(s);
        return v;
    };
    QCOMPARE(one("SELECT count(*) FROM tcp_samples WHERE connection_id IS NULL"),
             QStringLiteral("1"));
    QCOMPARE(one("SELECT reason_name || ':' || count(*) FROM drops WHERE reason = 2"),
             QStringLiteral("NO_SOCKET:1"));
    QCOMPARE(one("SELECT count(*) FROM kernel_events WHERE reason IS NULL"), QStringLiteral("4"));
    QCOMPARE(one("SELECT ifnull(srtt_us_min, 'null') FROM connections WHERE id = 2"),
             QStringLiteral("null"));
    QCOMPARE(one("SELECT old_ca_state || '>' || new_ca_state FROM kernel_events"
                 " WHERE kind = 'cong-state'"),
             QStringLiteral("Open>Loss"));
    QCOMPARE(one("SELECT ca_state FROM tcp_samples ORDER BY ts_ns LIMIT 1 OFFSET 3"),
             QStringLiteral("Loss"));
    QCOMPARE(one("SELECT value FROM meta WHERE key = 'kernel_metrics'"), QStringLiteral("1"));
    sqlite3_close(db);
}

void TestSessionKernel::timeOrderAcrossBatches()
{
    // Rows arrive per batch; the reader hands them back in time order (the model's promise).
    const QString file = m_dir->filePath(QStringLiteral("order.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    writer->writeConnection(conn(1));
    KernelData late, early;
    late.samples = {sample(1, 50)};
    late.drops = {drop(1, 50, 4)};
    early.samples = {sample(1, 10), sample(1, 10)}; // same time twice: insertion order kept
    early.samples[1].cwnd = 99;
    early.drops = {drop(1, 10, 6)};
    writer->writeKernelData(late);
    QVERIFY(writer->flush(&error));
    writer->writeKernelData(early);
    QVERIFY(writer->close(&error));
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->kernel.samples.size(), 3);
    QCOMPARE(data->kernel.samples[0].timeNs, kT0 + 10);
    QCOMPARE(data->kernel.samples[0].cwnd, 20u);
    QCOMPARE(data->kernel.samples[1].cwnd, 99u);
    QCOMPARE(data->kernel.samples[2].timeNs, kT0 + 50);
    QCOMPARE(data->kernel.drops[0].srcAddr.family(), AddressFamily::IPv6);
    QCOMPARE(data->kernel.drops[1].srcAddr.family(), AddressFamily::IPv4);
}

void TestSessionKernel::connectionFilter()
{
    const QString file = writeSession("filter.tcpscope");
    QString error;
    ReadOptions one;
    one.connectionId = 1;
    auto data = SessionReader::read(file, &error, one);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->connections.size(), 3); // connections are always all there
    QCOMPARE(data->kernel.samples.size(), 2);
    QCOMPARE(data->kernel.samples[0].timeNs, kT0 + 1);
    QCOMPARE(data->kernel.samples[1].timeNs, kT0 + 4);
    QCOMPARE(data->kernel.events.size(), 2);
    QCOMPARE(data->kernel.events[0].kind, KernelEventKind::Retransmit);
    QCOMPARE(data->kernel.events[1].kind, KernelEventKind::CongestionState);
    QVERIFY(data->kernel.drops.isEmpty());
    QVERIFY(data->kernel.listeners.isEmpty());

    one.connectionId = 2;
    data = SessionReader::read(file, &error, one);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->kernel.samples.size(), 1);
    QCOMPARE(data->kernel.events.size(), 1);
    QCOMPARE(data->kernel.events[0].kind, KernelEventKind::ResetReceived);
    QCOMPARE(data->kernel.drops.size(), 1);
    QCOMPARE(data->kernel.drops[0].srcAddr.family(), AddressFamily::IPv6);

    one.connectionId = 3; // the listener: its SYN-ACK resend and its accept-queue samples
    data = SessionReader::read(file, &error, one);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(data->kernel.samples.isEmpty());
    QCOMPARE(data->kernel.events.size(), 1);
    QCOMPARE(data->kernel.events[0].kind, KernelEventKind::SynAckRetransmit);
    QCOMPARE(data->kernel.listeners.size(), 1);
    QCOMPARE(data->kernel.listeners[0].connectionId, qint64(3));

    one.connectionId = 99;
    data = SessionReader::read(file, &error, one);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(data->kernel.isEmpty());
}

void TestSessionKernel::kernelFalse()
{
    const QString file = writeSession("nokernel.tcpscope");
    QString error;
    ReadOptions options;
    options.kernel = false;
    const auto data = SessionReader::read(file, &error, options);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(data->kernel.isEmpty());
    // Summaries and facts are still there: they live in connections and meta.
    QCOMPARE(data->connections[0].kernel.samples, 1001u);
    QVERIFY(data->info.kernelMetrics);
    // Everything but the samples (what `tcpscope info` reads).
    ReadOptions noSamples;
    noSamples.kernelSamples = false;
    const auto some = SessionReader::read(file, &error, noSamples);
    QVERIFY2(some, qPrintable(error));
    QVERIFY(some->kernel.samples.isEmpty());
    QCOMPARE(some->kernel.events.size(), batch1().events.size());
    QCOMPARE(some->kernel.drops.size(), batch1().drops.size());
    QCOMPARE(some->kernel.listeners.size(), batch1().listeners.size());
    // A hostile kernel row is not even looked at when kernel rows are not read.
    sql(file, "UPDATE tcp_samples SET ca_state = 'Bogus'");
    QVERIFY2(SessionReader::read(file, &error, options), qPrintable(error));
    QVERIFY2(SessionReader::read(file, &error, noSamples), qPrintable(error));
    QCOMPARE(SessionReader::read(file, &error, noSamples)->valuesOutOfRange, 0u);
    // Read, the samples have no congestion state: they are left out and counted.
    const auto all = SessionReader::read(file, &error);
    QVERIFY2(all, qPrintable(error));
    QVERIFY(all->kernel.samples.isEmpty());
    QCOMPARE(all->valuesOutOfRange, quint64(batch1().samples.size()));
}

void TestSessionKernel::version2FileStillReads()
{
    // A version 2 file as tcpscope wrote it before kernel metrics.
    const QString file = writeSession("v2.tcpscope");
    QByteArray statements = "DROP TABLE tcp_samples; DROP TABLE kernel_events; DROP TABLE drops; "
                            "DROP TABLE listener_samples; DELETE FROM meta WHERE key IN "
                            "('kernel_metrics','sample_interval_us','samples_received',"
                            "'kernel_events_received','drops_received'); ";
    for (const char *c : {"kernel_samples", "srtt_us_min", "srtt_us_max", "cwnd_max",
                          "kernel_retransmits", "syn_retransmits", "synack_retransmits",
                          "resets_sent", "resets_received", "drops", "listen_drops", "backlog_max"})
        statements += QByteArray("ALTER TABLE connections DROP COLUMN ") + c + "; ";
    statements += "PRAGMA user_version = 2; VACUUM;";
    sql(file, statements.constData());
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->connections.size(), 3);
    QCOMPARE(data->connections[0].comm, QStringLiteral("iperf3"));
    compare(data->connections[0].kernel, KernelSummary{});
    QVERIFY(data->kernel.isEmpty());
    QVERIFY(!data->info.kernelMetrics);
    QCOMPARE(data->info.sampleIntervalUs, 0u);
    // A v2 file with a v3 table is not a v2 file.
    sql(file, "CREATE TABLE drops(id INTEGER);");
    QVERIFY(!SessionReader::read(file, &error));
    QVERIFY2(error.contains(QLatin1String("unexpected table 'drops'")), qPrintable(error));
}

void TestSessionKernel::rejects_data()
{
    // Structural damage only: a schema that is not ours is refused with one line.
    QTest::addColumn<QString>("statement");
    QTest::addColumn<QString>("expected");
    QTest::newRow("extra index") << "CREATE INDEX evil ON drops(reason)"
                                 << "unexpected index 'evil'";
    QTest::newRow("trigger on samples")
        << "CREATE TRIGGER t AFTER INSERT ON tcp_samples BEGIN DELETE FROM drops; END"
        << "unexpected trigger 't'";
    QTest::newRow("missing column") << "ALTER TABLE drops DROP COLUMN payload_len"
                                    << "table 'drops' has columns";
}

void TestSessionKernel::toleratesValues_data()
{
    // A value out of range (even one tcpscope itself once wrote) is not structural damage: it
    // reads as unknown and is counted; a row whose identity is unknown (kind, congestion state)
    // is left out, also counted. Everything else in the file still reads.
    QTest::addColumn<QString>("statement");
    QTest::addColumn<bool>("skipsRow");
    QTest::newRow("ca_state name")
        << QStringLiteral("UPDATE tcp_samples SET ca_state = 'Bogus' WHERE rowid = 2") << true;
    QTest::newRow("ca_state number")
        << QStringLiteral("UPDATE tcp_samples SET ca_state = 3 WHERE rowid = 2") << true;
    QTest::newRow("negative cwnd")
        << QStringLiteral("UPDATE tcp_samples SET cwnd = -1 WHERE rowid = 1") << false;
    QTest::newRow("negative time")
        << QStringLiteral("UPDATE tcp_samples SET ts_ns = -5 WHERE rowid = 3") << false;
    QTest::newRow("srtt beyond u32")
        << QStringLiteral("UPDATE tcp_samples SET srtt_us = 4294967296") << false;
    QTest::newRow("mss") << QStringLiteral("UPDATE tcp_samples SET mss = 70000 WHERE rowid = 1")
                         << false;
    QTest::newRow("fields") << QStringLiteral(
                                   "UPDATE tcp_samples SET fields = 65536 WHERE rowid = 1")
                            << false;
    QTest::newRow("sample as text")
        << QStringLiteral("UPDATE tcp_samples SET bytes_acked = 'lots'") << false;
    QTest::newRow("orphan sample")
        << QStringLiteral("UPDATE tcp_samples SET connection_id = 77 WHERE rowid = 1") << false;
    QTest::newRow("event kind") << QStringLiteral(
                                       "UPDATE kernel_events SET kind = 'explode' WHERE rowid = 1")
                                << true;
    QTest::newRow("event state") << QStringLiteral(
                                        "UPDATE kernel_events SET state = 'BOGUS' WHERE rowid = 2")
                                 << false;
    QTest::newRow("event segs") << QStringLiteral(
                                       "UPDATE kernel_events SET segs = 70000 WHERE rowid = 1")
                                << false;
    QTest::newRow("event reason") << QStringLiteral(
                                         "UPDATE kernel_events SET reason = -2 WHERE rowid = 2")
                                  << false;
    QTest::newRow("reason name too long")
        << QStringLiteral(
               "UPDATE kernel_events SET reason_name = printf('%.*c', 300, 'X') WHERE rowid = 2")
        << false;
    QTest::newRow("cong-state without states")
        << QStringLiteral("UPDATE kernel_events SET new_ca_state = NULL WHERE kind = 'cong-state'")
        << true;
    QTest::newRow("cong-state bad state")
        << QStringLiteral(
               "UPDATE kernel_events SET old_ca_state = 'Panic' WHERE kind = 'cong-state'")
        << true;
    QTest::newRow("ca states on a retransmit")
        << QStringLiteral("UPDATE kernel_events SET old_ca_state = 'Open' WHERE rowid = 1")
        << false;
    QTest::newRow("drop family") << QStringLiteral("UPDATE drops SET family = 5 WHERE rowid = 1")
                                 << false;
    QTest::newRow("drop port") << QStringLiteral(
                                      "UPDATE drops SET src_port = 65536 WHERE rowid = 2")
                               << false;
    QTest::newRow("drop address") << QStringLiteral(
                                         "UPDATE drops SET dst_addr = '::1' WHERE rowid = 1")
                                  << false;
    QTest::newRow("drop reason") << QStringLiteral(
                                        "UPDATE drops SET reason = 4294967296 WHERE rowid = 1")
                                 << false;
    QTest::newRow("drop reason name blob")
        << QStringLiteral("UPDATE drops SET reason_name = x'00ff' WHERE rowid = 1") << false;
    QTest::newRow("drop sock state")
        << QStringLiteral("UPDATE drops SET sock_state = 'ZOMBIE' WHERE rowid = 1") << false;
    QTest::newRow("listener drops")
        << QStringLiteral("UPDATE listener_samples SET drops = 'many' WHERE rowid = 1") << false;
    QTest::newRow("listener backlog")
        << QStringLiteral("UPDATE listener_samples SET backlog = 10000000000 WHERE rowid = 2")
        << false;
    QTest::newRow("listener addr")
        << QStringLiteral("UPDATE listener_samples SET addr = 'localhost'") << false;
    QTest::newRow("summary negative")
        << QStringLiteral("UPDATE connections SET cwnd_max = -3 WHERE id = 1") << false;
    QTest::newRow("summary absurd")
        << QStringLiteral("UPDATE connections SET kernel_retransmits = 99999999999 WHERE id = 2")
        << false;
    QTest::newRow("summary min above max")
        << QStringLiteral("UPDATE connections SET srtt_us_min = 50, srtt_us_max = 10 WHERE id = 1")
        << false;
}

void TestSessionKernel::toleratesValues()
{
    QFETCH(QString, statement);
    QFETCH(bool, skipsRow);
    const QString file = writeSession("odd.tcpscope");
    QString error;
    auto rowsOf = [](const SessionData &d) {
        return d.kernel.samples.size() + d.kernel.events.size() + d.kernel.drops.size() +
               d.kernel.listeners.size();
    };
    const auto before = SessionReader::read(file, &error);
    QVERIFY2(before, qPrintable(error));
    QCOMPARE(before->valuesOutOfRange, 0u);
    const int changed = sqlChanges(file, statement.toUtf8().constData());
    QVERIFY(changed > 0);
    const auto after = SessionReader::read(file, &error);
    QVERIFY2(after, qPrintable(error));
    QVERIFY2(after->valuesOutOfRange >= quint64(changed),
             qPrintable(QString::number(after->valuesOutOfRange)));
    QCOMPARE(rowsOf(*after), rowsOf(*before) - (skipsRow ? changed : 0));
    QCOMPARE(after->connections.size(), before->connections.size());
}

void TestSessionKernel::rejects()
{
    QFETCH(QString, statement);
    QFETCH(QString, expected);
    const QString file = writeSession("hostile.tcpscope");
    QVERIFY(!file.isEmpty());
    sql(file, statement.toUtf8().constData());
    QString error;
    QVERIFY(!SessionReader::read(file, &error));
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(!error.contains(QLatin1Char('\n')), qPrintable(error));
}

void TestSessionKernel::writeFailureKeepsEarlierBatches()
{
    // A file size limit makes the kernel refuse writes past it (EFBIG), as a full disk would.
    const QString file = m_dir->filePath(QStringLiteral("full.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    writer->setInfo(info());
    writer->writeConnection(conn(1));
    writer->writeConnection(conn(2));
    writer->writeConnection(conn(3, ConnectionRole::Listener));
    writer->writeKernelData(batch1());
    QVERIFY2(writer->flush(&error), qPrintable(error));

    KernelData big;
    for (int i = 0; i < 40000; ++i)
        big.samples.append(sample(1, 1000 + i));
    rlimit saved{};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur =
        rlim_t(std::max(QFileInfo(file).size(), QFileInfo(file + QStringLiteral("-wal")).size()) +
               64 * 1024);
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
    writer->writeKernelData(big);
    const bool flushed = writer->flush(&error);
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, oldHandler);
    QVERIFY(!flushed);
    QVERIFY2(error.startsWith(QLatin1String("cannot write session: ")), qPrintable(error));
    QVERIFY(!error.contains(QLatin1Char('\n')));
    qInfo("write failure reported as: %s", qPrintable(error));
    QString closeError;
    QVERIFY(!writer->close(&closeError)); // the error is sticky: the session is incomplete
    QCOMPARE(closeError, error);

    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->connections.size(), 3);
    QCOMPARE(data->kernel.samples.size(), batch1().samples.size()); // all of batch 1, none of 2
    QCOMPARE(data->kernel.events.size(), batch1().events.size());
    QCOMPARE(data->kernel.drops.size(), batch1().drops.size());
    QVERIFY(data->info.kernelMetrics);
}

void TestSessionKernel::unwritableLocation()
{
    QString error;
    const QString file = m_dir->filePath(QStringLiteral("no/such/dir/x.tcpscope"));
    QVERIFY(!SessionWriter::create(file, &error));
    QVERIFY2(error.startsWith(QLatin1String("cannot create session file: ")), qPrintable(error));
    QVERIFY(!error.contains(QLatin1Char('\n')));
    QVERIFY(!QFile::exists(file));
}

QTEST_GUILESS_MAIN(TestSessionKernel)
#include "test_session_kernel.moc"
