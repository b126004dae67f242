/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-coalesce.c - unit tests for merging libslirp's TCP segments into GSO frames */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "offload.h"
#include "csumref.h"
#include "tapout.h"

struct out {
    struct virtio_net_hdr vh;
    uint8_t f[70000];
    size_t len;
};
static struct out outs[64];
static unsigned int nout;

static int capture(void *opaque, const struct virtio_net_hdr *vh,
                   const void *frame, size_t len)
{
    struct out *o;

    if (nout >= sizeof(outs) / sizeof(outs[0])) {
        nout++; /* counted, not kept */
        return 0;
    }
    o = &outs[nout++];
    o->vh = *vh;
    memcpy(o->f, frame, len);
    o->len = len;
    return 0;
}

/* queue a frame as the stack does: classified once, then pushed */
static int txq_push(struct offload_txq *q, const void *f, size_t len)
{
    struct frame_info fi;

    frame_parse(f, len, &fi);
    return offload_txq_push(q, f, &fi);
}


struct segspec {
    int v6;
    uint32_t seq, ack;
    uint8_t flags;
    size_t plen;
    uint16_t win, sport, urg;
    int opts;           /* 4 bytes of TCP options (NOP NOP NOP NOP) */
    int exthdr;         /* IPv6 hop-by-hop header before TCP */
    uint8_t tos;
};

static size_t mkseg(uint8_t *f, const struct segspec *s)
{
    size_t l3 = s->v6 ? 40 : 20, ext = s->exthdr ? 8 : 0;
    size_t thl = 20 + (s->opts ? 4 : 0), i;
    uint8_t *ip = f + 14, *th = ip + l3 + ext;
    size_t l4 = thl + s->plen;
    uint32_t ps = 0;

    memset(f, 0, 14 + l3 + ext + thl);
    memcpy(f, "\x02\x00\x00\x00\x00\x64\x52\x55\x0a\x00\x02\x02", 12);
    if (s->v6) {
        f[12] = 0x86; f[13] = 0xdd;
        ip[0] = 0x60;
        ip[4] = (uint8_t)((l4 + ext) >> 8); ip[5] = (uint8_t)(l4 + ext);
        ip[6] = s->exthdr ? 0 : 6;
        ip[7] = 64;
        ip[8] = 0xfd; ip[23] = 0x02; ip[24] = 0xfd; ip[39] = 0x64;
        if (s->exthdr) {
            ip[40] = 6;       /* next: TCP */
            ip[41] = 0;       /* 8 bytes */
            ip[42] = 1;       /* PadN */
            ip[43] = 4;
        }
        for (i = 8; i < 40; i += 2)
            ps += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    } else {
        f[12] = 0x08; f[13] = 0x00;
        ip[0] = 0x45;
        ip[1] = s->tos;
        ip[2] = (uint8_t)((20 + l4) >> 8); ip[3] = (uint8_t)(20 + l4);
        ip[4] = (uint8_t)(s->seq >> 8); ip[5] = (uint8_t)s->seq; /* some ID */
        ip[8] = 64; ip[9] = 6;
        ip[12] = 10; ip[15] = 2; ip[16] = 10; ip[19] = 100;
        for (i = 12; i < 20; i += 2)
            ps += (uint32_t)(ip[i] << 8 | ip[i + 1]);
        {
            uint16_t c = (uint16_t)~csumref_sum16(ip, 20, 0);
            ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
        }
    }
    th[0] = (uint8_t)(s->sport >> 8); th[1] = (uint8_t)s->sport;
    th[2] = 0x14; th[3] = 0x51;
    th[4] = (uint8_t)(s->seq >> 24); th[5] = (uint8_t)(s->seq >> 16);
    th[6] = (uint8_t)(s->seq >> 8); th[7] = (uint8_t)s->seq;
    th[8] = (uint8_t)(s->ack >> 24); th[9] = (uint8_t)(s->ack >> 16);
    th[10] = (uint8_t)(s->ack >> 8); th[11] = (uint8_t)s->ack;
    th[12] = (uint8_t)((thl / 4) << 4);
    th[13] = s->flags;
    th[14] = (uint8_t)(s->win >> 8); th[15] = (uint8_t)s->win;
    th[18] = (uint8_t)(s->urg >> 8); th[19] = (uint8_t)s->urg;
    if (s->opts)
        memset(th + 20, 1, 4);
    for (i = 0; i < s->plen; i++)
        th[thl + i] = (uint8_t)(s->seq + i);
    ps += 6 + (uint32_t)l4;
    {
        uint16_t c = (uint16_t)~csumref_sum16(th, l4, ps);
        th[16] = (uint8_t)(c >> 8); th[17] = (uint8_t)c;
    }
    return 14 + l3 + ext + l4;
}

static struct offload_txq q;

static void push(struct segspec s)
{
    static uint8_t f[70000];
    size_t len;

    if (!s.win)
        s.win = 65535;
    if (!s.sport)
        s.sport = 40000;
    if (!s.ack)
        s.ack = 777;
    if (!s.flags)
        s.flags = 0x10;
    len = mkseg(f, &s);
    txq_push(&q, f, len);
}

/* verify a merged (or plain) output frame: IP header checksum, full TCP
 * checksum once the partial one is completed, payload bytes continuous */
static int frame_ok(const struct out *o, uint32_t seq0, size_t plen_total)
{
    const uint8_t *ip = o->f + 14, *th;
    int v6 = o->f[12] == 0x86;
    size_t l3 = v6 ? 40 : 20, thl, l4, i;
    uint32_t ps = 0;

    th = ip + l3;
    thl = (size_t)(th[12] >> 4) * 4;
    l4 = o->len - 14 - l3;
    if (!v6) {
        if (csumref_sum16(ip, 20, 0) != 0xffff)
            return 0;
        if ((size_t)(ip[2] << 8 | ip[3]) != o->len - 14)
            return 0;
        for (i = 12; i < 20; i += 2)
            ps += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    } else {
        if ((size_t)(ip[4] << 8 | ip[5]) != l4)
            return 0;
        for (i = 8; i < 40; i += 2)
            ps += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    ps += 6 + (uint32_t)l4;
    if (o->vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        /* field holds the pseudo-header sum: the kernel accepts it as is;
         * check it is that sum, then that completing it verifies */
        uint8_t tmp[70000];
        uint16_t c;
        if (le16toh(o->vh.csum_start) != 14 + l3 ||
            le16toh(o->vh.csum_offset) != 16)
            return 0;
        if ((uint16_t)(th[16] << 8 | th[17]) != csumref_sum16(NULL, 0, ps))
            return 0;
        memcpy(tmp, th, l4);
        tmp[16] = tmp[17] = 0;
        c = (uint16_t)~csumref_sum16(tmp, l4, ps);
        tmp[16] = (uint8_t)(c >> 8);
        tmp[17] = (uint8_t)c;
        if (csumref_sum16(tmp, l4, ps) != 0xffff)
            return 0;
    } else if (csumref_sum16(th, l4, ps) != 0xffff) {
        return 0;
    }
    if (l4 - thl != plen_total)
        return 0;
    for (i = 0; i < plen_total; i++)
        if (th[thl + i] != (uint8_t)(seq0 + i))
            return 0;
    return 1;
}

static void flush(void)
{
    nout = 0;
    offload_txq_flush(&q, capture, NULL);
}

int main(void)
{
    unsigned int i;

    TAP_IS_INT(offload_txq_init(&q), 0, "init");

    /* a run of 4 full segments + a short PSH one: one GSO frame */
    for (i = 0; i < 4; i++)
        push((struct segspec){ .seq = 1000 + i * 1460, .plen = 1460 });
    push((struct segspec){ .seq = 1000 + 4 * 1460, .plen = 100, .flags = 0x18 });
    flush();
    TAP_IS_INT(nout, 1, "IPv4 run: one frame");
    TAP_IS_INT(outs[0].vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4, "gso TCPV4");
    TAP_IS_INT(le16toh(outs[0].vh.gso_size), 1460, "gso_size = MSS");
    TAP_IS_INT(le16toh(outs[0].vh.hdr_len), 54, "hdr_len");
    TAP_OK(frame_ok(&outs[0], 1000, 4 * 1460 + 100), "merged frame checks out");
    TAP_IS_INT(outs[0].f[14 + 20 + 13], 0x18, "PSH of the last kept");

    /* IPv6 run */
    for (i = 0; i < 3; i++)
        push((struct segspec){ .v6 = 1, .seq = 5 + i * 1440, .plen = 1440 });
    flush();
    TAP_IS_INT(nout, 1, "IPv6 run: one frame");
    TAP_IS_INT(outs[0].vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV6, "gso TCPV6");
    TAP_OK(frame_ok(&outs[0], 5, 3 * 1440), "merged IPv6 frame checks out");

    /* things that must never merge */
#define NOMERGE(name, second)                                                  \
    do {                                                                       \
        push((struct segspec){ .seq = 1, .plen = 1000 });                      \
        push(second);                                                          \
        flush();                                                               \
        TAP_IS_INT(nout, 2, name ": not merged");                             \
        TAP_OK(nout == 2 && outs[0].vh.gso_type == 0 &&                        \
               outs[1].vh.gso_type == 0 &&                                     \
               (outs[0].vh.flags & VIRTIO_NET_HDR_F_DATA_VALID),               \
               name ": sent as they came, DATA_VALID");                        \
    } while (0)

    NOMERGE("FIN", ((struct segspec){ .seq = 1001, .plen = 10, .flags = 0x11 }));
    NOMERGE("RST", ((struct segspec){ .seq = 1001, .plen = 10, .flags = 0x14 }));
    NOMERGE("URG", ((struct segspec){ .seq = 1001, .plen = 10, .flags = 0x30,
                                      .urg = 5 }));
    NOMERGE("SYN", ((struct segspec){ .seq = 1001, .plen = 10, .flags = 0x12 }));
    NOMERGE("ECE", ((struct segspec){ .seq = 1001, .plen = 10, .flags = 0x50 }));
    NOMERGE("CWR", ((struct segspec){ .seq = 1001, .plen = 10, .flags = 0x90 }));
    NOMERGE("gap in seq", ((struct segspec){ .seq = 1002, .plen = 10 }));
    NOMERGE("out of order", ((struct segspec){ .seq = 1, .plen = 1000 }));
    NOMERGE("other ack", ((struct segspec){ .seq = 1001, .plen = 10, .ack = 9 }));
    NOMERGE("other window", ((struct segspec){ .seq = 1001, .plen = 10,
                                               .win = 100 }));
    NOMERGE("other flow", ((struct segspec){ .seq = 1001, .plen = 10,
                                             .sport = 40001 }));
    NOMERGE("other TOS", ((struct segspec){ .seq = 1001, .plen = 10,
                                            .tos = 0x10 }));
    NOMERGE("TCP options differ",
            ((struct segspec){ .seq = 1001, .plen = 10, .opts = 1 }));
    NOMERGE("bigger than the first", ((struct segspec){ .seq = 1001,
                                                        .plen = 1001 }));
    NOMERGE("pure ACK", ((struct segspec){ .seq = 1001, .plen = 0 }));
    NOMERGE("IPv4 then IPv6", ((struct segspec){ .v6 = 1, .seq = 1001,
                                                 .plen = 10 }));

    /* PSH in the middle ends the run there */
    push((struct segspec){ .seq = 1, .plen = 1000 });
    push((struct segspec){ .seq = 1001, .plen = 1000, .flags = 0x18 });
    push((struct segspec){ .seq = 2001, .plen = 1000 });
    flush();
    TAP_IS_INT(nout, 2, "PSH ends a run");
    TAP_OK(nout == 2 && frame_ok(&outs[0], 1, 2000) &&
           outs[0].vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV4, "first two merged");

    /* a short segment in the middle ends the run */
    push((struct segspec){ .seq = 1, .plen = 1000 });
    push((struct segspec){ .seq = 1001, .plen = 500 });
    push((struct segspec){ .seq = 1501, .plen = 1000 });
    flush();
    TAP_IS_INT(nout, 2, "short segment ends a run");

    /* IPv6 extension headers are never merged */
    push((struct segspec){ .v6 = 1, .exthdr = 1, .seq = 1, .plen = 1000 });
    push((struct segspec){ .v6 = 1, .exthdr = 1, .seq = 1001, .plen = 1000 });
    flush();
    TAP_IS_INT(nout, 2, "IPv6 extension headers: not merged");

    /* identical options on every segment do merge */
    push((struct segspec){ .seq = 1, .plen = 1000, .opts = 1 });
    push((struct segspec){ .seq = 1001, .plen = 1000, .opts = 1 });
    flush();
    TAP_IS_INT(nout, 1, "same options: merged");
    TAP_OK(frame_ok(&outs[0], 1, 2000), "merged with options checks out");

    /* a non-TCP frame between two runs keeps its place */
    push((struct segspec){ .seq = 1, .plen = 1000 });
    push((struct segspec){ .seq = 1001, .plen = 1000 });
    {
        uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };
        txq_push(&q, arp, sizeof(arp));
    }
    push((struct segspec){ .seq = 2001, .plen = 1000 });
    push((struct segspec){ .seq = 3001, .plen = 1000 });
    flush();
    TAP_IS_INT(nout, 3, "run, ARP, run");
    TAP_OK(nout == 3 && outs[1].len == 42 && outs[1].f[13] == 0x06,
           "the ARP frame stays between them");

    /* 64 KiB limit: a long run is split below 65535 bytes of IP */
    for (i = 0; i < 60; i++)
        push((struct segspec){ .seq = 1 + i * 1460, .plen = 1460 });
    flush();
    TAP_OK(nout >= 2, "60 x 1460 bytes: split into several GSO frames");
    {
        size_t tot = 0;
        int ok = 1;
        for (i = 0; i < nout; i++) {
            size_t iplen = (size_t)(outs[i].f[16] << 8 | outs[i].f[17]);
            ok &= iplen <= 65535;
            tot += iplen - 40;
        }
        TAP_OK(ok && tot == 60 * 1460, "no frame over 64 KiB, no byte lost");
        TAP_OK(frame_ok(&outs[0], 1, (size_t)(outs[0].f[16] << 8 |
                                              outs[0].f[17]) - 40),
               "first split frame checks out");
    }

    /* a full queue says so */
    for (i = 0; i < OFFLOAD_TXQ_FRAMES; i++)
        push((struct segspec){ .seq = 1 + i, .plen = 1, .flags = 0x18 });
    {
        uint8_t f[60] = { 0 };
        TAP_IS_INT(txq_push(&q, f, sizeof(f)), -ENOSPC, "full queue");
    }
    flush();
    TAP_IS_INT(nout, OFFLOAD_TXQ_FRAMES, "all queued frames written");

    offload_txq_free(&q);
    return tap_done();
}
