// SPDX-License-Identifier: GPL-3.0-or-later
// One binary for both faces: `tcpscope record|info|export ...` runs the headless CLI (no display
// needed); anything else starts the GUI, optionally opening the session file given as argument.
#include "capture/helper_access.h"
#include "main_window.h"
#include "unix_signal_watcher.h"

#ifdef TCPSCOPE_HAVE_CLI
#include "cli/cli.h"
#endif

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QLabel>
#include <QStatusBar>
#include <QTimer>

#include <cstdio>

int main(int argc, char **argv)
{
#ifdef TCPSCOPE_HAVE_CLI
    if (tcpscope::cli::isCliInvocation(argc, argv))
        return tcpscope::cli::run(argc, argv);
#endif
    // Without a display Qt aborts with a platform-plugin dump; say what to do instead.
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        std::fprintf(stderr, "tcpscope: no display (DISPLAY/WAYLAND_DISPLAY unset) for the "
                             "graphical app; use 'tcpscope info FILE', 'tcpscope export' or "
                             "'tcpscope record' (see 'tcpscope --help')\n");
        return 2;
    }
    QApplication app(argc, argv);
    Q_INIT_RESOURCE(tcpscope); // the .qrc lives in the static tcpscope_gui library
    QApplication::setOrganizationName(QStringLiteral("tcpscope"));
    QApplication::setApplicationName(QStringLiteral("tcpscope"));
    QApplication::setApplicationVersion(QStringLiteral(TCPSCOPE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("tcpscope"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/tcpscope.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("TCP connection lifecycles, live from the kernel"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption captureOption(QStringLiteral("capture"),
                                           QStringLiteral("Start a live capture right away"));
    parser.addOption(captureOption);
    parser.addPositionalArgument(QStringLiteral("file"),
                                 QStringLiteral("Session file (*.tcpscope) to open"),
                                 QStringLiteral("[FILE]"));
    parser.process(app);

    tcpscope::MainWindow window;
    tcpscope::UnixSignalWatcher signalWatcher;
    QObject::connect(&signalWatcher, &tcpscope::UnixSignalWatcher::terminationRequested, &window,
                     &QWidget::close);
    window.show();
    // Root is never needed for the app; say so where the user looks, for as long as it runs.
    if (const QString warning = tcpscope::runningAsRootWarning(); !warning.isEmpty()) {
        std::fprintf(stderr, "tcpscope: warning: %s\n", qPrintable(warning));
        auto *label = new QLabel(QStringLiteral("⚠ Running as root"), &window);
        label->setStyleSheet(QStringLiteral("color: #b00020; font-weight: bold;"));
        label->setToolTip(warning);
        window.statusBar()->addPermanentWidget(label);
    }
    const QStringList files = parser.positionalArguments();
    if (!files.isEmpty()) {
        // After the event loop starts, so an error dialog has a visible parent.
        QTimer::singleShot(
            0, &window, [&window, path = files.first()] { window.openSessionInBackground(path); });
    } else if (parser.isSet(captureOption)) {
        QTimer::singleShot(0, &window, &tcpscope::MainWindow::startCapture);
    }
    return app.exec();
}
