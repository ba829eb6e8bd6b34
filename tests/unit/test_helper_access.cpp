// SPDX-License-Identifier: GPL-3.0-or-later
// Where the app looks for tcpscope-helper (core/capture/helper_access.cpp): $TCPSCOPE_HELPER,
// the compile-time libexec path for an installed app, the sibling in a build tree.
#include "capture/helper_access.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace tcpscope;

class TestHelperAccess : public QObject
{
    Q_OBJECT
private slots:
    void init() { qunsetenv("TCPSCOPE_HELPER"); }

    void environmentWins()
    {
        qputenv("TCPSCOPE_HELPER", "/opt/elsewhere/helper");
        QCOMPARE(resolveHelperPath(QStringLiteral("/usr/bin")),
                 QStringLiteral("/opt/elsewhere/helper"));
    }

    void installedAppUsesLibexec()
    {
        // The install prefix is the build's (presets: /usr); the helper is under its libexec.
        const QString helper = installedHelperPath();
        QVERIFY2(helper.endsWith(QLatin1String("/libexec/tcpscope/tcpscope-helper")),
                 qPrintable(helper));
        const QString prefix = helper.section(QLatin1Char('/'), 0, -4);
        QCOMPARE(resolveHelperPath(prefix + QStringLiteral("/bin")), helper);
        QCOMPARE(resolveHelperPath(prefix + QStringLiteral("/bin/")), helper);
    }

    void buildTreeUsesSibling()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        // No sibling: the installed helper is the only candidate.
        QCOMPARE(resolveHelperPath(dir.path()), installedHelperPath());
        QFile sibling(QDir(dir.path()).filePath(QStringLiteral("tcpscope-helper")));
        QVERIFY(sibling.open(QIODevice::WriteOnly));
        sibling.close();
        QCOMPARE(resolveHelperPath(dir.path()), sibling.fileName());
    }

    void permissionProblemOnlyForGroupLayout()
    {
        // A missing helper or one this process may run is not a permission problem.
        QVERIFY(helperPermissionProblem(QStringLiteral("/nonexistent/tcpscope-helper")).isEmpty());
        QVERIFY(helperPermissionProblem(QStringLiteral("/bin/sh")).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestHelperAccess)
#include "test_helper_access.moc"
