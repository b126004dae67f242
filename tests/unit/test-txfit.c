/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-txfit.c - unit tests for cutting frames above the tap's MTU: fragments, truncated ICMPv6 errors, GSO */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "offload.h"
#include "csumref.h"
#include "tapout.h"

#define MAXF 70000
#define MAXOUT 2048

/* what offload_tx_fit() or the queue passed on */
static struct out {
    uint8_t *f;
    size_t len;
    struct virtio_net_hdr vh;
} outs[MAXOUT];
static unsigned int nout;

static void reset(void)
{
    unsigned int i;

    for (i = 0; i < nout; i++)
        free(outs[i].f);
    nout = 0;
}

static void record(const struct virtio_net_hdr *vh, const void *f, size_t len)
{
    if (nout == MAXOUT)
        abort();
    outs[nout].f = malloc(len);
    memcpy(outs[nout].f, f, len);
    outs[nout].len = len;
    if (vh)
        outs[nout].vh = *vh;
    nout++;
}

static void on_frame(void *opaque, const uint8_t *f, size_t len)
{
    record(NULL, f, len);
}

static int on_write(void *opaque, const struct virtio_net_hdr *vh,
                    const void *f, size_t len)
{
    record(vh, f, len);
    return 0;
}


/* eth + IPv4/IPv6 + @proto header (UDP 8, TCP 20, ICMPv6 8) + @plen bytes;
 * IPv4 header checksum and L4 checksum filled */
static size_t build(uint8_t *f, int v6, uint8_t proto, size_t plen, int df)
{
    size_t l3 = v6 ? 40 : 20, l4 = proto == 6 ? 20 : 8, i;
    uint8_t *ip = f + 14, *th = ip + l3;
    uint32_t s;

    memset(f, 0, 14 + l3 + l4);
    f[12] = v6 ? 0x86 : 0x08;
    f[13] = v6 ? 0xdd : 0x00;
    if (v6) {
        ip[0] = 0x60;
        ip[4] = (uint8_t)((l4 + plen) >> 8);
        ip[5] = (uint8_t)(l4 + plen);
        ip[6] = proto;
        ip[7] = 64;
        ip[8] = 0xfd;
        ip[23] = 0x02;
        ip[24] = 0xfd;
        ip[39] = 0x64;
    } else {
        ip[0] = 0x45;
        ip[2] = (uint8_t)((l3 + l4 + plen) >> 8);
        ip[3] = (uint8_t)(l3 + l4 + plen);
        ip[4] = 0x12;
        ip[5] = 0x34;
        ip[6] = df ? 0x40 : 0;
        ip[8] = 64;
        ip[9] = proto;
        ip[12] = 10; ip[15] = 2;
        ip[16] = 10; ip[19] = 100;
        s = (uint16_t)~csumref_sum16(ip, 20, 0);
        ip[10] = (uint8_t)(s >> 8);
        ip[11] = (uint8_t)s;
    }
    if (proto == 58) {
        th[0] = 1;              /* destination unreachable */
        th[1] = 4;
    } else {
        th[0] = 0x9c; th[1] = 0x40; th[2] = 0x1f; th[3] = 0x90;
    }
    if (proto == 17) {
        th[4] = (uint8_t)((l4 + plen) >> 8);
        th[5] = (uint8_t)(l4 + plen);
    } else if (proto == 6) {
        th[12] = 0x50;
        th[13] = 0x18;
    }
    for (i = 0; i < plen; i++)
        th[l4 + i] = (uint8_t)(i * 7 + (i >> 8));
    return 14 + l3 + l4 + plen;
}

static int fit(const uint8_t *f, size_t len, size_t mtu, uint32_t id)
{
    static uint8_t scratch[MAXF];
    struct frame_info fi;

    frame_parse(f, len, &fi);
    return offload_tx_fit(f, &fi, mtu, id, scratch, on_frame, NULL);
}

/* IPv4: reassemble the fragments, check every header */
static void check4(size_t plen, size_t mtu)
{
    static uint8_t f[MAXF], re[MAXF];
    size_t len = build(f, 0, 17, plen, 0), l3len = len - 14, got = 0;
    size_t want = (l3len + mtu - 1) / mtu, per = (mtu - 20) & ~(size_t)7;
    int r, ok = 1;
    unsigned int i;

    if (l3len > mtu)
        want = (l3len - 20 + per - 1) / per;
    reset();
    r = fit(f, len, mtu, 0);
    TAP_OK(r == (int)want, "IPv4 UDP %zu bytes at MTU %zu: %zu frames (got %d)", l3len, mtu, want, r);
    for (i = 0; i < nout; i++) {
        const uint8_t *ip = outs[i].f + 14;
        size_t tot = (size_t)(ip[2] << 8 | ip[3]), off;
        unsigned int fo = (unsigned int)(ip[6] << 8 | ip[7]);

        off = (fo & 0x1fff) * 8;
        ok &= outs[i].len == 14 + tot && tot <= mtu;
        ok &= csumref_sum16(ip, 20, 0) == 0xffff;                 /* header checksum */
        ok &= ip[4] == 0x12 && ip[5] == 0x34 && ip[9] == 17;
        ok &= !!(fo & 0x2000) == (i + 1 < nout);          /* MF */
        ok &= !(fo & 0x4000);
        ok &= off == got && (i + 1 == nout || (tot - 20) % 8 == 0);
        memcpy(re + off, ip + 20, tot - 20);
        got += tot - 20;
    }
    TAP_OK(ok, "... each fits, offsets in order, MF on all but the last, checksums valid");
    TAP_OK(got == l3len - 20 && !memcmp(re, f + 34, got),
           "... reassembled: the datagram as it was");
    reset();
}

/* IPv6: a fragment header on each, reassemble */
static void check6(size_t plen, size_t mtu, uint32_t id)
{
    static uint8_t f[MAXF], re[MAXF];
    size_t len = build(f, 1, 17, plen, 0), l3len = len - 14, got = 0;
    size_t per = (mtu - 48) & ~(size_t)7, want = 1;
    int r, ok = 1;
    unsigned int i;

    if (l3len > mtu)
        want = (l3len - 40 + per - 1) / per;
    reset();
    r = fit(f, len, mtu, id);
    TAP_OK(r == (int)want, "IPv6 UDP %zu bytes at MTU %zu: %zu frames (got %d)", l3len, mtu, want, r);
    if (want == 1) {
        TAP_OK(nout == 1 && outs[0].len == len && !memcmp(outs[0].f, f, len),
               "... passed on as it is");
        reset();
        return;
    }
    for (i = 0; i < nout; i++) {
        const uint8_t *ip = outs[i].f + 14, *fh = ip + 40;
        size_t pl = (size_t)(ip[4] << 8 | ip[5]), off;
        unsigned int fo = (unsigned int)(fh[2] << 8 | fh[3]);
        uint32_t fid = (uint32_t)fh[4] << 24 | (uint32_t)fh[5] << 16 |
                       (uint32_t)fh[6] << 8 | fh[7];
        struct frame_info fi;

        off = fo & ~7u;
        ok &= outs[i].len == 14 + 40 + pl && 40 + pl <= mtu;
        ok &= ip[6] == 44 && fh[0] == 17 && fh[1] == 0 && fid == id;
        ok &= !memcmp(ip + 8, f + 14 + 8, 32);             /* addresses */
        ok &= !!(fo & 1) == (i + 1 < nout) && !(fo & 6);
        ok &= off == got && (i + 1 == nout || (pl - 8) % 8 == 0);
        frame_parse(outs[i].f, outs[i].len, &fi);
        ok &= fi.cls == FRAME_IP6_FRAG;
        memcpy(re + off, fh + 8, pl - 8);
        got += pl - 8;
    }
    TAP_OK(ok, "... fragment headers: id, next header, offsets, M on all but the last");
    TAP_OK(got == l3len - 40 && !memcmp(re, f + 54, got),
           "... reassembled: the datagram as it was");
    reset();
}

/* an ICMPv6 error too large: truncated to 1280 bytes, checksum valid */
static void check_icmp6(size_t plen, size_t mtu)
{
    static uint8_t f[MAXF];
    size_t len = build(f, 1, 58, plen, 0), l3len = len - 14;
    size_t want = l3len <= mtu ? l3len : (mtu < 1280 ? mtu : 1280);
    int r;

    reset();
    r = fit(f, len, mtu, 0);
    TAP_OK(r == 1, "ICMPv6 error of %zu bytes at MTU %zu: one frame", l3len, mtu);
    if (nout == 1) {
        const uint8_t *ip = outs[0].f + 14;
        size_t pl = (size_t)(ip[4] << 8 | ip[5]);
        uint32_t s = csumref_sum16(ip + 8, 32, 0) + 58 + (uint32_t)pl;

        TAP_OK(outs[0].len == 14 + want && pl == want - 40,
               "... %zu bytes long", want);
        TAP_OK(csumref_sum16(ip + 40, pl, s) == 0xffff || want == l3len,
               "... its checksum verifies");
        TAP_OK(!memcmp(outs[0].f, f, 14 + 4) && !memcmp(ip + 6, f + 14 + 6, 34) &&
               !memcmp(ip + 44, f + 14 + 44, want - 44),
               "... the rest as it was: a prefix of the quoted packet");
    }
    reset();
}

/* the queue: TCP above the MTU goes as GSO, fragments without DATA_VALID */
static void check_txq(void)
{
    static uint8_t f[MAXF];
    static struct offload_txq q;
    struct frame_info fi;
    size_t len;
    int v6;

    offload_txq_init(&q);
    q.mtu = 1500;
    for (v6 = 0; v6 < 2; v6++) {
        size_t hl = v6 ? 60 : 40;
        size_t sizes[] = { 1500 - hl, 1500 - hl + 1, 20000, 60000 };
        unsigned int k;

        for (k = 0; k < 4; k++) {
            len = build(f, v6, 6, sizes[k], 0);
            frame_parse(f, len, &fi);
            reset();
            offload_txq_push(&q, f, &fi);
            offload_txq_flush(&q, on_write, NULL);
            if (hl + sizes[k] <= 1500) {
                TAP_OK(nout == 1 && outs[0].vh.gso_type == VIRTIO_NET_HDR_GSO_NONE &&
                       outs[0].vh.flags == VIRTIO_NET_HDR_F_DATA_VALID &&
                       outs[0].len == len,
                       "IPv%d TCP of exactly the MTU: written as it is", v6 ? 6 : 4);
            } else {
                TAP_OK(nout == 1 &&
                       outs[0].vh.gso_type == (v6 ? VIRTIO_NET_HDR_GSO_TCPV6
                                                  : VIRTIO_NET_HDR_GSO_TCPV4) &&
                       le16toh(outs[0].vh.gso_size) == 1500 - hl &&
                       (outs[0].vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
                       outs[0].len == len && !memcmp(outs[0].f + 14 + hl, f + 14 + hl, sizes[k]),
                       "IPv%d TCP payload %zu above the MTU: one GSO frame, gso_size %zu",
                       v6 ? 6 : 4, sizes[k], 1500 - hl);
            }
        }
        /* a fragment: its checksum covers the datagram, no DATA_VALID */
        len = build(f, v6, 17, 3000, 0);
        {
            static uint8_t scratch[MAXF];
            unsigned int i, ok = 1;

            frame_parse(f, len, &fi);
            reset();
            offload_tx_fit(f, &fi, 1500, 7, scratch, on_frame, NULL);
            {
                unsigned int n = nout;
                struct out saved[8];

                memcpy(saved, outs, n * sizeof(saved[0]));
                nout = 0;
                for (i = 0; i < n; i++) {
                    frame_parse(saved[i].f, saved[i].len, &fi);
                    offload_txq_push(&q, saved[i].f, &fi);
                }
                offload_txq_flush(&q, on_write, NULL);
                for (i = 0; i < n; i++)
                    free(saved[i].f);
                ok = nout == n && n == 3;
                for (i = 0; i < nout; i++)
                    ok &= outs[i].vh.flags == 0 && outs[i].len <= 14 + 1500;
            }
            TAP_OK(ok, "IPv%d fragments are written without DATA_VALID", v6 ? 6 : 4);
        }
        /* UDP above the MTU in the queue (never cut): dropped, counted */
        len = build(f, v6, 17, 3000, 0);
        frame_parse(f, len, &fi);
        reset();
        offload_txq_push(&q, f, &fi);
        offload_txq_flush(&q, on_write, NULL);
        TAP_OK(nout == 0 && q.oversize_dropped == (uint64_t)(v6 + 1),
               "IPv%d UDP above the MTU in the queue: dropped and counted", v6 ? 6 : 4);
    }
    reset();
    offload_txq_free(&q);
}

int main(void)
{
    static uint8_t f[MAXF];
    size_t len;

    /* IPv4 UDP: at, around and far above the MTU */
    check4(1500 - 28, 1500);
    check4(1500 - 28 + 1, 1500);
    check4(1500 - 28 + 8, 1500);
    check4(2 * 1480 - 8, 1500);
    check4(65507, 1500);
    check4(65507, 576);
    check4(9000, 65520);
    check4(65507, 68);
    /* IPv6 UDP */
    check6(1500 - 48, 1500, 1);
    check6(1500 - 48 + 1, 1500, 2);
    check6(1500 - 48 + 9, 1500, 3);
    check6(3 * 1448, 1500, 0xdeadbeef);
    check6(65527 - 40, 1500, 4);
    check6(65000, 1280, 5);
    check6(9000, 65520, 6);
    /* ICMPv6 errors */
    check_icmp6(1500 - 48, 1500);
    check_icmp6(1500 - 48 + 1, 1500);
    check_icmp6(65000, 1500);
    check_icmp6(65000, 65520);

    /* what is not cut */
    len = build(f, 0, 17, 3000, 1);
    reset();
    TAP_IS_INT(fit(f, len, 1500, 0), -EMSGSIZE, "IPv4 with DF: not cut");
    TAP_IS_INT(nout, 0, "... nothing passed on");
    len = build(f, 0, 6, 3000, 0);
    TAP_IS_INT(fit(f, len, 1500, 0), -EMSGSIZE, "IPv4 TCP: not fragmented");
    len = build(f, 1, 6, 3000, 0);
    TAP_IS_INT(fit(f, len, 1500, 0), -EMSGSIZE, "IPv6 TCP: not fragmented");
    len = build(f, 0, 17, 3000, 0);
    f[14] = 0x46;       /* an option */
    TAP_IS_INT(fit(f, len, 1500, 0), -EMSGSIZE, "IPv4 with options: not cut");
    len = build(f, 0, 17, 3000, 0);
    TAP_IS_INT(fit(f, len, 20, 0), -EINVAL, "an MTU too small for 8 bytes: refused");
    f[12] = 0x08; f[13] = 0x06;
    TAP_IS_INT(fit(f, 60, 20, 0), -EINVAL, "not IP: refused");
    TAP_IS_INT(nout, 0, "... nothing passed on");

    /* a fragment cut again keeps its place and its MF */
    len = build(f, 0, 17, 2000, 0);
    f[14 + 6] = 0x20 | 0x01;    /* MF, offset 256 * 8 */
    f[14 + 7] = 0x00;
    reset();
    TAP_IS_INT(fit(f, len, 1500, 0), 2, "an IPv4 fragment of 2028 bytes: two");
    TAP_OK(nout == 2 && outs[0].f[20] == 0x21 && outs[0].f[21] == 0x00 &&
           outs[1].f[20] == 0x21 && outs[1].f[21] == (uint8_t)(1480 / 8),
           "... at offsets 2048 and 2048 + 1480, both with MF");
    reset();

    check_txq();
    return tap_done();
}
