/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-pollset.c - libslirp's sockets in a lasting epoll set: changes only, reused fd numbers, what nobody wants */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdgen.h"
#include "pollset.h"
#include "tapout.h"

/* is the set's fd readable right now? */
static int readable(struct pollset *ps)
{
    struct pollfd p = { .fd = pollset_fd(ps), .events = POLLIN };

    return poll(&p, 1, 0) == 1;
}

int main(void)
{
    struct pollset ps;
    int a[2], b[2], num;
    uint64_t ctl;
    uint32_t g;

    tap_plan(18);
    if (pollset_init(&ps) < 0 || pipe(a) < 0) {
        printf("Bail out! %s\n", strerror(errno));
        return 1;
    }

    /* one fd wanted, nothing to read */
    pollset_begin(&ps);
    TAP_IS_INT(pollset_want(&ps, a[0], EPOLLIN), 0, "registered");
    TAP_OK(!readable(&ps), "nothing to read: the set is not readable");
    TAP_IS_INT(write(a[1], "x", 1), 1, "data");
    TAP_OK(readable(&ps), "the set is readable");
    TAP_IS_INT(pollset_wait(&ps), 1, "one fd ready");
    TAP_IS_INT((int)pollset_revents(&ps, a[0]), EPOLLIN, "its events");
    pollset_consumed(&ps);
    TAP_IS_INT((int)pollset_revents(&ps, a[0]), 0, "consumed: nothing");

    /* the same wish again costs nothing; another one a change */
    ctl = ps.stats.ctl;
    pollset_begin(&ps);
    pollset_want(&ps, a[0], EPOLLIN);
    TAP_IS_INT((int)(ps.stats.ctl - ctl), 0, "same events: no epoll_ctl()");
    pollset_begin(&ps);
    pollset_want(&ps, a[0], EPOLLIN | EPOLLPRI);
    TAP_IS_INT((int)(ps.stats.ctl - ctl), 1, "other events: one epoll_ctl()");

    /* the number closed and taken by a new file: polled all the same */
    num = a[0];
    g = fdgen_get(num);
    close(a[0]);
    close(a[1]);
    TAP_OK(fdgen_get(num) != g, "close() moved the number's generation on");
    if (pipe(b) < 0 || b[0] != num) {
        printf("Bail out! the pipe did not get fd %d back\n", num);
        return 1;
    }
    pollset_begin(&ps);
    pollset_want(&ps, b[0], EPOLLIN | EPOLLPRI);
    TAP_IS_INT(write(b[1], "y", 1), 1, "data on the new file");
    TAP_OK(readable(&ps), "the new file under the old number is in the set");
    TAP_IS_INT(pollset_wait(&ps), 1, "and reported");
    TAP_IS_INT((int)pollset_revents(&ps, b[0]), EPOLLIN, "with its events");
    pollset_consumed(&ps);

    /* a fill that does not want it: its next event drops it */
    pollset_begin(&ps);
    ctl = ps.stats.ctl;
    TAP_IS_INT(pollset_wait(&ps), 0, "an unwanted fd is not ready");
    TAP_IS_INT((int)ps.stats.dropped, 1, "it left the set");
    TAP_OK(!readable(&ps), "so it wakes nobody any more");
    pollset_begin(&ps);
    pollset_want(&ps, b[0], EPOLLIN);
    TAP_OK(readable(&ps) && pollset_wait(&ps) == 1,
           "wanted again: registered again, and ready");

    close(b[0]);
    close(b[1]);
    pollset_fini(&ps);
    return tap_done();
}
