/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util.h - small helpers shared by every module: cleanup attributes, macros */
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* the object of @type whose @member @ptr points to */
#define container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* @sa is an IPv4 address in 127/8 or the IPv6 ::1 */
static inline bool util_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)
                          ->sin_addr.s_addr) >> 24) == 127;
    return sa->sa_family == AF_INET6 &&
           IN6_IS_ADDR_LOOPBACK(
               &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

/* big-endian (network order) fields at any alignment, as frames have them */
static inline uint16_t util_get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t util_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static inline void util_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void util_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void util_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

/*
 * The congestion control of the sockets whose path never leaves the
 * machine: every namespace socket, and host sockets with a local peer.
 * Measured on a host whose default is bbr: 64 KiB segments over loopback
 * made 10-11 Gbit/s through the forward with bbr (its pacing and min-RTT
 * model fit a microsecond path badly) and 16-21 Gbit/s with cubic, the
 * kernel's default. Host sockets with a remote peer keep the system's.
 */
#define UTIL_LOCAL_CC "cubic"

/*
 * Set UTIL_LOCAL_CC on @fd. A congestion control that is not in
 * net.ipv4.tcp_allowed_congestion_control (the system's default and reno,
 * and what was once a default) needs CAP_NET_ADMIN over the socket's
 * network namespace: the namespace helper, which has none, leaves that to
 * the daemon (nshelper_on_ready()), which has it where it is root or the
 * owner of the target's user namespace and not sandboxed. Without it the
 * system's default stays, which only costs speed.
 *
 * Return: 0 or a negative errno
 */
static inline int util_local_cc(int fd)
{
    return setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, UTIL_LOCAL_CC,
                      sizeof(UTIL_LOCAL_CC) - 1) < 0 ? -errno : 0;
}

/*
 * The addresses of a forward from @host to @guest in the namespace
 * (splice.c, udprelay.c): each AF_INET or AF_INET6 (they may differ), of a
 * size a struct sockaddr_storage holds.
 */
static inline bool util_fwd_addrs_ok(const struct sockaddr *host,
                                     socklen_t host_len,
                                     const struct sockaddr *guest,
                                     socklen_t guest_len)
{
    return (host->sa_family == AF_INET || host->sa_family == AF_INET6) &&
           (guest->sa_family == AF_INET || guest->sa_family == AF_INET6) &&
           host_len <= sizeof(struct sockaddr_storage) &&
           guest_len <= sizeof(struct sockaddr_storage);
}

/*
 * The host socket of such a forward, not bound yet: non-blocking,
 * close-on-exec; SO_REUSEADDR if it is TCP (a listener binds again over
 * the TIME_WAIT of its old connections; a UDP one must share its port with
 * nobody); IPV6_V6ONLY if it is IPv6 (as libslirp's, so that [::]:P and
 * 0.0.0.0:P can both be forwarded).
 *
 * Return: the socket, or a negative errno
 */
static inline int util_fwd_socket(int family, int type)
{
    int one = 1, fd, r;

    fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if ((type == SOCK_STREAM &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
        (family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
        r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

/* the address @fd is bound to (getsockname): 0 or a negative errno */
static inline int util_bound_addr(int fd, struct sockaddr_storage *ret,
                                  socklen_t *ret_len)
{
    memset(ret, 0, sizeof(*ret));
    *ret_len = sizeof(*ret);
    return getsockname(fd, (struct sockaddr *)ret, ret_len) < 0 ? -errno : 0;
}

/* An fd closed when it leaves scope; hand it out with util_take_fd(). */
#define _cleanup_close_ __attribute__((cleanup(util_closep)))

static inline int util_take_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

static inline void util_freep(void *p)
{
    free(*(void **)p);
}

/* A malloc()ed pointer freed when it leaves scope (glib's g_autofree for
 * code that does not link glib). */
#define _cleanup_free_ __attribute__((cleanup(util_freep)))

/* -errno of the last failed call, never 0 */
static inline int util_neg_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}
