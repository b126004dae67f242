/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy_rule.h - egress rules as text, pure: [tcp|udp|icmp:]ADDR[/LEN][:PORT[-PORT]] and named destinations */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct err;

/* a rule's text, with its NUL; a longer one is refused */
#define POLICY_RULE_TEXT_MAX 96

enum policy_action {
    POLICY_ALLOW,
    POLICY_DENY,
};

/* the protocols a rule covers (a bit set) */
#define POLICY_PROTO_TCP 0x1u
#define POLICY_PROTO_UDP 0x2u
#define POLICY_PROTO_ICMP 0x4u
#define POLICY_PROTO_ALL 0x7u

enum policy_dest {
    POLICY_DEST_ADDR,           /* an address or prefix (family, addr, prefix) */
    POLICY_DEST_ANY,            /* every address of both families */
    POLICY_DEST_HOST_LOOPBACK,  /* cidr+2, and the IPv6 gateway with -6 */
    POLICY_DEST_DNS,            /* cidr+3, and the IPv6 DNS address with -6 */
    POLICY_DEST_METADATA,       /* 169.254.169.254 */
};

/**
 * struct policy_rule - one --allow/--deny rule, parsed, names not resolved
 * @action:	POLICY_ALLOW or POLICY_DENY
 * @protos:	POLICY_PROTO_* bits
 * @dest:	enum policy_dest
 * @family:	4 or 6 (POLICY_DEST_ADDR only)
 * @prefix:	prefix length (POLICY_DEST_ADDR only)
 * @port_lo, @port_hi:	the ports covered; 0..65535 when the rule names
 *		none (ICMP, which has none, is looked up as port 0)
 * @addr:	the address, bits past @prefix zero
 * @text:	the rule as written (without "allow="/"deny=")
 */
struct policy_rule {
    uint8_t action;
    uint8_t protos;
    uint8_t dest;
    uint8_t family;
    uint8_t prefix;
    uint16_t port_lo, port_hi;
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } addr;
    char text[POLICY_RULE_TEXT_MAX];
};

/* policy_rule_parse()'s return for "all": the rule sets the default */
#define POLICY_RULE_DEFAULT 1

int policy_rule_parse(const char *s, enum policy_action action,
                      struct policy_rule *ret, struct err *e);
int policy_rule_parse_word(const char *s, struct policy_rule *ret,
                           struct err *e);
const char *policy_action_name(enum policy_action a);
