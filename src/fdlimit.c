/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdlimit.c - out of file descriptors: libslirp's failed accept() and socket() calls seen, its listeners rested */
/*
 * DOC: Theory of Operation
 *
 * RLIMIT_NOFILE is raised to the hard limit at start (daemon.c), but a
 * busy daemon can still reach it, or the system's file table. Our own
 * listeners handle that themselves (splice.c rests a listener whose
 * accept4() fails for SPLICE_ACCEPT_PAUSE_MS). libslirp's do not: its
 * tcp_connect() gives up on a failed accept() and returns, the pending
 * connection stays in the backlog, the listener stays readable, and
 * libslirp asks for it to be polled again: a level-triggered busy loop
 * (measured: 1.75 s of CPU in 2 s) until some fd is closed. A connection
 * out of the namespace whose socket() fails is answered at once by
 * libslirp (an ICMP unreachable, or an RST) and costs no loop, but nothing
 * says why.
 *
 * libslirp tells us nothing of either, so the executable defines accept()
 * and socket() (glibc allows a program to replace its functions, as
 * fdgen.c does for close(); libslirp's calls resolve to these; our own
 * code calls accept4()). They call the kernel exactly as glibc would and,
 * when a call fails for want of fds or memory (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM), note it:
 *
 *   - a failed accept() rests its listener for FDLIMIT_PAUSE_MS: stack.c
 *     asks fdlimit_paused() for every socket libslirp wants polled and
 *     registers a rested one without EPOLLIN (it fills anew when a rest
 *     begins, fdlimit_take_change(), and when it ends,
 *     fdlimit_next_resume()). So while fds are short each listener costs
 *     one accept() per rest, and the waiting client is served at the first
 *     try after an fd is freed;
 *   - any failure starts an episode unless one was noted in the last
 *     FDLIMIT_QUIET_MS; stack.c logs an episode once
 *     (fdlimit_take_episode()), so the log gets one line however many
 *     connections fail, and another only after the daemon has had fds for
 *     a while.
 *
 * The state is the process's (the calls come from inside libslirp, with no
 * context): a small table of rested listeners (FDLIMIT_PAUSED_MAX, each
 * with its number's generation from fdgen.c, so that a number closed and
 * reused is not taken for the listener), checked in O(1) when none rests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fdgen.h"
#include "fdlimit.h"

struct fdlimit_pause {
    int fd;
    uint32_t fdgen;
    int64_t until_ms;
};

static struct {
    struct fdlimit_pause paused[FDLIMIT_PAUSED_MAX];
    unsigned int n;             /* entries of paused[] in use */
    int64_t last_until_ms;      /* the latest rest's end: none after it */
    bool changed;               /* a rest began since fdlimit_take_change() */
    int episode_err;            /* a new episode's errno, not yet taken */
    int64_t last_fail_ms;
    struct fdlimit_stats st;
} fdlimit;

/* the state above: libslirp calls socket() from every worker thread */
static pthread_mutex_t fdlimit_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t fdlimit_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool fdlimit_short(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static void fdlimit_fail(int err, int64_t now)
{
    if (!fdlimit.last_fail_ms || now - fdlimit.last_fail_ms >= FDLIMIT_QUIET_MS)
        fdlimit.episode_err = err;
    fdlimit.last_fail_ms = now;
}

/* drop the rests that are over (when none is left: all of them) */
static void fdlimit_expire(int64_t now)
{
    unsigned int i = 0;

    if (now >= fdlimit.last_until_ms) {
        fdlimit.n = 0;
        return;
    }
    while (i < fdlimit.n) {
        if (fdlimit.paused[i].until_ms <= now)
            fdlimit.paused[i] = fdlimit.paused[--fdlimit.n];
        else
            i++;
    }
}

static void fdlimit_pause(int fd, int64_t now)
{
    struct fdlimit_pause *p = NULL;
    unsigned int i;

    fdlimit_expire(now);
    for (i = 0; i < fdlimit.n && !p; i++)
        if (fdlimit.paused[i].fd == fd)
            p = &fdlimit.paused[i];
    if (!p && fdlimit.n < FDLIMIT_PAUSED_MAX)
        p = &fdlimit.paused[fdlimit.n++];
    if (!p)
        return;
    p->fd = fd;
    p->fdgen = fdgen_get(fd);
    p->until_ms = now + FDLIMIT_PAUSE_MS;
    if (p->until_ms > fdlimit.last_until_ms)
        __atomic_store_n(&fdlimit.last_until_ms, p->until_ms, __ATOMIC_RELAXED);
    fdlimit.changed = true;
    fdlimit.st.paused++;
}

/* replaces glibc's accept() in the whole process (libslirp's listeners) */
int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    int r = accept4(fd, addr, len, 0);

    if (r < 0 && fdlimit_short(errno)) {
        int e = errno;
        int64_t now = fdlimit_now_ms();

        pthread_mutex_lock(&fdlimit_lock);
        fdlimit.st.accept_failed++;
        fdlimit_fail(e, now);
        fdlimit_pause(fd, now);
        pthread_mutex_unlock(&fdlimit_lock);
        errno = e;
    }
    return r;
}

/* replaces glibc's socket() in the whole process (libslirp's outbound
 * connections) */
int socket(int domain, int type, int protocol)
{
    long r = syscall(SYS_socket, domain, type, protocol);

    if (r < 0 && fdlimit_short(errno)) {
        int e = errno;

        pthread_mutex_lock(&fdlimit_lock);
        fdlimit.st.socket_failed++;
        fdlimit_fail(e, fdlimit_now_ms());
        pthread_mutex_unlock(&fdlimit_lock);
        errno = e;
    }
    return (int)r;
}

/**
 * fdlimit_paused() - does a listener rest (its accept() ran out of fds)?
 * @fd:		a socket libslirp wants polled
 * @now_ms:	a monotonic clock in ms (as stack_now_ms())
 *
 * Return: true if it must not be polled for input now
 */
bool fdlimit_paused(int fd, int64_t now_ms)
{
    bool paused = false;
    unsigned int i;

    /* the common case, no rest: one relaxed load, no lock */
    if (now_ms >= __atomic_load_n(&fdlimit.last_until_ms, __ATOMIC_RELAXED))
        return false;
    pthread_mutex_lock(&fdlimit_lock);
    for (i = 0; i < fdlimit.n; i++) {
        if (fdlimit.paused[i].fd == fd) {
            paused = fdlimit.paused[i].until_ms > now_ms &&
                     fdlimit.paused[i].fdgen == fdgen_get(fd);
            break;
        }
    }
    pthread_mutex_unlock(&fdlimit_lock);
    return paused;
}

/**
 * fdlimit_next_resume() - when the next rest ends
 * @now_ms:	a monotonic clock in ms
 *
 * Return: that time (ms), or 0 if no listener rests
 */
int64_t fdlimit_next_resume(int64_t now_ms)
{
    int64_t next = 0;
    unsigned int i;

    pthread_mutex_lock(&fdlimit_lock);
    fdlimit_expire(now_ms);
    for (i = 0; i < fdlimit.n; i++)
        if (!next || fdlimit.paused[i].until_ms < next)
            next = fdlimit.paused[i].until_ms;
    pthread_mutex_unlock(&fdlimit_lock);
    return next;
}

/**
 * fdlimit_take_change() - did a listener begin to rest since the last call?
 *
 * Return: true once per change
 */
bool fdlimit_take_change(void)
{
    bool c;

    pthread_mutex_lock(&fdlimit_lock);
    c = fdlimit.changed;
    fdlimit.changed = false;
    pthread_mutex_unlock(&fdlimit_lock);
    return c;
}

/**
 * fdlimit_take_episode() - a new episode of running out, to be logged once
 *
 * Return: its errno (EMFILE, ENFILE, ENOBUFS, ENOMEM), once; 0 if none
 */
int fdlimit_take_episode(void)
{
    int e;

    pthread_mutex_lock(&fdlimit_lock);
    e = fdlimit.episode_err;
    fdlimit.episode_err = 0;
    pthread_mutex_unlock(&fdlimit_lock);
    return e;
}

/**
 * fdlimit_get_stats() - the counters
 * @ret:	filled
 */
void fdlimit_get_stats(struct fdlimit_stats *ret)
{
    pthread_mutex_lock(&fdlimit_lock);
    *ret = fdlimit.st;
    pthread_mutex_unlock(&fdlimit_lock);
}
