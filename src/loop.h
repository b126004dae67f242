/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loop.h - the one poll loop: typed fds, libslirp's sockets and timers */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "busypoll.h"

struct stack;
struct api;
struct splice;

enum loop_type {
    LOOP_REMOVED,       /* slot freed during this iteration */
    LOOP_TAP,           /* frames from the namespace */
    LOOP_EXIT_FD,       /* --exit-fd: any event ends the daemon */
    LOOP_SIGNAL,        /* signalfd: SIGTERM, SIGINT */
    LOOP_EXIT_PID,      /* --exit-with-pid: the pidfd became readable */
    LOOP_API_LISTEN,    /* --api-socket listener */
    LOOP_API_CONN,      /* one API client connection */
    LOOP_REACTOR,       /* the reactor's epoll fd (splice, UDP relay) */
    LOOP_TYPE_COUNT,
};

struct loop_entry {
    int fd;
    short events;
    enum loop_type type;
    void *data;
};

struct loop {
    struct loop_entry *ent;     /* persistent fds, registered once */
    size_t n_ent, cap_ent;
    struct pollfd *pfd;         /* this iteration: entries, then transient */
    size_t n_pfd, cap_pfd;
    size_t n_persist;           /* entries copied into pfd this iteration */
    struct stack *stack;
    struct api *api;
    struct splice *splice;      /* its bytes count for busy-polling */
    unsigned int tap_budget;    /* frames drained per wake-up */
    struct busypoll busy;       /* --busy-poll: the adaptive window */
    uint64_t bytes_seen;        /* bytes moved, at the last wait */
    bool quit;
    int exit_status;
};

int loop_init(struct loop *l, struct stack *st, unsigned int busy_us);
void loop_free(struct loop *l);
int loop_add(struct loop *l, int fd, short events, enum loop_type type,
             void *data);
int loop_set_events(struct loop *l, int fd, short events);
void loop_remove(struct loop *l, int fd);
int loop_add_transient(struct loop *l, int fd, short events);
short loop_transient_revents(const struct loop *l, int idx);
void loop_quit(struct loop *l, int status);
int loop_run(struct loop *l);
