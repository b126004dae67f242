/* SPDX-License-Identifier: GPL-2.0-or-later */
/* busypoll.h - adaptive busy polling: how long the loop polls before it sleeps */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* --busy-poll default and limit, microseconds */
#define BUSYPOLL_DEFAULT_US 50
#define BUSYPOLL_MAX_US 10000
/* an iteration that moved more is bulk transfer: no polling after it */
#define BUSYPOLL_BULK_BYTES 4096
/* the first window after a wake-up that came soon enough */
#define BUSYPOLL_START_US 10

struct busypoll {
    unsigned int max_us;        /* --busy-poll: 0 never polls without sleeping */
    unsigned int win_us;        /* the window now: 0 .. max_us */
    uint64_t hits;              /* polls that found an event in the window */
    uint64_t misses;            /* windows that ended in a sleep */
    uint64_t spun_us;           /* time spent polling without sleeping */
};

void busypoll_init(struct busypoll *bp, unsigned int max_us);
unsigned int busypoll_window(const struct busypoll *bp, int timeout_ms,
                             uint64_t bytes);
void busypoll_hit(struct busypoll *bp, int64_t spun_us);
void busypoll_slept(struct busypoll *bp, int64_t spun_us, int64_t waited_us);
int64_t busypoll_now_us(void);
