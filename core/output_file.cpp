// SPDX-License-Identifier: GPL-3.0-or-later
#include "output_file.h"

#include "session/session_schema.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tcpscope {

namespace {

QString systemError(int err)
{
    return QString::fromLocal8Bit(std::strerror(err));
}

bool fail(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return false;
}

QString typeName(mode_t mode)
{
    if (S_ISDIR(mode))
        return QStringLiteral("a directory");
    if (S_ISCHR(mode))
        return QStringLiteral("a character device");
    if (S_ISBLK(mode))
        return QStringLiteral("a block device");
    if (S_ISSOCK(mode))
        return QStringLiteral("a socket");
    if (S_ISFIFO(mode))
        return QStringLiteral("a FIFO (named pipe)");
    if (S_ISLNK(mode))
        return QStringLiteral("a symbolic link");
    if (S_ISREG(mode))
        return QStringLiteral("a regular file");
    return QStringLiteral("not a regular file");
}

// The one-line refusal for what lstat() found at path.
QString refusal(const QString &path, const struct stat &st, OutputUse use)
{
    if (S_ISLNK(st.st_mode)) {
        struct stat target;
        const QString to = ::stat(QFile::encodeName(path).constData(), &target) == 0
                               ? QStringLiteral(" to ") + typeName(target.st_mode)
                               : QStringLiteral(" that leads nowhere");
        return QStringLiteral("%1: is a symbolic link%2; tcpscope never writes through a "
                              "symbolic link (give the path of a new or a regular file)")
            .arg(path, to);
    }
    if (S_ISFIFO(st.st_mode) && use == OutputUse::File)
        return QStringLiteral("%1: is a FIFO (named pipe); this output is a file, not a stream "
                              "(give the path of a new or a regular file)")
            .arg(path);
    return QStringLiteral("%1: is %2; tcpscope writes only to a new or a regular file")
        .arg(path, typeName(st.st_mode));
}

// lstat(path): true and *st when something is there, false with *err (ENOENT: nothing).
bool look(const QString &path, struct stat *st, int *err)
{
    if (::lstat(QFile::encodeName(path).constData(), st) == 0)
        return true;
    *err = errno;
    return false;
}

// A temporary file beside the target, created with O_EXCL | O_NOFOLLOW: no existing file, and
// no symlink, is ever opened in its place. Removed on destruction unless renamed into place.
class TempFile
{
public:
    ~TempFile()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        if (!m_path.isEmpty() && !m_committed)
            ::unlink(m_path.constData());
    }

    // replaced: what lstat() found at target (a regular file), or nullptr when nothing was.
    // newMode: the permissions of a file that replaces nothing (minus the umask).
    bool create(const QString &target, const struct stat *replaced, QString *error,
                mode_t newMode = 0666)
    {
        const QFileInfo info(target);
        // The name shows what it is if a crash leaves it behind; hidden, beside the target so
        // the rename stays on one file system.
        const QString base = QLatin1Char('.') + info.fileName().left(200);
        for (int attempt = 0; attempt < 100; ++attempt) {
            const QString name =
                QStringLiteral("%1.%2.tcpscope-partial")
                    .arg(base)
                    .arg(QRandomGenerator::global()->generate(), 8, 16, QLatin1Char('0'));
            m_path = QFile::encodeName(info.absoluteDir().filePath(name));
            // By default 0666 minus the umask: the permissions any newly created file gets.
            m_fd = ::open(m_path.constData(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          newMode);
            if (m_fd >= 0)
                break;
            const int err = errno;
            m_path.clear();
            if (err != EEXIST)
                return fail(error, QStringLiteral("%1: cannot write in %2: %3")
                                       .arg(target, info.absolutePath(), systemError(err)));
        }
        if (m_fd < 0)
            return fail(error,
                        QStringLiteral("%1: cannot create a temporary file beside it").arg(target));
        if (replaced) {
            // A replaced file keeps its permission bits (never set-id ones), and, when root
            // replaces someone else's file, its owner.
            ::fchmod(m_fd, replaced->st_mode & 01777);
            if (::geteuid() == 0 && (replaced->st_uid != ::geteuid() ||
                                     replaced->st_gid != ::getegid())) [[maybe_unused]]
                const int rc = ::fchown(m_fd, replaced->st_uid, replaced->st_gid);
        }
        m_replacing = replaced != nullptr;
        return true;
    }

    int fd() const { return m_fd; }
    void closeFd()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }
    QString path() const { return QFile::decodeName(m_path); }

    // Closes the file (synced to disk first when syncFd) and renames it over target, provided
    // target is still what it was: nothing, or a regular file.
    bool commit(const QString &target, bool syncFd, QString *error)
    {
        if (m_fd >= 0) {
            const bool synced = !syncFd || ::fsync(m_fd) == 0;
            const int err = errno;
            const bool closed = ::close(m_fd) == 0;
            m_fd = -1;
            if (!synced || !closed)
                return fail(error, QStringLiteral("%1: write failed: %2")
                                       .arg(target, systemError(synced ? errno : err)));
        }
        struct stat st;
        int err = 0;
        if (!look(path(), &st, &err) || !S_ISREG(st.st_mode))
            return fail(error, QStringLiteral("%1: the temporary file %2 was replaced while "
                                              "writing; nothing written")
                                   .arg(target, path()));
        const QByteArray native = QFile::encodeName(target);
        if (look(target, &st, &err)) {
            if (!m_replacing || !S_ISREG(st.st_mode))
                return fail(error, QStringLiteral("%1: changed while writing (now %2); left "
                                                  "alone")
                                       .arg(target, typeName(st.st_mode)));
        }
        // rename() replaces the directory entry itself: it never follows a symlink at target.
        if (!m_replacing) {
            if (::renameat2(AT_FDCWD, m_path.constData(), AT_FDCWD, native.constData(),
                            RENAME_NOREPLACE) == 0) {
                m_committed = true;
                return true;
            }
            if (errno == EEXIST)
                return fail(error, QStringLiteral("%1: created by someone else while writing; "
                                                  "left alone")
                                       .arg(target));
            if (errno != EINVAL && errno != ENOSYS) // no RENAME_NOREPLACE on this file system
                return fail(error, QStringLiteral("%1: cannot rename the temporary file into "
                                                  "place: %2")
                                       .arg(target, systemError(errno)));
        }
        if (::rename(m_path.constData(), native.constData()) != 0)
            return fail(error, QStringLiteral("%1: cannot rename the temporary file into place: %2")
                                   .arg(target, systemError(errno)));
        m_committed = true;
        return true;
    }

private:
    QByteArray m_path;
    int m_fd = -1;
    bool m_replacing = false;
    bool m_committed = false;
};

// What is at path, checked for a document: *replaced is filled for a regular file, *exists
// says whether anything is there.
bool inspectDocument(const QString &path, OutputUse use, struct stat *replaced, bool *exists,
                     QString *error)
{
    int err = 0;
    *exists = look(path, replaced, &err);
    if (!*exists) {
        if (err == ENOENT)
            return true;
        return fail(error, QStringLiteral("%1: %2").arg(path, systemError(err)));
    }
    if (!S_ISREG(replaced->st_mode))
        return fail(error, refusal(path, *replaced, use));
    return true;
}

bool writeDevice(QFile &out, const QString &name,
                 const std::function<bool(QIODevice &, QString *)> &write, QString *error)
{
    QString err;
    const bool ok = write(out, &err) && out.flush();
    if (!ok)
        return fail(error,
                    QStringLiteral("%1: %2").arg(name, err.isEmpty() ? out.errorString() : err));
    return true;
}

} // namespace

bool checkOutputPath(const QString &path, OutputUse use, QString *error)
{
    if (path.isEmpty())
        return fail(error, QStringLiteral("no output file name given"));
    if (path == QLatin1String("-")) {
        if (use == OutputUse::Stream)
            return true;
        return fail(error, QStringLiteral("-: this output is a file, not a stream; give a file "
                                          "name"));
    }
    struct stat st;
    int err = 0;
    if (!look(path, &st, &err))
        return err == ENOENT || fail(error, QStringLiteral("%1: %2").arg(path, systemError(err)));
    if (S_ISREG(st.st_mode) || (S_ISFIFO(st.st_mode) && use == OutputUse::Stream))
        return true;
    return fail(error, refusal(path, st, use));
}

bool writeOutputFile(const QString &path, OutputUse use,
                     const std::function<bool(QIODevice &, QString *)> &write, QString *error)
{
    if (!checkOutputPath(path, use, error))
        return false;
    if (path == QLatin1String("-")) {
        QFile out;
        if (!out.open(stdout, QIODevice::WriteOnly))
            return fail(error, QStringLiteral("stdout: ") + out.errorString());
        return writeDevice(out, QStringLiteral("stdout"), write, error);
    }
    struct stat st;
    int err = 0;
    if (use == OutputUse::Stream && look(path, &st, &err) && S_ISFIFO(st.st_mode)) {
        // A FIFO is written straight into (opening waits for its reader). O_NOFOLLOW and the
        // check after opening make sure it is still the FIFO looked at, not something swapped
        // in meanwhile.
        const int fd =
            ::open(QFile::encodeName(path).constData(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return fail(error, QStringLiteral("%1: %2").arg(path, systemError(errno)));
        if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
            ::close(fd);
            return fail(error, QStringLiteral("%1: changed while opening; left alone").arg(path));
        }
        QFile out;
        if (!out.open(fd, QIODevice::WriteOnly, QFileDevice::AutoCloseHandle)) {
            ::close(fd);
            return fail(error, QStringLiteral("%1: %2").arg(path, out.errorString()));
        }
        return writeDevice(out, path, write, error);
    }
    bool exists = false;
    if (!inspectDocument(path, use, &st, &exists, error))
        return false;
    TempFile temp;
    if (!temp.create(path, exists ? &st : nullptr, error))
        return false;
    {
        QFile out;
        if (!out.open(temp.fd(), QIODevice::WriteOnly, QFileDevice::DontCloseHandle))
            return fail(error, QStringLiteral("%1: %2").arg(path, out.errorString()));
        if (!writeDevice(out, path, write, error))
            return false;
    }
    return temp.commit(path, true, error);
}

bool writeOutputFileNamed(const QString &path,
                          const std::function<bool(const QString &tempPath, QString *)> &write,
                          QString *error, mode_t newFileMode)
{
    struct stat st;
    bool exists = false;
    if (!inspectDocument(path, OutputUse::File, &st, &exists, error))
        return false;
    TempFile temp;
    if (!temp.create(path, exists ? &st : nullptr, error, newFileMode))
        return false;
    // The writer opens the file by name itself and syncs what it writes (SQLite does on
    // commit): the descriptor is not needed.
    temp.closeFd();
    QString err;
    if (!write(temp.path(), &err))
        return fail(error, QStringLiteral("%1: %2").arg(path, err));
    return temp.commit(path, false, error);
}

bool checkSessionOutput(const QString &path, bool force, QString *error)
{
    if (path == QLatin1String("-"))
        return fail(error, QStringLiteral("-: a session is a database file, not a stream; give a "
                                          "file name"));
    struct stat st;
    int err = 0;
    if (!look(path, &st, &err))
        return err == ENOENT || fail(error, QStringLiteral("%1: %2").arg(path, systemError(err)));
    if (!S_ISREG(st.st_mode))
        return fail(error, refusal(path, st, OutputUse::File));
    if (st.st_size == 0 || force)
        return true;
    // O_NOFOLLOW | O_NONBLOCK: whatever replaced the regular file meanwhile is not followed
    // and cannot block the read.
    const int fd =
        ::open(QFile::encodeName(path).constData(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fail(
            error,
            QStringLiteral("%1: exists and cannot be read: %2").arg(path, systemError(errno)));
    unsigned char head[100];
    const ssize_t n = ::read(fd, head, sizeof head);
    ::close(fd);
    static const char kSqliteMagic[16] = "SQLite format 3"; // with its NUL: 16 bytes
    if (n == ssize_t(sizeof head) && std::memcmp(head, kSqliteMagic, 16) == 0) {
        // The application id, big-endian at offset 68 of the database header.
        const quint32 appId = (quint32(head[68]) << 24) | (quint32(head[69]) << 16) |
                              (quint32(head[70]) << 8) | quint32(head[71]);
        if (appId == quint32(schema::kApplicationId))
            return true;
    }
    return fail(error, QStringLiteral("%1: exists and is not a tcpscope session; not overwriting "
                                      "it (use --force)")
                           .arg(path));
}

bool createSessionFile(const QString &path, QString *error)
{
    // The companions first: a stale -wal or -journal would be replayed into the new file.
    for (const char *suffix : {"", "-wal", "-shm", "-journal"}) {
        const QString file = path + QLatin1String(suffix);
        struct stat st;
        int err = 0;
        if (!look(file, &st, &err)) {
            if (err == ENOENT)
                continue;
            return fail(error, QStringLiteral("%1: %2").arg(file, systemError(err)));
        }
        // A companion that is a symlink is removed (unlink() removes the link, not its target);
        // the session itself must be a regular file to be replaced.
        const bool removable = S_ISREG(st.st_mode) || (*suffix && S_ISLNK(st.st_mode));
        if (!removable)
            return fail(error, refusal(file, st, OutputUse::File));
        if (::unlink(QFile::encodeName(file).constData()) != 0 && errno != ENOENT)
            return fail(error,
                        QStringLiteral("%1: cannot replace it: %2").arg(file, systemError(errno)));
    }
    const int fd = ::open(QFile::encodeName(path).constData(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode);
    if (fd < 0)
        return fail(error, QStringLiteral("%1: cannot create: %2").arg(path, systemError(errno)));
    ::close(fd);
    return true;
}

SpaceReserve::SpaceReserve(const QString &path, qint64 bytes)
{
    const QByteArray dir = QFile::encodeName(QFileInfo(path).absolutePath());
    m_fd = ::open(dir.constData(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (m_fd >= 0 && ::fallocate(m_fd, 0, 0, bytes) != 0)
        release();
}

SpaceReserve::~SpaceReserve()
{
    release();
}

SpaceReserve::SpaceReserve(SpaceReserve &&other) noexcept : m_fd(other.m_fd)
{
    other.m_fd = -1;
}

SpaceReserve &SpaceReserve::operator=(SpaceReserve &&other) noexcept
{
    if (this != &other) {
        release();
        m_fd = other.m_fd;
        other.m_fd = -1;
    }
    return *this;
}

void SpaceReserve::release()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

} // namespace tcpscope
