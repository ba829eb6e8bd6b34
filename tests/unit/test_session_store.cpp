// SPDX-License-Identifier: GPL-3.0-or-later
// Session files: write/read round trip, and the reader's refusal of broken or hostile files.
// Every broken fixture is a real file made here, in a temporary directory.
#include "session/session.h"
#include "session/session_reader.h"
#include "session/session_store.h"
#include "session/session_writer.h"
#include "session_sql.h"
#include "test_addresses.h"

#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tcpscope;

class TestSessionStore : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void roundTrip();
    void upsertReplacesHistory();
    void closedFileIsSelfContained();
    void saveCopy();
    void saveCopyFailureRemovesDest();
    void rejects_data();
    void rejects();
    void toleratesValues();
    void savedViewRoundTrip();
    void savedViewRefusals();

private:
    QString path(const char *name) const { return m_dir->filePath(QLatin1String(name)); }
    QString writeValid(const char *name, int connections = 3);

    std::unique_ptr<QTemporaryDir> m_dir;
};

namespace {

Connection sampleConnection(qint64 id)
{
    Connection c;
    c.id = id;
    c.sockId = 0x8000'0000'1234'5678ULL + quint64(id); // pointer ids use the top bit
    c.pid = 4000 + quint32(id);
    c.comm = QStringLiteral("proc,\"%1\"").arg(id); // CSV-hostile on purpose
    c.ownerSource = 2;                              // TS_OWNER_LISTENER
    c.cgroupId = 0xffff'ffff'0000'0001ULL;
    c.netnsIno = 4026531840u;
    c.localAddr = test::ip(id % 2 ? QStringLiteral("127.0.0.1") : QStringLiteral("::1"));
    c.localPort = quint16(1000 + id);
    c.remoteAddr = test::ip(id % 2 ? QStringLiteral("10.1.2.3") : QStringLiteral("2001:db8::7"));
    c.remotePort = 443;
    c.role = ConnectionRole::Server;
    c.startNs = 1'700'000'000'123'456'789 + id;
    c.endNs = id == 2 ? 0 : c.startNs + 5'000'000;
    c.handshakeNs = id == 3 ? -1 : 12345;
    c.state = id == 2 ? TcpState::Established : TcpState::Close;
    c.closeReason = id == 2 ? CloseReason::Open : CloseReason::Refused;
    c.haveCloseStats = id != 2;
    c.bytesSent = 0xffff'ffff'ffffULL;
    c.bytesReceived = 42;
    c.segsIn = 7;
    c.segsOut = 8;
    c.retransmits = 9;
    c.srttUs = 10;
    c.minRttUs = 11;
    c.skErr = 111;
    for (int i = 0; i < 3; ++i) {
        StateChange sc;
        sc.timeNs = c.startNs + i * 1000;
        sc.from = i == 0 ? TcpState::Close : TcpState::SynSent;
        sc.to = i == 0 ? TcpState::SynSent : TcpState::Established;
        sc.ctxPid = 99u + quint32(i);
        sc.ctxComm = QStringLiteral("ctx%1").arg(i);
        c.history.append(sc);
    }
    return c;
}

SessionInfo sampleInfo()
{
    SessionInfo info;
    info.kernelRelease = QStringLiteral("6.18.0-test");
    info.hostname = QStringLiteral("host.example");
    info.tcpscopeVersion = QStringLiteral("0.1.0");
    info.probes = {QStringLiteral("inet_sock_set_state=tp_btf"),
                   QStringLiteral("tcp_probe=unavailable (not in this issue)")};
    info.startedNs = 1'700'000'000'000'000'000;
    info.stoppedNs = 1'700'000'010'000'000'000;
    info.recordsReceived = 123456;
    info.lostRecords = 7;
    info.missedProgramRuns = 4;
    return info;
}

void compareConnections(const Connection &a, const Connection &b)
{
    QCOMPARE(a.id, b.id);
    QCOMPARE(a.sockId, b.sockId);
    QCOMPARE(a.pid, b.pid);
    QCOMPARE(a.comm, b.comm);
    QCOMPARE(a.ownerSource, b.ownerSource);
    QCOMPARE(a.cgroupId, b.cgroupId);
    QCOMPARE(a.netnsIno, b.netnsIno);
    QCOMPARE(a.family(), b.family());
    QCOMPARE(a.localAddr, b.localAddr);
    QCOMPARE(a.localPort, b.localPort);
    QCOMPARE(a.remoteAddr, b.remoteAddr);
    QCOMPARE(a.remotePort, b.remotePort);
    QCOMPARE(a.role, b.role);
    QCOMPARE(a.startNs, b.startNs);
    QCOMPARE(a.endNs, b.endNs);
    QCOMPARE(a.handshakeNs, b.handshakeNs);
    QCOMPARE(a.state, b.state);
    QCOMPARE(a.closeReason, b.closeReason);
    QCOMPARE(a.haveCloseStats, b.haveCloseStats);
    QCOMPARE(a.bytesSent, b.bytesSent);
    QCOMPARE(a.bytesReceived, b.bytesReceived);
    QCOMPARE(a.segsIn, b.segsIn);
    QCOMPARE(a.segsOut, b.segsOut);
    QCOMPARE(a.retransmits, b.retransmits);
    QCOMPARE(a.srttUs, b.srttUs);
    QCOMPARE(a.minRttUs, b.minRttUs);
    QCOMPARE(a.skErr, b.skErr);
    QCOMPARE(a.history.size(), b.history.size());
    for (qsizetype i = 0; i < a.history.size(); ++i) {
        QCOMPARE(a.history[i].timeNs, b.history[i].timeNs);
        QCOMPARE(a.history[i].from, b.history[i].from);
        QCOMPARE(a.history[i].to, b.history[i].to);
        QCOMPARE(a.history[i].ctxPid, b.history[i].ctxPid);
        QCOMPARE(a.history[i].ctxComm, b.history[i].ctxComm);
    }
}

} // namespace

using tcpscope::testing::sql;

void TestSessionStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QString TestSessionStore::writeValid(const char *name, int connections)
{
    QString file = path(name);
    QString error;
    auto writer = SessionWriter::create(file, &error);
    if (!writer) {
        qWarning() << error;
        return QString();
    }
    writer->setInfo(sampleInfo());
    for (int i = 1; i <= connections; ++i)
        writer->writeConnection(sampleConnection(i));
    if (!writer->close(&error)) {
        qWarning() << error;
        return QString();
    }
    return file;
}

void TestSessionStore::roundTrip()
{
    const QString file = writeValid("round.tcpscope", 3);
    QVERIFY(!file.isEmpty());
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    const SessionInfo info = sampleInfo();
    QCOMPARE(data->info.kernelRelease, info.kernelRelease);
    QCOMPARE(data->info.hostname, info.hostname);
    QCOMPARE(data->info.tcpscopeVersion, info.tcpscopeVersion);
    QCOMPARE(data->info.probes, info.probes);
    QCOMPARE(data->info.startedNs, info.startedNs);
    QCOMPARE(data->info.stoppedNs, info.stoppedNs);
    QCOMPARE(data->info.recordsReceived, info.recordsReceived);
    QCOMPARE(data->info.lostRecords, info.lostRecords);
    QCOMPARE(data->info.missedProgramRuns, info.missedProgramRuns);
    QCOMPARE(data->connections.size(), 3);
    for (int i = 0; i < 3; ++i)
        compareConnections(data->connections[i], sampleConnection(i + 1));
}

void TestSessionStore::upsertReplacesHistory()
{
    const QString file = path("upsert.tcpscope");
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    Connection c = sampleConnection(1);
    writer->writeConnection(c);
    QVERIFY(writer->flush(&error));
    // The live file is readable while recording (WAL) and shows the committed state.
    c.history.removeLast();
    c.bytesReceived = 1;
    writer->writeConnection(c);
    QVERIFY(writer->close(&error));
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->connections.size(), 1);
    compareConnections(data->connections[0], c);
    QVERIFY(writer->close(&error)); // second close is harmless
}

void TestSessionStore::closedFileIsSelfContained()
{
    const QString file = writeValid("alone.tcpscope", 1);
    QVERIFY(!file.isEmpty());
    QVERIFY(!QFileInfo::exists(file + QLatin1String("-wal")));
    QVERIFY(!QFileInfo::exists(file + QLatin1String("-shm")));
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray header = f.read(100);
    QVERIFY(header.startsWith("SQLite format 3"));
    QCOMPARE(int(header[18]), 1); // file format write version 1 = rollback journal, not WAL
    QCOMPARE(header.mid(68, 4), QByteArray("TCPS"));
}

void TestSessionStore::saveCopy()
{
    const QString file = path("live.tcpscope");
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    writer->setInfo(sampleInfo());
    writer->writeConnection(sampleConnection(1));
    QVERIFY(writer->flush(&error));
    // Copy while the writer still has the file open in WAL mode.
    const QString copy = path("copy.tcpscope");
    QVERIFY2(saveSessionCopy(file, copy, &error), qPrintable(error));
    QVERIFY(!QFileInfo::exists(copy + QLatin1String("-wal")));
    const auto data = SessionReader::read(copy, &error);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->connections.size(), 1);
    compareConnections(data->connections[0], sampleConnection(1));
    QVERIFY(writer->close(&error));
}

void TestSessionStore::saveCopyFailureRemovesDest()
{
    const QString file = writeValid("src.tcpscope", 1);
    QString error;
    QVERIFY(!saveSessionCopy(file, path("no/such/dir/x.tcpscope"), &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!saveSessionCopy(path("missing.tcpscope"), path("y.tcpscope"), &error));
    QVERIFY(error.contains(QLatin1String("no such file")));
    QVERIFY(!QFileInfo::exists(path("y.tcpscope")));
    QVERIFY(!saveSessionCopy(file, file, &error));
}

void TestSessionStore::rejects_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("expected"); // a fragment of the one-line reason
    QTest::newRow("missing file") << "missing"
                                  << "no such file";
    QTest::newRow("empty file") << "empty"
                                << "empty file";
    QTest::newRow("truncated") << "truncated"
                               << "corrupt";
    QTest::newRow("random bytes") << "random"
                                  << "not an SQLite database";
    QTest::newRow("text file") << "text"
                               << "not an SQLite database";
    QTest::newRow("other application_id") << "otherapp"
                                          << "application_id 0x00000000";
    QTest::newRow("wrong user_version") << "version"
                                        << "unsupported session format version 4";
    QTest::newRow("missing table") << "notable"
                                   << "missing table 'state_changes'";
    QTest::newRow("extra column") << "column"
                                  << "table 'meta' has columns";
    QTest::newRow("view named like ours") << "view"
                                          << "unexpected view 'connections'";
    QTest::newRow("trigger") << "trigger"
                             << "unexpected trigger";
    QTest::newRow("huge text") << "huge"
                               << "too";
    QTest::newRow("directory") << "dir"
                               << "not a regular file";
}

void TestSessionStore::rejects()
{
    QFETCH(QString, kind);
    QFETCH(QString, expected);
    QString file = path("fixture.tcpscope");
    const QByteArray ours = "PRAGMA application_id = 1413697619; PRAGMA user_version = 1;";
    if (kind == QLatin1String("missing")) {
        file = path("does-not-exist.tcpscope");
    } else if (kind == QLatin1String("empty")) {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
    } else if (kind == QLatin1String("truncated")) {
        const QString full = writeValid("full.tcpscope", 400);
        QFile in(full);
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QByteArray bytes = in.readAll();
        QVERIFY(bytes.size() > 4 * 4096);
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(bytes.left(bytes.size() / 2));
    } else if (kind == QLatin1String("random") || kind == QLatin1String("text")) {
        QByteArray bytes(8192, '\0');
        if (kind == QLatin1String("random"))
            QRandomGenerator(42).fillRange(reinterpret_cast<quint32 *>(bytes.data()), 2048);
        else
            bytes = QByteArray("id,pid,comm\n1,2,curl\n").repeated(100);
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    } else if (kind == QLatin1String("otherapp")) {
        sql(file, "CREATE TABLE connections(id INTEGER); INSERT INTO connections VALUES(1);");
    } else if (kind == QLatin1String("version")) {
        file = writeValid("v.tcpscope");
        sql(file, "PRAGMA user_version = 4;");
    } else if (kind == QLatin1String("notable")) {
        file = writeValid("t.tcpscope");
        sql(file, "DROP TABLE state_changes;");
    } else if (kind == QLatin1String("column")) {
        file = writeValid("c.tcpscope");
        sql(file, "ALTER TABLE meta ADD COLUMN extra TEXT;");
    } else if (kind == QLatin1String("view")) {
        // Right names and columns, but 'connections' is a view that would run code on read.
        sql(file, (ours + "CREATE TABLE meta(key TEXT, value TEXT);"
                          "CREATE TABLE state_changes(connection_id, seq, ts_ns, from_state,"
                          " to_state, ctx_pid, ctx_comm);"
                          "CREATE VIEW connections AS SELECT 1 AS id, randomblob(1e9) AS sock_id;")
                      .constData());
    } else if (kind == QLatin1String("trigger")) {
        file = writeValid("tr.tcpscope");
        sql(file, "CREATE TRIGGER evil AFTER INSERT ON meta BEGIN DELETE FROM connections; END;");
    } else if (kind == QLatin1String("huge")) {
        file = writeValid("h.tcpscope", 1);
        sql(file, "UPDATE connections SET comm = printf('%.*c', 5000000, 'x');");
    } else if (kind == QLatin1String("dir")) {
        file = m_dir->path();
    }
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY(!data);
    QVERIFY2(error.contains(expected), qPrintable(error));
    QVERIFY2(!error.contains(QLatin1Char('\n')), qPrintable(error));
    qInfo("%s -> %s", qPrintable(kind), qPrintable(error));
}

void TestSessionStore::toleratesValues()
{
    // Out-of-range values are not structural damage: unknown, counted, the rest reads.
    const QString file = writeValid("b.tcpscope", 2);
    sql(file, "UPDATE connections SET comm = x'00ff' WHERE id = 1;" // a BLOB where text belongs
              "INSERT INTO state_changes VALUES(77, 0, 1, 'CLOSE', 'SYN_SENT', 1, 'x');");
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->connections.size(), 2);
    QCOMPARE(data->connections[0].comm, QString());
    QCOMPARE(data->connections[1].comm, sampleConnection(2).comm);
    QCOMPARE(data->connections[0].history.size(), sampleConnection(1).history.size());
    QCOMPARE(data->valuesOutOfRange, 2u); // the comm and the orphan state change
}

// The view the app saves into a finished session: read back by Session, replaced by the next
// save; an earlier 4.x file is brought to the current minor (its missing tables added, empty).
void TestSessionStore::savedViewRoundTrip()
{
    const QString file = writeValid("view.tcpscope");
    QString error;
    {
        auto s = Session::open(file, &error);
        QVERIFY2(s, qPrintable(error));
        QVERIFY(s->savedView().isEmpty());
    }
    const QMap<QString, QString> view{
        {QStringLiteral("connection_filter"), QStringLiteral("proc.name == \"curl\"")},
        {QStringLiteral("selected_connections"), QStringLiteral("1,3")},
        {QStringLiteral("note"), QStringLiteral("ünïcode ✓")}};
    Annotation onConnection;
    onConnection.connectionId = 2;
    onConnection.startNs = 1'700'000'000'123'456'791;
    onConnection.text = QStringLiteral("the stall starts here;\nsee packet 7");
    onConnection.author = QStringLiteral("alice");
    onConnection.createdNs = 1'800'000'000'000'000'000;
    Annotation onRange = onConnection;
    onRange.connectionId = 0;
    onRange.endNs = onRange.startNs + 2'000'000'000;
    onRange.text = QStringLiteral("deploy ✓");
    const QVector<Annotation> notes{onConnection, onRange};
    QVERIFY2(saveSessionView(file, view, notes, &error), qPrintable(error));
    QVERIFY(!QFileInfo::exists(file + QLatin1String("-journal")));
    {
        auto s = Session::open(file, &error);
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->savedView(), view);
        QCOMPARE(s->annotations(), notes);
        QCOMPARE(s->connectionCount(), qint64(3)); // nothing else touched
    }
    // Empty or oversized notes are refused before anything is written.
    Annotation empty = onConnection;
    empty.text.clear();
    QVERIFY(!saveSessionView(file, view, {empty}, &error));
    QVERIFY2(error.contains(QLatin1String("annotation")), qPrintable(error));
    QCOMPARE(Session::open(file, &error)->annotations(), notes);
    const QMap<QString, QString> second{{QStringLiteral("lower_tab"), QStringLiteral("endpoints")}};
    QVERIFY2(saveSessionView(file, second, {}, &error), qPrintable(error));
    QCOMPARE(Session::open(file, &error)->savedView(), second);
    QVERIFY(Session::open(file, &error)->annotations().isEmpty()); // replaced, too

    // A 4.0 file (no interruptions, no view_state) gains both and opens as the current minor.
    sql(file, "DROP TABLE interruptions; DROP TABLE view_state; DROP TABLE annotations;"
              "DROP TABLE alerts; DROP TABLE kept_windows;"
              "DROP TABLE cgroups; DROP TABLE netns_names;"
              "ALTER TABLE connections DROP COLUMN host_id; DROP TABLE hosts;"
              "ALTER TABLE connections DROP COLUMN isn_local;"
              "ALTER TABLE connections DROP COLUMN isn_remote;"
              "PRAGMA user_version = 4000;");
    {
        auto s = Session::open(file, &error);
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->format().minor, 0);
        QVERIFY(s->savedView().isEmpty());
    }
    QVERIFY2(saveSessionView(file, view, notes, &error), qPrintable(error));
    auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY(s->format().minor >= 3);
    QCOMPARE(s->savedView(), view);
    QVERIFY(s->info().interruptions.isEmpty());

    // A hostile value (too long, or not text) reads as empty and is counted.
    s.reset();
    sql(file, "UPDATE view_state SET value = zeroblob(10) WHERE key = 'note';"
              "INSERT INTO view_state VALUES('huge', printf('%.*c', 2000000, 'x'));");
    s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->savedView().value(QStringLiteral("note")), QString());
    QCOMPARE(s->savedView().value(QStringLiteral("huge")), QString());
    QCOMPARE(s->savedView().value(QStringLiteral("selected_connections")), QStringLiteral("1,3"));
    QCOMPARE(s->valuesOutOfRange(), 2u);
    QCOMPARE(s->annotations(), notes);

    // A hostile note (negative time, text too long) is left out and counted; the others stay.
    s.reset();
    sql(file, "UPDATE annotations SET start_ns = -5 WHERE text = 'deploy ✓';"
              "INSERT INTO annotations(connection_id, packet_id, start_ns, end_ns, text, author,"
              " created_ns) VALUES(1, 0, 0, 0, printf('%.*c', 5000, 'x'), 'mallory', 0);");
    s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->annotations(), QVector<Annotation>{onConnection});
    QCOMPARE(s->valuesOutOfRange(), 4u);
}

// Where the view is not written, with the file left as it was.
void TestSessionStore::savedViewRefusals()
{
    const QMap<QString, QString> view{{QStringLiteral("k"), QStringLiteral("v")}};
    QString error;
    const QString file = writeValid("refuse.tcpscope");
    const QByteArray before = [&] {
        QFile f(file);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    auto unchanged = [&] {
        QFile f(file);
        return f.open(QIODevice::ReadOnly) && f.readAll() == before;
    };

    // Through a symlink: never.
    const QString link = path("link.tcpscope");
    QVERIFY(QFile::link(file, link));
    QVERIFY(!saveSessionView(link, view, {}, &error));
    QVERIFY2(error.contains(QLatin1String("not a regular file")), qPrintable(error));
    // A recording beside it (its -wal).
    QFile wal(file + QLatin1String("-wal"));
    QVERIFY(wal.open(QIODevice::WriteOnly));
    wal.close();
    QVERIFY(!saveSessionView(file, view, {}, &error));
    QVERIFY2(error.contains(QLatin1String("being recorded")), qPrintable(error));
    QVERIFY(wal.remove());
    // Too large a value.
    QVERIFY(!saveSessionView(file, {{QStringLiteral("k"), QString(300 * 1024, QLatin1Char('x'))}},
                             {}, &error));
    QVERIFY2(error.contains(QLatin1String("too large")), qPrintable(error));
    // Not a session by its header.
    const QString other = path("other.db");
    sql(other, "CREATE TABLE t(x);");
    QVERIFY(!saveSessionView(other, view, {}, &error));
    QVERIFY2(error.contains(QLatin1String("not a tcpscope session")), qPrintable(error));
    // A row-format (3) session.
    const QString v3 = path("v3.tcpscope");
    {
        auto w = SessionWriter::create(v3, &error, 3);
        QVERIFY2(w, qPrintable(error));
        QVERIFY(w->close(&error));
    }
    QVERIFY(!saveSessionView(v3, view, {}, &error));
    QVERIFY2(error.contains(QLatin1String("format 3")), qPrintable(error));
    // Read-only, and (as root) another user's file.
    QVERIFY(QFile::setPermissions(file, QFile::ReadOwner));
    QVERIFY(!saveSessionView(file, view, {}, &error));
    QVERIFY2(error.contains(QLatin1String("not writable")), qPrintable(error));
    if (::geteuid() == 0) {
        QVERIFY(::chown(QFile::encodeName(file).constData(), 65534, 65534) == 0);
        QVERIFY(!saveSessionView(file, view, {}, &error));
        QVERIFY2(error.contains(QLatin1String("another user")), qPrintable(error));
    }
    QVERIFY(unchanged());
}

QTEST_GUILESS_MAIN(TestSessionStore)
#include "test_session_store.moc"
