// SPDX-License-Identifier: GPL-3.0-or-later
// bench_session_gui: how the real main window behaves on a (large) session file, offscreen.
//   bench_session_gui FILE
// Opens FILE the way File ▸ Open does (worker thread), then does what a user does first and
// times each step until the window has painted the result (every step ends with a synchronous
// repaint of the views involved, so lazily fetched rows are included).
//
// Output: one "key value" pair per line on stdout (values are integers; times in ms, sizes in
// MB), in this order:
//   connections N          connections in the session
//   packets N              packets in the session
//   open_ms T              File ▸ Open until the window shows the session (table painted)
//   open_rss_mb M          resident set size then
//   sort_<column>_ms T     click on a connection table header (descending), one line per column:
//                          process, start, sent, srtt_max, remote
//   filter_read_ahead B    1 when the connections' filter text had been read ahead (a worker
//                          pass that starts with the session) by the time the word is typed,
//                          0 when the word's query reads it (the slow first word)
//   filter_ms T            typing a filter word in the connection filter (one query)
//   filter_rows N          rows it left
//   filter_expr_ms T       a display-filter expression in the connection filter
//                          (proc.name == "curl" && conn.remote_port == 443), until its rows are
//                          painted (large sessions: evaluated on a worker, which is waited for)
//   filter_expr_rows N     rows it left
//   peers_ms T             from the open until the Peer column's pairs are known
//   scroll_last_packet_ms T  no connection selected (all packets), jump to the last row
//   last_packet_id N       id of that row
//   conn_id N              the connection with the most packets (the worst case)
//   conn_packets N         its packets
//   conn_packets_ms T      selecting it until its packet list is painted
//   seq_graph_ms T         Sequence graph tab until the graph of its packets is painted
//   kernel_charts_ms T     Kernel metrics tab until its charts are painted
//   final_rss_mb M         resident set size at the end
// Exit status 0 on success, 1 on a usage or open error (message on stderr).
#include "charts/seq_graph_widget.h"
#include "main_window.h"
#include "models/connection_table_model.h"
#include "models/packet_table_model.h"
#include "session/session.h"
#include "views/connection_detail_view.h"
#include "views/connection_table_view.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTabWidget>
#include <QTableView>

#include <cstdio>

using namespace tcpscope;

namespace {

qint64 rssMb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong() / 1024;
    return -1;
}

void print(const char *key, qint64 value)
{
    std::printf("%s %lld\n", key, static_cast<long long>(value));
    std::fflush(stdout);
}

// Lets queued work (worker results, coalescing timers) land, then paints synchronously.
void settle(QWidget *w, int ms = 0)
{
    QElapsedTimer t;
    t.start();
    do {
        QApplication::processEvents(QEventLoop::AllEvents, 5);
    } while (t.elapsed() < ms);
    w->repaint();
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: bench_session_gui FILE\n");
        return 1;
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("tcpscope-bench"));
    const QString path = QString::fromLocal8Bit(argv[1]);

    MainWindow w;
    w.setInteractiveErrors(false);
    w.resize(1400, 900);
    w.show();
    QApplication::processEvents();

    QElapsedTimer t;
    bool opened = false;
    QString error;
    QObject::connect(&w, &MainWindow::sessionOpened, [&] { opened = true; });
    QObject::connect(&w, &MainWindow::errorOccurred, [&](const QString &e) { error = e; });
    // When the Peer column's pairs arrive (a worker pass after the open on large sessions).
    QElapsedTimer sinceOpen;
    qint64 peersMs = -1;
    QObject::connect(w.connectionModel(), &ConnectionTableModel::peersChanged,
                     [&] { peersMs = sinceOpen.elapsed(); });
    sinceOpen.start();
    t.start();
    w.openSessionInBackground(path);
    while (!opened && error.isEmpty())
        QApplication::processEvents(QEventLoop::WaitForMoreEvents, 10);
    if (!opened) {
        std::fprintf(stderr, "bench_session_gui: %s\n", qPrintable(error));
        return 1;
    }
    settle(&w);
    const qint64 openMs = t.elapsed();
    const std::shared_ptr<const Session> session = w.session();
    print("connections", session->connectionCount());
    print("packets", session->packetCount());
    print("open_ms", openMs);
    print("open_rss_mb", rssMb());

    ConnectionTableView *table = w.tableView();
    const struct
    {
        const char *key;
        int column;
    } sorts[] = {{"sort_process_ms", ConnectionTableModel::column("process")},
                 {"sort_start_ms", ConnectionTableModel::column("start")},
                 {"sort_sent_ms", ConnectionTableModel::column("sent")},
                 {"sort_srtt_max_ms", ConnectionTableModel::column("srtt_max")},
                 {"sort_remote_ms", ConnectionTableModel::column("remote")}};
    for (const auto &s : sorts) {
        t.restart();
        table->sortByColumn(s.column, Qt::DescendingOrder);
        settle(&w);
        print(s.key, t.elapsed());
    }
    table->sortByColumn(ConnectionTableModel::column("id"), Qt::AscendingOrder);
    settle(&w);

    print("filter_read_ahead", session->hasWordIndex() ? 1 : 0);
    t.restart();
    w.setFilterText(QStringLiteral("curl"));
    settle(&w);
    print("filter_ms", t.elapsed());
    print("filter_rows", w.connectionModel()->rowCount());
    w.setFilterText(QString());
    settle(&w);

    t.restart();
    w.setFilterText(QStringLiteral("proc.name == \"curl\" && conn.remote_port == 443"));
    while (w.connectionModel()->isFiltering())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    settle(&w);
    print("filter_expr_ms", t.elapsed());
    print("filter_expr_rows", w.connectionModel()->rowCount());
    w.setFilterText(QString());
    settle(&w);
    while (!w.connectionModel()->peersReady())
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    print("peers_ms", peersMs >= 0 ? peersMs : sinceOpen.elapsed());

    PacketsPanel *panel = w.inspector()->packetsPanel();
    table->clearSelection();
    settle(&w);
    t.restart();
    panel->view()->scrollToBottom();
    const int lastRow = panel->model()->rowCount() - 1;
    panel->view()->selectRow(lastRow);
    settle(&w);
    print("scroll_last_packet_ms", t.elapsed());
    print("last_packet_id", panel->model()->packetAt(lastRow).id);

    ConnectionQuery biggest;
    biggest.sortColumn = QStringLiteral("packets_out");
    biggest.descending = true;
    const qint64 conn = session->connectionIds(biggest).value(0, 1);
    print("conn_id", conn);
    print("conn_packets", session->packetCount(conn));
    t.restart();
    table->selectConnection(conn);
    settle(&w);
    print("conn_packets_ms", t.elapsed());

    t.restart();
    w.lowerTabs()->setCurrentWidget(w.inspector());
    w.inspector()->showSequenceGraph();
    settle(&w);
    print("seq_graph_ms", t.elapsed());

    t.restart();
    w.showKernelMetrics();
    settle(&w, 0);
    print("kernel_charts_ms", t.elapsed());
    print("final_rss_mb", rssMb());
    return 0;
}
