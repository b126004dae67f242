/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loop.c - the one poll loop: typed fds, libslirp's sockets and timers */
/*
 * DOC: Theory of Operation
 *
 * One thread, one poll() per iteration. The poll set is rebuilt every
 * iteration in which libslirp ran, because libslirp only exposes its
 * sockets through slirp_pollfds_fill(), which enumerates all of them each
 * time:
 *
 *   1. the persistent entries (tap, exit fd, signalfd, API listener and
 *      connections, the splice engine's epoll fd), each with a type tag,
 *      are copied into the array;
 *   2. the API layer lowers the timeout to its nearest client deadline;
 *   3. stack_fill() runs due libslirp timers and appends libslirp's sockets
 *      ("transient" entries) through slirp_pollfds_fill(); if libslirp has
 *      not run since the last fill (only the splice engine was served) and
 *      the persistent entries kept their number, the last fill's entries
 *      are still in place and are kept without the walk;
 *   4. poll(), after polling without sleeping for busypoll.c's adaptive
 *      window (--busy-poll);
 *   5. persistent entries are dispatched by type (one switch): the tap is
 *      drained up to a budget of frames into slirp_input(); any type but
 *      LOOP_REACTOR marks libslirp as touched (stack_touch());
 *   6. slirp_pollfds_poll(..., 0, ...) services libslirp's sockets, but
 *      only when one of them has an event, one of its timers is due, or a
 *      non-TCP frame (ARP/NDP may release queued output) came in: without
 *      those the second walk over its socket list finds nothing to do;
 *   7. stack_reap() ends the TIME_WAIT of flows whose close completed
 *      (timewait.c), when there are any;
 *   8. slots removed during dispatch are compacted.
 *
 * Handlers may add and remove entries while dispatching: removal only marks
 * the slot LOOP_REMOVED; additions are appended and first polled next time.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api.h"
#include "busypoll.h"
#include "dispatch.h"
#include "log.h"
#include "loop.h"
#include "splice.h"
#include "stack.h"

#define LOOP_TAP_BUDGET 256

/**
 * loop_init() - an empty loop driving @st
 * @l:		the loop
 * @st:		the libslirp stack whose sockets are polled every iteration
 * @busy_us:	the longest busy-poll window (--busy-poll; 0: none)
 *
 * Return: 0
 */
int loop_init(struct loop *l, struct stack *st, unsigned int busy_us)
{
    memset(l, 0, sizeof(*l));
    l->stack = st;
    l->tap_budget = LOOP_TAP_BUDGET;
    busypoll_init(&l->busy, busy_us);
    return 0;
}

void loop_free(struct loop *l)
{
    free(l->ent);
    free(l->pfd);
    memset(l, 0, sizeof(*l));
}

static int loop_grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 16;
    void *q;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    q = realloc(*p, n * size);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

/**
 * loop_add() - register a persistent fd
 * @l:		the loop
 * @fd:		the fd (not owned)
 * @events:	poll events
 * @type:	what it is: selects the handler
 * @data:	handler's object
 *
 * Return: 0 or -ENOMEM
 */
int loop_add(struct loop *l, int fd, short events, enum loop_type type,
             void *data)
{
    int r = loop_grow((void **)&l->ent, &l->cap_ent, l->n_ent + 1,
                      sizeof(*l->ent));

    if (r < 0)
        return r;
    l->ent[l->n_ent++] = (struct loop_entry){
        .fd = fd, .events = events, .type = type, .data = data,
    };
    return 0;
}

/**
 * loop_set_events() - change the events polled for a persistent fd
 * @l:		the loop
 * @fd:		a registered fd
 * @events:	new poll events
 *
 * Return: 0 or -ENOENT
 */
int loop_set_events(struct loop *l, int fd, short events)
{
    size_t i;

    for (i = 0; i < l->n_ent; i++) {
        if (l->ent[i].fd == fd && l->ent[i].type != LOOP_REMOVED) {
            l->ent[i].events = events;
            return 0;
        }
    }
    return -ENOENT;
}

/**
 * loop_remove() - unregister a persistent fd (safe while dispatching)
 * @l:	the loop
 * @fd:	a registered fd
 */
void loop_remove(struct loop *l, int fd)
{
    size_t i;

    for (i = 0; i < l->n_ent; i++) {
        if (l->ent[i].fd == fd && l->ent[i].type != LOOP_REMOVED) {
            l->ent[i].type = LOOP_REMOVED;
            l->ent[i].fd = -1;
            return;
        }
    }
}

/**
 * loop_add_transient() - poll @fd in this iteration only (libslirp's)
 * @l:		the loop
 * @fd:		the fd
 * @events:	poll events
 *
 * Return: index for loop_transient_revents(), or -1 if out of memory (the
 *	   fd is then not polled this time)
 */
int loop_add_transient(struct loop *l, int fd, short events)
{
    if (loop_grow((void **)&l->pfd, &l->cap_pfd, l->n_pfd + 1,
                  sizeof(*l->pfd)) < 0)
        return -1;
    l->pfd[l->n_pfd] = (struct pollfd){ .fd = fd, .events = events };
    return (int)l->n_pfd++;
}

short loop_transient_revents(const struct loop *l, int idx)
{
    if (idx < 0 || (size_t)idx >= l->n_pfd)
        return 0;
    return l->pfd[idx].revents;
}

/**
 * loop_quit() - leave loop_run() after this iteration
 * @l:		the loop
 * @status:	exit status for the process
 */
void loop_quit(struct loop *l, int status)
{
    if (!l->quit)
        l->exit_status = status;
    l->quit = true;
}

static void loop_on_signal(struct loop *l, int fd)
{
    struct signalfd_siginfo si;

    if (read(fd, &si, sizeof(si)) != sizeof(si))
        return;
    info("received signal %s, exiting", strsignal((int)si.ssi_signo));
    loop_quit(l, 0);
}

static void loop_on_tap(struct loop *l, short revents)
{
    int r = stack_tap_read(l->stack, l->tap_budget);

    if (r >= 0)
        return;
    if (r == -EBADFD || r == -EIO || r == -ENXIO) {
        /* the namespace (and with it the tap) is gone: nothing left to do */
        info("the tap device is gone (%s), exiting", strerror(-r));
        loop_quit(l, 0);
        return;
    }
    log_errno(r, "reading from the tap device failed");
    loop_quit(l, 1);
}

static void loop_dispatch(struct loop *l, size_t i, short revents)
{
    struct loop_entry e = l->ent[i];

    /* only the splice engine is known never to call into libslirp */
    if (e.type != LOOP_REACTOR)
        stack_touch(l->stack);
    switch (e.type) {
    case LOOP_REMOVED:
        break;
    case LOOP_TAP:
        loop_on_tap(l, revents);
        break;
    case LOOP_EXIT_FD:
        info("exitfd event");
        loop_quit(l, 0);
        break;
    case LOOP_SIGNAL:
        loop_on_signal(l, e.fd);
        break;
    case LOOP_EXIT_PID:
        info("the process of --exit-with-pid exited");
        loop_quit(l, 0);
        break;
    case LOOP_API_LISTEN:
        api_on_listen(e.data, l);
        break;
    case LOOP_API_CONN:
        api_on_conn(e.data, l, e.fd, revents);
        break;
    case LOOP_REACTOR:
        dispatch_reactor(e.data);
        break;
    case LOOP_TYPE_COUNT:
        break;
    }
}

static void loop_compact(struct loop *l)
{
    size_t i, j = 0;

    for (i = 0; i < l->n_ent; i++) {
        if (l->ent[i].type != LOOP_REMOVED)
            l->ent[j++] = l->ent[i];
    }
    l->n_ent = j;
}

/*
 * loop_wait() - poll(), after polling without sleeping for the adaptive
 * window of busypoll.c: an event that comes within it is taken without a
 * wake-up from sleep
 */
static int loop_wait(struct loop *l, int timeout)
{
    const struct stack_stats *s;
    unsigned int win;
    int64_t start, now;
    uint64_t bytes;
    int n;

    if (!l->busy.max_us)
        return poll(l->pfd, l->n_pfd, timeout);
    if (timeout == 0)
        return poll(l->pfd, l->n_pfd, 0);
    s = stack_get_stats(l->stack);
    bytes = s->rx_bytes + s->tx_bytes + (l->splice ? splice_bytes(l->splice) : 0);
    win = busypoll_window(&l->busy, timeout, bytes - l->bytes_seen);
    l->bytes_seen = bytes;
    start = now = busypoll_now_us();
    while (now - start < (int64_t)win) {
        n = poll(l->pfd, l->n_pfd, 0);
        now = busypoll_now_us();
        if (n != 0) {
            busypoll_hit(&l->busy, now - start);
            return n;
        }
        sched_yield();
    }
    n = poll(l->pfd, l->n_pfd, timeout);
    busypoll_slept(&l->busy, now - start, busypoll_now_us() - start);
    return n;
}

/**
 * loop_run() - poll and dispatch until loop_quit()
 * @l:	the loop
 *
 * Return: the status given to loop_quit(), or a negative errno if poll()
 *	   itself failed
 */
int loop_run(struct loop *l)
{
    while (!l->quit) {
        int timeout = -1, n;
        size_t i;

        if (loop_grow((void **)&l->pfd, &l->cap_pfd, l->n_ent,
                      sizeof(*l->pfd)) < 0)
            return -ENOMEM;
        for (i = 0; i < l->n_ent; i++)
            l->pfd[i] = (struct pollfd){ .fd = l->ent[i].fd,
                                         .events = l->ent[i].events };
        l->n_pfd = l->n_persist = l->n_ent;

        if (l->api)
            api_timeout(l->api, &timeout);
        stack_fill(l->stack, l, &timeout);

        n = loop_wait(l, timeout);
        if (n < 0 && errno != EINTR)
            return -errno;

        if (n > 0) {
            for (i = 0; i < l->n_persist && !l->quit; i++) {
                if (l->pfd[i].revents && l->ent[i].fd == l->pfd[i].fd)
                    loop_dispatch(l, i, l->pfd[i].revents);
            }
        }
        if (l->api)
            api_expire(l->api, l);
        if (!l->quit) {
            stack_poll(l->stack, l, n < 0);
            stack_reap(l->stack);
        }
        stack_flush(l->stack);
        loop_compact(l);
    }
    return l->exit_status;
}
