/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdlimit.h - out of file descriptors: libslirp's failed accept() and socket() calls seen, its listeners rested */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* a libslirp listener whose accept() ran out of fds rests this long */
#define FDLIMIT_PAUSE_MS 100
/* listeners rested at once; more are not rested (but still logged) */
#define FDLIMIT_PAUSED_MAX 64
/* a new episode is logged only after this long without a failure */
#define FDLIMIT_QUIET_MS 10000

struct fdlimit_stats {
    uint64_t accept_failed;     /* accept() calls out of fds (or memory) */
    uint64_t socket_failed;     /* socket() calls out of fds (or memory) */
    uint64_t paused;            /* listener rests */
};

bool fdlimit_paused(int fd, int64_t now_ms);
int64_t fdlimit_next_resume(int64_t now_ms);
bool fdlimit_take_change(void);
int fdlimit_take_episode(void);
void fdlimit_get_stats(struct fdlimit_stats *ret);
