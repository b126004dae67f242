/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine.c - the splice engine of a unit test: made around a helper, driven by one bounded poll loop */
/*
 * Every wait here is bounded twice: by its deadline in milliseconds, and
 * each pass of a loop by a poll() of at most ENGINE_POLL_MS.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "engine.h"
#include "fwd.h"
#include "netns.h"
#include "ns.h"
#include "nshelper.h"
#include "splice.h"

#define ENGINE_POLL_MS 20

/**
 * engine_new() - an engine around the helper at the other end of @sock
 * @e:		ENGINE_INIT, or freed with engine_free()
 * @sock:	the daemon's end of the helper's socketpair (owned from now on)
 * @pid:	the helper (0: not a child; it is not reaped)
 *
 * Does not wait for the helper's first word (nshelper_wait()).
 *
 * Return: 0 or a negative errno
 */
int engine_new(struct engine *e, int sock, pid_t pid)
{
    int r = reactor_init(&e->re);

    if (r < 0) {
        close(sock);
        return r;
    }
    r = nshelper_new(&e->re, sock, pid, &e->hp);
    if (r == 0)
        r = splice_new(&e->re, e->hp, &e->sp);
    e->disp = (struct dispatch){ .reactor = &e->re, .helper = e->hp,
                                 .splice = e->sp };
    return r;
}

/**
 * engine_real() - an engine around the real helper, as the daemon starts it
 * @e:		ENGINE_INIT, or freed with engine_free()
 * @ret_pid:	the helper
 *
 * The helper joins this process's network namespace (netns_null_fn()
 * hands over "the tap"), and its first word is waited for.
 *
 * Return: 0 or a negative errno
 */
int engine_real(struct engine *e, pid_t *ret_pid)
{
    struct ns ns = { -1, -1, false };
    int nullfd = -1, hsock = -1, status = 0, r;

    ns.netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    r = ns_call_then(&ns, netns_null_fn, NULL, nshelper_run, NULL,
                     &nullfd, &status, &hsock, ret_pid);
    close(ns.netns_fd);
    if (r < 0)
        return r;
    close(nullfd);
    r = engine_new(e, hsock, *ret_pid);
    if (r == 0)
        r = nshelper_wait(e->hp);
    return r;
}

/**
 * engine_free() - free the splice engine, the helper and the reactor
 * @e:	the engine (its relay, if any, is the test's to free first)
 */
void engine_free(struct engine *e)
{
    splice_free(e->sp);
    e->sp = NULL;
    nshelper_free(e->hp);
    e->hp = NULL;
    reactor_fini(&e->re);
    e->disp = (struct dispatch){ .reactor = &e->re };
}

/**
 * engine_drive() - one pass: wait up to ENGINE_POLL_MS for the engine,
 *		    the side fd or @fd, and run what is ready
 * @e:	the engine
 * @fd:	a test's own fd to wait for, or -1
 *
 * Return: whether the engine had events
 */
bool engine_drive(struct engine *e, int fd)
{
    struct pollfd p[3] = {
        { .fd = reactor_fd(&e->re), .events = POLLIN },
        { .fd = e->side_fd, .events = POLLIN },
        { .fd = fd, .events = POLLIN },
    };

    poll(p, 3, ENGINE_POLL_MS);
    if (p[0].revents)
        dispatch_reactor(&e->disp);
    if (p[1].revents && e->side_fn)
        e->side_fn();
    return p[0].revents != 0;
}

/**
 * engine_pump() - drive the engine for @ms, however quiet
 * @e:	the engine
 * @ms:	how long
 */
void engine_pump(struct engine *e, int ms)
{
    int64_t end = netns_now_ms() + ms;

    while (netns_now_ms() < end)
        engine_drive(e, -1);
}

/**
 * engine_settle() - drive the engine for up to @ms, or until neither it
 *		     nor the side fd has had anything for ENGINE_POLL_MS
 * @e:	the engine
 * @ms:	the most to wait
 */
void engine_settle(struct engine *e, int ms)
{
    int64_t end = netns_now_ms() + ms;

    while (netns_now_ms() < end) {
        struct pollfd p[2] = {
            { .fd = reactor_fd(&e->re), .events = POLLIN },
            { .fd = e->side_fd, .events = POLLIN },
        };

        if (poll(p, 2, ENGINE_POLL_MS) <= 0)
            return;
        if (p[0].revents)
            dispatch_reactor(&e->disp);
        if (p[1].revents && e->side_fn)
            e->side_fn();
    }
}

/**
 * engine_accept() - accept one connection on @lfd within @ms, driving the
 *		     engine
 * @e:		the engine
 * @lfd:	a listener
 * @ms:		the most to wait
 *
 * Return: the connection (non-blocking, close-on-exec), or -1
 */
int engine_accept(struct engine *e, int lfd, int ms)
{
    int64_t end = netns_now_ms() + ms;

    while (netns_now_ms() < end) {
        int fd;

        engine_drive(e, lfd);
        fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            return fd;
    }
    return -1;
}

/**
 * engine_read_end() - read @fd until EOF or an error, within @ms, driving
 *		       the engine
 * @e:	the engine
 * @fd:	a non-blocking socket
 * @ms:	the most to wait
 *
 * Return: 0 (EOF), the socket's -errno, or -ETIMEDOUT
 */
int engine_read_end(struct engine *e, int fd, int ms)
{
    int64_t end = netns_now_ms() + ms;
    char c[4096];

    while (netns_now_ms() < end) {
        ssize_t k;

        engine_drive(e, fd);
        k = recv(fd, c, sizeof(c), 0);
        if (k == 0)
            return 0;
        if (k < 0 && errno != EAGAIN)
            return -errno;
    }
    return -ETIMEDOUT;
}

/**
 * engine_fwd_table() - what fwd_choose_path() is asked with: a
 *			configuration (target "1", tap0, IPv6 on) and an
 *			empty forward table
 * @cfg:	filled; config_free() it
 * @ret:	the table; fwd_free() it
 *
 * Return: 0 or a negative errno (nothing to free then)
 */
int engine_fwd_table(struct config *cfg, struct fwd_table **ret)
{
    struct options o = { .target = "1", .ifname = "tap0" };
    struct err e;
    int r;

    r = config_from_options(&o, cfg, &e);
    if (r < 0)
        return r;
    cfg->enable_ipv6 = true;
    r = fwd_new(NULL, 0, ret);
    if (r < 0)
        config_free(cfg);
    return r;
}
