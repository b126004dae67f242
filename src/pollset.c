/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pollset.c - libslirp's sockets in an epoll set that changes only when the events wanted of them do */
/*
 * DOC: Theory of Operation
 *
 * libslirp names the sockets it wants polled anew in every iteration
 * (slirp_pollfds_fill() calls an add-poll callback per socket). Handing all
 * of them to poll() each time costs the kernel a walk over every socket
 * (measured with 4 000 idle connections: 78 % of the daemon's time in
 * poll()). Here they live in one epoll set that outlasts the iterations:
 *
 *   pollset_begin()     a new fill: a generation number moves on;
 *   pollset_want()      per socket of the fill: stamps its entry with the
 *                       fill's generation and calls epoll_ctl() only when
 *                       the events differ from the registered ones, or the
 *                       fd number was closed since (fdgen.c: the number
 *                       may now hold another file);
 *   pollset_wait()      epoll_wait() without sleeping, once the set's fd
 *                       is readable: records each event under the wait's
 *                       generation. A registered fd that the last fill
 *                       did not want is dropped from the set then, when it
 *                       reports an event: so what nobody wants costs one
 *                       epoll_ctl() at most, and only if it gets ready;
 *   pollset_revents()   what the last wait saw for an fd (0 if nothing,
 *                       or if that wait's results were consumed);
 *   pollset_consumed()  libslirp has read the results.
 *
 * Level-triggered, as poll() is: an event libslirp does not take is
 * reported again. A closed file leaves the set by itself (libslirp never
 * duplicates its sockets), and its number's generation tells a new socket
 * under that number apart. Numbers beyond fdgen.c's table are checked with
 * epoll_ctl(EPOLL_CTL_MOD) every time (ENOENT: added again).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdgen.h"
#include "pollset.h"

/**
 * pollset_init() - an empty set
 * @ps:	the set
 *
 * Return: 0 or a negative errno
 */
int pollset_init(struct pollset *ps)
{
    memset(ps, 0, sizeof(*ps));
    ps->epfd = epoll_create1(EPOLL_CLOEXEC);
    return ps->epfd < 0 ? -errno : 0;
}

/**
 * pollset_fini() - close the set (the sockets are libslirp's)
 * @ps:	the set, initialised or zeroed with epfd -1
 */
void pollset_fini(struct pollset *ps)
{
    if (ps->epfd >= 0)
        close(ps->epfd);
    free(ps->ent);
    memset(ps, 0, sizeof(*ps));
    ps->epfd = -1;
}

/**
 * pollset_fd() - the fd to poll for readability: some socket has events
 * @ps:	the set
 *
 * Return: the epoll fd
 */
int pollset_fd(const struct pollset *ps)
{
    return ps->epfd;
}

/**
 * pollset_begin() - a new fill: what is not wanted from now on is dropped
 * @ps:	the set
 */
void pollset_begin(struct pollset *ps)
{
    if (++ps->fill_gen == 0)
        ps->fill_gen = 1;
    ps->failed = false;
    ps->n_want = 0;
}

static int pollset_grow(struct pollset *ps, int fd)
{
    size_t cap = ps->cap ? ps->cap : 64;
    struct pollset_ent *p;

    while (cap <= (size_t)fd)
        cap *= 2;
    p = realloc(ps->ent, cap * sizeof(*p));
    if (!p)
        return -ENOMEM;
    memset(p + ps->cap, 0, (cap - ps->cap) * sizeof(*p));
    ps->ent = p;
    ps->cap = cap;
    return 0;
}

static int pollset_ctl(struct pollset *ps, int op, int fd, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };

    ps->stats.ctl++;
    return epoll_ctl(ps->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

/**
 * pollset_want_change() - pollset_want() for a socket that is not
 *			   registered as asked: new, another file under the
 *			   number, or other events
 * @ps:		the set
 * @fd:		the socket
 * @events:	EPOLLIN, EPOLLOUT, EPOLLPRI
 *
 * Return: 0 or a negative errno (noted in @ps->failed)
 */
int pollset_want_change(struct pollset *ps, int fd, uint32_t events)
{
    struct pollset_ent *e;
    uint32_t gen = fdgen_get(fd);
    bool fresh;
    int r = 0;

    if (fd < 0)
        return -EBADF;
    if ((size_t)fd >= ps->cap && (r = pollset_grow(ps, fd)) < 0)
        goto fail;
    e = &ps->ent[fd];
    e->want = ps->fill_gen;
    ps->n_want++;
    events |= EPOLLERR | EPOLLHUP;
    fresh = !e->events || e->fdgen != gen;
    if (!fresh && e->events == events && fdgen_known(fd))
        return 0;
    if (fresh && fdgen_known(fd)) {
        r = pollset_ctl(ps, EPOLL_CTL_ADD, fd, events);
        /* the number's file was registered and is still open: a close()
         * that did not come through fdgen.c (none of libslirp's) */
        if (r == -EEXIST)
            r = pollset_ctl(ps, EPOLL_CTL_MOD, fd, events);
    } else {
        r = pollset_ctl(ps, EPOLL_CTL_MOD, fd, events);
        if (r == -ENOENT)
            r = pollset_ctl(ps, EPOLL_CTL_ADD, fd, events);
    }
    if (r < 0) {
        e->events = 0;
        goto fail;
    }
    e->events = events;
    e->fdgen = gen;
    return 0;
fail:
    ps->failed = true;
    return r;
}

/**
 * pollset_wait() - take the events that are there, without sleeping
 * @ps:	the set
 *
 * At most POLLSET_EVENTS; more stay pending and keep the set's fd
 * readable. The results of an earlier wait that were not consumed are
 * kept: an fd that has events in both reports the new ones.
 *
 * Return: the number of wanted fds with events now (also in
 *	   @ps->n_ready), or a negative errno
 */
int pollset_wait(struct pollset *ps)
{
    struct epoll_event ev[POLLSET_EVENTS];
    int n, i;

    ps->stats.waits++;
    n = epoll_wait(ps->epfd, ev, POLLSET_EVENTS, 0);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    if (!ps->n_ready && ++ps->wait_gen == 0)
        ps->wait_gen = 1;
    for (i = 0; i < n; i++) {
        int fd = ev[i].data.fd;
        struct pollset_ent *e;

        if (fd < 0 || (size_t)fd >= ps->cap)
            continue;
        e = &ps->ent[fd];
        if (!e->events)
            continue;
        if (e->want != ps->fill_gen) {
            /* nobody asked for it in this fill: out of the set, or
             * level-triggered events would wake us for ever */
            ps->stats.ctl++;
            ps->stats.dropped++;
            epoll_ctl(ps->epfd, EPOLL_CTL_DEL, fd, NULL);
            e->events = 0;
            continue;
        }
        if (e->seen != ps->wait_gen)
            ps->n_ready++;
        e->seen = ps->wait_gen;
        e->revents = ev[i].events;
    }
    return (int)ps->n_ready;
}

/**
 * pollset_consumed() - the results were read: the next wait starts afresh
 * @ps:	the set
 */
void pollset_consumed(struct pollset *ps)
{
    ps->n_ready = 0;
}
