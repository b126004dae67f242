/* SPDX-License-Identifier: GPL-2.0-or-later */
/* timewait.h - ends libslirp's TIME_WAIT at once for flows it closed first, once both FINs are acked */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* flows followed at once (libslirp sent a FIN, the close is not done) */
#define TIMEWAIT_SLOTS 4096
/* the table's first size (it doubles when a group is full) */
#define TIMEWAIT_SLOTS_MIN 64
/* reap rounds a flow may wait for libslirp's buffer to drain */
#define TIMEWAIT_TRIES 64

struct timewait;

struct timewait_stats {
    uint64_t reaped;        /* TIME_WAIT sockets reset at once */
    uint64_t deferred;      /* rounds a reap waited for data to drain */
    uint64_t dropped;       /* flows given up (evicted, gone, drained too long) */
};

/* injects one frame into libslirp (slirp_input) */
typedef void (*timewait_inject_fn)(void *arg, const uint8_t *frame, size_t len);

int timewait_new(struct timewait **ret);
void timewait_free(struct timewait *tw);
struct frame_info;
void timewait_note_out(struct timewait *tw, const struct frame_info *fi);
void timewait_note_in(struct timewait *tw, const uint8_t *frame,
                      const struct frame_info *fi);
unsigned int timewait_pending(const struct timewait *tw);
unsigned int timewait_slots(const struct timewait *tw);
void timewait_reap(struct timewait *tw, const char *conn_info,
                   timewait_inject_fn inject, void *arg);
void timewait_get_stats(const struct timewait *tw, struct timewait_stats *ret);
