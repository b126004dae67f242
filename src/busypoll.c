/* SPDX-License-Identifier: GPL-2.0-or-later */
/* busypoll.c - adaptive busy polling: how long the loop polls before it sleeps */
/*
 * DOC: Theory of Operation
 *
 * A round trip through slirpd wakes the daemon twice (the request, the
 * answer). Each wake-up from a sleeping poll() costs the scheduler's
 * wake-up path, and on a virtual machine an inter-processor interrupt and
 * the exit of an idle vCPU: measured here, tens of microseconds per round
 * trip, the largest single cost of a 1-byte exchange. So after it has
 * dispatched events, the loop first polls without sleeping (timeout 0,
 * yielding the CPU between polls to anything else runnable on it) for a
 * short window, and sleeps only when the window passes with nothing to do.
 *
 * The window adapts, as KVM's halt polling does, so that an idle or
 * sparsely used daemon does not spin:
 *
 *   - it starts at 0 (no polling without sleeping);
 *   - a sleep that ended within the limit (--busy-poll) after the wait
 *     began means a longer window would have caught the event: the window
 *     grows (BUSYPOLL_START_US, then doubling, up to the limit);
 *   - a sleep that lasted longer than the limit means polling would not
 *     have helped: the window halves, and drops to 0 below the start;
 *   - an event found while polling leaves the window as it is.
 *
 * Not after bulk transfer: an iteration that moved more than
 * BUSYPOLL_BULK_BYTES (tap frames both ways, spliced bytes) is followed by
 * a plain sleep. There, sleeping lets work pile up so that the next
 * wake-up handles more of it at once, and a poller would take the CPU
 * from the very processes that produce and consume the stream (measured:
 * polling after every iteration cost 7-10% of bulk throughput on 2 cores
 * and raised CPU per byte; the round trip of small exchanges gains the
 * same with or without bulk iterations polling).
 *
 * Polling is never longer than the loop's own timeout (a due timer), and
 * --busy-poll=0 turns it off (the loop then always sleeps in poll()).
 */
#include <time.h>

#include "busypoll.h"

/**
 * busypoll_init() - a window that starts closed
 * @bp:		the state
 * @max_us:	the limit (--busy-poll), 0 to never poll without sleeping
 */
void busypoll_init(struct busypoll *bp, unsigned int max_us)
{
    *bp = (struct busypoll){
        .max_us = max_us > BUSYPOLL_MAX_US ? BUSYPOLL_MAX_US : max_us,
    };
}

/**
 * busypoll_now_us() - a monotonic clock for the window, in microseconds
 *
 * Return: microseconds since an arbitrary start
 */
int64_t busypoll_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/**
 * busypoll_window() - how long to poll without sleeping before this wait
 * @bp:		the state
 * @timeout_ms:	the loop's poll timeout (-1: none, 0: do not wait at all)
 * @bytes:	bytes the iterations since the last wait moved
 *
 * Return: microseconds, 0 for none
 */
unsigned int busypoll_window(const struct busypoll *bp, int timeout_ms,
                             uint64_t bytes)
{
    unsigned int w = bp->win_us;

    if (timeout_ms == 0 || bytes > BUSYPOLL_BULK_BYTES)
        return 0;
    if (timeout_ms > 0 && (int64_t)timeout_ms * 1000 < w)
        w = (unsigned int)timeout_ms * 1000;
    return w;
}

/**
 * busypoll_hit() - an event was found while polling without sleeping
 * @bp:		the state
 * @spun_us:	how long the polling took
 */
void busypoll_hit(struct busypoll *bp, int64_t spun_us)
{
    bp->hits++;
    bp->spun_us += (uint64_t)(spun_us > 0 ? spun_us : 0);
}

/**
 * busypoll_slept() - the wait ended in a sleeping poll(): adapt the window
 * @bp:		the state
 * @spun_us:	how long the loop polled before it slept (0: no window)
 * @waited_us:	from the start of the wait to its end, polling included
 */
void busypoll_slept(struct busypoll *bp, int64_t spun_us, int64_t waited_us)
{
    if (!bp->max_us)
        return;
    if (spun_us > 0) {
        bp->misses++;
        bp->spun_us += (uint64_t)spun_us;
    }
    if (waited_us <= (int64_t)bp->max_us) {
        unsigned int w = bp->win_us ? bp->win_us * 2 : BUSYPOLL_START_US;

        bp->win_us = w > bp->max_us ? bp->max_us : w;
    } else if (bp->win_us) {
        bp->win_us /= 2;
        if (bp->win_us < BUSYPOLL_START_US)
            bp->win_us = 0;
    }
}
