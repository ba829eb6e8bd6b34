// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_chart_renderer.h"
#include "cli_commands.h"

#include "export/session_export.h"
#include "output_file.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QRegularExpression>
#include <algorithm>
#include <memory>
#include <unistd.h>

namespace tcpscope::cli {

namespace {

const QString kCmd = QStringLiteral("export");

// An output path the policy of output_file.h refuses (a device, socket, directory, symlink, or
// a FIFO for a file): one line and the usage exit code, before the session is even opened.
// Returns an exit code, or -1 when the path may be written.
int refuseOutput(const QString &out, OutputUse use)
{
    QString why;
    if (checkOutputPath(out, use, &why))
        return -1;
    printErr(QStringLiteral("export: ") + why);
    return kExitUsage;
}

// CSV for a person at a terminal has the control characters of its text made visible (a
// crafted session could otherwise drive the terminal); a file or a pipe gets the text as
// recorded. --csv-safe: formula-like cells neutralised for spreadsheets.
TextOptions textOptions(const QString &out, bool csvSafe)
{
    TextOptions text;
    text.escapeControls = out == QLatin1String("-") && isatty(STDOUT_FILENO);
    text.csvSafe = csvSafe;
    return text;
}

// An unknown --connection ID is a usage error. Returns an exit code, or -1 when all is well.
int checkConnection(const QString &file, const Session &session, qint64 connectionId)
{
    if (connectionId > 0 && !session.connection(connectionId)) {
        printErr(QStringLiteral("%1: no connection with id %2 (%3 connections; list them with "
                                "'tcpscope export %1 --connections -')")
                     .arg(file)
                     .arg(connectionId)
                     .arg(session.connectionCount()));
        return kExitUsage;
    }
    return -1;
}

// The checks every packet-based export shares: the connection exists, the file has packets at
// all, and the selection is not empty. Returns an exit code, or -1 when all is well.
int checkPackets(const QString &file, const Session &session, qint64 connectionId)
{
    if (const int rc = checkConnection(file, session, connectionId); rc >= 0)
        return rc;
    if (!session.info().packetsCaptured) {
        printErr(QStringLiteral("%1: recorded without packet capture (--no-packets, or by a "
                                "tcpscope without it): no packets to export")
                     .arg(file));
        return kExitFailure;
    }
    const qint64 count =
        connectionId > 0 ? session.packetCount(connectionId) : session.packetCount();
    if (count <= 0) {
        if (connectionId > 0)
            printErr(QStringLiteral("%1: connection %2 has no packets (left out by --filter, or "
                                    "none crossed it while recording)")
                         .arg(file)
                         .arg(connectionId));
        else
            printErr(QStringLiteral("%1: the session has no packets (left out by --filter, or "
                                    "no TCP traffic while recording)")
                         .arg(file));
        return kExitFailure;
    }
    return -1;
}

int exportPacketsCommand(const QString &file, const QString &out, qint64 connectionId,
                         const DisplayFilter &filter, const TextOptions &text)
{
    const auto session = openSession(file);
    if (!session)
        return kExitUsage;
    if (const int rc = checkPackets(file, *session, connectionId); rc >= 0)
        return rc;
    PacketExportResult result;
    QString error;
    if (!exportPackets(*session, out, connectionId, &result, &error, filter, text)) {
        printErr(error);
        return kExitFailure;
    }
    QString note = filter.isEmpty() ? QString() : QStringLiteral(" matching the display filter");
    if (result.loopbackCopies > 0)
        note += QStringLiteral(" (left out %1 loopback egress copies: each loopback packet once, "
                               "as tcpdump -i lo shows it)")
                    .arg(result.loopbackCopies);
    const QString summary =
        QStringLiteral("wrote %1 packets to %2%3").arg(result.written).arg(out, note);
    // With the packets on stdout, the summary goes to stderr so it cannot corrupt the stream.
    if (out == QLatin1String("-"))
        printErr(summary);
    else
        printOut(summary + QLatin1Char('\n'));
    return kExitOk;
}

} // namespace

int runExport(const QStringList &args, int argc, char **argv)
{
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption connections(QStringLiteral("connections"), QString(),
                                         QStringLiteral("OUT"));
    const QCommandLineOption packets(QStringLiteral("packets"), QString(), QStringLiteral("OUT"));
    const QCommandLineOption connection(QStringLiteral("connection"), QString(),
                                        QStringLiteral("ID"));
    const QCommandLineOption chart(QStringLiteral("chart"), QString(), QStringLiteral("KIND"));
    const QCommandLineOption output({QStringLiteral("o"), QStringLiteral("output")}, QString(),
                                    QStringLiteral("OUT"));
    const QCommandLineOption size(QStringLiteral("size"), QString(), QStringLiteral("WxH"),
                                  QStringLiteral("1600x900"));
    const QCommandLineOption scale(QStringLiteral("scale"), QString(), QStringLiteral("F"),
                                   QStringLiteral("1"));
    const QCommandLineOption csvSafe(QStringLiteral("csv-safe"), QString());
    const QCommandLineOption displayFilter({QStringLiteral("Y"), QStringLiteral("display-filter")},
                                           QString(), QStringLiteral("EXPR"));
    parser.addOptions(
        {connections, packets, connection, chart, output, size, scale, csvSafe, displayFilter});
    parser.addPositionalArgument(QStringLiteral("FILE"), QString());
    if (!parser.parse(args))
        return usageError(kCmd, parser.errorText());
    const QStringList files = parser.positionalArguments();
    if (files.size() != 1)
        return usageError(kCmd, files.isEmpty() ? QStringLiteral("missing FILE")
                                                : QStringLiteral("expects exactly one FILE"));
    const bool wantConnections = parser.isSet(connections);
    const bool wantPackets = parser.isSet(packets);
    const bool wantChart = parser.isSet(chart);
    if (int(wantConnections) + int(wantPackets) + int(wantChart) != 1)
        return usageError(kCmd, QStringLiteral("give exactly one of --connections OUT, "
                                               "--packets OUT or --chart KIND"));

    if (wantChart && parser.isSet(displayFilter))
        return usageError(kCmd, QStringLiteral("-Y belongs to --packets and --connections, not "
                                               "to --chart"));
    // The expression is checked before the session is opened: a typo fails at once.
    DisplayFilter filter;
    if (parser.isSet(displayFilter) &&
        !compileDisplayFilter(kCmd, parser.value(displayFilter),
                              wantPackets ? FilterTarget::Packets : FilterTarget::Connections,
                              &filter))
        return kExitUsage;

    qint64 connectionId = 0;
    if (parser.isSet(connection)) {
        bool ok = false;
        connectionId = parser.value(connection).toLongLong(&ok);
        if (!ok || connectionId <= 0)
            return usageError(kCmd, QStringLiteral("--connection: expected a connection id (a "
                                                   "positive number), got '%1'")
                                        .arg(parser.value(connection)));
    }

    if (wantConnections) {
        if (parser.isSet(output) || parser.isSet(size) || parser.isSet(scale))
            return usageError(kCmd, QStringLiteral("-o/--size/--scale belong to --chart; "
                                                   "--connections takes the output file itself"));
        if (connectionId > 0)
            return usageError(kCmd, QStringLiteral("--connection belongs to --packets and "
                                                   "--chart seq, not to --connections"));
        const QString out = parser.value(connections);
        ExportFormat format;
        if (!exportFormatForPath(out, &format))
            return usageError(
                kCmd,
                QStringLiteral("%1: unknown format, use a .csv or .json name or '-'").arg(out));
        if (parser.isSet(csvSafe) && format != ExportFormat::Csv)
            return usageError(kCmd, QStringLiteral("--csv-safe belongs to CSV output (JSON "
                                                   "keeps every value as recorded)"));
        if (const int rc = refuseOutput(out, OutputUse::Stream); rc >= 0)
            return rc;
        const auto session = openSession(files.first());
        if (!session)
            return kExitUsage;
        QString error;
        qint64 written = 0;
        if (!exportConnections(*session, out, &error, filter, &written,
                               textOptions(out, parser.isSet(csvSafe)))) {
            printErr(error);
            return kExitFailure;
        }
        // stdout carries the CSV itself for "-"; say nothing there.
        if (!filter.isEmpty() && out != QLatin1String("-"))
            printOut(QStringLiteral("wrote %1 connections matching the display filter to %2\n")
                         .arg(written)
                         .arg(out));
        return kExitOk;
    }

    if (wantPackets) {
        if (parser.isSet(output) || parser.isSet(size) || parser.isSet(scale))
            return usageError(kCmd, QStringLiteral("-o/--size/--scale belong to --chart; "
                                                   "--packets takes the output file itself"));
        const QString out = parser.value(packets);
        PacketFileFormat format;
        if (out.isEmpty())
            return usageError(kCmd, QStringLiteral("--packets needs an output file name "
                                                   "(OUT.csv, OUT.json or OUT.pcapng, or - for "
                                                   "pcapng on stdout)"));
        if (!packetFormatForPath(out, &format))
            return usageError(kCmd, QStringLiteral("%1: unknown format, use a .csv, .json or "
                                                   ".pcapng name")
                                        .arg(out));
        if (parser.isSet(csvSafe) && format != PacketFileFormat::Csv)
            return usageError(kCmd, QStringLiteral("--csv-safe belongs to CSV output, not to "
                                                   "%1")
                                        .arg(out));
        if (const int rc = refuseOutput(out, OutputUse::Stream); rc >= 0)
            return rc;
        return exportPacketsCommand(files.first(), out, connectionId, filter,
                                    textOptions(out, parser.isSet(csvSafe)));
    }

    if (parser.isSet(csvSafe))
        return usageError(kCmd, QStringLiteral("--csv-safe belongs to CSV output, not to "
                                               "--chart"));
    // The renderer knows the charts; tcpscope-cli loads it only here.
    QString rendererError;
    const ChartRendererApi *renderer = chartRenderer(&rendererError);
    if (!renderer) {
        printErr(QStringLiteral("export: ") + rendererError);
        return kExitFailure;
    }
    const QString kind = parser.value(chart);
    if (!renderer->isChartName(kind))
        return usageError(kCmd, QStringLiteral("unknown chart '%1' (available: %2, "
                                               "overview:NAME for one chart of the overview)")
                                    .arg(kind, renderer->chartNames().join(QStringLiteral(", "))));
    if (renderer->needsConnection(kind) && connectionId <= 0)
        return usageError(kCmd, QStringLiteral("--chart %1 draws one connection: give "
                                               "--connection ID (ids: 'tcpscope export FILE "
                                               "--connections -')")
                                    .arg(kind));
    if (!renderer->needsConnection(kind) && connectionId > 0)
        return usageError(kCmd, QStringLiteral("--chart %1 covers the whole session and takes "
                                               "no --connection")
                                    .arg(kind));
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
    bool scaleOk = false;
    const double pixelRatio = parser.value(scale).toDouble(&scaleOk);
    if (!scaleOk || pixelRatio < 0.25 || pixelRatio > 8)
        return usageError(kCmd, QStringLiteral("--scale: expected a factor 0.25..8 (PNG pixels "
                                               "per WxH pixel), got '%1'")
                                    .arg(parser.value(scale)));
    if (parser.isSet(scale) && suffix != QLatin1String("png"))
        return usageError(kCmd, QStringLiteral("--scale belongs to PNG output (PDF and SVG are "
                                               "vectors of WxH points/pixels)"));
    if (const int rc = refuseOutput(out, OutputUse::File); rc >= 0)
        return rc;
    const auto session = openSession(files.first());
    if (!session)
        return kExitUsage;
    // The sequence graph draws packets: the same checks as a packet export.
    if (kind == QLatin1String("seq")) {
        if (const int rc = checkPackets(files.first(), *session, connectionId); rc >= 0)
            return rc;
    } else if (const int rc = checkConnection(files.first(), *session, connectionId); rc >= 0) {
        return rc;
    }
    QString error;
    if (!renderer->exportChart(*session, kind, connectionId, out, pixels, pixelRatio, argc, argv,
                               &error)) {
        printErr(error);
        return kExitFailure;
    }
    return kExitOk;
}

} // namespace tcpscope::cli
