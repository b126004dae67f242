/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-offload.c - unit tests for checksum completion of virtio-net frames */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "offload.h"
#include "csumref.h"
#include "tapout.h"

/* the RFC 1071 reference checksum, complemented as in a header */
static uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t sum)
{
    return (uint16_t)~csumref_sum16(p, len, sum);
}

static uint32_t pseudo4(const uint8_t *ip, uint8_t proto, size_t l4len)
{
    uint32_t s = 0;
    int i;

    for (i = 12; i < 20; i += 2)
        s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    return s + proto + (uint32_t)l4len;
}

static uint32_t pseudo6(const uint8_t *ip6, uint8_t proto, size_t l4len)
{
    uint32_t s = 0;
    int i;

    for (i = 8; i < 40; i += 2)
        s += (uint32_t)(ip6[i] << 8 | ip6[i + 1]);
    return s + proto + (uint32_t)l4len;
}

/* fold a pseudo-header sum into the field the way the kernel leaves it */
static void put_partial(uint8_t *field, uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    field[0] = (uint8_t)(sum >> 8);
    field[1] = (uint8_t)sum;
}

/* build eth + IPv4/IPv6 + TCP/UDP with @plen payload bytes */
static size_t build(uint8_t *f, int v6, int udp, size_t plen, uint8_t seed)
{
    size_t l3 = v6 ? 40 : 20, l4 = udp ? 8 : 20, i;
    uint8_t *ip = f + 14, *th = ip + l3;

    memset(f, 0, 14 + l3 + l4);
    f[12] = v6 ? 0x86 : 0x08;
    f[13] = v6 ? 0xdd : 0x00;
    if (v6) {
        ip[0] = 0x60;
        ip[4] = (uint8_t)((l4 + plen) >> 8);
        ip[5] = (uint8_t)(l4 + plen);
        ip[6] = udp ? 17 : 6;
        ip[7] = 64;
        ip[8] = 0xfd;
        ip[23] = 0x64;
        ip[24] = 0xfd;
        ip[39] = 0x02;
    } else {
        ip[0] = 0x45;
        ip[2] = (uint8_t)((l3 + l4 + plen) >> 8);
        ip[3] = (uint8_t)(l3 + l4 + plen);
        ip[8] = 64;
        ip[9] = udp ? 17 : 6;
        ip[12] = 10; ip[15] = 100;
        ip[16] = 10; ip[19] = 2;
    }
    th[0] = 0x9c; th[1] = 0x40; th[2] = 0x1f; th[3] = 0x90;
    if (udp) {
        th[4] = (uint8_t)((l4 + plen) >> 8);
        th[5] = (uint8_t)(l4 + plen);
    } else {
        th[12] = 0x50;
        th[13] = 0x18;
    }
    for (i = 0; i < plen; i++)
        th[l4 + i] = (uint8_t)(seed + i * 7);
    return 14 + l3 + l4 + plen;
}

static void check_case(int v6, int udp, size_t plen)
{
    static uint8_t f[70000], g[70000];
    size_t l3 = v6 ? 40 : 20, l4 = udp ? 8 : 20;
    size_t len = build(f, v6, udp, plen, (uint8_t)plen);
    size_t start = 14 + l3, off = udp ? 6 : 16;
    uint8_t proto = udp ? 17 : 6;
    uint32_t ps = v6 ? pseudo6(f + 14, proto, l4 + plen)
                     : pseudo4(f + 14, proto, l4 + plen);
    struct virtio_net_hdr vh = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .csum_start = htole16((uint16_t)start),
        .csum_offset = htole16((uint16_t)off),
    };
    uint16_t want, got;

    /* reference: full checksum with the field zeroed */
    memcpy(g, f, len);
    want = ref_csum(g + start, len - start, ps);
    if (udp && want == 0)
        want = 0xffff;

    put_partial(f + start + off, ps);
    TAP_IS_INT(offload_rx(&vh, f, len), 0, "offload_rx accepts");
    got = (uint16_t)(f[start + off] << 8 | f[start + off + 1]);
    if (!tap_ok(got == want, "%s/%s payload %zu: checksum completed",
                v6 ? "IPv6" : "IPv4", udp ? "UDP" : "TCP", plen))
        printf("#   got %04x want %04x\n", got, want);
    /* and it verifies: summing the whole segment with the pseudo-header
     * gives 0 */
    TAP_IS_INT(ref_csum(f + start, len - start, ps), 0, "verifies to zero");
}

static unsigned int nseg;
static size_t seglens[64];
static int seg_ok = 1;
static uint32_t seg_next_seq;
static uint8_t seg_flags[64];

static void seg_cb(void *opaque, const uint8_t *f, const struct frame_info *fi)
{
    const uint8_t *ip = f + 14, *th = ip + 40;
    size_t len = fi->len, l4 = len - 54;
    struct frame_info p;
    uint32_t seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 |
                   (uint32_t)th[6] << 8 | th[7];

    if (nseg < 64) {
        seglens[nseg] = l4 - 20;
        seg_flags[nseg] = th[13];
    }
    nseg++;
    /* payload length field, sequence continuity, full checksum */
    if ((size_t)(ip[4] << 8 | ip[5]) != l4 || seq != seg_next_seq ||
        ref_csum(th, l4, pseudo6(ip, 6, l4)) != 0)
        seg_ok = 0;
    seg_next_seq = seq + (uint32_t)(l4 - 20);
    /* the classification handed on is the segment's own */
    frame_parse(f, len, &p);
    if (p.cls != fi->cls || p.l3len != fi->l3len || p.payoff != fi->payoff ||
        p.paylen != fi->paylen || p.seq != fi->seq || p.ack != fi->ack ||
        p.tcp_flags != fi->tcp_flags || p.sport != fi->sport ||
        p.dport != fi->dport || memcmp(&p.saddr, &fi->saddr, sizeof(p.saddr)) ||
        memcmp(&p.daddr, &fi->daddr, sizeof(p.daddr)))
        seg_ok = 0;
}

/* the tap's call: the super-frame classified once, then cut */
static int tso6(const struct virtio_net_hdr *vh, const uint8_t *f, size_t len,
                uint8_t *scratch)
{
    struct frame_info fi;

    frame_parse(f, len, &fi);
    return offload_rx_tso6(vh, f, &fi, scratch, seg_cb, NULL);
}

static void check_tso6(size_t plen, size_t mss, uint8_t flags)
{
    static uint8_t f[70000], scratch[70000];
    size_t len = build(f, 1, 0, plen, 3);
    struct virtio_net_hdr vh = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
        .gso_size = htole16((uint16_t)mss),
        .csum_start = htole16(54),
        .csum_offset = htole16(16),
    };
    size_t want = plen ? (plen + mss - 1) / mss : 1, i, total = 0;
    int r;

    f[14 + 40 + 13] = flags;
    nseg = 0;
    seg_ok = 1;
    seg_next_seq = 0;
    r = tso6(&vh, f, len, scratch);
    TAP_IS_INT(r, (int)want, "TSO6 segment count");
    TAP_OK(seg_ok, "TSO6 %zu/%zu: lengths, sequence numbers, checksums", plen,
           mss);
    for (i = 0; i < nseg && i < 64; i++)
        total += seglens[i];
    TAP_IS_INT(total, plen, "TSO6: no byte lost");
    TAP_OK(nseg < 1 || !(seg_flags[0] & 0x09) || nseg == 1,
           "FIN/PSH not on the first of several");
    TAP_IS_INT(seg_flags[(nseg < 64 ? nseg : 64) - 1] & 0x09, flags & 0x09,
               "FIN/PSH kept on the last");
    if (nseg > 1)
        TAP_IS_INT(seg_flags[1] & 0x80, 0, "CWR only on the first");
}

int main(void)
{
    static uint8_t f[200];
    struct virtio_net_hdr vh = { 0 };
    uint8_t buf[3] = { 0x12, 0x34, 0x56 };
    size_t sizes[] = { 0, 1, 2, 3, 5, 7, 31, 1459, 1460, 1461, 32767, 65000 };
    size_t i;

    /* the summing primitive against the reference, every alignment */
    for (i = 0; i < 4; i++) {
        static uint8_t d[4096 + 8];
        size_t j, n = 4096 - i;
        for (j = 0; j < sizeof(d); j++)
            d[j] = (uint8_t)(j * 131 + 17);
        TAP_IS_INT(
            (uint16_t)~offload_csum_fold(offload_csum_add(0, d + i, n)),
            /* host order sum of network-order data: compare via htons */
            htons(ref_csum(d + i, n, 0)), "csum_add matches reference");
    }
    TAP_IS_INT(offload_csum_fold(offload_csum_add(0, buf, 3)),
               offload_csum_fold(offload_csum_add(
                   offload_csum_add(0, buf, 2), (uint8_t[]){ 0x56, 0 }, 2)),
               "odd length pads with zero");

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        check_case(0, 0, sizes[i]);
        check_case(0, 1, sizes[i]);
        check_case(1, 0, sizes[i]);
        check_case(1, 1, sizes[i]);
    }

    /* TSO6 super-frames are cut into segments libslirp accepts */
    check_tso6(1440 * 10, 1440, 0x18);
    check_tso6(1440 * 10 + 7, 1440, 0x99);
    check_tso6(500, 1440, 0x11);
    check_tso6(65000, 1220, 0x10);
    /* the smallest gso_size accepted, and gso_size at and above the payload */
    check_tso6(OFFLOAD_TSO6_GSO_MIN * 10 + 5, OFFLOAD_TSO6_GSO_MIN, 0x18);
    check_tso6(OFFLOAD_TSO6_GSO_MIN * 3, OFFLOAD_TSO6_GSO_MIN + 1, 0x10);
    check_tso6(1000, 1000, 0x18);
    check_tso6(1000, 1001, 0x18);
    check_tso6(500, 65535, 0x11);
    {
        static uint8_t g[70000], scratch[70000];
        struct virtio_net_hdr v6h = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV6 };
        size_t len = build(g, 1, 0, 65000, 3);
        unsigned int bad[] = { 1, 2, OFFLOAD_TSO6_GSO_MIN - 1 };
        size_t k;

        for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            v6h.gso_size = htole16((uint16_t)bad[k]);
            nseg = 0;
            TAP_OK(tso6(&v6h, g, len, scratch) ==
                       -EINVAL && nseg == 0,
                   "TSO6 with gso_size %u (below %d) refused, nothing passed on",
                   bad[k], OFFLOAD_TSO6_GSO_MIN);
        }
    }
    {
        static uint8_t g[200], scratch[200];
        struct virtio_net_hdr v6h = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV6 };
        size_t len = build(g, 0, 0, 100, 1);
        v6h.gso_size = htole16(50);
        TAP_OK(tso6(&v6h, g, len, scratch) < 0,
               "TSO6 with an IPv4 frame refused");
        len = build(g, 1, 0, 100, 1);
        v6h.gso_size = 0;
        TAP_OK(tso6(&v6h, g, len, scratch) < 0,
               "TSO6 with gso_size 0 refused");
        v6h.gso_size = htole16(50);
        g[14 + 6] = 0; /* hop-by-hop header: not cut */
        TAP_OK(tso6(&v6h, g, len, scratch) < 0,
               "TSO6 with an extension header refused");
    }

    /* GSO types we never advertise are refused; TCPv4 (+ECN), TCPv6 accepted */
    memset(f, 0, sizeof(f));
    vh.gso_type = VIRTIO_NET_HDR_GSO_UDP;
    TAP_IS_INT(offload_rx(&vh, f, sizeof(f)), -EPROTONOSUPPORT, "UFO refused");
    vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    TAP_IS_INT(offload_rx(&vh, f, sizeof(f)), 0, "TSO6 accepted");
    vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
    TAP_IS_INT(offload_rx(&vh, f, sizeof(f)), 0, "TSO4+ECN accepted");
    vh.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    TAP_IS_INT(offload_rx(&vh, f, sizeof(f)), 0, "no offload: untouched");

    /* offsets outside the frame are refused, never written */
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.csum_start = htole16(190);
    vh.csum_offset = htole16(16);
    TAP_IS_INT(offload_rx(&vh, f, sizeof(f)), -EINVAL, "csum beyond the end");
    vh.csum_start = htole16(198);
    vh.csum_offset = htole16(0);
    TAP_IS_INT(offload_rx(&vh, f, sizeof(f)), 0, "field exactly at the end");
    vh.csum_start = htole16(199);
    TAP_IS_INT(offload_rx(&vh, f, sizeof(f)), -EINVAL, "field past the end");
    vh.csum_start = htole16(0xffff);
    vh.csum_offset = htole16(0xffff);
    TAP_IS_INT(offload_rx(&vh, f, sizeof(f)), -EINVAL, "huge offsets");
    return tap_done();
}
