/* SPDX-License-Identifier: GPL-2.0-or-later */
/* frame.c - one classifier for Ethernet frames: class, offsets, addresses, ports, TCP fields */
/*
 * DOC: Theory of Operation
 *
 * Every frame that crosses the tap is classified once, where it enters
 * slirpd: tap_read_frames() for the namespace's frames (before they reach
 * offload.c's TSO6 cut and stack.c), stack_send_packet() for libslirp's.
 * The result, a struct frame_info, travels with the frame: timewait.c
 * follows TCP closes from it, offload.c cuts and merges TCP segments by it,
 * stack.c decides from it whether libslirp's sockets must be polled, and a
 * flow table can key on it (protocol and the 4-tuple, or the ICMP echo id).
 * None of them reads a header field by its offset.
 *
 * Frames sit at any alignment (after a 10- or 12-byte virtio-net header in
 * the tap's buffer, anywhere in libslirp's), so each header is copied into
 * a local kernel struct (<linux/ip.h>, <linux/ipv6.h>, <linux/tcp.h>, ...)
 * before it is read. Every length is checked against what is left before
 * it is used: a header cut off by the frame's end, or an IP length beyond
 * it, is FRAME_TRUNCATED; lengths that contradict each other, a wrong IP
 * version, or more than FRAME_IP6_EXT_MAX IPv6 extension headers are
 * FRAME_MALFORMED. Bytes after the IP packet (Ethernet padding) are
 * ignored: l3len is the IP header's length, not the frame's.
 *
 * IPv6 extension headers followed: hop-by-hop, routing, destination
 * options (length from their second byte) and fragment. A fragment,
 * IPv4 or IPv6, has its L4 protocol noted but no L4 header parsed: a
 * first fragment's ports are not the whole flow's key (later fragments
 * lack them).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "frame.h"

/* IPv4 frag_off: more fragments, offset (host order) */
#define FRAME_IP4_MF 0x2000
#define FRAME_IP4_OFFMASK 0x1fff

/* the IPv6 fragment header (RFC 8200 4.5); the kernel's is not in uapi */
struct frame_frag6 {
    uint8_t nexthdr;
    uint8_t reserved;
    __be16 frag_off;            /* offset << 3 | M */
    __be32 identification;
};

/* ICMPv6 types of neighbour discovery (RFC 4861) */
#define FRAME_ND_ROUTER_SOLICIT 133
#define FRAME_ND_ROUTER_ADVERT 134
#define FRAME_ND_NEIGHBOR_SOLICIT 135
#define FRAME_ND_NEIGHBOR_ADVERT 136
#define FRAME_ND_REDIRECT 137

/* DHCP and DHCPv6 ports: server, client */
#define FRAME_DHCP4_SERVER 67
#define FRAME_DHCP4_CLIENT 68
#define FRAME_DHCP6_CLIENT 546
#define FRAME_DHCP6_SERVER 547

/* ARP for IPv4 over Ethernet: the fixed header, two MAC and IPv4 pairs */
#define FRAME_ARP_LEN (sizeof(struct arphdr) + 2 * (ETH_ALEN + 4))

static int frame_dhcp(uint16_t a, uint16_t b, uint16_t srv, uint16_t cli)
{
    return (a == cli && b == srv) || (a == srv && b == cli);
}

/* the L4 header at fi->l4off, @l4len bytes by the IP header; sets cls */
static void frame_parse_l4(const uint8_t *buf, struct frame_info *fi,
                           size_t l4len)
{
    const uint8_t *l4 = buf + fi->l4off;
    int v6 = fi->ipver == 6;

    switch (fi->l4proto) {
    case IPPROTO_TCP: {
        union tcp_word_hdr th;
        size_t thl;

        if (l4len < sizeof(th.hdr))
            break;
        memcpy(&th, l4, sizeof(th.hdr));
        thl = (size_t)th.hdr.doff * 4;
        if (thl < sizeof(th.hdr) || thl > l4len)
            break;
        fi->sport = ntohs(th.hdr.source);
        fi->dport = ntohs(th.hdr.dest);
        fi->seq = ntohl(th.hdr.seq);
        fi->ack = ntohl(th.hdr.ack_seq);
        fi->tcp_flags = (uint8_t)(ntohl(tcp_flag_word(&th.hdr)) >> 16);
        fi->payoff = fi->l4off + (uint32_t)thl;
        fi->paylen = (uint32_t)(l4len - thl);
        fi->cls = v6 ? FRAME_IP6_TCP : FRAME_IP4_TCP;
        return;
    }
    case IPPROTO_UDP: {
        struct udphdr uh;
        size_t ulen;

        if (l4len < sizeof(uh))
            break;
        memcpy(&uh, l4, sizeof(uh));
        ulen = ntohs(uh.len);
        if (ulen < sizeof(uh) || ulen > l4len)
            break;
        fi->sport = ntohs(uh.source);
        fi->dport = ntohs(uh.dest);
        fi->payoff = fi->l4off + (uint32_t)sizeof(uh);
        fi->paylen = (uint32_t)(ulen - sizeof(uh));
        if (v6)
            fi->cls = frame_dhcp(fi->sport, fi->dport, FRAME_DHCP6_SERVER,
                                 FRAME_DHCP6_CLIENT) ? FRAME_IP6_DHCP : FRAME_IP6_UDP;
        else
            fi->cls = frame_dhcp(fi->sport, fi->dport, FRAME_DHCP4_SERVER,
                                 FRAME_DHCP4_CLIENT) ? FRAME_IP4_DHCP : FRAME_IP4_UDP;
        return;
    }
    case IPPROTO_ICMP: {
        struct icmphdr ih;

        if (v6)
            goto other;
        if (l4len < sizeof(ih))
            break;
        memcpy(&ih, l4, sizeof(ih));
        fi->icmp_type = ih.type;
        fi->icmp_code = ih.code;
        if (ih.type == ICMP_ECHO || ih.type == ICMP_ECHOREPLY)
            fi->echo_id = ntohs(ih.un.echo.id);
        fi->cls = FRAME_IP4_ICMP;
        return;
    }
    case IPPROTO_ICMPV6: {
        struct icmp6hdr ih;

        if (!v6)
            goto other;
        if (l4len < sizeof(ih))
            break;
        memcpy(&ih, l4, sizeof(ih));
        fi->icmp_type = ih.icmp6_type;
        fi->icmp_code = ih.icmp6_code;
        switch (ih.icmp6_type) {
        case ICMPV6_ECHO_REQUEST:
        case ICMPV6_ECHO_REPLY:
            fi->echo_id = ntohs(ih.icmp6_identifier);
            fi->cls = FRAME_IP6_ICMP;
            break;
        case FRAME_ND_ROUTER_SOLICIT:
            fi->cls = FRAME_IP6_RS;
            break;
        case FRAME_ND_ROUTER_ADVERT:
            fi->cls = FRAME_IP6_RA;
            break;
        case FRAME_ND_NEIGHBOR_SOLICIT:
        case FRAME_ND_NEIGHBOR_ADVERT:
        case FRAME_ND_REDIRECT:
            fi->cls = FRAME_IP6_NDP;
            break;
        default:
            fi->cls = FRAME_IP6_ICMP;
            break;
        }
        return;
    }
    default:
    other:
        fi->cls = v6 ? FRAME_IP6_OTHER : FRAME_IP4_OTHER;
        return;
    }
    /* the IP packet ends inside its L4 header, or its lengths disagree */
    fi->cls = FRAME_MALFORMED;
}

static void frame_parse_ip4(const uint8_t *buf, struct frame_info *fi)
{
    size_t avail = fi->len - fi->l3off, hl, tot;
    struct iphdr ip;

    if (avail < sizeof(ip)) {
        fi->cls = FRAME_TRUNCATED;
        return;
    }
    memcpy(&ip, buf + fi->l3off, sizeof(ip));
    hl = (size_t)ip.ihl * 4;
    tot = ntohs(ip.tot_len);
    if (ip.version != 4 || hl < sizeof(ip) || tot < hl) {
        fi->cls = FRAME_MALFORMED;
        return;
    }
    if (tot > avail) {
        fi->cls = FRAME_TRUNCATED;
        return;
    }
    fi->ipver = 4;
    fi->l3len = (uint32_t)tot;
    fi->l4proto = ip.protocol;
    fi->l4off = fi->l3off + (uint32_t)hl;
    fi->saddr.v4.s_addr = ip.saddr;
    fi->daddr.v4.s_addr = ip.daddr;
    if (ntohs(ip.frag_off) & (FRAME_IP4_MF | FRAME_IP4_OFFMASK)) {
        fi->cls = FRAME_IP4_FRAG;
        return;
    }
    frame_parse_l4(buf, fi, tot - hl);
}

static void frame_parse_ip6(const uint8_t *buf, struct frame_info *fi)
{
    size_t avail = fi->len - fi->l3off, plen, off;
    struct ipv6hdr ip;
    uint8_t nh;

    if (avail < sizeof(ip)) {
        fi->cls = FRAME_TRUNCATED;
        return;
    }
    memcpy(&ip, buf + fi->l3off, sizeof(ip));
    plen = ntohs(ip.payload_len);
    if (ip.version != 6) {
        fi->cls = FRAME_MALFORMED;
        return;
    }
    if (sizeof(ip) + plen > avail) {
        fi->cls = FRAME_TRUNCATED;
        return;
    }
    fi->ipver = 6;
    fi->l3len = (uint32_t)(sizeof(ip) + plen);
    memcpy(&fi->saddr.v6, &ip.saddr, sizeof(fi->saddr.v6));
    memcpy(&fi->daddr.v6, &ip.daddr, sizeof(fi->daddr.v6));

    /* @off: bytes of the payload the extension headers took so far */
    nh = ip.nexthdr;
    off = 0;
    for (;;) {
        const uint8_t *h = buf + fi->l3off + sizeof(ip) + off;
        struct ipv6_opt_hdr oh;
        size_t hlen;

        if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING &&
            nh != IPPROTO_DSTOPTS && nh != IPPROTO_FRAGMENT)
            break;
        if (fi->ip6_ext == FRAME_IP6_EXT_MAX) {
            fi->cls = FRAME_MALFORMED;
            return;
        }
        if (nh == IPPROTO_FRAGMENT) {
            struct frame_frag6 fh;

            if (plen - off < sizeof(fh)) {
                fi->cls = FRAME_MALFORMED;
                return;
            }
            memcpy(&fh, h, sizeof(fh));
            fi->ip6_ext++;
            fi->l4proto = fh.nexthdr;
            fi->l4off = fi->l3off + (uint32_t)(sizeof(ip) + off + sizeof(fh));
            fi->cls = FRAME_IP6_FRAG;
            return;
        }
        if (plen - off < sizeof(oh)) {
            fi->cls = FRAME_MALFORMED;
            return;
        }
        memcpy(&oh, h, sizeof(oh));
        hlen = ((size_t)oh.hdrlen + 1) * 8;
        if (plen - off < hlen) {
            fi->cls = FRAME_MALFORMED;
            return;
        }
        nh = oh.nexthdr;
        fi->ip6_ext++;
        off += hlen;
    }
    fi->l4proto = nh;
    fi->l4off = fi->l3off + (uint32_t)(sizeof(ip) + off);
    frame_parse_l4(buf, fi, plen - off);
}

/**
 * frame_parse() - classify one Ethernet frame
 * @buf:	the frame, at any alignment
 * @len:	its length
 * @fi:		filled: the class, and the fields it names (zero otherwise)
 *
 * Reads nothing outside @buf[0..@len), whatever the bytes are.
 */
void frame_parse(const uint8_t *buf, size_t len, struct frame_info *fi)
{
    struct ethhdr eth;

    memset(fi, 0, sizeof(*fi));
    if (len > UINT32_MAX) {
        fi->cls = FRAME_MALFORMED;
        return;
    }
    fi->len = (uint32_t)len;
    if (len < sizeof(eth)) {
        fi->cls = FRAME_TRUNCATED;
        return;
    }
    memcpy(&eth, buf, sizeof(eth));
    fi->ethertype = ntohs(eth.h_proto);
    fi->l3off = sizeof(eth);
    switch (fi->ethertype) {
    case ETH_P_IP:
        frame_parse_ip4(buf, fi);
        break;
    case ETH_P_IPV6:
        frame_parse_ip6(buf, fi);
        break;
    case ETH_P_ARP:
        fi->cls = len - fi->l3off < FRAME_ARP_LEN ? FRAME_TRUNCATED : FRAME_ARP;
        break;
    default:
        fi->cls = FRAME_NON_IP;
        break;
    }
}

/**
 * frame_class_name() - a class as text, for tests and logs
 * @cls:	the class
 *
 * Return: a static string ("?" for a value out of range)
 */
const char *frame_class_name(enum frame_class cls)
{
    static const char *const names[] = {
        [FRAME_TRUNCATED] = "truncated",
        [FRAME_MALFORMED] = "malformed",
        [FRAME_NON_IP] = "non-ip",
        [FRAME_ARP] = "arp",
        [FRAME_IP4_TCP] = "ip4-tcp",
        [FRAME_IP4_UDP] = "ip4-udp",
        [FRAME_IP4_DHCP] = "ip4-dhcp",
        [FRAME_IP4_ICMP] = "ip4-icmp",
        [FRAME_IP4_FRAG] = "ip4-frag",
        [FRAME_IP4_OTHER] = "ip4-other",
        [FRAME_IP6_TCP] = "ip6-tcp",
        [FRAME_IP6_UDP] = "ip6-udp",
        [FRAME_IP6_DHCP] = "ip6-dhcp",
        [FRAME_IP6_ICMP] = "ip6-icmp",
        [FRAME_IP6_NDP] = "ip6-ndp",
        [FRAME_IP6_RS] = "ip6-rs",
        [FRAME_IP6_RA] = "ip6-ra",
        [FRAME_IP6_FRAG] = "ip6-frag",
        [FRAME_IP6_OTHER] = "ip6-other",
    };

    if ((unsigned int)cls >= sizeof(names) / sizeof(names[0]) || !names[cls])
        return "?";
    return names[cls];
}
