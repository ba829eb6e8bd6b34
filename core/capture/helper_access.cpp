// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture/helper_access.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#ifndef TCPSCOPE_INSTALL_BINDIR
#define TCPSCOPE_INSTALL_BINDIR "/usr/local/bin"
#endif
#ifndef TCPSCOPE_INSTALL_HELPER
#define TCPSCOPE_INSTALL_HELPER "/usr/local/libexec/tcpscope/tcpscope-helper"
#endif

namespace tcpscope {

QString installedHelperPath()
{
    return QStringLiteral(TCPSCOPE_INSTALL_HELPER);
}

QString resolveHelperPath(const QString &appDir)
{
    const QByteArray env = qgetenv("TCPSCOPE_HELPER");
    if (!env.isEmpty())
        return QString::fromLocal8Bit(env);
    const QString installedBin = QDir::cleanPath(QStringLiteral(TCPSCOPE_INSTALL_BINDIR));
    const QString here = QDir::cleanPath(appDir);
    if (here == installedBin ||
        QFileInfo(here).canonicalFilePath() == QFileInfo(installedBin).canonicalFilePath())
        return installedHelperPath();
    QString sibling = QDir(here).filePath(QStringLiteral("tcpscope-helper"));
    if (QFileInfo::exists(sibling))
        return sibling;
    return installedHelperPath();
}

namespace {

bool inCurrentGroups(gid_t gid)
{
    if (getegid() == gid)
        return true;
    const int n = getgroups(0, nullptr);
    if (n <= 0)
        return false;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    const int got = getgroups(n, groups.data());
    for (int i = 0; i < got; ++i)
        if (groups[std::size_t(i)] == gid)
            return true;
    return false;
}

// Membership as the group database says now (a login started before `usermod -aG` does not
// carry the group yet).
bool listedMember(gid_t gid, const char *user, gid_t primary)
{
    if (primary == gid)
        return true;
    const group *g = getgrgid(gid);
    if (!g || !user)
        return false;
    for (char **m = g->gr_mem; m && *m; ++m)
        if (std::strcmp(*m, user) == 0)
            return true;
    return false;
}

} // namespace

QString runningAsRootWarning()
{
    if (getuid() != 0 && geteuid() != 0)
        return QString();
    return QStringLiteral("running as root: tcpscope does not need it (only its small helper is "
                          "privileged, and files it writes would belong to root); run it as "
                          "your own user in the group 'tcpscope' instead");
}

QString helperPermissionProblem(const QString &path)
{
    const QByteArray native = QFile::encodeName(path);
    struct stat st
    {
    };
    if (stat(native.constData(), &st) != 0 || !S_ISREG(st.st_mode))
        return QString();
    if (access(native.constData(), X_OK) == 0)
        return QString();
    // Only the group-restricted layout of the package is diagnosed here: owner root, group
    // execute, no execute for others.
    if (st.st_uid != 0 || !(st.st_mode & S_IXGRP) || (st.st_mode & S_IXOTH))
        return QString();
    const group *g = getgrgid(st.st_gid);
    const QString groupName = g ? QString::fromLocal8Bit(g->gr_name) : QString::number(st.st_gid);
    const passwd *pw = getpwuid(getuid());
    const QString user = pw ? QString::fromLocal8Bit(pw->pw_name) : QString::number(getuid());
    if (inCurrentGroups(st.st_gid))
        return QString(); // denied for another reason (e.g. a noexec mount): not ours to name
    if (pw && listedMember(st.st_gid, pw->pw_name, pw->pw_gid))
        return QStringLiteral("you were added to the group '%1' after this login started: log "
                              "out and in again (or run 'newgrp %1') to capture")
            .arg(groupName);
    return QStringLiteral("only members of the group '%1' may capture and user '%2' is not one: "
                          "ask an administrator to run 'sudo usermod -aG %1 %2', then log in "
                          "again")
        .arg(groupName, user);
}

} // namespace tcpscope
