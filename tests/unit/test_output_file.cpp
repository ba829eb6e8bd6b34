// SPDX-License-Identifier: GPL-3.0-or-later
// The output policy (output_file.h) on real file system objects: new and regular files,
// symlinks, directories, FIFOs, sockets and (as root) character devices made with mknod.
// Every refusal must leave the target exactly as it was.
#include "output_file.h"
#include "session/session_store.h"
#include "session/session_writer.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

using namespace tcpscope;

namespace {

bool writeText(QIODevice &out, const QByteArray &text)
{
    return out.write(text) == text.size();
}

std::function<bool(QIODevice &, QString *)> writer(const QByteArray &text)
{
    return [text](QIODevice &out, QString *) { return writeText(out, text); };
}

QByteArray contents(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
}

struct stat lstatOf(const QString &path)
{
    struct stat st = {};
    ::lstat(QFile::encodeName(path).constData(), &st);
    return st;
}

} // namespace

class TestOutputFile : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void createsNewFile();
    void replacesRegularFileKeepingMode();
    void failedWriteKeepsOldFile();
    void refusesSymlinks();
    void refusesDirectory();
    void fifoOnlyForStreams();
    void refusesSocket();
    void refusesCharDevice();
    void stdoutOnlyForStreams();
    void sessionOutputRules();
    void createSessionFileCompanions();
    void saveSessionCopyFollowsPolicy();
    void sessionsAreOwnerOnly();
    void spaceReserveHoldsBlocks();

private:
    QString path(const char *name) const { return m_dir->filePath(QLatin1String(name)); }
    // Names in the directory other than those given: leftovers such as temporary files.
    QStringList extraFiles(const QStringList &expected) const
    {
        QStringList names =
            QDir(m_dir->path())
                .entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
        for (const QString &e : expected)
            names.removeAll(e);
        return names;
    }

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestOutputFile::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestOutputFile::createsNewFile()
{
    const QString out = path("new.csv");
    QString error;
    QVERIFY2(writeOutputFile(out, OutputUse::File, writer("a,b\r\n"), &error), qPrintable(error));
    QCOMPARE(contents(out), QByteArray("a,b\r\n"));
    // 0666 minus the umask, like any file a program creates.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    QCOMPARE(lstatOf(out).st_mode & 07777, 0666 & ~mask);
    QCOMPARE(extraFiles({QStringLiteral("new.csv")}), QStringList());
}

void TestOutputFile::replacesRegularFileKeepingMode()
{
    const QString out = path("old.json");
    QFile f(out);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("old contents that are longer than the new ones");
    f.close();
    QVERIFY(::chmod(QFile::encodeName(out).constData(), 0640) == 0);
    const ino_t before = lstatOf(out).st_ino;
    QString error;
    QVERIFY2(writeOutputFile(out, OutputUse::Stream, writer("[]\n"), &error), qPrintable(error));
    QCOMPARE(contents(out), QByteArray("[]\n"));
    QCOMPARE(lstatOf(out).st_mode & 07777, mode_t(0640));
    QVERIFY(lstatOf(out).st_ino != before); // a new file renamed into place, not a rewrite
    QCOMPARE(extraFiles({QStringLiteral("old.json")}), QStringList());
}

void TestOutputFile::failedWriteKeepsOldFile()
{
    const QString out = path("keep.csv");
    QFile f(out);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("precious\n");
    f.close();
    QString error;
    const bool ok = writeOutputFile(
        out, OutputUse::File,
        [](QIODevice &dev, QString *err) {
            dev.write("half a fi");
            *err = QStringLiteral("simulated failure");
            return false;
        },
        &error);
    QVERIFY(!ok);
    QVERIFY2(error.contains(QLatin1String("simulated failure")), qPrintable(error));
    QCOMPARE(contents(out), QByteArray("precious\n"));
    QCOMPARE(extraFiles({QStringLiteral("keep.csv")}), QStringList());
    // The same for a path that did not exist: nothing is left under it.
    QVERIFY(!writeOutputFile(
        path("never.csv"), OutputUse::File, [](QIODevice &, QString *) { return false; }, &error));
    QVERIFY(!QFile::exists(path("never.csv")));
    QCOMPARE(extraFiles({QStringLiteral("keep.csv")}), QStringList());
}

void TestOutputFile::refusesSymlinks()
{
    const QString target = path("target.csv");
    QFile f(target);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("target\n");
    f.close();
    QVERIFY(QDir().mkdir(path("adir")));
    struct Case
    {
        const char *link;
        QString to;
        const char *says;
    };
    for (const Case &c : {Case{"to-file", target, "symbolic link to a regular file"},
                          Case{"to-dir", path("adir"), "symbolic link to a directory"},
                          Case{"dangling", path("nowhere"), "symbolic link that leads nowhere"}}) {
        const QString link = path(c.link);
        QVERIFY(QFile::link(c.to, link));
        for (OutputUse use : {OutputUse::File, OutputUse::Stream}) {
            QString error;
            QVERIFY(!checkOutputPath(link, use, &error));
            QVERIFY2(error.contains(QLatin1String(c.says)), qPrintable(error));
            QVERIFY(!writeOutputFile(link, use, writer("x"), &error));
        }
        QString error;
        QVERIFY(!checkSessionOutput(link, true, &error));
        QVERIFY(!createSessionFile(link, &error));
        QVERIFY(S_ISLNK(lstatOf(link).st_mode));
        QCOMPARE(QFile::symLinkTarget(link), c.to);
    }
    QCOMPARE(contents(target), QByteArray("target\n"));
    QVERIFY(!QFile::exists(path("nowhere")));
}

void TestOutputFile::refusesDirectory()
{
    const QString dir = path("out.csv");
    QVERIFY(QDir().mkdir(dir));
    QString error;
    QVERIFY(!writeOutputFile(dir, OutputUse::Stream, writer("x"), &error));
    QVERIFY2(error == dir + QLatin1String(": is a directory; tcpscope writes only to a new or a "
                                          "regular file"),
             qPrintable(error));
    QVERIFY(!checkSessionOutput(dir, true, &error));
    QVERIFY(!createSessionFile(dir, &error));
    QVERIFY(S_ISDIR(lstatOf(dir).st_mode));
    QCOMPARE(extraFiles({QStringLiteral("out.csv")}), QStringList());
}

void TestOutputFile::fifoOnlyForStreams()
{
    const QString fifo = path("pipe");
    QVERIFY(::mkfifo(QFile::encodeName(fifo).constData(), 0600) == 0);
    QString error;
    QVERIFY(!checkOutputPath(fifo, OutputUse::File, &error));
    QVERIFY2(error.contains(QLatin1String("is a FIFO (named pipe); this output is a file")),
             qPrintable(error));
    QVERIFY(!writeOutputFile(fifo, OutputUse::File, writer("x"), &error));
    QVERIFY(!checkSessionOutput(fifo, true, &error));
    QVERIFY(!createSessionFile(fifo, &error));
    // A stream goes straight into it, to whoever reads.
    QByteArray received;
    std::thread reader([&] {
        const int fd = ::open(QFile::encodeName(fifo).constData(), O_RDONLY);
        char buf[256];
        ssize_t n;
        while (fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0)
            received.append(buf, n);
        if (fd >= 0)
            ::close(fd);
    });
    const bool ok = writeOutputFile(fifo, OutputUse::Stream, writer("streamed\n"), &error);
    reader.join();
    QVERIFY2(ok, qPrintable(error));
    QCOMPARE(received, QByteArray("streamed\n"));
    QVERIFY(S_ISFIFO(lstatOf(fifo).st_mode));
    QCOMPARE(extraFiles({QStringLiteral("pipe")}), QStringList());
}

void TestOutputFile::refusesSocket()
{
    const QString sock = path("sock");
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    QVERIFY(fd >= 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    const QByteArray native = QFile::encodeName(sock);
    QVERIFY(size_t(native.size()) < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, native.constData(), size_t(native.size()));
    QVERIFY(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    QString error;
    QVERIFY(!writeOutputFile(sock, OutputUse::Stream, writer("x"), &error));
    QVERIFY2(error.contains(QLatin1String("is a socket")), qPrintable(error));
    QVERIFY(!checkSessionOutput(sock, true, &error));
    QVERIFY(!createSessionFile(sock, &error));
    QVERIFY(S_ISSOCK(lstatOf(sock).st_mode));
    ::close(fd);
}

void TestOutputFile::refusesCharDevice()
{
    if (::geteuid() != 0)
        QSKIP("NOT TESTED: creating a character device needs root (mknod)");
    const QString dev = path("null");
    QVERIFY(::mknod(QFile::encodeName(dev).constData(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    const QString link = path("null-link");
    QVERIFY(QFile::link(dev, link));
    QString error;
    const QString source = path("src.tcpscope");
    auto w = SessionWriter::create(source, &error);
    QVERIFY2(w, qPrintable(error));
    QVERIFY(w->close(&error));
    for (const QString &target : {dev, link}) {
        for (OutputUse use : {OutputUse::File, OutputUse::Stream}) {
            QString error;
            QVERIFY(!writeOutputFile(target, use, writer("x"), &error));
            QVERIFY2(error.contains(QLatin1String("character device")), qPrintable(error));
        }
        QVERIFY(!checkSessionOutput(target, true, &error)); // --force does not change that
        QVERIFY(!createSessionFile(target, &error));
        QVERIFY(!saveSessionCopy(source, target, &error)); // GUI Save As
        QVERIFY2(error.contains(QLatin1String("character device")), qPrintable(error));
    }
    // createSessionFile is what SessionWriter uses: a writer over a device is refused too.
    QVERIFY(!SessionWriter::create(dev, &error));
    QVERIFY2(error.contains(QLatin1String("character device")), qPrintable(error));
    const struct stat st = lstatOf(dev);
    QVERIFY(S_ISCHR(st.st_mode));
    QCOMPARE(st.st_rdev, makedev(1, 3));
    QVERIFY(S_ISLNK(lstatOf(link).st_mode));
}

void TestOutputFile::stdoutOnlyForStreams()
{
    QString error;
    QVERIFY(checkOutputPath(QStringLiteral("-"), OutputUse::Stream, &error));
    QVERIFY(!checkOutputPath(QStringLiteral("-"), OutputUse::File, &error));
    QVERIFY(!checkSessionOutput(QStringLiteral("-"), true, &error));
    QVERIFY(!checkOutputPath(QString(), OutputUse::Stream, &error));
}

void TestOutputFile::sessionOutputRules()
{
    QString error;
    QVERIFY(checkSessionOutput(path("absent.tcpscope"), false, &error));
    QFile empty(path("empty"));
    QVERIFY(empty.open(QIODevice::WriteOnly));
    empty.close();
    QVERIFY(checkSessionOutput(path("empty"), false, &error));
    QFile notes(path("notes.txt"));
    QVERIFY(notes.open(QIODevice::WriteOnly));
    notes.write("not a session");
    notes.close();
    QVERIFY(!checkSessionOutput(path("notes.txt"), false, &error));
    QVERIFY2(error.endsWith(QLatin1String("not a tcpscope session; not overwriting it (use "
                                          "--force)")),
             qPrintable(error));
    QVERIFY(checkSessionOutput(path("notes.txt"), true, &error));
    auto w = SessionWriter::create(path("earlier.tcpscope"), &error);
    QVERIFY2(w, qPrintable(error));
    QVERIFY(w->close(&error));
    QVERIFY(checkSessionOutput(path("earlier.tcpscope"), false, &error));
    // Any other SQLite database is foreign.
    QFile db(path("other.db"));
    QVERIFY(db.open(QIODevice::WriteOnly));
    QByteArray header(100, '\0');
    std::memcpy(header.data(), "SQLite format 3", 16);
    db.write(header);
    db.close();
    QVERIFY(!checkSessionOutput(path("other.db"), false, &error));
}

void TestOutputFile::createSessionFileCompanions()
{
    const QString file = path("s.tcpscope");
    const QString victim = path("victim");
    QFile v(victim);
    QVERIFY(v.open(QIODevice::WriteOnly));
    v.write("victim\n");
    v.close();
    QFile stale(file + QLatin1String("-journal"));
    QVERIFY(stale.open(QIODevice::WriteOnly));
    stale.write("stale journal");
    stale.close();
    QVERIFY(QFile::link(victim, file + QLatin1String("-wal")));
    QString error;
    QVERIFY2(createSessionFile(file, &error), qPrintable(error));
    QVERIFY(S_ISREG(lstatOf(file).st_mode));
    QCOMPARE(lstatOf(file).st_size, off_t(0));
    QVERIFY(!QFile::exists(file + QLatin1String("-journal")));
    QVERIFY(!QFileInfo(file + QLatin1String("-wal")).isSymLink());
    QCOMPARE(contents(victim), QByteArray("victim\n")); // the link went, not what it named
    // A companion that is a directory is not removed: the session is refused.
    QVERIFY(QDir().mkdir(file + QLatin1String("-shm")));
    QVERIFY(!createSessionFile(file, &error));
    QVERIFY2(error.contains(QLatin1String("-shm: is a directory")), qPrintable(error));
}

void TestOutputFile::saveSessionCopyFollowsPolicy()
{
    QString error;
    const QString source = path("src.tcpscope");
    auto w = SessionWriter::create(source, &error);
    QVERIFY2(w, qPrintable(error));
    Connection c;
    c.id = 1;
    w->writeConnection(c);
    QVERIFY(w->close(&error));
    // Replaces a regular file whole; refuses a directory and a symlink.
    const QString dest = path("dest.tcpscope");
    QFile old(dest);
    QVERIFY(old.open(QIODevice::WriteOnly));
    old.write("old");
    old.close();
    QVERIFY2(saveSessionCopy(source, dest, &error), qPrintable(error));
    QVERIFY(contents(dest).startsWith("SQLite format 3"));
    QVERIFY(QDir().mkdir(path("d.tcpscope")));
    QVERIFY(!saveSessionCopy(source, path("d.tcpscope"), &error));
    QVERIFY2(error.contains(QLatin1String("is a directory")), qPrintable(error));
    QVERIFY(QFile::link(dest, path("l.tcpscope")));
    QVERIFY(!saveSessionCopy(source, path("l.tcpscope"), &error));
    QVERIFY(S_ISLNK(lstatOf(path("l.tcpscope")).st_mode));
    QCOMPARE(extraFiles({QStringLiteral("src.tcpscope"), QStringLiteral("dest.tcpscope"),
                         QStringLiteral("d.tcpscope"), QStringLiteral("l.tcpscope")}),
             QStringList());
}

void TestOutputFile::sessionsAreOwnerOnly()
{
    // Even with a permissive umask a new session, and a new copy of one, is readable by its
    // owner only; a replaced file keeps the permissions it had.
    const mode_t previous = ::umask(0);
    QString error;
    const QString source = path("own.tcpscope");
    auto w = SessionWriter::create(source, &error);
    const bool created = w != nullptr && w->close(&error);
    w.reset();
    const QString copy = path("copy.tcpscope");
    const bool copied = created && saveSessionCopy(source, copy, &error);
    const QString replaced = path("replaced.tcpscope");
    QFile r(replaced);
    const bool made = r.open(QIODevice::WriteOnly);
    r.close();
    ::chmod(QFile::encodeName(replaced).constData(), 0640);
    const bool replacedOk = made && saveSessionCopy(source, replaced, &error);
    ::umask(previous);
    QVERIFY2(created && copied && replacedOk, qPrintable(error));
    QCOMPARE(lstatOf(source).st_mode & 07777, mode_t(0600));
    QCOMPARE(lstatOf(copy).st_mode & 07777, mode_t(0600));
    QCOMPARE(lstatOf(replaced).st_mode & 07777, mode_t(0640));
}

void TestOutputFile::spaceReserveHoldsBlocks()
{
    // The reserve takes its blocks from the file system of the session, leaves no name in the
    // directory, and gives the blocks back when released.
    const QString session = path("reserved.tcpscope");
    const QByteArray dir = QFile::encodeName(QFileInfo(session).absolutePath());
    auto freeBytes = [&] {
        struct statvfs v = {};
        ::statvfs(dir.constData(), &v);
        return qint64(v.f_bavail) * qint64(v.f_frsize);
    };
    constexpr qint64 kBytes = qint64(64) << 20;
    const qint64 before = freeBytes();
    if (before < 4 * kBytes)
        QSKIP("too little free space in the temporary directory to measure a reserve");
    SpaceReserve reserve(session, kBytes);
    if (!reserve.held())
        QSKIP("this file system cannot make unnamed files (O_TMPFILE) with allocated blocks");
    const qint64 held = freeBytes();
    QCOMPARE(extraFiles({}), QStringList());
    reserve.release();
    QVERIFY(!reserve.held());
    const qint64 after = freeBytes();
    // Other writers on the same file system move the numbers a little; 64 MiB stands out.
    QVERIFY2(before - held > kBytes * 3 / 4,
             qPrintable(QStringLiteral("free before %1, while held %2").arg(before).arg(held)));
    QVERIFY2(after - held > kBytes * 3 / 4,
             qPrintable(QStringLiteral("free while held %1, after %2").arg(held).arg(after)));
}

QTEST_GUILESS_MAIN(TestOutputFile)
#include "test_output_file.moc"
