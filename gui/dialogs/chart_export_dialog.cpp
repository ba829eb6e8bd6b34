// SPDX-License-Identifier: GPL-3.0-or-later
#include "dialogs/chart_export_dialog.h"

#include "charts/chart_render.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

#include <cmath>

namespace tcpscope {

namespace {
constexpr QSize kPreviewBox(560, 320);

QString formatLabel(const QString &format)
{
    if (format == QLatin1String("png"))
        return ChartExportDialog::tr("PNG image");
    if (format == QLatin1String("svg"))
        return ChartExportDialog::tr("SVG drawing (vectors)");
    return ChartExportDialog::tr("PDF document (vectors)");
}

// "overview:rtt" -> "overview-rtt": a file name part.
QString fileNamePart(const QString &chart)
{
    QString part = chart;
    part.replace(QLatin1Char(':'), QLatin1Char('-'));
    return part;
}
} // namespace

ChartExportDialog::ChartExportDialog(ChartActions *actions, const QVector<ChartChoice> &choices,
                                     const QString &initial, bool chooseChart, QWidget *parent)
    : QDialog(parent), m_actions(actions), m_choices(choices)
{
    setWindowTitle(tr("Export Chart"));
    QSettings settings;

    m_chartCombo = new QComboBox(this);
    for (const ChartChoice &choice : std::as_const(m_choices))
        m_chartCombo->addItem(choice.label, choice.chart);
    m_chartLabel = new QLabel(this);
    m_chartLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_keepZoom =
        new QCheckBox(tr("As shown: keep the zoom and scrolling of the chart on screen"), this);
    m_keepZoom->setChecked(true);

    m_formatCombo = new QComboBox(this);
    for (const QString &format : chartExportFormats())
        m_formatCombo->addItem(formatLabel(format), format);

    m_width = new QSpinBox(this);
    m_height = new QSpinBox(this);
    for (QSpinBox *box : {m_width, m_height}) {
        box->setRange(16, 20000);
        box->setSuffix(tr(" px"));
        box->setAccelerated(true);
    }
    m_scale = new QDoubleSpinBox(this);
    m_scale->setRange(0.25, 8);
    m_scale->setDecimals(2);
    m_scale->setSingleStep(0.5);
    m_scale->setPrefix(QStringLiteral("× "));
    m_scale->setToolTip(tr("PNG only: image pixels per pixel of the size above (device pixel "
                           "ratio). 2 draws the same chart twice as sharp."));
    m_pixels = new QLabel(this);
    auto *screenSize = new QPushButton(tr("As on Screen"), this);
    screenSize->setToolTip(tr("The size and pixel ratio the chart has in the window"));
    auto *sizeRow = new QHBoxLayout;
    sizeRow->addWidget(m_width);
    sizeRow->addWidget(new QLabel(QStringLiteral("×"), this));
    sizeRow->addWidget(m_height);
    sizeRow->addSpacing(12);
    sizeRow->addWidget(new QLabel(tr("Scale:"), this));
    sizeRow->addWidget(m_scale);
    sizeRow->addWidget(screenSize);
    sizeRow->addStretch(1);

    m_pathEdit = new QLineEdit(this);
    m_pathEdit->setClearButtonEnabled(true);
    auto *browse = new QPushButton(tr("Browse…"), this);
    auto *pathRow = new QHBoxLayout;
    pathRow->addWidget(m_pathEdit, 1);
    pathRow->addWidget(browse);

    m_previewLabel = new QLabel(this);
    m_previewLabel->setAlignment(Qt::AlignCenter);
    m_previewLabel->setFixedSize(kPreviewBox + QSize(8, 8));
    m_previewLabel->setFrameShape(QFrame::StyledPanel);
    m_previewLabel->setStyleSheet(QStringLiteral("background: #e8e8e8;"));
    m_previewNote = new QLabel(this);
    m_previewNote->setWordWrap(true);

    auto *form = new QFormLayout;
    if (chooseChart)
        form->addRow(tr("Chart:"), m_chartCombo);
    else
        form->addRow(tr("Chart:"), m_chartLabel);
    m_chartCombo->setVisible(chooseChart);
    m_chartLabel->setVisible(!chooseChart);
    form->addRow(tr("View:"), m_keepZoom);
    form->addRow(tr("Format:"), m_formatCombo);
    form->addRow(tr("Size:"), sizeRow);
    form->addRow(QString(), m_pixels);
    form->addRow(tr("File:"), pathRow);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Save)->setText(tr("Export"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (exportNow())
            accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Preview (the file's picture, scaled down):"), this));
    layout->addWidget(m_previewLabel, 0, Qt::AlignHCenter);
    layout->addWidget(m_previewNote);
    layout->addWidget(m_buttons);

    m_previewTimer.setSingleShot(true);
    m_previewTimer.setInterval(150);
    connect(&m_previewTimer, &QTimer::timeout, this, &ChartExportDialog::updatePreviewNow);

    // Initial values before the signals are connected: one preview, not one per field.
    const int initialIndex = std::max(0, int(m_chartCombo->findData(initial)));
    m_chartCombo->setCurrentIndex(initialIndex);
    const QString format =
        settings.value(QStringLiteral("chartExport/format"), QStringLiteral("png")).toString();
    m_formatCombo->setCurrentIndex(std::max(0, m_formatCombo->findData(format)));
    m_scale->setValue(m_actions->screenScale(chart()));
    setImageSize(m_actions->screenSize(chart()));

    connect(m_chartCombo, &QComboBox::currentIndexChanged, this,
            &ChartExportDialog::onChartChanged);
    connect(m_keepZoom, &QCheckBox::toggled, this, &ChartExportDialog::schedulePreview);
    connect(m_formatCombo, &QComboBox::currentIndexChanged, this,
            &ChartExportDialog::onFormatChanged);
    for (QSpinBox *box : {m_width, m_height})
        connect(box, &QSpinBox::valueChanged, this, [this] {
            updateInfo();
            schedulePreview();
        });
    connect(m_scale, &QDoubleSpinBox::valueChanged, this, &ChartExportDialog::updateInfo);
    connect(screenSize, &QPushButton::clicked, this, [this] {
        setImageSize(m_actions->screenSize(chart()));
        m_scale->setValue(m_actions->screenScale(chart()));
    });
    connect(m_pathEdit, &QLineEdit::textEdited, this, &ChartExportDialog::onPathEdited);
    connect(browse, &QPushButton::clicked, this, &ChartExportDialog::browse);

    onChartChanged();
    onFormatChanged();
}

ChartExportDialog::~ChartExportDialog() = default;

QString ChartExportDialog::chart() const
{
    return m_chartCombo->currentData().toString();
}

void ChartExportDialog::setChart(const QString &chart)
{
    const int index = m_chartCombo->findData(chart);
    if (index >= 0)
        m_chartCombo->setCurrentIndex(index);
}

QString ChartExportDialog::format() const
{
    return m_formatCombo->currentData().toString();
}

void ChartExportDialog::setFormat(const QString &format)
{
    const int index = m_formatCombo->findData(format);
    if (index >= 0)
        m_formatCombo->setCurrentIndex(index);
}

QSize ChartExportDialog::imageSize() const
{
    return QSize(m_width->value(), m_height->value());
}

void ChartExportDialog::setImageSize(QSize size)
{
    m_width->setValue(size.width());
    m_height->setValue(size.height());
}

double ChartExportDialog::scale() const
{
    return m_scale->value();
}

void ChartExportDialog::setScale(double scale)
{
    m_scale->setValue(scale);
}

bool ChartExportDialog::keepZoom() const
{
    return m_keepZoom->isChecked();
}

void ChartExportDialog::setKeepZoom(bool keep)
{
    m_keepZoom->setChecked(keep);
}

QString ChartExportDialog::path() const
{
    return m_pathEdit->text().trimmed();
}

void ChartExportDialog::setPath(const QString &path)
{
    m_pathEdit->setText(path);
    onPathEdited();
}

void ChartExportDialog::onChartChanged()
{
    const int index = m_chartCombo->currentIndex();
    const ChartChoice choice = index >= 0 ? m_choices.value(index) : ChartChoice();
    m_chartLabel->setText(choice.label);
    // Only a chart the user zoomed has a view of its own to keep.
    m_keepZoom->setEnabled(choice.zoomed);
    m_keepZoom->setText(choice.zoomed
                            ? tr("As shown: keep the zoom and scrolling of the chart on screen")
                            : tr("The whole chart (it is not zoomed on screen)"));
    m_keepZoom->setToolTip(choice.zoomed ? tr("Unchecked: the whole chart, as the command line "
                                              "draws it")
                                         : tr("The chart on screen is not zoomed: the file "
                                              "shows all of it"));
    if (!m_pathChosen)
        suggestPath();
    schedulePreview();
}

void ChartExportDialog::onFormatChanged()
{
    const QString fmt = format();
    m_scale->setEnabled(fmt == QLatin1String("png"));
    // The file name follows the format.
    const QString current = path();
    if (!current.isEmpty()) {
        const QFileInfo info(current);
        const QString suffix = info.suffix().toLower();
        QString base = current;
        if (chartExportFormats().contains(suffix))
            base.chop(suffix.size() + 1);
        const QString wanted = base + QLatin1Char('.') + fmt;
        if (wanted != current)
            m_pathEdit->setText(wanted);
    }
    updateInfo();
    schedulePreview(); // PDF/SVG draw at scale 1, with vector line widths
}

void ChartExportDialog::onPathEdited()
{
    m_pathChosen = !path().isEmpty();
    // A typed suffix chooses the format.
    const QString fmt = chartFormatOfPath(path());
    if (!fmt.isEmpty() && fmt != format()) {
        const QSignalBlocker block(m_formatCombo);
        setFormat(fmt);
        m_scale->setEnabled(fmt == QLatin1String("png"));
        updateInfo();
    }
}

void ChartExportDialog::suggestPath()
{
    QSettings settings;
    QString dir = settings.value(QStringLiteral("chartExport/dir")).toString();
    const QString session = m_actions->sessionPath();
    if (dir.isEmpty() || !QFileInfo(dir).isDir())
        dir = session.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::PicturesLocation)
                                : QFileInfo(session).absolutePath();
    if (dir.isEmpty())
        dir = QDir::homePath();
    QString base =
        session.isEmpty() ? QStringLiteral("tcpscope") : QFileInfo(session).completeBaseName();
    base += QLatin1Char('-') + fileNamePart(chart());
    const ChartRequest request = m_actions->requestFor(chart(), false);
    if (request.connectionId > 0)
        base += QStringLiteral("-conn%1").arg(request.connectionId);
    m_pathEdit->setText(QDir(dir).filePath(base + QLatin1Char('.') + format()));
}

void ChartExportDialog::browse()
{
    const QString fmt = format();
    QStringList filters;
    for (const QString &f : chartExportFormats())
        filters << QStringLiteral("%1 (*.%2)").arg(formatLabel(f), f);
    QString selected = QStringLiteral("%1 (*.%2)").arg(formatLabel(fmt), fmt);
    const QString chosen = QFileDialog::getSaveFileName(
        this, tr("Export Chart"), path(), filters.join(QStringLiteral(";;")), &selected);
    if (chosen.isEmpty())
        return;
    QString file = chosen;
    if (chartFormatOfPath(file).isEmpty()) // the filter's format when the name has none
        for (const QString &f : chartExportFormats())
            if (selected.endsWith(QStringLiteral("(*.%1)").arg(f)))
                file += QLatin1Char('.') + f;
    setPath(file);
}

ChartImageOptions ChartExportDialog::options() const
{
    ChartImageOptions options;
    options.format = format();
    options.size = imageSize();
    options.scale = options.format == QLatin1String("png") ? scale() : 1.0;
    return options;
}

void ChartExportDialog::updateInfo()
{
    const ChartImageOptions opts = options();
    QString text;
    if (opts.format == QLatin1String("png")) {
        text = tr("The image has %1 × %2 pixels")
                   .arg(std::lround(opts.size.width() * opts.scale))
                   .arg(std::lround(opts.size.height() * opts.scale));
    } else if (opts.format == QLatin1String("pdf")) {
        text = tr("A %1 × %2 pt page of vectors").arg(opts.size.width()).arg(opts.size.height());
    } else {
        text = tr("A %1 × %2 px drawing of vectors").arg(opts.size.width()).arg(opts.size.height());
    }
    QString why;
    if (!checkChartImageOptions(opts, &why))
        text = QStringLiteral("<span style='color:#b00000'>%1</span>").arg(why.toHtmlEscaped());
    m_pixels->setText(text);
}

void ChartExportDialog::schedulePreview()
{
    m_previewTimer.start();
}

PreparedChart *ChartExportDialog::prepared(QString *error)
{
    const bool keep = m_keepZoom->isEnabled() && m_keepZoom->isChecked();
    const QString key = chart() + (keep ? QStringLiteral("|zoom") : QString());
    if (!m_prepared || key != m_preparedKey) {
        m_prepared = m_actions->prepare(chart(), keep, error);
        m_preparedKey = m_prepared ? key : QString();
    }
    return m_prepared.get();
}

void ChartExportDialog::updatePreviewNow()
{
    m_previewTimer.stop();
    QString error;
    PreparedChart *chart = prepared(&error);
    const QSize size = imageSize();
    if (!chart) {
        m_preview = QImage();
        m_previewLabel->setPixmap(QPixmap());
        m_previewLabel->setText(error);
        return;
    }
    // The file's picture drawn by the same renderer at a smaller scale: the layout is that of
    // WxH, only the pixels are fewer.
    const double fit = std::min({1.0, double(kPreviewBox.width()) / size.width(),
                                 double(kPreviewBox.height()) / size.height()});
    m_preview = chartImage(*chart, size, fit);
    QImage shown = m_preview;
    shown.setDevicePixelRatio(1);
    m_previewLabel->setPixmap(QPixmap::fromImage(shown));
    m_previewNote->setText(
        fit < 1 ? tr("<small>Shown at %1% of the file's size.</small>").arg(std::lround(fit * 100))
                : tr("<small>Shown at the file's size.</small>"));
}

bool ChartExportDialog::exportNow()
{
    QString target = path();
    QString error;
    if (target.isEmpty()) {
        error = tr("choose a file to write");
    } else {
        if (chartFormatOfPath(target).isEmpty()) {
            target += QLatin1Char('.') + format();
            m_pathEdit->setText(target);
        } else if (chartFormatOfPath(target) != format()) {
            setFormat(chartFormatOfPath(target));
        }
        const QFileInfo info(target);
        if (info.isFile() && !info.isSymLink() && isVisible() &&
            QMessageBox::question(this, tr("Export Chart"),
                                  tr("%1 exists. Replace it?").arg(info.fileName())) !=
                QMessageBox::Yes)
            return false;
        PreparedChart *chart = prepared(&error);
        if (chart && writeChartFile(*chart, options(), target, &error)) {
            QSettings settings;
            settings.setValue(QStringLiteral("chartExport/dir"), info.absolutePath());
            settings.setValue(QStringLiteral("chartExport/format"), format());
            emit exported(target);
            return true;
        }
    }
    emit failed(error);
    QMessageBox::warning(this, tr("Export Chart"), tr("Could not export the chart: %1").arg(error));
    return false;
}

} // namespace tcpscope
