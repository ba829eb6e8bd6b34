// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_store.h"

#include "model/connection_columns.h"

#include "output_file.h"
#include "session/session_schema.h"
#include "session/sqlite_util.h"

#include <QFile>
#include <QFileInfo>
#include <QThread>

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tcpscope {

namespace {

bool copyPages(sqlite3 *src, sqlite3 *dst, QString *err)
{
    sqlite3_backup *backup = sqlite3_backup_init(dst, "main", src, "main");
    if (!backup) {
        *err = sqlite::lastError(dst);
        return false;
    }
    int rc;
    // Copy in steps so a recording writer is never blocked for long; retry while it holds a lock.
    do {
        rc = sqlite3_backup_step(backup, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            QThread::msleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    const int finish = sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE || finish != SQLITE_OK) {
        *err = sqlite::lastError(dst);
        if (err->isEmpty() || *err == QLatin1String("not an error"))
            *err = QString::fromUtf8(sqlite3_errstr(rc != SQLITE_DONE ? rc : finish));
        return false;
    }
    return true;
}

// What the 100-byte SQLite header says, read without following a symlink or blocking.
struct Header
{
    bool sqlite = false; // "SQLite format 3"
    bool wal = false;    // read and write versions 2: WAL mode
    bool ours = false;   // the tcpscope application id
};

Header readHeader(const QString &path)
{
    Header h;
    const int fd =
        ::open(QFile::encodeName(path).constData(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return h;
    unsigned char head[100];
    const ssize_t n = ::read(fd, head, sizeof head);
    ::close(fd);
    if (n != ssize_t(sizeof head) || std::memcmp(head, "SQLite format 3", 16) != 0)
        return h;
    h.sqlite = true;
    h.wal = head[18] == 2 && head[19] == 2;
    const quint32 appId = (quint32(head[68]) << 24) | (quint32(head[69]) << 16) |
                          (quint32(head[70]) << 8) | quint32(head[71]);
    h.ours = appId == quint32(schema::kApplicationId);
    return h;
}

// A reader's connection is used by one thread at a time (Session serialises every call under
// its own mutex), so SQLite's per-call mutexes are pure cost: ~10 % of `tcpscope info`.
constexpr int kReaderFlags = SQLITE_OPEN_NOMUTEX;

// Size of a regular file, -1 when there is none.
qint64 regularSize(const QString &path)
{
    struct stat st;
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return st.st_size;
}

// The settings every connection to a file of unknown origin gets before its first statement.
void defensive(sqlite3 *db)
{
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, nullptr);
}

// A session file the caller has checked (a regular file, ours by its header) opened for
// writing: NOFOLLOW (the path is not a symlink and stays not one), the defensive settings, and
// up to 2 s of waiting for another connection's lock. Null + reason.
sqlite::Db openForWriting(const QString &path, QString *why)
{
    QString err;
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, &err);
    if (!db) {
        *why = QStringLiteral("cannot open for writing: ") + err;
        return db;
    }
    defensive(db.get());
    sqlite3_busy_timeout(db.get(), 2000);
    return db;
}

const QString kNotOursForWriting =
    QStringLiteral("not a tcpscope session (by its header); not opening it for writing");

} // namespace

sqlite::Db openSessionReadOnly(const QString &path, QString *error, bool *needsRecovery)
{
    if (needsRecovery)
        *needsRecovery = false;
    auto recover = [&](const QString &why) {
        if (needsRecovery)
            *needsRecovery = true;
        if (error)
            *error = QStringLiteral("%1. Run 'tcpscope recover %2' to finish that and check the "
                                    "file (it needs write access to the file and its directory)")
                         .arg(why, path);
        return sqlite::Db();
    };
    const Header header = readHeader(path);
    if (header.wal) {
        // Without a log there is nothing to read through it: immutable needs no -shm, and no
        // writer is at work (a recorder keeps its -wal while it writes).
        if (regularSize(path + QLatin1String("-wal")) <= 0)
            return sqlite::open(path, SQLITE_OPEN_READONLY | kReaderFlags, error, "immutable=1");
        // A log without its index: SQLite would create the -shm to read it.
        if (regularSize(path + QLatin1String("-shm")) < 0)
            return recover(QStringLiteral("its write-ahead log (-wal) holds data not yet in the "
                                          "file, and the -shm that goes with it is missing (a "
                                          "recording cut short, or a copy made without it)"));
        return sqlite::open(path, SQLITE_OPEN_READONLY | kReaderFlags, error);
    }
    sqlite::Db db = sqlite::open(path, SQLITE_OPEN_READONLY | kReaderFlags, error);
    if (!db || regularSize(path + QLatin1String("-journal")) <= 0)
        return db;
    // A hot journal shows on the first read: SQLite must roll it back, which a read-only
    // connection cannot.
    defensive(db.get());
    QString ignored;
    if (!sqlite::exec(db.get(), "PRAGMA schema_version", &ignored) &&
        sqlite3_extended_errcode(db.get()) == SQLITE_READONLY_ROLLBACK)
        return recover(QStringLiteral("a write to it was interrupted: its -journal holds "
                                      "changes that must be rolled back before it can be read"));
    return db;
}

bool recoverSession(const QString &path, QString *error)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (regularSize(path) < 0) {
        struct stat st;
        return fail(::lstat(QFile::encodeName(path).constData(), &st) != 0
                        ? QStringLiteral("no such file")
                        : QStringLiteral("not a regular file"));
    }
    const Header header = readHeader(path);
    if (!header.sqlite || !header.ours)
        return fail(kNotOursForWriting);
    QString err;
    // Read-write opens roll a hot journal back and fold a -wal in.
    sqlite::Db db = openForWriting(path, &err);
    if (!db)
        return fail(err);
    if (!sqlite::exec(db.get(), "PRAGMA schema_version", &err))
        return fail(QStringLiteral("cannot roll back the interrupted write: ") + err);
    if (!sqlite::exec(db.get(), "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE",
                      &err)) {
        const int code = sqlite3_errcode(db.get()) & 0xff;
        if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
            return fail(QStringLiteral("in use by another program (a recording still running?); "
                                       "nothing needs recovering while it writes"));
        return fail(QStringLiteral("cannot finish the file: ") + err);
    }
    sqlite::Stmt check = sqlite::prepare(db.get(), "PRAGMA quick_check", &err);
    if (!check)
        return fail(QStringLiteral("cannot check the file: ") + err);
    if (sqlite3_step(check.get()) != SQLITE_ROW)
        return fail(QStringLiteral("cannot check the file: ") + sqlite::lastError(db.get()));
    const QString verdict =
        QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(check.get(), 0)));
    if (verdict != QLatin1String("ok"))
        return fail(QStringLiteral("the interrupted write is undone, but the file is damaged: %1")
                        .arg(verdict.left(200)));
    return true;
}

bool canKeepView(const QString &path, QString *why)
{
    auto fail = [why](const QString &reason) {
        if (why)
            *why = reason;
        return false;
    };
    struct stat st;
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0)
        return fail(QStringLiteral("no such file"));
    if (!S_ISREG(st.st_mode))
        return fail(QStringLiteral("not a regular file"));
    if (st.st_uid != ::geteuid())
        return fail(QStringLiteral("the file belongs to another user; Save As makes a copy of "
                                   "your own"));
    // The owner's write bit too: root may write anything, but a file its owner made
    // read-only stays so.
    if (!(st.st_mode & S_IWUSR) || ::access(QFile::encodeName(path).constData(), W_OK) != 0)
        return fail(QStringLiteral("the file is not writable; Save As makes a writable copy"));
    const Header header = readHeader(path);
    if (!header.sqlite || !header.ours)
        return fail(kNotOursForWriting);
    if (header.wal || QFileInfo::exists(path + QLatin1String("-wal")) ||
        QFileInfo::exists(path + QLatin1String("-journal")))
        return fail(QStringLiteral("the file is being recorded or was not finished; save the "
                                   "view when the recording has stopped (or after tcpscope "
                                   "recover)"));
    return true;
}

bool saveSessionView(const QString &path, const QMap<QString, QString> &view,
                     const QVector<Annotation> &annotations, QString *error)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (!canKeepView(path, error))
        return false;
    for (auto it = view.cbegin(); it != view.cend(); ++it)
        if (it.key().isEmpty() || it.key().size() > 64 || it.value().size() > schema::kMaxViewValue)
            return fail(
                QStringLiteral("view value '%1' is too large to keep").arg(it.key().left(64)));

    if (annotations.size() > Annotation::kMaxPerSession)
        return fail(QStringLiteral("more than %1 annotations").arg(Annotation::kMaxPerSession));
    for (const Annotation &a : annotations)
        if (a.text.isEmpty() || a.text.size() > Annotation::kMaxText ||
            a.author.size() > Annotation::kMaxAuthor || a.connectionId < 0 || a.packetId < 0 ||
            a.startNs < 0 || a.endNs < 0 || a.createdNs < 0)
            return fail(QStringLiteral("an annotation is empty or too long to keep"));
    QString err;
    sqlite::Db db = openForWriting(path, &err);
    if (!db)
        return fail(err);
    if (!sqlite::exec(db.get(), "BEGIN IMMEDIATE", &err))
        return fail(QStringLiteral("the file is in use: ") + err);
    auto rollback = [&](const QString &why) {
        sqlite::exec(db.get(), "ROLLBACK", nullptr);
        return fail(why);
    };
    sqlite::Stmt version = sqlite::prepare(db.get(), "PRAGMA user_version", &err);
    if (!version || sqlite3_step(version.get()) != SQLITE_ROW)
        return rollback(QStringLiteral("cannot read the format version: ") + err);
    const qint64 userVersion = sqlite3_column_int64(version.get(), 0);
    version.reset();
    const schema::Version v = schema::versionFromUserVersion(userVersion);
    if (v.major != schema::kMajor)
        return rollback(QStringLiteral("a view can be kept only in format %1 sessions; this file "
                                       "is format %2 (Save As keeps its format)")
                            .arg(schema::kMajor)
                            .arg(v.major));
    // The connections columns the minors after the file's added (empty for old rows: a
    // connection on host 0, its initial sequence numbers unknown).
    QByteArray addColumns;
    for (const ConnectionColumn &col : connectionColumns())
        if (col.since > userVersion)
            addColumns += QByteArray("ALTER TABLE connections ADD COLUMN ") + col.name + ' ' +
                          col.sqlType + ';';
    if (!sqlite::exec(db.get(), (schema::createMinorTablesSql() + addColumns).constData(), &err) ||
        !sqlite::exec(db.get(), "DELETE FROM view_state", &err))
        return rollback(QStringLiteral("cannot write the view: ") + err);
    sqlite::Stmt insert =
        sqlite::prepare(db.get(), "INSERT INTO view_state(key, value) VALUES(?1, ?2)", &err);
    if (!insert)
        return rollback(QStringLiteral("cannot write the view: ") + err);
    for (auto it = view.cbegin(); it != view.cend(); ++it) {
        sqlite::bindText(insert.get(), 1, it.key());
        sqlite::bindText(insert.get(), 2, it.value());
        if (sqlite3_step(insert.get()) != SQLITE_DONE)
            return rollback(QStringLiteral("cannot write the view: ") +
                            sqlite::lastError(db.get()));
        sqlite3_reset(insert.get());
    }
    insert.reset();
    if (!sqlite::exec(db.get(), "DELETE FROM annotations", &err))
        return rollback(QStringLiteral("cannot write the annotations: ") + err);
    sqlite::Stmt note = sqlite::prepare(
        db.get(),
        "INSERT INTO annotations(connection_id, packet_id, start_ns, end_ns, text, author,"
        " created_ns) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &err);
    if (!note)
        return rollback(QStringLiteral("cannot write the annotations: ") + err);
    for (const Annotation &a : annotations) {
        sqlite3_bind_int64(note.get(), 1, a.connectionId);
        sqlite3_bind_int64(note.get(), 2, a.packetId);
        sqlite3_bind_int64(note.get(), 3, a.startNs);
        sqlite3_bind_int64(note.get(), 4, a.endNs);
        sqlite::bindText(note.get(), 5, a.text);
        sqlite::bindText(note.get(), 6, a.author);
        sqlite3_bind_int64(note.get(), 7, a.createdNs);
        if (sqlite3_step(note.get()) != SQLITE_DONE)
            return rollback(QStringLiteral("cannot write the annotations: ") +
                            sqlite::lastError(db.get()));
        sqlite3_reset(note.get());
    }
    note.reset();
    if (v.minor < schema::kMinor &&
        !sqlite::exec(
            db.get(),
            ("PRAGMA user_version = " + QByteArray::number(schema::kUserVersion)).constData(),
            &err))
        return rollback(QStringLiteral("cannot write the view: ") + err);
    if (!sqlite::exec(db.get(), "COMMIT", &err))
        return rollback(QStringLiteral("cannot write the view (disk full?): ") + err);
    return true;
}

bool saveSessionCopy(const QString &source, const QString &dest, QString *error)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    const QFileInfo src(source);
    if (!src.exists())
        return fail(QStringLiteral("%1: no such file").arg(source));
    if (src.canonicalFilePath() == QFileInfo(dest).canonicalFilePath())
        return fail(QStringLiteral("cannot copy a session onto itself"));

    QString err;
    sqlite::Db in = openSessionReadOnly(source, &err);
    if (!in)
        return fail(QStringLiteral("%1: %2").arg(source, err));
    // Into a temporary file beside dest, renamed over it once complete: a failed copy (a full
    // disk) leaves dest as it was, and dest is never a device, directory or symlink.
    return writeOutputFileNamed(
        dest,
        [&](const QString &temp, QString *why) {
            sqlite::Db out = sqlite::open(temp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, why);
            bool ok = out && copyPages(in.get(), out.get(), why);
            // The copy inherits WAL mode from a file being recorded; a saved file must stand
            // alone.
            if (ok)
                ok = sqlite::exec(out.get(), "PRAGMA journal_mode = DELETE", why);
            out.reset();
            for (const char *suffix : {"-wal", "-shm", "-journal"})
                QFile::remove(temp + QLatin1String(suffix));
            return ok;
        },
        error, kPrivateFileMode);
}

} // namespace tcpscope
