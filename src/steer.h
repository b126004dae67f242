/* SPDX-License-Identifier: GPL-2.0-or-later */
/* steer.h - which libslirp instance a frame belongs to: a hash of its flow, and a bounded table of the flows an instance started */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* steer_in(): every instance gets the frame (ARP, neighbour discovery) */
#define STEER_ALL (-1)

#define STEER_SHARDS_MAX 64
/* flows started by an instance, kept at most (about 64 bytes each) */
#define STEER_FLOWS_DEFAULT 65536
/* a UDP flow in the table ends this long after its last datagram
 * (libslirp's own UDP sockets expire after 240 s) */
#define STEER_UDP_IDLE_MS 240000
/* a TCP flow stays this long after both FINs, for the last ACK and
 * retransmitted FINs */
#define STEER_TCP_LINGER_MS 60000
/* the first TCP connections from the namespace all go to shard 0 */
#define STEER_GATHER 16

struct steer_conf {
    unsigned int shards;            /* 1..STEER_SHARDS_MAX */
    size_t max_flows;               /* 0: STEER_FLOWS_DEFAULT */
    struct in_addr dns4;            /* cidr+3: always instance 0 */
    struct in6_addr dns6;
    uint64_t seed;                  /* of the flow hash; 0: random */
};

struct steer_stats {
    uint64_t flows;                 /* in the table now */
    uint64_t added;
    uint64_t ended;
    uint64_t full;                  /* a flow that found the table full */
    uint64_t gathered;              /* first connections recorded in shard 0 */
};

struct steer;

int steer_new(const struct steer_conf *conf, struct steer **ret);
void steer_free(struct steer *s);
unsigned int steer_shards(const struct steer *s);
int steer_in(struct steer *s, const uint8_t *frame, const struct frame_info *fi,
             int64_t now_ms);
bool steer_out_stateless(unsigned int shard, const uint8_t *frame,
                         const struct frame_info *fi);
bool steer_out(struct steer *s, unsigned int shard, const uint8_t *frame,
               const struct frame_info *fi, int64_t now_ms);
void steer_get_stats(const struct steer *s, struct steer_stats *ret);
void steer_gather_stop(struct steer *s);
