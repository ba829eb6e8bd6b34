// SPDX-License-Identifier: GPL-3.0-or-later
// tcpscope-cli's chart renderer: the module tcpscope-chart-renderer.so, looked for next to the
// executable (a build tree), then in the directory it is installed to (the libdir this binary
// was compiled for, or $TCPSCOPE_CHART_RENDERER_DIR instead). Loaded once, on the first
// `export --chart`; every other subcommand runs without it.
#include "cli_chart_renderer.h"

#include <QDir>
#include <QFileInfo>
#include <QLibrary>

#include <cstring>

#ifndef TCPSCOPE_CHART_RENDERER_DIR
#define TCPSCOPE_CHART_RENDERER_DIR "/usr/local/lib/tcpscope"
#endif
#ifndef TCPSCOPE_VERSION
#define TCPSCOPE_VERSION "unknown"
#endif

namespace tcpscope::cli {

namespace {

const QString kModuleName = QStringLiteral("tcpscope-chart-renderer.so");
const QString kInstead =
    QStringLiteral("install the full tcpscope package (the graphical app and its chart "
                   "renderer), or export charts with 'tcpscope export' where it is installed");

QString executableDir()
{
    return QFileInfo(QFileInfo(QStringLiteral("/proc/self/exe")).canonicalFilePath())
        .absolutePath();
}

QString installedDir()
{
    const QByteArray env = qgetenv("TCPSCOPE_CHART_RENDERER_DIR");
    return env.isEmpty() ? QStringLiteral(TCPSCOPE_CHART_RENDERER_DIR)
                         : QString::fromLocal8Bit(env);
}

const ChartRendererApi *load(QString *error)
{
    const QStringList dirs{executableDir(), installedDir()};
    QString path;
    for (const QString &dir : dirs) {
        const QString candidate = QDir(dir).filePath(kModuleName);
        if (QFileInfo(candidate).isFile()) {
            path = candidate;
            break;
        }
    }
    if (path.isEmpty()) {
        *error = QStringLiteral("chart export needs the chart renderer %1, which is neither next "
                                "to this program nor in %2: %3")
                     .arg(kModuleName, QDir::cleanPath(installedDir()), kInstead);
        return nullptr;
    }
    // Never unloaded: the QApplication it creates and its Qt plugins live until exit.
    QLibrary library(path);
    const auto entry = reinterpret_cast<const ChartRendererApi *(*)()>(
        library.resolve(TCPSCOPE_CHART_RENDERER_ENTRY));
    if (!entry) {
        // errorString() names what is missing, e.g. libqcustomplot or Qt Widgets.
        *error = QStringLiteral("cannot load the chart renderer (%1): %2")
                     .arg(library.errorString(), kInstead);
        return nullptr;
    }
    const ChartRendererApi *api = entry();
    if (!api || api->interface != kChartRendererInterface) {
        *error = QStringLiteral("the chart renderer %1 is from another tcpscope: install both "
                                "from one build")
                     .arg(path);
        return nullptr;
    }
    if (std::strcmp(api->version, TCPSCOPE_VERSION) != 0) {
        *error = QStringLiteral("the chart renderer %1 is from tcpscope %2, this is tcpscope %3: "
                                "install both from one build")
                     .arg(path, QString::fromUtf8(api->version), QStringLiteral(TCPSCOPE_VERSION));
        return nullptr;
    }
    return api;
}

} // namespace

const ChartRendererApi *chartRenderer(QString *error)
{
    static QString loadError;
    static const ChartRendererApi *const api = load(&loadError);
    if (!api && error)
        *error = loadError;
    return api;
}

} // namespace tcpscope::cli
