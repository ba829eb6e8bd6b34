// SPDX-License-Identifier: GPL-3.0-or-later
// The expiry step PacketJoiner and KernelJoiner share: both hold groups of records per tuple
// key until they can be joined, and give up on them the same way. One copy so the two
// joiners cannot drift apart in ordering or in how the cap is enforced.
#pragma once

#include <QHash>
#include <QPair>
#include <QVector>

#include <algorithm>

namespace tcpscope {

// Decides (via `decide(key)`) every held group whose hold time has passed (all of them if
// `all`), oldest first so ids stay close to capture order. Then, if `heldCount()` is still
// over `maxHeld`, the oldest remaining groups give up early until it is at most maxHeld / 2.
// Held must have a `firstMonoNs` member. Returns true if the cap had to be enforced.
template <typename Key, typename Held, typename HeldCount, typename Decide>
bool expireHeldGroups(const QHash<Key, Held> &held, quint64 holdNs, quint64 nowMonoNs, bool all,
                      qsizetype maxHeld, HeldCount heldCount, Decide decide)
{
    QVector<QPair<quint64, Key>> due;
    for (auto it = held.cbegin(); it != held.cend(); ++it) {
        if (all || it->firstMonoNs + holdNs <= nowMonoNs)
            due.append({it->firstMonoNs, it.key()});
    }
    std::sort(due.begin(), due.end());
    for (const auto &d : std::as_const(due))
        decide(d.second);
    if (heldCount() <= maxHeld)
        return false;
    // Over the cap: the oldest remaining groups give up early.
    QVector<QPair<quint64, Key>> rest;
    for (auto it = held.cbegin(); it != held.cend(); ++it)
        rest.append({it->firstMonoNs, it.key()});
    std::sort(rest.begin(), rest.end());
    for (const auto &r : std::as_const(rest)) {
        if (heldCount() <= maxHeld / 2)
            break;
        decide(r.second);
    }
    return true;
}

} // namespace tcpscope
