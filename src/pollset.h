/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pollset.h - libslirp's sockets: polled as they are while few, else in an epoll set that changes only when the events wanted of them do */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/epoll.h>

#include "fdgen.h"

/* events taken by one pollset_wait() */
#define POLLSET_EVENTS 256

/* one fd number: what is registered for it, and what came */
struct pollset_ent {
    uint32_t events;        /* registered epoll events; 0: not registered */
    uint32_t fdgen;         /* fdgen_get() when registered */
    uint32_t want;          /* fill generation that last wanted it */
    uint32_t seen;          /* wait generation of @revents */
    uint32_t revents;
};

struct pollset_stats {
    uint64_t ctl;           /* epoll_ctl() calls */
    uint64_t waits;         /* epoll_wait() calls */
    uint64_t dropped;       /* registrations ended because nobody wanted them */
    uint64_t to_epoll;      /* fills that moved the sockets to the epoll set */
    uint64_t to_direct;     /* fills that moved them back to direct polling */
};

struct pollset {
    int epfd;                   /* -1 until the set is first needed */
    struct pollset_ent *ent;    /* indexed by fd */
    size_t cap;
    /* this fill's sockets (all of them while direct, else the first
     * @direct_max): what the caller polls while direct */
    struct pollfd *fill;
    size_t n_fill, cap_fill;
    /* what the caller polls (pollset_pollfds()): @fill, or @ep_pfd */
    struct pollfd *poll;
    size_t n_poll;
    struct pollfd ep_pfd;       /* the epoll fd, for POLLIN */
    bool direct;                /* the sockets are polled as they are */
    unsigned int direct_max;    /* more in a fill: the epoll set */
    uint32_t fill_gen;          /* pollset_begin() calls */
    uint32_t wait_gen;          /* pollset_wait() results, 0: none yet */
    unsigned int n_ready;       /* wanted fds with events in the last wait */
    unsigned int n_want;        /* pollset_want() calls in this fill */
    bool failed;                /* a registration failed since begin */
    struct pollset_stats stats;
};

int pollset_init(struct pollset *ps, unsigned int direct_max);
void pollset_fini(struct pollset *ps);
void pollset_begin(struct pollset *ps);
int pollset_want_change(struct pollset *ps, int fd, uint32_t events);
int pollset_grow_fill(struct pollset *ps);
void pollset_end(struct pollset *ps);
int pollset_ready(struct pollset *ps);
void pollset_consumed(struct pollset *ps);

/**
 * pollset_pollfds() - what the caller polls: the sockets themselves, or
 *		       the epoll fd (for POLLIN); changed only by pollset_end()
 * @ps:	the set
 * @n:	its length
 *
 * Return: the array (each revents is written back by the caller before
 *	   pollset_ready())
 */
static inline struct pollfd *pollset_pollfds(struct pollset *ps, size_t *n)
{
    *n = ps->n_poll;
    return ps->poll;
}

/* pollset_want()'s epoll path: as registered, the same file? */
static inline int pollset_want_epoll(struct pollset *ps, int fd,
                                     uint32_t events)
{
    struct pollset_ent *e;

    if ((unsigned int)fd < ps->cap && fdgen_known(fd)) {
        e = &ps->ent[fd];
        if (e->events == (events | EPOLLERR | EPOLLHUP) &&
            e->fdgen == fdgen_get(fd)) {
            e->want = ps->fill_gen;
            ps->n_want++;
            return 0;
        }
    }
    return pollset_want_change(ps, fd, events);
}

/**
 * pollset_want() - a socket of this fill, and the events wanted of it
 * @ps:		the set
 * @fd:		the socket
 * @events:	EPOLLIN, EPOLLOUT, EPOLLPRI (errors and hang-ups always come)
 *
 * Called for every socket libslirp has, in every fill. While the sockets
 * are few (direct), it appends to the fill's array and nothing else.
 * Otherwise the common case (as registered, the same file) is inline and
 * touches one entry and one counter; anything else is
 * pollset_want_change().
 *
 * Return: 0 or a negative errno (it is then not polled; the failure stays
 *	   noted in @ps->failed until the next pollset_begin())
 */
static inline int pollset_want(struct pollset *ps, int fd, uint32_t events)
{
    if (ps->direct || ps->n_fill < ps->direct_max) {
        if (fd < 0 || (ps->n_fill == ps->cap_fill &&
                       pollset_grow_fill(ps) < 0)) {
            ps->failed = true;
            return fd < 0 ? -EBADF : -ENOMEM;
        }
        ps->fill[ps->n_fill++] = (struct pollfd){ .fd = fd,
                                                  .events = (short)events };
        if (ps->direct) {
            ps->n_want++;
            return 0;
        }
    }
    return pollset_want_epoll(ps, fd, events);
}

/**
 * pollset_revents() - what the last poll or wait saw for an fd
 * @ps:	the set
 * @fd:	a socket of this fill
 *
 * Return: epoll events, 0 if none (or already consumed)
 */
static inline uint32_t pollset_revents(const struct pollset *ps, int fd)
{
    const struct pollset_ent *e;

    if (!ps->n_ready || (unsigned int)fd >= ps->cap)
        return 0;
    e = &ps->ent[fd];
    return e->seen == ps->wait_gen ? e->revents : 0;
}
