/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-steer.c - which libslirp instance a frame goes to: hash steering, the flows an instance starts, their ends, the bound */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"
#include "steer.h"
#include "tapout.h"

static const uint8_t ns_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t slirp_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

/* an IPv4 TCP or UDP frame (@proto), src -> dst, classified into @fi */
static size_t ip4(uint8_t *f, struct frame_info *fi, uint8_t proto,
                  const char *src, uint16_t sport, const char *dst,
                  uint16_t dport, uint8_t flags, bool to_ns)
{
    size_t l4 = proto == IPPROTO_TCP ? 20 : 8, len = 14 + 20 + l4;
    uint16_t tot = (uint16_t)(20 + l4);

    memset(f, 0, len);
    memcpy(f, to_ns ? ns_mac : slirp_mac, 6);
    memcpy(f + 6, to_ns ? slirp_mac : ns_mac, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[16] = (uint8_t)(tot >> 8);
    f[17] = (uint8_t)tot;
    f[22] = 64;
    f[23] = proto;
    inet_pton(AF_INET, src, f + 26);
    inet_pton(AF_INET, dst, f + 30);
    f[34] = (uint8_t)(sport >> 8);
    f[35] = (uint8_t)sport;
    f[36] = (uint8_t)(dport >> 8);
    f[37] = (uint8_t)dport;
    if (proto == IPPROTO_TCP) {
        f[46] = 0x50;
        f[47] = flags;
    } else {
        f[39] = 8;
    }
    frame_parse(f, len, fi);
    return len;
}

/* an IPv4 fragment (not the first) of a UDP datagram src -> dst */
static void frag4(uint8_t *f, struct frame_info *fi, const char *src,
                  const char *dst)
{
    memset(f, 0, 14 + 28);
    memcpy(f, slirp_mac, 6);
    memcpy(f + 6, ns_mac, 6);
    f[12] = 0x08;
    f[14] = 0x45;
    f[17] = 28;
    f[20] = 0;
    f[21] = 100;    /* offset 800 bytes, no MF: the last fragment */
    f[22] = 64;
    f[23] = IPPROTO_UDP;
    inet_pton(AF_INET, src, f + 26);
    inet_pton(AF_INET, dst, f + 30);
    frame_parse(f, 14 + 28, fi);
}

static size_t arp(uint8_t *f, struct frame_info *fi, uint16_t op)
{
    static const uint8_t body[28] = {
        0, 1, 8, 0, 6, 4, 0, 0, 2, 0, 0, 0, 0, 1, 10, 0, 2, 100,
        0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
    };

    memset(f, 0xff, 6);
    memcpy(f + 6, ns_mac, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    memcpy(f + 14, body, sizeof(body));
    f[14 + 7] = (uint8_t)op;
    frame_parse(f, 42, fi);
    return 42;
}

/* ns -> remote TCP flow with source port @port: its shard */
static int tcp_in(struct steer *s, uint16_t port, uint8_t flags, int64_t now)
{
    struct frame_info fi;
    uint8_t f[128];

    ip4(f, &fi, IPPROTO_TCP, "10.0.2.100", port, "10.0.2.2", 8080, flags,
        false);
    return steer_in(s, f, &fi, now);
}

/*
 * The first STEER_GATHER connections go to shard 0 (recorded where the hash
 * says otherwise), the rest by hash; a second instance's start ends it.
 */
static void test_gather(void)
{
    struct steer_conf conf = { .shards = 8 };
    struct steer_stats st;
    struct steer *s;
    unsigned int used = 0;
    int i, zero = 0, kept = 0, a, b;
    uint16_t p;

    steer_new(&conf, &s);
    for (i = 0; i < STEER_GATHER; i++) {
        a = tcp_in(s, (uint16_t)(31000 + i), FRAME_TCP_SYN, 0);
        zero += a == 0;
        kept += tcp_in(s, (uint16_t)(31000 + i), FRAME_TCP_ACK, 0) == 0;
        /* the retransmitted SYN too */
        kept += tcp_in(s, (uint16_t)(31000 + i), FRAME_TCP_SYN, 0) == 0;
    }
    TAP_IS_INT(zero, STEER_GATHER, "the first connections: all in shard 0");
    TAP_IS_INT(kept, 2 * STEER_GATHER, "each stays there");
    steer_get_stats(s, &st);
    TAP_OK(st.flows > 0 && st.flows < STEER_GATHER &&
           st.gathered == st.flows,
           "recorded where the hash says otherwise (%d)", (int)st.flows);
    /* until STEER_GATHER are recorded */
    for (i = STEER_GATHER; i < 4 * STEER_GATHER; i++)
        tcp_in(s, (uint16_t)(31000 + i), FRAME_TCP_SYN, 0);
    steer_get_stats(s, &st);
    TAP_IS_INT((int)st.gathered, STEER_GATHER, "then no more");
    for (i = 0; i < 400; i++) {
        a = tcp_in(s, (uint16_t)(33000 + i), FRAME_TCP_SYN, 0);
        b = tcp_in(s, (uint16_t)(33000 + i), FRAME_TCP_ACK, 0);
        if (a != b)
            break;
        used |= 1u << a;
    }
    TAP_OK(i == 400 && used == 0xff, "the next 400 spread by hash, stably");
    /* a gathered connection's RST ends its entry; a later SYN of the same
     * ports goes by hash */
    for (i = 0; i < STEER_GATHER; i++)
        if (tcp_in(s, (uint16_t)(31000 + i), FRAME_TCP_RST, 100) == 0 &&
            tcp_in(s, (uint16_t)(31000 + i), FRAME_TCP_SYN, 101) != 0)
            break;
    TAP_OK(i < STEER_GATHER, "an RST ends a gathered connection's entry");
    steer_free(s);

    /* another instance started: no gathering from then on */
    steer_new(&conf, &s);
    steer_gather_stop(s);
    for (p = 34000; p < 34100; p++)
        if (tcp_in(s, p, FRAME_TCP_SYN, 0) != 0)
            break;
    TAP_OK(p < 34100, "after steer_gather_stop(): the first SYN by hash");
    steer_free(s);
}

/* the shard-started flow remote:port -> ns:80 (a forward), from @shard */
static bool tcp_out(struct steer *s, unsigned int shard, uint16_t port,
                    uint8_t flags, int64_t now)
{
    struct frame_info fi;
    uint8_t f[128];

    ip4(f, &fi, IPPROTO_TCP, "10.0.2.2", port, "10.0.2.100", 80, flags,
        true);
    return steer_out(s, shard, f, &fi, now);
}

/* the namespace's side of that forwarded flow: its shard */
static int fwd_in(struct steer *s, uint16_t port, uint8_t flags, int64_t now)
{
    struct frame_info fi;
    uint8_t f[128];

    ip4(f, &fi, IPPROTO_TCP, "10.0.2.100", 80, "10.0.2.2", port, flags,
        false);
    return steer_in(s, f, &fi, now);
}

/* a remote port whose forwarded flow the hash does not give to shard 0 */
static uint16_t off_zero_port(struct steer *s, uint16_t from)
{
    uint16_t p;

    for (p = from; p < from + 1000; p++)
        if (fwd_in(s, p, FRAME_TCP_SYN | FRAME_TCP_ACK, 0) != 0)
            return p;
    return 0;
}

/* an MLDv2 report (hop-by-hop header, router alert) from fe80::@host to
 * ff02::16, as Linux sends when an interface comes up */
static void mld(uint8_t *f, struct frame_info *fi, unsigned int host)
{
    static const uint8_t grp[16] = { 0xff, 2, [15] = 0xfb };

    memset(f, 0, 14 + 40 + 36);
    f[0] = f[1] = 0x33;
    f[5] = 0x16;
    memcpy(f + 6, ns_mac, 6);
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x60;
    f[19] = 36;             /* payload length */
    f[20] = 0;              /* hop-by-hop options */
    f[21] = 1;
    f[22] = 0xfe;           /* fe80::host */
    f[23] = 0x80;
    f[36] = (uint8_t)(host >> 8);
    f[37] = (uint8_t)host;
    f[38] = 0xff;           /* ff02::16 */
    f[39] = 2;
    f[53] = 0x16;
    f[54] = IPPROTO_ICMPV6; /* hop-by-hop: router alert, PadN */
    f[56] = 5;
    f[57] = 2;
    f[60] = 1;
    f[62] = 143;            /* MLDv2 report, one record */
    f[69] = 1;
    f[70] = 4;
    memcpy(f + 74, grp, sizeof(grp));
    frame_parse(f, 14 + 40 + 36, fi);
}

/* how many of 64 namespace addresses' datagrams to a group (0: mDNS to
 * 224.0.0.251, 1: broadcast, 2: MLD reports) go to a shard other than 0 */
static int group_off_zero(struct steer *s, int kind)
{
    struct frame_info fi;
    uint8_t f[128];
    unsigned int h;
    int n = 0;

    for (h = 100; h < 164; h++) {
        char src[32];

        snprintf(src, sizeof(src), "10.0.2.%u", h);
        if (kind == 0)
            ip4(f, &fi, IPPROTO_UDP, src, 5353, "224.0.0.251", 5353, 0, false);
        else if (kind == 1)
            ip4(f, &fi, IPPROTO_UDP, src, 9, "255.255.255.255", 9, 0, false);
        else
            mld(f, &fi, h);
        n += steer_in(s, f, &fi, 0) != 0;
    }
    return n;
}

int main(void)
{
    struct steer_conf conf = { .shards = 8, .seed = 42 };
    struct steer_stats st;
    struct frame_info fi, fi2;
    struct steer *s, *one;
    uint8_t f[128], g[128];
    unsigned int used = 0;
    uint16_t p, q;
    int i, a, b;

    tap_plan(37);
    inet_pton(AF_INET, "10.0.2.3", &conf.dns4);
    inet_pton(AF_INET6, "fd00::3", &conf.dns6);
    if (steer_new(&conf, &s) < 0) {
        printf("Bail out! steer_new\n");
        return 1;
    }
    conf.shards = 0;
    TAP_IS_INT(steer_new(&conf, &one), -22, "0 shards: -EINVAL");
    conf.shards = 1;
    steer_new(&conf, &one);
    /* the hash alone (gathering: test_gather()) */
    steer_gather_stop(s);

    /* one shard: everything to it, everything out */
    TAP_IS_INT(steer_in(one, f, (ip4(f, &fi, IPPROTO_TCP, "10.0.2.100", 1,
                                     "1.2.3.4", 2, 2, false), &fi), 0), 0,
               "one shard: shard 0");
    arp(f, &fi, 2);
    TAP_OK(steer_out(one, 0, f, &fi, 0), "one shard: its ARP reply passes");

    /* the namespace's flows: by hash, all shards used, stable, no memory */
    for (p = 30000; p < 30400; p++) {
        a = tcp_in(s, p, FRAME_TCP_SYN, 0);
        b = tcp_in(s, p, FRAME_TCP_ACK, 0);
        if (a != b || a < 0 || a >= 8)
            break;
        used |= 1u << a;
    }
    TAP_IS_INT(p, 30400, "a TCP flow keeps its shard");
    TAP_IS_INT((int)used, 0xff, "400 flows use all 8 shards");
    ip4(f, &fi, IPPROTO_TCP, "10.0.2.2", 8080, "10.0.2.100", 30001,
        FRAME_TCP_SYN | FRAME_TCP_ACK, true);
    TAP_OK(steer_out(s, (unsigned int)tcp_in(s, 30001, 0, 0), f, &fi, 0),
           "its SYN-ACK passes");
    steer_get_stats(s, &st);
    TAP_IS_INT((int)st.flows, 0, "and needs no table entry");

    /* UDP and fragments by addresses: a datagram's pieces meet */
    ip4(f, &fi, IPPROTO_UDP, "10.0.2.100", 5000, "192.0.2.7", 53, 0, false);
    frag4(g, &fi2, "10.0.2.100", "192.0.2.7");
    TAP_IS_INT(steer_in(s, g, &fi2, 0), steer_in(s, f, &fi, 0),
               "a UDP datagram and a later fragment: one shard");
    ip4(f, &fi, IPPROTO_UDP, "10.0.2.100", 5000, "10.0.2.3", 53, 0, false);
    TAP_IS_INT(steer_in(s, f, &fi, 0), 0, "DNS to cidr+3: shard 0");
    ip4(f, &fi, IPPROTO_UDP, "0.0.0.0", 68, "255.255.255.255", 67, 0, false);
    TAP_IS_INT(steer_in(s, f, &fi, 0), 0, "DHCP: shard 0");
    /* to a group: shard 0, never a hash that starts another instance */
    TAP_IS_INT(group_off_zero(s, 0), 0, "64 sources' mDNS: shard 0");
    TAP_IS_INT(group_off_zero(s, 1), 0, "64 sources' broadcasts: shard 0");
    TAP_IS_INT(group_off_zero(s, 2), 0, "64 sources' MLD reports: shard 0");

    /* ARP: to every shard; only shard 0's reply goes back */
    arp(f, &fi, 1);
    TAP_IS_INT(steer_in(s, f, &fi, 0), STEER_ALL, "ARP: every shard");
    TAP_OK(steer_out(s, 3, f, &fi, 0), "shard 3's ARP request passes");
    arp(f, &fi, 2);
    TAP_OK(!steer_out(s, 3, f, &fi, 0) && steer_out(s, 0, f, &fi, 0),
           "an ARP reply passes only from shard 0");

    /* a flow shard 0 starts (a forward): recorded, answers come back */
    p = off_zero_port(s, 40000);
    TAP_OK(p != 0, "a forwarded flow the hash gives to another shard");
    TAP_OK(tcp_out(s, 0, p, FRAME_TCP_SYN, 1000), "shard 0's SYN passes");
    TAP_IS_INT(fwd_in(s, p, FRAME_TCP_SYN | FRAME_TCP_ACK, 1000), 0,
               "the namespace's SYN-ACK goes back to shard 0");
    steer_get_stats(s, &st);
    TAP_IS_INT((int)st.flows, 1, "one entry");

    /* its end: both FINs, then the linger */
    tcp_out(s, 0, p, FRAME_TCP_FIN | FRAME_TCP_ACK, 2000);
    fwd_in(s, p, FRAME_TCP_FIN | FRAME_TCP_ACK, 2000);
    TAP_IS_INT(fwd_in(s, p, FRAME_TCP_ACK, 2000 + STEER_TCP_LINGER_MS - 1), 0,
               "after both FINs, the last ACK still goes to shard 0");
    TAP_OK(fwd_in(s, p, FRAME_TCP_ACK, 2000 + STEER_TCP_LINGER_MS) != 0,
           "after the linger the entry is gone");

    /* an RST ends it at once (the RST itself still goes through) */
    q = off_zero_port(s, (uint16_t)(p + 1));
    tcp_out(s, 0, q, FRAME_TCP_SYN, 3000);
    TAP_IS_INT(fwd_in(s, q, FRAME_TCP_RST, 3000), 0, "the RST goes to shard 0");
    TAP_OK(fwd_in(s, q, FRAME_TCP_ACK, 3001) != 0, "then the entry is gone");

    /* a UDP flow shard 0 starts: kept while it is used (UDP goes by
     * addresses: find a remote address the hash does not give to 0) */
    for (i = 1; i < 250; i++) {
        char remote[32];

        snprintf(remote, sizeof(remote), "192.0.2.%d", i);
        ip4(f, &fi, IPPROTO_UDP, "10.0.2.100", 53, remote, 4000, 0, false);
        ip4(g, &fi2, IPPROTO_UDP, remote, 4000, "10.0.2.100", 53, 0, true);
        if (steer_in(s, f, &fi, 0) != 0)
            break;
    }
    TAP_OK(steer_out(s, 0, g, &fi2, 5000), "shard 0 sends a forwarded datagram");
    TAP_IS_INT(steer_in(s, f, &fi, 5000 + STEER_UDP_IDLE_MS - 1), 0,
               "the answer goes to shard 0 while the flow lives");
    TAP_OK(steer_in(s, f, &fi, 5000 + 3 * STEER_UDP_IDLE_MS) != 0,
           "idle past the timeout: by hash again");

    /* the bound: a full table refuses a flow, until an entry ends */
    steer_free(s);
    conf.shards = 8;
    conf.max_flows = 2;
    steer_new(&conf, &s);
    p = off_zero_port(s, 50000);
    q = off_zero_port(s, (uint16_t)(p + 1));
    tcp_out(s, 0, p, FRAME_TCP_SYN, 10000);
    tcp_out(s, 0, q, FRAME_TCP_SYN, 10000);
    q = off_zero_port(s, (uint16_t)(q + 1));
    TAP_OK(!tcp_out(s, 0, q, FRAME_TCP_SYN, 10000),
           "a full table: the SYN is dropped");
    steer_get_stats(s, &st);
    TAP_IS_INT((int)st.full, 1, "and counted");
    fwd_in(s, p, FRAME_TCP_RST, 10000);
    TAP_OK(tcp_out(s, 0, q, FRAME_TCP_SYN, 12000),
           "after an RST ended an entry, the retransmitted SYN fits");

    steer_free(s);
    steer_free(one);
    test_gather();
    return tap_done();
}
