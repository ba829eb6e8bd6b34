// SPDX-License-Identifier: GPL-3.0-or-later
// Remote capture over SSH: `tcpscope record --remote DEST` against a real sshd started by the
// test (own host key and user key in a temporary directory, 127.0.0.1 only, a free port), which
// runs the build's tcpscope-helper with --stdio (sshd gives it two pipes). Cases: a capture of
// real traffic (the file names the remote host and kernel and holds the connections, its clock
// measured against this one), two remote hosts and this one into one session, watch on a remote
// host and this one (alerts named by host), the sshd
// session or the local ssh killed mid-capture (the file keeps what arrived, the CLI exits 1 and
// says the connection was lost), a wrong key (an authentication error line), a missing remote
// helper (a "remote helper not found" line), and the helper's --stdio on two pipes without ssh.
// After each case no sshd of the test, no BPF program of tcpscope and no new clsact qdisc is
// left. Needs root (BPF, root login) and openssh-server (packaging/deps.sh --with-test-tools);
// skips loudly otherwise.
#include "helper_session.h"
#include "session/session.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>
#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

using namespace tcpscope;
namespace t = tcpscope::test;

namespace {

constexpr const char *kSshd = "/usr/sbin/sshd";

QByteArray procFile(pid_t pid, const char *name)
{
    QFile f(QStringLiteral("/proc/%1/%2").arg(pid).arg(QLatin1String(name)));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

pid_t parentOf(pid_t pid)
{
    const QByteArray status = procFile(pid, "status");
    const qsizetype at = status.indexOf("\nPPid:\t");
    return at < 0 ? 0 : pid_t(status.mid(at + 7, status.indexOf('\n', at + 7) - at - 7).toInt());
}

QString nameOf(pid_t pid)
{
    const QByteArray status = procFile(pid, "status");
    return status.startsWith("Name:\t")
               ? QString::fromLatin1(status.mid(6, status.indexOf('\n') - 6))
               : QString();
}

QList<pid_t> allPids()
{
    QList<pid_t> out;
    for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs))
        if (const int pid = entry.toInt(); pid > 0)
            out << pid_t(pid);
    return out;
}

// Live processes below root (not zombies).
QList<pid_t> descendantsOf(pid_t root)
{
    QList<pid_t> out;
    for (pid_t pid : allPids()) {
        if (t::processGone(pid))
            continue;
        for (pid_t p = parentOf(pid); p > 1; p = parentOf(p))
            if (p == root) {
                out << pid;
                break;
            }
    }
    return out;
}

// Running sshd processes (the listener and the per-connection ones), by executable.
QList<pid_t> sshdPids()
{
    QList<pid_t> out;
    for (pid_t pid : allPids())
        if (!t::processGone(pid) &&
            QFileInfo(QStringLiteral("/proc/%1/exe").arg(pid)).symLinkTarget() ==
                QLatin1String(kSshd))
            out << pid;
    return out;
}

QStringList clsactDevices()
{
    QProcess tc;
    tc.start(QStringLiteral("tc"), {QStringLiteral("qdisc"), QStringLiteral("show")});
    tc.waitForFinished(5000);
    QStringList out;
    for (const QByteArray &line : tc.readAllStandardOutput().split('\n'))
        if (line.startsWith("qdisc clsact "))
            out << QString::fromLatin1(line);
    return out;
}

unsigned freeLoopbackPort()
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    unsigned port = 0;
    if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

bool portOpen(unsigned port)
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(quint16(port));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
    close(fd);
    return ok;
}

bool writeFile(const QString &path, const QByteArray &text)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(text) == text.size();
}

} // namespace

class TestRemoteCapture : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();    // a fresh sshd for every case
    void cleanup(); // ... stopped, and nothing of ours left in the kernel
    void cleanupTestCase();
    void recordsRealTrafficRemotely();
    void severalHostsIntoOneSession();
    void watchRemoteAndLocal();
    void remoteSshdKilledMidCapture();
    void localSshKilledMidCapture();
    void wrongKeyIsAnAuthenticationError();
    void missingRemoteHelper();
    void stdioOnTwoPipes();

private:
    // Runs tcpscope with $TCPSCOPE_SSH set to `ssh -F config`; stderr in *err.
    QProcess *startRecord(const QStringList &args, const QString &config = {});
    int runRecord(const QStringList &args, QString *err, const QString &config = {});
    bool waitLive(const QString &file, QProcess &rec);
    pid_t remoteHelper(int timeoutMs);
    // A loopback client/server exchange; their ports (server's listener, client's local).
    bool exchange(unsigned *serverPort, unsigned *clientPort);
    void killRecorderAndWait(QProcess &rec, int timeoutMs);

    QTemporaryDir m_dir;
    QString m_tcpscope, m_helper, m_traffic, m_config, m_wrongConfig;
    unsigned m_port = 0;
    QProcess m_sshd;
    QList<pid_t> m_sshdBefore;
    QStringList m_clsactBefore, m_tracefsBefore;
    bool m_madeRunSshd = false;
    bool m_ready = false;
};

void TestRemoteCapture::initTestCase()
{
    if (!t::requireHelperEnvironment(&m_tracefsBefore))
        return;
    if (!QFileInfo(QLatin1String(kSshd)).isExecutable() ||
        QStandardPaths::findExecutable(QStringLiteral("ssh")).isEmpty() ||
        QStandardPaths::findExecutable(QStringLiteral("ssh-keygen")).isEmpty())
        QSKIP("NO SSHD: needs openssh-server and openssh-client (packaging/deps.sh "
              "--with-test-tools) - these tests did NOT run");
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_helper = t::helperPath();
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    QVERIFY(m_dir.isValid());
    // sshd refuses to start without its privilege separation directory (the package's tmpfiles
    // make it at boot, which a machine with the service disabled never did).
    if (!QFileInfo::exists(QStringLiteral("/run/sshd"))) {
        QVERIFY(QDir().mkpath(QStringLiteral("/run/sshd")));
        m_madeRunSshd = true;
    }
    const QString d = m_dir.path();
    for (const char *key : {"host_key", "id", "wrong"}) {
        const int rc = QProcess::execute(
            QStringLiteral("ssh-keygen"),
            {QStringLiteral("-q"), QStringLiteral("-t"), QStringLiteral("ed25519"),
             QStringLiteral("-N"), QString(), QStringLiteral("-f"), d + QLatin1Char('/') + key});
        QCOMPARE(rc, 0);
    }
    QVERIFY(QFile::copy(d + "/id.pub", d + "/authorized_keys"));
    m_port = freeLoopbackPort();
    QVERIFY(m_port > 0);
    QVERIFY(writeFile(d + "/sshd_config", QStringLiteral("ListenAddress 127.0.0.1\n"
                                                         "HostKey %1/host_key\n"
                                                         "AuthorizedKeysFile %1/authorized_keys\n"
                                                         "StrictModes no\n"
                                                         "PermitRootLogin prohibit-password\n"
                                                         "PasswordAuthentication no\n"
                                                         "KbdInteractiveAuthentication no\n"
                                                         "UsePAM no\n"
                                                         "PidFile none\n")
                                              .arg(d)
                                              .toUtf8()));
    QFile hostKey(d + "/host_key.pub");
    QVERIFY(hostKey.open(QIODevice::ReadOnly));
    const QList<QByteArray> keyWords = hostKey.readAll().trimmed().split(' ');
    QVERIFY(writeFile(d + "/known_hosts", "[127.0.0.1]:" + QByteArray::number(m_port) + ' ' +
                                              keyWords.value(0) + ' ' + keyWords.value(1) + '\n'));
    // One client configuration for everything: the alias tsremote, and ssh://root@127.0.0.1:PORT
    // (which matches "Host 127.0.0.1"); only this key and these known hosts.
    auto clientConfig = [&](const QString &identity) {
        return QStringLiteral("Host tsremote\n"
                              "  HostName 127.0.0.1\n"
                              "  Port %2\n"
                              "  User root\n"
                              "Host *\n"
                              "  IdentityFile %1/%3\n"
                              "  IdentitiesOnly yes\n"
                              "  IdentityAgent none\n"
                              "  UserKnownHostsFile %1/known_hosts\n"
                              "  GlobalKnownHostsFile /dev/null\n"
                              "  StrictHostKeyChecking yes\n"
                              "  ConnectTimeout 10\n")
            .arg(d)
            .arg(m_port)
            .arg(identity)
            .toUtf8();
    };
    m_config = d + "/ssh_config";
    m_wrongConfig = d + "/ssh_config_wrong";
    QVERIFY(writeFile(m_config, clientConfig(QStringLiteral("id"))));
    QVERIFY(writeFile(m_wrongConfig, clientConfig(QStringLiteral("wrong"))));
    m_sshdBefore = sshdPids();
    m_clsactBefore = clsactDevices();
    m_ready = true;
}

void TestRemoteCapture::init()
{
    QVERIFY(m_ready);
    m_sshd.setProcessChannelMode(QProcess::MergedChannels);
    m_sshd.start(QLatin1String(kSshd),
                 {QStringLiteral("-D"), QStringLiteral("-e"), QStringLiteral("-f"),
                  m_dir.filePath(QStringLiteral("sshd_config")), QStringLiteral("-p"),
                  QString::number(m_port)});
    QVERIFY(m_sshd.waitForStarted());
    QElapsedTimer timer;
    timer.start();
    while (!portOpen(m_port) && timer.elapsed() < 10000 && m_sshd.state() == QProcess::Running)
        QTest::qWait(50);
    QVERIFY2(portOpen(m_port), m_sshd.readAll().constData());
}

void TestRemoteCapture::cleanup()
{
    if (!m_ready)
        return;
    // The sshd of this case and every session it forked (they outlive the listener).
    const QList<pid_t> children = descendantsOf(pid_t(m_sshd.processId()));
    if (m_sshd.state() != QProcess::NotRunning) {
        m_sshd.terminate();
        if (!m_sshd.waitForFinished(5000)) {
            m_sshd.kill();
            m_sshd.waitForFinished(5000);
        }
    }
    for (pid_t pid : children)
        ::kill(pid, SIGTERM);
    QElapsedTimer timer;
    timer.start();
    auto leftOver = [&] {
        QList<pid_t> left;
        for (pid_t pid : sshdPids())
            if (!m_sshdBefore.contains(pid))
                left << pid;
        for (pid_t pid : children)
            if (!t::processGone(pid) && !left.contains(pid))
                left << pid;
        return left;
    };
    while (!leftOver().isEmpty() && timer.elapsed() < 5000)
        QTest::qWait(50);
    const QList<pid_t> left = leftOver();
    for (pid_t pid : left)
        ::kill(pid, SIGKILL);
    QVERIFY2(left.isEmpty(), qPrintable(QStringLiteral("%1 sshd/helper process(es) still ran "
                                                       "5 s after the case")
                                            .arg(left.size())));
    // Nothing of tcpscope stays in the kernel: programs go with the helper's descriptors
    // (released after an RCU grace period), no qdisc is added.
    QStringList programs;
    timer.restart();
    while (!(programs = t::loadedTcpscopePrograms()).isEmpty() && timer.elapsed() < 5000)
        QTest::qWait(50);
    QVERIFY2(programs.isEmpty(), qPrintable(programs.join(QLatin1Char(' '))));
    QCOMPARE(clsactDevices(), m_clsactBefore);
    QCOMPARE(t::tracefsMounts(), m_tracefsBefore);
}

void TestRemoteCapture::cleanupTestCase()
{
    if (m_madeRunSshd)
        QDir().rmdir(QStringLiteral("/run/sshd"));
}

QProcess *TestRemoteCapture::startRecord(const QStringList &args, const QString &config)
{
    auto *rec = new QProcess(this);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_SSH"),
               QStringLiteral("ssh -F ") + (config.isEmpty() ? m_config : config));
    env.remove(QStringLiteral("TCPSCOPE_HELPER")); // the remote helper is --remote-helper's
    rec->setProcessEnvironment(env);
    rec->start(m_tcpscope, QStringList{QStringLiteral("record")} + args);
    return rec;
}

int TestRemoteCapture::runRecord(const QStringList &args, QString *err, const QString &config)
{
    QProcess *rec = startRecord(args, config);
    rec->waitForFinished(90000);
    *err = QString::fromLocal8Bit(rec->readAllStandardError());
    const int code = rec->exitStatus() == QProcess::NormalExit ? rec->exitCode() : -1;
    delete rec;
    return code;
}

bool TestRemoteCapture::waitLive(const QString &file, QProcess &rec)
{
    // The helper's Hello facts are in the (WAL) file once BPF is attached on the remote end.
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 30000 && rec.state() != QProcess::NotRunning) {
        QString error;
        if (const auto s = Session::open(file, &error); s && s->info().startedNs > 0)
            return true;
        QTest::qWait(100);
    }
    return false;
}

pid_t TestRemoteCapture::remoteHelper(int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    do {
        for (pid_t pid : descendantsOf(pid_t(m_sshd.processId())))
            if (nameOf(pid) == QLatin1String("tcpscope-helper"))
                return pid;
        QTest::qWait(50);
    } while (timer.elapsed() < timeoutMs);
    return 0;
}

bool TestRemoteCapture::exchange(unsigned *serverPort, unsigned *clientPort)
{
    QProcess server, client;
    server.start(m_traffic, {QStringLiteral("server"), QStringLiteral("4"), QStringLiteral("3000"),
                             QStringLiteral("2000")});
    if (!server.waitForStarted() || !(*serverPort = t::readPort(server)))
        return false;
    client.start(m_traffic,
                 {QStringLiteral("client"), QStringLiteral("4"), QString::number(*serverPort),
                  QStringLiteral("2000"), QStringLiteral("3000")});
    if (!client.waitForStarted() || !(*clientPort = t::readPort(client)))
        return false;
    return client.waitForFinished(10000) && client.exitCode() == 0 &&
           server.waitForFinished(10000) && server.exitCode() == 0;
}

void TestRemoteCapture::recordsRealTrafficRemotely()
{
    const QString file = m_dir.filePath(QStringLiteral("remote.tcpscope"));
    const QString dest = QStringLiteral("ssh://root@127.0.0.1:%1").arg(m_port);
    // The test's own cgroup, as a filter term the remote helper's report resolves (the
    // exchange's processes are the test's children, in the same cgroup).
    QString cgroupPath;
    {
        QFile self(QStringLiteral("/proc/self/cgroup"));
        QVERIFY(self.open(QIODevice::ReadOnly));
        for (const QByteArray &line : self.readAll().split('\n'))
            if (line.startsWith("0::"))
                cgroupPath = QString::fromUtf8(line.mid(3));
    }
    QStringList args = {
        QStringLiteral("--remote"), dest, QStringLiteral("--remote-helper"), m_helper,
        QStringLiteral("-o"),       file};
    if (!cgroupPath.isEmpty())
        args << QStringLiteral("--filter") << QStringLiteral("cgroup ") + cgroupPath;
    else
        qWarning("SKIPPED PART: no cgroup v2 path in /proc/self/cgroup: no remote owner filter");
    QProcess *rec = startRecord(args);
    QVERIFY2(waitLive(file, *rec), rec->readAllStandardError().constData());
    const pid_t helper = remoteHelper(5000);
    QVERIFY2(helper > 0, "no tcpscope-helper below the test's sshd");
    const t::BpfObjects ours = t::bpfObjectsOf(helper);
    unsigned serverPort = 0, clientPort = 0;
    QVERIFY(exchange(&serverPort, &clientPort));
    QTest::qWait(1500); // the closes, through the reorder window and the writer
    rec->terminate();   // SIGTERM: stop as asked
    QVERIFY(rec->waitForFinished(30000));
    const QString err = QString::fromLocal8Bit(rec->readAllStandardError());
    const QString out = QString::fromLocal8Bit(rec->readAllStandardOutput());
    QVERIFY2(rec->exitStatus() == QProcess::NormalExit && rec->exitCode() == 0,
             qPrintable(err + out));
    QVERIFY2(out.startsWith(QLatin1String("recorded ")), qPrintable(out));
    QTRY_VERIFY_WITH_TIMEOUT(t::processGone(helper), 10000);
    t::verifyNothingLeft(ours, m_tracefsBefore);

    QString error;
    const auto session = Session::open(file, &error);
    QVERIFY2(session, qPrintable(error));
    const SessionInfo info = session->info();
    utsname uts{};
    QCOMPARE(uname(&uts), 0);
    QCOMPARE(info.hostname, QString::fromLocal8Bit(uts.nodename));
    QCOMPARE(info.kernelRelease, QString::fromLocal8Bit(uts.release));
    QCOMPARE(info.remote, dest);
    QVERIFY(info.stoppedNs > 0);
    // The remote clock was measured over the connection: this machine's own, so the offset is
    // 0 within the stated error, which is half a loopback SSH round trip (well under 50 ms).
    const QVector<HostInfo> hosts = session->hosts();
    QCOMPARE(hosts.size(), 1);
    QCOMPARE(hosts[0].offsetMethod, OffsetMethod::Recorded);
    QCOMPARE(hosts[0].source, dest);
    QVERIFY2(hosts[0].offsetErrorNs >= 0 && hosts[0].offsetErrorNs < 50'000'000,
             qPrintable(QString::number(hosts[0].offsetErrorNs)));
    QVERIFY2(qAbs(hosts[0].clockOffsetNs) <= hosts[0].offsetErrorNs + 1'000'000,
             qPrintable(QStringLiteral("offset %1 ns, error %2 ns")
                            .arg(hosts[0].clockOffsetNs)
                            .arg(hosts[0].offsetErrorNs)));
    bool serverSeen = false, clientSeen = false;
    quint64 clientCgroup = 0;
    session->forEachConnection(
        [&](const Connection &c) {
            if (c.localPort == serverPort && c.remotePort == clientPort)
                serverSeen = c.comm == QLatin1String("ts_server");
            if (c.localPort == clientPort && c.remotePort == serverPort) {
                clientSeen = c.comm == QLatin1String("ts_client") && c.endNs > 0;
                clientCgroup = c.cgroupId;
            }
            return true;
        },
        true);
    QVERIFY2(serverSeen && clientSeen,
             qPrintable(QStringLiteral("the exchange %1 <-> %2 is missing (server %3, client %4)")
                            .arg(serverPort)
                            .arg(clientPort)
                            .arg(serverSeen)
                            .arg(clientSeen)));
    QVERIFY(session->packetCount() > 0);
    // The remote helper's report named the remote connections' cgroup.
    if (!cgroupPath.isEmpty()) {
        QVERIFY(clientCgroup != 0);
        QCOMPARE(session->ownerNames().cgroupPaths.value(clientCgroup), cgroupPath);
    }

    QProcess infoCmd;
    infoCmd.start(m_tcpscope, {QStringLiteral("info"), file});
    QVERIFY(infoCmd.waitForFinished(30000));
    const QString text = QString::fromLocal8Bit(infoCmd.readAllStandardOutput());
    QCOMPARE(infoCmd.exitCode(), 0);
    QVERIFY2(text.contains(QRegularExpression(
                 QStringLiteral("Host: +%1\\n").arg(QRegularExpression::escape(uts.nodename)))),
             qPrintable(text));
    QVERIFY2(text.contains(QRegularExpression(
                 QStringLiteral("Kernel: +%1\\n").arg(QRegularExpression::escape(uts.release)))),
             qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("ssh %1").arg(dest)), qPrintable(text));
    delete rec;
}

void TestRemoteCapture::severalHostsIntoOneSession()
{
    // Two remote hosts (the same sshd reached by two names) and this one: one file, three
    // hosts, each with the exchange's two ends, the remote ones on this clock.
    const QString file = m_dir.filePath(QStringLiteral("three.tcpscope"));
    const QString dest = QStringLiteral("ssh://root@127.0.0.1:%1").arg(m_port);
    QProcess *rec =
        startRecord({QStringLiteral("--remote"), dest, QStringLiteral("--remote"),
                     QStringLiteral("tsremote"), QStringLiteral("--local"),
                     QStringLiteral("--remote-helper"), m_helper, QStringLiteral("-o"), file});
    // Live once each part's helper has attached: the parts are in the directory beside FILE.
    QElapsedTimer timer;
    timer.start();
    QStringList parts;
    while (timer.elapsed() < 30000 && rec->state() != QProcess::NotRunning) {
        parts.clear();
        for (const QFileInfo &dir : QDir(m_dir.path())
                                        .entryInfoList({QStringLiteral(".three.tcpscope.parts-*")},
                                                       QDir::Dirs | QDir::Hidden))
            for (const QFileInfo &f :
                 QDir(dir.filePath()).entryInfoList({QStringLiteral("*.tcpscope")}, QDir::Files))
                if (const auto s = Session::open(f.filePath(), nullptr);
                    s && s->info().startedNs > 0)
                    parts << f.filePath();
        if (parts.size() == 3)
            break;
        QTest::qWait(100);
    }
    QVERIFY2(parts.size() == 3, rec->readAllStandardError().constData());
    unsigned serverPort = 0, clientPort = 0;
    QVERIFY(exchange(&serverPort, &clientPort));
    QTest::qWait(1500);
    rec->terminate();
    QVERIFY(rec->waitForFinished(60000));
    const QString err = QString::fromLocal8Bit(rec->readAllStandardError());
    const QString out = QString::fromLocal8Bit(rec->readAllStandardOutput());
    QVERIFY2(rec->exitStatus() == QProcess::NormalExit && rec->exitCode() == 0,
             qPrintable(err + out));
    QVERIFY2(out.startsWith(QLatin1String("recorded 3 hosts")), qPrintable(out));
    // The parts are gone once merged.
    QVERIFY(QDir(m_dir.path())
                .entryList({QStringLiteral(".three.tcpscope.parts-*")}, QDir::Dirs | QDir::Hidden)
                .isEmpty());

    QString error;
    const auto session = Session::open(file, &error);
    QVERIFY2(session, qPrintable(error));
    const QVector<HostInfo> hosts = session->hosts();
    QCOMPARE(hosts.size(), 3);
    QCOMPARE(hosts[0].offsetMethod, OffsetMethod::None); // this machine: the reference
    QCOMPARE(hosts[1].source, dest);
    QCOMPARE(hosts[2].source, QStringLiteral("tsremote"));
    for (int h = 1; h < 3; ++h) {
        QCOMPARE(hosts[h].offsetMethod, OffsetMethod::Recorded);
        QVERIFY(hosts[h].offsetErrorNs >= 0 && hosts[h].offsetErrorNs < 50'000'000);
        QVERIFY(qAbs(hosts[h].clockOffsetNs) <= hosts[h].offsetErrorNs + 1'000'000);
    }
    // Every host saw the exchange's client and server.
    QVector<int> ends(3, 0);
    QVector<qint64> clientStart(3, 0);
    session->forEachConnection(
        [&](const Connection &c) {
            if (c.hostId < 0 || c.hostId > 2)
                return true;
            if (c.localPort == clientPort && c.remotePort == serverPort) {
                ++ends[c.hostId];
                clientStart[c.hostId] = c.startNs;
            }
            if (c.localPort == serverPort && c.remotePort == clientPort)
                ++ends[c.hostId];
            return true;
        },
        true);
    QCOMPARE(ends, QVector<int>({2, 2, 2}));
    // One time axis: the three hosts put the same connect within a few milliseconds.
    for (int h = 1; h < 3; ++h)
        QVERIFY2(qAbs(clientStart[h] - clientStart[0]) < 5'000'000,
                 qPrintable(QStringLiteral("host %1: %2 ns from this host's")
                                .arg(h)
                                .arg(clientStart[h] - clientStart[0])));
    delete rec;
}

void TestRemoteCapture::watchRemoteAndLocal()
{
    // watch on a remote host and this one: a port scan on this machine is seen by both
    // captures (the "remote" one is this machine too), each alert named with its host.
    const QString dest = QStringLiteral("ssh://root@127.0.0.1:%1").arg(m_port);
    auto *watch = new QProcess(this);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_SSH"), QStringLiteral("ssh -F ") + m_config);
    watch->setProcessEnvironment(env);
    watch->start(m_tcpscope, {QStringLiteral("watch"), QStringLiteral("--remote"), dest,
                              QStringLiteral("--local"), QStringLiteral("--remote-helper"),
                              m_helper, QStringLiteral("--json")});
    QVERIFY(watch->waitForStarted());
    const auto stopWatch = qScopeGuard([watch] {
        if (watch->state() != QProcess::NotRunning) {
            watch->kill();
            watch->waitForFinished(10000);
        }
        delete watch;
    });
    // Both captures are live once watch says what it watches.
    QByteArray err;
    QTRY_VERIFY2_WITH_TIMEOUT((err += watch->readAllStandardError()).contains("watching every TCP"),
                              err.constData(), 30000);
    QProcess scan;
    scan.start(m_traffic, {QStringLiteral("scan"), QStringLiteral("4"), QStringLiteral("20000"),
                           QStringLiteral("300")});
    QVERIFY(scan.waitForFinished(30000));
    QCOMPARE(scan.exitCode(), 0);
    QSet<QString> hosts;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            while (watch->canReadLine()) {
                const QJsonObject o = QJsonDocument::fromJson(watch->readLine()).object();
                if (o.value(QLatin1String("kind")).toString() == QLatin1String("port_scan"))
                    hosts.insert(o.value(QLatin1String("host")).toString());
            }
            return hosts.size() == 2;
        }(),
        20000);
    QCOMPARE(hosts, QSet<QString>({QStringLiteral("local"), dest}));
    watch->terminate();
    QVERIFY(watch->waitForFinished(30000));
    QCOMPARE(watch->exitStatus(), QProcess::NormalExit);
    QCOMPARE(watch->exitCode(), 0); // no high-severity alert
}

void TestRemoteCapture::killRecorderAndWait(QProcess &rec, int timeoutMs)
{
    if (!rec.waitForFinished(timeoutMs)) {
        rec.kill();
        rec.waitForFinished(5000);
        QFAIL("tcpscope record did not end after its connection was lost");
    }
}

void TestRemoteCapture::remoteSshdKilledMidCapture()
{
    const QString file = m_dir.filePath(QStringLiteral("sshd_killed.tcpscope"));
    QProcess *rec =
        startRecord({QStringLiteral("--remote"), QStringLiteral("tsremote"),
                     QStringLiteral("--remote-helper"), m_helper, QStringLiteral("-o"), file});
    QVERIFY2(waitLive(file, *rec), rec->readAllStandardError().constData());
    const pid_t helper = remoteHelper(5000);
    QVERIFY(helper > 0);
    const t::BpfObjects ours = t::bpfObjectsOf(helper);
    unsigned serverPort = 0, clientPort = 0;
    QVERIFY(exchange(&serverPort, &clientPort));
    // Until the exchange is committed (the writer commits every ~250 ms, after the window).
    QElapsedTimer timer;
    timer.start();
    bool committed = false;
    while (!committed && timer.elapsed() < 15000) {
        QString error;
        if (const auto live = Session::open(file, &error))
            live->forEachConnection(
                [&](const Connection &c) {
                    committed = committed || c.localPort == clientPort;
                    return !committed;
                },
                true);
        QTest::qWait(200);
    }
    QVERIFY2(committed, "the exchange never reached the file");
    // The sshd process serving this connection dies: the helper's pipes close, the client's
    // TCP connection ends.
    const pid_t session = parentOf(helper);
    QVERIFY(session > 1 && nameOf(session) == QLatin1String("sshd"));
    QCOMPARE(::kill(session, SIGKILL), 0);
    killRecorderAndWait(*rec, 30000);
    const QString err = QString::fromLocal8Bit(rec->readAllStandardError());
    QCOMPARE(rec->exitStatus(), QProcess::NormalExit);
    QVERIFY2(rec->exitCode() != 0, qPrintable(err));
    QVERIFY2(err.contains(QLatin1String("the remote connection to 'tsremote' was lost")),
             qPrintable(err));
    QTRY_VERIFY_WITH_TIMEOUT(t::processGone(helper), 10000);
    t::verifyNothingLeft(ours, m_tracefsBefore);

    QString error;
    const auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY2(s->info().stoppedNs > 0, "the file was not finalized");
    QVERIFY(!s->info().interruptions.isEmpty());
    bool found = false;
    s->forEachConnection(
        [&](const Connection &c) {
            found = found || (c.localPort == clientPort && c.remotePort == serverPort);
            return true;
        },
        true);
    QVERIFY2(found, "the connection received before the loss is missing");
    QProcess infoCmd;
    infoCmd.start(m_tcpscope, {QStringLiteral("info"), file});
    QVERIFY(infoCmd.waitForFinished(30000));
    QCOMPARE(infoCmd.exitCode(), 0);
    delete rec;
}

void TestRemoteCapture::localSshKilledMidCapture()
{
    const QString file = m_dir.filePath(QStringLiteral("ssh_killed.tcpscope"));
    QProcess *rec =
        startRecord({QStringLiteral("--remote"), QStringLiteral("tsremote"),
                     QStringLiteral("--remote-helper"), m_helper, QStringLiteral("-o"), file});
    QVERIFY2(waitLive(file, *rec), rec->readAllStandardError().constData());
    const pid_t helper = remoteHelper(5000);
    QVERIFY(helper > 0);
    const t::BpfObjects ours = t::bpfObjectsOf(helper);
    pid_t ssh = 0;
    for (pid_t pid : descendantsOf(pid_t(rec->processId())))
        if (nameOf(pid) == QLatin1String("ssh"))
            ssh = pid;
    QVERIFY2(ssh > 0, "no ssh child of the recorder");
    QTest::qWait(1000);
    QCOMPARE(::kill(ssh, SIGKILL), 0);
    killRecorderAndWait(*rec, 30000);
    const QString err = QString::fromLocal8Bit(rec->readAllStandardError());
    QVERIFY2(rec->exitStatus() == QProcess::NormalExit && rec->exitCode() == 1, qPrintable(err));
    QVERIFY2(err.contains(QLatin1String("the remote connection to 'tsremote' was lost")),
             qPrintable(err));
    // sshd sees the connection end and closes the helper's pipes: it detaches and exits.
    QTRY_VERIFY_WITH_TIMEOUT(t::processGone(helper), 15000);
    t::verifyNothingLeft(ours, m_tracefsBefore);
    QString error;
    const auto s = Session::open(file, &error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY(s->info().stoppedNs > 0);
    QCOMPARE(s->info().remote, QStringLiteral("tsremote"));
    delete rec;
}

void TestRemoteCapture::wrongKeyIsAnAuthenticationError()
{
    const QString file = m_dir.filePath(QStringLiteral("wrong_key.tcpscope"));
    QString err;
    const int code = runRecord({QStringLiteral("--remote"), QStringLiteral("tsremote"),
                                QStringLiteral("--remote-helper"), m_helper, QStringLiteral("-o"),
                                file, QStringLiteral("-d"), QStringLiteral("1")},
                               &err, m_wrongConfig);
    QCOMPARE(code, 1);
    const QStringList lines = err.trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.first().contains(QLatin1String("ssh authentication to 'tsremote' failed")) &&
                 lines.first().contains(QLatin1String("Permission denied")),
             qPrintable(err));
    QVERIFY(!QFileInfo::exists(file));
}

void TestRemoteCapture::missingRemoteHelper()
{
    const QString file = m_dir.filePath(QStringLiteral("missing.tcpscope"));
    QString err;
    const QString missing = m_dir.filePath(QStringLiteral("no such dir/tcpscope-helper"));
    const int code = runRecord({QStringLiteral("--remote"), QStringLiteral("tsremote"),
                                QStringLiteral("--remote-helper"), missing, QStringLiteral("-o"),
                                file, QStringLiteral("-d"), QStringLiteral("1")},
                               &err);
    QCOMPARE(code, 1);
    const QStringList lines = err.trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.first().contains(QLatin1String("remote helper not found on 'tsremote'")) &&
                 lines.first().contains(missing),
             qPrintable(err));
    QVERIFY(!QFileInfo::exists(file));
}

void TestRemoteCapture::stdioOnTwoPipes()
{
    // QProcess gives the helper a pipe as stdin and another as stdout, as sshd does.
    QProcess helper;
    helper.start(m_helper, {QStringLiteral("--stdio")});
    QVERIFY(helper.waitForStarted());
    wire::FrameDecoder decoder;
    auto next = [&](wire::Frame &frame) {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 15000) {
            if (decoder.next(frame) == wire::FrameDecoder::Status::Frame)
                return true;
            if (!helper.waitForReadyRead(500) && helper.state() == QProcess::NotRunning)
                return false;
            const QByteArray bytes = helper.readAllStandardOutput();
            decoder.feed({reinterpret_cast<const std::uint8_t *>(bytes.constData()),
                          std::size_t(bytes.size())});
        }
        return false;
    };
    wire::Frame frame;
    QVERIFY2(next(frame), helper.readAllStandardError().constData());
    QCOMPARE(frame.type, wire::MessageType::Hello);
    const pid_t pid = pid_t(helper.processId());
    const std::vector<std::uint8_t> start = wire::encodeStart(wire::StartOptions{});
    helper.write(reinterpret_cast<const char *>(start.data()), qint64(start.size()));
    do
        QVERIFY2(next(frame), helper.readAllStandardError().constData());
    while (frame.type != wire::MessageType::Stats);
    const t::BpfObjects ours = t::bpfObjectsOf(pid);
    // EOF on stdin: the client is gone. Everything is detached; the exit is a normal one.
    helper.closeWriteChannel();
    QVERIFY(helper.waitForFinished(10000));
    QCOMPARE(helper.exitStatus(), QProcess::NormalExit);
    QCOMPARE(helper.exitCode(), 0);
    t::verifyNothingLeft(ours, m_tracefsBefore);
    // stdout carried frames only: every message went to stderr.
    QVERIFY(helper.readAllStandardError().contains("tcpscope-helper: "));
}

QTEST_GUILESS_MAIN(TestRemoteCapture)
#include "test_remote_capture.moc"
