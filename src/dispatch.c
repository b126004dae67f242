/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dispatch.c - the switches from an event to its handler: the poll loop's entries and the reactor's */
/*
 * DOC: Theory of Operation
 *
 * The modules below do not call each other's handlers, and the loop and
 * the reactor know none of them: each module registers its fds with a type
 * (evtype.h), and this is the one place that knows which handler a type
 * calls, and what runs around poll():
 *
 *   prepare   the API lowers the timeout to its nearest client deadline;
 *             stack_fill() runs libslirp's due timers and brings the
 *             epoll set of its sockets up to date (pollset.c);
 *   dispatch  one switch on the type of each loop entry with events: the
 *             tap is drained up to DISPATCH_TAP_BUDGET frames into
 *             slirp_input(); the reactor's fd runs one batch of the
 *             reactor (dispatch_reactor()); the stack's fd takes the
 *             events of libslirp's sockets (stack_on_ready()); the API's
 *             entries (the listener runs a new client's first request at
 *             once) mark libslirp as touched (stack_touch()): a command
 *             may change its forwards;
 *   after     the API drops clients past their deadline; stack_poll()
 *             services libslirp's sockets, but only when one of them has
 *             an event, one of its timers is due, or a non-TCP frame came
 *             in; stack_reap() ends the TIME_WAIT of flows whose close
 *             completed (timewait.c); stack_flush() writes what libslirp
 *             queued for the tap.
 *
 * A batch of the reactor's events goes through the second switch; then
 * each owner frees what ended in the batch (the events of the batch may
 * have pointed to it until then). An answer of the namespace helper, or
 * its end, goes to the users of its pools (splice.c, udprelay.c).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "api.h"
#include "dispatch.h"
#include "evtype.h"
#include "log.h"
#include "loop.h"
#include "nshelper.h"
#include "reactor.h"
#include "splice.h"
#include "stack.h"
#include "udprelay.h"

/* the helper's answer (or its end) goes to the users of its pools */
static void dispatch_helper(struct dispatch *d, const struct nshelper_event *ev)
{
    if (!ev->what)
        return;
    if (d->splice)
        splice_on_helper(d->splice, ev);
    if (d->relay)
        udprelay_on_helper(d->relay, ev);
}

/**
 * dispatch_reactor() - handle one batch of the reactor's events
 * @d:	the handlers' objects
 *
 * At most REACTOR_EVENTS events; more stay pending and keep the reactor's
 * fd readable for the next iteration of the main loop.
 */
void dispatch_reactor(struct dispatch *d)
{
    struct epoll_event ev[REACTOR_EVENTS];
    struct nshelper_event hev;
    int n = reactor_wait(d->reactor, ev, REACTOR_EVENTS), i;

    for (i = 0; i < n; i++) {
        struct reactor_ref *ref = ev[i].data.ptr;

        switch ((enum evtype)ref->type) {
        case EVT_NSHELPER:
            nshelper_on_ready(d->helper, &hev);
            dispatch_helper(d, &hev);
            break;
        case EVT_NSHELPER_TIMER:
            nshelper_on_timer(d->helper, &hev);
            dispatch_helper(d, &hev);
            break;
        case EVT_SPLICE_LISTENER:
            splice_on_listener(d->splice, ref);
            break;
        case EVT_SPLICE_CONN:
            splice_on_conn(d->splice, ref, ev[i].events);
            break;
        case EVT_SPLICE_KICK:
            splice_on_kick(d->splice);
            break;
        case EVT_SPLICE_TIMER:
            splice_on_timer(d->splice);
            break;
        case EVT_UDP_LISTENER:
            udprelay_on_listener(d->relay, ref);
            break;
        case EVT_UDP_FLOW:
            udprelay_on_flow(d->relay, ref);
            break;
        case EVT_UDP_TIMER:
            udprelay_on_timer(d->relay);
            break;
        default:
            break;
        }
    }
    if (d->splice)
        splice_batch_end(d->splice);
    if (d->relay)
        udprelay_batch_end(d->relay);
}

/* ------------------------------------------------------- the poll loop */

static void dispatch_signal(struct loop *l, int fd)
{
    struct signalfd_siginfo si;

    if (read(fd, &si, sizeof(si)) != sizeof(si))
        return;
    info("received signal %s, exiting", strsignal((int)si.ssi_signo));
    loop_quit(l, 0);
}

static void dispatch_tap(struct dispatch *d, struct loop *l)
{
    int r = stack_tap_read(d->stack, DISPATCH_TAP_BUDGET);

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

static void dispatch_prepare(void *opaque, struct loop *l, int *timeout)
{
    struct dispatch *d = opaque;

    if (d->api)
        api_timeout(d->api, timeout);
    if (d->stack)
        stack_fill(d->stack, timeout);
}

static void dispatch_stack(struct dispatch *d, struct loop *l, void *shard)
{
    int r = stack_on_ready(d->stack, shard);

    if (r < 0) {
        log_errno(r, "polling libslirp's sockets failed");
        loop_quit(l, 1);
    }
}

static void dispatch_entry(void *opaque, struct loop *l, int type,
                           void *data, int fd, short revents)
{
    struct dispatch *d = opaque;

    /* an API command may change libslirp's sockets (forwards); frames
     * and socket events mark their own shard (stack.c), and the reactor's
     * modules never call into libslirp. The worker threads stop while it
     * runs: it may read or change any shard (stack_pause()). A new
     * client's first request is read and answered at its accept. */
    if ((type == EVT_API_CONN || type == EVT_API_LISTEN) && d->stack) {
        stack_pause(d->stack);
        stack_touch(d->stack);
        if (type == EVT_API_CONN)
            api_on_conn(data, l, fd, revents);
        else
            api_on_listen(data, l);
        stack_resume(d->stack);
        return;
    }
    switch ((enum evtype)type) {
    case EVT_TAP:
        dispatch_tap(d, l);
        break;
    case EVT_EXIT_FD:
        info("exitfd event");
        loop_quit(l, 0);
        break;
    case EVT_SIGNAL:
        dispatch_signal(l, fd);
        break;
    case EVT_EXIT_PID:
        info("the process of --exit-with-pid exited");
        loop_quit(l, 0);
        break;
    case EVT_API_LISTEN:
        api_on_listen(data, l);
        break;
    case EVT_API_CONN:
        api_on_conn(data, l, fd, revents);
        break;
    case EVT_REACTOR:
        dispatch_reactor(d);
        break;
    case EVT_STACK:
        dispatch_stack(d, l, data);
        break;
    case EVT_WORKER_FAILED:
        /* the worker said why */
        loop_quit(l, 1);
        break;
    default:
        break;
    }
}

static void dispatch_after(void *opaque, struct loop *l, bool poll_failed)
{
    struct dispatch *d = opaque;

    if (d->api)
        api_expire(d->api, l);
    if (!d->stack)
        return;
    if (!loop_quitting(l)) {
        stack_poll(d->stack, poll_failed);
        stack_reap(d->stack);
    }
    stack_flush(d->stack);
}

/* bytes moved by libslirp and the splice engine (busy-poll's bulk test) */
static uint64_t dispatch_bytes(void *opaque)
{
    struct dispatch *d = opaque;
    uint64_t bytes = d->splice ? splice_bytes(d->splice) : 0;

    if (d->stack)
        bytes += stack_bytes(d->stack);
    return bytes;
}

/* the daemon's loop: struct dispatch is their argument */
const struct loop_ops dispatch_loop_ops = {
    .prepare = dispatch_prepare,
    .dispatch = dispatch_entry,
    .after = dispatch_after,
    .bytes = dispatch_bytes,
};
