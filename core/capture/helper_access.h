// SPDX-License-Identifier: GPL-3.0-or-later
// Where the app finds tcpscope-helper and why it may not run it. An installed tcpscope uses the
// helper in its libexec directory (root:tcpscope 0750 with file capabilities, so only members
// of the tcpscope group can execute it); a build tree uses the helper next to the binary.
#pragma once

#include <QString>

namespace tcpscope {

// The helper's exit codes the app tells apart (bpf/helper/options.h defines them for the helper).
inline constexpr int kHelperExitUnavailable = 69;  // EX_UNAVAILABLE: BPF could not be loaded
inline constexpr int kHelperExitNoPermission = 77; // EX_NOPERM: no root, no capabilities

// Why a capture could not start, for exit codes and the GUI's wording.
enum class CaptureFailure
{
    None,
    Other,      // anything else (file, protocol, helper crash, ...)
    Permission, // not allowed to run the helper, or the helper lacks its privileges
    Kernel,     // the kernel lacks what the helper needs (e.g. no BTF)
    BadFilter   // the capture filter names what the capturing host does not have (a pid, a path)
};

// $TCPSCOPE_HELPER when set. Else, for an app running from its install directory (bindir of
// the build's install prefix), the compile-time libexec path; for any other location (a build
// tree) the tcpscope-helper next to the executable when it exists, else the libexec path.
// appDir: the directory of the running executable.
QString resolveHelperPath(const QString &appDir);

// The installed helper's path (compile-time, from GNUInstallDirs).
QString installedHelperPath();

// One sentence saying what to do when the current process may not execute the helper at path
// because of its group (e.g. "not in the group tcpscope: ..."); empty when it may, or when the
// helper is missing (the caller reports that) or the reason is not a group permission.
QString helperPermissionProblem(const QString &path);

// Non-empty when this process runs as root (real or effective uid 0): one sentence saying that
// the app does not need root and how to capture without it. Shown by the GUI and the CLI.
QString runningAsRootWarning();

} // namespace tcpscope
