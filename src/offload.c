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
 * libslirp's ip6_input drops IPv6 packets whose payload exceeds its if_mtu;
 * the stack gives libslirp an if_mtu of OFFLOAD_SLIRP_MTU whatever the
 * tap's MTU (stack.c), so a TCP/IPv6 super-frame (TSO6) goes in whole too,
 * as an IPv4 one does. Only a super-frame whose payload is larger still (a
 * crafted one: the kernel's 64 KiB GSO limit keeps below it) is cut into
 * gso_size segments in software by offload_rx_tso6(), the way the kernel's
 * GSO would have, with full checksums. The namespace chooses gso_size: one
 * below OFFLOAD_TSO6_GSO_MIN is refused, so that one frame cannot become
 * 64 Ki segments. UFO/USO are never advertised (libslirp would forward a
 * GSO UDP datagram as one giant datagram).
 *
 * With that if_mtu, libslirp no longer bounds what it writes by the tap's
 * MTU: its TCP segments stay within it (its MSS comes from if_mru, the
 * tap's MTU at most, and from the namespace's own offer), but a UDP
 * datagram or an ICMP message from the host is written whole, IPv4 and
 * IPv6 alike. offload_tx_fit() cuts such a frame the way a host or router
 * at the tap's MTU would: IPv4 fragments, IPv6 fragment headers, and an
 * ICMPv6 error truncated to the minimum IPv6 MTU (RFC 4443 2.4 (c)); the
 * transmit queue writes a TCP segment larger than the MTU as a GSO frame.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include "frame.h"
#include "offload.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* IPv4 fragment field bits (<netinet/ip.h> would clash with <linux/ip.h>) */
#define OFFLOAD_IP_DF 0x4000
#define OFFLOAD_IP_MF 0x2000
#define OFFLOAD_IP_OFFMASK 0x1fff
/* the IPv6 fragment header (RFC 8200 4.5); its M flag, host order */
struct offload_frag6 {
    uint8_t nexthdr;
    uint8_t reserved;
    uint16_t frag_off;      /* offset in 8-byte units << 3, M */
    uint32_t id;
};
#define OFFLOAD_IP6_MF 0x0001

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
 *		  (none, TCPV4 or TCPV6: a super-frame goes to libslirp whole)
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

    if (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
        gso != VIRTIO_NET_HDR_GSO_TCPV6)
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

/* the TCP pseudo-header's protocol and length words (the addresses are
 * summed apart): the same 16-bit words for IPv4 and IPv6 */
static uint64_t offload_csum_pseudo(uint64_t sum, size_t l4len)
{
    uint8_t ph[4] = { 0, IPPROTO_TCP, (uint8_t)(l4len >> 8), (uint8_t)l4len };

    return offload_csum_add(sum, ph, sizeof(ph));
}

/**
 * offload_rx_tso6() - cut a TCP/IPv6 super-frame into segments for libslirp
 * @vh:		its virtio-net header (gso_type TCPV6, gso_size = MSS)
 * @frame:	Ethernet + IPv6 (no extension headers) + TCP + payload
 * @fi:		@frame's classification (frame_parse())
 * @scratch:	room for one segment (header + gso_size)
 * @fn:		called with each segment and its classification (derived
 *		from @fi: the same as frame_parse() of the segment), in order
 * @opaque:	for @fn
 *
 * Each segment gets the IPv6 payload length, sequence number and a full TCP
 * checksum of its own; CWR stays on the first, FIN and PSH on the last, as
 * the kernel's tcp_gso_segment() does. The payload is what the IPv6
 * header's length covers.
 *
 * Return: the number of segments, or -EINVAL for a frame we cannot cut
 *	   (not a whole TCP/IPv6 segment without extension headers, or a
 *	   gso_size below OFFLOAD_TSO6_GSO_MIN)
 */
int offload_rx_tso6(const struct virtio_net_hdr *vh, const uint8_t *frame,
                    const struct frame_info *fi, uint8_t *scratch,
                    offload_input_fn fn, void *opaque)
{
    size_t gso = le16toh(vh->gso_size), thl, hlen, plen, off;
    struct frame_info sfi;
    union tcp_word_hdr th0;
    struct ipv6hdr ip0;
    uint64_t addr_sum;
    int n = 0;

    if (fi->cls != FRAME_IP6_TCP || fi->ip6_ext || gso < OFFLOAD_TSO6_GSO_MIN)
        return -EINVAL;
    memcpy(&ip0, frame + fi->l3off, sizeof(ip0));
    memcpy(&th0, frame + fi->l4off, sizeof(th0.hdr));
    thl = fi->payoff - fi->l4off;
    hlen = fi->payoff;
    plen = fi->paylen;
    addr_sum = offload_csum_add(0, &ip0.saddr, sizeof(ip0.saddr));
    addr_sum = offload_csum_add(addr_sum, &ip0.daddr, sizeof(ip0.daddr));
    sfi = *fi;

    for (off = 0; off < plen || (plen == 0 && n == 0); off += gso) {
        size_t seg = plen - off < gso ? plen - off : gso;
        struct ipv6hdr ip = ip0;
        union tcp_word_hdr th = th0;
        uint16_t c;

        ip.payload_len = htons((uint16_t)(thl + seg));
        th.hdr.seq = htonl(fi->seq + (uint32_t)off);
        if (off)
            tcp_flag_word(&th.hdr) &= ~TCP_FLAG_CWR;
        if (off + seg < plen)
            tcp_flag_word(&th.hdr) &= ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
        th.hdr.check = 0;
        memcpy(scratch, frame, hlen);
        memcpy(scratch + fi->l3off, &ip, sizeof(ip));
        memcpy(scratch + fi->l4off, &th, sizeof(th.hdr));
        memcpy(scratch + hlen, frame + hlen + off, seg);
        c = (uint16_t)~offload_csum_fold(offload_csum_add(
            offload_csum_pseudo(addr_sum, thl + seg), scratch + fi->l4off,
            thl + seg));
        memcpy(scratch + fi->l4off + offsetof(struct tcphdr, check), &c,
               sizeof(c));

        sfi.len = (uint32_t)(hlen + seg);
        sfi.l3len = (uint32_t)(sizeof(ip) + thl + seg);
        sfi.paylen = (uint32_t)seg;
        sfi.seq = ntohl(th.hdr.seq);
        sfi.tcp_flags = (uint8_t)(ntohl(tcp_flag_word(&th.hdr)) >> 16);
        fn(opaque, scratch, &sfi);
        n++;
        if (plen == 0)
            break;
    }
    return n;
}

/* offload_tx_fit(), IPv4: fragments of at most @mtu bytes each */
static int offload_fit4(const uint8_t *frame, const struct frame_info *fi,
                        size_t mtu, uint8_t *scratch, offload_frame_fn fn,
                        void *opaque)
{
    size_t l3 = fi->l3off, data = fi->l3len - sizeof(struct iphdr), per, off;
    uint16_t frag, base;
    struct iphdr ip0;
    int n = 0;

    memcpy(&ip0, frame + l3, sizeof(ip0));
    frag = ntohs(ip0.frag_off);
    if (ip0.ihl != 5 || (frag & OFFLOAD_IP_DF))
        return -EMSGSIZE;       /* options, or the sender forbids it */
    if (mtu < sizeof(struct iphdr) + 8)
        return -EINVAL;
    per = (mtu - sizeof(struct iphdr)) & ~(size_t)7;
    base = (uint16_t)(frag & OFFLOAD_IP_OFFMASK);       /* a fragment cut again */
    for (off = 0; off < data; off += per) {
        size_t len = data - off < per ? data - off : per;
        struct iphdr ip = ip0;
        uint16_t fo = (uint16_t)(base + off / 8);

        if (off + len < data || (frag & OFFLOAD_IP_MF))
            fo |= OFFLOAD_IP_MF;
        ip.frag_off = htons(fo);
        ip.tot_len = htons((uint16_t)(sizeof(ip) + len));
        ip.check = 0;
        ip.check = (uint16_t)~offload_csum_fold(offload_csum_add(0, &ip, sizeof(ip)));
        memcpy(scratch, frame, l3);
        memcpy(scratch + l3, &ip, sizeof(ip));
        memcpy(scratch + l3 + sizeof(ip), frame + l3 + sizeof(ip) + off, len);
        fn(opaque, scratch, l3 + sizeof(ip) + len);
        n++;
    }
    return n;
}

/* offload_tx_fit(), IPv6 without extension headers: a fragment header */
static int offload_fit6(const uint8_t *frame, const struct frame_info *fi,
                        size_t mtu, uint32_t id, uint8_t *scratch,
                        offload_frame_fn fn, void *opaque)
{
    size_t l3 = fi->l3off, hl = sizeof(struct ipv6hdr) + sizeof(struct offload_frag6);
    size_t data = fi->l3len - sizeof(struct ipv6hdr), per, off;
    struct ipv6hdr ip0;
    int n = 0;

    if (mtu < hl + 8)
        return -EINVAL;
    memcpy(&ip0, frame + l3, sizeof(ip0));
    per = (mtu - hl) & ~(size_t)7;
    for (off = 0; off < data; off += per) {
        size_t len = data - off < per ? data - off : per;
        struct ipv6hdr ip = ip0;
        struct offload_frag6 fh = {
            .nexthdr = ip0.nexthdr,
            .frag_off = htons((uint16_t)(off | (off + len < data ? OFFLOAD_IP6_MF : 0))),
            .id = htonl(id),
        };

        ip.nexthdr = IPPROTO_FRAGMENT;
        ip.payload_len = htons((uint16_t)(sizeof(fh) + len));
        memcpy(scratch, frame, l3);
        memcpy(scratch + l3, &ip, sizeof(ip));
        memcpy(scratch + l3 + sizeof(ip), &fh, sizeof(fh));
        memcpy(scratch + l3 + hl, frame + l3 + sizeof(ip) + off, len);
        fn(opaque, scratch, l3 + hl + len);
        n++;
    }
    return n;
}

/* offload_tx_fit(), an ICMPv6 error: as much of the invoking packet as
 * fits in the minimum IPv6 MTU, as RFC 4443 2.4 (c) asks */
static int offload_fit_icmp6_error(const uint8_t *frame,
                                   const struct frame_info *fi, size_t mtu,
                                   uint8_t *scratch, offload_frame_fn fn,
                                   void *opaque)
{
    size_t l3 = fi->l3off, l3len = mtu < OFFLOAD_IP6_MIN_MTU ? mtu : OFFLOAD_IP6_MIN_MTU;
    size_t l4len = l3len - sizeof(struct ipv6hdr);
    struct ipv6hdr ip;
    uint8_t ph[4] = { 0, IPPROTO_ICMPV6, (uint8_t)(l4len >> 8), (uint8_t)l4len };
    uint64_t sum;
    uint16_t c = 0;

    if (l3len < sizeof(struct ipv6hdr) + 8)
        return -EINVAL;
    memcpy(scratch, frame, l3 + l3len);
    memcpy(&ip, scratch + l3, sizeof(ip));
    ip.payload_len = htons((uint16_t)l4len);
    memcpy(scratch + l3, &ip, sizeof(ip));
    memcpy(scratch + l3 + sizeof(ip) + 2, &c, sizeof(c));
    sum = offload_csum_add(0, &ip.saddr, sizeof(ip.saddr));
    sum = offload_csum_add(sum, &ip.daddr, sizeof(ip.daddr));
    sum = offload_csum_add(sum, ph, sizeof(ph));
    c = (uint16_t)~offload_csum_fold(
        offload_csum_add(sum, scratch + l3 + sizeof(ip), l4len));
    memcpy(scratch + l3 + sizeof(ip) + 2, &c, sizeof(c));
    fn(opaque, scratch, l3 + l3len);
    return 1;
}

/**
 * offload_tx_fit() - cut a frame for the namespace that is larger than its
 *		      MTU into frames that fit, as a host or router would
 * @frame:	Ethernet + IP frame
 * @fi:		its classification (frame_parse())
 * @mtu:	the largest IP packet the namespace takes (the tap's MTU)
 * @id:		the identification for an IPv6 fragment header
 * @scratch:	room for one Ethernet header + @mtu bytes
 * @fn:		called with each frame, in order (fragments: the offset in
 *		their header says where they belong)
 * @opaque:	for @fn
 *
 * An IPv4 packet (a fragment too) without options and without DF becomes
 * IPv4 fragments; an ICMPv6 error is truncated to fit the minimum IPv6 MTU
 * (1280) or @mtu if smaller; any other IPv6 packet without extension
 * headers gets a fragment header and becomes fragments. The L4 checksum is
 * left as it is: it covers the reassembled packet. A frame that already
 * fits is passed on as it is.
 *
 * Return: the number of frames passed to @fn, -EMSGSIZE for one that must
 *	   not or cannot be cut so (TCP: a GSO frame's job; IPv4 with DF or
 *	   options; IPv6 with extension headers), -EINVAL for a frame that is
 *	   no IP packet or an @mtu too small for a fragment
 */
int offload_tx_fit(const uint8_t *frame, const struct frame_info *fi,
                   size_t mtu, uint32_t id, uint8_t *scratch,
                   offload_frame_fn fn, void *opaque)
{
    if (fi->ipver != 4 && fi->ipver != 6)
        return -EINVAL;
    if (fi->l3len <= mtu) {
        fn(opaque, frame, fi->l3off + fi->l3len);
        return 1;
    }
    if (frame_is_tcp(fi))
        return -EMSGSIZE;
    if (fi->ipver == 4)
        return offload_fit4(frame, fi, mtu, scratch, fn, opaque);
    if (fi->ip6_ext)
        return -EMSGSIZE;
    if (fi->l4proto == IPPROTO_ICMPV6 && fi->icmp_type < 128)
        return offload_fit_icmp6_error(frame, fi, mtu, scratch, fn, opaque);
    return offload_fit6(frame, fi, mtu, id, scratch, fn, opaque);
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

/*
 * Segments bigger than this are not merged: at MTU 65520 libslirp's MSS is
 * 32 KiB, two segments fill its 64 KiB window, and one merged frame (one ACK
 * from the namespace instead of two) measured slower than two frames.
 */
#define OFFLOAD_MERGE_MSS_MAX 16384
/* the largest IP packet a merged frame may hold */
#define OFFLOAD_MERGE_IP_MAX 65535

/* one queued frame, with its classification from offload_txq_push() */
struct offload_seg {
    const uint8_t *f;
    const struct frame_info *fi;
};

/* a whole TCP segment, nothing after it, no IPv4 options or IPv6
 * extension headers: one the coalescer may merge */
static int offload_seg_plain(const struct frame_info *fi)
{
    size_t iphl = fi->ipver == 6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);

    return frame_is_tcp(fi) && fi->l3off + fi->l3len == fi->len &&
           fi->l4off - fi->l3off == iphl;
}

/* may @n follow @p in a run that started with @first? */
static int offload_seg_follows(const struct offload_seg *first,
                               const struct offload_seg *p,
                               const struct offload_seg *n)
{
    const struct frame_info *ff = first->fi, *pf = p->fi, *nf = n->fi;
    struct tcphdr ft, nt;

    if (!offload_seg_plain(nf) || nf->ipver != ff->ipver ||
        nf->payoff != ff->payoff)
        return 0;
    if (pf->tcp_flags != FRAME_TCP_ACK)
        return 0;                               /* PSH ends a run */
    if (nf->tcp_flags != FRAME_TCP_ACK &&
        nf->tcp_flags != (FRAME_TCP_ACK | FRAME_TCP_PSH))
        return 0;
    if (pf->paylen != ff->paylen || nf->paylen == 0 || nf->paylen > ff->paylen)
        return 0;
    if (nf->seq != pf->seq + pf->paylen)
        return 0;
    if (memcmp(first->f, n->f, ff->l3off))      /* Ethernet header */
        return 0;
    if (ff->ipver == 6) {
        struct ipv6hdr fi6, ni6;

        /* all but the payload length */
        memcpy(&fi6, first->f + ff->l3off, sizeof(fi6));
        memcpy(&ni6, n->f + nf->l3off, sizeof(ni6));
        fi6.payload_len = ni6.payload_len = 0;
        if (memcmp(&fi6, &ni6, sizeof(fi6)))
            return 0;
    } else {
        struct iphdr fi4, ni4;

        /* ID, checksum, length and flags differ */
        memcpy(&fi4, first->f + ff->l3off, sizeof(fi4));
        memcpy(&ni4, n->f + nf->l3off, sizeof(ni4));
        if (fi4.tos != ni4.tos || fi4.ttl != ni4.ttl ||
            fi4.protocol != ni4.protocol || fi4.saddr != ni4.saddr ||
            fi4.daddr != ni4.daddr)
            return 0;
    }
    /* ports (same flow), ack, data offset, window, no urgent pointer,
     * options (flags checked above, sequence number just now) */
    memcpy(&ft, first->f + ff->l4off, sizeof(ft));
    memcpy(&nt, n->f + nf->l4off, sizeof(nt));
    if (ft.source != nt.source || ft.dest != nt.dest ||
        ft.ack_seq != nt.ack_seq || ft.doff != nt.doff ||
        ft.res1 != nt.res1 || ft.window != nt.window || nt.urg_ptr ||
        memcmp(first->f + ff->l4off + sizeof(ft), n->f + nf->l4off + sizeof(nt),
               ff->payoff - ff->l4off - sizeof(ft)))
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
    q->frames = malloc(OFFLOAD_TXQ_FRAMES * sizeof(*q->frames));
    q->scratch = malloc(sizeof(struct ethhdr) + 65536);
    if (!q->buf || !q->frames || !q->scratch) {
        offload_txq_free(q);
        return -ENOMEM;
    }
    return 0;
}

void offload_txq_free(struct offload_txq *q)
{
    free(q->buf);
    free(q->frames);
    free(q->scratch);
    q->buf = q->scratch = NULL;
    q->frames = NULL;
}

/**
 * offload_txq_push() - queue a copy of a frame
 * @q:		the queue
 * @frame:	Ethernet frame
 * @fi:		its classification (frame_parse()), kept with the copy
 *
 * Return: 0, or -ENOSPC if the queue must be flushed first
 */
int offload_txq_push(struct offload_txq *q, const void *frame,
                     const struct frame_info *fi)
{
    size_t len = fi->len;

    if (q->n == OFFLOAD_TXQ_FRAMES || OFFLOAD_TXQ_BYTES - q->used < len)
        return -ENOSPC;
    memcpy(q->buf + q->used, frame, len);
    q->frames[q->n].off = q->used;
    q->frames[q->n].fi = *fi;
    q->used += len;
    q->n++;
    return 0;
}

/* write segs[0..n) merged into one GSO frame (n may be 1: a segment larger
 * than the MTU) */
static int offload_write_merged(struct offload_txq *q,
                                const struct offload_seg *segs, unsigned int n,
                                offload_write_fn fn, void *opaque)
{
    const struct frame_info *ff = segs[0].fi, *lf = segs[n - 1].fi;
    uint8_t *m = q->scratch;
    size_t len = ff->payoff, l4len, i, gso;
    struct virtio_net_hdr vh = { 0 };
    union tcp_word_hdr th;
    uint64_t sum;

    memcpy(m, segs[0].f, ff->payoff);
    for (i = 0; i < n; i++) {
        memcpy(m + len, segs[i].f + segs[i].fi->payoff, segs[i].fi->paylen);
        len += segs[i].fi->paylen;
    }
    l4len = len - ff->l4off;

    if (ff->ipver == 6) {
        struct ipv6hdr ip;

        memcpy(&ip, m + ff->l3off, sizeof(ip));
        ip.payload_len = htons((uint16_t)l4len);
        memcpy(m + ff->l3off, &ip, sizeof(ip));
        sum = offload_csum_add(0, &ip.saddr, sizeof(ip.saddr));
        sum = offload_csum_add(sum, &ip.daddr, sizeof(ip.daddr));
    } else {
        struct iphdr ip;

        memcpy(&ip, m + ff->l3off, sizeof(ip));
        ip.tot_len = htons((uint16_t)(len - ff->l3off));
        ip.check = 0;
        /* the sum is in memory order, as the field */
        ip.check = (uint16_t)~offload_csum_fold(offload_csum_add(0, &ip, sizeof(ip)));
        memcpy(m + ff->l3off, &ip, sizeof(ip));
        sum = offload_csum_add(0, &ip.saddr, sizeof(ip.saddr));
        sum = offload_csum_add(sum, &ip.daddr, sizeof(ip.daddr));
    }
    /* a partial checksum: the pseudo-header's sum, not complemented */
    memcpy(&th, m + ff->l4off, sizeof(th.hdr));
    if (lf->tcp_flags & FRAME_TCP_PSH)
        tcp_flag_word(&th.hdr) |= TCP_FLAG_PSH;
    th.hdr.check = offload_csum_fold(offload_csum_pseudo(sum, l4len));
    memcpy(m + ff->l4off, &th, sizeof(th.hdr));

    /* the namespace's GSO cuts by gso_size: at most its MTU */
    gso = ff->paylen;
    if (q->mtu && ff->payoff - ff->l3off + gso > q->mtu)
        gso = q->mtu - (ff->payoff - ff->l3off);
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.gso_type = ff->ipver == 6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    vh.hdr_len = htole16((uint16_t)ff->payoff);
    vh.gso_size = htole16((uint16_t)gso);
    vh.csum_start = htole16((uint16_t)ff->l4off);
    vh.csum_offset = htole16((uint16_t)offsetof(struct tcphdr, check));
    q->merged_frames += n;
    q->gso_frames++;
    return fn(opaque, &vh, m, len);
}

/**
 * offload_tx_hdr() - the virtio-net header of a frame libslirp wrote, as
 *		      it is (no GSO)
 * @fi:	its classification
 *
 * libslirp's frames carry correct checksums: DATA_VALID spares the
 * namespace's kernel from verifying them again. Not on a fragment, whose
 * checksum covers the whole datagram: the kernel checks that after
 * reassembly.
 *
 * Return: a header that lives for ever
 */
const struct virtio_net_hdr *offload_tx_hdr(const struct frame_info *fi)
{
    static const struct virtio_net_hdr valid = {
        .flags = VIRTIO_NET_HDR_F_DATA_VALID,
        .gso_type = VIRTIO_NET_HDR_GSO_NONE,
    }, none = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };

    return fi->cls == FRAME_IP4_FRAG || fi->cls == FRAME_IP6_FRAG ? &none : &valid;
}

/**
 * offload_txq_flush() - write out the queue, merging TCP runs
 * @q:		the queue (empty afterwards)
 *
 * With q->mtu set, a TCP segment larger than it goes out as a GSO frame
 * with a gso_size that fits; any other frame larger than it is dropped
 * and counted (oversize_dropped): offload_tx_fit() cuts them before they
 * are queued.
 * @fn:		writes one frame with its virtio-net header
 * @opaque:	for @fn
 *
 * Return: the number of writes that failed (their frames are dropped)
 */
unsigned int offload_txq_flush(struct offload_txq *q, offload_write_fn fn,
                               void *opaque)
{
    struct offload_seg segs[64];
    unsigned int i = 0, failed = 0;

    while (i < q->n) {
        const uint8_t *f = q->buf + q->frames[i].off;
        const struct frame_info *fi = &q->frames[i].fi;
        size_t total;
        unsigned int n = 1;

        if (offload_seg_plain(fi) && fi->paylen &&
            fi->paylen <= OFFLOAD_MERGE_MSS_MAX &&
            !(fi->tcp_flags & ~(FRAME_TCP_ACK | FRAME_TCP_PSH))) {
            segs[0].f = f;
            segs[0].fi = fi;
            total = fi->len;
            while (i + n < q->n && n < ARRAY_LEN(segs)) {
                struct offload_seg *s = &segs[n];

                s->f = q->buf + q->frames[i + n].off;
                s->fi = &q->frames[i + n].fi;
                if (!offload_seg_follows(&segs[0], &segs[n - 1], s) ||
                    total + s->fi->paylen > fi->l3off + OFFLOAD_MERGE_IP_MAX)
                    break;
                total += s->fi->paylen;
                n++;
            }
        }
        if (n == 1 && q->mtu && fi->l3len > q->mtu) {
            /* only a TCP segment comes here larger than the MTU
             * (offload_tx_fit() cut the rest): GSO cuts it, in the
             * namespace's kernel */
            if (offload_seg_plain(fi) && fi->paylen &&
                fi->payoff - fi->l3off < q->mtu) {
                segs[0].f = f;
                segs[0].fi = fi;
            } else {
                q->oversize_dropped++;
                i++;
                continue;
            }
        }
        if (n > 1 || (q->mtu && fi->l3len > q->mtu)) {
            if (offload_write_merged(q, segs, n, fn, opaque) < 0)
                failed++;
        } else if (fn(opaque, offload_tx_hdr(fi), f, fi->len) < 0) {
            failed++;
        }
        i += n;
    }
    q->n = 0;
    q->used = 0;
    return failed;
}
