/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine.h - the splice engine of a unit test: made around a helper, driven by one bounded poll loop */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "dispatch.h"
#include "reactor.h"

/*
 * One test's engine: its reactor, the helper and the splice engine, and
 * the dispatch that runs their events (a test sets .disp.relay itself).
 * @side_fd, @side_fn: another fd the loop serves, and what it runs when
 * that is readable (a fake helper, an echo server); -1: none.
 */
struct config;
struct fwd_table;

struct engine {
    struct reactor re;
    struct dispatch disp;
    struct nshelper *hp;
    struct splice *sp;
    int side_fd;
    void (*side_fn)(void);
};

#define ENGINE_INIT { .re = { .epfd = -1 }, .side_fd = -1 }

int engine_new(struct engine *e, int sock, pid_t pid);
int engine_real(struct engine *e, pid_t *ret_pid);
void engine_free(struct engine *e);
bool engine_drive(struct engine *e, int fd);
void engine_pump(struct engine *e, int ms);
void engine_settle(struct engine *e, int ms);
int engine_accept(struct engine *e, int lfd, int ms);
int engine_read_end(struct engine *e, int fd, int ms);
int engine_fwd_table(struct config *cfg, struct fwd_table **ret);
