// SPDX-License-Identifier: GPL-3.0-or-later
// The connection table over a Session. The model holds only the ids that match the current sort
// and filter (one Session::connectionIds query: sorting and filtering happen in SQLite, 8 bytes
// per row) and a bounded cache of row pages fetched on demand (Session::connections). A table
// of 200k connections therefore costs ~2 MB plus the pages the user has looked at.
//
// Filters: the filter box's text and an id filter set by the overview dashboard ("connections
// in this bar"); both must accept a row. The text is a display-filter expression (connection
// fields, docs/FILTERS.md) evaluated over the Session's connection summaries in one streaming
// pass (on a worker thread with its own Session when the session is large; the model then keeps
// only the matching ids), or plain words that must all appear (the Session's text condition:
// process, pid, addresses, ports, role, state, close reason); see models/filter_text.h.
//
// The columns are one list, viewColumns(): header, tooltip, alignment, sorting, cell text and
// the stored columns (core/model/connection_columns.h) each one shows.
//
// The Peer column shows the other end of the same connection (analysis/peers.h),
// computed in one pass over the summaries when a session is set (a worker pass when large).
#pragma once

#include "filter/display_filter.h"
#include "model/connection.h"
#include "model/connection_columns.h"
#include "models/filter_text.h"
#include "session/session.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QSet>
#include <QVector>

#include <memory>
#include <optional>

namespace tcpscope {

class ConnectionTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    // One column of the table with everything about it. The columns are the list
    // viewColumns() in connection_table_columns.cpp and nothing else: columnCount, headerData,
    // data, sort, "Apply as Filter" (cell_filters.h) and the view's default widths all read it,
    // so a column is added with one entry there.
    struct ViewColumn
    {
        const char *key;      // the stable name code finds the column by: column("remote")
        const char *header;   // the header's text
        const char *tip;      // the header's tooltip
        bool numeric = false; // right-aligned
        // The stored columns (core/model/connection_columns.h) whose values the cell shows.
        // "Apply as Filter" selects the conjunction of their filter expressions, and nothing
        // when one of them has no filter field.
        QVector<const ConnectionColumn *> stored = {};
        // Sorted by the value of stored.first() (the Session's query). False when the shown
        // value is not one stored value (a difference, a sum, a name found elsewhere): the
        // column cannot be sorted.
        bool sorts = false;
        const char *widthSample = ""; // typical longest content, for the default width
        QVariant (*display)(const ConnectionTableModel &model, const Connection &c) = nullptr;
        // Null: the display text.
        QString (*toolTip)(const ConnectionTableModel &model, const Connection &c) = nullptr;
        // True: the value deserves a look (red): resets, retransmits, drops, a failed close.
        bool (*alarming)(const Connection &c) = nullptr;
        // True: the value is still growing (grey italic): an open connection's duration.
        bool (*provisional)(const Connection &c) = nullptr;
    };
    // The table's columns, in order.
    static const QVector<ViewColumn> &viewColumns();
    // The index of the column with this key; aborts on an unknown key (a programming error).
    static int column(const char *key);
    enum Role
    {
        ConnectionIdRole = Qt::UserRole + 1, // qint64 id of the row's connection
    };
    static constexpr int kPageRows = 256;
    static constexpr int kMaxCachedPages = 64; // ~16k rows
    // Sessions with up to this many connections are filtered and paired on the GUI thread
    // (a few ms); larger ones on a worker.
    static constexpr qint64 kSyncPassRows = 20'000;

    explicit ConnectionTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    // Re-runs the id query in the new order. Columns without a stored value to sort by
    // (see sqlSortColumn) keep the current order and emit notice().
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    // The session to show (nullptr: empty table). Keeps sort and filters.
    void setSession(std::shared_ptr<const Session> session);
    std::shared_ptr<const Session> session() const { return m_session; }
    // Live: the session grew. Re-runs the id query (new rows appear where the sort puts them)
    // and drops cached pages; rows keep their identity through persistent indexes.
    void refresh();

    // Open connections have their duration measured up to this wall time (live: "now";
    // file: end of the session). Emits dataChanged for the duration column of cached open rows.
    void setReferenceTimeNs(qint64 wallNs);
    qint64 referenceTimeNs() const { return m_referenceNs; }

    // The filter box's text: an expression, words or nothing (parseFilterText). An invalid
    // expression shows no rows (the filter box does not apply one).
    void setFilterText(const QString &text);
    QString filterText() const { return m_text; }
    const ParsedFilter &parsedFilter() const { return m_parsed; }
    // An expression is being evaluated on the worker (the rows are those of the previous filter).
    bool isFiltering() const;
    // The other end of connection id (0: none known, or not computed yet).
    qint64 peerOf(qint64 id) const { return m_peers.value(id, 0); }
    bool peersReady() const { return m_peersReady; }
    // The session's connection columns a table column shows (ViewColumn::stored, for "Apply
    // as Filter"): "comm" for Process, "local_addr" and "local_port" for Local, ...; empty when
    // none (Peer) or for no column.
    static QStringList filterColumns(int column);
    // Shows only these ids; an empty set removes the id filter. label says where the set came
    // from ("retransmits 12:00:03"), for the UI that shows the active filter.
    void setConnectionIdFilter(const QSet<qint64> &ids, const QString &label);
    void clearConnectionIdFilter() { setConnectionIdFilter({}, {}); }
    bool hasConnectionIdFilter() const { return m_idFilterActive; }
    const QSet<qint64> &connectionIdFilter() const { return m_idFilter; }
    QString connectionIdFilterLabel() const { return m_idLabel; }
    int sortColumn() const { return m_sortColumn; }
    Qt::SortOrder sortOrder() const { return m_sortOrder; }

    // Connections in the session, whatever the filters say.
    qint64 totalCount() const;
    qint64 idAt(int row) const { return m_ids.value(row, -1); }
    const QVector<qint64> &ids() const { return m_ids; }
    int rowForId(qint64 id) const; // -1 when filtered out / unknown
    // The row's connection without state history (from the page cache).
    Connection connectionAt(int row) const;
    // One connection with its history (asks the session), nullopt when unknown.
    std::optional<Connection> connection(qint64 id) const;
    // Every connection of the session without history, read from the session on first use and
    // kept until the session changes. Only the overview dashboard still needs them all.
    const QVector<Connection> &connections() const;

    // The stored column Session sorts by for a table column (ViewColumn::sorts); empty when
    // the column cannot be sorted.
    static QString sqlSortColumn(int column);

signals:
    // After either filter changed (rows already re-evaluated).
    void filterChanged();
    // Something the user should know (a column that cannot be sorted).
    void notice(const QString &text);
    void filteringChanged(bool filtering);
    void peersChanged();

private:
    void requery();
    void evaluateExpression();
    void computePeers();
    void readWordsAhead();
    void reorder(QVector<qint64> ids);
    const QVector<Connection> &page(int pageIndex) const;
    // The Owner column's text and the owner tooltip of Process, PID and Owner.
    QVariant ownerCell(const Connection &c) const;
    QString ownerToolTip(const Connection &c) const;

    std::shared_ptr<const Session> m_session;
    // The session's cgroup paths and namespace names, and what each path names; read again
    // on refresh (a live capture names new cgroups as they appear).
    void loadOwners();
    OwnerNames m_owners;
    QString m_host;               // the session's capturing host
    QVector<QString> m_hostNames; // by host id (Session::hosts)
    QHash<quint64, CgroupAttribution> m_attributions;
    QVector<qint64> m_ids;
    mutable QHash<int, QVector<Connection>> m_pages;
    mutable QVector<int> m_pageOrder; // least recently fetched first
    mutable QVector<Connection> m_all;
    mutable bool m_allLoaded = false;
    int m_sortColumn = column("id");
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    QString m_text;
    ParsedFilter m_parsed;
    QSet<qint64> m_exprIds;     // expression: the matching connections
    bool m_exprPending = false; // expression: evaluated on the worker, m_exprIds not yet valid
    class SessionJob *m_filterJob = nullptr;
    class SessionJob *m_peerJob = nullptr;
    class SessionJob *m_wordJob = nullptr; // reads the session's word index ahead
    QHash<qint64, qint64> m_peers;
    bool m_peersReady = false;
    QSet<qint64> m_idFilter;
    QString m_idLabel;
    bool m_idFilterActive = false;
    qint64 m_referenceNs = 0;
};

} // namespace tcpscope
