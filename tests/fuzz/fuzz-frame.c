/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-frame.c - libFuzzer target: any bytes through the frame classifier, and what it finds through the TSO6 cut, the cuts to an MTU, IPv6 reassembly and the coalescer */
/*
 * The input is 2 bytes of gso_size, then one frame from the namespace (or
 * from libslirp: the coalescer reads its classification the same way).
 * The frame is copied to a buffer of its exact size, so ASan sees any read
 * past it. Checked: every offset and length the classification gives lies
 * inside the frame; a TSO6 cut hands on, with each segment, the
 * classification frame_parse() gives that segment; the same two bytes give
 * an MTU, and offload_tx_fit() passes on only frames within it; an IPv6
 * fragment goes through the reassembly table (a datagram it completes is
 * parsed again); a frame queued twice flushes to whole frames.
 *
 * Run: ./fuzz-frame -max_total_time=60 [corpus-dir]
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "offload.h"
#include "reasm6.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_bounds(const struct frame_info *fi)
{
    if (fi->cls > FRAME_IP6_OTHER)
        abort();
    if (fi->ipver && fi->cls != FRAME_MALFORMED &&
        (fi->l3off + fi->l3len > fi->len || fi->l4off < fi->l3off ||
         fi->l4off > fi->l3off + fi->l3len))
        abort();
    if ((fi->cls == FRAME_IP4_TCP || fi->cls == FRAME_IP6_TCP ||
         fi->cls == FRAME_IP4_UDP || fi->cls == FRAME_IP6_UDP ||
         fi->cls == FRAME_IP4_DHCP || fi->cls == FRAME_IP6_DHCP) &&
        (fi->payoff < fi->l4off || fi->payoff + fi->paylen > fi->l3off + fi->l3len))
        abort();
}

/* offload_input_fn: the derived classification is the segment's own */
static void check_segment(void *opaque, const uint8_t *seg,
                          const struct frame_info *fi)
{
    struct frame_info p;

    (void)opaque;
    frame_parse(seg, fi->len, &p);
    if (p.cls != fi->cls || p.len != fi->len || p.l3len != fi->l3len ||
        p.l4off != fi->l4off || p.payoff != fi->payoff ||
        p.paylen != fi->paylen || p.seq != fi->seq || p.ack != fi->ack ||
        p.tcp_flags != fi->tcp_flags || p.sport != fi->sport ||
        p.dport != fi->dport)
        abort();
}

/* offload_write_fn: whole frames only */
static int check_write(void *opaque, const struct virtio_net_hdr *vh,
                       const void *frame, size_t len)
{
    (void)opaque;
    (void)vh;
    (void)frame;
    if (len > 14 + 65535 + 60)
        abort();
    return 0;
}

/* offload_frame_fn: every frame offload_tx_fit() passes on fits */
struct fit_limit {
    size_t l3off, mtu;
};

static void check_fit(void *opaque, const uint8_t *frame, size_t len)
{
    const struct fit_limit *lim = opaque;
    struct frame_info fi;

    if (len > lim->l3off + lim->mtu)
        abort();
    frame_parse(frame, len, &fi);
    check_bounds(&fi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct offload_txq q;
    static struct reasm6 *ra;
    static int q_ready;
    struct fit_limit lim;
    const uint8_t *whole;
    size_t wlen;
    struct virtio_net_hdr vh = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV6 };
    struct frame_info fi;
    uint8_t *f, *scratch;
    size_t len;

    if (size < 2)
        return 0;
    if (!q_ready) {
        if (offload_txq_init(&q) < 0 || reasm6_new(&ra) < 0)
            abort();
        q_ready = 1;
    }
    vh.gso_size = htole16((uint16_t)(data[0] << 8 | data[1]));
    len = size - 2;
    f = malloc(len ? len : 1);
    if (!f)
        return 0;
    memcpy(f, data + 2, len);
    frame_parse(f, len, &fi);
    check_bounds(&fi);

    if (fi.cls == FRAME_IP6_TCP) {
        scratch = malloc(fi.payoff + le16toh(vh.gso_size) + 1);
        if (scratch) {
            offload_rx_tso6(&vh, f, &fi, scratch, check_segment, NULL);
            free(scratch);
        }
    }
    /* the same two bytes give an MTU for the cuts: 68 to 9067 */
    lim.mtu = 68 + (size_t)le16toh(vh.gso_size) % 9000;
    lim.l3off = fi.l3off;
    q.mtu = lim.mtu;
    if (fi.ipver) {
        scratch = malloc(fi.l3off + lim.mtu);
        if (scratch) {
            offload_tx_fit(f, &fi, lim.mtu, 1, scratch, check_fit, &lim);
            free(scratch);
        }
    }
    if (fi.cls == FRAME_IP6_FRAG &&
        reasm6_add(ra, f, &fi, (int64_t)data[0] * 1000, &whole, &wlen) == 1) {
        struct frame_info wfi;

        if (wlen > REASM6_FRAME_MAX)
            abort();
        frame_parse(whole, wlen, &wfi);
        check_bounds(&wfi);
    }
    if (offload_txq_push(&q, f, &fi) == 0)
        offload_txq_push(&q, f, &fi);
    offload_txq_flush(&q, check_write, NULL);
    free(f);
    return 0;
}
