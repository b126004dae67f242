/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pollset.c - libslirp's sockets: polled as they are while few, else in an epoll set that changes only when the events wanted of them do */
/*
 * DOC: Theory of Operation
 *
 * libslirp names the sockets it wants polled anew in every fill
 * (slirp_pollfds_fill() calls an add-poll callback per socket). Handing all
 * of them to poll() each time costs the kernel a walk over every socket
 * (measured with 4 000 idle connections: 78 % of the daemon's time in
 * poll()). An epoll set that outlasts the fills costs per change instead,
 * but it has a price of its own: an epoll_ctl() when a socket comes, when
 * what is wanted of it changes (connecting, then reading) and when it
 * goes, and an epoll_wait() after the loop's poll() found the set's fd
 * readable. With a handful of sockets that is more than poll() takes
 * (short connections: 45 system calls each against 36). So a set has two
 * modes, chosen at the end of each fill:
 *
 *   direct       at most @direct_max sockets: the fill's array of pollfds
 *                is what the caller polls, with its own fds, in its one
 *                poll(); no epoll call at all;
 *   epoll        more: the caller polls the epoll fd; the set changes
 *                only where the fill differs from what is registered.
 *
 * It goes to epoll when a fill has more than @direct_max sockets and back
 * when one has fewer than half as many, so a count near the limit does not
 * move it to and fro. The epoll fd is only created the first time.
 *
 *   pollset_begin()     a new fill: a generation number moves on;
 *   pollset_want()      per socket of the fill: appends it to the fill's
 *                       array (direct, or while the array could still be
 *                       the next direct one); in epoll mode also stamps its
 *                       entry with the fill's generation and calls
 *                       epoll_ctl() only when the events differ from the
 *                       registered ones, or the fd number was closed since
 *                       (fdgen.c: the number may now hold another file);
 *   pollset_end()       the fill is over: the mode for the next polls;
 *                       going to epoll registers the fill's array;
 *   pollset_pollfds()   what the caller polls (it writes each revents
 *                       back);
 *   pollset_ready()     the caller's poll() saw events: direct, they are
 *                       taken from the array; epoll, epoll_wait() without
 *                       sleeping records each under the wait's generation.
 *                       A registered fd that the last fill did not want is
 *                       dropped from the set then, when it reports an
 *                       event: so what nobody wants costs one epoll_ctl()
 *                       at most, and only if it gets ready;
 *   pollset_revents()   what the last poll or wait saw for an fd (0 if
 *                       nothing, or if the results were consumed);
 *   pollset_consumed()  libslirp has read the results.
 *
 * Level-triggered, as poll() is: an event libslirp does not take is
 * reported again. While direct, the epoll set is left as it was: a closed
 * file leaves it by itself (libslirp never duplicates its sockets), and
 * the entries still say what is registered, so the next move to epoll
 * changes only what differs. Numbers beyond fdgen.c's table are checked
 * with epoll_ctl(EPOLL_CTL_MOD) every time (ENOENT: added again).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdgen.h"
#include "pollset.h"

/**
 * pollset_init() - an empty set, direct
 * @ps:		the set
 * @direct_max:	the most sockets a fill may have to stay direct (0: epoll
 *		from the first socket on)
 *
 * Return: 0
 */
int pollset_init(struct pollset *ps, unsigned int direct_max)
{
    memset(ps, 0, sizeof(*ps));
    ps->epfd = -1;
    ps->ep_pfd = (struct pollfd){ .fd = -1, .events = POLLIN };
    ps->direct = true;
    ps->direct_max = direct_max;
    ps->poll = ps->fill;
    return 0;
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
    free(ps->fill);
    memset(ps, 0, sizeof(*ps));
    ps->epfd = -1;
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
    ps->n_fill = 0;
}

/**
 * pollset_grow_fill() - room for one more socket in the fill's array
 * @ps:	the set
 *
 * Return: 0 or -ENOMEM
 */
int pollset_grow_fill(struct pollset *ps)
{
    size_t cap = ps->cap_fill ? ps->cap_fill * 2 : 16;
    struct pollfd *p = realloc(ps->fill, cap * sizeof(*p));

    if (!p)
        return -ENOMEM;
    ps->fill = p;
    ps->cap_fill = cap;
    return 0;
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

/* one more fd with events (of @ps->wait_gen) */
static void pollset_note(struct pollset *ps, struct pollset_ent *e,
                         uint32_t revents)
{
    if (e->seen != ps->wait_gen)
        ps->n_ready++;
    e->seen = ps->wait_gen;
    e->revents = revents;
}

static int pollset_ent_grow(struct pollset *ps, int fd)
{
    return (size_t)fd < ps->cap ? 0 : pollset_grow(ps, fd);
}

/* direct: the results are in the fill's array */
static int pollset_take(struct pollset *ps)
{
    size_t i;

    for (i = 0; i < ps->n_fill; i++) {
        const struct pollfd *p = &ps->fill[i];

        /* (poll()'s bits are epoll's; POLLNVAL has no counterpart) */
        if (!(p->revents & ~POLLNVAL) || pollset_ent_grow(ps, p->fd) < 0)
            continue;
        pollset_note(ps, &ps->ent[p->fd], (uint16_t)p->revents);
    }
    return (int)ps->n_ready;
}

/*
 * pollset_to_epoll() - the fill's array into the epoll set (created the
 * first time); false if the set cannot be had
 */
static bool pollset_to_epoll(struct pollset *ps)
{
    size_t i;

    if (ps->epfd < 0) {
        ps->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (ps->epfd < 0)
            return false;
        ps->ep_pfd.fd = ps->epfd;
    }
    ps->direct = false;
    ps->n_want = 0;
    for (i = 0; i < ps->n_fill; i++) {
        const struct pollfd *p = &ps->fill[i];

        pollset_want_epoll(ps, p->fd, (uint16_t)p->events);
    }
    ps->stats.to_epoll++;
    return true;
}

/**
 * pollset_end() - the fill is over: how its sockets are polled from now on
 * @ps:	the set
 *
 * Results not yet consumed are dropped: they were of the last fill's mode.
 */
void pollset_end(struct pollset *ps)
{
    if (ps->direct && ps->n_fill > ps->direct_max && pollset_to_epoll(ps)) {
        /* (a registration that failed is noted in ps->failed) */
    } else if (!ps->direct && 2 * ps->n_want < ps->direct_max) {
        ps->direct = true;
        ps->stats.to_direct++;
    }
    ps->n_ready = 0;
    if (ps->direct) {
        ps->poll = ps->fill;
        ps->n_poll = ps->n_fill;
    } else {
        ps->poll = &ps->ep_pfd;
        ps->n_poll = 1;
    }
}

/**
 * pollset_ready() - take the events the caller's poll() saw
 * @ps:	the set
 *
 * Direct, from the array's revents. Epoll, what epoll_wait() has without
 * sleeping: at most POLLSET_EVENTS; more stay pending and keep the set's
 * fd readable. The results of an earlier poll that were not consumed are
 * kept: an fd that has events in both reports the new ones.
 *
 * Return: the number of wanted fds with events now (also in
 *	   @ps->n_ready), or a negative errno
 */
int pollset_ready(struct pollset *ps)
{
    struct epoll_event ev[POLLSET_EVENTS];
    int n, i;

    if (ps->direct) {
        if (!ps->n_ready && ++ps->wait_gen == 0)
            ps->wait_gen = 1;
        return pollset_take(ps);
    }
    if (ps->epfd < 0)
        return 0;

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
        pollset_note(ps, e, ev[i].events);
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
