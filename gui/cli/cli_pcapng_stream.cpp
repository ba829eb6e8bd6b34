// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_pcapng_stream.h"

#include "output_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tcpscope::cli {

std::unique_ptr<PcapngStream> PcapngStream::open(const QString &path, QString *error)
{
    auto fail = [&](const QString &why) {
        *error = why;
        return std::unique_ptr<PcapngStream>();
    };
    if (!checkOutputPath(path, OutputUse::Stream, error))
        return nullptr;
    std::unique_ptr<PcapngStream> s(new PcapngStream);
    s->m_path = path;
    int fd = STDOUT_FILENO;
    if (path == QLatin1String("-")) {
        s->m_stdout = true;
        s->m_path = QStringLiteral("stdout");
    } else {
        const QByteArray name = QFile::encodeName(path);
        struct stat st;
        if (::lstat(name.constData(), &st) == 0) {
            if (!S_ISFIFO(st.st_mode))
                return fail(QStringLiteral("%1: exists; --pcapng-out writes a new file, a FIFO "
                                           "or - (stdout)")
                                .arg(path));
            // Opening waits for the reader. O_NOFOLLOW and the check after opening make sure it
            // is still the FIFO looked at, not something swapped in meanwhile.
            fd = ::open(name.constData(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0)
                return fail(QStringLiteral("%1: %2").arg(
                    path, QString::fromLocal8Bit(std::strerror(errno))));
            s->m_fd.reset(fd);
            if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
                return fail(QStringLiteral("%1: changed while opening; left alone").arg(path));
        } else {
            fd = ::open(name.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        kPrivateFileMode);
            if (fd < 0)
                return fail(QStringLiteral("%1: cannot create: %2")
                                .arg(path, QString::fromLocal8Bit(std::strerror(errno))));
            s->m_fd.reset(fd);
        }
    }
    // Unbuffered: PcapngWriter buffers, and each batch must reach the reader when written.
    if (!s->m_file.open(fd, QIODevice::WriteOnly | QIODevice::Unbuffered,
                        QFileDevice::DontCloseHandle))
        return fail(QStringLiteral("%1: %2").arg(s->m_path, s->m_file.errorString()));
    s->m_writer = std::make_unique<PcapngWriter>(s->m_file);
    return s;
}

bool PcapngStream::fail(const QString &why)
{
    if (m_error.isEmpty())
        m_error = QStringLiteral("%1: %2").arg(m_path, why);
    return false;
}

bool PcapngStream::begin(const SessionInfo &info)
{
    m_loopback = loopbackInterfaces(info);
    if (!m_writer->begin(info) || !m_writer->finish())
        return fail(m_writer->error());
    return true;
}

void PcapngStream::noteConnections(const QVector<Connection> &changed)
{
    for (const Connection &c : changed)
        m_owners.insert(c.id, PcapngProcess::of(c));
}

bool PcapngStream::write(const QVector<Packet> &packets, const QVector<InterfaceInfo> &interfaces)
{
    if (!m_error.isEmpty())
        return false;
    for (const InterfaceInfo &i : interfaces) {
        if (i.name == QLatin1String("lo"))
            m_loopback.insert(i.ifindex);
    }
    for (const Packet &p : packets) {
        if (isLoopbackEgressCopy(p, m_loopback)) {
            ++m_loopbackCopies;
            continue;
        }
        for (const InterfaceInfo &i : interfaces) {
            if (i.ifindex == p.ifindex) {
                m_writer->declareInterface(i.ifindex, i.name);
                break;
            }
        }
        if (!m_writer->write(p, m_owners.value(p.connectionId)))
            return fail(m_writer->error());
        ++m_packets;
    }
    if (!m_writer->finish())
        return fail(m_writer->error());
    return true;
}

bool PcapngStream::readerGone() const
{
    const int fd = m_stdout ? STDOUT_FILENO : m_fd.get();
    struct pollfd p
    {
        fd, POLLOUT, 0
    };
    // A pipe or FIFO whose read end is closed reports POLLERR; a regular file never does.
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)) != 0;
}

} // namespace tcpscope::cli
