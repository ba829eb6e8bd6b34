// SPDX-License-Identifier: GPL-3.0-or-later
// tcptrace-style sequence graph of one connection (QCustomPlot): x = time since the session
// origin, y = relative sequence number of the data direction. Data segments are vertical bars
// from relSeq to relSeq+len (retransmissions red), the ACK line and the receive-window line
// (ack + scaled window) come from the other direction's packets, SACK blocks are drawn as short
// bars at the ACK that carried them. Drag pans, wheel zooms (per axis with Ctrl/Shift), double
// click fits. Clicking near a segment or ACK emits packetClicked with that packet's id.
#pragma once

#include "model/connection.h"
#include "model/packet.h"

#include <qcustomplot.h>

#include <memory>

namespace tcpscope {

class SeqGraphData;

class SeqGraphWidget : public QCustomPlot
{
    Q_OBJECT
public:
    explicit SeqGraphWidget(QWidget *parent = nullptr);
    ~SeqGraphWidget() override;

    // packets: this connection's packets in id order (others are ignored). The data direction
    // defaults to the one that carried more payload; originNs is the time axis' zero.
    void setConnection(const Connection &connection, const QVector<Packet> &packets,
                       qint64 originNs);
    // Live capture: more packets of the same connection (others ignored); keeps the view unless
    // the user has not zoomed, then follows.
    void appendPackets(const QVector<Packet> &packets);
    void setDataDirection(PacketDirection direction);
    PacketDirection dataDirection() const;
    void clear();
    qint64 connectionId() const;
    // Highlights a packet (e.g. selected in the packet list); 0 clears the highlight.
    void selectPacket(qint64 packetId);
    void fitAll();
    // False once the user zoomed or panned (until the next fitAll).
    bool followsData() const;

    // What is drawn (bars, ACK/window points, markers), for tests and the packet list.
    const SeqGraphData &data() const;
    qint64 selectedPacket() const;
    // Packet nearest to pos in pixel space (segment bar, ACK or window step, marker) within
    // tolerancePx, or 0.
    qint64 packetAt(const QPoint &pos, double tolerancePx = 5) const;
    // Widget pixel where the packet is drawn (middle of its bar / its ACK point); (-1,-1) when
    // it draws nothing or is out of view.
    QPoint pixelOf(qint64 packetId) const;
    // Rich text shown when hovering pos; empty when nothing is near.
    QString toolTipAt(const QPoint &pos) const;

signals:
    void packetClicked(qint64 packetId);

protected:
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void rebuild();
    void refreshPlottables();
    void updateLegend();
    void updateTitle();
    void updateSelectionItem();
    QString toolTipFor(qint64 packetId) const;

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace tcpscope
