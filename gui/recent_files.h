// SPDX-License-Identifier: GPL-3.0-or-later
// File > Open Recent: the last few session files, most recent first, kept in QSettings.
#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace tcpscope {

class RecentFiles : public QObject
{
    Q_OBJECT
public:
    static constexpr int kMaxEntries = 8;

    explicit RecentFiles(QMenu *menu, QObject *parent = nullptr);

    void add(const QString &path);
    void remove(const QString &path);
    QStringList files() const;

signals:
    void fileChosen(const QString &path);

private:
    void save(const QStringList &files);
    void rebuildMenu();

    QMenu *m_menu; // owned by the window's menu bar
};

} // namespace tcpscope
