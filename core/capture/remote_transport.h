// SPDX-License-Identifier: GPL-3.0-or-later
// Remote capture over SSH: OpenSSH is the transport. `ssh DEST <remote command>` runs
// `tcpscope-helper --stdio` on the remote host, and the app's end of a socketpair is ssh's stdin
// and stdout, so the rest of the capture path (LiveCapture, the wire protocol) is the same as for
// a local helper. tcpscope has no listener of its own: ssh authenticates, encrypts and decides
// who may log in; the remote helper's own privileges decide who may capture there.
#pragma once

#include "capture/helper_access.h"

#include <QString>
#include <QStringList>
#include <optional>

namespace tcpscope {

// The default remote helper (the Debian package's path), tried before `tcpscope-helper` on
// the remote PATH.
inline constexpr const char *kRemoteHelperPath = "/usr/libexec/tcpscope/tcpscope-helper";

struct RemoteTarget
{
    // Handed to ssh unchanged: host, user@host, ssh://user@host:port, an ssh_config alias.
    QString destination;
    // The helper to run there; empty: kRemoteHelperPath, else tcpscope-helper on the PATH.
    QString helperPath;
};

// POSIX shell single quoting: 'it'\''s'.
QString shellQuote(const QString &word);

// The one argument ssh sends to the remote login shell: a POSIX sh script (run through `sh -c`
// so the login shell may be any shell) that execs the helper with --stdio.
QString remoteHelperCommand(const QString &helperPath);

// The ssh command line for target: the words of $TCPSCOPE_SSH (split like a POSIX shell would:
// quotes and backslashes, no expansion and no shell involved; default "ssh"), then -T (no
// terminal), no X11 or agent forwarding, no port forwardings from the user's configuration,
// keep-alives (a dead connection is noticed within a minute), BatchMode=yes unless interactive (no
// terminal to ask for passwords or host keys), then `--`, the destination and
// remoteHelperCommand(). Program first, resolved on the PATH. nullopt + error when $TCPSCOPE_SSH is
// malformed or its program is not found.
std::optional<QStringList> sshCommand(const RemoteTarget &target, bool interactive, QString *error);

// True when ssh could ask its questions (passphrase, password, unknown host key) on this
// process's controlling terminal: one exists and we are in its foreground process group.
bool terminalForPrompts();

// Why a remote capture could not start, in one line, from what ssh left: its exit status
// (waitpid status; ssh exits 255 for its own errors, else with the remote command's status)
// and the last line of its stderr (ssh's and the remote helper's messages). failure says what
// kind it was (exit codes, GUI wording).
QString remoteStartFailure(const RemoteTarget &target, int waitStatus, const QString &stderrLine,
                           CaptureFailure *failure);

// Why a running remote capture ended without a typed Error from the helper: the connection was
// lost (ssh's status, nullopt while ssh has not exited yet, and its last stderr line say how),
// or the remote helper ended by itself (ssh passed on its exit status).
QString remoteLostText(const RemoteTarget &target, std::optional<int> waitStatus,
                       const QString &stderrLine);

} // namespace tcpscope
