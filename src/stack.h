/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stack.h - libslirp glue: SlirpConfig from our config, SlirpCb, tap <-> slirp */
#pragma once

#include <libslirp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct stack_stats {
    uint64_t rx_frames;     /* tap -> libslirp */
    uint64_t rx_bytes;
    uint64_t tx_frames;     /* libslirp -> tap */
    uint64_t tx_bytes;
    uint64_t tx_dropped;    /* tap write failed: frame dropped */
    uint64_t guest_errors;
    uint64_t rx_dropped;    /* bad virtio-net header or offsets */
    uint64_t rx_gso_frames;     /* TSO super-frames from the namespace */
    uint64_t tx_gso_frames;     /* GSO frames the coalescer wrote */
    uint64_t tx_gso_segments;   /* libslirp segments merged into them */
    uint64_t tx_fragmented;     /* frames above the tap's MTU cut to fit it */
    uint64_t tx_oversize;       /* frames above it that could not be: dropped */
    uint64_t rx_reassembled;    /* IPv6 datagrams reassembled from fragments */
    uint64_t rx_reasm_dropped;  /* IPv6 datagrams whose fragments were dropped */
    int vnet_hdr_len;           /* 0: plain frames (--disable-offload) */
    uint64_t slirp_fills;       /* slirp_pollfds_fill() walks */
    uint64_t slirp_polls;       /* slirp_pollfds_poll() walks */
    unsigned int slirp_fds;     /* sockets libslirp wanted polled, last fills */
    unsigned int shards;        /* libslirp instances */
    unsigned int threads;       /* threads that run them (--threads) */
    uint64_t epoll_ctls;        /* changes to the epoll sets of its sockets */
    unsigned int epoll_shards;  /* shards whose sockets are in an epoll set */
    uint64_t steered_flows;     /* flows a shard started, in steer.c's table */
    uint64_t steer_full;        /* such flows refused: the table was full */
};

struct stack;

int stack_new(const struct config *cfg, int tapfd, struct stack **ret);
void stack_free(struct stack *st);
Slirp *stack_slirp(struct stack *st);
int stack_set_vnet_hdr(struct stack *st, int len);
void stack_flush(struct stack *st);
const struct stack_stats *stack_get_stats(struct stack *st);

int64_t stack_now_ms(void);
void stack_touch(struct stack *st);
int stack_fill(struct stack *st, int *timeout_ms);
struct loop;
int stack_attach(struct stack *st, struct loop *l);
int stack_on_ready(struct stack *st, void *shard);
unsigned int stack_shards(const struct stack *st);
char *stack_connection_info(struct stack *st);
void stack_poll(struct stack *st, bool poll_failed);
void stack_reap(struct stack *st);
struct timewait_stats;
void stack_get_timewait_stats(struct stack *st, struct timewait_stats *ret);
struct finwait_stats;
void stack_get_finwait_stats(struct stack *st, struct finwait_stats *ret);
int stack_tap_read(struct stack *st, unsigned int budget);
struct policy;
struct policy *stack_policy(struct stack *st);
struct syn6_stats;
bool stack_get_syn6_stats(struct stack *st, struct syn6_stats *ret);
struct err;
unsigned int stack_groups(const struct stack *st);
int stack_group_attach(struct stack *st, unsigned int gi, struct loop *l);
void stack_group_fill(struct stack *st, unsigned int gi, int *timeout_ms);
void stack_group_drain(struct stack *st, unsigned int gi);
void stack_group_after(struct stack *st, unsigned int gi, bool poll_failed);
void stack_group_lock(struct stack *st, unsigned int gi);
void stack_group_unlock(struct stack *st, unsigned int gi);
void stack_group_kick(struct stack *st, unsigned int gi);
void stack_pause(struct stack *st);
void stack_resume(struct stack *st);
uint64_t stack_bytes(const struct stack *st);
int stack_policy_set(struct stack *st, const struct policy_rule *rules,
                     const char *const *origins, size_t n,
                     enum policy_action dflt, bool reset,
                     unsigned int *ret_cut, struct err *e);
