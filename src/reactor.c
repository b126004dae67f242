/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reactor.c - one epoll set whose entries carry a typed reference, served in batches */
/*
 * DOC: Theory of Operation
 *
 * The splice path, its namespace helper and the UDP relay keep their fds
 * (listeners, connection sockets, the helper's socket, eventfds, timerfds)
 * in one epoll set, whose fd is one entry of the main poll loop. Each
 * registration points to a struct reactor_ref inside the object it belongs
 * to: a type (evtype.h) and, for an object with several fds, a side. One
 * switch on the type, dispatch_reactor() at the top of the program, calls
 * the owner's handler; the owners do not call each other.
 *
 * Events are taken in batches of at most REACTOR_EVENTS without waiting
 * (the poll loop waits); more stay pending and keep the epoll fd readable.
 * An owner may end an object during a batch whose later events still point
 * to it: it frees the memory at the end of the batch (the batch-end hooks
 * dispatch_reactor() calls), not before.
 *
 * close() alone does not take a socket out of an epoll set while another
 * reference to it exists (epoll(7)), and the helper in the namespace may
 * keep one of every socket it sent: an fd leaves the set with
 * reactor_del() before it is closed, or reactor_close() does both.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "reactor.h"
#include "util.h"

/**
 * reactor_init() - an empty set
 * @r:	the reactor
 *
 * Return: 0 or the errno of epoll_create1()
 */
int reactor_init(struct reactor *r)
{
    r->batch = 0;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    return r->epfd < 0 ? -errno : 0;
}

/**
 * reactor_fini() - close the set (its entries' fds are their owners')
 * @r:	the reactor, initialised or zeroed with epfd -1
 */
void reactor_fini(struct reactor *r)
{
    util_closep(&r->epfd);
    r->epfd = -1;
}

/**
 * reactor_fd() - the fd the main loop polls
 * @r:	the reactor
 *
 * Return: the epoll fd
 */
int reactor_fd(const struct reactor *r)
{
    return r->epfd;
}

/**
 * reactor_add() - watch @fd
 * @r:		the reactor
 * @fd:		the fd
 * @events:	epoll events
 * @ref:	what its events point to (type and side set); must live until
 *		the end of the batch in which @fd leaves the set
 *
 * Return: 0 or the errno of epoll_ctl()
 */
int reactor_add(struct reactor *r, int fd, uint32_t events,
                struct reactor_ref *ref)
{
    struct epoll_event ev = { .events = events, .data.ptr = ref };

    return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/**
 * reactor_mod() - change the events of a watched fd
 * @r:		the reactor
 * @fd:		the fd
 * @events:	epoll events (0: none until changed again)
 * @ref:	as given to reactor_add()
 *
 * Return: 0 or the errno of epoll_ctl()
 */
int reactor_mod(struct reactor *r, int fd, uint32_t events,
                struct reactor_ref *ref)
{
    struct epoll_event ev = { .events = events, .data.ptr = ref };

    return epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

/**
 * reactor_del() - stop watching @fd; call it before closing @fd
 * @r:	the reactor
 * @fd:	a watched fd
 *
 * Return: 0 or the errno of epoll_ctl()
 */
int reactor_del(struct reactor *r, int fd)
{
    return epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

/**
 * reactor_close() - take *@fd out of the set, close it, set it to -1
 * @r:	the reactor
 * @fd:	a watched fd, or -1
 */
void reactor_close(struct reactor *r, int *fd)
{
    if (*fd < 0)
        return;
    epoll_ctl(r->epfd, EPOLL_CTL_DEL, *fd, NULL);
    util_closep(fd);
    *fd = -1;
}

/**
 * reactor_wait() - take a batch of events, without waiting
 * @r:		the reactor
 * @ev:		room for @max events
 * @max:	at most this many
 *
 * Return: the number of events (0 on an error)
 */
int reactor_wait(struct reactor *r, struct epoll_event *ev, int max)
{
    int n = epoll_wait(r->epfd, ev, max, 0);

    r->batch++;
    return n < 0 ? 0 : n;
}
