/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reactor.h - one epoll set whose entries carry a typed reference, served in batches */
#pragma once

#include <stdint.h>
#include <sys/epoll.h>

#include "evtype.h"

/* events taken by one reactor_wait() */
#define REACTOR_EVENTS 64

/**
 * struct reactor_ref - what the events of an entry point to
 * @type:	an enum evtype: selects the handler in dispatch_reactor()
 * @side:	which fd of an object that has several (a spliced connection:
 *		0 the host socket, 1 the namespace socket)
 *
 * It lives in the object the entry belongs to; the handler finds the
 * object from it (container_of()).
 */
struct reactor_ref {
    uint8_t type;
    uint8_t side;
};

#define REACTOR_REF(t, s) ((struct reactor_ref){ .type = (t), .side = (s) })

struct reactor {
    int epfd;
    uint64_t batch;     /* reactor_wait() calls so far */
};

int reactor_init(struct reactor *r);
void reactor_fini(struct reactor *r);
int reactor_fd(const struct reactor *r);
int reactor_add(struct reactor *r, int fd, uint32_t events,
                struct reactor_ref *ref);
int reactor_mod(struct reactor *r, int fd, uint32_t events,
                struct reactor_ref *ref);
int reactor_del(struct reactor *r, int fd);
void reactor_close(struct reactor *r, int *fd);
int reactor_wait(struct reactor *r, struct epoll_event *ev, int max);
