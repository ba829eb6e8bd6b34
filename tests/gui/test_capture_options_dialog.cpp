// SPDX-License-Identifier: GPL-3.0-or-later
// Capture ▸ Options…'s "Triggered capture" group: the choice it returns and remembers, its
// validation as the user types, and CaptureController giving the trigger to LiveCapture.
#include "capture_controller.h"
#include "detect/alert_rules.h"
#include "dialogs/capture_options_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

using namespace tcpscope;

class TestCaptureOptions : public QObject
{
    Q_OBJECT

    static void type(CaptureOptionsDialog &d, const QString &text)
    {
        QLineEdit *edit = d.triggerEdit()->lineEdit();
        edit->clear();
        QTest::keyClicks(edit, text);
    }

private slots:
    void initTestCase()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("tcpscope-test"));
        QCoreApplication::setApplicationName(QStringLiteral("test_capture_options_dialog"));
        QSettings().clear();
    }

    void defaultsAreOffFiveSecondsAnd128MiB()
    {
        QSettings().clear();
        const CaptureTriggerChoice c = CaptureOptionsDialog::loadTrigger();
        QVERIFY(!c.enabled);
        QVERIFY(!c.active());
        CaptureOptionsDialog d(CaptureOptions{}, c);
        QVERIFY(!d.triggerCheck()->isChecked());
        QVERIFY(!d.triggerEdit()->isEnabled());
        QCOMPARE(d.preSpin()->value(), 5);
        QCOMPARE(d.postSpin()->value(), 5);
        QCOMPARE(d.ringSpin()->value(), 128);
        QCOMPARE(d.preSpin()->minimum(), 0);
        QCOMPARE(d.preSpin()->maximum(), 3600);
        QCOMPARE(d.ringSpin()->minimum(), 1);
        QCOMPARE(d.ringSpin()->maximum(), 65536);
        QVERIFY(d.isValid());
        // The combo lists every built-in detector as kind:KIND.
        QCOMPARE(d.triggerEdit()->count(), builtinDetectors().size());
        for (const DetectorInfo &det : builtinDetectors())
            QVERIFY(d.triggerEdit()->findText(QStringLiteral("kind:") + det.kind) >= 0);
    }

    void ownerTermsAreChecked()
    {
        CaptureOptionsDialog d(CaptureOptions{}, CaptureTriggerChoice{});
        d.filterEdit()->setText(QStringLiteral("cgroup /system.slice/nginx.service and pid 42"));
        QVERIFY(d.isValid());
        QVERIFY(d.errorLabel()->text().isEmpty());
        QCOMPARE(d.options().filter,
                 QStringLiteral("cgroup /system.slice/nginx.service and pid 42"));
        d.filterEdit()->setText(QStringLiteral("cgroup system.slice"));
        QVERIFY(!d.isValid());
        QVERIFY2(d.errorLabel()->text().contains(QLatin1String("is not a cgroup path")),
                 qPrintable(d.errorLabel()->text()));
        d.filterEdit()->setText(QStringLiteral("comm nginx or port 80"));
        QVERIFY(!d.isValid());
        d.filterEdit()->setText(QStringLiteral("netns blue comm nginx,php-fpm"));
        QVERIFY(d.isValid());
    }

    void dialogReturnsTheSettings()
    {
        CaptureOptionsDialog d(CaptureOptions{}, CaptureTriggerChoice{});
        d.triggerCheck()->setChecked(true);
        QVERIFY(d.triggerEdit()->isEnabled());
        const QString kind = builtinDetectors().first().kind;
        d.triggerEdit()->setCurrentIndex(0);
        d.preSpin()->setValue(10);
        d.postSpin()->setValue(20);
        d.ringSpin()->setValue(64);
        QVERIFY(d.isValid());
        const auto t = d.triggerChoice().active();
        QVERIFY(t);
        QCOMPARE(t->trigger, QStringLiteral("kind:") + kind);
        QCOMPARE(t->preNs, 10'000'000'000LL);
        QCOMPARE(t->postNs, 20'000'000'000LL);
        QCOMPARE(t->ringBytes, 64LL * 1024 * 1024);
        QCOMPARE(t->alertKind(), kind);

        type(d, QStringLiteral("tcp.port == 443"));
        QVERIFY(d.isValid());
        QCOMPARE(d.triggerChoice().settings.trigger, QStringLiteral("tcp.port == 443"));

        // Unchecked: nothing for LiveCapture, the values stay.
        d.triggerCheck()->setChecked(false);
        QVERIFY(!d.triggerChoice().active());
        QCOMPARE(d.triggerChoice().settings.trigger, QStringLiteral("tcp.port == 443"));
    }

    void invalidTriggerDisablesOk()
    {
        CaptureOptionsDialog d(CaptureOptions{}, CaptureTriggerChoice{});
        d.show();
        QVERIFY(QTest::qWaitForWindowExposed(&d));
        d.triggerEdit()->setEditText(QStringLiteral("tcp.prot == 1"));
        QVERIFY(d.isValid()); // the group is off: its text does not matter
        d.triggerCheck()->setChecked(true);
        QVERIFY(!d.isValid());
        QVERIFY(d.triggerErrorLabel()->isVisible());
        QVERIFY2(d.triggerErrorLabel()->text().contains(QStringLiteral("tcp.prot")),
                 qPrintable(d.triggerErrorLabel()->text()));
        // Fixed as the user types.
        type(d, QStringLiteral("tcp.port == 1"));
        QVERIFY(d.isValid());
        QVERIFY(!d.triggerErrorLabel()->isVisible());

        type(d, QStringLiteral("kind:no_such_detector"));
        QVERIFY(!d.isValid());
        QVERIFY(d.triggerErrorLabel()->text().contains(QStringLiteral("no_such_detector")));
        type(d, QString());
        QVERIFY(!d.isValid());
        type(d, QStringLiteral("kind:") + builtinDetectors().last().kind);
        QVERIFY(d.isValid());

        // A trigger keeps packets: not without recording them.
        QCheckBox *packets = nullptr;
        for (QCheckBox *box : d.findChildren<QCheckBox *>())
            if (box != d.triggerCheck())
                packets = box;
        QVERIFY(packets);
        packets->setChecked(false);
        QVERIFY(!d.isValid());
        QVERIFY(d.triggerErrorLabel()->isVisible());
        packets->setChecked(true);
        QVERIFY(d.isValid());
    }

    void okRemembersTheTrigger()
    {
        QSettings().clear();
        {
            CaptureOptionsDialog d(CaptureOptionsDialog::load());
            d.triggerCheck()->setChecked(true);
            type(d, QStringLiteral("tcp.port == 443 && tcp.len > 0"));
            d.preSpin()->setValue(30);
            d.postSpin()->setValue(0);
            d.ringSpin()->setValue(512);
            QVERIFY(d.isValid());
            d.accept();
        }
        const CaptureTriggerChoice c = CaptureOptionsDialog::loadTrigger();
        QVERIFY(c.enabled);
        QCOMPARE(c.settings.trigger, QStringLiteral("tcp.port == 443 && tcp.len > 0"));
        QCOMPARE(c.settings.preNs, 30'000'000'000LL);
        QCOMPARE(c.settings.postNs, 0LL);
        QCOMPARE(c.settings.ringBytes, 512LL * 1024 * 1024);
        // A new dialog starts from it.
        CaptureOptionsDialog d(CaptureOptionsDialog::load());
        QVERIFY(d.triggerCheck()->isChecked());
        QCOMPARE(d.triggerEdit()->currentText(), QStringLiteral("tcp.port == 443 && tcp.len > 0"));
        QCOMPARE(d.preSpin()->value(), 30);
        QCOMPARE(d.ringSpin()->value(), 512);
        // Cancel keeps what was remembered.
        d.triggerCheck()->setChecked(false);
        d.reject();
        QVERIFY(CaptureOptionsDialog::loadTrigger().enabled);
        QSettings().clear();
    }

    void controllerGivesTheTriggerToLiveCapture()
    {
#ifndef FAKE_HELPER
        QSKIP("the fake helper is not part of this build");
#else
        // Through the stand-in helper (the real wire protocol, no BPF): the session info
        // LiveCapture reports carries the trigger it was given.
        TriggerSettings t;
        t.trigger = QStringLiteral("tcp.port == 443 && tcp.len > 0");
        t.preNs = 7'000'000'000LL;
        t.postNs = 3'000'000'000LL;
        t.ringBytes = 16LL * 1024 * 1024;
        qputenv("TCPSCOPE_HELPER", FAKE_HELPER);
        for (const bool triggered : {true, false}) {
            CaptureController controller;
            controller.setTrigger(triggered ? std::optional<TriggerSettings>(t) : std::nullopt);
            QCOMPARE(controller.trigger().has_value(), triggered);
            QSignalSpy info(&controller, &CaptureController::infoReady);
            QString error;
            QVERIFY2(controller.start(CaptureOptions{}, &error), qPrintable(error));
            QVERIFY(info.count() > 0 || info.wait(5000));
            const auto si = info.first().first().value<SessionInfo>();
            if (triggered) {
                QCOMPARE(si.trigger, t.trigger);
                QCOMPARE(si.triggerPreNs, t.preNs);
                QCOMPARE(si.triggerPostNs, t.postNs);
                QCOMPARE(si.triggerRingBytes, t.ringBytes);
            } else {
                QVERIFY(si.trigger.isEmpty());
            }
            controller.stop();
            QVERIFY(!controller.isRunning());
        }
        qunsetenv("TCPSCOPE_HELPER");
#endif
    }
};

QTEST_MAIN(TestCaptureOptions)
#include "test_capture_options_dialog.moc"
