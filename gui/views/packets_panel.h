// SPDX-License-Identifier: GPL-3.0-or-later
// The packet list with its filter bar ("Problems only" and the packet display filter, see
// views/filter_bar.h) and a "N packets" count.
// Filtering a large list (the whole session) runs on a worker: the count says "Filtering…"
// until the matches arrive.
#pragma once

#include <QTimer>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace tcpscope {

class FilterBar;
class PacketTableModel;

class PacketsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit PacketsPanel(QWidget *parent = nullptr);

    PacketTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QCheckBox *problemsOnlyBox() const { return m_problemsOnly; }
    QLineEdit *filterEdit() const;
    FilterBar *filterBar() const { return m_filter; }
    QLabel *countLabel() const { return m_count; }

    qint64 currentPacketId() const; // 0 when none
    // Selects and scrolls to the packet; false when it is not in the list (other connection,
    // filtered out).
    bool selectPacket(qint64 packetId);
    // Shown in the empty list (e.g. "This session has no packets: recorded with --no-packets").
    void setEmptyHint(const QString &text);
    void applyFilterNow(); // applies the box's text now, skipping the typing delay (tests)

signals:
    void currentPacketChanged(qint64 packetId);

private:
    void updateCount();
    void applyDefaultColumnWidths();

    PacketTableModel *m_model;
    QTableView *m_view;
    QCheckBox *m_problemsOnly;
    FilterBar *m_filter;
    QLabel *m_count;
    QString m_emptyHint;
    QString m_notice; // what the model could not do in full, until the list changes
};

} // namespace tcpscope
