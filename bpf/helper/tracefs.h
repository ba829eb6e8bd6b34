// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>

namespace tcpscope::helper {

// Makes tracefs reachable for the classic-tracepoint fallback. If it is not mounted, the helper
// moves into a private mount namespace (propagation: slave) and mounts it there: nobody else
// sees the mount, and it vanishes with the helper even after SIGKILL. The destructor still
// unmounts it explicitly.
class Tracefs
{
public:
    Tracefs() = default;
    Tracefs(const Tracefs &) = delete;
    Tracefs &operator=(const Tracefs &) = delete;
    ~Tracefs();

    // Returns false with a reason if tracefs is absent and cannot be mounted. note() describes
    // what was done ("already mounted" / "mounted privately ...").
    bool ensure(std::string &error);
    const std::string &note() const { return m_note; }

private:
    bool m_mounted = false;
    std::string m_note;
};

} // namespace tcpscope::helper
