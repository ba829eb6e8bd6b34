// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_commands.h"

#include "export/connection_export.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QRegularExpression>
#include <memory>

#ifdef TCPSCOPE_HAVE_CHART_EXPORT
#include "charts/chart_export.h"
#include <QApplication>
#endif

namespace tcpscope::cli {

namespace {

const QString kCmd = QStringLiteral("export");

int exportChartCommand(const SessionData &session, const QString &chart, const QString &out,
                       QSize size, int argc, char **argv)
{
#ifdef TCPSCOPE_HAVE_CHART_EXPORT
    // Charts are widgets rendered offscreen; without a display, use the offscreen platform.
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    std::unique_ptr<QApplication> app;
    if (!QCoreApplication::instance())
        app = std::make_unique<QApplication>(argc, argv);
    QString error;
    if (!exportChart(session, chart, out, size, &error)) {
        printErr(error);
        return kExitFailure;
    }
    return kExitOk;
#else
    Q_UNUSED(session);
    Q_UNUSED(chart);
    Q_UNUSED(out);
    Q_UNUSED(size);
    Q_UNUSED(argc);
    Q_UNUSED(argv);
    printErr(QStringLiteral("chart export is not available in this build (built without the GUI)"));
    return kExitFailure;
#endif
}

} // namespace

int runExport(const QStringList &args, int argc, char **argv)
{
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption connections(QStringLiteral("connections"), QString(),
                                         QStringLiteral("OUT"));
    const QCommandLineOption chart(QStringLiteral("chart"), QString(), QStringLiteral("KIND"));
    const QCommandLineOption output({QStringLiteral("o"), QStringLiteral("output")}, QString(),
                                    QStringLiteral("OUT"));
    const QCommandLineOption size(QStringLiteral("size"), QString(), QStringLiteral("WxH"),
                                  QStringLiteral("1600x900"));
    parser.addOptions({connections, chart, output, size});
    parser.addPositionalArgument(QStringLiteral("FILE"), QString());
    if (!parser.parse(args))
        return usageError(kCmd, parser.errorText());
    const QStringList files = parser.positionalArguments();
    if (files.size() != 1)
        return usageError(kCmd, files.isEmpty() ? QStringLiteral("missing FILE")
                                                : QStringLiteral("expects exactly one FILE"));
    const bool wantConnections = parser.isSet(connections);
    const bool wantChart = parser.isSet(chart);
    if (wantConnections == wantChart)
        return usageError(kCmd,
                          QStringLiteral("give exactly one of --connections OUT or --chart KIND"));

    if (wantConnections) {
        if (parser.isSet(output) || parser.isSet(size))
            return usageError(
                kCmd,
                QStringLiteral(
                    "-o/--size belong to --chart; --connections takes the output file itself"));
        const QString out = parser.value(connections);
        ExportFormat format;
        if (!exportFormatForPath(out, &format))
            return usageError(
                kCmd,
                QStringLiteral("%1: unknown format, use a .csv or .json name or '-'").arg(out));
        const auto session = loadSession(files.first());
        if (!session)
            return kExitUsage;
        QString error;
        if (!exportConnections(session->connections, out, &error)) {
            printErr(error);
            return kExitFailure;
        }
        return kExitOk;
    }

    const QString kind = parser.value(chart);
    if (kind != QLatin1String("timeline"))
        return usageError(kCmd,
                          QStringLiteral("unknown chart '%1' (available: timeline)").arg(kind));
    if (!parser.isSet(output))
        return usageError(kCmd, QStringLiteral("--chart needs -o OUT.png|OUT.pdf|OUT.svg"));
    const QString out = parser.value(output);
    const QString suffix = QFileInfo(out).suffix().toLower();
    if (suffix != QLatin1String("png") && suffix != QLatin1String("pdf") &&
        suffix != QLatin1String("svg"))
        return usageError(
            kCmd, QStringLiteral("%1: unknown image format, use .png, .pdf or .svg").arg(out));
    static const QRegularExpression sizeRe(QStringLiteral("^([0-9]{1,5})x([0-9]{1,5})$"));
    const auto m = sizeRe.match(parser.value(size));
    if (!m.hasMatch())
        return usageError(kCmd,
                          QStringLiteral("--size: expected WxH in pixels, e.g. 1600x900, got '%1'")
                              .arg(parser.value(size)));
    const QSize pixels(m.captured(1).toInt(), m.captured(2).toInt());
    if (pixels.width() < 16 || pixels.height() < 16 || pixels.width() > 20000 ||
        pixels.height() > 20000)
        return usageError(kCmd, QStringLiteral("--size: each side must be 16..20000 pixels"));
    const auto session = loadSession(files.first());
    if (!session)
        return kExitUsage;
    return exportChartCommand(*session, kind, out, pixels, argc, argv);
}

} // namespace tcpscope::cli
