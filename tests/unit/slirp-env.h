/* SPDX-License-Identifier: GPL-2.0-or-later */
/* slirp-env.h - unit-test setup: a private network namespace, a config, a real libslirp */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "netns.h"
#include "stack.h"

/*
 * Move into a fresh network namespace with lo up (root only), so that
 * listeners on 0.0.0.0 or :: never face a real network. Returns false
 * (and the caller sticks to 127.0.0.1) when that is not possible.
 */
static inline bool env_private_netns(void)
{
    return unshare(CLONE_NEWNET) == 0 && netns_lo_up() == 0;
}

/* the default config (10.0.2.0/24), IPv6 on or off */
static inline void env_config(struct config *c, bool ipv6)
{
    struct options o;
    struct err e;

    memset(&o, 0, sizeof(o));
    o.target = "1";
    o.ifname = "tap0";
    o.enable_ipv6 = ipv6;
    if (config_from_options(&o, c, &e) < 0) {
        printf("Bail out! config: %s\n", e.msg);
        _exit(1);
    }
}

/* a libslirp instance whose "tap" is one end of a socketpair */
static inline struct stack *env_stack(const struct config *c)
{
    struct stack *st = NULL;
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0 ||
        stack_new(c, sv[0], &st) < 0) {
        printf("Bail out! cannot create a libslirp instance\n");
        _exit(1);
    }
    return st;
}

/* can a TCP client connect to @addr:@port right now? */
static inline bool env_can_connect(int family, const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, r;

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &sin->sin_addr);
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &sin6->sin6_addr);
        len = sizeof(*sin6);
    }
    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    r = connect(fd, (struct sockaddr *)&ss, len);
    close(fd);
    return r == 0;
}
