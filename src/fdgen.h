/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdgen.h - a generation per fd number, moved on by every close(): a reused number told from the file it held */
#pragma once

#include <stdint.h>

/* fd numbers with a generation; a larger one has none (fdgen_get(): 0) */
#define FDGEN_MAX (1u << 20)

uint32_t fdgen_get(int fd);
int fdgen_known(int fd);
