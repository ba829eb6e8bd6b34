// SPDX-License-Identifier: GPL-3.0-or-later
// File ▸ Merge…: the action is in the File menu; the dialog merges two sessions on its worker
// thread (progress, one line per host, the merged file named for the window to open), shows a
// bad offset or a missing input as one line without writing anything, and needs two inputs.
#include "dialogs/merge_dialog.h"
#include "main_window.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "test_addresses.h"

#include <QAction>
#include <QFile>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;

namespace {

void writeSession(const QString &path, const QString &host, bool client)
{
    QString error;
    auto writer = SessionWriter::create(path, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo info;
    info.hostname = host;
    info.startedNs = 1'764'300'000'000'000'000;
    info.stoppedNs = info.startedNs + 1'000'000'000;
    writer->setInfo(info);
    Connection c;
    c.id = 1;
    c.localAddr = test::ip(client ? QStringLiteral("10.2.0.1") : QStringLiteral("10.2.0.2"));
    c.remoteAddr = test::ip(client ? QStringLiteral("10.2.0.2") : QStringLiteral("10.2.0.1"));
    c.localPort = client ? 42000 : 80;
    c.remotePort = client ? 80 : 42000;
    c.role = client ? ConnectionRole::Client : ConnectionRole::Server;
    c.state = TcpState::Established;
    c.startNs = info.startedNs + 1000;
    writer->writeConnection(c);
    QVERIFY2(writer->close(&error), qPrintable(error));
}

} // namespace

class TestMergeDialog : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        writeSession(m_dir.filePath(QStringLiteral("a.tcpscope")), QStringLiteral("alpha"), true);
        writeSession(m_dir.filePath(QStringLiteral("b.tcpscope")), QStringLiteral("beta"), false);
    }

    void fileMenuHasMerge()
    {
        MainWindow window;
        bool found = false;
        for (QAction *menu : window.menuBar()->actions())
            if (menu->menu())
                for (QAction *a : menu->menu()->actions())
                    found = found || a->text() == QStringLiteral("&Merge…");
        QVERIFY(found);
    }

    void mergesOnItsThread()
    {
        MergeDialog d;
        const QString out = m_dir.filePath(QStringLiteral("ab.tcpscope"));
        d.setInputs({m_dir.filePath(QStringLiteral("a.tcpscope")),
                     m_dir.filePath(QStringLiteral("b.tcpscope"))});
        d.setOffsets(QStringLiteral("beta=+1.5\n"));
        d.setOutput(out);
        QSignalSpy finished(&d, &MergeDialog::finished);
        QVERIFY(d.startMerge());
        QVERIFY(d.running());
        QVERIFY(finished.wait(20000));
        QCOMPARE(finished.first().first().toBool(), true);
        QCOMPARE(d.mergedPath(), out);
        QVERIFY2(d.logText().contains(QStringLiteral("host 1 beta")), qPrintable(d.logText()));
        QString error;
        auto s = Session::open(out, &error);
        QVERIFY2(s, qPrintable(error));
        QCOMPARE(s->hosts().size(), 2);
        QCOMPARE(s->hosts()[1].clockOffsetNs, 1'500'000);
        QCOMPARE(d.result(), int(QDialog::Accepted));
    }

    void badChoicesShowOneLine()
    {
        MergeDialog d;
        const QString out = m_dir.filePath(QStringLiteral("bad.tcpscope"));
        d.setInputs({m_dir.filePath(QStringLiteral("a.tcpscope"))});
        d.setOutput(out);
        QVERIFY(!d.startMerge()); // one input
        d.setInputs({m_dir.filePath(QStringLiteral("a.tcpscope")),
                     m_dir.filePath(QStringLiteral("b.tcpscope"))});
        d.setOffsets(QStringLiteral("beta plus five"));
        QVERIFY(!d.startMerge());
        QVERIFY2(d.errorText().contains(QStringLiteral("HOST=")), qPrintable(d.errorText()));
        d.setOffsets(QString());
        d.setInputs({m_dir.filePath(QStringLiteral("a.tcpscope")),
                     m_dir.filePath(QStringLiteral("missing.tcpscope"))});
        QSignalSpy finished(&d, &MergeDialog::finished);
        QVERIFY(d.startMerge());
        QVERIFY(finished.wait(20000));
        QCOMPARE(finished.first().first().toBool(), false);
        QVERIFY2(d.errorText().contains(QStringLiteral("missing.tcpscope: no such file")),
                 qPrintable(d.errorText()));
        QVERIFY(d.mergedPath().isEmpty());
        QVERIFY(!QFile::exists(out));
    }

private:
    QTemporaryDir m_dir;
};

QTEST_MAIN(TestMergeDialog)
#include "test_merge_dialog.moc"
