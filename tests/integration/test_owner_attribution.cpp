// SPDX-License-Identifier: GPL-3.0-or-later
// Who owns a socket beyond its process, on the real kernel: processes placed in cgroup v2
// subtrees named as docker, containerd under Kubernetes and systemd name theirs, and one in a
// network namespace made with `ip netns`, are recorded by `tcpscope record`; the export and the
// display filter name their container, pod, unit and namespace. Everything made is removed.
#include "model/cgroup.h"
#include "owner_support.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <unistd.h>

using namespace tcpscope;

namespace {

const QString kDockerId =
    QStringLiteral("d0c4e7a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d");
const QString kContainerdId =
    QStringLiteral("c047a1e2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e");
const QString kPodUid = QStringLiteral("5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b");

using test::runCommand;

} // namespace

class TestOwnerAttribution : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void containersPodsUnitsAndNamespaces();

private:
    // Runs ts_traffic burst as a process placed in cgroup dir (relative to m_base).
    void burstIn(const QString &cgroup);

    QString m_tcpscope, m_traffic, m_root, m_base, m_netns;
    std::unique_ptr<test::TestCgroups> m_cgroups; // the subtree made, removed at the end
    QTemporaryDir m_dir;
};

void TestOwnerAttribution::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: making cgroups and recording need root; run as root for this test");
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    m_root = test::cgroup2Root();
    if (m_root.isEmpty())
        QSKIP("NO CGROUP V2: no cgroup2 hierarchy is mounted; nothing to attribute");
    m_cgroups = std::make_unique<test::TestCgroups>(m_root);
    m_base = m_cgroups->dir();
    QVERIFY(m_dir.isValid());
}

void TestOwnerAttribution::cleanupTestCase()
{
    // Deepest first; the bursts have exited, so the cgroups are empty.
    if (m_cgroups)
        m_cgroups->removeAll();
    if (!m_netns.isEmpty())
        runCommand(QStringLiteral("ip"), {QStringLiteral("netns"), QStringLiteral("del"), m_netns});
}

void TestOwnerAttribution::burstIn(const QString &cgroup)
{
    QVERIFY2(m_cgroups->make(cgroup), qPrintable(m_cgroups->dir(cgroup)));
    // The shell joins the cgroup, then becomes the traffic generator (same pid).
    QString out;
    QVERIFY2(
        runCommand(QStringLiteral("sh"),
                   m_cgroups->shellIn(cgroup, QStringLiteral("exec '%1' burst 4 5").arg(m_traffic)),
                   &out),
        qPrintable(out));
}

void TestOwnerAttribution::containersPodsUnitsAndNamespaces()
{
    QVERIFY2(m_cgroups->make(), qPrintable(m_base));
    const bool haveIp = !QStandardPaths::findExecutable(QStringLiteral("ip")).isEmpty();
    const QString file = m_dir.filePath(QStringLiteral("owners.tcpscope"));
    QProcess record;
    record.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    record.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"), file,
                              QStringLiteral("--duration"), QStringLiteral("8")});
    QVERIFY(record.waitForStarted());
    QTest::qWait(2500); // attached

    const QString docker = QStringLiteral("system.slice/docker-%1.scope").arg(kDockerId);
    const QString pod =
        QStringLiteral("kubepods.slice/kubepods-burstable.slice/"
                       "kubepods-burstable-pod%1.slice/cri-containerd-%2.scope")
            .arg(QString(kPodUid).replace(QLatin1Char('-'), QLatin1Char('_')), kContainerdId);
    const QString unit = QStringLiteral("system.slice/ts-web.service");
    burstIn(docker);
    burstIn(pod);
    burstIn(unit);
    if (haveIp) {
        m_netns = QStringLiteral("tcpscope-test-%1").arg(getpid());
        QVERIFY(runCommand(QStringLiteral("ip"),
                           {QStringLiteral("netns"), QStringLiteral("add"), m_netns}));
        QVERIFY(runCommand(QStringLiteral("ip"),
                           {QStringLiteral("-n"), m_netns, QStringLiteral("link"),
                            QStringLiteral("set"), QStringLiteral("lo"), QStringLiteral("up")}));
        QString out;
        QVERIFY2(runCommand(QStringLiteral("ip"),
                            {QStringLiteral("netns"), QStringLiteral("exec"), m_netns, m_traffic,
                             QStringLiteral("burst"), QStringLiteral("4"), QStringLiteral("3")},
                            &out),
                 qPrintable(out));
    } else {
        qWarning("SKIPPED PART: ip (iproute2) is not installed: no named network namespace");
    }
    QVERIFY(record.waitForFinished(30000));
    QCOMPARE(record.exitCode(), 0);

    QProcess exp;
    const QString json = m_dir.filePath(QStringLiteral("owners.json"));
    exp.start(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--connections"), json});
    QVERIFY(exp.waitForFinished(60000));
    QCOMPARE(exp.exitCode(), 0);
    QFile f(json);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonArray rows = QJsonDocument::fromJson(f.readAll()).array();
    // Every burst connection (client and server ends) of each cgroup says whose it is.
    QHash<QString, int> byContainer, byUnit, byNetns;
    QString podSeen, qosPath;
    for (const auto &v : rows) {
        const QJsonObject o = v.toObject();
        const QString comm = o.value(QLatin1String("comm")).toString();
        if (comm != QLatin1String("ts_client") && comm != QLatin1String("ts_server"))
            continue;
        const QString path = o.value(QLatin1String("cgroup_path")).toString();
        if (!path.startsWith(m_base.mid(m_root.size())))
            continue; // a burst of another test would be outside our subtree
        byContainer[o.value(QLatin1String("container_id")).toString()]++;
        byUnit[o.value(QLatin1String("systemd_unit")).toString()]++;
        byNetns[o.value(QLatin1String("netns")).toString()]++;
        if (o.value(QLatin1String("container_id")).toString() == kContainerdId) {
            podSeen = o.value(QLatin1String("pod_uid")).toString();
            qosPath = path;
        }
        QVERIFY(!o.value(QLatin1String("host")).toString().isEmpty());
    }
    qInfo("containers %s, units %s", qPrintable(QStringList(byContainer.keys()).join(' ')),
          qPrintable(QStringList(byUnit.keys()).join(' ')));
    // 5 cycles, two ends each, and the burst's listener.
    QCOMPARE(byContainer.value(kDockerId), 11);
    QCOMPARE(byContainer.value(kContainerdId), 11);
    QCOMPARE(podSeen, kPodUid);
    QVERIFY(qosPath.contains(QLatin1String("kubepods-burstable")));
    QCOMPARE(byUnit.value(QStringLiteral("ts-web.service")), 11);
    QCOMPARE(byUnit.value(QStringLiteral("docker-%1.scope").arg(kDockerId)), 11);

    // The display filter selects by the same names.
    auto count = [&](const QString &filter) {
        QProcess p;
        p.start(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--connections"),
                             QStringLiteral("-"), QStringLiteral("-Y"), filter});
        if (!p.waitForFinished(60000) || p.exitCode() != 0)
            return -1;
        return int(QString::fromUtf8(p.readAllStandardOutput()).count(QLatin1Char('\n'))) - 1;
    };
    QCOMPARE(count(QStringLiteral("container.id == %1").arg(kDockerId)), 11);
    QCOMPARE(count(QStringLiteral("k8s.pod_uid == \"%1\"").arg(kPodUid)), 11);
    QCOMPARE(count(QStringLiteral("systemd.unit == \"ts-web.service\"")), 11);
    if (!m_netns.isEmpty()) {
        // The namespace's own loopback: its connections carry its ip netns name.
        QCOMPARE(count(QStringLiteral("netns == \"%1\" && conn.role == client").arg(m_netns)), 3);
    }
}

QTEST_GUILESS_MAIN(TestOwnerAttribution)
#include "test_owner_attribution.moc"
