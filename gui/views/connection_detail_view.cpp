// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/connection_detail_view.h"

#include "analysis/termination.h"
#include "charts/metrics_data.h"
#include "charts/metrics_widget.h"
#include "models/kernel_store.h"
#include "models/packet_details.h"
#include "session/session.h"
#include "util/format.h"

#include <QLabel>
#include <QSet>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <cmath>

namespace tcpscope {

namespace {
QString ns(qint64 v)
{
    return fmt::durationMs(v / 1e6);
}
} // namespace

ConnectionDetailView::ConnectionDetailView(QWidget *parent)
    : QWidget(parent), m_transitJob(new PeerTransitJob(this))
{
    connect(m_transitJob, &PeerTransitJob::finished, this, &ConnectionDetailView::finishTransit);
    m_stack = new QStackedWidget(this);
    m_empty = new QLabel(this);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setStyleSheet(QStringLiteral("color: #666; font-size: 11pt; padding: 20px;"));
    m_empty->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *page = new QWidget(this);
    m_header = new QLabel(page);
    m_header->setWordWrap(true);
    m_header->setTextFormat(Qt::RichText);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_header->setContentsMargins(6, 4, 6, 2);
    m_readout = new QLabel(page);
    m_readout->setWordWrap(true);
    m_readout->setContentsMargins(6, 2, 6, 2);
    m_readout->setMinimumHeight(m_readout->fontMetrics().height() * 2 + 6);
    m_readout->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_readout->setStyleSheet(QStringLiteral(
        "background: #f6f6f2; border-top: 1px solid #ddd; border-bottom: 1px solid #ddd;"));
    m_metrics = new MetricsWidget(page);
    m_metrics->setMinimumHeight(360);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_header);
    layout->addWidget(m_readout);
    layout->addWidget(m_metrics, 1);
    m_stack->addWidget(m_empty);
    m_stack->addWidget(page);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(m_stack);

    const QString readoutHint =
        tr("Move the mouse over the charts: the values of the nearest kernel sample appear here. "
           "Wheel zooms time, drag pans, double-click fits; all charts follow.");
    m_readout->setText(readoutHint);
    connect(m_metrics, &MetricsWidget::crosshairMoved, this,
            [this, readoutHint](double, const QString &text) {
                m_readout->setText(text.isEmpty() ? readoutHint : text);
            });

    m_rebuildTimer.setSingleShot(true);
    m_rebuildTimer.setInterval(250);
    connect(&m_rebuildTimer, &QTimer::timeout, this, &ConnectionDetailView::rebuildNow);
    reset(tr("Open a session file or start a capture, then select a connection"));
}

void ConnectionDetailView::setSession(std::shared_ptr<const Session> session)
{
    m_session = std::move(session);
    m_transitJob->cancel();
    m_transitFor = 0;
    m_peerHtml.clear();
    m_peerText.clear();
}

void ConnectionDetailView::startTransit(qint64 connectionId)
{
    // Live, the same connection is matched again with its new packets once a run has ended (at
    // most every 2 s).
    if (!m_session || (connectionId == m_transitFor && (!m_capturing || m_transitJob->isRunning() ||
                                                        m_transitStarted.elapsed() < 2000)))
        return;
    if (connectionId != m_transitFor) {
        m_peerHtml.clear();
        m_peerText.clear();
    }
    m_transitFor = connectionId;
    m_transitStarted.start();
    m_transitJob->start(m_session->path(), {connectionId});
}

void ConnectionDetailView::finishTransit(const std::shared_ptr<const PeerTransitResult> &result)
{
    const QString before = m_peerText;
    m_peerHtml.clear();
    m_peerText.clear();
    const auto it = result->transits.constFind(m_transitFor);
    if (it != result->transits.cend()) {
        const PeerTransit &t = *it;
        // One direction: "→ #2 one-way 1.2 µs / 3.4 µs / 40 µs (min / median / max of 120),
        // 0 of 121 not received".
        auto way = [](const TransitDirection &d, const QString &arrow, bool html) {
            QString delays = d.delays == 0
                                 ? QStringLiteral("no delay measured")
                                 : QStringLiteral("one-way %1 / %2 / %3 (min / median / max of %4)")
                                       .arg(oneWayDelayText(d.minNs), oneWayDelayText(d.medianNs),
                                            oneWayDelayText(d.maxNs))
                                       .arg(d.delays);
            QString lost = QStringLiteral("%1 of %2 sent not received").arg(d.lost).arg(d.sent);
            if (html && d.lost)
                lost = QStringLiteral("<b style='color:#b02020'>%1</b>").arg(lost);
            return QStringLiteral("%1 %2, %3").arg(arrow, delays, lost);
        };
        const QString to = QStringLiteral("→ #%1").arg(t.peerId);
        const QString from = QStringLiteral("← #%1").arg(t.peerId);
        m_peerText = QStringLiteral("Both ends: %1 · %2")
                         .arg(way(t.outbound, to, false), way(t.inbound, from, false));
        m_peerHtml = QStringLiteral("<b>Both ends:</b> %1 &nbsp;·&nbsp; %2")
                         .arg(way(t.outbound, to, true), way(t.inbound, from, true));
    }
    if (showsCharts())
        showHeader();
    else if (m_peerText != before)
        scheduleRebuild(); // the text that says why there are no charts gains the line
}

void ConnectionDetailView::showHeader()
{
    m_header->setText(m_peerHtml.isEmpty() ? m_headerBase
                                           : m_headerBase + QStringLiteral("<br>") + m_peerHtml);
}

void ConnectionDetailView::reset(const QString &hint)
{
    m_hint = hint;
    m_selected.clear();
    m_current = 0;
    m_shownIds.clear();
    m_metrics->clear();
    showEmpty(hint);
}

void ConnectionDetailView::setSessionInfo(const SessionInfo &info, bool capturing)
{
    m_info = info;
    m_capturing = capturing;
}

void ConnectionDetailView::setOriginNs(qint64 originNs)
{
    if (originNs == m_originNs)
        return;
    m_originNs = originNs;
    m_shownIds.clear(); // x values move: fit again
    scheduleRebuild();
}

void ConnectionDetailView::setSessionEndNs(qint64 endNs)
{
    m_endNs = endNs;
}

void ConnectionDetailView::setConnections(const QVector<qint64> &selected, qint64 current)
{
    m_selected = selected;
    m_current = current;
    scheduleRebuild();
    if (isVisible())
        rebuildNow(); // a click should answer at once
}

void ConnectionDetailView::onDataChanged(const QSet<qint64> &connectionIds)
{
    for (qint64 id : std::as_const(m_selected)) {
        if (connectionIds.contains(id)) {
            if (isVisible())
                m_rebuildTimer.start();
            else
                m_dirty = true;
            return;
        }
    }
}

void ConnectionDetailView::scheduleRebuild()
{
    m_dirty = true;
    if (isVisible() && !m_rebuildTimer.isActive())
        m_rebuildTimer.start();
}

void ConnectionDetailView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_dirty)
        rebuildNow();
}

bool ConnectionDetailView::showsCharts() const
{
    return m_stack->currentIndex() == 1;
}

QString ConnectionDetailView::emptyText() const
{
    return showsCharts() ? QString() : m_empty->text();
}

void ConnectionDetailView::showEmpty(const QString &text)
{
    m_empty->setText(text);
    m_stack->setCurrentIndex(0);
}

QString ConnectionDetailView::whyNoSamples(const Connection &c) const
{
    if (!m_info.kernelMetrics && !m_capturing)
        return tr("This session has no kernel metrics: it was recorded with --no-tcpinfo, by an "
                  "older tcpscope, "
                  "or on a kernel without tcp_probe (see the capabilities).");
    if (c.role == ConnectionRole::Listener)
        return tr("%1 is a listening socket: it has no RTT or windows. Its accept-queue samples "
                  "and drops are in the overview.")
            .arg(fmt::connectionLabel(c));
    if (m_capturing)
        return tr("No kernel samples for %1 yet: samples come while it sends or receives data.")
            .arg(fmt::connectionLabel(c));
    return tr("No kernel samples for %1: it carried no data after the capture started, it started "
              "before the "
              "capture and stayed idle, or it never reached ESTABLISHED.")
        .arg(fmt::connectionLabel(c));
}

QString ConnectionDetailView::headerFor(const Connection &c) const
{
    const HandshakeInfo hs = handshakeOf(c);
    const TerminationInfo term = terminationOf(c, m_endNs);
    QStringList hsParts;
    if (hs.refused)
        hsParts << QStringLiteral("<b style='color:#b02020'>refused</b> (RST answered the SYN)");
    else if (hs.timedOut)
        hsParts << QStringLiteral("<b style='color:#b02020'>timed out</b> before ESTABLISHED");
    else if (hs.latencyNs >= 0)
        hsParts << QStringLiteral("%1").arg(ns(hs.latencyNs));
    else if (c.role == ConnectionRole::Server && !c.history.isEmpty() &&
             c.history.first().to == TcpState::SynRecv)
        // The accepted socket is created when the final ACK arrives, so its SYN_RECV ->
        // ESTABLISHED is not a round trip; only the connecting side measures one.
        hsParts << QStringLiteral("accepted (the round trip is measured by the connecting side)");
    else if (c.history.isEmpty() || c.history.first().from != TcpState::Close)
        hsParts << QStringLiteral("not seen (started before the capture)");
    else
        hsParts << QStringLiteral("not measured for this socket");
    if (hs.synRetransmits)
        hsParts << QStringLiteral("<b style='color:#b02020'>%1 SYN retransmit%2</b>")
                       .arg(hs.synRetransmits)
                       .arg(hs.synRetransmits == 1 ? "" : "s");
    if (hs.synAckRetransmits)
        hsParts << QStringLiteral("<b style='color:#b02020'>%1 SYN-ACK retransmit%2</b>")
                       .arg(hs.synAckRetransmits)
                       .arg(hs.synAckRetransmits == 1 ? "" : "s");

    QStringList termParts;
    if (c.isOpen() && term.firstCloser == Closer::Unknown && !term.reset) {
        termParts << tr("still open");
    } else {
        if (term.reset)
            termParts << QStringLiteral("<b style='color:#b02020'>RST %1</b>")
                             .arg(term.resetByPeer ? tr("from the peer") : tr("sent by this side"));
        else if (term.firstCloser != Closer::Unknown)
            termParts << QStringLiteral("FIN, %1 closed first").arg(closerName(term.firstCloser));
        if (term.halfClosedNs >= 0)
            termParts << QStringLiteral("half-closed %1").arg(ns(term.halfClosedNs));
        if (term.finWait2Ns >= 0)
            termParts << QStringLiteral("FIN_WAIT2 %1").arg(ns(term.finWait2Ns));
        if (term.timeWaitNs >= 0)
            termParts
                << QStringLiteral("TIME_WAIT %1%2%3")
                       .arg(ns(term.timeWaitNs),
                            term.timeWaitInferred
                                ? tr(" (inferred from the hand-off to the 60 s timewait socket)")
                                : QString(),
                            term.timeWaitOngoing ? tr(", still running when the capture ended")
                                                 : QString());
        if (termParts.isEmpty())
            termParts << closeReasonName(c.closeReason);
    }

    const KernelSummary &k = c.kernel;
    QStringList kParts;
    kParts << QStringLiteral("%1 samples").arg(k.samples);
    if (k.srttUsMax)
        kParts << QStringLiteral("srtt %1 – %2")
                      .arg(formatRttUs(k.srttUsMin), formatRttUs(k.srttUsMax));
    if (k.cwndMax)
        kParts << QStringLiteral("cwnd max %1").arg(k.cwndMax);
    const auto red = [](quint32 n, const QString &what) {
        const QString t = QStringLiteral("%1 %2").arg(n).arg(what);
        return n ? QStringLiteral("<b style='color:#b02020'>%1</b>").arg(t) : t;
    };
    kParts << red(k.retransmits, QStringLiteral("retransmitted"));
    kParts << red(
        k.resetsSent + k.resetsReceived,
        QStringLiteral("RST (%1 sent, %2 received)").arg(k.resetsSent).arg(k.resetsReceived));
    kParts << red(k.drops, QStringLiteral("kernel drops"));

    return QStringLiteral("<b>#%1 %2</b> &nbsp; %3 · %4<br>"
                          "<b>Handshake:</b> %5 &nbsp;&nbsp; <b>Termination:</b> %6<br>"
                          "<b>Kernel:</b> %7")
        .arg(c.id)
        .arg(metricsConnectionLabel(c).toHtmlEscaped(), connectionRoleName(c.role),
             tcpStateName(c.state), hsParts.join(QStringLiteral(" · ")),
             termParts.join(QStringLiteral(" · ")), kParts.join(QStringLiteral(" · ")));
}

void ConnectionDetailView::rebuildNow()
{
    m_rebuildTimer.stop();
    m_dirty = false;
    if (m_selected.isEmpty()) {
        m_shownIds.clear();
        m_metrics->clear();
        showEmpty(m_session && m_session->connectionCount() > 0
                      ? tr("Select a connection in the table to see the kernel's view of it "
                           "(RTT, congestion window, windows, throughput). Select several to "
                           "compare them.")
                      : m_hint);
        return;
    }
    QVector<qint64> ids;
    if (m_current > 0 && m_selected.contains(m_current))
        ids << m_current;
    for (qint64 id : std::as_const(m_selected))
        if (!ids.contains(id) && ids.size() < kMaxOverlay)
            ids << id;

    QVector<ConnectionMetrics> metrics;
    std::optional<Connection> current;
    for (qint64 id : std::as_const(ids)) {
        const std::optional<Connection> c = m_session ? m_session->connection(id) : std::nullopt;
        if (!c)
            continue;
        if (!current)
            current = c;
        KernelData k = m_session->kernelData(id);
        ConnectionKernelData data;
        data.samples = std::move(k.samples);
        data.events = std::move(k.events);
        data.drops = std::move(k.drops);
        if (!data.isEmpty())
            metrics << buildConnectionMetrics(*c, data, m_originNs);
    }
    if (!current) {
        showEmpty(m_hint);
        return;
    }
    startTransit(current->id);
    const bool anySamples = std::any_of(metrics.cbegin(), metrics.cend(),
                                        [](const ConnectionMetrics &m) { return m.hasSamples(); });
    if (!anySamples) {
        m_shownIds.clear();
        m_metrics->clear();
        QString text = whyNoSamples(*current);
        if (!m_peerText.isEmpty() && m_transitFor == current->id)
            text += QStringLiteral("\n\n") + m_peerText;
        if (ids.size() > 1)
            text = tr("None of the %1 selected connections has kernel samples.\n%2")
                       .arg(ids.size())
                       .arg(text);
        showEmpty(text);
        return;
    }
    QString header = headerFor(*current);
    if (ids.size() > 1) {
        header += tr("<br><i>Overlay of %1 connections (one colour each, named above the "
                     "charts)%2; details are those of the current row.</i>")
                      .arg(metrics.size())
                      .arg(m_selected.size() > kMaxOverlay
                               ? tr(", the first %1 of the selection").arg(kMaxOverlay)
                               : QString());
    }
    m_headerBase = header;
    showHeader();
    const bool same = ids == m_shownIds;
    m_shownIds = ids;
    m_shownCurrent = current->id;
    m_metrics->setConnections(metrics, same);
    m_stack->setCurrentIndex(1);
}

} // namespace tcpscope
