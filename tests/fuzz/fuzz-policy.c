/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-policy.c - libFuzzer target: egress rules from any text, compiled, then any frame checked against them */
/*
 * The input is lines of "allow=RULE"/"deny=RULE" words up to an empty
 * line, then a frame. Every rule the parser accepts is compiled; each
 * lookup must agree with a linear first match over the same rules (IPv4
 * and IPv6), and the frame goes through policy_check(): a reply it builds
 * must classify as what it claims (an RST, an ICMP error) and fit its
 * buffer. The sanitizers catch any read outside the input.
 *
 * Run: ./fuzz-policy -max_total_time=60 [corpus-dir]
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "policy.h"
#include "policy_rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_RULES 32

/* does @r cover (@family, @proto, @a, @port)? */
static int fuzz_covers(const struct policy_rule *r, const struct policy_names *nm,
                       int family, unsigned int proto, const uint8_t *a,
                       uint16_t port)
{
    const uint8_t *net = family == 4 ? (const uint8_t *)&r->addr.v4 : r->addr.v6.s6_addr;
    unsigned int i, bits;

    if (!(r->protos & proto) || port < r->port_lo || port > r->port_hi)
        return 0;
    switch (r->dest) {
    case POLICY_DEST_ANY:
        return 1;
    case POLICY_DEST_HOST_LOOPBACK:
        if (family == 4)
            return !memcmp(a, &nm->host4, 4) || !memcmp(a, "\xff\xff\xff\xff", 4);
        /* the whole prefix but the DNS address (a /64 here) */
        return nm->ipv6 && !memcmp(a, &nm->prefix6, 8) && memcmp(a, &nm->dns6, 16);
    case POLICY_DEST_DNS:
        return family == 4 ? !memcmp(a, &nm->dns4, 4) :
               nm->ipv6 && !memcmp(a, &nm->dns6, 16);
    case POLICY_DEST_METADATA:
        return family == 4 && !memcmp(a, "\xa9\xfe\xa9\xfe", 4);
    default:
        break;
    }
    if (r->family != family)
        return 0;
    bits = r->prefix;
    for (i = 0; i < bits; i++)
        if ((a[i / 8] ^ net[i / 8]) & (0x80u >> (i % 8)))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned int protos[3] = { POLICY_PROTO_TCP, POLICY_PROTO_UDP,
                                            POLICY_PROTO_ICMP };
    struct policy_rule rules[FUZZ_RULES];
    struct policy_names nm = { .ipv6 = true };
    enum policy_action dflt = POLICY_ALLOW;
    uint8_t reply[POLICY_REPLY_MAX], frame[2048], a[16];
    struct frame_info fi, rfi;
    size_t n = 0, pos = 0, rlen = 0, i, k;
    struct policy *p;
    struct err e;

    inet_pton(AF_INET, "10.0.2.2", &nm.host4);
    inet_pton(AF_INET, "10.0.2.3", &nm.dns4);
    inet_pton(AF_INET6, "fd00::2", &nm.host6);
    inet_pton(AF_INET6, "fd00::3", &nm.dns6);
    inet_pton(AF_INET6, "fd00::", &nm.prefix6);
    nm.prefix6_len = 64;
    while (pos < size && n < FUZZ_RULES) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        char word[POLICY_RULE_TEXT_MAX + 8];
        int r;

        if (len == 0) {
            pos++;
            break;
        }
        if (len < sizeof(word) && !memchr(data + pos, '\0', len)) {
            memcpy(word, data + pos, len);
            word[len] = '\0';
            r = policy_rule_parse_word(word, &rules[n], &e);
            if (r == POLICY_RULE_DEFAULT)
                dflt = (enum policy_action)rules[n].action;
            else if (r == 0)
                n++;
        }
        pos += len + (nl ? 1 : 0);
    }
    if (policy_new(&nm, false, false, &p) < 0)
        return 0;
    if (policy_set(p, rules, NULL, n, dflt, false, &e) < 0) {
        policy_free(p);
        return 0;
    }
    /* lookups at each rule's first address and the frame's bytes */
    for (k = 0; k <= n; k++) {
        int family = k < n ? (rules[k].family ? rules[k].family : 4) : 6;
        uint16_t port = k < n ? rules[k].port_lo : 0;

        memset(a, 0, sizeof(a));
        if (k < n)
            memcpy(a, &rules[k].addr, family == 4 ? 4 : 16);
        else if (size - pos >= 16)
            memcpy(a, data + pos, 16);
        for (i = 0; i < 3; i++) {
            enum policy_action want = dflt;
            size_t j;

            for (j = 0; j < n; j++) {
                if (fuzz_covers(&rules[j], &nm, family, protos[i], a, port)) {
                    want = (enum policy_action)rules[j].action;
                    break;
                }
            }
            if (policy_recheck(p, family, protos[i], a, port) != want)
                abort();
        }
    }
    size -= pos;
    if (size > sizeof(frame))
        size = sizeof(frame);
    memcpy(frame, data + pos, size);
    frame_parse(frame, size, &fi);
    if (policy_check(p, frame, &fi, 1000, reply, &rlen) == POLICY_REPLY) {
        if (rlen > sizeof(reply))
            abort();
        frame_parse(reply, rlen, &rfi);
        if (frame_is_tcp(&fi) ? !frame_is_tcp(&rfi) :
            rfi.cls != FRAME_IP4_ICMP && rfi.cls != FRAME_IP6_ICMP)
            abort();
    }
    policy_free(p);
    return 0;
}
