/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pollset.h - libslirp's sockets in an epoll set that changes only when the events wanted of them do */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

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
};

struct pollset {
    int epfd;
    struct pollset_ent *ent;    /* indexed by fd */
    size_t cap;
    uint32_t fill_gen;          /* pollset_begin() calls */
    uint32_t wait_gen;          /* pollset_wait() results, 0: none yet */
    unsigned int n_ready;       /* wanted fds with events in the last wait */
    unsigned int n_want;        /* pollset_want() calls in this fill */
    bool failed;                /* a registration failed since begin */
    struct pollset_stats stats;
};

int pollset_init(struct pollset *ps);
void pollset_fini(struct pollset *ps);
int pollset_fd(const struct pollset *ps);
void pollset_begin(struct pollset *ps);
int pollset_want(struct pollset *ps, int fd, uint32_t events);
int pollset_wait(struct pollset *ps);
uint32_t pollset_revents(const struct pollset *ps, int fd);
void pollset_consumed(struct pollset *ps);
