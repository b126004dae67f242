/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loop.h - the one poll loop: fds with a type, hooks around poll(), busy-polling */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "busypoll.h"

struct loop;

/**
 * struct loop_ops - what the loop calls; the loop knows nothing else of its
 *		     clients
 * @prepare:	before poll(), every iteration: lower *@timeout (-1: none)
 * @dispatch:	an entry of loop_add() has events: @type and @data as given;
 *		for a set of loop_add_set(), @fd is LOOP_SET, @revents the
 *		union of its fds' (each is in its pollfd)
 * @after:	after the entries' handlers, every iteration; @poll_failed:
 *		poll() returned an error
 * @bytes:	bytes moved so far (the busy-poll window grows in bulk
 *		transfer); only called with --busy-poll
 */
struct loop_ops {
    void (*prepare)(void *opaque, struct loop *l, int *timeout);
    void (*dispatch)(void *opaque, struct loop *l, int type, void *data,
                     int fd, short revents);
    void (*after)(void *opaque, struct loop *l, bool poll_failed);
    uint64_t (*bytes)(void *opaque);
};

struct loop_entry {
    int fd;                 /* -1: removed during this iteration;
                             * LOOP_SET: a set of fds (@set_pfd) */
    short events;
    int type;               /* the client's: passed to ops->dispatch */
    void *data;
    struct pollfd *const *set_pfd;  /* a set: its array and its length, */
    const size_t *set_n;            /* read anew every iteration */
    size_t first, count;    /* this iteration: its slots in the array */
};

#define LOOP_SET (-2)

struct loop {
    const struct loop_ops *ops;
    void *opaque;
    struct loop_entry *ent;     /* persistent fds, registered once */
    size_t n_ent, cap_ent;
    struct pollfd *pfd;         /* this iteration's poll array: the entries,
                                 * a set's fds in a row */
    size_t n_pfd, cap_pfd;
    struct busypoll busy;       /* --busy-poll: the adaptive window */
    uint64_t bytes_seen;        /* bytes moved, at the last wait */
    bool quit;
    int exit_status;
};

void loop_init(struct loop *l, const struct loop_ops *ops, void *opaque,
               unsigned int busy_us);
void loop_free(struct loop *l);
int loop_add(struct loop *l, int fd, short events, int type, void *data);
int loop_add_set(struct loop *l, struct pollfd *const *pfd, const size_t *n,
                 int type, void *data);
int loop_set_events(struct loop *l, int fd, short events);
void loop_remove(struct loop *l, int fd);
void loop_quit(struct loop *l, int status);
bool loop_quitting(const struct loop *l);
int loop_run(struct loop *l);
