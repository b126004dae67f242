/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.c - the egress policy: first-match rules compiled into sorted intervals, checked at a flow's start */
/*
 * DOC: Theory of Operation
 *
 * The rules (--allow/--deny, the configuration file, set_policy) are an
 * ordered list: the first rule that matches a flow's protocol, destination
 * address and port decides, and the default decides when none does. The
 * list is compiled, once per change, into a table per address family and
 * protocol: the address space cut into sorted, non-overlapping intervals
 * at every rule's bounds, each with its port space cut the same way, and
 * each port interval holding the index of the first rule that covers it
 * (or none). A lookup is two binary searches: O(log n) in the rules, and
 * the order of the list is kept exactly, however the rules overlap.
 *
 * What is checked, from the namespace only (stack.c, before steering):
 *   - TCP: a SYN without ACK, nothing else. A refused SYN is answered at
 *     once with an RST (the client sees "connection refused"); an
 *     established flow pays nothing.
 *   - UDP: the first datagram of a flow; its 5-tuple then goes into a
 *     bounded cache of allowed flows (POLICY_CACHE_SLOTS, set-associative,
 *     an entry lasting POLICY_CACHE_TTL_MS since its flow's last datagram,
 *     as libslirp's own UDP sockets), so the datagrams after it cost one
 *     hash and a compare. A refused datagram is answered with ICMP or
 *     ICMPv6 "administratively prohibited", at most POLICY_ICMP_PER_SEC a
 *     second, and never for a multicast or broadcast destination.
 *   - A datagram between ports 67 and 68 (546 and 547), unless it goes to
 *     libslirp's DHCP server (the gateway or broadcast; the DHCPv6
 *     multicast group): libslirp sends any other out as plain UDP.
 *   - ICMP and ICMPv6 echo requests, as UDP (the echo id for ports); a
 *     refused one is dropped.
 *   - The first fragment of a fragmented IPv4 datagram, by the L4 header
 *     it carries (libslirp reassembles it; later fragments are useless
 *     without it). One too short to show the ports and flags is dropped.
 *     libslirp 4.7 drops IPv6 fragments and extension headers itself.
 *
 * Flows a remote starts are not egress: TCP's answers (SYN|ACK) are never
 * looked at, and a UDP datagram libslirp hands the namespace (a port
 * forward's client) puts its flow, reversed, in the cache (policy_note_in()),
 * so the namespace's answers pass.
 *
 * A new rule list leaves open flows alone: TCP is only checked at its
 * SYN, and the cache keeps the UDP and echo flows already allowed, unless
 * the caller asks for a reset (the cache is emptied, every datagram is
 * checked again).
 *
 * --disable-host-loopback is the rule "deny=host-loopback", placed after
 * every other rule: a rule given before it (allow=tcp:host-loopback:5432)
 * makes an exception. libslirp's own switch is then left off (stack.c),
 * so that an exception can get through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"
#include "frame.h"
#include "log.h"
#include "offload.h"
#include "policy.h"

#define POLICY_IP_DF 0x4000
#define POLICY_IP_OFFMASK 0x1fff
#define POLICY_TTL 64
#define POLICY_LOG_SLOTS 256
/* bytes of a refused datagram an ICMP error quotes after its L4 header's start */
#define POLICY_QUOTE_L4 8
/* the intervals one rule stands for at most (host-loopback: cidr+2,
 * 255.255.255.255, the IPv6 prefix on either side of the DNS address) */
#define POLICY_SPANS_MAX 4

/* an address as a 128-bit number (IPv4 in the low bits) */
struct policy_u128 {
    uint64_t hi, lo;
};

/* an address interval's start, and its port intervals in the table's array */
struct policy_cell {
    struct policy_u128 start;
    uint32_t port0, nports;
};

/* a port interval's start, and the first rule covering it (-1: none) */
struct policy_port {
    uint16_t start;
    int16_t rule;
};

struct policy_table {
    struct policy_cell *cells;
    size_t ncells;
    struct policy_port *ports;
    size_t nports, capports;
};

/* a rule resolved to one family's address interval */
struct policy_span {
    int16_t rule;
    uint8_t family;
    uint8_t protos;
    struct policy_u128 lo, hi;
    uint16_t plo, phi;
};

/* a rule list and its tables: replaced whole */
struct policy_compiled {
    struct policy_table tab[2][3];  /* [IPv4, IPv6][TCP, UDP, ICMP] */
    struct policy_entry *ent;       /* n rules, then the implicit one */
    size_t n;
    bool implicit;
    enum policy_action dflt;
};

struct policy_flow {
    uint8_t used, family, proto;
    uint16_t sport, dport;
    struct in6_addr saddr, daddr;
    int64_t seen_ms;
};

struct policy_logslot {
    uint8_t used, family, proto;
    uint16_t port;
    struct in6_addr daddr;
    int64_t at_ms;
};

struct policy {
    struct policy_names names;
    bool deny_host_loopback;
    bool log_denied;
    struct policy_compiled c;
    struct policy_flow *cache;      /* allocated at the first use */
    struct policy_logslot *logs;    /* allocated at the first line */
    uint32_t seed;
    int64_t tokens;                 /* ICMP errors that may still go */
    int64_t refill_ms;
    struct policy_stats st;
};

static int policy_u128_cmp(const struct policy_u128 *a, const struct policy_u128 *b)
{
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return 0;
}

static struct policy_u128 policy_u128_of(int family, const void *addr)
{
    struct policy_u128 v = { 0, 0 };
    const uint8_t *p = addr;
    int i;

    if (family == 4) {
        for (i = 0; i < 4; i++)
            v.lo = v.lo << 8 | p[i];
        return v;
    }
    for (i = 0; i < 8; i++)
        v.hi = v.hi << 8 | p[i];
    for (i = 8; i < 16; i++)
        v.lo = v.lo << 8 | p[i];
    return v;
}

/* the last address of @family's space */
static struct policy_u128 policy_u128_max(int family)
{
    if (family == 4)
        return (struct policy_u128){ 0, 0xffffffffu };
    return (struct policy_u128){ UINT64_MAX, UINT64_MAX };
}

/* @a with the bits past @prefix set */
static struct policy_u128 policy_u128_last(int family, struct policy_u128 a,
                                           unsigned int prefix)
{
    unsigned int bits = family == 4 ? 32 : 128;
    unsigned int host = bits - prefix;

    if (family == 4) {
        a.lo |= host >= 32 ? 0xffffffffu : ((1ull << host) - 1);
        return a;
    }
    if (host >= 64) {
        a.lo = UINT64_MAX;
        a.hi |= host >= 128 ? UINT64_MAX : ((1ull << (host - 64)) - 1);
    } else if (host) {
        a.lo |= (1ull << host) - 1;
    }
    return a;
}

static int policy_proto_index(unsigned int proto)
{
    return proto == POLICY_PROTO_TCP ? 0 : proto == POLICY_PROTO_UDP ? 1 : 2;
}

static void policy_table_free(struct policy_table *t)
{
    free(t->cells);
    free(t->ports);
    memset(t, 0, sizeof(*t));
}

static void policy_compiled_free(struct policy_compiled *c)
{
    int f, i;

    for (f = 0; f < 2; f++)
        for (i = 0; i < 3; i++)
            policy_table_free(&c->tab[f][i]);
    free(c->ent);
    memset(c, 0, sizeof(*c));
}

static int policy_cmp_u128(const void *a, const void *b)
{
    return policy_u128_cmp(a, b);
}

static int policy_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

static int policy_add_port(struct policy_table *t, uint16_t start, int16_t rule)
{
    if (t->nports == t->capports) {
        size_t cap = t->capports ? t->capports * 2 : 16;
        struct policy_port *p = realloc(t->ports, cap * sizeof(*p));

        if (!p)
            return -ENOMEM;
        t->ports = p;
        t->capports = cap;
    }
    t->ports[t->nports++] = (struct policy_port){ start, rule };
    return 0;
}

/*
 * One family's, one protocol's table from the spans (in rule order).
 * @work counts the spans to look at, over every table of one compile; past
 * POLICY_COMPILE_WORK_MAX (or POLICY_PORTS_MAX port intervals) the build
 * stops with -E2BIG: rules that overlap in both addresses and ports cut
 * the space into pieces quadratic in their number and take cubic time.
 */
static int policy_build_table(const struct policy_span *sp, size_t nsp,
                              int family, unsigned int proto,
                              struct policy_table *t, uint64_t *work)
{
    struct policy_u128 *bounds = NULL, max = policy_u128_max(family);
    uint32_t *pb = NULL;
    size_t *use = NULL, *cov = NULL, nuse = 0, nb = 0, ncov, i, j, k;
    int r = -ENOMEM;

    memset(t, 0, sizeof(*t));
    use = calloc(nsp + 1, sizeof(*use));
    cov = calloc(nsp + 1, sizeof(*cov));
    bounds = calloc(2 * nsp + 1, sizeof(*bounds));
    pb = calloc(2 * nsp + 1, sizeof(*pb));
    if (!use || !cov || !bounds || !pb)
        goto out;
    for (i = 0; i < nsp; i++)
        if (sp[i].family == family && (sp[i].protos & proto))
            use[nuse++] = i;
    r = 0;
    if (!nuse)
        goto out;       /* no cells: every lookup finds no rule */

    bounds[nb++] = (struct policy_u128){ 0, 0 };
    for (i = 0; i < nuse; i++) {
        const struct policy_span *s = &sp[use[i]];

        bounds[nb++] = s->lo;
        if (policy_u128_cmp(&s->hi, &max) < 0) {
            struct policy_u128 n = s->hi;

            if (++n.lo == 0)
                n.hi++;
            bounds[nb++] = n;
        }
    }
    qsort(bounds, nb, sizeof(*bounds), policy_cmp_u128);
    for (i = 1, j = 1; i < nb; i++)
        if (policy_u128_cmp(&bounds[i], &bounds[j - 1]))
            bounds[j++] = bounds[i];
    nb = j;

    r = -ENOMEM;
    t->cells = calloc(nb, sizeof(*t->cells));
    if (!t->cells)
        goto out;
    for (i = 0; i < nb; i++) {
        const struct policy_u128 *b = &bounds[i];
        size_t np = 0;

        t->cells[i].start = *b;
        t->cells[i].port0 = (uint32_t)t->nports;
        pb[np++] = 0;
        *work += nuse;
        /* the spans that cover this cell, in rule order */
        for (j = 0, ncov = 0; j < nuse; j++) {
            const struct policy_span *s = &sp[use[j]];

            if (policy_u128_cmp(&s->lo, b) > 0 || policy_u128_cmp(&s->hi, b) < 0)
                continue;
            cov[ncov++] = use[j];
            pb[np++] = s->plo;
            if (s->phi < 65535)
                pb[np++] = (uint32_t)s->phi + 1;
        }
        qsort(pb, np, sizeof(*pb), policy_cmp_u32);
        for (k = 0; k < np; k++) {
            int16_t best = -1;

            if (k && pb[k] == pb[k - 1])
                continue;
            *work += ncov;      /* at most, below */
            if (*work > POLICY_COMPILE_WORK_MAX ||
                t->nports >= POLICY_PORTS_MAX) {
                r = -E2BIG;
                goto out;
            }
            for (j = 0; j < ncov; j++) {
                const struct policy_span *s = &sp[cov[j]];

                if (s->plo <= pb[k] && pb[k] <= s->phi) {
                    best = s->rule;     /* spans are in rule order */
                    break;
                }
            }
            if (t->nports > t->cells[i].port0 &&
                t->ports[t->nports - 1].rule == best)
                continue;       /* the same rule goes on */
            if (policy_add_port(t, (uint16_t)pb[k], best) < 0)
                goto out;
        }
        t->cells[i].nports = (uint32_t)t->nports - t->cells[i].port0;
    }
    t->ncells = nb;
    r = 0;
out:
    if (r < 0)
        policy_table_free(t);
    free(use);
    free(cov);
    free(bounds);
    free(pb);
    return r;
}

/* @a plus (@d 1) or minus (-1) one */
static struct policy_u128 policy_u128_step(struct policy_u128 a, int d)
{
    if (d > 0) {
        if (++a.lo == 0)
            a.hi++;
    } else {
        if (a.lo-- == 0)
            a.hi--;
    }
    return a;
}

/*
 * host-loopback's IPv6 intervals: libslirp's sotranslate_out() sends every
 * address of the namespace's prefix but the DNS one to the host's ::1
 * (fd00::2, and any other a namespace reaches with a static neighbour
 * entry), so all of them but dns6
 */
static size_t policy_spans_host6(const struct policy *p, struct policy_span s,
                                 struct policy_span *out)
{
    const struct policy_names *nm = &p->names;
    struct policy_u128 first, last, dns;
    size_t n = 0;

    if (!nm->prefix6_len || nm->prefix6_len > 128) {
        s.lo = s.hi = policy_u128_of(6, &nm->host6);
        out[0] = s;
        return 1;
    }
    last = policy_u128_last(6, policy_u128_of(6, &nm->prefix6), nm->prefix6_len);
    first = policy_u128_of(6, &nm->prefix6);
    /* the prefix's bits alone */
    first.hi &= ~(last.hi ^ first.hi);
    first.lo &= ~(last.lo ^ first.lo);
    dns = policy_u128_of(6, &nm->dns6);
    if (policy_u128_cmp(&dns, &first) < 0 || policy_u128_cmp(&dns, &last) > 0) {
        s.lo = first;
        s.hi = last;
        out[n++] = s;
        return n;
    }
    if (policy_u128_cmp(&dns, &first) > 0) {
        s.lo = first;
        s.hi = policy_u128_step(dns, -1);
        out[n++] = s;
    }
    if (policy_u128_cmp(&dns, &last) < 0) {
        s.lo = policy_u128_step(dns, 1);
        s.hi = last;
        out[n++] = s;
    }
    return n;
}

/* a rule's intervals: one per family and address it stands for */
static size_t policy_spans_of(const struct policy *p, const struct policy_rule *r,
                              int16_t idx, struct policy_span out[POLICY_SPANS_MAX])
{
    static const uint8_t metadata[4] = { 169, 254, 169, 254 };
    struct policy_span s = { .rule = idx, .protos = r->protos,
                             .plo = r->port_lo, .phi = r->port_hi };
    size_t n = 0;

    switch (r->dest) {
    case POLICY_DEST_ADDR:
        s.family = r->family;
        s.lo = policy_u128_of(r->family, &r->addr);
        s.hi = policy_u128_last(r->family, s.lo, r->prefix);
        out[n++] = s;
        break;
    case POLICY_DEST_ANY:
        s.family = 4;
        s.lo = (struct policy_u128){ 0, 0 };
        s.hi = policy_u128_max(4);
        out[n++] = s;
        s.family = 6;
        s.hi = policy_u128_max(6);
        out[n++] = s;
        break;
    case POLICY_DEST_HOST_LOOPBACK:
    case POLICY_DEST_DNS:
        s.family = 4;
        s.lo = s.hi = policy_u128_of(4, r->dest == POLICY_DEST_DNS ?
                                     &p->names.dns4 : &p->names.host4);
        out[n++] = s;
        if (r->dest == POLICY_DEST_HOST_LOOPBACK) {
            /* libslirp sends to the host's loopback what goes to
             * 255.255.255.255 too (sotranslate_out()) */
            s.lo = s.hi = policy_u128_max(4);
            out[n++] = s;
        }
        if (p->names.ipv6) {
            s.family = 6;
            if (r->dest == POLICY_DEST_HOST_LOOPBACK) {
                n += policy_spans_host6(p, s, out + n);
            } else {
                s.lo = s.hi = policy_u128_of(6, &p->names.dns6);
                out[n++] = s;
            }
        }
        break;
    case POLICY_DEST_METADATA:
        s.family = 4;
        s.lo = s.hi = policy_u128_of(4, metadata);
        out[n++] = s;
        break;
    }
    return n;
}

static int policy_compile(const struct policy *p, struct policy_compiled *c,
                          struct err *e)
{
    struct policy_span *sp;
    size_t nsp = 0, i, total = c->n + (c->implicit ? 1 : 0);
    uint64_t work = 0;
    int f, k, pass, r = 0;
    static const unsigned int protos[3] = {
        POLICY_PROTO_TCP, POLICY_PROTO_UDP, POLICY_PROTO_ICMP };

    sp = calloc(POLICY_SPANS_MAX * total + 1, sizeof(*sp));
    if (!sp)
        return err_make(e, -ENOMEM, "policy: out of memory");
    /*
     * The spans' order is the lookup's priority. With the implicit rule,
     * the rules that name host-loopback go first, then it, then the rest:
     * only rules written with that name reach those addresses, and for
     * every other address the order is the rules' own.
     */
    for (pass = c->implicit ? 0 : 2; pass < 3; pass++) {
        for (i = 0; i < total; i++) {
            bool named = c->ent[i].rule.dest == POLICY_DEST_HOST_LOOPBACK;
            bool take;

            if (pass == 0)
                take = i < c->n && named;
            else if (pass == 1)
                take = i == c->n;
            else
                take = i < c->n && (!c->implicit || !named);
            if (take)
                nsp += policy_spans_of(p, &c->ent[i].rule, (int16_t)i, sp + nsp);
        }
    }
    for (f = 0; f < 2 && r == 0; f++)
        for (k = 0; k < 3 && r == 0; k++)
            r = policy_build_table(sp, nsp, f ? 6 : 4, protos[k], &c->tab[f][k],
                                   &work);
    free(sp);
    if (r == -E2BIG)
        return err_make(e, r, "the rules overlap too much: their addresses "
                        "and ports cut into more than %d pieces, or more "
                        "than %d steps to find them (rules that cover the "
                        "same addresses with many different ports: merge "
                        "the ports into ranges)", POLICY_PORTS_MAX,
                        POLICY_COMPILE_WORK_MAX);
    if (r < 0)
        return err_make(e, r, "policy: out of memory");
    return 0;
}

/**
 * policy_new() - an empty policy: every flow allowed
 * @names:		the addresses of the named destinations
 * @deny_host_loopback:	--disable-host-loopback: the implicit last rule
 * @log_denied:		--log-denied
 * @ret:		the policy, for policy_free()
 *
 * Return: 0 or -ENOMEM
 */
int policy_new(const struct policy_names *names, bool deny_host_loopback,
               bool log_denied, struct policy **ret)
{
    struct policy *p = calloc(1, sizeof(*p));

    if (!p)
        return -ENOMEM;
    p->names = *names;
    p->deny_host_loopback = deny_host_loopback;
    p->log_denied = log_denied;
    p->tokens = POLICY_ICMP_PER_SEC;
    if (getrandom(&p->seed, sizeof(p->seed), GRND_NONBLOCK) != sizeof(p->seed))
        p->seed = (uint32_t)(uintptr_t)p;
    if (policy_set(p, NULL, NULL, 0, POLICY_ALLOW, false, NULL) < 0) {
        free(p);
        return -ENOMEM;
    }
    *ret = p;
    return 0;
}

/**
 * policy_free() - release a policy
 * @p:	the policy, or NULL
 */
void policy_free(struct policy *p)
{
    if (!p)
        return;
    policy_compiled_free(&p->c);
    free(p->cache);
    free(p->logs);
    free(p);
}

/**
 * policy_set() - replace the rules, all or nothing
 * @p:		the policy
 * @rules:	the rules, in order (none: NULL)
 * @origins:	where each came from ("FILE:LINE", "api"); NULL, or a NULL
 *		entry: "command line"
 * @n:		how many (at most POLICY_RULES_MAX)
 * @dflt:	the action when no rule matches
 * @reset:	forget the UDP and echo flows allowed so far: their next
 *		datagram is checked against the new rules
 * @e:		why not
 *
 * Counters start again at zero with the new rules.
 *
 * Return: 0, -E2BIG, or -ENOMEM (the old rules stay)
 */
int policy_set(struct policy *p, const struct policy_rule *rules,
               const char *const *origins, size_t n,
               enum policy_action dflt, bool reset, struct err *e)
{
    struct policy_compiled c = { .n = n, .dflt = dflt,
                                 .implicit = p->deny_host_loopback };
    size_t i;
    int r;

    if (n > POLICY_RULES_MAX)
        return err_make(e, -E2BIG, "too many rules: %zu (at most %d)", n,
                        POLICY_RULES_MAX);
    c.ent = calloc(n + 1, sizeof(*c.ent));
    if (!c.ent)
        return err_make(e, -ENOMEM, "policy: out of memory");
    for (i = 0; i < n; i++) {
        c.ent[i].rule = rules[i];
        snprintf(c.ent[i].origin, sizeof(c.ent[i].origin), "%s",
                 origins && origins[i] ? origins[i] : "command line");
    }
    /* what libslirp's own switch refused: connections and datagrams to
     * the host's loopback; it answers a ping to cidr+2 itself, as
     * slirp4netns does with --disable-host-loopback */
    c.ent[n].rule = (struct policy_rule){
        .action = POLICY_DENY, .protos = POLICY_PROTO_TCP | POLICY_PROTO_UDP,
        .dest = POLICY_DEST_HOST_LOOPBACK, .port_lo = 0, .port_hi = 65535,
        .text = "host-loopback" };
    snprintf(c.ent[n].origin, sizeof(c.ent[n].origin), "--disable-host-loopback");
    r = policy_compile(p, &c, e);
    if (r < 0) {
        policy_compiled_free(&c);
        return r;
    }
    policy_compiled_free(&p->c);
    p->c = c;
    if (reset && p->cache)
        memset(p->cache, 0, POLICY_CACHE_SLOTS * sizeof(*p->cache));
    return 0;
}

/**
 * policy_active() - is there anything to check?
 * @p:	the policy
 *
 * Return: false when every flow is allowed (no rule, default allow)
 */
bool policy_active(const struct policy *p)
{
    return p->c.n || p->c.implicit || p->c.dflt == POLICY_DENY;
}

/**
 * policy_default() - the action when no rule matches
 * @p:	the policy
 *
 * Return: POLICY_ALLOW or POLICY_DENY
 */
enum policy_action policy_default(const struct policy *p)
{
    return p->c.dflt;
}

/**
 * policy_log_denied() - does the policy log refused flows (--log-denied)?
 * @p:	the policy
 *
 * Return: true if it does
 */
bool policy_log_denied(const struct policy *p)
{
    return p->log_denied;
}

/**
 * policy_count() - the rules in force (the implicit one apart)
 * @p:	the policy
 *
 * Return: their number
 */
size_t policy_count(const struct policy *p)
{
    return p->c.n;
}

/**
 * policy_entry() - one rule in force, with its origin and counter
 * @p:	the policy
 * @i:	0 .. policy_count() - 1
 *
 * Return: the entry, valid until the next policy_set()
 */
const struct policy_entry *policy_entry(const struct policy *p, size_t i)
{
    return &p->c.ent[i];
}

/**
 * policy_implicit() - the rule --disable-host-loopback adds after the rest
 * @p:	the policy
 *
 * Return: the entry, or NULL without --disable-host-loopback
 */
const struct policy_entry *policy_implicit(const struct policy *p)
{
    return p->c.implicit ? &p->c.ent[p->c.n] : NULL;
}

/**
 * policy_get_stats() - what the policy did
 * @p:		the policy
 * @ret:	its counters
 */
void policy_get_stats(const struct policy *p, struct policy_stats *ret)
{
    *ret = p->st;
}

/**
 * policy_lookup() - the first rule matching a flow, without counting it
 * @p:		the policy
 * @family:	4 or 6
 * @proto:	POLICY_PROTO_TCP, _UDP or _ICMP
 * @daddr:	the destination (struct in_addr or struct in6_addr)
 * @port:	the destination port (0 for ICMP)
 *
 * Two binary searches in the tables policy_set() built.
 *
 * Return: the rule's index (policy_count() for the implicit one), or -1
 *	   when the default decides
 */
int policy_lookup(struct policy *p, int family, unsigned int proto,
                  const void *daddr, uint16_t port)
{
    const struct policy_table *t =
        &p->c.tab[family == 6][policy_proto_index(proto)];
    struct policy_u128 a;
    const struct policy_port *ps;
    size_t lo, hi, mid;

    if (!t->ncells)
        return -1;
    a = policy_u128_of(family, daddr);
    lo = 0;
    hi = t->ncells;             /* cells[0] starts at 0: the answer is in [lo, hi) */
    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if (policy_u128_cmp(&t->cells[mid].start, &a) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    ps = t->ports + t->cells[lo].port0;
    hi = t->cells[lo].nports;   /* ps[0] starts at 0 */
    lo = 0;
    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;
        if (ps[mid].start <= port)
            lo = mid;
        else
            hi = mid;
    }
    return ps[lo].rule;
}

/**
 * policy_recheck() - what the rules say of a flow, not counted (for flows
 *		      open already)
 * @p, @family, @proto, @daddr, @port:	as policy_lookup()
 *
 * Return: the action of the first matching rule, or the default
 */
enum policy_action policy_recheck(struct policy *p, int family,
                                  unsigned int proto, const void *daddr,
                                  uint16_t port)
{
    int i = policy_lookup(p, family, proto, daddr, port);

    return i < 0 ? p->c.dflt : (enum policy_action)p->c.ent[i].rule.action;
}

/**
 * policy_decide() - allow or deny a flow's start, and count it
 * @p, @family, @proto, @daddr, @port:	as policy_lookup()
 * @ret_rule:	the deciding rule's index, -1 for the default (or NULL)
 *
 * Return: the action of the first matching rule, or the default
 */
enum policy_action policy_decide(struct policy *p, int family,
                                 unsigned int proto, const void *daddr,
                                 uint16_t port, int *ret_rule)
{
    int i = policy_lookup(p, family, proto, daddr, port);

    if (ret_rule)
        *ret_rule = i;
    if (i < 0) {
        p->st.default_hits++;
        return p->c.dflt;
    }
    p->c.ent[i].hits++;
    return (enum policy_action)p->c.ent[i].rule.action;
}

/* --- the cache of allowed UDP and echo flows --- */

static uint32_t policy_hash(uint32_t h, const void *buf, size_t len)
{
    const uint8_t *b = buf;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x01000193u;
    }
    return h;
}

static void policy_flow_key(const struct frame_info *fi, unsigned int proto,
                            struct policy_flow *k)
{
    memset(k, 0, sizeof(*k));
    k->used = 1;
    k->family = fi->ipver;
    k->proto = (uint8_t)proto;
    if (proto == POLICY_PROTO_ICMP) {
        k->sport = k->dport = fi->echo_id;
    } else {
        k->sport = fi->sport;
        k->dport = fi->dport;
    }
    memcpy(&k->saddr, &fi->saddr, fi->ipver == 4 ? 4 : 16);
    memcpy(&k->daddr, &fi->daddr, fi->ipver == 4 ? 4 : 16);
}

static bool policy_flow_same(const struct policy_flow *a, const struct policy_flow *b)
{
    return a->family == b->family && a->proto == b->proto &&
           a->sport == b->sport && a->dport == b->dport &&
           !memcmp(&a->saddr, &b->saddr, sizeof(a->saddr)) &&
           !memcmp(&a->daddr, &b->daddr, sizeof(a->daddr));
}

/* the set of @k in the cache: a seeded multiply-xor hash of its words */
static struct policy_flow *policy_cache_set(struct policy *p,
                                            const struct policy_flow *k)
{
    uint64_t w[4], h = p->seed ^ ((uint64_t)k->family << 8 | k->proto) ^
                       ((uint64_t)k->sport << 16) ^ ((uint64_t)k->dport << 32);
    int i;

    memcpy(w, &k->saddr, sizeof(k->saddr));
    memcpy(w + 2, &k->daddr, sizeof(k->daddr));
    for (i = 0; i < 4; i++) {
        h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    return p->cache + ((h >> 32) % (POLICY_CACHE_SLOTS / POLICY_CACHE_WAYS)) *
                      POLICY_CACHE_WAYS;
}

/* is the flow of @k allowed already? (and keep it so) */
static bool policy_cache_hit(struct policy *p, const struct policy_flow *k,
                             int64_t now_ms)
{
    struct policy_flow *set;
    int i;

    if (!p->cache)
        return false;
    set = policy_cache_set(p, k);
    for (i = 0; i < POLICY_CACHE_WAYS; i++) {
        if (set[i].used && now_ms - set[i].seen_ms < POLICY_CACHE_TTL_MS &&
            policy_flow_same(&set[i], k)) {
            set[i].seen_ms = now_ms;
            return true;
        }
    }
    return false;
}

static void policy_cache_add(struct policy *p, const struct policy_flow *k,
                             int64_t now_ms)
{
    struct policy_flow *set, *victim;
    int i;

    if (!p->cache) {
        p->cache = calloc(POLICY_CACHE_SLOTS, sizeof(*p->cache));
        if (!p->cache)
            return;     /* every datagram is checked then */
    }
    set = policy_cache_set(p, k);
    victim = &set[0];
    for (i = 0; i < POLICY_CACHE_WAYS; i++) {
        if (!set[i].used || now_ms - set[i].seen_ms >= POLICY_CACHE_TTL_MS) {
            victim = &set[i];
            break;
        }
        if (set[i].seen_ms < victim->seen_ms)
            victim = &set[i];
    }
    *victim = *k;
    victim->seen_ms = now_ms;
}

/**
 * policy_note_in() - a UDP datagram libslirp sends to the namespace: the
 *		      namespace's answers to it are not the start of a flow
 * @p:		the policy
 * @fi:		the datagram's classification
 * @now_ms:	a monotonic clock, ms
 *
 * A remote that starts a UDP flow (a client of a port forward through
 * libslirp) is answered from the namespace: its flow goes into the cache
 * of allowed flows, reversed, so the answers pass whatever the rules say
 * of the client's address.
 */
void policy_note_in(struct policy *p, const struct frame_info *fi,
                    int64_t now_ms)
{
    struct policy_flow k;

    if (fi->cls != FRAME_IP4_UDP && fi->cls != FRAME_IP6_UDP)
        return;
    memset(&k, 0, sizeof(k));
    k.used = 1;
    k.family = fi->ipver;
    k.proto = POLICY_PROTO_UDP;
    k.sport = fi->dport;
    k.dport = fi->sport;
    memcpy(&k.saddr, &fi->daddr, fi->ipver == 4 ? 4 : 16);
    memcpy(&k.daddr, &fi->saddr, fi->ipver == 4 ? 4 : 16);
    if (!policy_cache_hit(p, &k, now_ms))
        policy_cache_add(p, &k, now_ms);
}

/* --- what a refused flow gets --- */

static const char *policy_proto_name(unsigned int proto)
{
    return proto == POLICY_PROTO_TCP ? "tcp" :
           proto == POLICY_PROTO_UDP ? "udp" : "icmp";
}

/* --log-denied: one line per destination per POLICY_LOG_INTERVAL_MS */
static void policy_log(struct policy *p, const struct frame_info *fi,
                       unsigned int proto, uint16_t port, int rule,
                       int64_t now_ms)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    struct policy_logslot k, *s;
    int af = fi->ipver == 4 ? AF_INET : AF_INET6;

    if (!p->log_denied)
        return;
    if (!p->logs) {
        p->logs = calloc(POLICY_LOG_SLOTS, sizeof(*p->logs));
        if (!p->logs)
            return;
    }
    memset(&k, 0, sizeof(k));   /* padding too: the key is hashed and compared whole */
    k.used = 1;
    k.family = fi->ipver;
    k.proto = (uint8_t)proto;
    k.port = port;
    memcpy(&k.daddr, &fi->daddr, fi->ipver == 4 ? 4 : 16);
    s = &p->logs[policy_hash(p->seed, &k, offsetof(struct policy_logslot, at_ms)) %
                 POLICY_LOG_SLOTS];
    if (s->used && !memcmp(s, &k, offsetof(struct policy_logslot, at_ms)) &&
        now_ms - s->at_ms < POLICY_LOG_INTERVAL_MS) {
        p->st.log_suppressed++;
        return;
    }
    k.at_ms = now_ms;
    *s = k;
    p->st.log_lines++;
    inet_ntop(af, &fi->saddr, src, sizeof(src));
    inet_ntop(af, &fi->daddr, dst, sizeof(dst));
    if (rule >= 0)
        info("policy: denied %s %s -> %s port %u (rule %d: deny=%s, %s)",
             policy_proto_name(proto), src, dst, port, rule + 1,
             p->c.ent[rule].rule.text, p->c.ent[rule].origin);
    else
        info("policy: denied %s %s -> %s port %u (the default: deny=all)",
             policy_proto_name(proto), src, dst, port);
}

/* the reply's Ethernet header: back to the sender */
static void policy_reply_eth(const uint8_t *frame, uint8_t *out)
{
    struct ethhdr in, eth;

    memcpy(&in, frame, sizeof(in));
    memcpy(eth.h_dest, in.h_source, ETH_ALEN);
    memcpy(eth.h_source, in.h_dest, ETH_ALEN);
    eth.h_proto = in.h_proto;
    memcpy(out, &eth, sizeof(eth));
}

/* an IP header from the refused packet's destination to its source;
 * Return: its length */
static size_t policy_reply_ip(const struct frame_info *fi, uint8_t proto,
                              size_t l4len, uint8_t *out)
{
    if (fi->ipver == 4) {
        struct iphdr ip = { 0 };

        ip.version = 4;
        ip.ihl = sizeof(ip) / 4;
        ip.tot_len = htons((uint16_t)(sizeof(ip) + l4len));
        ip.frag_off = htons(POLICY_IP_DF);
        ip.ttl = POLICY_TTL;
        ip.protocol = proto;
        memcpy(&ip.saddr, &fi->daddr.v4, 4);
        memcpy(&ip.daddr, &fi->saddr.v4, 4);
        ip.check = (uint16_t)~offload_csum_fold(offload_csum_add(0, &ip, sizeof(ip)));
        memcpy(out, &ip, sizeof(ip));
        return sizeof(ip);
    } else {
        struct ipv6hdr ip = { 0 };

        ip.version = 6;
        ip.payload_len = htons((uint16_t)l4len);
        ip.nexthdr = proto;
        ip.hop_limit = POLICY_TTL;
        memcpy(&ip.saddr, &fi->daddr.v6, 16);
        memcpy(&ip.daddr, &fi->saddr.v6, 16);
        memcpy(out, &ip, sizeof(ip));
        return sizeof(ip);
    }
}

/* the pseudo-header's sum: the reply's addresses, protocol, length */
static uint64_t policy_pseudo(const struct frame_info *fi, uint8_t proto,
                              size_t l4len)
{
    uint16_t w[2] = { htons(proto), htons((uint16_t)l4len) };
    size_t alen = fi->ipver == 4 ? 4 : 16;
    uint64_t sum = 0;

    sum = offload_csum_add(sum, &fi->daddr, alen);
    sum = offload_csum_add(sum, &fi->saddr, alen);
    return offload_csum_add(sum, w, sizeof(w));
}

/* RST|ACK to a SYN: what a closed port answers (RFC 9293 3.10.7.1) */
static size_t policy_build_rst(const uint8_t *frame, const struct frame_info *fi,
                               uint8_t *out)
{
    union tcp_word_hdr th = { 0 };
    size_t l3off = sizeof(struct ethhdr), l4off;
    uint32_t ack = fi->seq + fi->paylen + 1 +
                   ((fi->tcp_flags & FRAME_TCP_FIN) ? 1 : 0);

    policy_reply_eth(frame, out);
    l4off = l3off + policy_reply_ip(fi, IPPROTO_TCP, sizeof(th.hdr), out + l3off);
    th.hdr.source = htons(fi->dport);
    th.hdr.dest = htons(fi->sport);
    th.hdr.seq = 0;
    th.hdr.ack_seq = htonl(ack);
    th.hdr.doff = sizeof(th.hdr) / 4;
    tcp_flag_word(&th.hdr) |= TCP_FLAG_RST | TCP_FLAG_ACK;
    th.hdr.check = (uint16_t)~offload_csum_fold(offload_csum_add(
        policy_pseudo(fi, IPPROTO_TCP, sizeof(th.hdr)), &th.hdr, sizeof(th.hdr)));
    memcpy(out + l4off, &th.hdr, sizeof(th.hdr));
    return l4off + sizeof(th.hdr);
}

/* ICMP "communication administratively prohibited" (type 3 code 13;
 * ICMPv6 type 1 code 1), quoting the refused packet's headers */
static size_t policy_build_unreach(const uint8_t *frame,
                                   const struct frame_info *fi, uint8_t *out)
{
    size_t l3off = sizeof(struct ethhdr), quote, l4off;
    uint8_t hdr[8] = { 0 };
    uint8_t proto = fi->ipver == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    uint64_t sum;

    quote = fi->l4off - fi->l3off + POLICY_QUOTE_L4;
    if (quote > fi->l3len)
        quote = fi->l3len;
    if (l3off + sizeof(struct ipv6hdr) + sizeof(hdr) + quote > POLICY_REPLY_MAX)
        quote = POLICY_REPLY_MAX - l3off - sizeof(struct ipv6hdr) - sizeof(hdr);
    if (fi->ipver == 4) {
        hdr[0] = ICMP_DEST_UNREACH;
        hdr[1] = ICMP_PKT_FILTERED;
    } else {
        hdr[0] = ICMPV6_DEST_UNREACH;
        hdr[1] = ICMPV6_ADM_PROHIBITED;
    }
    policy_reply_eth(frame, out);
    l4off = l3off + policy_reply_ip(fi, proto, sizeof(hdr) + quote, out + l3off);
    memcpy(out + l4off + sizeof(hdr), frame + fi->l3off, quote);
    sum = fi->ipver == 4 ? 0 : policy_pseudo(fi, proto, sizeof(hdr) + quote);
    sum = offload_csum_add(sum, hdr, sizeof(hdr));
    sum = offload_csum_add(sum, out + l4off + sizeof(hdr), quote);
    {
        uint16_t c = (uint16_t)~offload_csum_fold(sum);

        memcpy(hdr + 2, &c, 2);
    }
    memcpy(out + l4off, hdr, sizeof(hdr));
    return l4off + sizeof(hdr) + quote;
}

/* may another ICMP error go now? */
static bool policy_icmp_token(struct policy *p, int64_t now_ms)
{
    if (now_ms - p->refill_ms >= 1000) {
        p->tokens = POLICY_ICMP_PER_SEC;
        p->refill_ms = now_ms;
    }
    if (p->tokens <= 0) {
        p->st.icmp_limited++;
        return false;
    }
    p->tokens--;
    return true;
}

/* multicast or broadcast: no ICMP error answers those (RFC 1122 3.2.2) */
static bool policy_group_dest(const struct frame_info *fi)
{
    if (fi->ipver == 6)
        return fi->daddr.v6.s6_addr[0] == 0xff;
    return IN_MULTICAST(ntohl(fi->daddr.v4.s_addr)) ||
           fi->daddr.v4.s_addr == INADDR_BROADCAST;
}

/* a UDP datagram or an echo request: the cache, then the rules */
static enum policy_verdict policy_check_dgram(struct policy *p,
                                              const uint8_t *frame,
                                              const struct frame_info *fi,
                                              unsigned int proto, uint16_t port,
                                              int64_t now_ms, uint8_t *reply,
                                              size_t *reply_len)
{
    struct policy_flow k;
    int rule;

    policy_flow_key(fi, proto, &k);
    if (policy_cache_hit(p, &k, now_ms)) {
        p->st.cache_hits++;
        return POLICY_PASS;
    }
    if (policy_decide(p, fi->ipver, proto, &fi->daddr, port, &rule) ==
        POLICY_ALLOW) {
        policy_cache_add(p, &k, now_ms);
        return POLICY_PASS;
    }
    policy_log(p, fi, proto, port, rule, now_ms);
    if (proto == POLICY_PROTO_ICMP) {
        p->st.denied_icmp++;
        return POLICY_DROP;
    }
    p->st.denied_udp++;
    if (policy_group_dest(fi) || !policy_icmp_token(p, now_ms))
        return POLICY_DROP;
    *reply_len = policy_build_unreach(frame, fi, reply);
    p->st.icmp_sent++;
    return POLICY_REPLY;
}

/* the first fragment of an IPv4 datagram: the L4 header it carries */
static enum policy_verdict policy_check_frag4(struct policy *p,
                                              const uint8_t *frame,
                                              const struct frame_info *fi,
                                              int64_t now_ms)
{
    size_t have = fi->l3len - (fi->l4off - fi->l3off);
    unsigned int proto;
    uint8_t l4[14];
    struct iphdr ip;
    uint16_t port = 0;
    int rule;

    memcpy(&ip, frame + fi->l3off, sizeof(ip));
    if (ntohs(ip.frag_off) & POLICY_IP_OFFMASK)
        return POLICY_PASS;     /* nothing without the first one */
    switch (fi->l4proto) {
    case IPPROTO_TCP:
        proto = POLICY_PROTO_TCP;
        break;
    case IPPROTO_UDP:
        proto = POLICY_PROTO_UDP;
        break;
    case IPPROTO_ICMP:
        proto = POLICY_PROTO_ICMP;
        break;
    default:
        return POLICY_PASS;     /* libslirp takes nothing else */
    }
    if (have < (proto == POLICY_PROTO_TCP ? 14 : 8)) {
        p->st.denied_frag++;
        return POLICY_DROP;
    }
    memcpy(l4, frame + fi->l4off, proto == POLICY_PROTO_TCP ? 14 : 8);
    if (proto == POLICY_PROTO_TCP &&
        (l4[13] & (FRAME_TCP_SYN | FRAME_TCP_ACK | FRAME_TCP_RST)) != FRAME_TCP_SYN)
        return POLICY_PASS;
    if (proto == POLICY_PROTO_ICMP && l4[0] != ICMP_ECHO)
        return POLICY_PASS;
    if (proto != POLICY_PROTO_ICMP)
        port = (uint16_t)(l4[2] << 8 | l4[3]);
    if (policy_decide(p, 4, proto, &fi->daddr, port, &rule) == POLICY_ALLOW)
        return POLICY_PASS;
    policy_log(p, fi, proto, port, rule, now_ms);
    p->st.denied_frag++;
    return POLICY_DROP;
}

/**
 * policy_check() - may this frame from the namespace go to libslirp?
 * @p:		the policy
 * @frame:	the frame
 * @fi:		its classification
 * @now_ms:	a monotonic clock, ms
 * @reply:	POLICY_REPLY_MAX bytes for the answer to a refused flow
 * @reply_len:	its length, with POLICY_REPLY
 *
 * Return: POLICY_PASS (almost always: established TCP is never looked
 *	   at), POLICY_DROP, or POLICY_REPLY (drop it and write @reply to
 *	   the namespace)
 */
enum policy_verdict policy_check(struct policy *p, const uint8_t *frame,
                                 const struct frame_info *fi, int64_t now_ms,
                                 uint8_t *reply, size_t *reply_len)
{
    int rule;

    if (!policy_active(p))
        return POLICY_PASS;
    switch (fi->cls) {
    case FRAME_IP4_TCP:
    case FRAME_IP6_TCP:
        if ((fi->tcp_flags & (FRAME_TCP_SYN | FRAME_TCP_ACK | FRAME_TCP_RST)) !=
            FRAME_TCP_SYN)
            return POLICY_PASS;
        if (policy_decide(p, fi->ipver, POLICY_PROTO_TCP, &fi->daddr,
                          fi->dport, &rule) == POLICY_ALLOW)
            return POLICY_PASS;
        p->st.denied_tcp++;
        policy_log(p, fi, POLICY_PROTO_TCP, fi->dport, rule, now_ms);
        *reply_len = policy_build_rst(frame, fi, reply);
        return POLICY_REPLY;
    case FRAME_IP4_DHCP:
        /* libslirp's own DHCP server; to any other address, libslirp
         * sends a datagram between ports 67 and 68 out as any other */
        if (fi->dport == 67 && (fi->daddr.v4.s_addr == p->names.host4.s_addr ||
                                fi->daddr.v4.s_addr == INADDR_BROADCAST))
            return POLICY_PASS;
        return policy_check_dgram(p, frame, fi, POLICY_PROTO_UDP, fi->dport,
                                  now_ms, reply, reply_len);
    case FRAME_IP6_DHCP:
        /* libslirp's DHCPv6 answers its multicast group */
        if (fi->dport == 547 && fi->daddr.v6.s6_addr[0] == 0xff)
            return POLICY_PASS;
        return policy_check_dgram(p, frame, fi, POLICY_PROTO_UDP, fi->dport,
                                  now_ms, reply, reply_len);
    case FRAME_IP4_UDP:
    case FRAME_IP6_UDP:
        return policy_check_dgram(p, frame, fi, POLICY_PROTO_UDP, fi->dport,
                                  now_ms, reply, reply_len);
    case FRAME_IP4_ICMP:
        if (fi->icmp_type != ICMP_ECHO)
            return POLICY_PASS;
        return policy_check_dgram(p, frame, fi, POLICY_PROTO_ICMP, 0, now_ms,
                                  reply, reply_len);
    case FRAME_IP6_ICMP:
        if (fi->icmp_type != ICMPV6_ECHO_REQUEST)
            return POLICY_PASS;
        return policy_check_dgram(p, frame, fi, POLICY_PROTO_ICMP, 0, now_ms,
                                  reply, reply_len);
    case FRAME_IP4_FRAG:
        return policy_check_frag4(p, frame, fi, now_ms);
    default:
        return POLICY_PASS;
    }
}
