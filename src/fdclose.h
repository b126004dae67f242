/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdclose.h - close every file descriptor but a few */
#pragma once

#include <stddef.h>

int fdclose_except(int *keep, size_t n);
