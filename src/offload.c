/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offload.c - virtio-net header offloads: checksum completion, TSO frames, GSO coalescing */
/*
 * DOC: Theory of Operation
 *
 * With IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4), the
 * namespace's kernel hands us TCP/IPv4 "super-frames" of up to 64 KiB even at
 * MTU 1500, and most frames (SYNs and ACKs included) with a partial checksum:
 * VIRTIO_NET_HDR_F_NEEDS_CSUM, where the checksum field already holds the
 * pseudo-header sum and the rest must be summed from csum_start to the end.
 *
 * libslirp 4.7 takes a 64 KiB IPv4 TCP segment whole (no MRU/MSS check on
 * input: one read, one slirp_input, one host send and one ACK instead of ~44
 * of each), but verifies every checksum and silently drops a bad one, so
 * offload_rx() completes the checksum before slirp_input().
 *
 * libslirp's ip6_input drops IPv6 packets larger than if_mtu, so an IPv6
 * super-frame (TSO6) cannot go in whole: offload_rx_tso6() cuts it into
 * gso_size segments in software, the way the kernel's GSO would have, with
 * full checksums. That still saves the namespace's per-packet transmit work
 * and our per-frame reads. The namespace chooses gso_size, and each segment
 * costs a copy, a checksum and a pass through libslirp (often a send() to
 * the host): a gso_size below OFFLOAD_TSO6_GSO_MIN is refused, so that one
 * 64 KiB frame cannot become 64 Ki segments. A gso_size at or above the
 * payload gives one segment, the frame itself: a segment never exceeds the
 * frame it is cut from. UFO/USO are never advertised (libslirp would
 * forward a GSO UDP datagram as one giant datagram).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "offload.h"
#include "util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OFF_TCP_FLAG_FIN_ 0x01
#define OFF_TCP_FLAG_PSH_ 0x08
#define OFF_TCP_FLAG_CWR_ 0x80

/**
 * offload_csum_add() - add @buf to a one's-complement running sum
 * @sum:	running sum (start with 0)
 * @buf:	data, any alignment
 * @len:	bytes; an odd length is padded with a zero byte
 *
 * Sums 32-bit words into a 64-bit accumulator: vectorisable, and free of
 * carries for any length a frame can have.
 *
 * Return: the new running sum, to fold with offload_csum_fold()
 */
#if defined(__GNUC__) && !defined(__clang__)
/* gcc vectorises this loop only at -O3 */
#define OFFLOAD_HOT __attribute__((optimize("O3")))
#else
#define OFFLOAD_HOT
#endif

OFFLOAD_HOT uint64_t
offload_csum_add(uint64_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t i, n = len / 4;

    for (i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, p + i * 4, 4);
        sum += w;
    }
    p += n * 4;
    len -= n * 4;
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        sum += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = { *p, 0 };
        uint16_t w;
        memcpy(&w, last, 2);
        sum += w;
    }
    return sum;
}

/**
 * offload_csum_fold() - fold a running sum to 16 bits (not complemented)
 * @sum:	from offload_csum_add()
 *
 * Return: the folded sum, in the same byte order as the data summed
 */
uint16_t offload_csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/**
 * offload_rx() - make a frame read with a virtio-net header acceptable to
 *		  libslirp: complete a partial checksum, check the GSO type
 * @vh:		the header that preceded the frame
 * @frame:	the Ethernet frame (modified in place)
 * @len:	its length
 *
 * Return: 0, -EPROTONOSUPPORT for a GSO type we never advertised, or
 *	   -EINVAL if the checksum offsets point outside the frame
 */
int offload_rx(const struct virtio_net_hdr *vh, uint8_t *frame, size_t len)
{
    uint8_t gso = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

    if (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4)
        return -EPROTONOSUPPORT;

    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        size_t start = le16toh(vh->csum_start);
        size_t off = le16toh(vh->csum_offset);
        uint16_t c;

        if (start > len || off > len || start + off + 2 > len)
            return -EINVAL;
        c = (uint16_t)~offload_csum_fold(
            offload_csum_add(0, frame + start, len - start));
        if (off == 6 && c == 0) /* UDP: 0 means "no checksum" */
            c = 0xffff;
        memcpy(frame + start + off, &c, 2);
    }
    return 0;
}

/**
 * offload_rx_tso6() - cut a TCP/IPv6 super-frame into segments for libslirp
 * @vh:		its virtio-net header (gso_type TCPV6, gso_size = MSS)
 * @frame:	Ethernet + IPv6 (no extension headers) + TCP + payload
 * @len:	frame length
 * @scratch:	room for one segment (header + gso_size)
 * @fn:		called with each segment, in order
 * @opaque:	for @fn
 *
 * Each segment gets the IPv6 payload length, sequence number and a full TCP
 * checksum of its own; CWR stays on the first, FIN and PSH on the last, as
 * the kernel's tcp_gso_segment() does.
 *
 * Return: the number of segments, or -EINVAL for a frame we cannot cut
 *	   (not TCP/IPv6 without extension headers, a header outside the
 *	   frame, or a gso_size below OFFLOAD_TSO6_GSO_MIN)
 */
int offload_rx_tso6(const struct virtio_net_hdr *vh, const uint8_t *frame,
                    size_t len, uint8_t *scratch, offload_input_fn fn,
                    void *opaque)
{
    const uint8_t *ip = frame + 14, *th = ip + 40;
    size_t gso = le16toh(vh->gso_size), thl, hlen, plen, off;
    uint32_t seq0;
    uint64_t addr_sum;
    int n = 0;

    if (len < 14 + 40 + 20 || frame[12] != 0x86 || frame[13] != 0xdd ||
        ip[6] != 6 || gso < OFFLOAD_TSO6_GSO_MIN)
        return -EINVAL;
    thl = (size_t)(th[12] >> 4) * 4;
    hlen = 14 + 40 + thl;
    if (thl < 20 || hlen > len)
        return -EINVAL;
    plen = len - hlen;
    seq0 = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 |
           (uint32_t)th[6] << 8 | th[7];
    addr_sum = offload_csum_add(0, ip + 8, 32);

    for (off = 0; off < plen || (plen == 0 && n == 0); off += gso) {
        size_t seg = plen - off < gso ? plen - off : gso;
        uint8_t *sip = scratch + 14, *sth = sip + 40;
        uint32_t seq = seq0 + (uint32_t)off;
        uint8_t ph[4] = { 0, 6, (uint8_t)((thl + seg) >> 8),
                          (uint8_t)(thl + seg) };
        uint16_t c;
        uint64_t sum;

        memcpy(scratch, frame, hlen);
        memcpy(scratch + hlen, frame + hlen + off, seg);
        sip[4] = (uint8_t)((thl + seg) >> 8);
        sip[5] = (uint8_t)(thl + seg);
        sth[4] = (uint8_t)(seq >> 24);
        sth[5] = (uint8_t)(seq >> 16);
        sth[6] = (uint8_t)(seq >> 8);
        sth[7] = (uint8_t)seq;
        if (off)
            sth[13] &= (uint8_t)~OFF_TCP_FLAG_CWR_;
        if (off + seg < plen)
            sth[13] &= (uint8_t)~(OFF_TCP_FLAG_FIN_ | OFF_TCP_FLAG_PSH_);
        sth[16] = sth[17] = 0;
        sum = offload_csum_add(addr_sum, ph, 4);
        sum = offload_csum_add(sum, sth, thl + seg);
        c = (uint16_t)~offload_csum_fold(sum);
        memcpy(sth + 16, &c, 2);
        fn(opaque, scratch, hlen + seg);
        n++;
        if (plen == 0)
            break;
    }
    return n;
}

/*
 * The other direction: libslirp emits MSS-sized TCP segments one by one
 * (at MTU 1500, ~44 per 64 KiB window), and each write into the tap runs the
 * namespace's receive path for one small packet. The transmit queue
 * collects what libslirp sends during one loop iteration; at the end of it,
 * offload_txq_flush() merges runs of consecutive segments of one TCP flow
 * (IPv4 or IPv6 without extension headers) into one GSO frame, the way GRO
 * would have: gso_size = the segments' payload size, a partial checksum
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM, the pseudo-header sum in the field, which
 * a receiving kernel accepts as verified), one write. A segment joins a run
 * only if it is the exact continuation of it: same Ethernet and IP header
 * fields, same TCP ports, options, ACK number and window, sequence number =
 * previous + previous payload, flags ACK (PSH allowed on the last one only),
 * no SYN/FIN/RST/URG/ECE/CWR, every payload but the last exactly gso_size.
 * Everything else goes out as it came, with DATA_VALID.
 */

#define OFF_ETH_LEN 14
/*
 * Segments bigger than this are not merged: at MTU 65520 libslirp's MSS is
 * 32 KiB, two segments fill its 64 KiB window, and one merged frame (one ACK
 * from the namespace instead of two) measured slower than two frames.
 */
#define OFFLOAD_MERGE_MSS_MAX 16384
#define OFF_TCP_FLAG_FIN 0x01
#define OFF_TCP_FLAG_SYN 0x02
#define OFF_TCP_FLAG_RST 0x04
#define OFF_TCP_FLAG_PSH 0x08
#define OFF_TCP_FLAG_ACK 0x10
#define OFF_TCP_FLAG_URG 0x20
#define OFF_TCP_FLAG_ECE 0x40
#define OFF_TCP_FLAG_CWR 0x80

struct offload_seg {
    const uint8_t *f;
    size_t len;
    int v6;
    size_t l3len;       /* IP header length */
    size_t hlen;        /* Ethernet + IP + TCP header length */
    size_t plen;        /* TCP payload length */
    uint32_t seq;
    uint8_t flags;
};

/* parse a frame as a plain TCP segment we could merge; 0 if it is one */
static int offload_seg_parse(const uint8_t *f, size_t len,
                             struct offload_seg *s)
{
    const uint8_t *ip = f + OFF_ETH_LEN, *th;
    uint16_t ethertype;
    size_t l4len, thlen;

    if (len < OFF_ETH_LEN + 20)
        return -1;
    ethertype = util_get_be16(f + 12);
    if (ethertype == 0x0800) {
        size_t tot;
        if (ip[0] != 0x45 || ip[9] != 6)
            return -1;                          /* options or not TCP */
        if (util_get_be16(ip + 6) & 0x3fff)
            return -1;                          /* a fragment */
        tot = util_get_be16(ip + 2);
        if (tot < 20 || OFF_ETH_LEN + tot != len)
            return -1;
        s->v6 = 0;
        s->l3len = 20;
        l4len = tot - 20;
    } else if (ethertype == 0x86dd) {
        if (len < OFF_ETH_LEN + 40 || (ip[0] >> 4) != 6 || ip[6] != 6)
            return -1;                          /* extension headers */
        l4len = util_get_be16(ip + 4);
        if (OFF_ETH_LEN + 40 + l4len != len)
            return -1;
        s->v6 = 1;
        s->l3len = 40;
    } else {
        return -1;
    }
    th = ip + s->l3len;
    if (l4len < 20)
        return -1;
    thlen = (size_t)(th[12] >> 4) * 4;
    if (thlen < 20 || thlen > l4len)
        return -1;
    s->f = f;
    s->len = len;
    s->hlen = OFF_ETH_LEN + s->l3len + thlen;
    s->plen = l4len - thlen;
    s->seq = util_get_be32(th + 4);
    s->flags = th[13];
    return 0;
}

/* may @n follow @p in a run that started with @first? */
static int offload_seg_follows(const struct offload_seg *first,
                               const struct offload_seg *p,
                               const struct offload_seg *n)
{
    const uint8_t *fi = first->f + OFF_ETH_LEN, *ni = n->f + OFF_ETH_LEN;
    const uint8_t *ft = fi + first->l3len, *nt = ni + n->l3len;

    if (n->v6 != first->v6 || n->hlen != first->hlen)
        return 0;
    if (p->flags != OFF_TCP_FLAG_ACK)
        return 0;                               /* PSH ends a run */
    if (n->flags != OFF_TCP_FLAG_ACK &&
        n->flags != (OFF_TCP_FLAG_ACK | OFF_TCP_FLAG_PSH))
        return 0;
    if (p->plen != first->plen || n->plen == 0 || n->plen > first->plen)
        return 0;
    if (n->seq != p->seq + (uint32_t)p->plen)
        return 0;
    if (memcmp(first->f, n->f, OFF_ETH_LEN))
        return 0;
    if (first->v6) {
        /* version/class/flow, next header, hop limit, addresses */
        if (memcmp(fi, ni, 4) || memcmp(fi + 6, ni + 6, 34))
            return 0;
    } else {
        /* TOS; TTL, protocol; addresses (ID and checksum differ) */
        if (fi[1] != ni[1] || memcmp(fi + 8, ni + 8, 2) ||
            memcmp(fi + 12, ni + 12, 8))
            return 0;
    }
    /* ports; ack, data offset (flags checked above), window; options */
    if (memcmp(ft, nt, 4) || memcmp(ft + 8, nt + 8, 5) ||
        memcmp(ft + 14, nt + 14, 2) || util_get_be16(nt + 18) ||
        memcmp(ft + 20, nt + 20, first->hlen - OFF_ETH_LEN - first->l3len - 20))
        return 0;
    return 1;
}

/**
 * offload_txq_init() - an empty transmit queue
 * @q:	the queue
 *
 * Return: 0 or -ENOMEM
 */
int offload_txq_init(struct offload_txq *q)
{
    memset(q, 0, sizeof(*q));
    q->buf = malloc(OFFLOAD_TXQ_BYTES);
    q->scratch = malloc(OFF_ETH_LEN + 65536);
    if (!q->buf || !q->scratch) {
        offload_txq_free(q);
        return -ENOMEM;
    }
    return 0;
}

void offload_txq_free(struct offload_txq *q)
{
    free(q->buf);
    free(q->scratch);
    q->buf = q->scratch = NULL;
}

/**
 * offload_txq_push() - queue a copy of a frame
 * @q:		the queue
 * @frame:	Ethernet frame
 * @len:	its length
 *
 * Return: 0, or -ENOSPC if the queue must be flushed first
 */
int offload_txq_push(struct offload_txq *q, const void *frame, size_t len)
{
    if (q->n == OFFLOAD_TXQ_FRAMES || OFFLOAD_TXQ_BYTES - q->used < len)
        return -ENOSPC;
    memcpy(q->buf + q->used, frame, len);
    q->frames[q->n].off = q->used;
    q->frames[q->n].len = len;
    q->used += len;
    q->n++;
    return 0;
}

/* write segs[0..n) merged into one GSO frame */
static int offload_write_merged(struct offload_txq *q,
                                const struct offload_seg *segs, unsigned int n,
                                offload_write_fn fn, void *opaque)
{
    const struct offload_seg *first = &segs[0], *last = &segs[n - 1];
    uint8_t *m = q->scratch, *ip = m + OFF_ETH_LEN, *th;
    size_t len = first->hlen, l4len, i;
    struct virtio_net_hdr vh = { 0 };
    uint64_t sum;

    memcpy(m, first->f, first->hlen);
    for (i = 0; i < n; i++) {
        memcpy(m + len, segs[i].f + segs[i].hlen, segs[i].plen);
        len += segs[i].plen;
    }
    th = ip + first->l3len;
    th[13] |= last->flags & OFF_TCP_FLAG_PSH;
    l4len = len - OFF_ETH_LEN - first->l3len;

    if (first->v6) {
        util_put_be16(ip + 4, (uint16_t)l4len);
        sum = offload_csum_add(0, ip + 8, 32);
    } else {
        util_put_be16(ip + 2, (uint16_t)(len - OFF_ETH_LEN));
        uint16_t c;
        util_put_be16(ip + 10, 0);
        c = (uint16_t)~offload_csum_fold(offload_csum_add(0, ip, 20));
        memcpy(ip + 10, &c, 2); /* the sum is in memory order */
        sum = offload_csum_add(0, ip + 12, 8);
    }
    /* pseudo-header: addresses (summed above), protocol, TCP length */
    {
        uint8_t ph[4] = { 0, 6, (uint8_t)(l4len >> 8), (uint8_t)l4len };
        uint16_t c;
        sum = offload_csum_add(sum, ph, 4);
        c = offload_csum_fold(sum);
        memcpy(th + 16, &c, 2);
    }

    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.gso_type = first->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    vh.hdr_len = htole16((uint16_t)first->hlen);
    vh.gso_size = htole16((uint16_t)first->plen);
    vh.csum_start = htole16((uint16_t)(OFF_ETH_LEN + first->l3len));
    vh.csum_offset = htole16(16);
    q->merged_frames += n;
    q->gso_frames++;
    return fn(opaque, &vh, m, len);
}

/**
 * offload_txq_flush() - write out the queue, merging TCP runs
 * @q:		the queue (empty afterwards)
 * @fn:		writes one frame with its virtio-net header
 * @opaque:	for @fn
 *
 * Return: the number of writes that failed (their frames are dropped)
 */
unsigned int offload_txq_flush(struct offload_txq *q, offload_write_fn fn,
                               void *opaque)
{
    static const struct virtio_net_hdr valid = {
        .flags = VIRTIO_NET_HDR_F_DATA_VALID,
        .gso_type = VIRTIO_NET_HDR_GSO_NONE,
    };
    struct offload_seg segs[64];
    unsigned int i = 0, failed = 0;

    while (i < q->n) {
        const uint8_t *f = q->buf + q->frames[i].off;
        size_t len = q->frames[i].len, total;
        unsigned int n = 1;

        if (offload_seg_parse(f, len, &segs[0]) == 0 && segs[0].plen &&
            segs[0].plen <= OFFLOAD_MERGE_MSS_MAX &&
            !(segs[0].flags & ~(OFF_TCP_FLAG_ACK | OFF_TCP_FLAG_PSH))) {
            total = segs[0].len;
            while (i + n < q->n && n < ARRAY_LEN(segs)) {
                struct offload_seg *s = &segs[n];
                if (offload_seg_parse(q->buf + q->frames[i + n].off,
                                      q->frames[i + n].len, s) < 0 ||
                    !offload_seg_follows(&segs[0], &segs[n - 1], s) ||
                    total + s->plen > OFF_ETH_LEN + 65535)
                    break;
                total += s->plen;
                n++;
            }
        }
        if (n > 1) {
            if (offload_write_merged(q, segs, n, fn, opaque) < 0)
                failed++;
        } else if (fn(opaque, &valid, f, len) < 0) {
            failed++;
        }
        i += n;
    }
    q->n = 0;
    q->used = 0;
    return failed;
}
