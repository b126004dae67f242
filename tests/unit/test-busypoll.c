/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-busypoll.c - the adaptive busy-poll window: growth, shrinking, bulk, limits */
#include <stdint.h>

#include "busypoll.h"
#include "tapout.h"

int main(void)
{
    struct busypoll bp;
    int i;

    tap_plan(20);

    busypoll_init(&bp, 50);
    TAP_IS_INT(bp.max_us, 50, "the limit is kept");
    TAP_IS_INT(busypoll_window(&bp, -1, 0), 0, "the window starts closed");

    /* wake-ups that come soon after the wait began open it, doubling */
    busypoll_slept(&bp, 0, 20);
    TAP_IS_INT(bp.win_us, BUSYPOLL_START_US, "a wake-up within the limit opens the window");
    busypoll_slept(&bp, 10, 30);
    TAP_IS_INT(bp.win_us, 2 * BUSYPOLL_START_US, "another doubles it");
    for (i = 0; i < 10; i++)
        busypoll_slept(&bp, bp.win_us, 40);
    TAP_IS_INT(bp.win_us, 50, "it never grows past the limit");
    TAP_IS_INT(bp.misses, 11, "windows that ended in a sleep are counted");

    /* a hit leaves it as it is */
    busypoll_hit(&bp, 7);
    TAP_IS_INT(bp.win_us, 50, "an event found while polling keeps the window");
    TAP_IS_INT(bp.hits, 1, "hits are counted");

    /* the loop's timeout and bulk transfer bound or skip it */
    TAP_IS_INT(busypoll_window(&bp, -1, 100), 50, "small exchanges get the window");
    TAP_IS_INT(busypoll_window(&bp, 0, 0), 0, "no window when the loop must not wait");
    TAP_IS_INT(busypoll_window(&bp, -1, BUSYPOLL_BULK_BYTES + 1), 0,
               "no window after an iteration of bulk transfer");
    TAP_IS_INT(busypoll_window(&bp, -1, BUSYPOLL_BULK_BYTES), 50,
               "the bulk threshold itself still polls");
    bp.win_us = 3000;   /* as with --busy-poll=10000 */
    TAP_IS_INT(busypoll_window(&bp, 2, 0), 2000, "never longer than a due timer");
    bp.win_us = 50;

    /* long sleeps close it: halving, then 0 below the start */
    busypoll_slept(&bp, 50, 500000);
    TAP_IS_INT(bp.win_us, 25, "a long sleep halves it");
    busypoll_slept(&bp, 25, 500000);
    busypoll_slept(&bp, 12, 500000);
    TAP_IS_INT(bp.win_us, 0, "a few long sleeps close it");
    busypoll_slept(&bp, 0, 500000);
    TAP_IS_INT(bp.win_us, 0, "a closed window stays closed while idle");
    /* 10 + (20 + 40 + 8 * 50) in the loop + 7 + 50 + 25 + 12 */
    TAP_IS_INT(bp.spun_us, 564, "time spent polling is summed");

    /* 0 turns it off; the limit is capped */
    busypoll_init(&bp, 0);
    busypoll_slept(&bp, 0, 5);
    TAP_IS_INT(busypoll_window(&bp, -1, 0), 0, "--busy-poll=0 never opens a window");
    busypoll_init(&bp, BUSYPOLL_MAX_US * 2);
    TAP_IS_INT(bp.max_us, BUSYPOLL_MAX_US, "the limit is capped");
    busypoll_init(&bp, 5);
    busypoll_slept(&bp, 0, 3);
    TAP_IS_INT(bp.win_us, 5, "a limit below the start opens to the limit");
    return tap_done();
}
