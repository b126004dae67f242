/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reasm6.h - IPv6 fragments from the namespace reassembled for libslirp, which drops them */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* datagrams reassembled at once; a new one beyond evicts the oldest */
#define REASM6_SLOTS 8
/* a datagram not complete this long after its first fragment is dropped
 * (RFC 8200 4.5) */
#define REASM6_TIMEOUT_MS 60000
/* the largest frame it makes: Ethernet + IPv6 header + a full payload */
#define REASM6_FRAME_MAX (14 + 40 + 65535)

struct reasm6_stats {
    uint64_t done;          /* datagrams reassembled and handed on */
    uint64_t dropped;       /* datagrams dropped: overlaps, bad lengths,
                             * evicted, timed out */
};

struct reasm6;

int reasm6_new(struct reasm6 **ret);
void reasm6_free(struct reasm6 *r);
int reasm6_add(struct reasm6 *r, const uint8_t *frame,
               const struct frame_info *fi, int64_t now_ms,
               const uint8_t **ret_frame, size_t *ret_len);
const struct reasm6_stats *reasm6_get_stats(const struct reasm6 *r);
