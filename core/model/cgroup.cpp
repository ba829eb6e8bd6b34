// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/cgroup.h"

#include "model/connection.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QStringList>

#include <sys/stat.h>

namespace tcpscope {

namespace {

bool isHexId(QStringView s)
{
    if (s.size() != 64)
        return false;
    for (QChar c : s)
        if (!((c >= QLatin1Char('0') && c <= QLatin1Char('9')) ||
              (c >= QLatin1Char('a') && c <= QLatin1Char('f'))))
            return false;
    return true;
}

// "<prefix><64 hex>[.scope]" with the runtime a prefix names.
struct Prefix
{
    const char *text;
    const char *runtime;
};
constexpr Prefix kPrefixes[] = {
    {"docker-", "docker"},
    {"cri-containerd-", "containerd"},
    {"containerd-", "containerd"},
    {"crio-conmon-", "cri-o"},
    {"crio-", "cri-o"},
    {"libpod-conmon-", "podman"},
    {"libpod-", "podman"},
};

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

quint64 inodeOf(const QString &path)
{
    struct stat st;
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return 0;
    return quint64(st.st_ino);
}

} // namespace

CgroupAttribution attributeCgroup(const QString &path)
{
    CgroupAttribution a;
    const QStringList parts = path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    static const QRegularExpression podRe(QStringLiteral(
        "pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})"
        "(?:\\.slice)?$"));
    bool kube = false;
    for (int i = 0; i < parts.size(); ++i) {
        const QString &part = parts.at(i);
        if (part.endsWith(QLatin1String(".service")) || part.endsWith(QLatin1String(".scope")))
            a.systemdUnit = part;
        if (part == QLatin1String("kubepods") || part.startsWith(QLatin1String("kubepods.")))
            kube = true;
        if (kube) {
            // cgroupfs driver: /kubepods/burstable/pod<uid>; systemd: kubepods-burstable.slice
            for (const char *qos : {"burstable", "besteffort"}) {
                if (part == QLatin1String(qos) ||
                    part == QStringLiteral("kubepods-%1.slice").arg(QLatin1String(qos)))
                    a.qos = QLatin1String(qos);
            }
            const auto m = podRe.match(part);
            if (m.hasMatch()) {
                a.podUid = m.captured(1).replace(QLatin1Char('_'), QLatin1Char('-'));
                if (a.qos.isEmpty())
                    a.qos = QStringLiteral("guaranteed"); // a pod directly under kubepods
            }
        }
        QStringView name(part);
        if (name.endsWith(QLatin1String(".scope")))
            name.chop(6);
        for (const Prefix &p : kPrefixes) {
            const QLatin1String prefix(p.text);
            if (name.startsWith(prefix) && isHexId(name.mid(prefix.size()))) {
                a.containerId = name.mid(prefix.size()).toString();
                a.runtime = QLatin1String(p.runtime);
            }
        }
        if (isHexId(name)) {
            // cgroupfs layouts name the container by its id alone: the parent says whose.
            a.containerId = name.toString();
            const QString parent = i > 0 ? parts.at(i - 1) : QString();
            if (parent == QLatin1String("docker"))
                a.runtime = QStringLiteral("docker");
            else if (parent == QLatin1String("libpod_parent"))
                a.runtime = QStringLiteral("podman");
            else
                a.runtime.clear(); // under kubepods, containerd and CRI-O look the same
        }
    }
    return a;
}

QString cgroup2MountPoint(const QByteArray &mountinfo)
{
    // "36 25 0:31 / /sys/fs/cgroup/unified rw,... shared:10 - cgroup2 cgroup2 rw,..."
    for (const QByteArray &line : mountinfo.split('\n')) {
        const int dash = line.indexOf(" - ");
        if (dash < 0)
            continue;
        const QList<QByteArray> after = line.mid(dash + 3).split(' ');
        if (after.isEmpty() || after.first() != "cgroup2")
            continue;
        const QList<QByteArray> before = line.left(dash).split(' ');
        if (before.size() >= 5 && before.at(3) == "/")
            return QString::fromUtf8(before.at(4))
                .replace(QLatin1String("\\040"), QLatin1String(" "));
    }
    return QString();
}

CgroupResolver::CgroupResolver(const QString &root) : m_root(root)
{
    if (m_root.isEmpty()) {
        QFile f(QStringLiteral("/proc/self/mountinfo"));
        if (f.open(QIODevice::ReadOnly))
            m_root = cgroup2MountPoint(f.readAll());
    }
}

std::optional<QString> CgroupResolver::path(quint64 id)
{
    if (id == 0 || m_root.isEmpty())
        return std::nullopt;
    auto it = m_paths.constFind(id);
    if (it == m_paths.constEnd() && (m_lastScanMs < 0 || nowMs() - m_lastScanMs >= 1000)) {
        scan();
        it = m_paths.constFind(id);
    }
    if (it == m_paths.constEnd())
        return std::nullopt;
    return *it;
}

void CgroupResolver::scan()
{
    m_lastScanMs = nowMs();
    // Paths of cgroups that are gone are kept: their sockets may still be reported.
    const quint64 rootIno = inodeOf(m_root);
    if (rootIno != 0)
        m_paths.insert(rootIno, QStringLiteral("/"));
    QDirIterator it(m_root, QDir::Dirs | QDir::NoDotAndDotDot | QDir::NoSymLinks,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString dir = it.next();
        const quint64 ino = it.fileInfo().isDir() ? inodeOf(dir) : 0;
        if (ino != 0)
            m_paths.insert(ino, dir.mid(m_root.size()));
    }
}

NetnsResolver::NetnsResolver(const QString &dir) : m_dir(dir) {}

QString NetnsResolver::name(quint64 inode)
{
    if (inode == 0)
        return QString();
    auto it = m_names.constFind(inode);
    if (it == m_names.constEnd() && (m_lastScanMs < 0 || nowMs() - m_lastScanMs >= 1000)) {
        scan();
        it = m_names.constFind(inode);
    }
    return it != m_names.constEnd() ? *it : QString();
}

void NetnsResolver::scan()
{
    m_lastScanMs = nowMs();
    const QDir dir(m_dir);
    for (const QString &name : dir.entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot)) {
        // Each entry is a bind mount of /proc/PID/ns/net: its inode is the namespace's.
        if (const quint64 ino = inodeOf(dir.filePath(name)); ino != 0)
            m_names.insert(ino, name);
    }
}

QHash<quint64, CgroupAttribution> attributeCgroups(const OwnerNames &names)
{
    QHash<quint64, CgroupAttribution> out;
    out.reserve(names.cgroupPaths.size());
    for (auto it = names.cgroupPaths.cbegin(); it != names.cgroupPaths.cend(); ++it)
        out.insert(it.key(), attributeCgroup(it.value()));
    return out;
}

OwnerNamer::OwnerNamer(const QString &cgroupRoot, const QString &netnsDir)
    : m_cgroups(cgroupRoot), m_netns(netnsDir)
{
}

OwnerNames OwnerNamer::newNames(const QVector<Connection> &connections)
{
    OwnerNames out;
    for (const Connection &c : connections) {
        // A miss is asked again later (the tree is rescanned at most once a second, so a
        // cgroup made just now may not be in it yet), a few times.
        if (c.cgroupId != 0 && !m_seenCgroups.contains(c.cgroupId)) {
            if (const auto path = m_cgroups.path(c.cgroupId)) {
                out.cgroupPaths.insert(c.cgroupId, *path);
                m_seenCgroups.insert(c.cgroupId);
            } else if (++m_misses[c.cgroupId] >= kMaxMisses) {
                m_seenCgroups.insert(c.cgroupId);
            }
        }
        if (c.netnsIno != 0 && !m_seenNetns.contains(c.netnsIno)) {
            if (const QString name = m_netns.name(c.netnsIno); !name.isEmpty()) {
                out.netnsNames.insert(c.netnsIno, name);
                m_seenNetns.insert(c.netnsIno);
            } else if (++m_misses[c.netnsIno | kNetnsBit] >= kMaxMisses) {
                m_seenNetns.insert(c.netnsIno); // a namespace ip netns does not name
            }
        }
    }
    return out;
}

} // namespace tcpscope
