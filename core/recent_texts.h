// SPDX-License-Identifier: GPL-3.0-or-later
// The texts last made from short fixed-size keys (a task's comm, an address): records repeat
// the same few (the same process, loopback, one busy peer), and a hit shares the string made
// before instead of formatting and allocating another.
#pragma once

#include <QHashFunctions>
#include <QString>

#include <array>
#include <cstddef>
#include <cstring>

namespace tcpscope {

template <std::size_t KeyBytes, std::size_t Slots = 64> class RecentTexts
{
public:
    using Key = std::array<char, KeyBytes>;

    // The text for key: the one kept when key was seen last in its slot, else make()'s.
    template <typename Make> const QString &text(const Key &key, Make make)
    {
        Slot &s = m_slots[qHashBits(key.data(), KeyBytes) % Slots];
        if (!s.used || s.key != key) {
            s.key = key;
            s.text = make();
            s.used = true;
        }
        return s.text;
    }

private:
    struct Slot
    {
        Key key{};
        bool used = false;
        QString text;
    };
    std::array<Slot, Slots> m_slots{};
};

} // namespace tcpscope
