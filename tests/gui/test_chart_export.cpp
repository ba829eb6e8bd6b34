// SPDX-License-Identifier: GPL-3.0-or-later
// exportChart() on a real session file: exact PNG size with bars drawn, PDF, SVG when built
// with Qt SVG, and clear errors for unknown charts, formats and sizes. The "seq" chart of a
// connection with packets (hand-made, written into a copy of the fixture) in all three formats, and
// its errors: no --connection, unknown id, a connection without packets. When the tcpscope
// executable is built, the same goes through `tcpscope export --chart ... --size WxH`.
#include "charts/chart_export.h"
#include "charts/seq_graph_plottable.h"
#include "charts/state_palette.h"
#include "session/session.h"
#include "session/session_reader.h"
#include "session/session_writer.h"
#include "session_fixture.h"

#include <QFile>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;

class TestChartExport : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_session;
    SessionData m_loaded; // the fixture as written, to derive variants from
    std::unique_ptr<Session> m_data;

    // Writes data as a session file named name and opens it.
    std::unique_ptr<Session> sessionOf(const SessionData &data, const QString &name) const
    {
        const QString path = m_dir.filePath(name);
        QString error;
        auto writer = SessionWriter::create(path, &error);
        if (!writer)
            qFatal("%s", qPrintable(error));
        writer->setInfo(data.info);
        for (const Connection &c : data.connections)
            writer->writeConnection(c);
        writer->writePackets(data.packets);
        writer->writeKernelData(data.kernel);
        if (!writer->close(&error))
            qFatal("%s", qPrintable(error));
        auto session = Session::open(path, &error);
        if (!session)
            qFatal("%s", qPrintable(error));
        return session;
    }

    static int countColor(const QImage &img, QColor color)
    {
        int n = 0;
        const QRgb want = color.rgb();
        for (int y = 0; y < img.height(); ++y)
            for (int x = 0; x < img.width(); ++x)
                n += (img.pixel(x, y) & 0xffffff) == (want & 0xffffff);
        return n;
    }

    // Antialiased 1.5 px lines at fractional heights blend with the background: count pixels
    // near the colour (a blend towards white keeps the hue) rather than exact ones.
    static int countNear(const QImage &img, QColor color, int tolerance)
    {
        int n = 0;
        for (int y = 0; y < img.height(); ++y) {
            for (int x = 0; x < img.width(); ++x) {
                const QColor c = img.pixelColor(x, y);
                n += std::abs(c.red() - color.red()) <= tolerance &&
                     std::abs(c.green() - color.green()) <= tolerance &&
                     std::abs(c.blue() - color.blue()) <= tolerance;
            }
        }
        return n;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_session = m_dir.filePath(QStringLiteral("fixture.tcpscope"));
        QString error;
        QVERIFY2(testing::writeFixtureSession(m_session, nullptr, &error), qPrintable(error));
        auto data = SessionReader::read(m_session, &error);
        QVERIFY2(data, qPrintable(error));
        m_loaded = *data;
        m_data = Session::open(m_session, &error);
        QVERIFY2(m_data, qPrintable(error));
    }

    void pngHasExactSizeAndBars_data()
    {
        QTest::addColumn<QSize>("size");
        QTest::newRow("800x600") << QSize(800, 600);
        QTest::newRow("1920x400") << QSize(1920, 400);
        QTest::newRow("333x777") << QSize(333, 777);
    }

    void pngHasExactSizeAndBars()
    {
        QFETCH(QSize, size);
        const QString out = m_dir.filePath(QStringLiteral("timeline.png"));
        QString error;
        QVERIFY2(exportChart(*m_data, QStringLiteral("timeline"), out, size, &error),
                 qPrintable(error));
        QImage img(out);
        QVERIFY(!img.isNull());
        QCOMPARE(img.size(), size);
        // The bars are really there: ESTABLISHED and handshake colours are painted.
        QVERIFY(countColor(img, phaseColor(StatePhase::Established)) > 50);
        QVERIFY(countColor(img, phaseColor(StatePhase::Handshake)) > 0);
        QVERIFY(countColor(img, phaseColor(StatePhase::Listen)) > 50);
    }

    void pdf()
    {
        const QString out = m_dir.filePath(QStringLiteral("timeline.pdf"));
        QString error;
        QVERIFY2(exportChart(*m_data, QStringLiteral("timeline"), out, QSize(1000, 500), &error),
                 qPrintable(error));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.read(5) == "%PDF-");
        QVERIFY(f.size() > 1000);
    }

    void svgOrClearRefusal()
    {
        const QString out = m_dir.filePath(QStringLiteral("timeline.svg"));
        QString error;
        const bool ok =
            exportChart(*m_data, QStringLiteral("timeline"), out, QSize(800, 600), &error);
        if (chartExportFormats().contains(QStringLiteral("svg"))) {
            QVERIFY2(ok, qPrintable(error));
            QFile f(out);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray svg = f.readAll();
            QVERIFY(svg.contains("<svg"));
            QVERIFY(svg.contains(
                "width=\"800")); // QSvgGenerator writes physical size in mm; viewBox in px
            QVERIFY(svg.contains("viewBox=\"0 0 800 600\""));
        } else {
            QVERIFY(!ok);
            QVERIFY2(error.contains(QStringLiteral("SVG")), qPrintable(error));
        }
    }

    void errors()
    {
        QString error;
        QVERIFY(!exportChart(*m_data, QStringLiteral("pie"),
                             m_dir.filePath(QStringLiteral("x.png")), QSize(800, 600), &error));
        QVERIFY2(error.contains(QStringLiteral("pie")) &&
                     error.contains(QStringLiteral("timeline")),
                 qPrintable(error));
        QVERIFY(!exportChart(*m_data, QStringLiteral("timeline"),
                             m_dir.filePath(QStringLiteral("x.bmp")), QSize(800, 600), &error));
        QVERIFY2(error.contains(QStringLiteral("png")), qPrintable(error));
        QVERIFY(!exportChart(*m_data, QStringLiteral("timeline"),
                             m_dir.filePath(QStringLiteral("x.png")), QSize(0, 600), &error));
        QVERIFY2(error.contains(QStringLiteral("size")), qPrintable(error));
        QVERIFY(!exportChart(*m_data, QStringLiteral("timeline"),
                             m_dir.filePath(QStringLiteral("nodir/x.png")), QSize(800, 600),
                             &error));
        QVERIFY2(error.contains(QStringLiteral("nodir")), qPrintable(error));
    }

    void emptySessionStillRenders()
    {
        const auto empty = sessionOf(SessionData(), QStringLiteral("empty.tcpscope"));
        const QString out = m_dir.filePath(QStringLiteral("empty.png"));
        QString error;
        QVERIFY2(exportChart(*empty, QStringLiteral("timeline"), out, QSize(640, 480), &error),
                 qPrintable(error));
        QCOMPARE(QImage(out).size(), QSize(640, 480));
    }

    // The fixture plus packets of connection 2 (curl's upload with one loss).
    std::unique_ptr<Session> withPackets() const
    {
        SessionData data = m_loaded;
        data.info.packetsCaptured = true;
        data.packets =
            testing::lossyTransferPackets(2, data.connections.at(1).startNs + 1'000'000, 1);
        return sessionOf(data, QStringLiteral("with-packets.tcpscope"));
    }

    void seqChartAllFormats_data()
    {
        QTest::addColumn<QString>("suffix");
        QTest::addColumn<QSize>("size");
        QTest::newRow("png 800x600") << QStringLiteral("png") << QSize(800, 600);
        QTest::newRow("png 1500x500") << QStringLiteral("png") << QSize(1500, 500);
        QTest::newRow("pdf") << QStringLiteral("pdf") << QSize(1000, 700);
        if (chartExportFormats().contains(QStringLiteral("svg")))
            QTest::newRow("svg") << QStringLiteral("svg") << QSize(900, 650);
    }

    void seqChartAllFormats()
    {
        QFETCH(QString, suffix);
        QFETCH(QSize, size);
        QVERIFY(exportableCharts().contains(QStringLiteral("seq")));
        QVERIFY(chartNeedsConnection(QStringLiteral("seq")));
        QVERIFY(!chartNeedsConnection(QStringLiteral("timeline")));
        const QString out = m_dir.filePath(QStringLiteral("seq.") + suffix);
        QString error;
        QVERIFY2(exportChart(*withPackets(), QStringLiteral("seq"), out, size, &error, 2),
                 qPrintable(error));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        if (suffix == QLatin1String("png")) {
            const QImage img = QImage::fromData(bytes);
            QCOMPARE(img.size(), size);
            // Data segments, the retransmission and the SACK blocks are painted.
            QVERIFY(countColor(img, seqBarColor(SeqBarKind::Data)) > 20);
            QVERIFY(countColor(img, seqBarColor(SeqBarKind::Retransmission)) > 10);
            QVERIFY(countColor(img, seqBarColor(SeqBarKind::Sack)) > 10);
        } else if (suffix == QLatin1String("pdf")) {
            QVERIFY(bytes.startsWith("%PDF-"));
            // The page is exactly WxH points (1 px = 1 pt, as for the timeline).
            const QRegularExpressionMatch box =
                QRegularExpression(QStringLiteral("/MediaBox \\[0 0 ([0-9.]+) ([0-9.]+)\\]"))
                    .match(QString::fromLatin1(bytes));
            QVERIFY2(box.hasMatch(), "no MediaBox");
            QVERIFY2(qAbs(box.captured(1).toDouble() - size.width()) < 1 &&
                         qAbs(box.captured(2).toDouble() - size.height()) < 1,
                     qPrintable(box.captured(0)));
        } else {
            QVERIFY(bytes.contains("<svg"));
            QVERIFY(bytes.contains(QStringLiteral("viewBox=\"0 0 %1 %2\"")
                                       .arg(size.width())
                                       .arg(size.height())
                                       .toLatin1()));
        }
    }

    void seqChartErrors()
    {
        const auto data = withPackets();
        const QString out = m_dir.filePath(QStringLiteral("seq-error.png"));
        QString error;
        QVERIFY(!exportChart(*data, QStringLiteral("seq"), out, QSize(800, 600), &error));
        QVERIFY2(error.contains(QStringLiteral("--connection")), qPrintable(error));
        QVERIFY(!exportChart(*data, QStringLiteral("seq"), out, QSize(800, 600), &error, 4242));
        QVERIFY2(error.contains(QStringLiteral("no connection with id 4242")), qPrintable(error));
        QVERIFY(!exportChart(*data, QStringLiteral("seq"), out, QSize(800, 600), &error, 3));
        QVERIFY2(error.contains(QStringLiteral("connection 3 has no packets")), qPrintable(error));
        QVERIFY(!QFile::exists(out));
        // The timeline of the same session carries the analysis markers.
        const QString timeline = m_dir.filePath(QStringLiteral("timeline-markers.png"));
        QVERIFY2(exportChart(*data, QStringLiteral("timeline"), timeline, QSize(1200, 500), &error),
                 qPrintable(error));
        const QImage img(timeline);
        QCOMPARE(img.size(), QSize(1200, 500));
        QVERIFY(countColor(img, QColor(0xd6, 0x27, 0x28)) > 0); // the retransmission marker
    }

    // The detail view's charts of the fixture's transfer (connection 2, kernel samples), each in
    // every format at the exact size, with its series painted.
    void metricsChartsAllFormats_data()
    {
        QTest::addColumn<QString>("chart");
        QTest::addColumn<QString>("suffix");
        QTest::addColumn<QSize>("size");
        for (const char *chart : {"rtt", "cwnd", "windows", "throughput"}) {
            QTest::addRow("%s png", chart)
                << QString::fromLatin1(chart) << QStringLiteral("png") << QSize(1100, 420);
            QTest::addRow("%s pdf", chart)
                << QString::fromLatin1(chart) << QStringLiteral("pdf") << QSize(900, 500);
            if (chartExportFormats().contains(QStringLiteral("svg")))
                QTest::addRow("%s svg", chart)
                    << QString::fromLatin1(chart) << QStringLiteral("svg") << QSize(777, 333);
        }
    }

    void metricsChartsAllFormats()
    {
        QFETCH(QString, chart);
        QFETCH(QString, suffix);
        QFETCH(QSize, size);
        QVERIFY(exportableCharts().contains(chart));
        QVERIFY(chartNeedsConnection(chart));
        const QString out = m_dir.filePath(chart + QStringLiteral(".") + suffix);
        QString error;
        QVERIFY2(exportChart(*m_data, chart, out, size, &error, testing::kFixtureTransferId),
                 qPrintable(error));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        if (suffix == QLatin1String("png")) {
            const QImage img = QImage::fromData(bytes);
            QCOMPARE(img.size(), size);
            // The first series of every chart is drawn in the same blue (srtt, cwnd, snd_wnd,
            // acked rate); the drop marker's near-black diamond too.
            QVERIFY2(countNear(img, QColor(0x00, 0x72, 0xb2), 60) > 40, qPrintable(chart));
            QVERIFY(countColor(img, QColor(0x20, 0x20, 0x20)) > 5);
        } else if (suffix == QLatin1String("pdf")) {
            QVERIFY(bytes.startsWith("%PDF-"));
            const QRegularExpressionMatch box =
                QRegularExpression(QStringLiteral("/MediaBox \\[0 0 ([0-9.]+) ([0-9.]+)\\]"))
                    .match(QString::fromLatin1(bytes));
            QVERIFY2(box.hasMatch(), "no MediaBox");
            QVERIFY(qAbs(box.captured(1).toDouble() - size.width()) < 1 &&
                    qAbs(box.captured(2).toDouble() - size.height()) < 1);
        } else {
            QVERIFY(bytes.contains("<svg"));
            QVERIFY(bytes.contains(QStringLiteral("viewBox=\"0 0 %1 %2\"")
                                       .arg(size.width())
                                       .arg(size.height())
                                       .toLatin1()));
        }
    }

    void metricsChartErrors()
    {
        const QString out = m_dir.filePath(QStringLiteral("rtt-error.png"));
        QString error;
        QVERIFY(!exportChart(*m_data, QStringLiteral("rtt"), out, QSize(800, 600), &error));
        QVERIFY2(error.contains(QStringLiteral("--connection")), qPrintable(error));
        QVERIFY(!exportChart(*m_data, QStringLiteral("cwnd"), out, QSize(800, 600), &error, 4242));
        QVERIFY2(error.contains(QStringLiteral("no connection with id 4242")), qPrintable(error));
        QVERIFY(!exportChart(*m_data, QStringLiteral("windows"), out, QSize(800, 600), &error, 3));
        QVERIFY2(error.contains(QStringLiteral("connection 3 has no kernel samples")),
                 qPrintable(error));
        SessionData oldData = m_loaded;
        oldData.info.kernelMetrics = false;
        oldData.kernel = {};
        const auto old = sessionOf(oldData, QStringLiteral("old.tcpscope"));
        QVERIFY(!exportChart(*old, QStringLiteral("throughput"), out, QSize(800, 600), &error, 2));
        QVERIFY2(error.contains(QStringLiteral("--no-tcpinfo")), qPrintable(error));
        QVERIFY(!QFile::exists(out));
    }

    void cliMetricsChart()
    {
#ifndef TCPSCOPE_APP
        QSKIP("the tcpscope executable is not part of this build");
#else
        const QString out = m_dir.filePath(QStringLiteral("cli-rtt.svg"));
        QProcess p;
        p.start(QStringLiteral(TCPSCOPE_APP),
                {QStringLiteral("export"), m_session, QStringLiteral("--chart"),
                 QStringLiteral("rtt"), QStringLiteral("--connection"), QStringLiteral("2"),
                 QStringLiteral("-o"), m_dir.filePath(QStringLiteral("cli-rtt.png")),
                 QStringLiteral("--size"), QStringLiteral("640x360")});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QCOMPARE(QImage(m_dir.filePath(QStringLiteral("cli-rtt.png"))).size(), QSize(640, 360));
        p.start(QStringLiteral(TCPSCOPE_APP),
                {QStringLiteral("export"), m_session, QStringLiteral("--chart"),
                 QStringLiteral("cwnd"), QStringLiteral("-o"), out});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(p.readAllStandardError().contains("--connection"));
        p.start(QStringLiteral(TCPSCOPE_APP),
                {QStringLiteral("export"), m_session, QStringLiteral("--chart"),
                 QStringLiteral("cwnd"), QStringLiteral("--connection"), QStringLiteral("1"),
                 QStringLiteral("-o"), out});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(p.readAllStandardError().contains("no kernel samples"));
        QVERIFY(!QFile::exists(out));
#endif
    }

    void cliExportWithSize()
    {
#ifndef TCPSCOPE_APP
        QSKIP("the tcpscope executable is not part of this build");
#else
        const QString out = m_dir.filePath(QStringLiteral("cli.png"));
        QProcess p;
        p.start(QStringLiteral(TCPSCOPE_APP),
                {QStringLiteral("export"), m_session, QStringLiteral("--chart"),
                 QStringLiteral("timeline"), QStringLiteral("-o"), out, QStringLiteral("--size"),
                 QStringLiteral("800x600")});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QCOMPARE(QImage(out).size(), QSize(800, 600));

        p.start(QStringLiteral(TCPSCOPE_APP),
                {QStringLiteral("export"), m_session, QStringLiteral("--chart"),
                 QStringLiteral("pie"), QStringLiteral("-o"), out});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(p.readAllStandardError().contains("timeline"));
#endif
    }
};

QTEST_MAIN(TestChartExport)
#include "test_chart_export.moc"
