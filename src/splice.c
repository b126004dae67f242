/* SPDX-License-Identifier: GPL-2.0-or-later */
/* splice.c - TCP port forwards at kernel speed: host listener, namespace socket, splice() both ways */
/*
 * DOC: Theory of Operation
 *
 * A forward on the splice path never touches libslirp. slirpd listens on
 * the host address itself; for every connection it accepts it takes a TCP
 * socket that was created *inside* the target namespace, connect()s it to
 * the forward's guest address (routing is decided by the socket's network
 * namespace, fixed at socket() time, not by the caller's), and then moves
 * the bytes of each direction with splice() through a pipe: socket -> pipe
 * -> socket, no copy through user space.
 *
 * The namespace sockets come from the namespace helper (nshelper.c), a
 * child inside the target's namespaces, out of a pool it keeps filled, so
 * a new connection costs one connect() and no round trip. A connection
 * that finds the pool empty waits (WAIT_SOCK) until the helper's answer
 * arrives (splice_on_helper()); at most SPLICE_WAIT_MAX do per family,
 * more are reset at once. A helper that is given up (it answered what it
 * was not asked, did not answer in time, or exited) resets the waiting
 * connections, and new ones on splice listeners (open ones run on); new
 * forwards go through libslirp. Since the helper may keep a copy of any
 * socket it sent, and close() does not take a socket out of an epoll set
 * while another reference exists (epoll(7)), every watched fd leaves the
 * set (reactor_del()) before it is closed.
 *
 * Everything (listeners, both sockets of each connection, a "kick"
 * eventfd and a timerfd for rested listeners) lives in the reactor's
 * epoll set (reactor.c), whose
 * fd is one entry of the main poll loop; dispatch_reactor() calls the
 * handlers (splice_on_*()) for a batch of events, and splice_batch_end()
 * frees what ended in it. Connection sockets are edge-triggered, registered for
 * EPOLLIN | EPOLLRDHUP; EPOLLOUT is added (once, for good) the first time
 * a write to the socket would block, so that a connection that never
 * fills a send buffer is not woken for every writable edge (connect
 * completion, the registration itself).
 *
 * States of a connection:
 *
 *   WAIT_SOCK  -> accepted; no namespace socket yet (pool empty)
 *   OPEN       -> connect() to the guest address was issued (inside the
 *                 namespace the handshake is usually complete when it
 *                 returns; until it is, writes to the socket would block
 *                 and EPOLLOUT ends the wait, a refusal is EPOLLERR or a
 *                 splice() error and resets the client; "established" is
 *                 set by the first sign of life of the namespace side);
 *                 both sockets in the set; each direction d (0: host ->
 *                 namespace, 1: namespace -> host) has its own pipe and
 *                 "pending" byte count and is pumped until it would block
 *                 (an event pumps the direction out of a readable socket
 *                 and the one into a writable one): write what the pipe
 *                 holds, read more; a read of 0 is EOF
 *                 and, once the pipe is empty, becomes shutdown(SHUT_WR) of
 *                 the other socket (half-close is passed on)
 *   CLOSED     -> both directions are shut (clean close), or one side
 *                 failed or was reset: then both sockets are closed with
 *                 SO_LINGER 0, so the peers see a reset too. The fds are
 *                 closed at once, the memory at the end of the batch.
 *
 * A direction that used up its budget (SPLICE_BUDGET splice() calls) is
 * queued and the kick eventfd is written, so the main loop comes back at
 * once but libslirp and the tap get their turn first. Pipes of cleanly
 * closed connections are kept (up to a few) for the next connection. A
 * removed forward closes its listener only; its connections run on. A
 * listener whose accept() runs out of fds (EMFILE, ENFILE) or memory
 * would stay readable and spin the loop: it leaves the set for
 * SPLICE_ACCEPT_PAUSE_MS and the timer brings it back.
 *
 * A connection that one peer closed (EOF read from it) and the other never
 * does would live for ever. It joins the "half" list, ordered by the time
 * its last byte moved (any byte moved puts it back at the tail, so an
 * answer that is still coming is never cut); one idle for --fin-timeout
 * (splice_set_fin_timeout()) is reset both ways when the timer, armed for
 * the list's head, fires: as the kernel ends an orphan in FIN_WAIT2 after
 * tcp_fin_timeout, and finwait.c the same flows on libslirp's path. Only
 * connections of that list are looked at.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "nshelper.h"
#include "reactor.h"
#include "splice.h"
#include "util.h"

#define SPLICE_PIPE_CACHE 16        /* idle pipe pairs kept */

struct splice_listener {
    struct reactor_ref ref;
    int fd;
    struct sockaddr_storage guest;
    socklen_t guest_len;
    bool local;                 /* bound to loopback: every client is local */
    uint64_t last_batch;        /* the batch that last found it readable */
    int64_t resume_ms;          /* paused (out of fds) until then; 0: not */
    struct splice_listener *next;
};

enum splice_state {
    SPLICE_WAIT_SOCK,
    SPLICE_OPEN,
    SPLICE_CLOSED,
};

/* one direction: from fd[d] through pipe to fd[!d] */
struct splice_dir {
    int pipe[2];
    size_t pending;     /* bytes in the pipe */
    size_t size;        /* the pipe's capacity */
    bool eof;           /* fd[d] gave EOF */
    bool shut;          /* shutdown(fd[!d], SHUT_WR) done */
};

struct splice_conn {
    struct reactor_ref ref[2];
    int fd[2];
    bool out_armed[2];              /* EPOLLOUT is (or goes) in its events */
    bool watched[2];                /* the socket is in the epoll set */
    struct splice_dir dir[2];
    enum splice_state state;
    bool established;               /* the namespace side answered */
    bool queued;                    /* on the again list */
    struct sockaddr_storage guest;
    socklen_t guest_len;
    struct splice_conn *prev, *next;    /* every live connection */
    struct splice_conn *lnext;          /* wait, again or dead list */
    bool half;                          /* on the half list */
    int64_t idle_ms;                    /* ... since when nothing moved */
    struct splice_conn *hprev, *hnext;
};

struct splice_pipes {
    int fds[4];
    size_t size[2];
};

struct splice {
    struct reactor *r;
    struct nshelper *h;
    int kickfd;
    struct reactor_ref kick_ref;
    int nwait[2];                   /* connections on wait_head[] */
    int timerfd;
    struct reactor_ref timer_ref;
    int64_t timer_ms;               /* when it fires (0: not armed) */
    int64_t accept_log_ms;          /* the last "out of fds" line */
    int64_t wait_log_ms;            /* the last "too many waiting" line */
    struct splice_listener *listeners;
    struct splice_conn *conns;
    struct splice_conn *wait_head[2], *wait_tail[2];
    struct splice_conn *again;
    struct splice_conn *dead;
    struct splice_conn *half_head, *half_tail;  /* one side closed: oldest first */
    int64_t fin_timeout_ms;         /* 0: never */
    struct splice_pipes cache[SPLICE_PIPE_CACHE];
    int ncache;
    bool kicked;
    struct splice_stats st;
};

/* @a and @b hold the same IP address */
static bool splice_addr_same(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return a->sa_family == AF_INET6 &&
           IN6_ARE_ADDR_EQUAL(&((const struct sockaddr_in6 *)a)->sin6_addr,
                              &((const struct sockaddr_in6 *)b)->sin6_addr);
}

/*
 * An accepted client of a listener not on loopback: a peer on loopback or
 * on the address it connected to is on this machine (the kernel routes it
 * over lo) and gets SPLICE_LOCAL_CC; a remote one keeps the system's.
 */
static void splice_client_cc(int fd, const struct sockaddr *peer)
{
    struct sockaddr_storage self;
    socklen_t len = sizeof(self);

    if (util_addr_is_loopback(peer) ||
        (getsockname(fd, (struct sockaddr *)&self, &len) == 0 &&
         splice_addr_same(peer, (struct sockaddr *)&self)))
        util_local_cc(fd);
}

static int splice_fi(int family)
{
    return family == AF_INET6 ? 1 : 0;
}

static int64_t splice_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* at most one line of a kind per 10 s (*@last: when the last one went) */
static bool splice_may_log(int64_t *last)
{
    int64_t now = splice_now_ms();

    if (*last && now - *last < 10000)
        return false;
    *last = now;
    return true;
}

/* ------------------------------------------------------------ set-up */

/**
 * splice_new() - a splice engine
 * @r:		the reactor its sockets go in; must outlive the engine
 * @h:		the namespace helper its namespace sockets come from; must
 *		outlive the engine
 * @ret:	the engine; free with splice_free()
 *
 * Return: 0, -ENOMEM, or the errno of a failed epoll/eventfd/timerfd call
 */
int splice_new(struct reactor *r, struct nshelper *h, struct splice **ret)
{
    struct splice *sp;
    int e;

    *ret = NULL;
    sp = calloc(1, sizeof(*sp));
    if (!sp)
        return -ENOMEM;
    sp->r = r;
    sp->h = h;
    sp->kickfd = sp->timerfd = -1;
    sp->kick_ref = REACTOR_REF(EVT_SPLICE_KICK, 0);
    sp->timer_ref = REACTOR_REF(EVT_SPLICE_TIMER, 0);

    sp->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    sp->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (sp->kickfd < 0 || sp->timerfd < 0) {
        e = -errno;
        goto fail;
    }
    e = reactor_add(r, sp->kickfd, EPOLLIN, &sp->kick_ref);
    if (e == 0)
        e = reactor_add(r, sp->timerfd, EPOLLIN, &sp->timer_ref);
    if (e < 0)
        goto fail;
    *ret = sp;
    return 0;
fail:
    splice_free(sp);
    return e;
}

/**
 * splice_bytes() - bytes moved so far, both directions, all connections
 * @sp:	the engine
 *
 * Return: the sum (for the loop's bulk detection: cheap, never waits)
 */
uint64_t splice_bytes(const struct splice *sp)
{
    return sp->st.bytes_in + sp->st.bytes_out;
}

/**
 * splice_available() - can new splice forwards be served?
 * @sp:	the engine, or NULL
 *
 * Waits (bounded) for the helper's first word if it has not come yet
 * (nshelper_available()).
 *
 * Return: true while the namespace helper is alive
 */
bool splice_available(struct splice *sp)
{
    return sp && nshelper_available(sp->h);
}

/**
 * splice_set_fin_timeout() - how long a connection that one peer closed may
 *			      stay idle before both are reset
 * @sp:	the engine
 * @ms:	--fin-timeout in ms; 0: never
 */
void splice_set_fin_timeout(struct splice *sp, int64_t ms)
{
    sp->fin_timeout_ms = ms;
}

/* -------------------------------------------------------- connections */

static void splice_close_pipe(struct splice_dir *d)
{
    util_closep(&d->pipe[0]);
    util_closep(&d->pipe[1]);
    d->pipe[0] = d->pipe[1] = -1;
}

static void splice_linger0(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void splice_half_unlink(struct splice *sp, struct splice_conn *c)
{
    if (!c->half)
        return;
    if (c->hprev)
        c->hprev->hnext = c->hnext;
    else
        sp->half_head = c->hnext;
    if (c->hnext)
        c->hnext->hprev = c->hprev;
    else
        sp->half_tail = c->hprev;
    c->hprev = c->hnext = NULL;
    c->half = false;
}

/*
 * End a connection: with @reset, both peers get a RST. Its fds close now;
 * the memory goes at the end of the batch (events may still point to it).
 */
static void splice_conn_end(struct splice *sp, struct splice_conn *c,
                            bool reset)
{
    int i;

    if (c->state == SPLICE_CLOSED)
        return;
    for (i = 0; i < 2; i++) {
        if (c->fd[i] < 0)
            continue;
        if (reset)
            splice_linger0(c->fd[i]);
        /* close() alone does not take a socket out of the epoll set while
         * another fd refers to it (epoll(7)): the namespace socket came
         * from the helper, which may keep one, and an event would then
         * point to @c, freed at the end of the batch */
        if (c->watched[i])
            reactor_del(sp->r, c->fd[i]);
        c->watched[i] = false;
        close(c->fd[i]);
        c->fd[i] = -1;
    }
    if (!reset && !c->dir[0].pending && !c->dir[1].pending &&
        c->dir[0].pipe[0] >= 0 && c->dir[1].pipe[0] >= 0 &&
        sp->ncache < SPLICE_PIPE_CACHE) {
        struct splice_pipes *p = &sp->cache[sp->ncache++];

        for (i = 0; i < 2; i++) {
            p->fds[2 * i] = c->dir[i].pipe[0];
            p->fds[2 * i + 1] = c->dir[i].pipe[1];
            p->size[i] = c->dir[i].size;
            c->dir[i].pipe[0] = c->dir[i].pipe[1] = -1;
        }
    }
    splice_close_pipe(&c->dir[0]);
    splice_close_pipe(&c->dir[1]);
    if (reset && !c->established)
        sp->st.failed++;
    else if (reset)
        sp->st.reset++;
    else
        sp->st.closed++;
    c->state = SPLICE_CLOSED;
    sp->st.active--;
    splice_half_unlink(sp, c);
    /* off the live list; onto the dead list */
    if (c->prev)
        c->prev->next = c->next;
    else
        sp->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (!c->queued) {
        c->lnext = sp->dead;
        sp->dead = c;
    }
    /* a queued (wait/again list) connection is freed when it is taken off */
}

static int splice_pipe_open(struct splice_dir *d)
{
    int fds[2];
    int sz;

    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return -errno;
    d->pipe[0] = fds[0];
    d->pipe[1] = fds[1];
    /* a user past pipe-user-pages-soft gets EPERM: keep the default */
    sz = fcntl(fds[1], F_SETPIPE_SZ, SPLICE_PIPE_SIZE);
    if (sz < 0)
        sz = fcntl(fds[1], F_GETPIPE_SZ);
    d->size = sz > 0 ? (size_t)sz : 65536;
    return 0;
}

static int splice_conn_pipes(struct splice *sp, struct splice_conn *c)
{
    int i, r;

    if (sp->ncache > 0) {
        struct splice_pipes *p = &sp->cache[--sp->ncache];

        for (i = 0; i < 2; i++) {
            c->dir[i].pipe[0] = p->fds[2 * i];
            c->dir[i].pipe[1] = p->fds[2 * i + 1];
            c->dir[i].size = p->size[i];
        }
        return 0;
    }
    for (i = 0; i < 2; i++) {
        r = splice_pipe_open(&c->dir[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static void splice_kick(struct splice *sp)
{
    uint64_t one = 1;

    if (sp->kicked)
        return;
    if (write(sp->kickfd, &one, sizeof(one)) == sizeof(one))
        sp->kicked = true;
}

static void splice_queue_again(struct splice *sp, struct splice_conn *c)
{
    if (c->queued)
        return;
    c->queued = true;
    c->lnext = sp->again;
    sp->again = c;
    splice_kick(sp);
}

/*
 * Put both sockets of @c in the epoll set, after the first bytes went
 * through (splice_conn_start()): the registration reports what is ready
 * already (an edge-triggered one included), so nothing that came before it
 * is missed.
 */
static int splice_conn_watch(struct splice *sp, struct splice_conn *c)
{
    int i, r;

    for (i = 0; i < 2; i++) {
        if (c->watched[i] || c->fd[i] < 0)
            continue;
        r = reactor_add(sp->r, c->fd[i],
                             EPOLLIN | EPOLLRDHUP | EPOLLET |
                             (c->out_armed[i] ? EPOLLOUT : 0), &c->ref[i]);
        if (r < 0)
            return r;
        c->watched[i] = true;
    }
    return 0;
}

/* a write to fd[@i] would block: be told when it can go on */
static int splice_arm_out(struct splice *sp, struct splice_conn *c, int i)
{
    int r;

    if (c->out_armed[i])
        return 0;
    if (c->watched[i]) {
        r = reactor_mod(sp->r, c->fd[i],
                        EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &c->ref[i]);
        if (r < 0)
            return r;
    }
    c->out_armed[i] = true;     /* (or with the registration to come) */
    return 0;
}

static void splice_established(struct splice *sp, struct splice_conn *c)
{
    if (c->established)
        return;
    c->established = true;
    sp->st.connected++;
}

/*
 * Move what direction @d can move now: write what the pipe holds to
 * fd[!d], read more from fd[d], until neither makes progress.
 *
 * A read that comes back short of both the bytes and the pipe slots it
 * was offered has emptied the socket's receive queue: a TCP splice read
 * takes everything queued up to those limits. What the wake-up said tells
 * what would come next:
 *
 *  - with @settled (a readable edge of fd[d] that carried no hang-up), a
 *    FIN queued before the wake-up would have shown as EPOLLRDHUP, and
 *    anything that arrives later raises a new edge, so the read that
 *    would only say EAGAIN is left out (one syscall of three for a small
 *    message);
 *  - with @fin (the edge carried EPOLLRDHUP: the FIN was in, after all of
 *    the data, before the wake-up), the next read could only say EOF, so
 *    it is taken as said. The bytes then go out with SPLICE_F_MORE and the
 *    shutdown() that follows puts the FIN on their segment: the peer gets
 *    the answer and the end in one segment and one wake-up, as it would
 *    from a server that wrote and closed at once (a short connection's
 *    last splice() and a segment each way fewer).
 *
 * Return: 0 (would block, or done), 1 (budget used up: come back), or a
 *	   negative errno (reset the connection)
 */
static int splice_pump(struct splice *sp, struct splice_conn *c, int d,
                       bool settled, bool fin)
{
    struct splice_dir *dir = &c->dir[d];
    int in = c->fd[d], out = c->fd[!d];
    uint64_t *bytes = d == 0 ? &sp->st.bytes_in : &sp->st.bytes_out;
    size_t slots = dir->size / 4096;    /* pipe buffers: >= 1 byte each */
    int budget = SPLICE_BUDGET;
    bool more = false, drained = false;

    while (budget-- > 0) {
        bool progress = false;
        ssize_t n;

        if (dir->pending) {
            n = splice(dir->pipe[0], NULL, out, NULL, dir->pending,
                       SPLICE_F_NONBLOCK | SPLICE_F_MOVE |
                       (more || dir->eof ? SPLICE_F_MORE : 0));
            if (n > 0) {
                dir->pending -= (size_t)n;
                *bytes += (uint64_t)n;
                progress = true;
                if (d == 0)
                    splice_established(sp, c);
            } else if (n < 0 && errno == EAGAIN) {
                int r = splice_arm_out(sp, c, !d);

                if (r < 0)
                    return r;
            } else if (n < 0 && errno != EINTR) {
                return -errno;
            }
        }
        if (!dir->eof && !drained && dir->pending < dir->size) {
            size_t want = dir->size - dir->pending;

            n = splice(in, NULL, dir->pipe[1], NULL, want,
                       SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
            if (n > 0) {
                bool all = (size_t)n < want &&
                           dir->pending + (size_t)n < slots;

                drained = settled && all;
                if (fin && all)
                    dir->eof = true;    /* what a next read would say */
                dir->pending += (size_t)n;
                more = (size_t)n == want;
                progress = true;
                if (d == 1)
                    splice_established(sp, c);
            } else if (n == 0) {
                dir->eof = true;
                more = false;
                progress = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                return -errno;
            } else if (!dir->pending) {
                return 0;   /* an empty pipe: the socket is drained */
            } else {
                more = false;   /* (or the pipe's slots are full) */
            }
        }
        if (dir->eof && !dir->pending && !dir->shut) {
            /* the other way is done too: the close() that follows sends
             * the FIN (both receive queues are empty), no shutdown() */
            if (!c->dir[!d].shut && shutdown(out, SHUT_WR) < 0 &&
                errno != ENOTCONN)
                return -errno;
            dir->shut = true;
            return 0;
        }
        if (!progress)
            return 0;
    }
    return 1;
}

static void splice_timer_update(struct splice *sp);

/* @c has one side closed, and just became so or moved bytes: to the tail
 * of the half list, idle from now */
static void splice_half_touch(struct splice *sp, struct splice_conn *c)
{
    bool was_head = sp->half_head == c;

    splice_half_unlink(sp, c);
    c->half = true;
    c->idle_ms = splice_now_ms();
    c->hprev = sp->half_tail;
    if (sp->half_tail)
        sp->half_tail->hnext = c;
    else
        sp->half_head = c;
    sp->half_tail = c;
    /* a new head, or the only one: the timer may have to come sooner */
    if (sp->half_head == c || was_head)
        splice_timer_update(sp);
}

#define SPLICE_RUN_BOTH 3

/*
 * Pump the directions in @mask (bit d: direction d); end the connection
 * when both are done. A direction that was cut short is queued with both.
 * @settled: the directions woken by a plain readable edge, @fin: those
 * woken by an edge that carried the FIN (splice_pump()).
 */
static void splice_conn_run(struct splice *sp, struct splice_conn *c,
                            unsigned int mask, unsigned int settled,
                            unsigned int fin)
{
    uint64_t moved = sp->st.bytes_in + sp->st.bytes_out;
    bool again = false;
    int d, r;

    for (d = 0; d < 2 && c->state == SPLICE_OPEN; d++) {
        if (c->dir[d].shut || !(mask & (1U << d)))
            continue;
        r = splice_pump(sp, c, d, settled & (1U << d), fin & (1U << d));
        if (r < 0) {
            splice_conn_end(sp, c, true);
            return;
        }
        again |= r > 0;
    }
    if (c->dir[0].shut && c->dir[1].shut) {
        splice_conn_end(sp, c, false);
        return;
    }
    if (sp->fin_timeout_ms && (c->dir[0].eof || c->dir[1].eof) &&
        (!c->half || moved != sp->st.bytes_in + sp->st.bytes_out))
        splice_half_touch(sp, c);
    if (again)
        splice_queue_again(sp, c);
}

/*
 * The namespace side is connecting: splice from now on (TCP_NODELAY: both
 * sockets have it, the host one inherited it from the listener). Only the
 * client's bytes can be there yet: they are passed on first, and only then
 * do both sockets go into the epoll set, so that the server, woken by the
 * connect(), finds them sooner, and the registrations, which report what
 * is ready by then, run while it works. What the server sends, and
 * whatever arrives after this short read, raises an edge then. So the
 * host side is pumped as settled and the namespace side not at all: two
 * splice() calls of ~14 per short connection that could only say EAGAIN.
 */
static void splice_conn_open(struct splice *sp, struct splice_conn *c)
{
    c->state = SPLICE_OPEN;
    if (splice_conn_pipes(sp, c) < 0) {
        splice_conn_end(sp, c, true);
        return;
    }
    splice_conn_run(sp, c, 1U << 0, 1U << 0, 0);
    if (c->state == SPLICE_OPEN && splice_conn_watch(sp, c) < 0)
        splice_conn_end(sp, c, true);
}

/*
 * Arm the timer for the first paused listener's retry. A timer armed for
 * later is moved; one armed for earlier stays (splice_on_timer() looks
 * again when it fires).
 */
static void splice_timer_update(struct splice *sp)
{
    struct itimerspec its = { 0 };
    struct splice_listener *ls;
    int64_t next = 0;

    for (ls = sp->listeners; ls; ls = ls->next)
        if (ls->resume_ms && (!next || ls->resume_ms < next))
            next = ls->resume_ms;
    if (sp->half_head &&
        (!next || sp->half_head->idle_ms + sp->fin_timeout_ms < next))
        next = sp->half_head->idle_ms + sp->fin_timeout_ms;
    if (!next || (sp->timer_ms && sp->timer_ms <= next))
        return;
    its.it_value.tv_sec = next / 1000;
    its.it_value.tv_nsec = (next % 1000) * 1000000;
    if (timerfd_settime(sp->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        sp->timer_ms = next;
}

/* give @c a namespace socket and connect it; or queue it for one */
static void splice_conn_start(struct splice *sp, struct splice_conn *c)
{
    int fi = splice_fi(c->guest.ss_family);
    int fd = nshelper_take(sp->h, SOCK_STREAM, c->guest.ss_family);

    if (fd < 0) {
        if (fd != -EAGAIN) {    /* the helper is gone */
            splice_conn_end(sp, c, true);
            return;
        }
        if (sp->nwait[fi] >= SPLICE_WAIT_MAX) {
            if (splice_may_log(&sp->wait_log_ms))
                warn("splice forwards: %d connections wait for the "
                     "namespace helper already: resetting new ones",
                     sp->nwait[fi]);
            splice_conn_end(sp, c, true);
            return;
        }
        c->state = SPLICE_WAIT_SOCK;
        sp->st.pool_waits++;
        c->queued = true;
        c->lnext = NULL;
        if (sp->wait_tail[fi])
            sp->wait_tail[fi]->lnext = c;
        else
            sp->wait_head[fi] = c;
        sp->wait_tail[fi] = c;
        sp->nwait[fi]++;
        return;     /* asked for (nshelper_take()) */
    }
    c->fd[1] = fd;
    if (connect(c->fd[1], (const struct sockaddr *)&c->guest,
                c->guest_len) < 0 && errno != EINPROGRESS && errno != EINTR) {
        splice_conn_end(sp, c, true);
        return;
    }
    /*
     * Splice at once: inside the namespace the handshake is usually done
     * before connect() returns, and if it is not, writes to the socket
     * would block (EAGAIN) until it is, when EPOLLOUT comes. A refused
     * connection shows as EPOLLERR (or an error from splice) and resets
     * the client.
     */
    splice_conn_open(sp, c);
}

/*
 * accept() ran out of fds or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM):
 * the connection stays queued, and the listener, level-triggered, would
 * be reported again at once, for ever. It leaves the epoll set and the
 * timer brings it back after SPLICE_ACCEPT_PAUSE_MS.
 */
static void splice_listener_pause(struct splice *sp,
                                  struct splice_listener *ls, int err)
{
    if (splice_may_log(&sp->accept_log_ms))
        warn("splice forward: accept: %s: the listener rests for %d ms",
             strerror(err), SPLICE_ACCEPT_PAUSE_MS);
    reactor_del(sp->r, ls->fd);
    ls->resume_ms = splice_now_ms() + SPLICE_ACCEPT_PAUSE_MS;
    sp->st.accept_paused++;
    splice_timer_update(sp);
}

/**
 * splice_on_listener() - accept what a listener has queued
 * @sp:		the engine
 * @ref:	the listener's reference
 *
 * A listener that was not readable in the
 * batch before this one takes one connection: the accept4() after it
 * would, for connections that come one at a time, only say EAGAIN, and
 * if more are queued the (level-triggered) listener is reported again in
 * the very next batch, which then takes them all, up to the budget.
 */
void splice_on_listener(struct splice *sp, struct reactor_ref *ref)
{
    struct splice_listener *ls = container_of(ref, struct splice_listener,
                                              ref);
    uint64_t batch = sp->r->batch;
    int i, budget = ls->last_batch + 1 == batch ? SPLICE_ACCEPT_BUDGET : 1;

    if (ls->resume_ms)
        return;     /* paused in this batch, by an earlier event */
    ls->last_batch = batch;
    for (i = 0; i < budget; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        struct splice_conn *c;
        int fd = accept4(ls->fd, ls->local ? NULL : (struct sockaddr *)&peer,
                         ls->local ? NULL : &plen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM)
                splice_listener_pause(sp, ls, errno);
            return;     /* EAGAIN; or an aborted/failed accept: next time */
        }
        if (!ls->local)
            splice_client_cc(fd, (struct sockaddr *)&peer);
        c = calloc(1, sizeof(*c));
        if (!c) {
            splice_linger0(fd);
            close(fd);
            continue;
        }
        c->ref[0] = REACTOR_REF(EVT_SPLICE_CONN, 0);
        c->ref[1] = REACTOR_REF(EVT_SPLICE_CONN, 1);
        c->fd[0] = fd;
        c->fd[1] = -1;
        c->dir[0].pipe[0] = c->dir[0].pipe[1] = -1;
        c->dir[1].pipe[0] = c->dir[1].pipe[1] = -1;
        c->guest = ls->guest;
        c->guest_len = ls->guest_len;
        c->next = sp->conns;
        if (sp->conns)
            sp->conns->prev = c;
        sp->conns = c;
        sp->st.accepted++;
        sp->st.active++;
        splice_conn_start(sp, c);
    }
    /* budget used up: the listener stays readable (level-triggered) */
}

/**
 * splice_on_conn() - pump a connection whose socket has events
 * @sp:		the engine
 * @ref:	the reference of one of its sockets (side 0: host, 1: namespace)
 * @events:	the epoll events
 */
void splice_on_conn(struct splice *sp, struct reactor_ref *ref,
                    uint32_t events)
{
    int side = ref->side;
    struct splice_conn *c = container_of(ref - side, struct splice_conn, ref);
    unsigned int mask = 0, settled = 0, fin = 0;
    int err = 0;
    socklen_t len = sizeof(err);

    if (c->state == SPLICE_CLOSED)
        return;
    if (c->state != SPLICE_OPEN)
        return;
    if (side == 1 && (events & EPOLLOUT) && !(events & EPOLLERR))
        splice_established(sp, c);
    if (events & EPOLLERR) {
        if (getsockopt(c->fd[side], SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
            err) {
            splice_conn_end(sp, c, true);
            return;
        }
    }
    /* readable: the direction from this side; writable: the one to it */
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        mask |= 1U << side;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        mask |= 1U << !side;
    if (!(events & (EPOLLHUP | EPOLLERR))) {
        if (events & EPOLLRDHUP)
            fin = mask & (1U << side);
        else
            settled = mask & (1U << side);
    }
    splice_conn_run(sp, c, mask, settled, fin);
}

/* take the first connection off the wait list of family index @fi */
static struct splice_conn *splice_wait_pop(struct splice *sp, int fi)
{
    struct splice_conn *c = sp->wait_head[fi];

    if (!c)
        return NULL;
    sp->wait_head[fi] = c->lnext;
    if (!sp->wait_head[fi])
        sp->wait_tail[fi] = NULL;
    sp->nwait[fi]--;
    c->queued = false;
    c->lnext = NULL;
    return c;
}

/* serve connections waiting for a namespace socket of family index @fi */
static void splice_serve_waiting(struct splice *sp, int fi)
{
    int family = fi ? AF_INET6 : AF_INET;

    while (sp->wait_head[fi] &&
           (nshelper_pooled(sp->h, SOCK_STREAM, family) ||
            !nshelper_available(sp->h))) {
        struct splice_conn *c = splice_wait_pop(sp, fi);

        if (c->state == SPLICE_CLOSED) {
            c->lnext = sp->dead;
            sp->dead = c;
            continue;
        }
        splice_conn_start(sp, c);
    }
}

/**
 * splice_on_timer() - listeners whose rest is over go back into the set;
 *		       connections idle with one side closed for
 *		       --fin-timeout are reset
 * @sp:	the engine
 */
void splice_on_timer(struct splice *sp)
{
    struct splice_listener *ls;
    int64_t now = splice_now_ms();
    uint64_t v;

    if (read(sp->timerfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    sp->timer_ms = 0;
    for (ls = sp->listeners; ls; ls = ls->next) {
        if (!ls->resume_ms || ls->resume_ms > now)
            continue;
        ls->resume_ms = 0;
        reactor_add(sp->r, ls->fd, EPOLLIN, &ls->ref);
    }
    while (sp->half_head &&
           sp->half_head->idle_ms + sp->fin_timeout_ms <= now) {
        sp->st.fin_timeout_reset++;
        splice_conn_end(sp, sp->half_head, true);
    }
    splice_timer_update(sp);
}

/**
 * splice_on_kick() - pump the connections that used up their budget
 * @sp:	the engine
 */
void splice_on_kick(struct splice *sp)
{
    struct splice_conn *list, *c;
    uint64_t v;

    if (read(sp->kickfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    sp->kicked = false;
    list = sp->again;
    sp->again = NULL;
    while ((c = list)) {
        list = c->lnext;
        c->lnext = NULL;
        c->queued = false;
        if (c->state == SPLICE_CLOSED) {
            c->lnext = sp->dead;
            sp->dead = c;
            continue;
        }
        splice_conn_run(sp, c, SPLICE_RUN_BOTH, 0, 0);
    }
}

/**
 * splice_on_helper() - the namespace helper answered, or was given up
 * @sp:	the engine
 * @ev:	what nshelper_on_ready() or nshelper_on_timer() said
 *
 * Connections that wait for a namespace socket get one, or are reset if
 * none will come.
 */
void splice_on_helper(struct splice *sp, const struct nshelper_event *ev)
{
    int fi;

    if (ev->what & NSHELPER_EV_GONE) {
        splice_serve_waiting(sp, 0);    /* resets them */
        splice_serve_waiting(sp, 1);
        return;
    }
    if (!(ev->what & NSHELPER_EV_STREAM))
        return;
    fi = splice_fi(ev->family);
    if (ev->status < 0 && !nshelper_pooled(sp->h, SOCK_STREAM, ev->family)) {
        /* the namespace cannot make such sockets: nobody waits in vain */
        struct splice_conn *c;

        while ((c = splice_wait_pop(sp, fi))) {
            if (c->state != SPLICE_CLOSED)
                splice_conn_end(sp, c, true);
            else {
                c->lnext = sp->dead;
                sp->dead = c;
            }
        }
        return;
    }
    splice_serve_waiting(sp, fi);
    nshelper_prepare(sp->h, SOCK_STREAM, ev->family);
}

static void splice_free_dead(struct splice *sp)
{
    struct splice_conn *c;

    while ((c = sp->dead)) {
        sp->dead = c->lnext;
        free(c);
    }
}

/**
 * splice_batch_end() - free what connections ended in the reactor's batch
 * @sp:	the engine
 *
 * Events of the batch may have pointed to them until its end.
 */
void splice_batch_end(struct splice *sp)
{
    splice_free_dead(sp);
}

/* ----------------------------------------------------------- listeners */

/**
 * splice_listen() - listen on @host and forward to @guest in the namespace
 * @sp:		the engine
 * @host:	AF_INET or AF_INET6 address (port 0: ephemeral)
 * @host_len:	its length
 * @guest:	AF_INET or AF_INET6 address with port, as the namespace sees it
 * @guest_len:	its length
 * @ret_fd:	the listening socket (owned by the engine)
 * @ret_bound:	its address (getsockname)
 * @ret_len:	its length
 *
 * An IPv6 listener is IPV6_V6ONLY (as libslirp's), so [::]:P and
 * 0.0.0.0:P can both be forwarded. The families of @host and @guest may
 * differ.
 *
 * Return: 0; -EAFNOSUPPORT for another family; -ENOTCONN if the helper is
 *	   gone; -ENOMEM; the errno of socket/bind/listen (-EADDRINUSE,
 *	   -EACCES, -EADDRNOTAVAIL, ...)
 */
int splice_listen(struct splice *sp, const struct sockaddr *host,
                  socklen_t host_len, const struct sockaddr *guest,
                  socklen_t guest_len, int *ret_fd,
                  struct sockaddr_storage *ret_bound, socklen_t *ret_len)
{
    struct splice_listener *ls;
    _cleanup_close_ int fd = -1;
    int one = 1, r;

    if (!util_fwd_addrs_ok(host, host_len, guest, guest_len))
        return -EAFNOSUPPORT;
    if (!splice_available(sp))
        return -ENOTCONN;
    fd = util_fwd_socket(host->sa_family, SOCK_STREAM);
    if (fd < 0)
        return fd;
    /* accepted sockets inherit it: one setsockopt less per connection */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        return -errno;
    /* on loopback every client is local: accepted sockets inherit it */
    if (util_addr_is_loopback(host))
        util_local_cc(fd);
    if (bind(fd, host, host_len) < 0 || listen(fd, SPLICE_LISTEN_BACKLOG) < 0)
        return -errno;
    r = util_bound_addr(fd, ret_bound, ret_len);
    if (r < 0)
        return r;

    ls = calloc(1, sizeof(*ls));
    if (!ls)
        return -ENOMEM;
    ls->ref = REACTOR_REF(EVT_SPLICE_LISTENER, 0);
    memcpy(&ls->guest, guest, guest_len);
    ls->guest_len = guest_len;
    ls->local = util_addr_is_loopback(host);
    ls->fd = fd;
    r = reactor_add(sp->r, fd, EPOLLIN, &ls->ref);
    if (r < 0) {
        free(ls);
        return r;
    }
    ls->next = sp->listeners;
    sp->listeners = ls;
    sp->st.listeners++;
    /* the first sockets of this family, before the first client */
    nshelper_prepare(sp->h, SOCK_STREAM, guest->sa_family);
    *ret_fd = util_take_fd(&fd);
    return 0;
}

/**
 * splice_unlisten() - close a listener of splice_listen()
 * @sp:	the engine
 * @fd:	the listener
 *
 * Connections it accepted run on until they end.
 *
 * Return: 0 or -ENOENT
 */
int splice_unlisten(struct splice *sp, int fd)
{
    struct splice_listener **p, *ls;

    for (p = &sp->listeners; (ls = *p); p = &ls->next) {
        if (ls->fd != fd)
            continue;
        *p = ls->next;
        reactor_del(sp->r, ls->fd);
        close(ls->fd);
        free(ls);
        sp->st.listeners--;
        return 0;
    }
    return -ENOENT;
}

/**
 * splice_get_stats() - counters for get_info
 * @sp:		the engine
 * @ret:	filled in
 */
void splice_get_stats(struct splice *sp, struct splice_stats *ret)
{
    bool alive = nshelper_available(sp->h);     /* its first word */

    *ret = sp->st;
    ret->helper_alive = alive;
    ret->pool_v4 = nshelper_pooled(sp->h, SOCK_STREAM, AF_INET);
    ret->pool_v6 = nshelper_pooled(sp->h, SOCK_STREAM, AF_INET6);
    ret->dpool_v4 = nshelper_pooled(sp->h, SOCK_DGRAM, AF_INET);
    ret->dpool_v6 = nshelper_pooled(sp->h, SOCK_DGRAM, AF_INET6);
}

/* ------------------------------------------------------- inspection */

/**
 * splice_foreach_conn() - call @fn for every live connection, newest first
 * @sp:		the engine
 * @fn:		called with what the connection holds (valid during the call)
 * @arg:	passed to @fn
 */
void splice_foreach_conn(struct splice *sp,
                         void (*fn)(const struct splice_conn_info *ci,
                                    void *arg),
                         void *arg)
{
    const struct splice_conn *c;

    for (c = sp ? sp->conns : NULL; c; c = c->next) {
        struct splice_conn_info ci = {
            .fd = c->fd[0],
            .guest = &c->guest,
            .recv_q = c->dir[0].pending,
            .send_q = c->dir[1].pending,
        };

        fn(&ci, arg);
    }
}

/**
 * splice_free() - close every connection and listener
 * @sp:	the engine, or NULL
 *
 * Open connections are closed (their peers see a FIN, or a reset where
 * data was still in flight). The helper stays (nshelper_free()).
 */
void splice_free(struct splice *sp)
{
    struct splice_listener *ls;
    int i, fi;

    if (!sp)
        return;
    while (sp->conns)
        splice_conn_end(sp, sp->conns, sp->conns->dir[0].pending ||
                                       sp->conns->dir[1].pending);
    while ((ls = sp->listeners)) {
        sp->listeners = ls->next;
        reactor_del(sp->r, ls->fd);
        close(ls->fd);
        free(ls);
    }
    /* every connection is closed now: take them off the lists and free */
    for (fi = 0; fi < 2; fi++) {
        struct splice_conn *c;

        while ((c = sp->wait_head[fi])) {
            sp->wait_head[fi] = c->lnext;
            free(c);
        }
    }
    while (sp->again) {
        struct splice_conn *c = sp->again;

        sp->again = c->lnext;
        free(c);
    }
    splice_free_dead(sp);
    for (i = 0; i < sp->ncache; i++) {
        int j;

        for (j = 0; j < 4; j++)
            close(sp->cache[i].fds[j]);
    }
    reactor_close(sp->r, &sp->kickfd);
    reactor_close(sp->r, &sp->timerfd);
    free(sp);
}
