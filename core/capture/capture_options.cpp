// SPDX-License-Identifier: GPL-3.0-or-later
// The --filter language (capture_options.h) is parsed here, in the unprivileged app, into plain
// data; the helper only ever sees port numbers, prefixes and interface names.
#include "capture/capture_options.h"
#include "model/address.h"

#include <QRegularExpression>
#include <QStringList>

#include <algorithm>

namespace tcpscope {

namespace {

enum class Kind
{
    Port,
    Host,
    Net,
    Iface,
    Cgroup,
    Netns,
    Pid,
    Comm
};

QString kindName(Kind k)
{
    switch (k) {
    case Kind::Port:
        return QStringLiteral("port");
    case Kind::Host:
        return QStringLiteral("host");
    case Kind::Net:
        return QStringLiteral("net");
    case Kind::Iface:
        return QStringLiteral("iface");
    case Kind::Cgroup:
        return QStringLiteral("cgroup");
    case Kind::Netns:
        return QStringLiteral("netns");
    case Kind::Pid:
        return QStringLiteral("pid");
    case Kind::Comm:
        return QStringLiteral("comm");
    }
    return {};
}

std::optional<Kind> kindOf(const QString &word)
{
    const QString w = word.toLower();
    if (w == QLatin1String("port"))
        return Kind::Port;
    if (w == QLatin1String("host"))
        return Kind::Host;
    if (w == QLatin1String("net"))
        return Kind::Net;
    if (w == QLatin1String("iface"))
        return Kind::Iface;
    if (w == QLatin1String("cgroup"))
        return Kind::Cgroup;
    if (w == QLatin1String("netns"))
        return Kind::Netns;
    if (w == QLatin1String("pid"))
        return Kind::Pid;
    if (w == QLatin1String("comm") || w == QLatin1String("proc.name"))
        return Kind::Comm;
    return std::nullopt;
}

QString quoted(const QString &token)
{
    return QLatin1Char('\'') + token.left(80) + QLatin1Char('\'');
}

// Parses an address into NetFilter form (prefix = full length); false when it is not one.
bool parseAddress(const QString &text, wire::NetFilter *out)
{
    const IpAddress addr = IpAddress::parse(text);
    if (addr.isNull())
        return false;
    wire::NetFilter f;
    std::copy(addr.bytes().cbegin(), addr.bytes().cend(), f.addr.begin());
    f.family = quint8(addr.family());
    f.prefixLen = quint8(addr.size() * 8);
    *out = f;
    return true;
}

bool hostBitsZero(const wire::NetFilter &f)
{
    const int total = f.family == 4 ? 32 : 128;
    for (int bit = f.prefixLen; bit < total; ++bit) {
        if (f.addr[std::size_t(bit / 8)] & (0x80 >> (bit % 8)))
            return false;
    }
    return true;
}

// Linux dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or white space.
bool validInterfaceName(const QString &name)
{
    const QByteArray b = name.toUtf8();
    if (b.isEmpty() || b.size() > qsizetype(wire::kMaxInterfaceName) || b == "." || b == "..")
        return false;
    return std::none_of(b.begin(), b.end(), [](char c) {
        return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0';
    });
}

// "/a//b/" → "/a/b"; empty when it is no absolute path or has "." / ".." components.
QString normalizeCgroupPath(const QString &path)
{
    if (!path.startsWith(QLatin1Char('/')))
        return {};
    const QStringList parts = path.split(QLatin1Char('/'), Qt::SkipEmptyParts);
    for (const QString &part : parts)
        if (part == QLatin1String(".") || part == QLatin1String(".."))
            return {};
    return QLatin1Char('/') + parts.join(QLatin1Char('/'));
}

// `ip netns` names: a file name in /run/netns.
bool validNetnsName(const QString &name)
{
    return !name.isEmpty() && name.toUtf8().size() <= 255 && name != QLatin1String(".") &&
           name != QLatin1String("..") && !name.contains(QLatin1Char('/'));
}

struct Parser
{
    wire::StartOptions *out;
    OwnerTerms *owners;
    QString error;

    bool fail(const QString &why)
    {
        error = QStringLiteral("invalid filter: ") + why;
        return false;
    }

    bool addPorts(const QString &arg)
    {
        for (const QString &item : arg.split(QLatin1Char(','))) {
            bool ok = false;
            const uint port = item.toUInt(&ok, 10);
            if (!ok || port == 0 || port > 65535)
                return fail(QStringLiteral("%1 is not a port number (1-65535)").arg(quoted(item)));
            if (std::find(out->ports.begin(), out->ports.end(), quint16(port)) != out->ports.end())
                continue;
            if (out->ports.size() >= wire::kMaxFilterPorts)
                return fail(QStringLiteral("too many ports at %1 (at most %2)")
                                .arg(quoted(item))
                                .arg(wire::kMaxFilterPorts));
            out->ports.push_back(quint16(port));
        }
        return true;
    }

    bool addNet(const wire::NetFilter &f, const QString &token)
    {
        if (std::find(out->nets.begin(), out->nets.end(), f) != out->nets.end())
            return true;
        if (out->nets.size() >= wire::kMaxFilterNets)
            return fail(QStringLiteral("too many host/net terms at %1 (at most %2)")
                            .arg(quoted(token))
                            .arg(wire::kMaxFilterNets));
        out->nets.push_back(f);
        return true;
    }

    bool addHost(const QString &arg)
    {
        wire::NetFilter f;
        if (!parseAddress(arg, &f))
            return fail(QStringLiteral("%1 is not an IPv4 or IPv6 address (host wants an address; "
                                       "use net ADDR/LEN for a prefix)")
                            .arg(quoted(arg)));
        return addNet(f, arg);
    }

    bool addNetPrefix(const QString &arg)
    {
        const qsizetype slash = arg.indexOf(QLatin1Char('/'));
        if (slash < 0)
            return fail(
                QStringLiteral("%1 is not ADDR/LEN (e.g. 10.0.0.0/8, fd00::/8)").arg(quoted(arg)));
        wire::NetFilter f;
        if (!parseAddress(arg.left(slash), &f))
            return fail(QStringLiteral("%1 is not an IPv4 or IPv6 address in %2")
                            .arg(quoted(arg.left(slash)), quoted(arg)));
        bool ok = false;
        const QString lenText = arg.mid(slash + 1);
        const uint len = lenText.toUInt(&ok, 10);
        if (!ok || len > f.prefixLen)
            return fail(QStringLiteral("%1 is not a prefix length (0-%2) in %3")
                            .arg(quoted(lenText))
                            .arg(f.prefixLen)
                            .arg(quoted(arg)));
        f.prefixLen = quint8(len);
        if (!hostBitsZero(f))
            return fail(
                QStringLiteral("%1 has address bits set beyond /%2").arg(quoted(arg)).arg(len));
        return addNet(f, arg);
    }

    bool addIfaces(const QString &arg)
    {
        for (const QString &name : arg.split(QLatin1Char(','))) {
            if (!validInterfaceName(name))
                return fail(QStringLiteral("%1 is not an interface name (1-15 bytes, no '/', ':' "
                                           "or spaces)")
                                .arg(quoted(name)));
            const std::string s = name.toStdString();
            if (std::find(out->interfaces.begin(), out->interfaces.end(), s) !=
                out->interfaces.end())
                continue;
            if (out->interfaces.size() >= wire::kMaxFilterInterfaces)
                return fail(QStringLiteral("too many interfaces at %1 (at most %2)")
                                .arg(quoted(name))
                                .arg(wire::kMaxFilterInterfaces));
            out->interfaces.push_back(s);
        }
        return true;
    }

    bool addCgroups(const QString &arg)
    {
        for (const QString &item : arg.split(QLatin1Char(','))) {
            const QString path = normalizeCgroupPath(item);
            if (path.isEmpty())
                return fail(QStringLiteral("%1 is not a cgroup path (a path below the cgroup2 "
                                           "mount, e.g. /system.slice/nginx.service)")
                                .arg(quoted(item)));
            if (owners->cgroupPaths.contains(path))
                continue;
            if (std::size_t(owners->cgroupPaths.size()) >= wire::kMaxFilterCgroups)
                return fail(QStringLiteral("too many cgroups at %1 (at most %2)")
                                .arg(quoted(item))
                                .arg(wire::kMaxFilterCgroups));
            owners->cgroupPaths << path;
        }
        return true;
    }

    bool addNetns(const QString &arg)
    {
        for (const QString &item : arg.split(QLatin1Char(','))) {
            bool numeric = false;
            const qulonglong inode = item.toULongLong(&numeric, 10);
            if (numeric && (inode == 0 || inode > 0xffffffffull))
                return fail(
                    QStringLiteral("%1 is not a network namespace inode").arg(quoted(item)));
            if (!numeric && !validNetnsName(item))
                return fail(QStringLiteral("%1 is not a network namespace name (as ip netns "
                                           "lists them) or inode number")
                                .arg(quoted(item)));
            const std::size_t total =
                out->netnsInodes.size() + std::size_t(owners->netnsNames.size());
            if (numeric && std::find(out->netnsInodes.begin(), out->netnsInodes.end(),
                                     quint32(inode)) != out->netnsInodes.end())
                continue;
            if (!numeric && owners->netnsNames.contains(item))
                continue;
            if (total >= wire::kMaxFilterNetns)
                return fail(QStringLiteral("too many network namespaces at %1 (at most %2)")
                                .arg(quoted(item))
                                .arg(wire::kMaxFilterNetns));
            if (numeric)
                out->netnsInodes.push_back(quint32(inode));
            else
                owners->netnsNames << item;
        }
        return true;
    }

    bool addPids(const QString &arg)
    {
        for (const QString &item : arg.split(QLatin1Char(','))) {
            bool ok = false;
            const uint pid = item.toUInt(&ok, 10);
            // PID_MAX_LIMIT is 4194304.
            if (!ok || pid == 0 || pid > 4194304)
                return fail(QStringLiteral("%1 is not a process id").arg(quoted(item)));
            if (std::find(out->pids.begin(), out->pids.end(), quint32(pid)) != out->pids.end())
                continue;
            if (out->pids.size() >= wire::kMaxFilterPids)
                return fail(QStringLiteral("too many pids at %1 (at most %2)")
                                .arg(quoted(item))
                                .arg(wire::kMaxFilterPids));
            out->pids.push_back(quint32(pid));
        }
        return true;
    }

    bool addComms(const QString &arg)
    {
        for (QString item : arg.split(QLatin1Char(','))) {
            // proc.name "nginx" as the display filter writes it.
            if (item.size() >= 2 && item.startsWith(QLatin1Char('"')) &&
                item.endsWith(QLatin1Char('"')))
                item = item.mid(1, item.size() - 2);
            const QByteArray bytes = item.toUtf8();
            if (bytes.isEmpty() || std::size_t(bytes.size()) > wire::kMaxCommName)
                return fail(QStringLiteral("%1 is not a process name (1-%2 bytes, as the kernel "
                                           "keeps it)")
                                .arg(quoted(item))
                                .arg(wire::kMaxCommName));
            const std::string s = bytes.toStdString();
            if (std::find(out->comms.begin(), out->comms.end(), s) != out->comms.end())
                continue;
            if (out->comms.size() >= wire::kMaxFilterComms)
                return fail(QStringLiteral("too many process names at %1 (at most %2)")
                                .arg(quoted(item))
                                .arg(wire::kMaxFilterComms));
            out->comms.push_back(s);
        }
        return true;
    }

    bool parse(const QString &filter)
    {
        // "port 80, 443" reads as "port 80,443": commas bind list items, spaces separate words.
        QString text = filter;
        text.replace(QRegularExpression(QStringLiteral("\\s*,\\s*")), QStringLiteral(","));
        const QStringList tokens =
            text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
        std::optional<Kind> previous;
        QString pendingConnector; // "and"/"or" seen since the previous term
        for (qsizetype i = 0; i < tokens.size(); ++i) {
            const QString &tok = tokens[i];
            const QString lower = tok.toLower();
            if (lower == QLatin1String("and") || lower == QLatin1String("or")) {
                if (!previous)
                    return fail(QStringLiteral("%1 needs a term before it").arg(quoted(tok)));
                if (!pendingConnector.isEmpty())
                    return fail(QStringLiteral("%1 follows %2 without a term between them")
                                    .arg(quoted(tok), quoted(pendingConnector)));
                pendingConnector = tok;
                continue;
            }
            const std::optional<Kind> kind = kindOf(tok);
            if (!kind)
                return fail(QStringLiteral("%1 is not a filter term (expected port, host, net, "
                                           "iface, cgroup, netns, pid, comm, and, or)")
                                .arg(quoted(tok)));
            if (previous && !pendingConnector.isEmpty()) {
                const bool same = *previous == *kind;
                const QString conn = pendingConnector.toLower();
                if (same && conn == QLatin1String("and"))
                    return fail(QStringLiteral("%1 between two '%2' terms can never match both; "
                                               "terms of the same kind are alternatives (use "
                                               "'or' or nothing)")
                                    .arg(quoted(pendingConnector), kindName(*kind)));
                if (!same && conn == QLatin1String("or"))
                    return fail(
                        QStringLiteral("%1 between '%2' and '%3' is not supported: "
                                       "different kinds must all hold (use 'and' or "
                                       "nothing)")
                            .arg(quoted(pendingConnector), kindName(*previous), kindName(*kind)));
            }
            if (i + 1 >= tokens.size())
                return fail(QStringLiteral("%1 needs a value").arg(quoted(tok)));
            const QString &arg = tokens[++i];
            bool ok = false;
            switch (*kind) {
            case Kind::Port:
                ok = addPorts(arg);
                break;
            case Kind::Host:
                ok = addHost(arg);
                break;
            case Kind::Net:
                ok = addNetPrefix(arg);
                break;
            case Kind::Iface:
                ok = addIfaces(arg);
                break;
            case Kind::Cgroup:
                ok = addCgroups(arg);
                break;
            case Kind::Netns:
                ok = addNetns(arg);
                break;
            case Kind::Pid:
                ok = addPids(arg);
                break;
            case Kind::Comm:
                ok = addComms(arg);
                break;
            }
            if (!ok)
                return false;
            previous = kind;
            pendingConnector.clear();
        }
        if (!pendingConnector.isEmpty())
            return fail(QStringLiteral("%1 needs a term after it").arg(quoted(pendingConnector)));
        return true;
    }
};

} // namespace

std::optional<wire::StartOptions> buildStartOptions(const CaptureOptions &options, QString *error,
                                                    OwnerTerms *unresolved)
{
    auto fail = [error](const QString &why) -> std::optional<wire::StartOptions> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    if (options.snapLen < 0 || options.snapLen > TS_SNAP_MAX)
        return fail(QStringLiteral("invalid snap length %1 (0-%2 payload bytes)")
                        .arg(options.snapLen)
                        .arg(TS_SNAP_MAX));
    if (options.sampleIntervalUs > wire::StartOptions::kMaxSampleIntervalUs)
        return fail(QStringLiteral("invalid sample interval %1 us (0-%2 us, 0 = every sample)")
                        .arg(options.sampleIntervalUs)
                        .arg(wire::StartOptions::kMaxSampleIntervalUs));
    if (options.maxStallMs < 1 || options.maxStallMs > wire::StartOptions::kMaxStallMs)
        return fail(QStringLiteral("invalid maximum stall %1 ms (1-%2 ms)")
                        .arg(options.maxStallMs)
                        .arg(wire::StartOptions::kMaxStallMs));
    wire::StartOptions start;
    OwnerTerms owners;
    Parser parser{&start, &owners, {}};
    if (!parser.parse(options.filter))
        return fail(parser.error);
    if (unresolved)
        *unresolved = owners;
    start.flags = 0;
    if (options.packets) {
        start.flags |= wire::StartOptions::kPackets;
        if (options.snapLen > 0) {
            start.flags |= wire::StartOptions::kPayload;
            start.snapLen = quint16(options.snapLen);
        }
    } else {
        // Lifecycle only: the packet terms (checked above for typos) have nothing to act on;
        // owner terms still select state changes and kernel samples.
        start.ports.clear();
        start.nets.clear();
        start.interfaces.clear();
    }
    if (options.tcpInfo)
        start.flags |= wire::StartOptions::kTcpInfo;
    // Sent either way (the helper validates it); meaningful only with kTcpInfo.
    start.sampleIntervalUs = options.sampleIntervalUs;
    start.maxStallMs = options.maxStallMs;
    return start;
}

bool resolveOwnerTerms(const OwnerTerms &terms, const wire::HostOwners &report, const QString &host,
                       wire::StartOptions *start, QString *error)
{
    const QString on = host.isEmpty() ? QString() : QStringLiteral(" on ") + host;
    for (const QString &path : terms.cgroupPaths) {
        const std::string wanted = path.toStdString();
        const auto it =
            std::find_if(report.cgroups.begin(), report.cgroups.end(),
                         [&](const wire::HostOwners::Cgroup &c) { return c.path == wanted; });
        if (it == report.cgroups.end()) {
            if (error) {
                *error = QStringLiteral("invalid filter: cgroup %1 does not exist%2")
                             .arg(quoted(path), on);
                if (report.flags & wire::HostOwners::kNoCgroup2)
                    *error += QStringLiteral(" (no cgroup v2 hierarchy is mounted there)");
                else if (report.flags & wire::HostOwners::kCgroupsTruncated)
                    *error += QStringLiteral(" (or is not among the first %1 cgroups the helper "
                                             "reported)")
                                  .arg(report.cgroups.size());
            }
            return false;
        }
        if (std::find(start->cgroupIds.begin(), start->cgroupIds.end(), it->id) ==
            start->cgroupIds.end())
            start->cgroupIds.push_back(it->id);
    }
    for (const QString &name : terms.netnsNames) {
        const std::string wanted = name.toStdString();
        const auto it =
            std::find_if(report.netns.begin(), report.netns.end(),
                         [&](const wire::HostOwners::Netns &n) { return n.name == wanted; });
        if (it == report.netns.end()) {
            if (error)
                *error = QStringLiteral("invalid filter: netns %1 does not exist%2 (ip netns "
                                        "lists none by that name)")
                             .arg(quoted(name), on);
            return false;
        }
        if (std::find(start->netnsInodes.begin(), start->netnsInodes.end(), it->inode) ==
            start->netnsInodes.end())
            start->netnsInodes.push_back(it->inode);
    }
    return true;
}

} // namespace tcpscope
