// SPDX-License-Identifier: GPL-3.0-or-later
// File ▸ Export Chart… / a chart's "Export This Chart…": which chart (from the File menu),
// whether to keep the zoom the user chose, format (PNG, SVG, PDF; also taken from the file
// name's suffix), size in pixels and, for PNG, a scale factor (device pixel ratio), the file,
// and a live preview drawn by the renderer that writes the file, scaled down. Errors (a refused
// path, a full disk) show one line in a message box and leave nothing behind.
#pragma once

#include "charts/chart_actions.h"

#include <QDialog>
#include <QTimer>

#include <memory>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace tcpscope {

class ChartExportDialog : public QDialog
{
    Q_OBJECT
public:
    // chooseChart: show the chart chooser (File menu); otherwise initial is fixed.
    ChartExportDialog(ChartActions *actions, const QVector<ChartChoice> &choices,
                      const QString &initial, bool chooseChart, QWidget *parent = nullptr);
    ~ChartExportDialog() override;

    QString chart() const;
    void setChart(const QString &chart);
    QString format() const; // png, svg, pdf
    void setFormat(const QString &format);
    QSize imageSize() const;
    void setImageSize(QSize size);
    double scale() const;
    void setScale(double scale);
    bool keepZoom() const;
    void setKeepZoom(bool keep);
    QString path() const;
    void setPath(const QString &path);

    // Writes the file now (what the Export button does); false + the message box on failure.
    bool exportNow();
    // The preview as last drawn, and a redraw now (tests; the dialog redraws after edits).
    QImage previewImage() const { return m_preview; }
    void updatePreviewNow();

    QComboBox *chartCombo() const { return m_chartCombo; }
    QComboBox *formatCombo() const { return m_formatCombo; }
    QLineEdit *pathEdit() const { return m_pathEdit; }
    QLabel *previewLabel() const { return m_previewLabel; }

signals:
    void exported(const QString &path);
    void failed(const QString &message);

private:
    void onChartChanged();
    void onFormatChanged();
    void onPathEdited();
    void browse();
    void schedulePreview();
    void updateInfo();
    void suggestPath();
    PreparedChart *prepared(QString *error);
    ChartImageOptions options() const;

    ChartActions *m_actions;
    QVector<ChartChoice> m_choices;
    QComboBox *m_chartCombo = nullptr;
    QLabel *m_chartLabel = nullptr;
    QCheckBox *m_keepZoom = nullptr;
    QComboBox *m_formatCombo = nullptr;
    QSpinBox *m_width = nullptr;
    QSpinBox *m_height = nullptr;
    QDoubleSpinBox *m_scale = nullptr;
    QLabel *m_pixels = nullptr;
    QLineEdit *m_pathEdit = nullptr;
    QLabel *m_previewLabel = nullptr;
    QLabel *m_previewNote = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QTimer m_previewTimer;
    QImage m_preview;
    // The chart built for (chart, keepZoom); rebuilt when either changes.
    std::unique_ptr<PreparedChart> m_prepared;
    QString m_preparedKey;
    bool m_pathChosen = false; // the user typed or browsed a name: keep it
};

} // namespace tcpscope
