/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.h - the egress policy: first-match rules compiled into sorted intervals, checked at a flow's start */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy_rule.h"

struct err;
struct frame_info;

/* rules in one policy (the implicit --disable-host-loopback rule apart) */
#define POLICY_RULES_MAX 1024
/* what one compile of the rules may take (policy.c): port intervals over
 * every table, and spans looked at (about 1 ns each) */
#define POLICY_PORTS_MAX (1 << 20)
#define POLICY_COMPILE_WORK_MAX (64 << 20)
/* a rule's origin: "command line", "FILE:LINE", "api" */
#define POLICY_ORIGIN_MAX 80
/* the largest reply policy_check() builds */
#define POLICY_REPLY_MAX 640
/* --log-denied: one line per destination per this many ms */
#define POLICY_LOG_INTERVAL_MS 10000
/* ICMP "administratively prohibited": a bucket of this many, refilled per second */
#define POLICY_ICMP_PER_SEC 100
/* recently allowed UDP and ICMP echo flows, and how long one stays */
#define POLICY_CACHE_SLOTS 4096
#define POLICY_CACHE_WAYS 8
#define POLICY_CACHE_TTL_MS 240000

/* the addresses the named destinations stand for */
struct policy_names {
    struct in_addr host4;       /* cidr+2 */
    struct in_addr dns4;        /* cidr+3 */
    bool ipv6;                  /* -6: the IPv6 ones below too */
    struct in6_addr host6;      /* fd00::2 */
    struct in6_addr dns6;       /* fd00::3 */
    /* fd00::/64: libslirp sends every address of it but dns6 to the
     * host's ::1, so host-loopback is all of them (0: host6 alone) */
    struct in6_addr prefix6;
    unsigned int prefix6_len;
};

/* one rule as the daemon holds it */
struct policy_entry {
    struct policy_rule rule;
    char origin[POLICY_ORIGIN_MAX];
    uint64_t hits;              /* flows it decided */
};

/* what the policy did */
struct policy_stats {
    uint64_t default_hits;      /* flows no rule matched */
    uint64_t denied_tcp;        /* SYNs refused (an RST sent) */
    uint64_t denied_udp;        /* datagrams refused */
    uint64_t denied_icmp;       /* echo requests dropped */
    uint64_t denied_frag;       /* first fragments refused or too short to tell */
    uint64_t icmp_sent;         /* "administratively prohibited" sent */
    uint64_t icmp_limited;      /* ... not sent: over the rate */
    uint64_t cache_hits;        /* UDP/ICMP datagrams of a flow already allowed */
    uint64_t log_lines;         /* --log-denied lines written */
    uint64_t log_suppressed;    /* ... not written: that destination's interval */
};

enum policy_verdict {
    POLICY_PASS,                /* to libslirp */
    POLICY_DROP,                /* nothing */
    POLICY_REPLY,               /* nothing to libslirp; the reply to the namespace */
};

struct policy;

int policy_new(const struct policy_names *names, bool deny_host_loopback,
               bool log_denied, struct policy **ret);
void policy_free(struct policy *p);
int policy_set(struct policy *p, const struct policy_rule *rules,
               const char *const *origins, size_t n,
               enum policy_action dflt, bool reset, struct err *e);
bool policy_active(const struct policy *p);
enum policy_action policy_default(const struct policy *p);
bool policy_log_denied(const struct policy *p);
size_t policy_count(const struct policy *p);
const struct policy_entry *policy_entry(const struct policy *p, size_t i);
const struct policy_entry *policy_implicit(const struct policy *p);
void policy_get_stats(const struct policy *p, struct policy_stats *ret);
int policy_lookup(struct policy *p, int family, unsigned int proto,
                  const void *daddr, uint16_t port);
enum policy_action policy_decide(struct policy *p, int family,
                                 unsigned int proto, const void *daddr,
                                 uint16_t port, int *ret_rule);
enum policy_action policy_recheck(struct policy *p, int family,
                                  unsigned int proto, const void *daddr,
                                  uint16_t port);
void policy_note_in(struct policy *p, const struct frame_info *fi,
                    int64_t now_ms);
enum policy_verdict policy_check(struct policy *p, const uint8_t *frame,
                                 const struct frame_info *fi, int64_t now_ms,
                                 uint8_t *reply, size_t *reply_len);
