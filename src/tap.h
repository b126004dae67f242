/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tap.h - /dev/net/tun: set a tap up, and move its frames (virtio-net header, offloads) */
#pragma once

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

struct frame_info;
struct virtio_net_hdr;

struct tap_info {
    char name[IFNAMSIZ];
    unsigned int flags;   /* IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, ... */
};

int tap_open(const char *name, unsigned int flags, int *ret_fd);
int tap_query(int fd, struct tap_info *ret);
int tap_set_nonblock(int fd);
int tap_enable_offload(int fd, unsigned int *ret_offload);
int tap_vnet_hdr_len(int fd, unsigned int flags);

/* room for the largest frame: IP MTU 65521 + Ethernet header (+ slack) */
#define TAP_FRAME_MAX (65536 + 256 + 12)

/* what went through the tap (struct stack_stats reports them) */
struct tap_stats {
    uint64_t rx_frames;         /* frames (and TSO6 segments) handed on */
    uint64_t rx_bytes;
    uint64_t rx_dropped;        /* bad virtio-net header or offsets */
    uint64_t rx_gso_frames;     /* TSO super-frames from the namespace */
    uint64_t tx_frames;         /* frames written */
    uint64_t tx_bytes;
    uint64_t tx_dropped;        /* write failed: frame dropped */
};

struct tap;

/* one frame from the namespace, without its virtio-net header, and its
 * classification (fi->len is its length) */
typedef void (*tap_frame_fn)(void *opaque, const uint8_t *frame,
                             const struct frame_info *fi);

int tap_new(int fd, struct tap **ret);
void tap_free(struct tap *t);
void tap_set_vnet_hdr(struct tap *t, int len);
int tap_get_vnet_hdr(const struct tap *t);
int tap_read_frames(struct tap *t, unsigned int budget, tap_frame_fn fn,
                    void *opaque);
int tap_write_frame(struct tap *t, const struct virtio_net_hdr *vh,
                    const void *buf, size_t len);
const struct tap_stats *tap_get_stats(const struct tap *t);
