// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow: the view kept in a session file (File ▸ Save View, Save As, closing with consent)
// and shown again when the file is reopened. The keys are the `view_state` rows of
// docs/SESSION_FORMAT.md; every value is plain text, so a hostile file can at worst ask for a
// filter, a selection or a zoom, and values that no longer fit are ignored.
#include "main_window.h"

#include "charts/timeline_widget.h"
#include "models/connection_table_model.h"
#include "session/session.h"
#include "session/session_store.h"
#include "views/annotations_view.h"
#include "views/connection_table_view.h"
#include "views/endpoints_view.h"
#include "views/filter_bar.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <QDateTime>
#include <QFileInfo>
#include <QHeaderView>
#include <QInputDialog>
#include <QItemSelection>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>

#include <cmath>
#include <pwd.h>
#include <unistd.h>

namespace tcpscope {

namespace {

// At most this many selected connections are kept (a selection of a whole large table is
// not a view worth 1 MB in the file).
constexpr int kMaxSelected = 10000;

const QStringList &lowerTabNames()
{
    static const QStringList names = {QStringLiteral("packets"),     QStringLiteral("kernel"),
                                      QStringLiteral("overview"),    QStringLiteral("endpoints"),
                                      QStringLiteral("annotations"), QStringLiteral("alerts")};
    return names;
}

QString idList(const QVector<qint64> &ids)
{
    QStringList parts;
    for (qint64 id : ids.mid(0, kMaxSelected))
        parts << QString::number(id);
    return parts.join(QLatin1Char(','));
}

QVector<qint64> parseIds(const QString &text)
{
    QVector<qint64> ids;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qint64 id = part.trimmed().toLongLong(&ok);
        if (ok && id > 0)
            ids.append(id);
        if (ids.size() >= kMaxSelected)
            break;
    }
    return ids;
}

} // namespace

QMap<QString, QString> MainWindow::currentView() const
{
    QMap<QString, QString> v;
    if (!m_session)
        return v;
    v.insert(QStringLiteral("connection_filter"), m_filterBar->edit()->text().trimmed());
    PacketsPanel *panel = m_inspector->packetsPanel();
    v.insert(QStringLiteral("packet_filter"), panel->filterBar()->edit()->text().trimmed());
    v.insert(QStringLiteral("selected_connections"), idList(m_table->selectedConnectionIds()));
    v.insert(QStringLiteral("current_connection"), QString::number(m_table->currentConnectionId()));
    v.insert(QStringLiteral("current_packet"), QString::number(panel->currentPacketId()));
    v.insert(QStringLiteral("lower_tab"), lowerTabNames().value(m_lowerTabs->currentIndex()));
    v.insert(QStringLiteral("inspector_tab"), QString::number(m_inspector->tabs()->currentIndex()));
    v.insert(QStringLiteral("endpoints_grouping"), QString::number(int(m_endpoints->grouping())));
    v.insert(QStringLiteral("table_header"),
             QString::fromLatin1(m_table->horizontalHeader()->saveState().toBase64()));
    v.insert(QStringLiteral("splitter"), QString::fromLatin1(m_splitter->saveState().toBase64()));
    const QCPRange range = m_timeline->xAxis->range();
    v.insert(QStringLiteral("timeline_range"),
             QStringLiteral("%1,%2").arg(range.lower, 0, 'g', 17).arg(range.upper, 0, 'g', 17));
    return v;
}

void MainWindow::applyView(const QMap<QString, QString> &v)
{
    if (!m_session)
        return;
    auto value = [&v](const char *key) { return v.value(QLatin1String(key)); };
    auto number = [&](const char *key, qint64 fallback) {
        bool ok = false;
        const qint64 n = value(key).toLongLong(&ok);
        return ok ? n : fallback;
    };
    // Layout first: the columns and the splitter the rest is shown in.
    QHeaderView *header = m_table->horizontalHeader();
    if (const QByteArray state = QByteArray::fromBase64(value("table_header").toLatin1());
        !state.isEmpty() && header->restoreState(state) && header->isSortIndicatorShown())
        m_table->sortByColumn(header->sortIndicatorSection(), header->sortIndicatorOrder());
    if (const QByteArray state = QByteArray::fromBase64(value("splitter").toLatin1());
        !state.isEmpty())
        m_splitter->restoreState(state);

    if (v.contains(QStringLiteral("connection_filter")))
        m_filterBar->applyText(value("connection_filter"), false);
    // The selection, then the current connection within it.
    const QVector<qint64> selected = parseIds(value("selected_connections"));
    const qint64 current = number("current_connection", -1);
    if (current > 0)
        m_table->selectConnection(current);
    if (!selected.isEmpty()) {
        QItemSelection selection;
        for (qint64 id : selected) {
            const int row = m_model->rowForId(id);
            if (row >= 0)
                selection.select(m_model->index(row, 0),
                                 m_model->index(row, m_model->columnCount() - 1));
        }
        if (!selection.isEmpty())
            m_table->selectionModel()->select(selection, QItemSelectionModel::Select);
    }

    const int lower = int(lowerTabNames().indexOf(value("lower_tab")));
    if (lower >= 0)
        m_lowerTabs->setCurrentIndex(lower);
    const qint64 inspectorTab = number("inspector_tab", -1);
    if (inspectorTab >= 0 && inspectorTab < m_inspector->tabs()->count())
        m_inspector->tabs()->setCurrentIndex(int(inspectorTab));
    const qint64 grouping = number("endpoints_grouping", -1);
    if (grouping >= 0 && grouping <= int(EndpointGrouping::Process))
        m_endpoints->setGrouping(EndpointGrouping(grouping));

    PacketsPanel *panel = m_inspector->packetsPanel();
    if (v.contains(QStringLiteral("packet_filter")))
        panel->filterBar()->applyText(value("packet_filter"), false);
    if (const qint64 packet = number("current_packet", 0); packet > 0)
        panel->selectPacket(packet);

    // The timeline's zoom, once it shows the (filtered) connections.
    const QStringList range = value("timeline_range").split(QLatin1Char(','));
    bool okLo = false, okHi = false;
    const double lo = range.value(0).toDouble(&okLo), hi = range.value(1).toDouble(&okHi);
    if (range.size() == 2 && okLo && okHi && std::isfinite(lo) && std::isfinite(hi) && hi > lo) {
        updateTimelineNow();
        m_timeline->xAxis->setRange(lo, hi);
        m_timeline->replot();
    }
}

void MainWindow::addAnnotation(const Annotation &annotation)
{
    if (annotation.text.trimmed().isEmpty() || m_annotations.size() >= Annotation::kMaxPerSession)
        return;
    Annotation a = annotation;
    a.text = a.text.left(Annotation::kMaxText);
    m_annotations.append(a);
    m_annotationsView->setAnnotations(m_annotations, m_originNs);
    m_timeline->setAnnotations(m_annotations);
    statusBar()->showMessage(tr("Annotation added; File ▸ Save View keeps it in the file"), 5000);
}

void MainWindow::removeAnnotation(int index)
{
    if (index < 0 || index >= m_annotations.size())
        return;
    m_annotations.removeAt(index);
    m_annotationsView->setAnnotations(m_annotations, m_originNs);
    m_timeline->setAnnotations(m_annotations);
}

void MainWindow::annotate(qint64 connectionId, qint64 packetId)
{
    if (!m_session)
        return;
    if (connectionId <= 0 && packetId <= 0) {
        annotate(m_timeline->xAxis->range());
        return;
    }
    Annotation a;
    a.connectionId = std::max<qint64>(connectionId, 0);
    a.packetId = std::max<qint64>(packetId, 0);
    QString target;
    if (a.packetId > 0) {
        const QVector<Packet> p = m_session->packetsFromId(a.packetId, 1);
        if (!p.isEmpty() && p.first().id == a.packetId) {
            a.startNs = p.first().timeNs;
            if (a.connectionId == 0)
                a.connectionId = p.first().connectionId;
        }
        target = tr("packet %1").arg(a.packetId);
    } else {
        if (const std::optional<Connection> c = m_session->connection(a.connectionId))
            a.startNs = c->startNs;
        target = tr("connection %1").arg(a.connectionId);
    }
    askForAnnotation(a, target, QString());
}

void MainWindow::annotate(const QCPRange &seconds, const QString &text)
{
    if (!m_session)
        return;
    // Charts leave a margin before the session's start: the note starts at the session at most.
    const double lower = std::max(0.0, seconds.lower), upper = std::max(lower, seconds.upper);
    Annotation a;
    a.startNs = std::max<qint64>(0, m_originNs + qint64(lower * 1e9));
    a.endNs = std::max<qint64>(a.startNs, m_originNs + qint64(upper * 1e9));
    askForAnnotation(a, tr("%1 s – %2 s").arg(lower, 0, 'f', 3).arg(upper, 0, 'f', 3), text);
}

void MainWindow::askForAnnotation(Annotation a, const QString &target, const QString &text)
{
    const passwd *pw = ::getpwuid(::geteuid());
    a.author = pw ? QString::fromLocal8Bit(pw->pw_name).left(Annotation::kMaxAuthor) : QString();
    a.createdNs = QDateTime::currentMSecsSinceEpoch() * 1'000'000;

    auto *dialog = new QInputDialog(this);
    dialog->setObjectName(QStringLiteral("annotationDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Add Annotation"));
    dialog->setLabelText(tr("Note on %1:").arg(target));
    dialog->setOption(QInputDialog::UsePlainTextEditForTextInput);
    dialog->setTextValue(text);
    connect(dialog, &QInputDialog::textValueSelected, this,
            [this, a](const QString &value) mutable {
                a.text = value.trimmed();
                addAnnotation(a);
            });
    dialog->open();
    // Showing selects the text: a text given to start with is continued, not typed over.
    if (auto *edit = dialog->findChild<QPlainTextEdit *>(); edit && !text.isEmpty())
        edit->moveCursor(QTextCursor::End);
}

void MainWindow::goToAnnotation(int index)
{
    if (index < 0 || index >= m_annotations.size())
        return;
    const Annotation &a = m_annotations.at(index);
    if (a.connectionId > 0) {
        if (!m_table->selectConnection(a.connectionId)) {
            statusBar()->showMessage(
                tr("Connection %1 is hidden by the filter").arg(a.connectionId), 5000);
            return;
        }
        if (a.packetId > 0) {
            m_lowerTabs->setCurrentWidget(m_inspector);
            m_inspector->tabs()->setCurrentIndex(0);
            m_inspector->packetsPanel()->selectPacket(a.packetId);
        }
        return;
    }
    if (a.endNs > a.startNs) {
        m_timeline->xAxis->setRange(double(a.startNs - m_originNs) / 1e9,
                                    double(a.endNs - m_originNs) / 1e9);
        m_timeline->replot();
    }
}

bool MainWindow::viewCanBeSaved() const
{
    return !m_sessionPath.isEmpty() && m_session && m_session->format().major == 4 &&
           canKeepView(m_sessionPath, nullptr);
}

bool MainWindow::saveView()
{
    if (m_sessionPath.isEmpty() || !m_session) {
        showError(tr("Save View"),
                  tr("There is no session to save yet: open a file or start a capture."));
        return false;
    }
    if (isCapturing()) {
        showError(tr("Save View"),
                  tr("The capture is still being recorded into this file: stop it first."));
        return false;
    }
    const QMap<QString, QString> view = currentView();
    QString error;
    if (!saveSessionView(m_sessionPath, view, m_annotations, &error)) {
        showError(tr("Save View"), tr("Could not keep the view in %1:\n%2")
                                       .arg(QFileInfo(m_sessionPath).fileName(), error));
        return false;
    }
    m_savedView = view;
    m_savedAnnotations = m_annotations;
    statusBar()->showMessage(
        tr("Saved the view in %1: it reopens the same").arg(QFileInfo(m_sessionPath).fileName()),
        5000);
    return true;
}

} // namespace tcpscope
