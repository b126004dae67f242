/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-frame.c - unit tests for the frame classifier: every class, IPv4 options, IPv6 extension headers, truncation */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "tapout.h"

#define ETH 14

static const uint8_t a4s[4] = { 10, 0, 2, 100 }, a4d[4] = { 10, 0, 2, 2 };
static const uint8_t a6s[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64 };
static const uint8_t a6d[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };

static void put16(uint8_t *p, unsigned int v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* @l4 bytes of L4 header + payload at @p: TCP (doff 5 + @opt words) */
static size_t tcp(uint8_t *p, uint16_t sp, uint16_t dp, size_t opt, size_t plen)
{
    size_t i, hl = 20 + opt * 4;

    memset(p, 0, hl);
    put16(p, sp);
    put16(p + 2, dp);
    put32(p + 4, 0x11223344);
    put32(p + 8, 0x55667788);
    p[12] = (uint8_t)((hl / 4) << 4);
    p[13] = 0x19;                   /* FIN PSH ACK */
    for (i = 20; i < hl; i++)
        p[i] = 1;                   /* NOP options */
    for (i = 0; i < plen; i++)
        p[hl + i] = (uint8_t)i;
    return hl + plen;
}

static size_t udp(uint8_t *p, uint16_t sp, uint16_t dp, size_t plen)
{
    memset(p, 0, 8 + plen);
    put16(p, sp);
    put16(p + 2, dp);
    put16(p + 4, (unsigned int)(8 + plen));
    return 8 + plen;
}

static size_t icmp(uint8_t *p, uint8_t type, uint16_t id)
{
    memset(p, 0, 16);
    p[0] = type;
    put16(p + 4, id);
    return 16;
}

/* Ethernet + IPv4 (@opt option words) around @l4len bytes already at the
 * L4 offset; returns the frame length */
static size_t ip4(uint8_t *f, uint8_t proto, size_t opt, size_t l4len)
{
    uint8_t *ip = f + ETH;
    size_t hl = 20 + opt * 4;

    memset(f, 0, 12);
    put16(f + 12, 0x0800);
    memset(ip, 0, hl);
    ip[0] = (uint8_t)(0x40 | hl / 4);
    put16(ip + 2, (unsigned int)(hl + l4len));
    ip[8] = 64;
    ip[9] = proto;
    memcpy(ip + 12, a4s, 4);
    memcpy(ip + 16, a4d, 4);
    return ETH + hl + l4len;
}

/* Ethernet + IPv6 with @ext bytes of extension headers (already in
 * place) before @l4len bytes */
static size_t ip6(uint8_t *f, uint8_t nh, size_t ext, size_t l4len)
{
    uint8_t *ip = f + ETH;

    memset(f, 0, 12);
    put16(f + 12, 0x86dd);
    memset(ip, 0, 40);
    ip[0] = 0x60;
    put16(ip + 4, (unsigned int)(ext + l4len));
    ip[6] = nh;
    ip[7] = 64;
    memcpy(ip + 8, a6s, 16);
    memcpy(ip + 24, a6d, 16);
    return ETH + 40 + ext + l4len;
}

/* classify a copy of exactly @len bytes (a sanitizer sees any overread) */
static void parse(const uint8_t *f, size_t len, struct frame_info *fi)
{
    uint8_t *c = malloc(len ? len : 1);

    if (!c)
        abort();
    memcpy(c, f, len);
    frame_parse(c, len, fi);
    free(c);
}

static int cls_is(const uint8_t *f, size_t len, enum frame_class want,
                  const char *what)
{
    struct frame_info fi;

    parse(f, len, &fi);
    if (!tap_ok(fi.cls == want, "%s: %s", what, frame_class_name(want))) {
        printf("#   got %s\n", frame_class_name((enum frame_class)fi.cls));
        return 0;
    }
    return 1;
}

static void test_l2(void)
{
    uint8_t f[64] = { 0 };

    TAP_OK(cls_is(f, 0, FRAME_TRUNCATED, "empty") &&
               cls_is(f, 13, FRAME_TRUNCATED, "13 bytes"),
           "shorter than Ethernet: truncated");
    put16(f + 12, 0x88cc);
    cls_is(f, 60, FRAME_NON_IP, "LLDP");
    put16(f + 12, 0x8100);          /* no VLAN handling: not IP */
    cls_is(f, 60, FRAME_NON_IP, "802.1Q");
    put16(f + 12, 0x0806);
    cls_is(f, ETH + 28, FRAME_ARP, "ARP");
    cls_is(f, ETH + 27, FRAME_TRUNCATED, "ARP short by one");
}

static void test_ip4(void)
{
    static uint8_t f[2048];
    struct frame_info fi;
    size_t len, i;

    /* TCP with payload, and Ethernet padding after the packet */
    len = ip4(f, 6, 0, tcp(f + ETH + 20, 40000, 80, 0, 100));
    memset(f + len, 0xee, 10);
    parse(f, len + 10, &fi);
    TAP_OK(fi.cls == FRAME_IP4_TCP && fi.ipver == 4 && fi.l4proto == 6 &&
               fi.ethertype == 0x0800 && fi.len == len + 10 && fi.l3off == ETH &&
               fi.l3len == len - ETH && fi.l4off == ETH + 20 &&
               fi.payoff == ETH + 40 && fi.paylen == 100,
           "IPv4 TCP: offsets and lengths (padding ignored)");
    TAP_OK(fi.sport == 40000 && fi.dport == 80 && fi.seq == 0x11223344 &&
               fi.ack == 0x55667788 &&
               fi.tcp_flags == (FRAME_TCP_FIN | FRAME_TCP_PSH | FRAME_TCP_ACK) &&
               !memcmp(&fi.saddr.v4, a4s, 4) && !memcmp(&fi.daddr.v4, a4d, 4),
           "IPv4 TCP: ports, sequence numbers, flags, addresses");
    TAP_OK(frame_is_tcp(&fi), "frame_is_tcp");

    /* options: IHL 7, TCP options 3 words */
    len = ip4(f, 6, 2, tcp(f + ETH + 28, 1, 2, 3, 5));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP4_TCP && fi.l4off == ETH + 28 &&
               fi.payoff == ETH + 28 + 32 && fi.paylen == 5,
           "IPv4 options and TCP options skipped");
    /* every cut of it is truncated */
    for (i = 0; i < len; i++) {
        parse(f, i, &fi);
        if (fi.cls != FRAME_TRUNCATED)
            break;
    }
    TAP_IS_INT(i, len, "IPv4 with options: every cut is truncated");

    len = ip4(f, 17, 0, udp(f + ETH + 20, 5353, 53, 30));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP4_UDP && fi.sport == 5353 && fi.dport == 53 &&
               fi.payoff == ETH + 28 && fi.paylen == 30,
           "IPv4 UDP");
    len = ip4(f, 17, 0, udp(f + ETH + 20, 68, 67, 300));
    cls_is(f, len, FRAME_IP4_DHCP, "DHCP client to server");
    len = ip4(f, 17, 0, udp(f + ETH + 20, 67, 68, 300));
    cls_is(f, len, FRAME_IP4_DHCP, "DHCP server to client");
    len = ip4(f, 17, 0, udp(f + ETH + 20, 67, 67, 300));
    cls_is(f, len, FRAME_IP4_UDP, "UDP 67 to 67 is not DHCP");

    len = ip4(f, 1, 0, icmp(f + ETH + 20, 8, 0x4242));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP4_ICMP && fi.icmp_type == 8 && fi.echo_id == 0x4242,
           "ICMP echo request: its id");
    len = ip4(f, 1, 0, icmp(f + ETH + 20, 0, 7));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP4_ICMP && fi.echo_id == 7, "ICMP echo reply: its id");
    len = ip4(f, 1, 0, icmp(f + ETH + 20, 3, 7));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP4_ICMP && fi.icmp_type == 3 && fi.echo_id == 0,
           "ICMP unreachable: no echo id");
    len = ip4(f, 1, 0, 7);
    cls_is(f, len, FRAME_MALFORMED, "ICMP shorter than its header");

    len = ip4(f, 47, 0, 40);
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP4_OTHER && fi.l4proto == 47 && fi.l4off == ETH + 20,
           "GRE: other, protocol noted");
    len = ip4(f, 58, 0, 40);
    cls_is(f, len, FRAME_IP4_OTHER, "ICMPv6 in IPv4 is other");

    len = ip4(f, 6, 0, tcp(f + ETH + 20, 1, 2, 0, 100));
    f[ETH + 6] = 0x20;              /* MF */
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP4_FRAG && fi.l4proto == 6 && fi.sport == 0,
           "first fragment: fragment, no ports");
    f[ETH + 6] = 0x00;
    f[ETH + 7] = 0x10;              /* offset 16 */
    cls_is(f, len, FRAME_IP4_FRAG, "later fragment");
    f[ETH + 6] = 0x40;              /* DF alone */
    f[ETH + 7] = 0x00;
    cls_is(f, len, FRAME_IP4_TCP, "DF is no fragment");

    /* malformed and truncated headers */
    len = ip4(f, 6, 0, tcp(f + ETH + 20, 1, 2, 0, 10));
    f[ETH] = 0x55;
    cls_is(f, len, FRAME_MALFORMED, "IP version 5");
    f[ETH] = 0x44;
    cls_is(f, len, FRAME_MALFORMED, "IHL 4");
    f[ETH] = 0x45;
    put16(f + ETH + 2, 19);
    cls_is(f, len, FRAME_MALFORMED, "total length below the header");
    put16(f + ETH + 2, (unsigned int)(len - ETH + 1));
    cls_is(f, len, FRAME_TRUNCATED, "total length past the frame");
    put16(f + ETH + 2, 20 + 19);
    cls_is(f, len, FRAME_MALFORMED, "TCP header past the IP length");
    put16(f + ETH + 2, (unsigned int)(len - ETH));
    f[ETH + 20 + 12] = 0x40;
    cls_is(f, len, FRAME_MALFORMED, "TCP data offset 4");
    f[ETH + 20 + 12] = 0xf0;
    cls_is(f, len, FRAME_MALFORMED, "TCP data offset past the packet");
    len = ip4(f, 17, 0, udp(f + ETH + 20, 1, 2, 10));
    put16(f + ETH + 20 + 4, 19);
    cls_is(f, len, FRAME_MALFORMED, "UDP length past the packet");
    put16(f + ETH + 20 + 4, 7);
    cls_is(f, len, FRAME_MALFORMED, "UDP length below its header");
}

/* an option-style extension header (HBH, routing, dest opts) of 8 bytes */
static size_t ext8(uint8_t *p, uint8_t next)
{
    memset(p, 0, 8);
    p[0] = next;
    p[2] = 1;                       /* PadN */
    p[3] = 4;
    return 8;
}

static void test_ip6(void)
{
    static uint8_t f[2048];
    struct frame_info fi;
    uint8_t *l4 = f + ETH + 40;
    size_t len, i, ext;

    len = ip6(f, 6, 0, tcp(l4, 40000, 443, 0, 1000));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_TCP && fi.ipver == 6 && fi.ethertype == 0x86dd &&
               fi.l3len == len - ETH && fi.l4off == ETH + 40 &&
               fi.payoff == ETH + 60 && fi.paylen == 1000 && fi.ip6_ext == 0 &&
               fi.sport == 40000 && fi.dport == 443 && fi.seq == 0x11223344 &&
               !memcmp(&fi.saddr.v6, a6s, 16) && !memcmp(&fi.daddr.v6, a6d, 16),
           "IPv6 TCP: offsets, ports, addresses");
    /* every cut of a TCP/IPv6 frame is truncated, never read past */
    for (i = 0; i < len; i++) {
        parse(f, i, &fi);
        if (fi.cls != FRAME_TRUNCATED)
            break;
    }
    TAP_IS_INT(i, len, "TCP/IPv6: every cut is truncated");

    len = ip6(f, 17, 0, udp(l4, 1000, 53, 20));
    cls_is(f, len, FRAME_IP6_UDP, "IPv6 UDP");
    len = ip6(f, 17, 0, udp(l4, 546, 547, 20));
    cls_is(f, len, FRAME_IP6_DHCP, "DHCPv6");
    len = ip6(f, 58, 0, icmp(l4, 128, 0x99));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_ICMP && fi.icmp_type == 128 && fi.echo_id == 0x99,
           "ICMPv6 echo request: its id");
    len = ip6(f, 58, 0, icmp(l4, 129, 0x98));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_ICMP && fi.echo_id == 0x98, "ICMPv6 echo reply");
    len = ip6(f, 58, 0, icmp(l4, 1, 0x98));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_ICMP && fi.echo_id == 0, "ICMPv6 unreachable");
    len = ip6(f, 58, 0, icmp(l4, 133, 0));
    cls_is(f, len, FRAME_IP6_RS, "router solicitation");
    len = ip6(f, 58, 0, icmp(l4, 134, 0));
    cls_is(f, len, FRAME_IP6_RA, "router advertisement");
    len = ip6(f, 58, 0, icmp(l4, 135, 0));
    cls_is(f, len, FRAME_IP6_NDP, "neighbour solicitation");
    len = ip6(f, 58, 0, icmp(l4, 136, 0));
    cls_is(f, len, FRAME_IP6_NDP, "neighbour advertisement");
    len = ip6(f, 58, 0, icmp(l4, 137, 0));
    cls_is(f, len, FRAME_IP6_NDP, "redirect");
    len = ip6(f, 58, 0, 4);
    cls_is(f, len, FRAME_MALFORMED, "ICMPv6 shorter than its header");
    len = ip6(f, 1, 0, icmp(l4, 8, 0));
    cls_is(f, len, FRAME_IP6_OTHER, "ICMP (v4) in IPv6 is other");
    len = ip6(f, 59, 0, 0);
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_OTHER && fi.l4proto == 59, "no next header");

    /* hop-by-hop, destination options, routing, then TCP */
    ext = ext8(l4, 60);
    ext += ext8(l4 + ext, 43);
    ext += ext8(l4 + ext, 6);
    len = ip6(f, 0, ext, tcp(l4 + ext, 7, 8, 0, 50));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_TCP && fi.ip6_ext == 3 &&
               fi.l4off == ETH + 40 + 24 && fi.paylen == 50 && fi.sport == 7,
           "extension header chain followed to TCP");
    for (i = 0; i < len; i++) {
        parse(f, i, &fi);
        if (fi.cls != FRAME_TRUNCATED)
            break;
    }
    TAP_IS_INT(i, len, "with extension headers: every cut is truncated");
    /* a longer header (hdrlen 1: 16 bytes) */
    ext = ext8(l4, 17);
    l4[1] = 1;
    memset(l4 + 8, 0, 8);
    ext = 16;
    len = ip6(f, 60, ext, udp(l4 + ext, 9, 10, 4));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_UDP && fi.l4off == ETH + 40 + 16 && fi.sport == 9,
           "16-byte destination options");
    /* an extension header past the IPv6 payload */
    len = ip6(f, 60, 0, 4);
    cls_is(f, len, FRAME_MALFORMED, "extension header cut by the payload length");
    ext8(l4, 6);
    l4[1] = 3;
    len = ip6(f, 60, 0, 16);
    cls_is(f, len, FRAME_MALFORMED, "extension header longer than the payload");

    /* fragment header */
    memset(l4, 0, 8);
    l4[0] = 6;
    l4[3] = 1;                      /* M */
    len = ip6(f, 44, 8, tcp(l4 + 8, 1, 2, 0, 10));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_FRAG && fi.l4proto == 6 && fi.ip6_ext == 1 &&
               fi.l4off == ETH + 48 && fi.sport == 0,
           "fragment: protocol noted, no ports");
    len = ip6(f, 44, 0, 7);
    cls_is(f, len, FRAME_MALFORMED, "fragment header cut short");

    /* the chain's bound: FRAME_IP6_EXT_MAX headers pass, one more does not */
    for (i = 0; i < FRAME_IP6_EXT_MAX; i++)
        ext8(l4 + 8 * i, i + 1 < FRAME_IP6_EXT_MAX ? 60 : 6);
    ext = 8 * FRAME_IP6_EXT_MAX;
    len = ip6(f, 60, ext, tcp(l4 + ext, 1, 2, 0, 0));
    parse(f, len, &fi);
    TAP_OK(fi.cls == FRAME_IP6_TCP && fi.ip6_ext == FRAME_IP6_EXT_MAX,
           "%d extension headers followed", FRAME_IP6_EXT_MAX);
    for (i = 0; i < FRAME_IP6_EXT_MAX + 1; i++)
        ext8(l4 + 8 * i, i < FRAME_IP6_EXT_MAX ? 60 : 6);
    ext = 8 * (FRAME_IP6_EXT_MAX + 1);
    len = ip6(f, 60, ext, tcp(l4 + ext, 1, 2, 0, 0));
    cls_is(f, len, FRAME_MALFORMED, "one extension header too many");

    len = ip6(f, 6, 0, tcp(l4, 1, 2, 0, 10));
    f[ETH] = 0x40;
    cls_is(f, len, FRAME_MALFORMED, "IP version 4 under EtherType IPv6");
    f[ETH] = 0x60;
    put16(f + ETH + 4, (unsigned int)(len - ETH - 40 + 1));
    cls_is(f, len, FRAME_TRUNCATED, "payload length past the frame");
    put16(f + ETH + 4, 10);
    cls_is(f, len, FRAME_MALFORMED, "TCP header past the payload length");
}

/* the same answer at every alignment */
static void test_alignment(void)
{
    static uint8_t f[256], g[256 + 8];
    struct frame_info a, b;
    size_t len = ip6(f, 6, 0, tcp(f + ETH + 40, 5, 6, 1, 9)), k;
    int same = 1;

    frame_parse(f, len, &a);
    for (k = 1; k < 8; k++) {
        memcpy(g + k, f, len);
        frame_parse(g + k, len, &b);
        if (memcmp(&a, &b, sizeof(a)))
            same = 0;
    }
    TAP_OK(same && a.cls == FRAME_IP6_TCP, "same classification at offsets 1..7");
}

static void test_names(void)
{
    int c, ok = 1;

    for (c = FRAME_TRUNCATED; c <= FRAME_IP6_OTHER; c++)
        if (!strcmp(frame_class_name((enum frame_class)c), "?"))
            ok = 0;
    TAP_OK(ok, "every class has a name");
    TAP_IS_STR(frame_class_name((enum frame_class)(FRAME_IP6_OTHER + 1)), "?",
               "out of range");
}

int main(void)
{
    test_l2();
    test_ip4();
    test_ip6();
    test_alignment();
    test_names();
    return tap_done();
}
