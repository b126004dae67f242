/* SPDX-License-Identifier: GPL-2.0-or-later */
/* frame.h - one classifier for Ethernet frames: class, offsets, addresses, ports, TCP fields */
#pragma once

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* IPv6 extension headers frame_parse() follows before giving up */
#define FRAME_IP6_EXT_MAX 8

enum frame_class {
    FRAME_TRUNCATED,        /* a header, or the IP length, past the frame's end */
    FRAME_MALFORMED,        /* inconsistent lengths or versions, too many IPv6 extension headers */
    FRAME_NON_IP,           /* an EtherType other than ARP, IPv4, IPv6 */
    FRAME_ARP,
    FRAME_IP4_TCP,
    FRAME_IP4_UDP,
    FRAME_IP4_DHCP,         /* UDP between ports 67 and 68 */
    FRAME_IP4_ICMP,
    FRAME_IP4_FRAG,         /* a fragment: no L4 header is parsed */
    FRAME_IP4_OTHER,        /* another protocol */
    FRAME_IP6_TCP,
    FRAME_IP6_UDP,
    FRAME_IP6_DHCP,         /* UDP between ports 546 and 547 */
    FRAME_IP6_ICMP,         /* ICMPv6 but not the ones below */
    FRAME_IP6_NDP,          /* neighbour solicitation/advertisement, redirect */
    FRAME_IP6_RS,           /* router solicitation */
    FRAME_IP6_RA,           /* router advertisement */
    FRAME_IP6_FRAG,         /* a fragment header: no L4 header is parsed */
    FRAME_IP6_OTHER,        /* another protocol, or no next header */
};

/* TCP flags, as in the header's flags byte */
#define FRAME_TCP_FIN 0x01
#define FRAME_TCP_SYN 0x02
#define FRAME_TCP_RST 0x04
#define FRAME_TCP_PSH 0x08
#define FRAME_TCP_ACK 0x10
#define FRAME_TCP_URG 0x20
#define FRAME_TCP_ECE 0x40
#define FRAME_TCP_CWR 0x80

union frame_addr {
    struct in_addr v4;
    struct in6_addr v6;
};

/*
 * What frame_parse() found; numbers in host byte order, offsets from the
 * frame's first byte. Only the fields its class names are set: the rest
 * are zero. No pointer into the frame, so a copy stays valid when the
 * frame is copied elsewhere.
 */
struct frame_info {
    uint8_t cls;            /* enum frame_class */
    uint8_t ipver;          /* 4 or 6 for the IP classes, else 0 */
    uint8_t l4proto;        /* IPPROTO_*: after IPv6 extension headers */
    uint8_t ip6_ext;        /* IPv6 extension headers before l4proto */
    uint8_t tcp_flags;      /* FRAME_TCP_* */
    uint8_t icmp_type;      /* ICMP, ICMPv6 (NDP, RS, RA included) */
    uint8_t icmp_code;
    uint16_t ethertype;
    uint16_t sport, dport;  /* TCP, UDP */
    uint16_t echo_id;       /* ICMP/ICMPv6 echo request or reply */
    uint32_t len;           /* the frame's length */
    uint32_t l3off;         /* IP or ARP header */
    uint32_t l3len;         /* IP: header + payload, by the IP header */
    uint32_t l4off;         /* L4 header (after IPv4 options, IPv6 extension headers) */
    uint32_t payoff;        /* TCP, UDP: payload (payoff - l4off: the L4 header length) */
    uint32_t paylen;
    uint32_t seq, ack;      /* TCP */
    union frame_addr saddr, daddr;
};

void frame_parse(const uint8_t *buf, size_t len, struct frame_info *fi);
const char *frame_class_name(enum frame_class cls);

/**
 * frame_is_tcp() - a whole, unfragmented TCP segment: ports, sequence
 *		    numbers, flags and payload are set
 * @fi:	from frame_parse()
 *
 * Return: true for FRAME_IP4_TCP and FRAME_IP6_TCP
 */
static inline int frame_is_tcp(const struct frame_info *fi)
{
    return fi->cls == FRAME_IP4_TCP || fi->cls == FRAME_IP6_TCP;
}
