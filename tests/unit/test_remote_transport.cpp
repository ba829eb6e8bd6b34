// SPDX-License-Identifier: GPL-3.0-or-later
// The ssh command line of a remote capture (core/capture/remote_transport.*): quoting of the
// remote command, run here by sh as the remote login shell would; $TCPSCOPE_SSH; and the one-line
// reasons made of ssh's exit status and last stderr line.
#include "capture/remote_transport.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;

namespace {
int exited(int code)
{
    return code << 8; // a waitpid status of a normal exit
}
} // namespace

class TestRemoteTransport : public QObject
{
    Q_OBJECT

private slots:
    void quotesForTheShell();
    void remoteCommandRunsTheHelperWithStdio();
    void defaultHelperFallsBackToPath();
    void sshCommandLine();
    void startFailures();
    void lostConnection();
};

void TestRemoteTransport::quotesForTheShell()
{
    QCOMPARE(shellQuote(QStringLiteral("plain")), QStringLiteral("'plain'"));
    QCOMPARE(shellQuote(QStringLiteral("it's")), QStringLiteral("'it'\\''s'"));
    QCOMPARE(shellQuote(QString()), QStringLiteral("''"));
}

void TestRemoteTransport::remoteCommandRunsTheHelperWithStdio()
{
    // A helper at a path with a space, quotes and a $: the remote shell must exec exactly it.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString helper = dir.filePath(QStringLiteral("my 'odd' $dir helper"));
    QFile f(helper);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("#!/bin/sh\necho \"ran with: $*\"\n");
    f.close();
    QVERIFY(f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    QProcess sh;
    sh.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), remoteHelperCommand(helper)});
    QVERIFY(sh.waitForFinished(10000));
    QCOMPARE(sh.exitCode(), 0);
    QCOMPARE(sh.readAllStandardOutput(), QByteArray("ran with: --stdio\n"));

    // A path that does not exist: the shell's 127, which remoteStartFailure names.
    sh.start(QStringLiteral("/bin/sh"),
             {QStringLiteral("-c"), remoteHelperCommand(dir.filePath(QStringLiteral("none")))});
    QVERIFY(sh.waitForFinished(10000));
    QCOMPARE(sh.exitCode(), 127);
}

void TestRemoteTransport::defaultHelperFallsBackToPath()
{
    // Without the package's helper, tcpscope-helper is looked up on the remote PATH.
    if (QFile::exists(QLatin1String(kRemoteHelperPath)))
        QSKIP("the package's helper is installed here: the fallback cannot be seen");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile f(dir.filePath(QStringLiteral("tcpscope-helper")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("#!/bin/sh\necho \"path helper: $*\"\n");
    f.close();
    QVERIFY(f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    QProcess sh;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("PATH"), dir.path() + QStringLiteral(":/usr/bin:/bin"));
    sh.setProcessEnvironment(env);
    sh.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), remoteHelperCommand(QString())});
    QVERIFY(sh.waitForFinished(10000));
    QCOMPARE(sh.readAllStandardOutput(), QByteArray("path helper: --stdio\n"));
}

void TestRemoteTransport::sshCommandLine()
{
    const RemoteTarget target{QStringLiteral("-oProxyCommand=evil"), QStringLiteral("/opt/h")};
    qputenv("TCPSCOPE_SSH", "sh -c 'exit 0' \"two words\"");
    QString error;
    std::optional<QStringList> cmd = sshCommand(target, false, &error);
    QVERIFY2(cmd, qPrintable(error));
    QVERIFY(cmd->first().endsWith(QLatin1String("/sh")));
    QCOMPARE(cmd->mid(1, 3), (QStringList{QStringLiteral("-c"), QStringLiteral("exit 0"),
                                          QStringLiteral("two words")}));
    QVERIFY(cmd->contains(QStringLiteral("-T")));
    QVERIFY(cmd->contains(QStringLiteral("BatchMode=yes")));
    // The destination follows `--`: never taken for an option. The remote command is last.
    const qsizetype dashes = cmd->indexOf(QStringLiteral("--"));
    QVERIFY(dashes > 0);
    QCOMPARE(cmd->value(dashes + 1), target.destination);
    QCOMPARE(cmd->value(dashes + 2), remoteHelperCommand(target.helperPath));
    QCOMPARE(cmd->size(), dashes + 3);

    cmd = sshCommand(target, true, &error);
    QVERIFY(cmd);
    QVERIFY(!cmd->contains(QStringLiteral("BatchMode=yes"))); // ssh may ask on the terminal

    // Quoting as in a shell, nothing expanded.
    qputenv("TCPSCOPE_SSH", "sh -F \"/a b/\\$x\" a\\ b '$HOME' ''");
    cmd = sshCommand(target, false, &error);
    QVERIFY2(cmd, qPrintable(error));
    QCOMPARE(cmd->mid(1, 5),
             (QStringList{QStringLiteral("-F"), QStringLiteral("/a b/$x"), QStringLiteral("a b"),
                          QStringLiteral("$HOME"), QString()}));
    qputenv("TCPSCOPE_SSH", "ssh -F 'unterminated");
    QVERIFY(!sshCommand(target, false, &error));
    QVERIFY2(error.contains(QLatin1String("TCPSCOPE_SSH")), qPrintable(error));
    qputenv("TCPSCOPE_SSH", "no-such-ssh-program -v");
    QVERIFY(!sshCommand(target, false, &error));
    QVERIFY2(error.contains(QLatin1String("no-such-ssh-program")) &&
                 error.contains(QLatin1String("TCPSCOPE_SSH")),
             qPrintable(error));
    qunsetenv("TCPSCOPE_SSH");
}

void TestRemoteTransport::startFailures()
{
    const RemoteTarget dflt{QStringLiteral("web1"), QString()};
    const RemoteTarget named{QStringLiteral("web1"), QStringLiteral("/opt/tcpscope-helper")};
    CaptureFailure kind = CaptureFailure::None;
    QString text = remoteStartFailure(
        dflt, exited(255), QStringLiteral("admin@web1: Permission denied (publickey)."), &kind);
    QCOMPARE(text, QStringLiteral("ssh authentication to 'web1' failed: admin@web1: Permission "
                                  "denied (publickey)."));
    QCOMPARE(kind, CaptureFailure::Other);
    text = remoteStartFailure(
        dflt, exited(255), QStringLiteral("ssh: connect to host web1 port 22: Connection refused"),
        &kind);
    QVERIFY2(text.startsWith(QLatin1String("ssh could not connect to 'web1': ssh: connect")),
             qPrintable(text));
    text = remoteStartFailure(dflt, exited(255), QStringLiteral("Host key verification failed."),
                              &kind);
    QVERIFY2(text.contains(QLatin1String("host key")), qPrintable(text));
    text = remoteStartFailure(
        named, exited(127), QStringLiteral("sh: 1: exec: /opt/tcpscope-helper: not found"), &kind);
    QVERIFY2(text.startsWith(QLatin1String("remote helper not found on 'web1': "
                                           "'/opt/tcpscope-helper'")),
             qPrintable(text));
    QCOMPARE(kind, CaptureFailure::Other);
    text = remoteStartFailure(dflt, exited(127), QString(), &kind);
    QVERIFY2(text.contains(QLatin1String(kRemoteHelperPath)) &&
                 text.contains(QLatin1String("tcpscope-helper on the PATH")),
             qPrintable(text));
    text = remoteStartFailure(dflt, exited(126), QStringLiteral("Permission denied"), &kind);
    QCOMPARE(kind, CaptureFailure::Permission);
    QVERIFY2(text.contains(QLatin1String("group tcpscope")), qPrintable(text));
    remoteStartFailure(dflt, exited(77), QStringLiteral("tcpscope-helper: needs root"), &kind);
    QCOMPARE(kind, CaptureFailure::Permission);
    remoteStartFailure(dflt, exited(69), QString(), &kind);
    QCOMPARE(kind, CaptureFailure::Kernel);
    text = remoteStartFailure(dflt, exited(64), QStringLiteral("unknown argument: --stdio"), &kind);
    QVERIFY2(text.contains(QLatin1String("--stdio")), qPrintable(text));
    text = remoteStartFailure(dflt, 9 /* killed by SIGKILL */, QString(), &kind);
    QCOMPARE(text, QStringLiteral("ssh to 'web1' was killed by signal 9"));
}

void TestRemoteTransport::lostConnection()
{
    const RemoteTarget target{QStringLiteral("web1"), QString()};
    QCOMPARE(remoteLostText(target, exited(255),
                            QStringLiteral("Connection to web1 closed by remote host.")),
             QStringLiteral("the remote connection to 'web1' was lost: Connection to web1 closed "
                            "by remote host."));
    QCOMPARE(remoteLostText(target, 9, QString()),
             QStringLiteral("the remote connection to 'web1' was lost"));
    QCOMPARE(remoteLostText(target, std::nullopt, QString()),
             QStringLiteral("the remote connection to 'web1' was lost"));
    QVERIFY(remoteLostText(target, exited(71), QStringLiteral("x"))
                .startsWith(QLatin1String("the remote helper on 'web1' ended (status 71)")));
}

QTEST_GUILESS_MAIN(TestRemoteTransport)
#include "test_remote_transport.moc"
