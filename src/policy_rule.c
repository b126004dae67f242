/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy_rule.c - egress rules as text, pure: [tcp|udp|icmp:]ADDR[/LEN][:PORT[-PORT]] and named destinations */
/*
 * DOC: Rule syntax
 *
 *   RULE  := all | [PROTO:]DEST[:PORTS]
 *   PROTO := tcp | udp | icmp            (none: all three)
 *   DEST  := IPv4[/LEN] | IPv6[/LEN] | [IPv6][/LEN] | [IPv6/LEN]
 *          | any | host-loopback | dns | metadata
 *   PORTS := PORT | PORT-PORT            (1..65535; not with icmp)
 *
 * An IPv6 address followed by ports must be in brackets
 * ("tcp:[fd00::2]:80"); without ports the brackets may be left out. The
 * bits of an address past its prefix length must be zero. "all" is not a
 * destination but the default action: "deny=all" makes the default deny.
 *
 * This file is pure (no libslirp, no glib) so that every caller, the
 * client included, can link it; names are resolved to addresses later
 * (policy.c), from the daemon's configuration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policy_rule.h"

static const struct {
    const char *name;
    enum policy_dest dest;
} policy_rule_names[] = {
    { "any", POLICY_DEST_ANY },
    { "host-loopback", POLICY_DEST_HOST_LOOPBACK },
    { "dns", POLICY_DEST_DNS },
    { "metadata", POLICY_DEST_METADATA },
};

/**
 * policy_action_name() - "allow" or "deny"
 * @a:	the action
 *
 * Return: a static string
 */
const char *policy_action_name(enum policy_action a)
{
    return a == POLICY_DENY ? "deny" : "allow";
}

/* a decimal number in @min..@max, the whole of [@s, @end) */
static int policy_rule_number(const char *s, const char *end, long min,
                              long max, long *ret)
{
    long v = 0;

    if (s == end || end - s > 6)
        return -EINVAL;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (*s - '0');
    }
    if (v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

static int policy_rule_ports(const char *s, struct policy_rule *r,
                             const char *all, struct err *e)
{
    const char *dash = strchr(s, '-'), *end = s + strlen(s);
    long lo, hi;

    if (r->protos == POLICY_PROTO_ICMP)
        return err_make(e, -EINVAL, "%s: icmp has no ports", all);
    if (!*s)
        return err_make(e, -EINVAL, "%s: empty port", all);
    if (dash ? policy_rule_number(s, dash, 1, 65535, &lo) < 0 ||
               policy_rule_number(dash + 1, end, 1, 65535, &hi) < 0 :
               policy_rule_number(s, end, 1, 65535, &lo) < 0)
        return err_make(e, -EINVAL, "%s: bad port or port range '%s' "
                        "(1-65535, LOW-HIGH)", all, s);
    if (!dash)
        hi = lo;
    if (lo > hi)
        return err_make(e, -EINVAL, "%s: port range '%s' ends before it "
                        "starts", all, s);
    r->port_lo = (uint16_t)lo;
    r->port_hi = (uint16_t)hi;
    return 0;
}

/* ADDR[/LEN] (no brackets) into @r */
static int policy_rule_addr(char *a, const char *len, struct policy_rule *r,
                            const char *all, struct err *e)
{
    unsigned int bits, i;
    long pfx;
    uint8_t *p;

    if (inet_pton(AF_INET, a, &r->addr.v4) == 1) {
        r->family = 4;
        bits = 32;
        p = (uint8_t *)&r->addr.v4;
    } else if (inet_pton(AF_INET6, a, &r->addr.v6) == 1) {
        r->family = 6;
        bits = 128;
        p = r->addr.v6.s6_addr;
    } else {
        return err_make(e, -EINVAL, "%s: '%s' is not an IPv4 or IPv6 address "
                        "nor any, host-loopback, dns, metadata", all, a);
    }
    pfx = bits;
    if (len && policy_rule_number(len, len + strlen(len), 0, bits, &pfx) < 0)
        return err_make(e, -EINVAL, "%s: bad prefix length '%s' (0-%u)",
                        all, len, bits);
    r->prefix = (uint8_t)pfx;
    for (i = (unsigned int)pfx; i < bits; i++) {
        if (p[i / 8] & (0x80u >> (i % 8)))
            return err_make(e, -EINVAL, "%s: '%s/%ld' has bits set past the "
                            "prefix length", all, a, pfx);
    }
    r->dest = POLICY_DEST_ADDR;
    return 0;
}

/**
 * policy_rule_parse() - one rule's text
 * @s:		the text, as after --allow= or --deny=
 * @action:	the rule's action
 * @ret:	the rule (its text kept)
 * @e:		why not: the message names the rule
 *
 * Return: 0, POLICY_RULE_DEFAULT for "all" (@ret->action is the default),
 *	   or -EINVAL
 */
int policy_rule_parse(const char *s, enum policy_action action,
                      struct policy_rule *ret, struct err *e)
{
    struct policy_rule r = { .action = (uint8_t)action };
    char buf[POLICY_RULE_TEXT_MAX], *p, *ports = NULL, *len = NULL, *c;
    size_t i, n = strlen(s);

    if (n == 0)
        return err_make(e, -EINVAL, "empty rule");
    if (n >= sizeof(buf))
        return err_make(e, -EINVAL, "%.40s...: rule too long (at most %zu "
                        "characters)", s, sizeof(buf) - 1);
    memcpy(buf, s, n + 1);
    memcpy(r.text, s, n + 1);
    if (!strcmp(buf, "all")) {
        *ret = r;
        return POLICY_RULE_DEFAULT;
    }
    p = buf;
    r.protos = POLICY_PROTO_ALL;
    if (!strncmp(p, "tcp:", 4)) {
        r.protos = POLICY_PROTO_TCP;
        p += 4;
    } else if (!strncmp(p, "udp:", 4)) {
        r.protos = POLICY_PROTO_UDP;
        p += 4;
    } else if (!strncmp(p, "icmp:", 5)) {
        r.protos = POLICY_PROTO_ICMP;
        p += 5;
    }
    /* no ports: every port (ICMP is looked up as port 0) */
    r.port_lo = 0;
    r.port_hi = 65535;

    if (*p == '[') {
        c = strchr(p, ']');
        if (!c)
            return err_make(e, -EINVAL, "%s: '[' without ']'", s);
        *c++ = '\0';
        p++;
        if (*c == '/') {
            len = c + 1;
            c = strchr(len, ':');
            if (c)
                *c++ = '\0';
        } else if (*c == ':') {
            c++;
        } else if (*c) {
            return err_make(e, -EINVAL, "%s: ':' or '/' expected after ']'", s);
        } else {
            c = NULL;
        }
        ports = c;
        if (len && strchr(p, '/'))
            return err_make(e, -EINVAL, "%s: two prefix lengths", s);
        if (!strchr(p, ':'))
            return err_make(e, -EINVAL, "%s: brackets are for IPv6 "
                            "addresses", s);
    } else if (strchr(p, ':') && strchr(p, ':') != strrchr(p, ':')) {
        /* IPv6 without brackets: no ports */
    } else if ((c = strchr(p, ':'))) {
        *c = '\0';
        ports = c + 1;
    }
    if (!len && (c = strchr(p, '/'))) {
        *c = '\0';
        len = c + 1;
    }
    if (ports) {
        /* ports without a protocol: TCP and UDP (ICMP has none) */
        if (r.protos == POLICY_PROTO_ALL)
            r.protos = POLICY_PROTO_TCP | POLICY_PROTO_UDP;
        if (policy_rule_ports(ports, &r, s, e) < 0)
            return -EINVAL;
    }
    for (i = 0; i < sizeof(policy_rule_names) / sizeof(policy_rule_names[0]); i++) {
        if (!strcmp(p, policy_rule_names[i].name)) {
            if (len)
                return err_make(e, -EINVAL, "%s: %s takes no prefix length",
                                s, p);
            r.dest = (uint8_t)policy_rule_names[i].dest;
            *ret = r;
            return 0;
        }
    }
    if (!*p)
        return err_make(e, -EINVAL, "%s: no address", s);
    if (policy_rule_addr(p, len, &r, s, e) < 0)
        return -EINVAL;
    *ret = r;
    return 0;
}

/**
 * policy_rule_parse_word() - "allow=RULE" or "deny=RULE" (the form of the
 *			      configuration file, set_policy and slirpctl)
 * @s:		the word
 * @ret:	the rule
 * @e:		why not
 *
 * Return: as policy_rule_parse()
 */
int policy_rule_parse_word(const char *s, struct policy_rule *ret,
                           struct err *e)
{
    if (!strncmp(s, "allow=", 6))
        return policy_rule_parse(s + 6, POLICY_ALLOW, ret, e);
    if (!strncmp(s, "deny=", 5))
        return policy_rule_parse(s + 5, POLICY_DENY, ret, e);
    return err_make(e, -EINVAL, "%s: a rule is allow=RULE or deny=RULE", s);
}
