/* SPDX-License-Identifier: GPL-2.0-or-later */
/* syn6.h - the IPv6 TCP flows the namespace started, so that a policy reset finds their host sockets */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct frame_info;

/* records kept at first, and at most (the table doubles when a sweep
 * leaves it more than half full) */
#define SYN6_MIN 1024
#define SYN6_MAX (1u << 20)

/* the namespace's IPv6 addresses that libslirp sends elsewhere */
struct syn6_names {
    struct in6_addr prefix;     /* fd00:: */
    unsigned int prefix_len;    /* 64: all of it but dns to the host's ::1 */
    struct in6_addr dns;        /* fd00::3: to the host's resolver (or ::1) */
};

/* one flow, as the namespace asked for it */
struct syn6_flow {
    struct in6_addr saddr, daddr;
    uint16_t sport, dport;
};

/* one of libslirp's IPv6 TCP sockets, from its listing and the fd */
struct syn6_sock {
    int fd;
    uint16_t sport, dport;      /* the listing's: the namespace's ports */
    bool ended;                 /* TIME_WAIT, CLOSED: matched, never cut */
    bool has_peer;              /* getpeername() worked (not connecting) */
    struct sockaddr_in6 peer;
    bool cut;                   /* syn6_resolve(): a flow of it is denied */
};

/* what the table did */
struct syn6_stats {
    uint64_t noted;             /* flows recorded */
    uint64_t swept;             /* records dropped: no socket had them */
    uint64_t unrecorded;        /* flows not recorded: SYN6_MAX live ones */
    size_t count, max;
};

/* true: @f is denied (syn6_resolve() cuts the sockets it matches) */
typedef bool (*syn6_deny_fn)(const struct syn6_flow *f, void *opaque);

struct syn6;

int syn6_new(const struct syn6_names *names, struct syn6 **ret);
void syn6_free(struct syn6 *s);
int syn6_note(struct syn6 *s, const struct frame_info *fi);
bool syn6_matches(const struct syn6 *s, const struct syn6_flow *f,
                  const struct syn6_sock *k);
int syn6_resolve(struct syn6 *s, struct syn6_sock *socks, size_t n,
                 syn6_deny_fn deny, void *opaque);
void syn6_get_stats(const struct syn6 *s, struct syn6_stats *ret);
