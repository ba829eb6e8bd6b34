// SPDX-License-Identifier: GPL-3.0-or-later
// The capture filter's owner terms on the real kernel: `record --filter 'cgroup PATH'`,
// `'netns NAME'` and `'pid N'` keep only the connections, packets and kernel samples of that
// owner while other traffic runs beside it; paths, names and pids the host does not have are
// refused with one line and exit 2 before anything is recorded. Every cgroup, namespace and
// process the test makes is removed, also when it fails.
#include "owner_support.h"

#include <QProcess>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <sys/stat.h>
#include <unistd.h>

using namespace tcpscope;
using test::runCommand;

class TestOwnerFilter : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void unknownOwnersRefused();
    void cgroupSubtree();
    void networkNamespace_data();
    void networkNamespace();
    void processName();
    void processId_data();
    void processId();

private:
    // record --filter FILTER into file for `seconds`; started, attached (after a pause) or null.
    std::unique_ptr<QProcess> startRecord(const QString &file, const QString &filter, int seconds);
    bool finishRecord(QProcess &record);
    // A data exchange (server and client, 2 connections, both ways) run by sh, prefixed by
    // `prefix` (a command that joins an owner): the samples need data.
    QString exchangeScript() const;
    QString sql(const QString &file, const QString &query);
    qint64 number(const QString &file, const QString &query)
    {
        return sql(file, query).toLongLong();
    }
    qint64 meta(const QString &file, const QString &key)
    {
        return number(file, QStringLiteral("SELECT value FROM meta WHERE key = '%1'").arg(key));
    }
    // The connections of a session, one per line, for a failure message.
    QString connections(const QString &file)
    {
        return sql(file, QStringLiteral("SELECT id, pid, comm, role, state, local_port, "
                                        "remote_port, netns, cgroup_id, owner_source FROM "
                                        "connections"));
    }
    // Samples and packets stored without one of the session's connections.
    void checkEverythingJoined(const QString &file);

    QString m_tcpscope, m_traffic, m_sqlite, m_netns;
    QString m_helper; // when set, record runs this helper ($TCPSCOPE_HELPER)
    std::unique_ptr<test::TestCgroups> m_cgroups;
    QTemporaryDir m_dir;
};

void TestOwnerFilter::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: recording and making cgroups need root; run as root for this test");
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    m_sqlite = QStandardPaths::findExecutable(QStringLiteral("sqlite3"));
    if (m_sqlite.isEmpty())
        QSKIP("NO SQLITE3: the sqlite3 command reads the sessions (apt install sqlite3)");
    const QString root = test::cgroup2Root();
    if (!root.isEmpty())
        m_cgroups = std::make_unique<test::TestCgroups>(root);
    QVERIFY(m_dir.isValid());
}

void TestOwnerFilter::cleanupTestCase()
{
    if (m_cgroups)
        m_cgroups->removeAll();
    if (!m_netns.isEmpty())
        runCommand(QStringLiteral("ip"), {QStringLiteral("netns"), QStringLiteral("del"), m_netns});
}

std::unique_ptr<QProcess> TestOwnerFilter::startRecord(const QString &file, const QString &filter,
                                                       int seconds)
{
    auto record = std::make_unique<QProcess>();
    record->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    if (!m_helper.isEmpty()) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TCPSCOPE_HELPER"), m_helper);
        record->setProcessEnvironment(env);
    }
    record->start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"), file,
                               QStringLiteral("--duration"), QString::number(seconds),
                               QStringLiteral("--filter"), filter});
    if (!record->waitForStarted())
        return nullptr;
    QTest::qWait(2500); // helper started, filter resolved, hooks attached
    if (record->state() != QProcess::Running)
        return nullptr;
    return record;
}

bool TestOwnerFilter::finishRecord(QProcess &record)
{
    return record.waitForFinished(30000) && record.exitStatus() == QProcess::NormalExit &&
           record.exitCode() == 0;
}

QString TestOwnerFilter::exchangeScript() const
{
    // serve: 2 exchanges, 200 kB out, 100 kB in; clients: the other way round. The server's
    // port comes from its first line.
    return QStringLiteral("F=$(mktemp); T='%1'; \"$T\" serve 4 2 200000 100000 > \"$F\" & "
                          "while ! grep -q port \"$F\"; do sleep 0.05; done; "
                          "P=$(sed -n 's/^port //p' \"$F\"); "
                          "\"$T\" clients 4 \"$P\" 2 100000 200000; R=$?; wait; rm -f \"$F\"; "
                          "exit $R")
        .arg(m_traffic);
}

QString TestOwnerFilter::sql(const QString &file, const QString &query)
{
    QString out;
    if (!runCommand(m_sqlite, {file, query}, &out))
        qWarning("sqlite3 %s: %s", qPrintable(query), qPrintable(out));
    return out.trimmed();
}

void TestOwnerFilter::checkEverythingJoined(const QString &file)
{
    const QString notOurs = QStringLiteral("connection_id = 0 OR connection_id NOT IN "
                                           "(SELECT id FROM connections)");
    QCOMPARE(number(file, QStringLiteral("SELECT coalesce(sum(count), 0) FROM sample_chunks "
                                         "WHERE %1")
                              .arg(notOurs)),
             0);
    QCOMPARE(number(file, QStringLiteral("SELECT coalesce(sum(count), 0) FROM packet_chunks "
                                         "WHERE %1")
                              .arg(notOurs)),
             0);
    // Listener samples (sock_diag, in user space) follow the kernel's verdicts.
    QCOMPARE(number(file, QStringLiteral("SELECT count(*) FROM listener_samples WHERE "
                                         "connection_id IS NULL OR connection_id NOT IN "
                                         "(SELECT id FROM connections)")),
             0);
    QVERIFY2(meta(file, QStringLiteral("samples_received")) > 0, "no kernel samples");
}

void TestOwnerFilter::unknownOwnersRefused()
{
    // Each names its term in one line, exits 2 (bad input) and leaves no session file.
    const QList<QPair<QString, QString>> cases = {
        {QStringLiteral("cgroup /tcpscope-no-such-cgroup"),
         QStringLiteral("invalid filter: cgroup '/tcpscope-no-such-cgroup' does not exist")},
        {QStringLiteral("port 80 and netns tcpscope-no-such-netns"),
         QStringLiteral("invalid filter: netns 'tcpscope-no-such-netns' does not exist")},
        {QStringLiteral("pid 4194304"), QStringLiteral("pid 4194304 does not exist")},
        {QStringLiteral("comm 0123456789abcdef"),
         QStringLiteral("'0123456789abcdef' is not a process name")}};
    for (const auto &[filter, message] : cases) {
        const QString file = m_dir.filePath(QStringLiteral("refused.tcpscope"));
        QProcess record;
        record.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"), file,
                                  QStringLiteral("--duration"), QStringLiteral("2"),
                                  QStringLiteral("--filter"), filter});
        QVERIFY(record.waitForFinished(30000));
        const QString err = QString::fromUtf8(record.readAllStandardError()).trimmed();
        // The reason is one line (a usage error adds its --help hint on the next).
        const QString first = err.section(QLatin1Char('\n'), 0, 0);
        QVERIFY2(first.contains(message), qPrintable(filter + QStringLiteral(": ") + err));
        QCOMPARE(record.exitCode(), 2);
        QVERIFY2(!QFileInfo::exists(file), qPrintable(filter));
    }
}

void TestOwnerFilter::cgroupSubtree()
{
    if (!m_cgroups)
        QSKIP("NO CGROUP V2: no cgroup2 hierarchy is mounted");
    QVERIFY2(m_cgroups->make(QStringLiteral("in/deeper")), qPrintable(m_cgroups->dir()));
    QVERIFY2(m_cgroups->make(QStringLiteral("out")), qPrintable(m_cgroups->dir()));
    const QString file = m_dir.filePath(QStringLiteral("cgroup.tcpscope"));
    // The subtree "in": a process in in/deeper belongs to it.
    auto record =
        startRecord(file, QStringLiteral("cgroup ") + m_cgroups->base() + QStringLiteral("/in"), 8);
    QVERIFY(record);
    QString out;
    QVERIFY2(runCommand(QStringLiteral("sh"),
                        m_cgroups->shellIn(QStringLiteral("in/deeper"), exchangeScript()), &out),
             qPrintable(out));
    QVERIFY2(runCommand(QStringLiteral("sh"),
                        m_cgroups->shellIn(QStringLiteral("in/deeper"),
                                           QStringLiteral("exec '%1' burst 4 3").arg(m_traffic)),
                        &out),
             qPrintable(out));
    // The same outside the subtree, and in the test's own cgroup.
    QVERIFY2(runCommand(QStringLiteral("sh"),
                        m_cgroups->shellIn(QStringLiteral("out"), exchangeScript()), &out),
             qPrintable(out));
    QVERIFY2(runCommand(QStringLiteral("sh"), {QStringLiteral("-c"), exchangeScript()}, &out),
             qPrintable(out));
    QVERIFY(finishRecord(*record));

    const quint64 in = m_cgroups->id(QStringLiteral("in"));
    const quint64 deeper = m_cgroups->id(QStringLiteral("in/deeper"));
    QVERIFY(in && deeper);
    // exchange: listener + 2 x 2 ends; burst: listener + 3 x 2 ends. Nothing else.
    QVERIFY2(number(file, QStringLiteral("SELECT count(*) FROM connections")) == 12,
             qPrintable(connections(file)));
    QCOMPARE(number(file, QStringLiteral("SELECT count(*) FROM connections WHERE cgroup_id "
                                         "NOT IN (%1, %2)")
                              .arg(in)
                              .arg(deeper)),
             0);
    // The owner names of the capturing host are kept with the session.
    QCOMPARE(sql(file, QStringLiteral("SELECT path FROM cgroups WHERE id = %1").arg(deeper)),
             m_cgroups->base() + QStringLiteral("/in/deeper"));
    QVERIFY2(number(file, QStringLiteral("SELECT sum(packets_in + packets_out) FROM "
                                         "connections")) > 0,
             "no packets of the subtree");
    QVERIFY2(meta(file, QStringLiteral("packets_filtered")) > 0, "nothing was left out");
    QCOMPARE(sql(file, QStringLiteral("SELECT value FROM meta WHERE key = 'capture_filter'")),
             QStringLiteral("cgroup ") + m_cgroups->base() + QStringLiteral("/in"));
    checkEverythingJoined(file);
}

void TestOwnerFilter::networkNamespace_data()
{
    QTest::addColumn<bool>("classic");
    QTest::newRow("tp_btf") << false;
    // Lifecycle on the classic tracepoint names sockets without a cookie by their pointer, which
    // the kernel reuses: the verdict must go with the socket.
    QTest::newRow("classic tracepoint") << true;
}

void TestOwnerFilter::networkNamespace()
{
    QFETCH(bool, classic);
    if (QStandardPaths::findExecutable(QStringLiteral("ip")).isEmpty())
        QSKIP("NO IP: iproute2 is not installed; no named network namespace");
    if (classic) {
        const QString real = qEnvironmentVariable("TCPSCOPE_HELPER");
        QVERIFY2(QFileInfo(real).isExecutable(), "TCPSCOPE_HELPER not set: run through ctest");
        m_helper = m_dir.filePath(QStringLiteral("helper-tracepoint.sh"));
        QFile script(m_helper);
        QVERIFY(script.open(QIODevice::WriteOnly | QIODevice::NewOnly));
        script.write(
            QStringLiteral("#!/bin/sh\nexec '%1' --force-tracepoint \"$@\"\n").arg(real).toUtf8());
        script.close();
        QVERIFY(script.setPermissions(QFileDevice::ReadOwner | QFileDevice::ExeOwner));
    }
    const auto restore = qScopeGuard([this] {
        m_helper.clear();
        if (!m_netns.isEmpty())
            runCommand(QStringLiteral("ip"),
                       {QStringLiteral("netns"), QStringLiteral("del"), m_netns});
        m_netns.clear();
    });
    m_netns = QStringLiteral("tcpscope-test-%1").arg(getpid());
    QVERIFY(runCommand(QStringLiteral("ip"),
                       {QStringLiteral("netns"), QStringLiteral("add"), m_netns}));
    QVERIFY(runCommand(QStringLiteral("ip"),
                       {QStringLiteral("-n"), m_netns, QStringLiteral("link"),
                        QStringLiteral("set"), QStringLiteral("lo"), QStringLiteral("up")}));
    struct stat st
    {
    };
    QCOMPARE(::stat(QFile::encodeName(QStringLiteral("/run/netns/") + m_netns).constData(), &st),
             0);
    const quint64 inode = st.st_ino;
    const QString file = m_dir.filePath(classic ? QStringLiteral("netns-tp.tcpscope")
                                                : QStringLiteral("netns.tcpscope"));
    auto record = startRecord(file, QStringLiteral("netns ") + m_netns, 8);
    QVERIFY(record);
    QString out;
    // Inside: the namespace's own loopback. Outside: the host's.
    QVERIFY2(runCommand(QStringLiteral("ip"),
                        {QStringLiteral("netns"), QStringLiteral("exec"), m_netns,
                         QStringLiteral("sh"), QStringLiteral("-c"), exchangeScript()},
                        &out),
             qPrintable(out));
    QVERIFY2(runCommand(QStringLiteral("sh"), {QStringLiteral("-c"), exchangeScript()}, &out),
             qPrintable(out));
    QVERIFY2(runCommand(m_traffic,
                        {QStringLiteral("burst"), QStringLiteral("4"), QStringLiteral("3")}, &out),
             qPrintable(out));
    QVERIFY(finishRecord(*record));
    if (classic) {
        QVERIFY2(sql(file, QStringLiteral("SELECT value FROM meta WHERE key = 'probes'"))
                     .contains(QLatin1String("inet_sock_set_state=tracepoint")),
                 "the helper did not run on the classic tracepoint");
    }
    QVERIFY2(number(file, QStringLiteral("SELECT count(*) FROM connections")) == 5,
             qPrintable(connections(file)));
    QCOMPARE(
        number(file,
               QStringLiteral("SELECT count(*) FROM connections WHERE netns != %1").arg(inode)),
        0);
    QCOMPARE(sql(file, QStringLiteral("SELECT name FROM netns_names WHERE inode = %1").arg(inode)),
             m_netns);
    // The TC programs are attached in the helper's namespace only: the host's loopback packets
    // were seen and left out, the namespace's own loopback is not one of its interfaces.
    QVERIFY2(meta(file, QStringLiteral("packets_filtered")) > 0, "nothing was left out");
    checkEverythingJoined(file);
}

void TestOwnerFilter::processName()
{
    // ts_traffic names itself ts_server when it serves, ts_client otherwise.
    const QString file = m_dir.filePath(QStringLiteral("comm.tcpscope"));
    auto record = startRecord(file, QStringLiteral("proc.name \"ts_server\""), 8);
    QVERIFY(record);
    QString out;
    QVERIFY2(runCommand(QStringLiteral("sh"), {QStringLiteral("-c"), exchangeScript()}, &out),
             qPrintable(out));
    QVERIFY2(runCommand(m_traffic,
                        {QStringLiteral("burst"), QStringLiteral("4"), QStringLiteral("3")}, &out),
             qPrintable(out));
    QVERIFY(finishRecord(*record));
    // The server's listener and its two connections; none of the clients' or the burst's.
    QVERIFY2(number(file, QStringLiteral("SELECT count(*) FROM connections")) == 3,
             qPrintable(connections(file)));
    QCOMPARE(number(file, QStringLiteral("SELECT count(*) FROM connections WHERE comm != "
                                         "'ts_server'")),
             0);
    QVERIFY2(meta(file, QStringLiteral("packets_filtered")) > 0, "nothing was left out");
    checkEverythingJoined(file);
}

void TestOwnerFilter::processId_data()
{
    QTest::addColumn<bool>("listensFirst");
    // A server whose listener predates the capture (the scan names its owner) and one that
    // listens while it runs (lifecycle sees listen()).
    QTest::newRow("listening before") << true;
    QTest::newRow("listens during") << false;
}

void TestOwnerFilter::processId()
{
    QFETCH(bool, listensFirst);
    // The process exists before the capture; it listens at once or once it is told to.
    QProcess server;
    server.start(QStringLiteral("sh"),
                 {QStringLiteral("-c"),
                  QStringLiteral("%1exec '%2' serve 4 2 200000 100000")
                      .arg(listensFirst ? QString() : QStringLiteral("read go; "), m_traffic)});
    QVERIFY(server.waitForStarted());
    const qint64 pid = server.processId();
    if (listensFirst)
        QVERIFY(server.waitForReadyRead(5000));
    const QString file = m_dir.filePath(QStringLiteral("pid.tcpscope"));
    QFile::remove(file);
    auto record = startRecord(file, QStringLiteral("pid %1").arg(pid), 8);
    if (!record) {
        server.kill();
        server.waitForFinished(1000);
        QFAIL("record did not start");
    }
    if (!listensFirst) {
        server.write("go\n");
        QVERIFY(server.waitForReadyRead(5000));
    }
    const QString line = QString::fromUtf8(server.readLine()).trimmed();
    QVERIFY2(line.startsWith(QLatin1String("port ")), qPrintable(line));
    QString out;
    QVERIFY2(runCommand(m_traffic,
                        {QStringLiteral("clients"), QStringLiteral("4"), line.mid(5),
                         QStringLiteral("2"), QStringLiteral("100000"), QStringLiteral("200000")},
                        &out),
             qPrintable(out));
    QVERIFY(server.waitForFinished(10000));
    QVERIFY2(runCommand(QStringLiteral("sh"), {QStringLiteral("-c"), exchangeScript()}, &out),
             qPrintable(out));
    QVERIFY(finishRecord(*record));
    // The server's listener and the two connections it accepted; not the clients' ends.
    QVERIFY2(number(file, QStringLiteral("SELECT count(*) FROM connections")) == 3,
             qPrintable(connections(file)));
    QCOMPARE(
        number(file, QStringLiteral("SELECT count(*) FROM connections WHERE pid != %1").arg(pid)),
        0);
    // Each with its handshake: the SYN reached the listener, which the filter knows as the
    // process's (by listen() or by the scan), so the analyzer saw the peer's MSS and the iRTT.
    QCOMPARE(number(file, QStringLiteral("SELECT count(*) FROM connections WHERE role = 'server' "
                                         "AND mss_remote IS NOT NULL AND irtt_ns IS NOT NULL")),
             2);
    QVERIFY2(number(file, QStringLiteral("SELECT sum(packets_in + packets_out) FROM "
                                         "connections")) > 0,
             "no packets of the process");
    QVERIFY2(meta(file, QStringLiteral("packets_filtered")) > 0, "nothing was left out");
    checkEverythingJoined(file);
}

QTEST_GUILESS_MAIN(TestOwnerFilter)
#include "test_owner_filter.moc"
