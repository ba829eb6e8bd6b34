// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <initializer_list>
#include <string>

namespace tcpscope::helper {

// True when we are root or hold CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN as effective caps.
bool hasRequiredPrivileges();
// What is missing when hasRequiredPrivileges() is false (an Error's primary text), how to grant
// it (its secondary text), and the two as the one line printed on stderr.
inline constexpr const char *kPrivilegesNeeded =
    "needs root or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN";
std::string privilegesAdvice(const char *argv0);
std::string privilegesMessage(const char *argv0);
// SO_PEERCRED: only root or the user who started us (real uid) may drive the helper.
bool peerAllowed(int fd, std::string &why);

// Capability numbers (linux/capability.h; older headers lack the 5.8 ones, the numbers are ABI).
inline constexpr int kCapNetAdmin = 12;
inline constexpr int kCapSysPtrace = 19;
inline constexpr int kCapPerfmon = 38;
inline constexpr int kCapBpf = 39;

// Removes cap from the effective, permitted and inheritable sets for good (raw capset: the
// helper links nothing but libc and libbpf). True when it is gone (also if it was never held).
bool dropCapability(int cap, std::string &why);
// Reduces effective and permitted to the given capabilities (those of them still held),
// clears inheritable and ambient, sets no_new_privs and makes the process non-dumpable.
// The sets can never grow again afterwards; capabilities not held are not added.
bool keepOnlyCapabilities(std::initializer_list<int> caps, std::string &why);
// The effective set as a 64-bit mask (bit n = capability n), for notes and tests.
unsigned long long effectiveCapabilities();

} // namespace tcpscope::helper
