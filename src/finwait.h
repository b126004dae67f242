/* SPDX-License-Identifier: GPL-2.0-or-later */
/* finwait.h - ends libslirp's flows that the namespace closed and the remote never did, after --fin-timeout */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* flows followed at once (libslirp's sockets in CLOSE_WAIT) */
#define FINWAIT_SLOTS 4096
/* the table's first size (it doubles when a group is full) */
#define FINWAIT_SLOTS_MIN 64

struct finwait;

struct finwait_stats {
    uint64_t ended;         /* flows ended after the timeout */
    uint64_t untracked;     /* listings that found a flow's slot group full */
    uint64_t held;          /* listings that found a due flow owing the
                             * namespace bytes (left to run: see finwait.c) */
};

/*
 * What finwait_scan() does to a listed socket (finwait_socket_ops, or a
 * test's). probe: is @fd the host socket of the listed flow with ports
 * @sport and @dport (not checked again with @known: an earlier probe said
 * so, and the number was not closed since)? If so, 0 and *@progress, a
 * counter that moves with every byte the remote sends; a negative errno if
 * not. end: abort it, so that libslirp drops the flow at its next poll.
 */
struct finwait_ops {
    int (*probe)(int fd, uint16_t sport, uint16_t dport, bool known,
                 uint64_t *progress);
    int (*end)(int fd);
};

extern const struct finwait_ops finwait_socket_ops;

int finwait_new(struct finwait **ret);
void finwait_free(struct finwait *fw);
unsigned int finwait_scan(struct finwait *fw, const char *conn_info,
                          int64_t now_ms, int64_t timeout_ms,
                          const struct finwait_ops *ops);
unsigned int finwait_tracked(const struct finwait *fw);
unsigned int finwait_slots(const struct finwait *fw);
unsigned int finwait_unfollowed(const struct finwait *fw);
void finwait_get_stats(const struct finwait *fw, struct finwait_stats *ret);
