// SPDX-License-Identifier: GPL-3.0-or-later
// Chart export from the main window on a real session file: File ▸ Export Chart… and the
// charts' context menus (a real right-click, then the action), the dialog filled in
// programmatically; the written PNG (size × scale), SVG (well-formed, holds the plot) and PDF;
// Copy Image; refused targets (a directory, a symlink) give the message box and write nothing;
// the GUI's export of a chart equals the command line's pixel for pixel, and a zoomed chart is
// exported as zoomed.
#include "charts/chart_actions.h"
#include "charts/chart_export.h"
#include "charts/metrics_widget.h"
#include "charts/seq_graph_widget.h"
#include "charts/timeline_widget.h"
#include "dialogs/chart_export_dialog.h"
#include "main_window.h"
#include "session/session.h"
#include "session/session_reader.h"
#include "session/session_writer.h"
#include "session_fixture.h"
#include "views/connection_detail_view.h"
#include "views/connection_table_view.h"
#include "views/overview_chart.h"
#include "views/overview_dashboard.h"
#include "views/packet_inspector.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QInputDialog>
#include <QMenu>
#include <QMessageBox>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QXmlStreamReader>

using namespace tcpscope;

class TestChartExportGui : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_session; // the fixture plus packets of connection 2

    // A window on the session, shown at a fixed size.
    std::unique_ptr<MainWindow> openWindow()
    {
        auto w = std::make_unique<MainWindow>();
        w->setInteractiveErrors(false);
        w->resize(1400, 900);
        w->show();
        if (!QTest::qWaitForWindowExposed(w.get()) || !w->openSession(m_session))
            return nullptr;
        return w;
    }

    // Right-clicks widget at pos and returns the context menu that opened. The click goes to
    // the window, as a real one does, so Qt turns it into the context menu event.
    static QMenu *rightClick(QWidget *widget, QPoint pos)
    {
        QWidget *top = widget->window();
        QTest::mouseClick(top->windowHandle(), Qt::RightButton, Qt::NoModifier,
                          widget->mapTo(top, pos));
        QMenu *menu = nullptr;
        // No menu within the time: the caller sees nullptr and says so.
        if (!QTest::qWaitFor(
                [&] { return (menu = qobject_cast<QMenu *>(QApplication::activePopupWidget())); },
                2000))
            return nullptr;
        return menu;
    }

    static QAction *menuAction(QMenu *menu, const QString &name)
    {
        for (QAction *a : menu->actions())
            if (a->objectName() == name)
                return a;
        return nullptr;
    }

    // Closes the next message box once it appears and returns its text through *text.
    static void catchMessageBox(QString *text)
    {
        // Polls until the box is up, then goes away (the application owns it until then).
        auto *poll = new QTimer(qApp);
        poll->setInterval(20);
        QObject::connect(poll, &QTimer::timeout, poll, [text, poll] {
            if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
                *text = box->text();
                box->accept();
                poll->stop();
                poll->deleteLater();
            }
        });
        poll->start();
    }

    // The page size of a PDF in points.
    static QSizeF mediaBox(const QByteArray &pdf)
    {
        const auto box =
            QRegularExpression(QStringLiteral("/MediaBox \\[0 0 ([0-9.]+) ([0-9.]+)\\]"))
                .match(QString::fromLatin1(pdf));
        return box.hasMatch() ? QSizeF(box.captured(1).toDouble(), box.captured(2).toDouble())
                              : QSizeF();
    }

    QStringList filesIn(const QString &dir) const
    {
        return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot |
                                   QDir::System);
    }

    void selectConnection(MainWindow &w, qint64 id)
    {
        w.tableView()->selectConnection(id);
        QCoreApplication::processEvents();
    }

    // The sequence graph of connection 2, visible.
    static bool showSeq(MainWindow &w)
    {
        w.lowerTabs()->setCurrentWidget(w.inspector());
        w.inspector()->showSequenceGraph();
        return QTest::qWaitFor([&] { return w.inspector()->seqGraph()->connectionId() == 2; },
                               3000);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString plain = m_dir.filePath(QStringLiteral("plain.tcpscope"));
        QString error;
        QVERIFY2(testing::writeFixtureSession(plain, nullptr, &error), qPrintable(error));
        auto data = SessionReader::read(plain, &error);
        QVERIFY2(data, qPrintable(error));
        data->info.packetsCaptured = true;
        data->packets =
            testing::lossyTransferPackets(2, data->connections.at(1).startNs + 1'000'000, 1);
        m_session = m_dir.filePath(QStringLiteral("session.tcpscope"));
        auto writer = SessionWriter::create(m_session, &error);
        QVERIFY2(writer, qPrintable(error));
        writer->setInfo(data->info);
        for (const Connection &c : data->connections)
            writer->writeConnection(c);
        writer->writePackets(data->packets);
        writer->writeKernelData(data->kernel);
        QVERIFY2(writer->close(&error), qPrintable(error));
    }

    // File ▸ Export Chart…: chooser, PNG of width × height × scale, preview drawn.
    void fileMenuExportsPngWithScale()
    {
        auto w = openWindow();
        QVERIFY(w);
        QAction *action = w->chartActions()->exportAction();
        QVERIFY(action->isEnabled());
        QCOMPARE(action->text(), QStringLiteral("Export &Chart…"));
        bool inFileMenu = false;
        for (QAction *menu : w->menuBar()->actions())
            if (menu->menu() && menu->text() == QStringLiteral("&File"))
                inFileMenu = menu->menu()->actions().contains(action);
        QVERIFY(inFileMenu);
        action->trigger();
        ChartExportDialog *dialog = w->chartActions()->dialog();
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        QVERIFY(dialog->chartCombo()->isVisible()); // the chooser, from the File menu
        QCOMPARE(dialog->chart(), QStringLiteral("timeline"));
        QVERIFY(dialog->chartCombo()->findData(QStringLiteral("overview")) >= 0);
        // No connection selected: no sequence graph or kernel chart to offer.
        QCOMPARE(dialog->chartCombo()->findData(QStringLiteral("seq")), -1);

        dialog->setFormat(QStringLiteral("png"));
        dialog->setImageSize(QSize(700, 400));
        dialog->setScale(2);
        const QString out = m_dir.filePath(QStringLiteral("menu/timeline.png"));
        QVERIFY(QDir().mkpath(QFileInfo(out).absolutePath()));
        dialog->setPath(out);
        dialog->updatePreviewNow();
        const QImage preview = dialog->previewImage();
        QVERIFY(!preview.isNull());
        QVERIFY(preview.width() <= 570 && preview.height() <= 330);
        QCOMPARE(preview.size(), QSize(560, 320));
        // The whole chart scaled down, not its top left corner: close to the full-size
        // picture shrunk (text and lines differ a little where they are drawn smaller).
        QString error;
        auto full =
            prepareChart(*w->session(), w->chartActions()->requestFor(dialog->chart()), &error);
        QVERIFY2(full, qPrintable(error));
        const QImage shrunk =
            chartImage(*full, QSize(700, 400), 1)
                .scaled(preview.size(), Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        double diff = 0;
        for (int y = 0; y < preview.height(); ++y)
            for (int x = 0; x < preview.width(); ++x)
                diff += std::abs(qGray(preview.pixel(x, y)) - qGray(shrunk.pixel(x, y)));
        diff /= preview.width() * preview.height();
        QVERIFY2(diff < 6, qPrintable(QString::number(diff)));
        QVERIFY(dialog->exportNow());
        QImage image(out);
        QCOMPARE(image.size(), QSize(1400, 800));
        QCOMPARE(filesIn(QFileInfo(out).absolutePath()),
                 QStringList{QStringLiteral("timeline.png")});

        // A .svg name chooses SVG; the scale does not apply to vectors.
        dialog->setPath(m_dir.filePath(QStringLiteral("menu/timeline.svg")));
        QCOMPARE(dialog->format(), QStringLiteral("svg"));
    }

    // Right-click on the sequence graph ▸ Export This Chart…: SVG and PDF of that chart.
    void seqContextMenuExportsSvgAndPdf()
    {
        if (!chartExportFormats().contains(QStringLiteral("svg")))
            QSKIP("built without Qt SVG");
        auto w = openWindow();
        QVERIFY(w);
        selectConnection(*w, 2);
        QVERIFY(showSeq(*w));
        SeqGraphWidget *seq = w->inspector()->seqGraph();
        QMenu *menu = rightClick(seq, seq->rect().center());
        QVERIFY(menu);
        QVERIFY(menuAction(menu, QStringLiteral("resetZoom")));
        QAction *exportThis = menuAction(menu, QStringLiteral("exportThisChart"));
        QVERIFY(exportThis && exportThis->isEnabled());
        exportThis->trigger();
        menu->close();
        ChartExportDialog *dialog = w->chartActions()->dialog();
        QVERIFY(dialog);
        QVERIFY(!dialog->chartCombo()->isVisible()); // the chart was chosen by the click
        QCOMPARE(dialog->chart(), QStringLiteral("seq"));
        QVERIFY(dialog->path().contains(QStringLiteral("seq-conn2")));

        dialog->setFormat(QStringLiteral("svg"));
        dialog->setImageSize(QSize(900, 500));
        const QString svg = m_dir.filePath(QStringLiteral("seq.svg"));
        dialog->setPath(svg);
        QVERIFY(dialog->exportNow());
        QFile file(svg);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&file);
        int paths = 0;
        bool svgRoot = false;
        QString width;
        QString text;
        while (!xml.atEnd()) {
            if (xml.readNext() == QXmlStreamReader::StartElement) {
                if (xml.name() == QLatin1String("svg")) {
                    svgRoot = true;
                    width = xml.attributes().value(QLatin1String("width")).toString();
                }
                paths +=
                    xml.name() == QLatin1String("path") || xml.name() == QLatin1String("polyline");
            } else if (xml.isCharacters()) {
                text += xml.text();
            }
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QVERIFY(svgRoot);
        QVERIFY2(paths > 20, qPrintable(QString::number(paths))); // segments, ACK line, axes
        QVERIFY(text.contains(QStringLiteral("Seconds since")));  // the time axis' label
        QVERIFY(width.startsWith(QStringLiteral("238.1")));       // 900 px at 96 dpi, in mm

        dialog->setFormat(QStringLiteral("pdf"));
        QCOMPARE(dialog->path(), m_dir.filePath(QStringLiteral("seq.pdf")));
        QVERIFY(dialog->exportNow());
        QFile pdf(m_dir.filePath(QStringLiteral("seq.pdf")));
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        const QByteArray bytes = pdf.readAll();
        QVERIFY(bytes.startsWith("%PDF"));
        QCOMPARE(mediaBox(bytes).toSize(), QSize(900, 500));
    }

    // One renderer: the GUI's export of the unzoomed sequence graph and timeline is the command
    // line's picture; zoomed, the GUI passes its range and the picture changes accordingly.
    void guiAndCliDrawTheSamePicture()
    {
#ifndef TCPSCOPE_APP
        QSKIP("the tcpscope executable is not part of this build");
#else
        auto w = openWindow();
        QVERIFY(w);
        selectConnection(*w, 2);
        QVERIFY(showSeq(*w));
        ChartActions *actions = w->chartActions();
        ChartExportDialog *dialog = actions->openExportDialog(QStringLiteral("seq"));
        QVERIFY(dialog);
        dialog->setFormat(QStringLiteral("png"));
        dialog->setImageSize(QSize(900, 500));
        dialog->setScale(1);
        const QString gui = m_dir.filePath(QStringLiteral("gui-seq.png"));
        dialog->setPath(gui);
        QVERIFY(dialog->exportNow());

        auto cli = [&](const QStringList &args, const QString &out) {
            QProcess p;
            p.start(QStringLiteral(TCPSCOPE_APP), QStringList{QStringLiteral("export"), m_session} +
                                                      args +
                                                      QStringList{QStringLiteral("-o"), out});
            return p.waitForFinished(60000) && p.exitCode() == 0;
        };
        const QString cliSeq = m_dir.filePath(QStringLiteral("cli-seq.png"));
        QVERIFY(
            cli({QStringLiteral("--chart"), QStringLiteral("seq"), QStringLiteral("--connection"),
                 QStringLiteral("2"), QStringLiteral("--size"), QStringLiteral("900x500")},
                cliSeq));
        const QImage guiImage(gui), cliImage(cliSeq);
        QCOMPARE(guiImage.size(), QSize(900, 500));
        QVERIFY(guiImage.convertToFormat(QImage::Format_ARGB32) ==
                cliImage.convertToFormat(QImage::Format_ARGB32));

        // The same at scale 2 (--scale).
        dialog->setScale(2);
        const QString gui2 = m_dir.filePath(QStringLiteral("gui-seq2.png"));
        dialog->setPath(gui2);
        QVERIFY(dialog->exportNow());
        const QString cli2 = m_dir.filePath(QStringLiteral("cli-seq2.png"));
        QVERIFY(cli({QStringLiteral("--chart"), QStringLiteral("seq"),
                     QStringLiteral("--connection"), QStringLiteral("2"), QStringLiteral("--size"),
                     QStringLiteral("900x500"), QStringLiteral("--scale"), QStringLiteral("2")},
                    cli2));
        QCOMPARE(QImage(gui2).size(), QSize(1800, 1000));
        QVERIFY(QImage(gui2).convertToFormat(QImage::Format_ARGB32) ==
                QImage(cli2).convertToFormat(QImage::Format_ARGB32));
        dialog->close();

        // Zoom the graph in with the wheel (Ctrl: time only): the export keeps that range.
        SeqGraphWidget *seq = w->inspector()->seqGraph();
        const QCPRange before = seq->xAxis->range();
        const QPointF at = seq->axisRect()->rect().center();
        QWheelEvent wheel(at, seq->mapToGlobal(at), QPoint(), QPoint(0, 480), Qt::NoButton,
                          Qt::ControlModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(seq, &wheel);
        QVERIFY(!seq->followsData());
        QVERIFY(seq->xAxis->range().size() < before.size() * 0.9);
        const ChartRequest zoomed = actions->requestFor(QStringLiteral("seq"));
        QVERIFY(zoomed.xRange);
        QCOMPARE(zoomed.xRange->lower, seq->xAxis->range().lower);
        QCOMPARE(zoomed.xRange->upper, seq->xAxis->range().upper);
        dialog = actions->openExportDialog(QStringLiteral("seq"));
        QVERIFY(dialog->keepZoom());
        dialog->setFormat(QStringLiteral("png"));
        dialog->setImageSize(QSize(900, 500));
        dialog->setScale(1);
        const QString guiZoomed = m_dir.filePath(QStringLiteral("gui-seq-zoomed.png"));
        dialog->setPath(guiZoomed);
        QVERIFY(dialog->exportNow());
        QVERIFY(QImage(guiZoomed).convertToFormat(QImage::Format_ARGB32) !=
                cliImage.convertToFormat(QImage::Format_ARGB32));
        // The same request through the renderer directly gives that file's picture.
        QString error;
        auto prepared = prepareChart(*w->session(), zoomed, &error);
        QVERIFY2(prepared, qPrintable(error));
        QVERIFY(chartImage(*prepared, QSize(900, 500), 1).convertToFormat(QImage::Format_ARGB32) ==
                QImage(guiZoomed).convertToFormat(QImage::Format_ARGB32));
        // Unchecking "As shown" draws the whole chart again: the command line's picture.
        dialog->setKeepZoom(false);
        const QString guiWhole = m_dir.filePath(QStringLiteral("gui-seq-whole.png"));
        dialog->setPath(guiWhole);
        QVERIFY(dialog->exportNow());
        QVERIFY(QImage(guiWhole).convertToFormat(QImage::Format_ARGB32) ==
                cliImage.convertToFormat(QImage::Format_ARGB32));
        dialog->close();

        // The timeline of the whole session (every row, nothing selected) likewise.
        auto w2 = openWindow();
        QVERIFY(w2);
        dialog = w2->chartActions()->openExportDialog(QStringLiteral("timeline"));
        QVERIFY(dialog);
        dialog->setFormat(QStringLiteral("png"));
        dialog->setImageSize(QSize(1000, 600));
        dialog->setScale(1);
        const QString guiTimeline = m_dir.filePath(QStringLiteral("gui-timeline.png"));
        dialog->setPath(guiTimeline);
        QVERIFY(dialog->exportNow());
        const QString cliTimeline = m_dir.filePath(QStringLiteral("cli-timeline.png"));
        QVERIFY(cli({QStringLiteral("--chart"), QStringLiteral("timeline"),
                     QStringLiteral("--size"), QStringLiteral("1000x600")},
                    cliTimeline));
        QVERIFY(QImage(guiTimeline).convertToFormat(QImage::Format_ARGB32) ==
                QImage(cliTimeline).convertToFormat(QImage::Format_ARGB32));
#endif
    }

    // Copy Image from the timeline's and a kernel chart's context menu.
    // Right-click on the sequence graph / the timeline ▸ Add Annotation…: a note on the graph's
    // connection / on the visible time range.
    void chartMenusAddAnnotations()
    {
        auto w = openWindow();
        QVERIFY(w);
        auto answer = [&w](const QString &text) {
            QInputDialog *dialog = nullptr;
            for (auto *d : w->findChildren<QInputDialog *>(QStringLiteral("annotationDialog")))
                if (d->isVisible())
                    dialog = d;
            QVERIFY(dialog);
            dialog->setTextValue(text);
            dialog->accept();
        };
        selectConnection(*w, 2);
        QVERIFY(showSeq(*w));
        SeqGraphWidget *seq = w->inspector()->seqGraph();
        QMenu *menu = rightClick(seq, seq->rect().center());
        QVERIFY(menu);
        QAction *note = menuAction(menu, QStringLiteral("addAnnotation"));
        QVERIFY(note && note->isEnabled());
        note->trigger();
        menu->close();
        answer(QStringLiteral("window full here"));
        QCOMPARE(w->annotations().size(), 1);
        QCOMPARE(w->annotations().first().connectionId, qint64(2));

        TimelineWidget *timeline = w->timeline();
        menu = rightClick(timeline, timeline->rect().center());
        QVERIFY(menu);
        note = menuAction(menu, QStringLiteral("addAnnotation"));
        QVERIFY(note && note->isEnabled());
        note->trigger();
        menu->close();
        answer(QStringLiteral("deploy"));
        QCOMPARE(w->annotations().size(), 2);
        QCOMPARE(w->annotations().last().connectionId, qint64(0));
        QVERIFY(w->annotations().last().endNs > w->annotations().last().startNs);
    }

    void copyImagePutsTheChartOnTheClipboard()
    {
        auto w = openWindow();
        QVERIFY(w);
        TimelineWidget *timeline = w->timeline();
        QApplication::clipboard()->clear();
        QMenu *menu = rightClick(timeline, timeline->axisRect()->rect().center());
        QVERIFY(menu);
        QAction *copy = menuAction(menu, QStringLiteral("copyImage"));
        QVERIFY(copy && copy->isEnabled());
        QVERIFY(menuAction(menu, QStringLiteral("resetZoom")));
        QSignalSpy copied(w->chartActions(), &ChartActions::imageCopied);
        copy->trigger();
        menu->close();
        QCOMPARE(copied.count(), 1);
        const QImage image = QApplication::clipboard()->image();
        const double dpr = timeline->devicePixelRatioF();
        QCOMPARE(image.size(), (QSizeF(timeline->size()) * dpr).toSize());

        // The kernel metrics: the chart under the mouse (here the throughput chart, the last).
        selectConnection(*w, 2);
        w->showKernelMetrics();
        MetricsWidget *metrics = w->detailView()->metrics();
        QVERIFY(QTest::qWaitFor([&] { return w->detailView()->showsCharts(); }, 3000));
        QCoreApplication::processEvents();
        const QRect last = metrics->chartRect(MetricsChart::Throughput)->rect();
        menu = rightClick(metrics, last.center());
        QVERIFY(menu);
        QAction *exportThis = menuAction(menu, QStringLiteral("exportThisChart"));
        QVERIFY(exportThis);
        QVERIFY2(exportThis->text().contains(QStringLiteral("Throughput"), Qt::CaseInsensitive),
                 qPrintable(exportThis->text()));
        copy = menuAction(menu, QStringLiteral("copyImage"));
        copy->trigger();
        menu->close();
        QCOMPARE(copied.count(), 2);
        const QSize expected =
            (QSizeF(w->chartActions()->screenSize(QStringLiteral("throughput"))) * dpr).toSize();
        QCOMPARE(QApplication::clipboard()->image().size(), expected);
    }

    // An overview chart's menu exports that chart alone (PDF), or the whole dashboard.
    void overviewChartContextMenu()
    {
        auto w = openWindow();
        QVERIFY(w);
        w->lowerTabs()->setCurrentWidget(w->overview());
        OverviewChart *rtt = w->overview()->chart(QStringLiteral("rtt"));
        QVERIFY(QTest::qWaitFor([&] { return rtt->isVisible() && rtt->width() > 100; }, 3000));
        QMenu *menu = rightClick(rtt, rtt->rect().center());
        QVERIFY(menu);
        QVERIFY(menuAction(menu, QStringLiteral("exportOverview")));
        menuAction(menu, QStringLiteral("exportThisChart"))->trigger();
        menu->close();
        ChartExportDialog *dialog = w->chartActions()->dialog();
        QVERIFY(dialog);
        QCOMPARE(dialog->chart(), QStringLiteral("overview:rtt"));
        dialog->setFormat(QStringLiteral("pdf"));
        dialog->setImageSize(QSize(640, 360));
        const QString out = m_dir.filePath(QStringLiteral("overview-rtt.pdf"));
        dialog->setPath(out);
        QVERIFY(dialog->exportNow());
        QFile pdf(out);
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        const QByteArray bytes = pdf.readAll();
        QVERIFY(bytes.startsWith("%PDF"));
        QCOMPARE(mediaBox(bytes).toSize(), QSize(640, 360));
    }

    // A directory or a symlink as the target: the message box names the reason, nothing is
    // written (no temporary file left, the symlink's target untouched).
    void refusedTargetsShowTheReasonAndWriteNothing()
    {
        auto w = openWindow();
        QVERIFY(w);
        const QString dir = m_dir.filePath(QStringLiteral("refused"));
        QVERIFY(QDir().mkpath(dir + QStringLiteral("/chart.png")));
        const QString target = dir + QStringLiteral("/victim.txt");
        {
            QFile f(target);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("keep me");
        }
        QVERIFY(QFile::link(target, dir + QStringLiteral("/link.png")));

        ChartExportDialog *dialog = w->chartActions()->openExportDialog();
        QVERIFY(dialog);
        QSignalSpy failed(w->chartActions(), &ChartActions::failed);
        dialog->setFormat(QStringLiteral("png"));
        dialog->setImageSize(QSize(400, 300));

        QString text;
        dialog->setPath(dir + QStringLiteral("/chart.png"));
        catchMessageBox(&text);
        QVERIFY(!dialog->exportNow());
        QVERIFY2(text.contains(QStringLiteral("is a directory")), qPrintable(text));
        QVERIFY(!text.contains(QLatin1Char('\n')));
        QCOMPARE(failed.count(), 1);
        QVERIFY(dialog->isVisible()); // stays open to choose another name

        text.clear();
        dialog->setPath(dir + QStringLiteral("/link.png"));
        catchMessageBox(&text);
        QVERIFY(!dialog->exportNow());
        QVERIFY2(text.contains(QStringLiteral("symbolic link")), qPrintable(text));
        QCOMPARE(failed.count(), 2);

        QStringList entries = filesIn(dir);
        entries.sort();
        QCOMPARE(entries, (QStringList{QStringLiteral("chart.png"), QStringLiteral("link.png"),
                                       QStringLiteral("victim.txt")}));
        QVERIFY(QFileInfo(dir + QStringLiteral("/link.png")).isSymLink());
        QFile f(target);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("keep me"));
        QVERIFY(filesIn(dir + QStringLiteral("/chart.png")).isEmpty());
    }
};

QTEST_MAIN(TestChartExportGui)
#include "test_chart_export_gui.moc"
