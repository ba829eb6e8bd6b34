// SPDX-License-Identifier: GPL-3.0-or-later
// Capture ▸ Remote Hosts…: adding, editing and removing hosts, the validation the user sees
// (empty or duplicate destination, no host checked) and what is remembered; then captures of
// the chosen hosts through CaptureController and MainWindow with the stand-in helper, a remote
// host reached through a stand-in ssh ($TCPSCOPE_SSH) that runs that helper on its stdio.
#include "capture_controller.h"
#include "dialogs/remote_hosts_dialog.h"
#include "main_window.h"
#include "models/connection_table_model.h"
#include "session/session.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <functional>

using namespace tcpscope;

namespace {

// Runs check on the host editor the next Add/Edit opens, then accepts or cancels it.
void onNextEditor(const std::function<void(RemoteHostEditDialog *)> &check, bool accept)
{
    QTimer::singleShot(0, [check, accept] {
        auto *editor = qobject_cast<RemoteHostEditDialog *>(QApplication::activeModalWidget());
        QVERIFY(editor);
        check(editor);
        if (accept)
            editor->accept();
        else
            editor->reject();
    });
}

void setText(QLineEdit *edit, const QString &text)
{
    edit->clear();
    QTest::keyClicks(edit, text);
}

// A shell script (the stand-in ssh, fake_remote_helper.cpp, is run through one).
QString writeScript(const QString &dir, const QString &name, const QByteArray &body)
{
    QString path = dir + QLatin1Char('/') + name;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write("#!/bin/sh\n" + body + "\n");
    f.close();
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return path;
}

} // namespace

class TestRemoteHosts : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("tcpscope-test"));
        QCoreApplication::setApplicationName(QStringLiteral("test_remote_hosts_dialog"));
        QSettings().clear();
    }

    void defaultIsThisMachineOnly()
    {
        const CaptureHosts h = RemoteHostsDialog::load();
        QVERIFY(h.local);
        QVERIFY(h.remotes.isEmpty());
        QCOMPARE(h.chosen().size(), 1);
        QVERIFY(!h.chosen().first().has_value());
    }

    void addEditRemoveValidateRemember()
    {
        RemoteHostsDialog d(RemoteHostsDialog::load());
        QVERIFY(d.isValid());
        QVERIFY(!d.editButton()->isEnabled()); // nothing selected
        QVERIFY(!d.removeButton()->isEnabled());

        // Add: an empty destination is refused, a real one accepted.
        onNextEditor(
            [](RemoteHostEditDialog *e) {
                QVERIFY(!e->isValid());
                QVERIFY(e->errorLabel()->text().contains(QLatin1String("destination")));
                setText(e->destinationEdit(), QStringLiteral("web1"));
                QVERIFY(e->isValid());
                QVERIFY(e->errorLabel()->text().isEmpty());
                setText(e->helperEdit(), QStringLiteral("/opt/tcpscope/tcpscope-helper"));
            },
            true);
        QTest::mouseClick(d.addButton(), Qt::LeftButton);
        QCOMPARE(d.list()->count(), 1);
        // Add a second; a duplicate of the first is refused (red message, OK off).
        onNextEditor(
            [](RemoteHostEditDialog *e) {
                setText(e->destinationEdit(), QStringLiteral("web1"));
                QVERIFY(!e->isValid());
                QVERIFY2(e->errorLabel()->text().contains(QLatin1String("web1")),
                         qPrintable(e->errorLabel()->text()));
                QVERIFY(e->errorLabel()->styleSheet().contains(QLatin1String("#b00000")));
                setText(e->destinationEdit(), QStringLiteral("-oProxyCommand=x"));
                QVERIFY(!e->isValid());
                setText(e->destinationEdit(), QStringLiteral("ssh://admin@db1:2222"));
                QVERIFY(e->isValid());
            },
            true);
        QTest::mouseClick(d.addButton(), Qt::LeftButton);
        QCOMPARE(d.list()->count(), 2);
        // A cancelled Add adds nothing.
        onNextEditor(
            [](RemoteHostEditDialog *e) { setText(e->destinationEdit(), QStringLiteral("x")); },
            false);
        QTest::mouseClick(d.addButton(), Qt::LeftButton);
        QCOMPARE(d.list()->count(), 2);

        // Edit the first: its own destination is not a duplicate of itself; renaming it to
        // the second's is.
        d.list()->setCurrentRow(0);
        QVERIFY(d.editButton()->isEnabled());
        onNextEditor(
            [](RemoteHostEditDialog *e) {
                QCOMPARE(e->destinationEdit()->text(), QStringLiteral("web1"));
                QCOMPARE(e->helperEdit()->text(), QStringLiteral("/opt/tcpscope/tcpscope-helper"));
                QVERIFY(e->isValid());
                setText(e->destinationEdit(), QStringLiteral("ssh://admin@db1:2222"));
                QVERIFY(!e->isValid());
                setText(e->destinationEdit(), QStringLiteral("ops@web1"));
                e->helperEdit()->clear();
            },
            true);
        QTest::mouseClick(d.editButton(), Qt::LeftButton);
        CaptureHosts h = d.hosts();
        QCOMPARE(h.remotes.size(), 2);
        QCOMPARE(h.remotes[0], (RemoteHostEntry{QStringLiteral("ops@web1"), QString(), true}));
        QCOMPARE(h.remotes[1],
                 (RemoteHostEntry{QStringLiteral("ssh://admin@db1:2222"), QString(), true}));

        // No host checked: OK is off with a red reason.
        d.localCheck()->setChecked(false);
        d.list()->item(0)->setCheckState(Qt::Unchecked);
        QVERIFY(d.isValid());
        d.list()->item(1)->setCheckState(Qt::Unchecked);
        QVERIFY(!d.isValid());
        QVERIFY(d.errorLabel()->isVisibleTo(&d));
        QVERIFY(d.errorLabel()->text().contains(QLatin1String("at least one")));
        d.accept(); // refused: nothing saved
        QVERIFY(RemoteHostsDialog::load().remotes.isEmpty());
        d.list()->item(1)->setCheckState(Qt::Checked);
        QVERIFY(d.isValid());

        // Remove the first.
        d.list()->setCurrentRow(0);
        QTest::mouseClick(d.removeButton(), Qt::LeftButton);
        QCOMPARE(d.list()->count(), 1);
        d.accept();
        QCOMPARE(d.result(), int(QDialog::Accepted));

        // Remembered.
        h = RemoteHostsDialog::load();
        QVERIFY(!h.local);
        QCOMPARE(h.remotes.size(), 1);
        QCOMPARE(h.remotes[0].destination, QStringLiteral("ssh://admin@db1:2222"));
        QCOMPARE(h.chosen().size(), 1);
        QCOMPARE(h.chosen().first()->destination, QStringLiteral("ssh://admin@db1:2222"));
        RemoteHostsDialog again(h);
        QCOMPARE(again.hosts(), h);
        QSettings().clear();
    }

    void settingsThatCannotBeRightAreLeftOut()
    {
        QSettings s;
        s.setValue(QStringLiteral("capture/hosts/local"), false);
        s.beginWriteArray(QStringLiteral("capture/hosts/remote"), 3);
        const char *dests[] = {"", "-oX", "web1"};
        for (int i = 0; i < 3; ++i) {
            s.setArrayIndex(i);
            s.setValue(QStringLiteral("destination"), QString::fromLatin1(dests[i]));
            s.setValue(QStringLiteral("enabled"), i < 2);
        }
        s.endArray();
        s.sync();
        const CaptureHosts h = RemoteHostsDialog::load();
        QCOMPARE(h.remotes.size(), 1);
        // Nothing left checked: this machine, rather than a capture of nothing.
        QVERIFY(h.local);
        QSettings().clear();
    }

    void controllerRecordsSeveralHostsAndNamesTheOneThatFails()
    {
#ifndef FAKE_HELPER
        QSKIP("the fake helper is not part of this build");
#else
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString ssh = writeScript(dir.path(), QStringLiteral("fake-ssh"),
                                        QByteArray("exec '") + FAKE_REMOTE_HELPER + "'");
        const QString badSsh = writeScript(dir.path(), QStringLiteral("bad-ssh"),
                                           "echo 'ssh: Could not resolve hostname nohost: Name or "
                                           "service not known' >&2; exit 255");
        qputenv("TCPSCOPE_HELPER", FAKE_HELPER);
        qputenv("TCPSCOPE_SSH", ssh.toUtf8());

        // One remote host: the live capture of today, on that host.
        {
            CaptureController c;
            QString error;
            QVERIFY2(c.start(CaptureOptions{}, {RemoteTarget{QStringLiteral("web1"), {}}}, &error),
                     qPrintable(error));
            QVERIFY(!c.isMultiHost());
            QCOMPARE(c.hostLabels(), QStringList{QStringLiteral("web1")});
            QVERIFY(c.mergedPath().isEmpty());
            c.stop();
            QString why;
            auto session = Session::open(c.sessionPath(), &why);
            QVERIFY2(session, qPrintable(why));
            QCOMPARE(session->info().remote, QStringLiteral("web1"));
            QFile::remove(c.sessionPath());
        }
        // This machine and a remote host: two parts, the first is the live view.
        {
            CaptureController c;
            QSignalSpy info(&c, &CaptureController::infoReady);
            QString error;
            QVERIFY2(c.start(CaptureOptions{},
                             {std::nullopt, RemoteTarget{QStringLiteral("web1"), {}}}, &error),
                     qPrintable(error));
            QVERIFY(c.isRunning());
            QVERIFY(c.isMultiHost());
            QCOMPARE(c.hostLabels(),
                     (QStringList{QStringLiteral("this machine"), QStringLiteral("web1")}));
            QCOMPARE(c.partFiles().size(), 2);
            QCOMPARE(c.sessionPath(), c.partFiles().first());
            QVERIFY(c.mergedPath().endsWith(QLatin1String(".tcpscope")));
            QVERIFY(!QFile::exists(c.mergedPath()));
            QVERIFY(info.count() > 0 || info.wait(5000));
            QVERIFY(info.first().first().value<SessionInfo>().remote.isEmpty()); // the local one
            c.stop();
            QVERIFY(!c.isRunning());
            for (const QString &part : c.partFiles())
                QVERIFY2(QFile::exists(part), qPrintable(part));
            QVERIFY(QDir(c.partsDirectory()).removeRecursively());
        }
        // A host that cannot start: one message naming it, the others stopped, no parts left.
        {
            qputenv("TCPSCOPE_SSH", badSsh.toUtf8());
            CaptureController c;
            QString error;
            const QString captures =
                QStandardPaths::writableLocation(QStandardPaths::CacheLocation) +
                QStringLiteral("/captures");
            const QStringList before =
                QDir(captures).entryList(QDir::AllEntries | QDir::NoDotAndDotDot);
            // The host that did start is stopped without telling the window about it.
            QSignalSpy stats(&c, &CaptureController::statsUpdated);
            QSignalSpy stopped(&c, &CaptureController::stopped);
            QVERIFY(!c.start(CaptureOptions{},
                             {std::nullopt, RemoteTarget{QStringLiteral("nohost"), {}}}, &error));
            QVERIFY2(error.startsWith(QLatin1String("nohost: ")), qPrintable(error));
            QVERIFY2(error.contains(QLatin1String("Could not resolve hostname")),
                     qPrintable(error));
            QVERIFY(!error.contains(QLatin1Char('\n')));
            QVERIFY(!c.isRunning());
            QVERIFY(!c.hasCapture());
            QCOMPARE(QDir(captures).entryList(QDir::AllEntries | QDir::NoDotAndDotDot), before);
            QTest::qWait(100);
            QCOMPARE(stats.count(), 0);
            QCOMPARE(stopped.count(), 0);
        }
        qunsetenv("TCPSCOPE_SSH");
        qunsetenv("TCPSCOPE_HELPER");
#endif
    }

    void windowMergesTheHostsWhenTheCaptureStops()
    {
#ifndef FAKE_HELPER
        QSKIP("the fake helper is not part of this build");
#else
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString ssh = writeScript(dir.path(), QStringLiteral("fake-ssh"),
                                        QByteArray("exec '") + FAKE_REMOTE_HELPER + "'");
        qputenv("TCPSCOPE_HELPER", FAKE_HELPER);
        qputenv("TCPSCOPE_SSH", ssh.toUtf8());
        CaptureHosts hosts;
        hosts.local = true;
        hosts.remotes = {{QStringLiteral("web1"), QString(), true},
                         {QStringLiteral("db1"), QString(), false}};
        RemoteHostsDialog::save(hosts);

        MainWindow w;
        w.setInteractiveErrors(false);
        QSignalSpy errors(&w, &MainWindow::errorOccurred);
        w.startCapture();
        QVERIFY2(errors.isEmpty(),
                 errors.isEmpty() ? "" : qPrintable(errors.first().first().toString()));
        QVERIFY(w.isCapturing());
        QVERIFY2(w.windowTitle().contains(QLatin1String("this machine, web1")),
                 qPrintable(w.windowTitle()));
        QVERIFY(!w.windowTitle().contains(QLatin1String("db1"))); // not checked
        QTest::qWait(500);
        const QString live = w.sessionPath();
        QVERIFY2(live.contains(QLatin1String(".parts/")), qPrintable(live));
        w.stopCapture();
        QVERIFY2(errors.isEmpty(),
                 errors.isEmpty() ? "" : qPrintable(errors.first().first().toString()));
        QVERIFY(!w.isCapturing());
        // The merged session is open: both hosts, the parts gone.
        QVERIFY2(w.sessionPath().endsWith(QLatin1String(".tcpscope")) &&
                     !w.sessionPath().contains(QLatin1String(".parts")),
                 qPrintable(w.sessionPath()));
        QVERIFY(w.session());
        const QVector<HostInfo> h = w.session()->hosts();
        QCOMPARE(h.size(), 2);
        QVERIFY(!QFileInfo::exists(QFileInfo(live).absolutePath()));
        QVERIFY(w.connectionModel()->rowCount() > 0);
        QFile::remove(w.sessionPath());
        QSettings().clear();
        qunsetenv("TCPSCOPE_SSH");
        qunsetenv("TCPSCOPE_HELPER");
#endif
    }
};

QTEST_MAIN(TestRemoteHosts)
#include "test_remote_hosts_dialog.moc"
