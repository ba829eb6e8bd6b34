// SPDX-License-Identifier: GPL-3.0-or-later
// Placeholder: implemented by issue 3's owner of this file.
