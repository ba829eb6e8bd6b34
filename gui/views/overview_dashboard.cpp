// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/overview_dashboard.h"

#include "models/connection_table_model.h"
#include "models/kernel_store.h"
#include "models/session_job.h"
#include "session/session.h"
#include "views/overview_chart.h"

#include <QGridLayout>
#include <QLabel>
#include <QShowEvent>

namespace tcpscope {

namespace {
struct ChartSpec
{
    const char *name;
    const char *title;
};
// Layout order: time series first (what happened when), then distributions, then who.
const ChartSpec kCharts[] = {
    {"connections", QT_TRANSLATE_NOOP("OverviewDashboard", "Connections opened / closed")},
    {"active", QT_TRANSLATE_NOOP("OverviewDashboard", "Active connections")},
    {"retransmits", QT_TRANSLATE_NOOP("OverviewDashboard", "Retransmitted segments")},
    {"resets", QT_TRANSLATE_NOOP("OverviewDashboard", "Resets sent / received")},
    {"handshake", QT_TRANSLATE_NOOP("OverviewDashboard", "Handshake latency")},
    {"rtt", QT_TRANSLATE_NOOP("OverviewDashboard", "Smoothed RTT (srtt)")},
    {"drops", QT_TRANSLATE_NOOP("OverviewDashboard", "Kernel drops by reason")},
    {"procBytes", QT_TRANSLATE_NOOP("OverviewDashboard", "Top processes by bytes")},
    {"procRetrans", QT_TRANSLATE_NOOP("OverviewDashboard", "Top processes by retransmits")},
    {"remoteBytes", QT_TRANSLATE_NOOP("OverviewDashboard", "Top remotes by bytes")},
    {"remoteRetrans", QT_TRANSLATE_NOOP("OverviewDashboard", "Top remotes by retransmits")},
};

QString countText(double v)
{
    return QString::number(qint64(v));
}

QString bytesText(double v)
{
    return overviewBytesText(v);
}
} // namespace

OverviewDashboard::OverviewDashboard(QWidget *parent) : QWidget(parent), m_job(new SessionJob(this))
{
    setAutoFillBackground(true);
    QPalette pal = palette();
    pal.setColor(QPalette::Window, Qt::white);
    setPalette(pal);
    m_header = new QLabel(this);
    m_header->setWordWrap(true);
    m_header->setTextFormat(Qt::RichText);
    m_header->setContentsMargins(6, 2, 6, 2);
    m_grid = new QGridLayout(this);
    m_grid->setContentsMargins(4, 4, 4, 4);
    m_grid->setSpacing(4);
    for (const ChartSpec &spec : kCharts) {
        auto *chart = new OverviewChart(tr(spec.title), this);
        chart->setObjectName(QLatin1String(spec.name));
        chart->setToolTip(
            tr("Click a bar, point or row to show only its connections in the table and timeline"));
        connect(chart, &OverviewChart::activated, this, &OverviewDashboard::filterRequested);
        m_charts.insert(QLatin1String(spec.name), chart);
    }
    m_throttle.setSingleShot(true);
    m_throttle.setInterval(1000);
    connect(&m_throttle, &QTimer::timeout, this, [this] {
        if (isVisible())
            recomputeNow();
    });
    relayout();
    rebuild();
}

OverviewDashboard::~OverviewDashboard() = default; // m_job stops and joins its thread

void OverviewDashboard::setSession(std::shared_ptr<const Session> session)
{
    m_job->cancel(); // its overview is of the previous session
    m_session = std::move(session);
    m_connections = nullptr;
    m_kernel = nullptr;
    if (!m_session) {
        m_dirty = false;
        setOverview(Overview());
        return;
    }
    m_dirty = true;
    if (isVisible())
        recomputeNow(); // the first view of a session without the throttle's delay
}

void OverviewDashboard::sessionChanged()
{
    scheduleRecompute();
}

void OverviewDashboard::startWorker()
{
    if (m_job->isRunning()) {
        m_workerAgain = true;
        return;
    }
    m_workerAgain = false;
    auto overview = std::make_shared<Overview>();
    m_job->start(
        m_session->path(),
        [overview](const Session &session, const std::atomic<bool> &) {
            *overview = computeOverview(session);
        },
        [this, overview](const QString &error) {
            if (error.isEmpty()) {
                setOverview(*overview);
                emit overviewReady();
            } else {
                m_header->setText(
                    tr("Could not compute the overview: %1").arg(error.toHtmlEscaped()));
            }
            if (m_workerAgain)
                scheduleRecompute();
        });
}

QStringList OverviewDashboard::chartNames()
{
    QStringList names;
    for (const ChartSpec &spec : kCharts)
        names << QLatin1String(spec.name);
    return names;
}

OverviewChart *OverviewDashboard::chart(const QString &name) const
{
    return m_charts.value(name);
}

void OverviewDashboard::setOverview(const Overview &overview)
{
    m_overview = overview;
    m_kernelMetrics = overview.kernelMetrics;
    m_dirty = false;
    rebuild();
}

void OverviewDashboard::setSources(const ConnectionTableModel *connections,
                                   const KernelStore *kernel)
{
    m_job->cancel();
    m_session.reset();
    m_connections = connections;
    m_kernel = kernel;
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(connections, signal, this, &OverviewDashboard::scheduleRecompute);
    connect(connections, &QAbstractItemModel::modelReset, this,
            &OverviewDashboard::scheduleRecompute);
    connect(connections, &QAbstractItemModel::dataChanged, this,
            &OverviewDashboard::scheduleRecompute);
    connect(kernel, &KernelStore::changed, this, &OverviewDashboard::scheduleRecompute);
    connect(kernel, &KernelStore::reset, this, &OverviewDashboard::scheduleRecompute);
}

void OverviewDashboard::setSession(qint64 originNs, qint64 endNs, bool kernelMetrics)
{
    m_originNs = originNs;
    m_endNs = endNs;
    m_kernelMetrics = kernelMetrics;
    scheduleRecompute();
}

void OverviewDashboard::setEndNs(qint64 endNs)
{
    m_endNs = endNs;
    scheduleRecompute();
}

void OverviewDashboard::scheduleRecompute()
{
    m_dirty = true;
    if (isVisible() && !m_throttle.isActive())
        m_throttle.start();
}

void OverviewDashboard::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_dirty && (m_connections || m_session))
        recomputeNow(); // hidden while data arrived: catch up once
    if (m_highlightDirty)
        applyHighlight();
}

void OverviewDashboard::setHighlightedConnection(qint64 id)
{
    m_highlight = std::max<qint64>(id, 0);
    if (isVisible())
        applyHighlight();
    else
        m_highlightDirty = true; // each chart looks through its bars' ids: only when seen
}

void OverviewDashboard::applyHighlight()
{
    m_highlightDirty = false;
    for (OverviewChart *chart : std::as_const(m_charts))
        chart->highlightConnection(m_highlight);
}

void OverviewDashboard::recomputeNow()
{
    m_throttle.stop();
    m_dirty = false;
    if (m_session) {
        startWorker();
        return;
    }
    if (!m_connections)
        return;
    const QVector<Connection> &connections = m_connections->connections();
    OverviewInput in;
    in.connections =
        std::span<const Connection>(connections.constData(), size_t(connections.size()));
    in.originNs = m_originNs;
    in.endNs = m_endNs;
    in.kernelMetrics =
        m_kernelMetrics || (m_kernel && (m_kernel->sampleCount() + m_kernel->eventCount() +
                                         m_kernel->dropCount()) > 0);
    if (m_kernel) {
        // Views into the store's per-connection vectors: nothing is copied.
        auto addOf = [&](qint64 id) {
            const ConnectionKernelData &k = m_kernel->of(id);
            if (!k.samples.isEmpty())
                in.samples.append(
                    std::span<const TcpSample>(k.samples.constData(), size_t(k.samples.size())));
            if (!k.events.isEmpty())
                in.events.append(
                    std::span<const KernelEvent>(k.events.constData(), size_t(k.events.size())));
            if (!k.drops.isEmpty())
                in.drops.append(
                    std::span<const DropEvent>(k.drops.constData(), size_t(k.drops.size())));
        };
        addOf(0); // unjoined events and drops
        for (const Connection &c : connections)
            addOf(c.id);
    }
    m_overview = computeOverview(in);
    rebuild();
}

void OverviewDashboard::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    relayout();
}

void OverviewDashboard::relayout()
{
    // Wide and short (the main window's lower pane): 2 rows of 6; otherwise 3 rows of 4 with
    // the drops chart two cells wide (reason names are long).
    const int columns = width() >= 2.6 * height() ? 6 : 4;
    if (columns == m_columns)
        return;
    m_columns = columns;
    m_grid->removeWidget(m_header);
    for (OverviewChart *chart : std::as_const(m_charts))
        m_grid->removeWidget(chart);
    m_grid->addWidget(m_header, 0, 0, 1, columns);
    int row = 1, col = 0;
    for (const ChartSpec &spec : kCharts) {
        const int span =
            (columns == 4 && QLatin1String(spec.name) == QLatin1String("drops")) ? 2 : 1;
        if (col + span > columns) {
            ++row;
            col = 0;
        }
        m_grid->addWidget(m_charts.value(QLatin1String(spec.name)), row, col, 1, span);
        col += span;
    }
    for (int r = 1; r <= row; ++r)
        m_grid->setRowStretch(r, 1);
    for (int c = 0; c < columns; ++c)
        m_grid->setColumnStretch(c, 1);
}

void OverviewDashboard::rebuild()
{
    const Overview &ov = m_overview;
    const bool kernel = ov.kernelMetrics;
    const QString perBin =
        ov.binSeconds == 1 ? tr("per second") : tr("per %1 s").arg(ov.binSeconds);
    const double seconds = double(ov.endNs - ov.originNs) / 1e9;
    const QString noKernel = tr("No kernel metrics in this session");

    QString header = ov.connectionCount == 1
                         ? tr("<b>Session overview</b> — 1 connection")
                         : tr("<b>Session overview</b> — %1 connections").arg(ov.connectionCount);
    if (kernel)
        header += tr(" · %1 kernel samples · %2 retransmitted segments · %3 kernel drops")
                      .arg(ov.sampleCount)
                      .arg(ov.retransmitTotal)
                      .arg(ov.dropTotal);
    else
        header += tr(" · <span style='color:#8a5a00'>kernel metrics (RTT samples, retransmits, "
                     "resets, drops) were not "
                     "captured: recorded with --no-tcpinfo, by an older tcpscope, or the probes "
                     "are unavailable "
                     "(Help ▸ Kernel Capabilities)</span>");
    header +=
        tr(" · time bins of %1 s · <i>click a bar, point or row to filter the connection table</i>")
            .arg(ov.binSeconds);
    m_header->setText(header);

    OverviewChart *c = m_charts.value(QStringLiteral("connections"));
    c->reset(tr("None opened or closed"));
    c->addTimeBars(ov.opened, ov.binSeconds, tr("opened"), QColor(0x2e, 0x7d, 0x32), tr("opened"));
    c->addTimeBars(ov.closed, ov.binSeconds, tr("closed"), QColor(0x90, 0x90, 0x90), tr("closed"));
    c->setTimeAxis(seconds, tr("connections %1").arg(perBin));
    c->finish();

    c = m_charts.value(QStringLiteral("active"));
    c->reset(tr("No connections"));
    c->addTimeLine(
        ov.active, ov.binSeconds, tr("active"), QColor(0x15, 0x65, 0xc0),
        [this](int bin) { return m_overview.activeIds(bin, bin); }, tr("active"),
        [this](qint64 id) {
            for (const Overview::Span &span : std::as_const(m_overview.spans))
                if (span.id == id)
                    return std::pair(span.firstBin, span.lastBin);
            return std::pair(0, -1);
        });
    c->setTimeAxis(seconds, tr("open connections"));
    c->finish();

    c = m_charts.value(QStringLiteral("retransmits"));
    c->reset(kernel ? tr("No retransmits") : noKernel);
    c->addTimeBars(ov.retransmits, ov.binSeconds, tr("segments"), QColor(0xc6, 0x28, 0x28),
                   tr("retransmits"));
    c->setTimeAxis(seconds, tr("segments %1").arg(perBin));
    c->finish();

    c = m_charts.value(QStringLiteral("resets"));
    c->reset(kernel ? tr("No resets") : noKernel);
    c->addTimeBars(ov.resetsSent, ov.binSeconds, tr("sent"), QColor(0xef, 0x6c, 0x00),
                   tr("RST sent"));
    c->addTimeBars(ov.resetsReceived, ov.binSeconds, tr("received"), QColor(0x6a, 0x1b, 0x9a),
                   tr("RST received"));
    c->setTimeAxis(seconds, tr("RSTs %1").arg(perBin));
    c->finish();

    c = m_charts.value(QStringLiteral("handshake"));
    c->reset(tr("No completed handshake"));
    c->addCategoryBars(ov.handshake.bins, false, QColor(0x00, 0x83, 0x8f), tr("connections"),
                       countText, tr("handshake"));
    c->finish();

    c = m_charts.value(QStringLiteral("rtt"));
    c->reset(tr("No RTT measured"));
    c->addCategoryBars(ov.rtt.bins, false, QColor(0x15, 0x65, 0xc0),
                       ov.rttFromSamples ? tr("kernel samples") : tr("connections"), countText,
                       tr("srtt"));
    c->setToolTip(ov.rttFromSamples
                      ? tr("The smoothed RTT of every kernel sample")
                      : tr("One value per connection: its smoothed RTT at close, else the "
                           "largest the kernel sampled"));
    c->finish();

    c = m_charts.value(QStringLiteral("drops"));
    c->reset(kernel ? tr("No kernel drops") : noKernel);
    c->addCategoryBars(ov.dropsByReason, true, QColor(0xad, 0x14, 0x57), tr("dropped packets"),
                       countText, tr("drops"));
    c->finish();

    struct Ranking
    {
        const char *name;
        const QVector<OverviewBar> *rows;
        bool bytes;
        QString what;
    };
    const Ranking rankings[] = {
        {"procBytes", &ov.topProcessesByBytes, true, tr("process")},
        {"procRetrans", &ov.topProcessesByRetransmits, false, tr("process")},
        {"remoteBytes", &ov.topRemotesByBytes, true, tr("remote")},
        {"remoteRetrans", &ov.topRemotesByRetransmits, false, tr("remote")},
    };
    for (const Ranking &r : rankings) {
        c = m_charts.value(QLatin1String(r.name));
        c->reset(r.bytes ? tr("No byte counts yet") : (kernel ? tr("No retransmits") : noKernel));
        c->addCategoryBars(*r.rows, true,
                           r.bytes ? QColor(0x19, 0x76, 0xd2) : QColor(0xd3, 0x2f, 0x2f),
                           r.bytes ? tr("bytes sent + received") : tr("retransmitted segments"),
                           r.bytes ? bytesText : countText, r.what);
        c->finish();
    }
    applyAlertMarks();
    if (m_highlight > 0)
        setHighlightedConnection(m_highlight);
}

void OverviewDashboard::setAlerts(const QVector<Alert> &alerts)
{
    m_alerts = alerts.mid(0, 500);
    applyAlertMarks();
}

void OverviewDashboard::applyAlertMarks()
{
    const QVector<TimeMark> marks = alertTimeMarks(m_alerts, m_overview.originNs);
    // The charts over time (an empty histogram has no categories, but its axis is no time).
    for (const char *name : {"connections", "active", "retransmits", "resets"})
        if (OverviewChart *chart = m_charts.value(QLatin1String(name)))
            chart->setTimeMarks(marks);
}

void OverviewDashboard::paintTo(QCPPainter *painter)
{
    painter->fillRect(rect(), Qt::white);
    m_header->render(painter, m_header->pos(), QRegion(), QWidget::DrawChildren);
    for (OverviewChart *chart : std::as_const(m_charts)) {
        painter->save();
        painter->translate(chart->pos());
        chart->toPainter(painter, chart->width(), chart->height());
        painter->restore();
    }
}

} // namespace tcpscope
