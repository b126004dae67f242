/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-pollset.c - libslirp's sockets: polled directly while few, else a lasting epoll set (changes only, reused fd numbers, what nobody wants) */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdgen.h"
#include "pollset.h"
#include "tapout.h"

/*
 * What the loop does with the set: poll what pollset_pollfds() gives,
 * without sleeping, and write each revents back. Return: does any have
 * events?
 */
static int poll_as_caller(struct pollset *ps)
{
    struct pollfd *p;
    size_t n;

    p = pollset_pollfds(ps, &n);
    return n && poll(p, n, 0) > 0;
}

/* a fill of @n fds, each wanted for @events */
static void fill(struct pollset *ps, const int *fds, int n, uint32_t events)
{
    int i;

    pollset_begin(ps);
    for (i = 0; i < n; i++)
        pollset_want(ps, fds[i], events);
    pollset_end(ps);
}

static void bail(const char *what)
{
    printf("Bail out! %s: %s\n", what, strerror(errno));
    _exit(1);
}

/* the epoll set from the first socket on (direct_max 0) */
static void test_epoll(void)
{
    struct pollset ps;
    int a[2], b[2], num;
    uint64_t ctl;
    uint32_t g;
    size_t n;

    if (pollset_init(&ps, 0) < 0 || pipe(a) < 0)
        bail("init");

    /* one fd wanted, nothing to read */
    pollset_begin(&ps);
    TAP_IS_INT(pollset_want(&ps, a[0], EPOLLIN), 0, "registered");
    pollset_end(&ps);
    TAP_OK(pollset_pollfds(&ps, &n)->fd == ps.epfd && n == 1,
           "the caller polls the epoll fd");
    TAP_OK(!poll_as_caller(&ps), "nothing to read: the set is not readable");
    TAP_IS_INT(write(a[1], "x", 1), 1, "data");
    TAP_OK(poll_as_caller(&ps), "the set is readable");
    TAP_IS_INT(pollset_ready(&ps), 1, "one fd ready");
    TAP_IS_INT((int)pollset_revents(&ps, a[0]), EPOLLIN, "its events");
    pollset_consumed(&ps);
    TAP_IS_INT((int)pollset_revents(&ps, a[0]), 0, "consumed: nothing");

    /* the same wish again costs nothing; another one a change */
    ctl = ps.stats.ctl;
    fill(&ps, &a[0], 1, EPOLLIN);
    TAP_IS_INT((int)(ps.stats.ctl - ctl), 0, "same events: no epoll_ctl()");
    fill(&ps, &a[0], 1, EPOLLIN | EPOLLPRI);
    TAP_IS_INT((int)(ps.stats.ctl - ctl), 1, "other events: one epoll_ctl()");

    /* the number closed and taken by a new file: polled all the same */
    num = a[0];
    g = fdgen_get(num);
    close(a[0]);
    close(a[1]);
    TAP_OK(fdgen_get(num) != g, "close() moved the number's generation on");
    if (pipe(b) < 0 || b[0] != num)
        bail("the pipe did not get the fd number back");
    fill(&ps, &b[0], 1, EPOLLIN | EPOLLPRI);
    TAP_IS_INT(write(b[1], "y", 1), 1, "data on the new file");
    TAP_OK(poll_as_caller(&ps),
           "the new file under the old number is in the set");
    TAP_IS_INT(pollset_ready(&ps), 1, "and reported");
    TAP_IS_INT((int)pollset_revents(&ps, b[0]), EPOLLIN, "with its events");
    pollset_consumed(&ps);

    /* a fill that does not want it: its next event drops it */
    fill(&ps, NULL, 0, 0);
    TAP_OK(!ps.direct, "an empty fill stays with the set (direct_max 0)");
    TAP_IS_INT(pollset_ready(&ps), 0, "an unwanted fd is not ready");
    TAP_IS_INT((int)ps.stats.dropped, 1, "it left the set");
    TAP_OK(!poll_as_caller(&ps), "so it wakes nobody any more");
    fill(&ps, &b[0], 1, EPOLLIN);
    TAP_OK(poll_as_caller(&ps) && pollset_ready(&ps) == 1,
           "wanted again: registered again, and ready");

    close(b[0]);
    close(b[1]);
    pollset_fini(&ps);
}

/* direct while a fill has at most 4 sockets; to the set and back */
static void test_direct(void)
{
    struct pollset ps;
    int p[5][2], rd[5], i, num;
    struct pollfd *pf;
    uint64_t ctl;
    size_t n;

    if (pollset_init(&ps, 4) < 0)
        bail("init");
    for (i = 0; i < 5; i++) {
        if (pipe(p[i]) < 0)
            bail("pipe");
        rd[i] = p[i][0];
    }

    /* two sockets: the caller polls them, no epoll at all */
    fill(&ps, rd, 2, EPOLLIN);
    pf = pollset_pollfds(&ps, &n);
    TAP_OK(n == 2 && pf[0].fd == rd[0] && pf[1].fd == rd[1] &&
           pf[0].events == POLLIN, "direct: the caller polls the sockets");
    TAP_OK(ps.epfd < 0 && ps.stats.ctl == 0,
           "no epoll fd, no epoll_ctl()");
    TAP_OK(!poll_as_caller(&ps), "nothing to read");
    TAP_IS_INT(write(p[1][1], "x", 1), 1, "data on the second");
    TAP_OK(poll_as_caller(&ps), "the caller's poll() sees it");
    TAP_IS_INT(pollset_ready(&ps), 1, "one fd ready");
    TAP_OK(pollset_revents(&ps, rd[1]) == EPOLLIN &&
           pollset_revents(&ps, rd[0]) == 0, "its events, and none for the other");
    pollset_consumed(&ps);
    TAP_IS_INT((int)pollset_revents(&ps, rd[1]), 0, "consumed: nothing");
    TAP_OK(poll_as_caller(&ps) && pollset_ready(&ps) == 1,
           "level-triggered: not read, so reported again");
    pollset_consumed(&ps);

    /* five: over the limit, into the set */
    fill(&ps, rd, 5, EPOLLIN);
    pf = pollset_pollfds(&ps, &n);
    TAP_OK(!ps.direct && n == 1 && pf[0].fd == ps.epfd && ps.epfd >= 0,
           "five sockets: the caller polls the epoll fd");
    TAP_IS_INT((int)ps.stats.ctl, 5, "each registered once");
    TAP_OK(poll_as_caller(&ps) && pollset_ready(&ps) == 1 &&
           pollset_revents(&ps, rd[1]) == EPOLLIN,
           "the unread data is reported through the set");
    pollset_consumed(&ps);

    /* two (not fewer than half of 4): stays; one: back to direct */
    fill(&ps, rd, 2, EPOLLIN);
    TAP_OK(!ps.direct, "two sockets: still the set (no flapping)");
    fill(&ps, rd, 1, EPOLLIN);
    pf = pollset_pollfds(&ps, &n);
    TAP_OK(ps.direct && n == 1 && pf[0].fd == rd[0], "one: direct again");

    /* while direct, a registered number is closed and reused */
    num = rd[4];
    close(p[4][0]);
    close(p[4][1]);
    if (pipe(p[4]) < 0 || p[4][0] != num)
        bail("the pipe did not get the fd number back");
    TAP_IS_INT(write(p[4][1], "z", 1), 1, "data on the new file");
    ctl = ps.stats.ctl;
    fill(&ps, rd, 5, EPOLLIN);
    TAP_IS_INT((int)(ps.stats.ctl - ctl), 1,
               "back to the set: one epoll_ctl(), for the new file only");
    TAP_OK(poll_as_caller(&ps) && pollset_ready(&ps) == 2 &&
           pollset_revents(&ps, rd[4]) == EPOLLIN,
           "the new file's data is reported");
    pollset_consumed(&ps);
    TAP_IS_INT((int)ps.stats.to_epoll, 2, "moved to the set twice");
    TAP_IS_INT((int)ps.stats.to_direct, 1, "and back once");

    for (i = 0; i < 5; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    pollset_fini(&ps);
}

int main(void)
{
    tap_plan(39);
    test_epoll();
    test_direct();
    return tap_done();
}
