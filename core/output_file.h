// SPDX-License-Identifier: GPL-3.0-or-later
// Where tcpscope may write: the one policy behind `record -o`, `export` (connections, packets,
// charts) and the GUI's Save As and exports. tcpscope often runs as root, so a mistyped or
// planted output path must never reach a device node, a socket, a directory or whatever a
// symbolic link points to:
//   - a path that does not exist is created as a regular file;
//   - an existing regular file (not a symlink) may be replaced;
//   - "-" (stdout) and a FIFO are accepted only for outputs that are streams (OutputUse::Stream);
//   - everything else is refused with one line ("PATH: is a character device; ..."), whatever
//     --force says.
// Documents (exports, session copies) are written to a temporary file in the target's directory
// (created with O_EXCL, never through a symlink) and renamed over the target once complete, so
// a failed write leaves neither half a file nor a damaged old one. A session being recorded is
// written in place instead (createSessionFile), so a killed recorder leaves a readable file.
#pragma once

#include <QIODevice>
#include <QString>

#include <functional>
#include <sys/types.h>

namespace tcpscope {

enum class OutputUse
{
    File,   // a document: a new or a regular file only
    Stream, // written front to back once: also "-" (stdout) or an existing FIFO
};

// True when path may be written for use. False + one line "PATH: why" otherwise.
bool checkOutputPath(const QString &path, OutputUse use, QString *error);

// Writes through write() to path: for a regular path via a temporary file renamed into place
// (the replaced file's permission bits are kept; a new file gets 0666 minus the umask, like any
// created file), for "-" to stdout, for a FIFO (Stream only) straight into it. write() returns
// false + reason on failure; then nothing is renamed and the temporary file is removed.
// False + one line "PATH: why".
bool writeOutputFile(const QString &path, OutputUse use,
                     const std::function<bool(QIODevice &, QString *)> &write, QString *error);

// The permissions of a session file: a capture holds other users' connections and maybe
// payload bytes, so nobody but its owner may read it (SQLite gives the -wal, -shm and -journal
// files the database's mode).
constexpr mode_t kPrivateFileMode = 0600;

// The same for writers that must open a file by name (SQLite): write() gets the path of the
// temporary file, which exists (empty, created here) and must be opened without following
// symlinks. Regular files only. A file that replaces nothing gets newFileMode minus the umask.
bool writeOutputFileNamed(const QString &path,
                          const std::function<bool(const QString &tempPath, QString *)> &write,
                          QString *error, mode_t newFileMode = 0666);

// `record -o PATH`: may a new session replace what is at path? Yes when nothing is there, for
// an empty regular file and for an earlier tcpscope session; any other regular file only with
// force; never anything that is not a regular file. False + one line "PATH: why".
bool checkSessionOutput(const QString &path, bool force, QString *error);

// Creates path as a new, empty regular file for a session written in place: an existing regular
// file at path is replaced (the caller decided that with checkSessionOutput), as are stale
// SQLite companions (-wal, -shm, -journal) that would otherwise be replayed into the new file.
// Anything else at those paths is refused. Created with O_EXCL | O_NOFOLLOW, so a symlink
// planted meanwhile fails instead of being followed, and kPrivateFileMode. False + one line
// "PATH: why".
bool createSessionFile(const QString &path, QString *error);

// Disk space held back for the last words of a session written in place: an unnamed file
// (O_TMPFILE) in the session's directory with blocks allocated to it. When the disk fills up,
// release() gives them back so the capture's final summary (when and why it stopped, what the
// file lacks) can still be committed. The file has no name, so nothing is left behind whatever
// happens to tcpscope. Where the file system cannot make one, nothing is held (held() is false)
// and the summary is written only if space remains.
class SpaceReserve
{
public:
    SpaceReserve() = default;
    // Holds bytes on the file system that holds path (a file; its directory is used).
    SpaceReserve(const QString &path, qint64 bytes);
    ~SpaceReserve();
    SpaceReserve(const SpaceReserve &) = delete;
    SpaceReserve &operator=(const SpaceReserve &) = delete;
    SpaceReserve(SpaceReserve &&other) noexcept;
    SpaceReserve &operator=(SpaceReserve &&other) noexcept;

    bool held() const { return m_fd >= 0; }
    void release();

private:
    int m_fd = -1;
};

} // namespace tcpscope
