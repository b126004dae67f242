/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offload.h - virtio-net header offloads: checksum completion, TSO frames, GSO coalescing */
#pragma once

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define OFFLOAD_VNET_HDR_LEN ((int)sizeof(struct virtio_net_hdr))

uint64_t offload_csum_add(uint64_t sum, const void *buf, size_t len);
uint16_t offload_csum_fold(uint64_t sum);
int offload_rx(const struct virtio_net_hdr *vh, uint8_t *frame, size_t len);

/*
 * The smallest gso_size offload_rx_tso6() cuts with: a Linux socket sends
 * at least this much payload per segment (TCP_MAXSEG's floor of 88, less
 * the 40 bytes all TCP options can take), so only a hostile sender asks
 * for less; it bounds a 64 KiB frame to about 1400 segments.
 */
#define OFFLOAD_TSO6_GSO_MIN 48

/*
 * The if_mtu the stack gives libslirp, whatever the tap's MTU: libslirp's
 * ip6_input() takes IPv6 payloads up to it, so a TSO6 super-frame of up to
 * 64 KiB goes in whole (its IF_MTU_MAX is 65521). What libslirp writes
 * larger than the tap's MTU, offload_tx_fit() and the transmit queue cut.
 */
#define OFFLOAD_SLIRP_MTU 65520
/* IPv6's minimum link MTU: the most an ICMPv6 error may take */
#define OFFLOAD_IP6_MIN_MTU 1280

typedef void (*offload_frame_fn)(void *opaque, const uint8_t *frame, size_t len);
int offload_tx_fit(const uint8_t *frame, const struct frame_info *fi,
                   size_t mtu, uint32_t id, uint8_t *scratch,
                   offload_frame_fn fn, void *opaque);

typedef void (*offload_input_fn)(void *opaque, const uint8_t *frame,
                                 const struct frame_info *fi);
int offload_rx_tso6(const struct virtio_net_hdr *vh, const uint8_t *frame,
                    const struct frame_info *fi, uint8_t *scratch,
                    offload_input_fn fn, void *opaque);

/* frames queued between two flushes of the coalescer */
#define OFFLOAD_TXQ_FRAMES 512
#define OFFLOAD_TXQ_BYTES (1024 * 1024)

struct offload_txq_frame {
    size_t off;     /* in buf */
    struct frame_info fi;   /* its classification; fi.len is its length */
};

struct offload_txq {
    uint8_t *buf;               /* frames back to back */
    size_t used;
    struct offload_txq_frame *frames;   /* OFFLOAD_TXQ_FRAMES, malloc()ed:
                                         * pages a queue never fills stay
                                         * untouched */
    unsigned int n;
    uint8_t *scratch;           /* one merged frame */
    uint64_t merged_frames;     /* stats: frames that went out merged */
    uint64_t gso_frames;        /* stats: GSO frames written */
    size_t mtu;                 /* the tap's MTU (largest IP packet); 0: none */
    uint64_t oversize_dropped;  /* stats: larger than it, could not be cut */
};

int offload_txq_init(struct offload_txq *q);
void offload_txq_free(struct offload_txq *q);
int offload_txq_push(struct offload_txq *q, const void *frame,
                     const struct frame_info *fi);

/* writes one frame with its header; returns 0 or a negative errno */
typedef int (*offload_write_fn)(void *opaque, const struct virtio_net_hdr *vh,
                                const void *frame, size_t len);
const struct virtio_net_hdr *offload_tx_hdr(const struct frame_info *fi);
unsigned int offload_txq_flush(struct offload_txq *q, offload_write_fn fn,
                               void *opaque);
