// SPDX-License-Identifier: GPL-3.0-or-later
// What a socket's cgroup says about who owns it: the cgroup v2 path (as the kernel names it,
// relative to the cgroup2 mount) and, read from that path by the naming rules of systemd and
// of the container runtimes, the systemd unit, the container and the Kubernetes pod.
#pragma once

#include <QHash>
#include <QSet>
#include <QString>
#include <QVector>

#include <optional>

namespace tcpscope {

struct CgroupAttribution
{
    QString systemdUnit; // innermost "*.service" / "*.scope" of the path: "nginx.service"
    QString containerId; // 64 hex digits: docker, containerd, CRI-O, podman
    QString runtime;     // "docker", "containerd", "cri-o", "podman"; "" unknown
    QString podUid;      // Kubernetes pod UID with dashes: "0f6b1c5e-8a1d-4c7e-9d6b-2a3f4b5c6d7e"
    QString qos;         // Kubernetes QoS class: "guaranteed", "burstable", "besteffort"
};

// Reads the path's components; unknown layouts give empty fields, never a guess.
// "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f6b..._....slice/
//  cri-containerd-<64 hex>.scope" → unit "cri-containerd-<id>.scope", container <id>,
// runtime containerd, pod 0f6b...-..., qos burstable.
CgroupAttribution attributeCgroup(const QString &path);

// The cgroup v2 path of a cgroup id (bpf_get_current_cgroup_id: the inode number of the
// cgroup's directory) on this machine, found by walking the cgroup2 mount. Unknown ids
// rescan the tree, at most once per second; a cgroup removed before its first lookup stays
// unknown (nullopt).
class CgroupResolver
{
public:
    // root: the cgroup2 mount; empty = found in /proc/self/mountinfo.
    explicit CgroupResolver(const QString &root = QString());

    QString root() const { return m_root; }
    std::optional<QString> path(quint64 id);

private:
    void scan();

    QString m_root;
    QHash<quint64, QString> m_paths;
    qint64 m_lastScanMs = -1;
};

// "/sys/fs/cgroup" or "/sys/fs/cgroup/unified": the cgroup2 mount in mountinfo text, "" none.
QString cgroup2MountPoint(const QByteArray &mountinfo);

// The name `ip netns` knows a network namespace by (a bind mount in /run/netns whose inode is
// the namespace's), "" when none. Rescans on a miss, at most once per second.
class NetnsResolver
{
public:
    explicit NetnsResolver(const QString &dir = QStringLiteral("/run/netns"));
    QString name(quint64 inode);

private:
    void scan();

    QString m_dir;
    QHash<quint64, QString> m_names;
    qint64 m_lastScanMs = -1;
};

// Names a session keeps for the ids its connections carry: cgroup id → cgroup v2 path,
// network namespace inode → `ip netns` name.
struct OwnerNames
{
    QHash<quint64, QString> cgroupPaths;
    QHash<quint64, QString> netnsNames;
    bool isEmpty() const { return cgroupPaths.isEmpty() && netnsNames.isEmpty(); }
    void insert(const OwnerNames &other)
    {
        cgroupPaths.insert(other.cgroupPaths);
        netnsNames.insert(other.netnsNames);
    }
};

// What each of names' cgroup paths names (attributeCgroup), by cgroup id.
QHash<quint64, CgroupAttribution> attributeCgroups(const OwnerNames &names);

struct Connection;

// While capturing on this machine: the names of the ids connections bring that were not
// looked up yet (each id is looked up once; one that does not resolve stays unnamed).
class OwnerNamer
{
public:
    explicit OwnerNamer(const QString &cgroupRoot = QString(),
                        const QString &netnsDir = QStringLiteral("/run/netns"));
    OwnerNames newNames(const QVector<Connection> &connections);

private:
    CgroupResolver m_cgroups;
    NetnsResolver m_netns;
    static constexpr int kMaxMisses = 8;
    static constexpr quint64 kNetnsBit = 1ULL << 63; // netns inodes beside cgroup ids
    QSet<quint64> m_seenCgroups, m_seenNetns;
    QHash<quint64, int> m_misses;
};

} // namespace tcpscope
