/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-reactor.c - the epoll set with typed entries: references, batches, an fd out of the set before it is closed */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reactor.h"
#include "tapout.h"

struct obj {
    int fd[2];
    struct reactor_ref ref[2];
};

int main(void)
{
    struct epoll_event ev[REACTOR_EVENTS];
    struct reactor r;
    struct obj o;
    int a[2], b[2], dup_fd, n;

    tap_plan(10);
    if (reactor_init(&r) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, b) < 0) {
        printf("Bail out! %s\n", strerror(errno));
        return 1;
    }
    TAP_OK(reactor_fd(&r) >= 0, "reactor_init: an epoll fd");
    o.fd[0] = a[0];
    o.fd[1] = b[0];
    o.ref[0] = REACTOR_REF(EVT_SPLICE_CONN, 0);
    o.ref[1] = REACTOR_REF(EVT_SPLICE_CONN, 1);
    reactor_add(&r, o.fd[0], EPOLLIN, &o.ref[0]);
    reactor_add(&r, o.fd[1], EPOLLIN, &o.ref[1]);

    n = reactor_wait(&r, ev, REACTOR_EVENTS);
    TAP_IS_INT(n, 0, "nothing readable: an empty batch, without waiting");
    if (write(b[1], "x", 1) != 1)
        return 1;
    n = reactor_wait(&r, ev, REACTOR_EVENTS);
    TAP_OK(n == 1 && ev[0].data.ptr == &o.ref[1], "the event points to the "
           "entry's reference");
    TAP_OK(n == 1 && ((struct reactor_ref *)ev[0].data.ptr)->type ==
           EVT_SPLICE_CONN && ((struct reactor_ref *)ev[0].data.ptr)->side == 1,
           "... which carries its type and side");
    TAP_IS_INT((int)r.batch, 2, "batches are counted");

    reactor_mod(&r, o.fd[1], 0, &o.ref[1]);
    n = reactor_wait(&r, ev, REACTOR_EVENTS);
    TAP_IS_INT(n, 0, "reactor_mod(0): no events until changed again");

    /*
     * A duplicate of the socket lives on (as one the namespace helper may
     * keep): close() alone would leave it in the set (epoll(7)), and its
     * events would point to a freed object. reactor_close() takes it out.
     */
    dup_fd = dup(a[0]);
    reactor_close(&r, &o.fd[0]);
    TAP_IS_INT(o.fd[0], -1, "reactor_close: the fd is -1");
    if (write(a[1], "y", 1) != 1)
        return 1;
    n = reactor_wait(&r, ev, REACTOR_EVENTS);
    TAP_IS_INT(n, 0, "reactor_close with a duplicate alive: no event");

    /* the control: close() alone, with a duplicate alive, leaves it in */
    if (write(b[1], "z", 1) != 1)
        return 1;
    reactor_mod(&r, o.fd[1], EPOLLIN, &o.ref[1]);
    close(dup_fd);
    dup_fd = dup(o.fd[1]);
    close(o.fd[1]);
    n = reactor_wait(&r, ev, REACTOR_EVENTS);
    TAP_IS_INT(n, 1, "the control: close() alone leaves a duplicated "
               "socket in the set (epoll(7)), its events still come");
    reactor_fini(&r);
    TAP_IS_INT(reactor_fd(&r), -1, "reactor_fini: closed");
    close(dup_fd);
    close(a[1]);
    close(b[1]);
    return tap_done();
}
