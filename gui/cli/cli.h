// SPDX-License-Identifier: GPL-3.0-or-later
// Headless command line: `tcpscope record|info|export|help`. No display needed.
#pragma once

namespace tcpscope::cli {

// True when argv names a subcommand (or --help/--version), i.e. main() must not start the GUI.
bool isCliInvocation(int argc, char **argv);
// Runs the subcommand and returns the process exit code (0 ok, 1 runtime failure,
// 2 bad input/usage: missing/corrupt/wrong-schema file, unknown option).
int run(int argc, char **argv);

} // namespace tcpscope::cli
