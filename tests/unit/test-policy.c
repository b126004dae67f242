/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-policy.c - unit tests for the egress policy: rule parsing, first-match lookups, refusals built for frames */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "frame.h"
#include "offload.h"
#include "policy.h"
#include "policy_rule.h"
#include "tapout.h"

#define ETH 14

static struct policy_names names;

static void names_init(bool ipv6)
{
    memset(&names, 0, sizeof(names));
    inet_pton(AF_INET, "10.0.2.2", &names.host4);
    inet_pton(AF_INET, "10.0.2.3", &names.dns4);
    names.ipv6 = ipv6;
    inet_pton(AF_INET6, "fd00::2", &names.host6);
    inet_pton(AF_INET6, "fd00::3", &names.dns6);
    inet_pton(AF_INET6, "fd00::", &names.prefix6);
    names.prefix6_len = 64;
}

/* a policy from "allow=..."/"deny=..." words */
static struct policy *mk(bool deny_host_loopback, const char *const *words)
{
    struct policy_rule rules[64];
    enum policy_action dflt = POLICY_ALLOW;
    struct policy *p = NULL;
    struct err e;
    size_t n = 0;
    int r;

    if (policy_new(&names, deny_host_loopback, false, &p) < 0)
        abort();
    for (; words && *words; words++) {
        r = policy_rule_parse_word(*words, &rules[n], &e);
        if (r < 0) {
            printf("# %s: %s\n", *words, e.msg);
            abort();
        }
        if (r == POLICY_RULE_DEFAULT)
            dflt = (enum policy_action)rules[n].action;
        else
            n++;
    }
    if (policy_set(p, rules, NULL, n, dflt, false, &e) < 0)
        abort();
    return p;
}

static enum policy_action q(struct policy *p, unsigned int proto,
                            const char *addr, uint16_t port)
{
    uint8_t a[16];
    int fam = strchr(addr, ':') ? 6 : 4;

    inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, a);
    return policy_recheck(p, fam, proto, a, port);
}

#define T POLICY_PROTO_TCP
#define U POLICY_PROTO_UDP
#define I POLICY_PROTO_ICMP
#define A POLICY_ALLOW
#define D POLICY_DENY

static void test_parse(void)
{
    static const char *const bad[] = {
        "", "tcp:", "tcp:bad", "tcp:10.0.0.1/8", "10.0.0.0/33", "icmp:1.2.3.4:80",
        "tcp:1.2.3.4:0", "tcp:1.2.3.4:70000", "tcp:1.2.3.4:80-70", "tcp:1.2.3.4:",
        "udp:[fd00::1", "[10.0.0.1]:80", "host-loopback/24", "fd00::1/129",
        "sctp:1.2.3.4", "tcp:1.2.3.4:8x", "tcp:[fd00::1]x", "1.2.3.4/-1",
        "tcp:1.2.3.4:1-2-3", "[fd00::/64]/64",
    };
    struct policy_rule r;
    struct err e;
    size_t i;

    TAP_IS_INT(policy_rule_parse("tcp:10.0.2.2:5432", POLICY_DENY, &r, &e), 0,
               "parse: tcp:ADDR:PORT");
    TAP_OK(r.protos == POLICY_PROTO_TCP && r.family == 4 && r.prefix == 32 &&
           r.port_lo == 5432 && r.port_hi == 5432 && r.action == POLICY_DENY &&
           !strcmp(r.text, "tcp:10.0.2.2:5432"), "parse: its fields");
    TAP_IS_INT(policy_rule_parse("192.168.0.0/16:1000-2000", POLICY_ALLOW, &r, &e),
               0, "parse: a prefix with a port range, no protocol");
    TAP_OK(r.protos == (POLICY_PROTO_TCP | POLICY_PROTO_UDP) && r.prefix == 16 &&
           r.port_lo == 1000 && r.port_hi == 2000,
           "parse: ports without a protocol mean TCP and UDP");
    TAP_IS_INT(policy_rule_parse("10.0.0.0/8", POLICY_ALLOW, &r, &e), 0,
               "parse: a prefix alone");
    TAP_OK(r.protos == POLICY_PROTO_ALL && r.port_lo == 0 && r.port_hi == 65535,
           "parse: no protocol, no port: everything");
    TAP_IS_INT(policy_rule_parse("udp:[fd00::1]:53", POLICY_ALLOW, &r, &e), 0,
               "parse: [IPv6]:PORT");
    TAP_OK(r.family == 6 && r.prefix == 128 && r.port_lo == 53, "parse: IPv6 fields");
    TAP_IS_INT(policy_rule_parse("tcp:[2001:db8::]/32:443", POLICY_ALLOW, &r, &e),
               0, "parse: [IPv6]/LEN:PORT");
    TAP_OK(r.prefix == 32 && r.port_lo == 443, "parse: its prefix and port");
    TAP_IS_INT(policy_rule_parse("[2001:db8::/32]:443", POLICY_ALLOW, &r, &e), 0,
               "parse: [IPv6/LEN]:PORT");
    TAP_IS_INT(policy_rule_parse("2001:db8::/32", POLICY_ALLOW, &r, &e), 0,
               "parse: bare IPv6 prefix");
    TAP_OK(r.family == 6 && r.prefix == 32 && r.port_hi == 65535,
           "parse: bare IPv6 has no port");
    TAP_IS_INT(policy_rule_parse("icmp:any", POLICY_DENY, &r, &e), 0, "parse: icmp:any");
    TAP_OK(r.dest == POLICY_DEST_ANY && r.protos == POLICY_PROTO_ICMP,
           "parse: any, ICMP only");
    TAP_IS_INT(policy_rule_parse("tcp:host-loopback:5432", POLICY_ALLOW, &r, &e), 0,
               "parse: tcp:host-loopback:PORT");
    TAP_OK(r.dest == POLICY_DEST_HOST_LOOPBACK && r.port_lo == 5432,
           "parse: host-loopback with a port");
    TAP_IS_INT(policy_rule_parse("dns", POLICY_DENY, &r, &e), 0, "parse: dns");
    TAP_IS_INT(policy_rule_parse("metadata", POLICY_DENY, &r, &e), 0, "parse: metadata");
    TAP_IS_INT(policy_rule_parse("all", POLICY_DENY, &r, &e), POLICY_RULE_DEFAULT,
               "parse: all sets the default");
    TAP_IS_INT(policy_rule_parse_word("deny=tcp:1.2.3.4", &r, &e), 0,
               "parse: deny=RULE");
    TAP_OK(r.action == POLICY_DENY, "parse: deny= sets the action");
    TAP_OK(policy_rule_parse_word("block=1.2.3.4", &r, &e) < 0 &&
           strstr(e.msg, "block=1.2.3.4"), "parse: neither allow= nor deny=");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = policy_rule_parse(bad[i], POLICY_DENY, &r, &e);

        TAP_OK(rc < 0 && (!*bad[i] || strstr(e.msg, bad[i])),
               "parse: '%s' refused, the message names it (%s)", bad[i], e.msg);
    }
}

static void test_match(void)
{
    struct policy *p;

    names_init(true);
    p = mk(false, (const char *[]){ "deny=10.0.0.0/8", "allow=10.1.0.0/16", NULL });
    TAP_OK(q(p, T, "10.1.2.3", 80) == D, "first match: a broader rule first wins");
    TAP_OK(q(p, T, "11.0.0.1", 80) == A, "first match: no rule: the default");
    policy_free(p);
    p = mk(false, (const char *[]){ "allow=10.1.0.0/16", "deny=10.0.0.0/8",
                                    "deny=all", NULL });
    TAP_OK(q(p, T, "10.1.2.3", 80) == A, "longest first: the narrower rule decides");
    TAP_OK(q(p, T, "10.2.0.1", 80) == D, "longest first: the broader one the rest");
    TAP_OK(q(p, U, "10.0.255.255", 53) == D, "the prefix's last address");
    TAP_OK(q(p, T, "9.255.255.255", 80) == D, "deny=all: the default is deny");
    TAP_OK(q(p, T, "10.1.255.255", 80) == A && q(p, T, "10.2.0.0", 80) == D,
           "interval edges");
    policy_free(p);

    p = mk(false, (const char *[]){ "deny=tcp:192.0.2.0/24:80-90",
                                    "allow=udp:192.0.2.1:53", "deny=icmp:192.0.2.1",
                                    NULL });
    TAP_OK(q(p, T, "192.0.2.7", 79) == A && q(p, T, "192.0.2.7", 80) == D &&
           q(p, T, "192.0.2.7", 90) == D && q(p, T, "192.0.2.7", 91) == A,
           "port range: 79 allowed, 80 and 90 denied, 91 allowed");
    TAP_OK(q(p, U, "192.0.2.7", 85) == A, "port range: TCP only");
    TAP_OK(q(p, I, "192.0.2.1", 0) == D && q(p, I, "192.0.2.2", 0) == A,
           "ICMP: its own table");
    policy_free(p);

    p = mk(false, (const char *[]){ "deny=tcp:[2001:db8::]/32:443",
                                    "allow=2001:db8:1::/48", "deny=::/0", NULL });
    TAP_OK(q(p, T, "2001:db8:1::5", 443) == D, "IPv6: first match, port");
    TAP_OK(q(p, T, "2001:db8:1::5", 80) == A, "IPv6: the /48");
    TAP_OK(q(p, T, "2001:db9::1", 80) == D, "IPv6: ::/0");
    TAP_OK(q(p, T, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1) == D,
           "IPv6: the last address");
    TAP_OK(q(p, T, "10.0.0.1", 80) == A, "IPv6 rules leave IPv4 alone");
    policy_free(p);

    p = mk(false, (const char *[]){ "deny=tcp:host-loopback:22", "deny=dns",
                                    "deny=metadata", NULL });
    TAP_OK(q(p, T, "10.0.2.2", 22) == D && q(p, T, "fd00::2", 22) == D,
           "host-loopback: cidr+2 and the IPv6 gateway");
    TAP_OK(q(p, T, "255.255.255.255", 22) == D,
           "host-loopback: 255.255.255.255 (libslirp sends it to the loopback)");
    TAP_OK(q(p, T, "10.0.2.2", 23) == A, "host-loopback: only its port");
    TAP_OK(q(p, T, "fd00::", 22) == D && q(p, T, "fd00::99", 22) == D &&
           q(p, T, "fd00::ffff:ffff:ffff:ffff", 22) == D,
           "host-loopback: every address of the IPv6 prefix (libslirp sends them to ::1)");
    TAP_OK(q(p, U, "10.0.2.3", 53) == D && q(p, U, "fd00::3", 53) == D,
           "dns: cidr+3 and fd00::3");
    TAP_OK(q(p, T, "169.254.169.254", 80) == D && q(p, T, "169.254.169.253", 80) == A,
           "metadata: 169.254.169.254");
    policy_free(p);
    p = mk(false, (const char *[]){ "deny=tcp:host-loopback:22", NULL });
    TAP_OK(q(p, T, "fd00::3", 22) == A && q(p, T, "fd00:0:0:1::", 22) == A &&
           q(p, T, "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 22) == A &&
           q(p, T, "fd00::2", 22) == D && q(p, T, "fd00::4", 22) == D,
           "host-loopback: not the DNS address, nor past the prefix");
    policy_free(p);

    names_init(false);
    p = mk(false, (const char *[]){ "deny=host-loopback", NULL });
    TAP_OK(q(p, T, "fd00::2", 22) == A, "host-loopback: no IPv6 address without -6");
    policy_free(p);
    names_init(true);

    /* --disable-host-loopback: only rules that name host-loopback reach it */
    p = mk(true, (const char *[]){ "allow=any", "allow=tcp:10.0.2.2:80",
                                   "allow=tcp:host-loopback:5432", NULL });
    TAP_OK(q(p, T, "10.0.2.2", 5432) == A && q(p, T, "fd00::2", 5432) == A,
           "disable-host-loopback: the named exception gets through");
    TAP_OK(q(p, T, "10.0.2.2", 5433) == D && q(p, U, "10.0.2.2", 5432) == D,
           "disable-host-loopback: nothing else of the host's loopback");
    TAP_OK(q(p, T, "fd00::99", 5433) == D && q(p, T, "fd00::99", 5432) == A,
           "disable-host-loopback: another address of the IPv6 prefix is the host's ::1 too");
    TAP_OK(q(p, T, "10.0.2.2", 80) == D,
           "disable-host-loopback: a rule by address makes no exception");
    TAP_OK(q(p, T, "192.0.2.1", 80) == A, "disable-host-loopback: others as before");
    TAP_OK(q(p, I, "10.0.2.2", 0) == A,
           "disable-host-loopback: a ping to the gateway is answered (by libslirp, as slirp4netns)");
    TAP_OK(policy_implicit(p) && policy_implicit(p)->rule.action == POLICY_DENY,
           "disable-host-loopback: the implicit rule is shown");
    policy_free(p);
}

/* a naive first match, against which the tables are checked */
static enum policy_action naive(const struct policy_rule *r, size_t n,
                                enum policy_action dflt, unsigned int proto,
                                uint32_t a, uint16_t port)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint32_t net = ntohl(r[i].addr.v4.s_addr);
        uint32_t mask = r[i].prefix ? ~0u << (32 - r[i].prefix) : 0;

        if ((r[i].protos & proto) && (a & mask) == net &&
            port >= r[i].port_lo && port <= r[i].port_hi)
            return (enum policy_action)r[i].action;
    }
    return dflt;
}

static void test_random(void)
{
    struct policy_rule rules[200];
    unsigned int seed = 12345, bad = 0, k, trial;
    struct policy *p;
    struct err e;

    for (trial = 0; trial < 20; trial++) {
        size_t n = 1 + rand_r(&seed) % 200, i;
        enum policy_action dflt = rand_r(&seed) & 1 ? D : A;

        for (i = 0; i < n; i++) {
            char text[64];
            unsigned int pfx = 8 + rand_r(&seed) % 25;
            uint32_t a = ((uint32_t)rand_r(&seed) & 0x0f0f0f0f) | 0x0a000000;
            unsigned int lo = 1 + rand_r(&seed) % 100, hi = lo + rand_r(&seed) % 50;
            static const char *const pr[] = { "tcp:", "udp:", "" };
            const char *proto = pr[rand_r(&seed) % 3];

            a &= pfx == 32 ? ~0u : ~(~0u >> pfx);
            if (rand_r(&seed) % 3)
                snprintf(text, sizeof(text), "%s%u.%u.%u.%u/%u:%u-%u", proto,
                         a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, pfx,
                         lo, hi);
            else
                snprintf(text, sizeof(text), "%s%u.%u.%u.%u/%u", proto, a >> 24,
                         (a >> 16) & 255, (a >> 8) & 255, a & 255, pfx);
            if (policy_rule_parse(text, rand_r(&seed) & 1 ? D : A, &rules[i], &e) != 0) {
                printf("# %s: %s\n", text, e.msg);
                abort();
            }
        }
        if (policy_new(&names, false, false, &p) < 0 ||
            policy_set(p, rules, NULL, n, dflt, false, &e) < 0)
            abort();
        for (k = 0; k < 2000; k++) {
            uint32_t a = ((uint32_t)rand_r(&seed) & 0x0f0f0f0f) | 0x0a000000;
            uint16_t port = (uint16_t)(rand_r(&seed) % 160);
            unsigned int proto = rand_r(&seed) & 1 ? T : U;
            struct in_addr ia = { htonl(a) };

            if (policy_recheck(p, 4, proto, &ia, port) !=
                naive(rules, n, dflt, proto, a, port))
                bad++;
        }
        policy_free(p);
    }
    TAP_IS_INT(bad, 0, "random rule lists: the tables agree with a linear first match "
               "(20 lists, 40000 lookups)");
}

/* the limits: POLICY_RULES_MAX rules of ordinary shape compile and keep
 * the first match; one more is refused; rules that overlap in addresses
 * and ports are refused before they take long */
static void test_limits(void)
{
    static struct policy_rule rules[POLICY_RULES_MAX + 1];
    unsigned int seed = 777, bad = 0, k;
    struct timespec t0, t1;
    struct policy *p;
    struct err e;
    size_t i;
    int r;

    for (i = 0; i <= POLICY_RULES_MAX; i++) {
        char text[64];

        /* a /24 each, some nested in a /16, and a port range each */
        if (i % 8 == 0)
            snprintf(text, sizeof(text), "tcp:10.%zu.0.0/16:%zu-%zu",
                     (i / 256) % 256, 1 + i % 1000, 1 + i % 1000 + 20);
        else
            snprintf(text, sizeof(text), "%s10.%zu.%zu.0/24:%zu-%zu",
                     i % 3 ? "tcp:" : "", (i / 256) % 256, i % 256,
                     1 + i % 1000, 1 + i % 1000 + 10);
        if (policy_rule_parse(text, i % 2 ? D : A, &rules[i], &e) != 0)
            abort();
    }
    if (policy_new(&names, false, false, &p) < 0)
        abort();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = policy_set(p, rules, NULL, POLICY_RULES_MAX, A, false, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    TAP_OK(r == 0, "%d rules compile (%ld ms)", POLICY_RULES_MAX,
           (long)((t1.tv_sec - t0.tv_sec) * 1000 +
                  (t1.tv_nsec - t0.tv_nsec) / 1000000));
    for (k = 0; k < 20000; k++) {
        uint32_t a = 0x0a000000 | ((uint32_t)rand_r(&seed) % 4 << 16) |
                     ((uint32_t)rand_r(&seed) % 256 << 8) | 7;
        uint16_t port = (uint16_t)(rand_r(&seed) % 1100);
        unsigned int proto = rand_r(&seed) & 1 ? T : U;
        struct in_addr ia = { htonl(a) };

        if (policy_recheck(p, 4, proto, &ia, port) !=
            naive(rules, POLICY_RULES_MAX, A, proto, a, port))
            bad++;
    }
    TAP_OK(bad == 0, "%d rules: the tables agree with a linear first match "
           "(20000 lookups, %u differ)", POLICY_RULES_MAX, bad);
    TAP_IS_INT(policy_set(p, rules, NULL, POLICY_RULES_MAX + 1, A, false, &e),
               -E2BIG, "one rule more: -E2BIG");
    TAP_OK(strstr(e.msg, "too many rules"), "... and says so: %s", e.msg);

    /* half of them on every address, each with its own port, the other
     * half small networks: every piece of address space holds hundreds of
     * port pieces */
    for (i = 0; i < POLICY_RULES_MAX; i++) {
        char text[64];

        if (i % 2)
            snprintf(text, sizeof(text), "tcp:0.0.0.0/0:%zu", 1 + i * 7);
        else
            snprintf(text, sizeof(text), "tcp:10.%zu.%zu.0/24:%zu",
                     (i >> 8) & 255, i & 255, 2 + i * 7);
        if (policy_rule_parse(text, D, &rules[i], &e) != 0)
            abort();
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = policy_set(p, rules, NULL, POLICY_RULES_MAX, A, false, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    TAP_IS_INT(r, -E2BIG, "rules that overlap in addresses and ports: refused");
    TAP_OK(strstr(e.msg, "overlap too much") &&
           (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 2000,
           "... with the reason, in %ld ms: %s",
           (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
           e.msg);
    TAP_IS_INT(policy_count(p), POLICY_RULES_MAX, "... and the rules before stay");
    policy_free(p);
}

/* --- frames --- */

static const uint8_t mac_ns[6] = { 2, 0, 0, 0, 0, 0x64 };
static const uint8_t mac_gw[6] = { 0x52, 0x55, 10, 0, 2, 2 };

static void put16(uint8_t *p, unsigned int v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t sum_ok(uint64_t sum)
{
    return offload_csum_fold(sum);
}

/* an IPv4 frame from 10.0.2.100 to @dst carrying @l4 (@l4len bytes) */
static size_t frame4(uint8_t *f, const char *dst, uint8_t proto,
                     const uint8_t *l4, size_t l4len, uint16_t frag)
{
    uint8_t *ip = f + ETH;
    uint16_t c;

    memcpy(f, mac_gw, 6);
    memcpy(f + 6, mac_ns, 6);
    put16(f + 12, 0x0800);
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned int)(20 + l4len));
    put16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = proto;
    inet_pton(AF_INET, "10.0.2.100", ip + 12);
    inet_pton(AF_INET, dst, ip + 16);
    c = (uint16_t)~offload_csum_fold(offload_csum_add(0, ip, 20));
    memcpy(ip + 10, &c, 2);
    memcpy(ip + 20, l4, l4len);
    return ETH + 20 + l4len;
}

static size_t frame6(uint8_t *f, const char *dst, uint8_t proto,
                     const uint8_t *l4, size_t l4len)
{
    uint8_t *ip = f + ETH;

    memcpy(f, mac_gw, 6);
    memcpy(f + 6, mac_ns, 6);
    put16(f + 12, 0x86dd);
    memset(ip, 0, 40);
    ip[0] = 0x60;
    put16(ip + 4, (unsigned int)l4len);
    ip[6] = proto;
    ip[7] = 64;
    inet_pton(AF_INET6, "fd00::100", ip + 8);
    inet_pton(AF_INET6, dst, ip + 24);
    memcpy(ip + 40, l4, l4len);
    return ETH + 40 + l4len;
}

/* the L4 checksum of a reply at @l3 (IPv4 or IPv6) is right */
static bool l4sum_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + ETH;
    bool v4 = (ip[0] >> 4) == 4;
    size_t hl = v4 ? 20 : 40, l4len = len - ETH - hl;
    uint8_t proto = v4 ? ip[9] : ip[6];
    uint16_t w[2] = { htons(proto), htons((uint16_t)l4len) };
    uint64_t sum = 0;

    if (!(v4 && proto == IPPROTO_ICMP)) {
        sum = offload_csum_add(sum, ip + (v4 ? 12 : 8), v4 ? 8 : 32);
        sum = offload_csum_add(sum, w, sizeof(w));
    }
    sum = offload_csum_add(sum, ip + hl, l4len);
    return sum_ok(sum) == 0xffff;
}

static void test_frames(void)
{
    uint8_t f[256], reply[POLICY_REPLY_MAX], tcp[20] = { 0 }, udp[12] = { 0 };
    uint8_t icmp[8] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1 }, icmp6[8] = { 128, 0 };
    struct policy_stats st;
    struct frame_info fi, rfi;
    struct policy *p;
    size_t len, rlen = 0;
    int i, replies = 0;

    names_init(true);
    p = mk(false, (const char *[]){ "allow=udp:192.0.2.1:53", "deny=tcp:192.0.2.0/24",
                                    "deny=udp:192.0.2.0/24", "deny=icmp:192.0.2.1",
                                    "deny=udp:[2001:db8::1]:9", NULL });
    /* a SYN to a denied address: an RST|ACK back */
    put16(tcp, 40000);
    put16(tcp + 2, 80);
    tcp[4] = 0x10;          /* seq 0x10000000 */
    tcp[12] = 5 << 4;
    tcp[13] = FRAME_TCP_SYN;
    len = frame4(f, "192.0.2.9", IPPROTO_TCP, tcp, 20, 0);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 1000, reply, &rlen), POLICY_REPLY,
               "TCP SYN to a denied address: a reply");
    frame_parse(reply, rlen, &rfi);
    TAP_OK(rfi.cls == FRAME_IP4_TCP && rfi.tcp_flags == (FRAME_TCP_RST | FRAME_TCP_ACK) &&
           rfi.ack == 0x10000001 && rfi.sport == 80 && rfi.dport == 40000 &&
           !memcmp(reply, mac_ns, 6) && !memcmp(reply + 6, mac_gw, 6),
           "... an RST|ACK for the SYN, back to the sender");
    TAP_OK(sum_ok(offload_csum_add(0, reply + ETH, 20)) == 0xffff &&
           l4sum_ok(reply, rlen), "... its IPv4 and TCP checksums are right");
    tcp[13] = FRAME_TCP_ACK;
    len = frame4(f, "192.0.2.9", IPPROTO_TCP, tcp, 20, 0);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 1000, reply, &rlen), POLICY_PASS,
               "TCP ACK: not looked at");
    tcp[13] = FRAME_TCP_SYN;
    len = frame4(f, "198.51.100.1", IPPROTO_TCP, tcp, 20, 0);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 1000, reply, &rlen), POLICY_PASS,
               "TCP SYN elsewhere: allowed by default");

    /* UDP: allowed, cached; denied with ICMP admin-prohibited */
    put16(udp, 5000);
    put16(udp + 2, 53);
    put16(udp + 4, 12);
    len = frame4(f, "192.0.2.1", IPPROTO_UDP, udp, 12, 0);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 1000, reply, &rlen), POLICY_PASS,
               "UDP to an allowed port: passes");
    TAP_IS_INT(policy_check(p, f, &fi, 1001, reply, &rlen), POLICY_PASS,
               "UDP: the flow's next datagram passes");
    policy_get_stats(p, &st);
    TAP_IS_INT(st.cache_hits, 1, "... from the cache of allowed flows");
    TAP_IS_INT(policy_entry(p, 0)->hits, 1, "... the rule counted the flow once");
    put16(udp + 2, 54);
    len = frame4(f, "192.0.2.1", IPPROTO_UDP, udp, 12, 0);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 1000, reply, &rlen), POLICY_REPLY,
               "UDP to a denied port: a reply");
    frame_parse(reply, rlen, &rfi);
    TAP_OK(rfi.cls == FRAME_IP4_ICMP && rfi.icmp_type == 3 && rfi.icmp_code == 13,
           "... ICMP destination unreachable, administratively prohibited");
    TAP_OK(l4sum_ok(reply, rlen) && rlen == ETH + 20 + 8 + 20 + 8 &&
           !memcmp(reply + ETH + 28, f + ETH, 28),
           "... quoting the IP header and 8 bytes, checksum right");
    TAP_IS_INT(policy_entry(p, 2)->hits, 1, "... the deny rule counted it");

    /* the rate limit */
    for (i = 0; i < 300; i++)
        replies += policy_check(p, f, &fi, 2000, reply, &rlen) == POLICY_REPLY;
    TAP_IS_INT(replies, POLICY_ICMP_PER_SEC, "ICMP errors: at most the rate per second");
    policy_get_stats(p, &st);
    TAP_IS_INT(st.icmp_limited, 300 - POLICY_ICMP_PER_SEC, "... the rest counted");
    TAP_IS_INT(policy_check(p, f, &fi, 3100, reply, &rlen), POLICY_REPLY,
               "... and a second later they go again");
    len = frame4(f, "224.0.0.251", IPPROTO_UDP, udp, 12, 0);
    frame_parse(f, len, &fi);
    {
        struct policy *pd = mk(false, (const char *[]){ "deny=all", NULL });

        TAP_IS_INT(policy_check(pd, f, &fi, 1000, reply, &rlen), POLICY_DROP,
                   "UDP to a multicast group: dropped, no ICMP error");
        policy_free(pd);
    }

    /* ports 67/68: libslirp's DHCP server passes, any other address is UDP */
    {
        struct policy *pd = mk(false, (const char *[]){ "deny=all", NULL });
        uint8_t dh[8] = { 0, 68, 0, 67, 0, 8, 0, 0 };

        len = frame4(f, "255.255.255.255", IPPROTO_UDP, dh, 8, 0);
        frame_parse(f, len, &fi);
        TAP_IS_INT(policy_check(pd, f, &fi, 1000, reply, &rlen), POLICY_PASS,
                   "deny=all: DHCP to the broadcast still passes (libslirp's server)");
        len = frame4(f, "192.0.2.77", IPPROTO_UDP, dh, 8, 0);
        frame_parse(f, len, &fi);
        TAP_OK(fi.cls == FRAME_IP4_DHCP &&
               policy_check(pd, f, &fi, 1000, reply, &rlen) == POLICY_REPLY,
               "deny=all: 68 -> 67 to another address is UDP, refused");
        policy_free(pd);
    }

    /* a UDP flow a remote started (a forward's client): the answer passes */
    {
        struct policy *pd = mk(false, (const char *[]){ "deny=all", NULL });
        uint8_t in[8] = { 0x9c, 0x40, 0x1b, 0x59, 0, 8, 0, 0 };   /* 40000 -> 7001 */
        uint8_t *ip;

        len = frame4(f, "192.0.2.50", IPPROTO_UDP, in, 8, 0);
        ip = f + ETH;       /* swap: from 192.0.2.50 to the namespace */
        inet_pton(AF_INET, "192.0.2.50", ip + 12);
        inet_pton(AF_INET, "10.0.2.100", ip + 16);
        frame_parse(f, len, &fi);
        policy_note_in(pd, &fi, 1000);
        put16(udp, 7001);
        put16(udp + 2, 40000);
        len = frame4(f, "192.0.2.50", IPPROTO_UDP, udp, 12, 0);
        frame_parse(f, len, &fi);
        TAP_IS_INT(policy_check(pd, f, &fi, 1001, reply, &rlen), POLICY_PASS,
                   "deny=all: the answer to a flow a remote started passes");
        put16(udp + 2, 40001);
        len = frame4(f, "192.0.2.50", IPPROTO_UDP, udp, 12, 0);
        frame_parse(f, len, &fi);
        TAP_IS_INT(policy_check(pd, f, &fi, 1001, reply, &rlen), POLICY_REPLY,
                   "... another port of the same remote does not");
        policy_free(pd);
    }

    /* ICMP echo */
    len = frame4(f, "192.0.2.1", IPPROTO_ICMP, icmp, 8, 0);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 1000, reply, &rlen), POLICY_DROP,
               "ICMP echo to a denied address: dropped");
    len = frame4(f, "192.0.2.2", IPPROTO_ICMP, icmp, 8, 0);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 1000, reply, &rlen), POLICY_PASS,
               "ICMP echo elsewhere: passes");

    /* IPv6 UDP: ICMPv6 admin-prohibited */
    put16(udp + 2, 9);
    len = frame6(f, "2001:db8::1", IPPROTO_UDP, udp, 12);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 5000, reply, &rlen), POLICY_REPLY,
               "IPv6 UDP to a denied port: a reply");
    frame_parse(reply, rlen, &rfi);
    TAP_OK(rfi.cls == FRAME_IP6_ICMP && rfi.icmp_type == 1 && rfi.icmp_code == 1 &&
           l4sum_ok(reply, rlen),
           "... ICMPv6 administratively prohibited, checksum right");
    len = frame6(f, "2001:db8::1", IPPROTO_ICMPV6, icmp6, 8);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 5000, reply, &rlen), POLICY_PASS,
               "IPv6 echo not denied: passes");

    /* IPv4 fragments: the first one decides */
    put16(udp + 2, 54);
    len = frame4(f, "192.0.2.1", IPPROTO_UDP, udp, 12, 0x2000);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 6000, reply, &rlen), POLICY_DROP,
               "UDP first fragment to a denied port: dropped");
    len = frame4(f, "192.0.2.1", IPPROTO_UDP, udp, 4, 0x2000);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 6000, reply, &rlen), POLICY_DROP,
               "a first fragment too short to show the ports: dropped");
    len = frame4(f, "192.0.2.1", IPPROTO_UDP, udp, 12, 0x0003);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 6000, reply, &rlen), POLICY_PASS,
               "a later fragment: passes (useless without the first)");
    put16(udp + 2, 53);
    len = frame4(f, "192.0.2.1", IPPROTO_UDP, udp, 12, 0x2000);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 6000, reply, &rlen), POLICY_PASS,
               "UDP first fragment to an allowed port: passes");
    policy_free(p);
}

static void test_change(void)
{
    uint8_t f[128], reply[POLICY_REPLY_MAX], udp[8] = { 0 };
    struct policy_rule r;
    struct frame_info fi;
    struct policy *p;
    struct err e;
    size_t len, rlen;

    names_init(false);
    p = mk(false, NULL);
    TAP_OK(!policy_active(p), "no rules, default allow: nothing to check");
    policy_free(p);
    p = mk(false, (const char *[]){ "allow=udp:192.0.2.1", NULL });
    put16(udp, 5000);
    put16(udp + 2, 7);
    put16(udp + 4, 8);
    len = frame4(f, "192.0.2.1", IPPROTO_UDP, udp, 8, 0);
    frame_parse(f, len, &fi);
    TAP_IS_INT(policy_check(p, f, &fi, 1000, reply, &rlen), POLICY_PASS,
               "a UDP flow allowed");
    policy_rule_parse("udp:192.0.2.1", POLICY_DENY, &r, &e);
    TAP_IS_INT(policy_set(p, &r, NULL, 1, POLICY_ALLOW, false, &e), 0,
               "new rules deny it");
    TAP_IS_INT(policy_check(p, f, &fi, 1001, reply, &rlen), POLICY_PASS,
               "... the open flow is not cut");
    TAP_IS_INT(policy_entry(p, 0)->hits, 0, "... the new rule's counter starts at 0");
    TAP_IS_INT(policy_set(p, &r, NULL, 1, POLICY_ALLOW, true, &e), 0,
               "the same with a reset");
    TAP_IS_INT(policy_check(p, f, &fi, 1002, reply, &rlen), POLICY_REPLY,
               "... now the flow is refused");
    TAP_OK(policy_set(p, &r, NULL, POLICY_RULES_MAX + 1, POLICY_ALLOW, false, &e) < 0 &&
           policy_count(p) == 1, "too many rules: refused, the old ones stay");
    policy_free(p);
}

int main(void)
{
    test_parse();
    test_match();
    test_random();
    test_limits();
    test_frames();
    test_change();
    return tap_done();
}
