// SPDX-License-Identifier: GPL-3.0-or-later
// Cgroup paths read as systemd units, containers and Kubernetes pods; cgroup ids and network
// namespaces resolved through a directory tree's inodes.
#include "model/cgroup.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace tcpscope;

namespace {

const QString kId =
    QStringLiteral("4f2a0c6b8e1d3f5a7c9b0e2d4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f1a");

quint64 inodeOf(const QString &path)
{
    struct stat st;
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? quint64(st.st_ino) : 0;
}

} // namespace

class TestCgroup : public QObject
{
    Q_OBJECT
private slots:
    void attribution_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("unit");
        QTest::addColumn<QString>("container");
        QTest::addColumn<QString>("runtime");
        QTest::addColumn<QString>("pod");
        QTest::addColumn<QString>("qos");
        const QString uid = QStringLiteral("0f6b1c5e-8a1d-4c7e-9d6b-2a3f4b5c6d7e");
        const QString uidSystemd = QString(uid).replace(QLatin1Char('-'), QLatin1Char('_'));
        QTest::newRow("service") << "/system.slice/nginx.service"
                                 << "nginx.service"
                                 << ""
                                 << ""
                                 << ""
                                 << "";
        QTest::newRow("user scope") << "/user.slice/user-1000.slice/user@1000.service/app.slice/"
                                       "app-firefox-1234.scope"
                                    << "app-firefox-1234.scope"
                                    << ""
                                    << ""
                                    << ""
                                    << "";
        QTest::newRow("docker systemd") << "/system.slice/docker-" + kId + ".scope"
                                        << "docker-" + kId + ".scope" << kId << "docker"
                                        << ""
                                        << "";
        QTest::newRow("docker cgroupfs") << "/docker/" + kId << "" << kId << "docker"
                                         << ""
                                         << "";
        QTest::newRow("podman") << "/machine.slice/libpod-" + kId + ".scope/container"
                                << "libpod-" + kId + ".scope" << kId << "podman"
                                << ""
                                << "";
        QTest::newRow("kubepods systemd containerd")
            << "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidSystemd +
                   ".slice/cri-containerd-" + kId + ".scope"
            << "cri-containerd-" + kId + ".scope" << kId << "containerd" << uid << "burstable";
        QTest::newRow("kubepods systemd cri-o")
            << "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidSystemd +
                   ".slice/crio-" + kId + ".scope"
            << "crio-" + kId + ".scope" << kId << "cri-o" << uid << "besteffort";
        QTest::newRow("kubepods guaranteed cgroupfs")
            << "/kubepods/pod" + uid + "/" + kId << "" << kId << "" << uid << "guaranteed";
        QTest::newRow("kubepods burstable cgroupfs")
            << "/kubepods/burstable/pod" + uid + "/" + kId << "" << kId << "" << uid << "burstable";
        QTest::newRow("root") << "/"
                              << ""
                              << ""
                              << ""
                              << ""
                              << "";
        QTest::newRow("not a pod outside kubepods") << "/pod" + uid << ""
                                                    << ""
                                                    << ""
                                                    << ""
                                                    << "";
        QTest::newRow("short hex is no container") << "/docker/4f2a0c6b8e1d"
                                                   << ""
                                                   << ""
                                                   << ""
                                                   << ""
                                                   << "";
    }
    void attribution()
    {
        QFETCH(QString, path);
        const CgroupAttribution a = attributeCgroup(path);
        QTEST(a.systemdUnit, "unit");
        QTEST(a.containerId, "container");
        QTEST(a.runtime, "runtime");
        QTEST(a.podUid, "pod");
        QTEST(a.qos, "qos");
    }

    void mountPoint()
    {
        const QByteArray hybrid =
            "24 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
            "33 25 0:28 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
            "34 33 0:29 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
            "35 33 0:30 / /sys/fs/cgroup/cpu rw shared:11 - cgroup cgroup rw,cpu\n";
        QCOMPARE(cgroup2MountPoint(hybrid), QStringLiteral("/sys/fs/cgroup/unified"));
        QCOMPARE(cgroup2MountPoint("29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
                 QStringLiteral("/sys/fs/cgroup"));
        // A bind mount of a subtree is not the hierarchy's root.
        QCOMPARE(cgroup2MountPoint("29 23 0:26 /x /mnt rw - cgroup2 cgroup2 rw\n"), QString());
        QCOMPARE(cgroup2MountPoint(""), QString());
    }

    void resolvesIdsByInode()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const QString deep = QStringLiteral("kubepods.slice/kubepods-burstable.slice");
        QVERIFY(QDir(root.path()).mkpath(deep));
        CgroupResolver r(root.path());
        QCOMPARE(r.path(inodeOf(root.path() + QLatin1Char('/') + deep)),
                 std::optional<QString>(QLatin1Char('/') + deep));
        QCOMPARE(r.path(inodeOf(root.path())), std::optional<QString>(QStringLiteral("/")));
        QCOMPARE(r.path(0), std::nullopt);
        // Made after the last scan: found by the rescan a second later.
        QVERIFY(QDir(root.path()).mkpath(QStringLiteral("system.slice/x.service")));
        const quint64 later = inodeOf(root.path() + QStringLiteral("/system.slice/x.service"));
        QTest::qWait(1100);
        QCOMPARE(r.path(later), std::optional<QString>(QStringLiteral("/system.slice/x.service")));
        // Removed: still known by its id (its sockets may outlive it).
        QVERIFY(QDir(root.path()).rmpath(QStringLiteral("system.slice/x.service")));
        QCOMPARE(r.path(later), std::optional<QString>(QStringLiteral("/system.slice/x.service")));
    }

    void netnsNames()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QFile f(dir.filePath(QStringLiteral("blue")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.close();
        NetnsResolver r(dir.path());
        QCOMPARE(r.name(inodeOf(f.fileName())), QStringLiteral("blue"));
        QCOMPARE(r.name(0), QString());
    }
};

QTEST_GUILESS_MAIN(TestCgroup)
#include "test_cgroup.moc"
