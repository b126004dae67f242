/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dispatch.c - the one switch from an event to its handler: the reactor's typed entries */
/*
 * DOC: Theory of Operation
 *
 * The modules below do not call each other's handlers: each registers its
 * fds with a typed reference (evtype.h), and this is the one place that
 * knows which handler a type calls. A batch of the reactor's events goes
 * through one switch; then each owner frees what ended in the batch (the
 * events of the batch may have pointed to it until then).
 */
#include <stddef.h>
#include <sys/epoll.h>

#include "dispatch.h"
#include "evtype.h"
#include "nshelper.h"
#include "reactor.h"
#include "splice.h"
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
        case EVT_NONE:
        case EVT_TYPE_COUNT:
            break;
        }
    }
    if (d->splice)
        splice_batch_end(d->splice);
    if (d->relay)
        udprelay_batch_end(d->relay);
}
