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
 * The namespace helper. Sockets in the namespace come from a long-lived
 * child: the very child that made the tap inside the target's user and
 * network namespaces before any isolation stage goes on as the helper
 * once the tap is sent (ns_call_then() with splice_helper_run()), so the
 * daemon forks once, and its start does not wait for the helper at all
 * (its first word is taken by the main loop, or waited for where the
 * engine is first needed: splice_settle()). It closes every other fd,
 * renames itself ("slirpd: splice helper", so nobody looking for the daemon
 * by its argv takes it for the daemon), sets no_new_privs, drops every capability and loads its own small seccomp
 * filter (socket for AF_INET/AF_INET6, setsockopt, recvmsg/sendmsg, close,
 * exit), all before its first word; if any of that fails, the word says
 * so and it exits (every forward then goes through libslirp). It then
 * answers requests "N sockets of family F and type T"
 * (SOCK_STREAM here, SOCK_DGRAM for udprelay.c) over a SOCK_SEQPACKET
 * socketpair with the sockets (SCM_RIGHTS), unconnected. It
 * exits when the socketpair closes (the daemon is gone: EOF, and
 * PR_SET_PDEATHSIG). A child, not a thread: the daemon must stay
 * single-threaded (libslirp; setns() into a user namespace), a thread
 * would have to join the namespace before the sandbox drops the
 * capabilities and would then share the daemon's filter and credentials,
 * and a separate process can be locked down further than the daemon.
 *
 * The pool. slirpd keeps up to SPLICE_POOL_MAX unconnected namespace
 * sockets per family and asks the helper for more (asynchronously) when
 * fewer than SPLICE_POOL_LOW are left, so a new connection costs one
 * connect() and no round trip. A connection that finds the pool empty
 * waits (WAIT_SOCK) until the helper's answer arrives; at most
 * SPLICE_WAIT_MAX do per family, more are reset at once.
 *
 * The helper is not trusted: it lives in the target's namespaces, where
 * the container can signal or ptrace it. Every answer must be one that was
 * asked for, with no more descriptors than asked for, each a socket of
 * the family, type and protocol asked for (fstat, SO_DOMAIN, SO_TYPE,
 * SO_PROTOCOL); the daemon makes each one non-blocking itself. A helper
 * that answers anything else, owes an answer for SPLICE_HELPER_TIMEOUT_MS
 * (stopped, stuck) or exits is given up, with a log line: its socket is
 * closed (a stopped one exits when it runs again) and it is reaped;
 * waiting connections are reset, and so are new ones on splice listeners
 * (open ones run on); new forwards go through libslirp. Since the helper
 * may keep a copy of any socket it sent, and close() does not take a
 * socket out of an epoll set while another reference exists (epoll(7)),
 * every watched fd leaves the set (EPOLL_CTL_DEL) before it is closed.
 *
 * Everything (listeners, both sockets of each connection, the helper's
 * socket, a "kick" eventfd and a timerfd for the helper's deadline and
 * rested listeners) lives in the reactor's epoll set (reactor.c), whose
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
 * Other modules. udprelay.c puts its own sockets into the same reactor
 * and takes UDP sockets from a second pool (splice_take_dgram());
 * splice_set_client() tells it when asked-for sockets arrive.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdclose.h"
#include "log.h"
#include "reactor.h"
#include "splice.h"
#include "util.h"

#define SPLICE_PIPE_CACHE 16        /* idle pipe pairs kept */
#define SPLICE_HELLO_MS 5000        /* the helper's first word */
#define SPLICE_REAP_MS 100          /* a helper that is gone: reap it ... */
#define SPLICE_REAP_TRIES 100       /* ... for up to 10 s */

/*
 * The congestion control of the sockets whose path never leaves the
 * machine: every namespace socket, and host sockets with a local peer.
 * Measured on a host whose default is bbr: 64 KiB segments over loopback
 * made 10-11 Gbit/s through the forward with bbr (its pacing and min-RTT
 * model fit a microsecond path badly) and 16-21 Gbit/s with cubic, the
 * kernel's default. Host sockets with a remote peer keep the system's.
 */
#define SPLICE_LOCAL_CC "cubic"

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
};

struct splice_pipes {
    int fds[4];
    size_t size[2];
};

struct splice {
    struct reactor *r;
    int kickfd;
    int helper_fd;
    pid_t helper_pid;
    struct reactor_ref helper_ref, kick_ref;
    int pool[2][SPLICE_POOL_MAX];   /* [0] AF_INET, [1] AF_INET6 */
    int npool[2];
    bool requested[2];
    int dpool[2][SPLICE_POOL_MAX];  /* the same for SOCK_DGRAM */
    int ndpool[2];
    bool drequested[2];
    /* [0] SOCK_STREAM, [1] SOCK_DGRAM; per family: what the helper owes */
    int64_t asked_ms[2][2];         /* since when (0: nothing) */
    int asked[2][2];                /* how many sockets, at most */
    int nwait[2];                   /* connections on wait_head[] */
    int timerfd;
    struct reactor_ref timer_ref;
    int64_t timer_ms;               /* when it fires (0: not armed) */
    int64_t accept_log_ms;          /* the last "out of fds" line */
    int64_t wait_log_ms;            /* the last "too many waiting" line */
    void (*on_dgram)(void *arg);    /* splice_set_client() */
    void *client;
    struct splice_listener *listeners;
    struct splice_conn *conns;
    struct splice_conn *wait_head[2], *wait_tail[2];
    struct splice_conn *again;
    struct splice_conn *dead;
    struct splice_pipes cache[SPLICE_PIPE_CACHE];
    int ncache;
    bool kicked;
    bool hello_pending;     /* the helper's first word not taken yet */
    bool helper_reaped;     /* the helper is gone and reaped */
    int reap_left;          /* tries left to reap it (SPLICE_REAP_MS apart) */
    int hello_status;       /* what it said: 0 or a negative errno */
    struct splice_stats st;
};

/*
 * Set SPLICE_LOCAL_CC on @fd. A congestion control that is not in
 * net.ipv4.tcp_allowed_congestion_control (the system's default and reno,
 * and what was once a default) needs CAP_NET_ADMIN over the socket's
 * network namespace: the helper, which has none, leaves that to the
 * daemon (splice_on_helper()), which has it where it is root or the owner
 * of the target's user namespace and not sandboxed. Without it the
 * system's default stays, which only costs speed.
 *
 * Return: 0 or a negative errno
 */
static int splice_local_cc(int fd)
{
    return setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, SPLICE_LOCAL_CC,
                      sizeof(SPLICE_LOCAL_CC) - 1) < 0 ? -errno : 0;
}

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
        splice_local_cc(fd);
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

/* --------------------------------------------------------------- helper */

/*
 * Name the helper in ps and /proc/PID/cmdline ("slirpd: splice helper"),
 * so that nobody takes it for the daemon (callers look for the daemon by
 * its argv). The argument area is overwritten in place, as setproctitle().
 */
static void splice_helper_rename(void)
{
    static const char name[] = "slirpd: splice helper";
    char buf[4096];
    ssize_t len = 0, n;
    int fd;

    prctl(PR_SET_NAME, "slirpd-splice", 0, 0, 0);
    fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        len += n;
    close(fd);
    if (len < 2 || !program_invocation_name)
        return;
    memset(program_invocation_name, 0, (size_t)len);
    memcpy(program_invocation_name, name,
           (size_t)len - 1 < sizeof(name) - 1 ? (size_t)len - 1 :
                                                sizeof(name) - 1);
}

/*
 * No capabilities, no new privileges, and only what the helper calls. A
 * helper that cannot have all three must not run: it lives in the
 * target's namespaces with the daemon's uid for the daemon's life.
 *
 * Return: 0 or a negative errno
 */
static int splice_helper_lockdown(void)
{
    static const char *const allow[] = {
        "setsockopt", "close", "recvmsg", "recvfrom", "sendmsg", "sendto",
        "exit", "exit_group", "rt_sigreturn", "sigreturn", "restart_syscall",
        "brk", "munmap", "madvise", "mincore",   /* heap.c's free() */
    };
    scmp_filter_ctx ctx;
    cap_t caps;
    size_t i;
    int r;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    caps = cap_init();
    if (!caps)
        return -ENOMEM;
    r = cap_set_proc(caps) < 0 ? -errno : 0;
    cap_free(caps);
    if (r < 0)
        return r;
    ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!ctx)
        return -ENOMEM;
    for (i = 0; i < ARRAY_SIZE(allow); i++) {
        int nr = seccomp_syscall_resolve_name(allow[i]);

        if (nr != __NR_SCMP_ERROR)
            seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                     SCMP_A0(SCMP_CMP_EQ, AF_INET));
    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                     SCMP_A0(SCMP_CMP_EQ, AF_INET6));
    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    /* not released: free() after the filter is not worth a rule */
    r = seccomp_load(ctx);
    return r < 0 ? r : 0;
}

static int splice_helper_send(int sock, const struct splice_msg *m,
                              const int *fds, int n)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * SPLICE_FDS_PER_MSG)];
        struct cmsghdr align;
    } u;
    struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    struct cmsghdr *cmsg;
    ssize_t r;

    if (n > 0) {
        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t)n);
    }
    do
        r = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

/**
 * splice_helper_run() - become the splice helper (an ns_then_fn)
 * @sock:	this end of the socketpair to the daemon
 * @arg:	unused
 *
 * For a child that is inside the target's namespaces already: the tap's
 * child of ns_call_then() goes on as the helper (one fork for both).
 * Never returns.
 */
void splice_helper_run(int sock, void *arg)
{
    int keep[1] = { sock };
    struct splice_msg m = { 0 };
    sigset_t none;
    int fds[SPLICE_FDS_PER_MSG];
    int i, j, r;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fdclose_except(keep, 1);    /* the namespace fds, the tap's */
    splice_helper_rename();
    /* the first word, once locked down: the daemon takes it whenever it
     * comes (it only needs it before the first splice forward). A helper
     * that could not lock itself down says why and exits: the daemon then
     * carries every forward through libslirp */
    r = splice_helper_lockdown();
    if (r < 0)
        warn("splice helper: cannot lock itself down (%s): exiting",
             strerror(-r));
    m.status = r;
    if (splice_helper_send(sock, &m, NULL, 0) < 0 || r < 0)
        _exit(1);

    for (;;) {
        struct splice_msg req;
        ssize_t n;
        int want;

        do
            n = recv(sock, &req, sizeof(req), 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            _exit(0);   /* the daemon is gone */
        if (n != sizeof(req) ||
            (req.family != AF_INET && req.family != AF_INET6) ||
            (req.type != SOCK_STREAM && req.type != SOCK_DGRAM))
            continue;
        want = req.count < 1 ? 1 : req.count > SPLICE_FDS_PER_MSG ?
               SPLICE_FDS_PER_MSG : req.count;
        m = (struct splice_msg){ .family = req.family, .type = req.type };
        for (i = 0; i < want; i++) {
            int one = 1;

            fds[i] = socket(req.family,
                            req.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fds[i] < 0) {
                m.status = -errno;
                break;
            }
            if (req.type == SOCK_STREAM) {
                setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one,
                           sizeof(one));
                if (splice_local_cc(fds[i]) < 0)  /* a path inside the namespace */
                    m.cc_unset++;
            }
        }
        m.count = i;
        if (splice_helper_send(sock, &m, fds, i) < 0)
            _exit(1);
        for (j = 0; j < i; j++)
            close(fds[j]);
    }
}

/* ------------------------------------------------------------ set-up */

/*
 * Wait (bounded) for the helper's first word: it joined the namespaces.
 * A receive timeout, not poll(): the daemon's first poll() is its loop's.
 */
static int splice_hello(int fd)
{
    struct timeval tv = { .tv_sec = SPLICE_HELLO_MS / 1000 };
    struct splice_msg m;
    ssize_t n;

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
        return -errno;
    do
        n = recv(fd, &m, sizeof(m), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? -ETIMEDOUT : -errno;
    if (n != sizeof(m))
        return -ECHILD;
    return m.status;
}

/**
 * splice_new_from() - a splice engine around a helper that runs already
 * @sock:	the daemon's end of the socketpair to it (owned from now on,
 *		also on failure)
 * @pid:	the helper
 * @ret:	the engine; free with splice_free()
 *
 * Does not wait for the helper's first word (nothing needs the helper
 * before the first forward: the ready byte does not wait for it): the main
 * loop takes the word when it comes, and splice_available() waits for it,
 * bounded, where it is needed first (splice_wait_helper()).
 *
 * Return: 0 or the errno of a failed epoll/eventfd call (or -ENOMEM)
 */
int splice_new_from(struct reactor *r, int sock, pid_t pid,
                    struct splice **ret)
{
    struct splice *sp;
    int e;

    *ret = NULL;
    sp = calloc(1, sizeof(*sp));
    if (!sp) {
        close(sock);
        return -ENOMEM;
    }
    sp->r = r;
    sp->kickfd = sp->timerfd = -1;
    sp->helper_fd = sock;
    sp->helper_pid = pid;
    sp->helper_ref = REACTOR_REF(EVT_SPLICE_HELPER, 0);
    sp->kick_ref = REACTOR_REF(EVT_SPLICE_KICK, 0);
    sp->timer_ref = REACTOR_REF(EVT_SPLICE_TIMER, 0);
    sp->hello_pending = true;

    sp->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    sp->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (sp->kickfd < 0 || sp->timerfd < 0) {
        e = -errno;
        goto fail;
    }
    e = reactor_add(r, sp->helper_fd, EPOLLIN, &sp->helper_ref);
    if (e == 0)
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
 * splice_wait_helper() - wait (bounded) for the helper's first word: it
 *			  joined the namespace
 * @sp:	from splice_new_from()
 *
 * Return: 0 (also when it came before); the errno of the helper joining
 *	   the namespaces, -ETIMEDOUT if it did not answer in time, -ECHILD
 *	   if it is gone. On an error the engine stays unavailable
 *	   (splice_available() is false) and every forward goes through
 *	   libslirp.
 */
int splice_wait_helper(struct splice *sp)
{
    int r;

    if (!sp->hello_pending)
        return sp->hello_status;
    sp->hello_pending = false;
    r = splice_hello(sp->helper_fd);
    if (r == 0 && fcntl(sp->helper_fd, F_SETFL, O_NONBLOCK) < 0)
        r = -errno;
    sp->hello_status = r;
    if (r < 0) {
        reactor_del(sp->r, sp->helper_fd);
        return r;
    }
    sp->st.helper_alive = true;
    return 0;
}

/* take the helper's first word where the engine is first needed */
static void splice_settle(struct splice *sp)
{
    int r;

    if (!sp->hello_pending)
        return;
    r = splice_wait_helper(sp);
    if (r < 0)
        warn("splice forwards are not available (%s): every forward "
             "goes through libslirp, ignoring", strerror(-r));
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
 * Waits (bounded) for the helper's first word if it has not come yet.
 *
 * Return: true while the namespace helper is alive
 */
bool splice_available(struct splice *sp)
{
    if (sp)
        splice_settle(sp);
    return sp && sp->st.helper_alive;
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
 * Arm the timer for the first of: the helper's deadline (the oldest
 * request it has not answered + SPLICE_HELPER_TIMEOUT_MS), a paused
 * listener's retry. A timer armed for later is moved; one armed for
 * earlier stays (splice_on_timer() looks again when it fires).
 */
static void splice_timer_update(struct splice *sp)
{
    struct itimerspec its = { 0 };
    struct splice_listener *ls;
    int64_t next = 0;
    int t, fi;

    for (t = 0; t < 2; t++)
        for (fi = 0; fi < 2; fi++)
            if (sp->asked_ms[t][fi] &&
                (!next || sp->asked_ms[t][fi] + SPLICE_HELPER_TIMEOUT_MS <
                          next))
                next = sp->asked_ms[t][fi] + SPLICE_HELPER_TIMEOUT_MS;
    for (ls = sp->listeners; ls; ls = ls->next)
        if (ls->resume_ms && (!next || ls->resume_ms < next))
            next = ls->resume_ms;
    if (sp->reap_left > 0 &&
        (!next || splice_now_ms() + SPLICE_REAP_MS < next))
        next = splice_now_ms() + SPLICE_REAP_MS;
    if (!next || (sp->timer_ms && sp->timer_ms <= next))
        return;
    its.it_value.tv_sec = next / 1000;
    its.it_value.tv_nsec = (next % 1000) * 1000000;
    if (timerfd_settime(sp->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        sp->timer_ms = next;
}

/* ask the helper for sockets of @type (index @t), family index @fi */
static void splice_ask(struct splice *sp, int t, int fi, int count)
{
    struct splice_msg m = {
        .family = fi ? AF_INET6 : AF_INET,
        .count = count,
        .type = t ? SOCK_DGRAM : SOCK_STREAM,
    };

    /*
     * Owed from now on, whether the send went or not: a helper whose
     * socket does not take a request is as stuck as one that does not
     * answer, and the deadline covers both.
     */
    send(sp->helper_fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
    sp->asked_ms[t][fi] = splice_now_ms();
    sp->asked[t][fi] = count;
    splice_timer_update(sp);
}

static void splice_request(struct splice *sp, int fi)
{
    int count = SPLICE_POOL_MAX - sp->npool[fi];

    if (sp->requested[fi] || !sp->st.helper_alive || count <= 0)
        return;
    sp->requested[fi] = true;
    splice_ask(sp, 0, fi, count);
}

/* give @c a namespace socket and connect it; or queue it for one */
static void splice_conn_start(struct splice *sp, struct splice_conn *c)
{
    int fi = splice_fi(c->guest.ss_family);

    if (!sp->npool[fi]) {
        if (!sp->st.helper_alive) {
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
        splice_request(sp, fi);
        return;
    }
    c->fd[1] = sp->pool[fi][--sp->npool[fi]];
    if (sp->npool[fi] < SPLICE_POOL_LOW)
        splice_request(sp, fi);
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

/*
 * Accept what @ls has queued. A listener that was not readable in the
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
    while (sp->wait_head[fi] && (sp->npool[fi] || !sp->st.helper_alive)) {
        struct splice_conn *c = splice_wait_pop(sp, fi);

        if (c->state == SPLICE_CLOSED) {
            c->lnext = sp->dead;
            sp->dead = c;
            continue;
        }
        splice_conn_start(sp, c);
    }
}

/*
 * The helper is of no more use (@why: it exited, or was given up): new
 * forwards go through libslirp, connections to splice forwards are reset
 * (those that wait now, and new ones), open ones run on. Its socket is
 * closed, so a helper that was only stopped exits when it runs again.
 */
static void splice_helper_gone(struct splice *sp, const char *why)
{
    int t, fi;

    if (!sp->st.helper_alive)
        return;
    sp->st.helper_alive = false;
    warn("splice helper (pid %d) %s: new connections to splice forwards are "
         "reset, new forwards go through libslirp", (int)sp->helper_pid,
         why);
    reactor_close(sp->r, &sp->helper_fd);
    for (t = 0; t < 2; t++)
        for (fi = 0; fi < 2; fi++)
            sp->asked_ms[t][fi] = 0;
    /* its socket closes before it is a zombie: reaped by the timer, if
     * not now (a stopped one exits when it runs again) */
    if (sp->helper_pid > 0 && waitpid(sp->helper_pid, NULL, WNOHANG) > 0)
        sp->helper_reaped = true;
    else if (sp->helper_pid > 0)
        sp->reap_left = SPLICE_REAP_TRIES;
    splice_timer_update(sp);
    splice_serve_waiting(sp, 0);
    splice_serve_waiting(sp, 1);
    if (sp->on_dgram)
        sp->on_dgram(sp->client);   /* splice_take_dgram() says -EHOSTDOWN */
}

/*
 * Is @fd what the helper was asked for: a socket of @family and @type, TCP
 * or UDP? It is made non-blocking here: nothing the helper set is trusted
 * (a blocking socket would stall the whole daemon in splice()).
 *
 * Return: 0, or a negative errno that says what is wrong
 */
static int splice_check_sock(int fd, int family, int type)
{
    int want[3] = { family, type, type == SOCK_STREAM ? IPPROTO_TCP :
                                                       IPPROTO_UDP };
    static const int opt[3] = { SO_DOMAIN, SO_TYPE, SO_PROTOCOL };
    static const int bad[3] = { -EAFNOSUPPORT, -EPROTOTYPE,
                                -EPROTONOSUPPORT };
    struct stat st;
    int i;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISSOCK(st.st_mode))
        return -ENOTSOCK;
    for (i = 0; i < 3; i++) {
        int v = -1;
        socklen_t len = sizeof(v);

        if (getsockopt(fd, SOL_SOCKET, opt[i], &v, &len) < 0)
            return -errno;
        if (v != want[i])
            return bad[i];
    }
    return fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

/*
 * Check an answer of the helper and its @n descriptors @fds.
 *
 * Return: NULL if it is one that was asked for and every descriptor is a
 *	   socket of the kind asked for (non-blocking now), else what is
 *	   wrong (*@ret_err: the errno, or 0)
 */
static const char *splice_check_answer(struct splice *sp,
                                       const struct splice_msg *m,
                                       ssize_t len, int flags, const int *fds,
                                       size_t n, int *ret_err)
{
    int t = m->type == SOCK_DGRAM, fi = splice_fi(m->family);
    size_t i;

    *ret_err = 0;
    if (len != sizeof(*m) || (m->family != AF_INET && m->family != AF_INET6) ||
        (m->type != SOCK_STREAM && m->type != SOCK_DGRAM))
        return "sent a malformed answer";
    if (!sp->asked_ms[t][fi])
        return "sent an answer nobody asked for";
    if ((flags & MSG_CTRUNC) || m->count < 0 || (size_t)m->count != n ||
        n > (size_t)sp->asked[t][fi])
        return "sent more descriptors than asked for, or fewer than it said";
    for (i = 0; i < n; i++) {
        *ret_err = splice_check_sock(fds[i], m->family, m->type);
        if (*ret_err < 0)
            return "sent a descriptor that is not the socket asked for";
    }
    return NULL;
}

/*
 * Give the helper up: it answered with something it was not asked for,
 * or did not answer in time. Whatever it does from now on is ignored.
 */
static void splice_helper_fail(struct splice *sp, const char *why, int err)
{
    char buf[160];

    if (err)
        snprintf(buf, sizeof(buf), "%s (%s), dropped; given up", why,
                 strerror(-err));
    else
        snprintf(buf, sizeof(buf), "%s; given up", why);
    splice_helper_gone(sp, buf);
}

void splice_on_helper(struct splice *sp)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * SPLICE_FDS_PER_MSG)];
        struct cmsghdr align;
    } u;
    struct splice_msg m = { 0 };
    struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
    };
    struct cmsghdr *cmsg;
    int fds[SPLICE_FDS_PER_MSG];
    size_t nfd = 0, i;
    const char *why;
    bool dgram;
    ssize_t n;
    int fi, err;

    if (sp->hello_pending) {
        /* the first word: readable now, so this does not block */
        splice_settle(sp);
        return;
    }
    if (!sp->st.helper_alive)
        return;
    n = recvmsg(sp->helper_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    err = n < 0 ? errno : 0;
    for (cmsg = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; cmsg;
         cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        size_t k;

        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
            continue;
        k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < k; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(fd));
            if (nfd < SPLICE_FDS_PER_MSG)
                fds[nfd++] = fd;
            else
                close(fd);
        }
    }
    if (n <= 0) {
        for (i = 0; i < nfd; i++)
            close(fds[i]);
        /* a peer that is gone: EOF, or ECONNRESET if it was killed with
         * a message unread */
        splice_helper_gone(sp, n == 0 || err == ECONNRESET ?
                               "exited" : "cannot be read from");
        return;
    }
    why = splice_check_answer(sp, &m, n, msg.msg_flags, fds, nfd, &err);
    if (why) {
        for (i = 0; i < nfd; i++)
            close(fds[i]);
        splice_helper_fail(sp, why, err);
        return;
    }
    fi = splice_fi(m.family);
    dgram = m.type == SOCK_DGRAM;
    sp->asked_ms[dgram][fi] = 0;
    for (i = 0; i < nfd; i++) {
        if (dgram && sp->ndpool[fi] < SPLICE_POOL_MAX) {
            sp->dpool[fi][sp->ndpool[fi]++] = fds[i];
        } else if (!dgram && sp->npool[fi] < SPLICE_POOL_MAX) {
            if (m.cc_unset > 0)
                splice_local_cc(fds[i]);    /* as the helper could not */
            sp->pool[fi][sp->npool[fi]++] = fds[i];
        } else {
            close(fds[i]);
        }
    }
    if (dgram) {
        sp->drequested[fi] = false;
        if (sp->on_dgram)
            sp->on_dgram(sp->client);
        return;
    }
    sp->requested[fi] = false;
    if (m.status < 0 && !sp->npool[fi]) {
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
    if (sp->npool[fi] < SPLICE_POOL_LOW || sp->wait_head[fi])
        splice_request(sp, fi);
}

/* the helper's deadline, and listeners whose rest is over */
void splice_on_timer(struct splice *sp)
{
    struct splice_listener *ls;
    int64_t now = splice_now_ms();
    uint64_t v;
    int t, fi;

    if (read(sp->timerfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    sp->timer_ms = 0;
    for (t = 0; t < 2; t++)
        for (fi = 0; fi < 2; fi++)
            if (sp->st.helper_alive && sp->asked_ms[t][fi] &&
                now - sp->asked_ms[t][fi] >= SPLICE_HELPER_TIMEOUT_MS) {
                char why[96];

                snprintf(why, sizeof(why), "did not answer in %d ms; "
                         "given up", SPLICE_HELPER_TIMEOUT_MS);
                splice_helper_gone(sp, why);
            }
    if (sp->reap_left > 0) {
        sp->reap_left--;
        if (waitpid(sp->helper_pid, NULL, WNOHANG) != 0) {
            sp->helper_reaped = true;
            sp->reap_left = 0;
        }
    }
    for (ls = sp->listeners; ls; ls = ls->next) {
        if (!ls->resume_ms || ls->resume_ms > now)
            continue;
        ls->resume_ms = 0;
        reactor_add(sp->r, ls->fd, EPOLLIN, &ls->ref);
    }
    splice_timer_update(sp);
}

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
 * Return: 0; -EAFNOSUPPORT for another family; -EHOSTDOWN if the helper is
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

    if ((host->sa_family != AF_INET && host->sa_family != AF_INET6) ||
        (guest->sa_family != AF_INET && guest->sa_family != AF_INET6) ||
        host_len > sizeof(struct sockaddr_storage) ||
        guest_len > sizeof(struct sockaddr_storage))
        return -EAFNOSUPPORT;
    if (!splice_available(sp))
        return -EHOSTDOWN;
    fd = socket(host->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        return -errno;
    /* accepted sockets inherit it: one setsockopt less per connection */
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
        return -errno;
    if (host->sa_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        return -errno;
    /* on loopback every client is local: accepted sockets inherit it */
    if (util_addr_is_loopback(host))
        splice_local_cc(fd);
    if (bind(fd, host, host_len) < 0 || listen(fd, SPLICE_LISTEN_BACKLOG) < 0)
        return -errno;
    memset(ret_bound, 0, sizeof(*ret_bound));
    *ret_len = sizeof(*ret_bound);
    if (getsockname(fd, (struct sockaddr *)ret_bound, ret_len) < 0)
        return -errno;

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
    if (sp->npool[splice_fi(guest->sa_family)] < SPLICE_POOL_LOW)
        splice_request(sp, splice_fi(guest->sa_family));
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
    splice_settle(sp);
    *ret = sp->st;
    ret->pool_v4 = (uint64_t)sp->npool[0];
    ret->pool_v6 = (uint64_t)sp->npool[1];
    ret->dpool_v4 = (uint64_t)sp->ndpool[0];
    ret->dpool_v6 = (uint64_t)sp->ndpool[1];
}

/* ------------------------------------------------ other modules' fds */

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
 * splice_set_client() - the module that uses datagram sockets (udprelay.c)
 * @sp:		the engine
 * @on_dgram:	called when datagram sockets arrived after
 *		splice_take_dgram() said -EAGAIN, or the helper died
 * @arg:	its argument
 */
void splice_set_client(struct splice *sp, void (*on_dgram)(void *arg),
                       void *arg)
{
    sp->on_dgram = on_dgram;
    sp->client = arg;
}

static void splice_request_dgram(struct splice *sp, int fi)
{
    int count = SPLICE_POOL_MAX - sp->ndpool[fi];

    if (sp->drequested[fi] || !sp->st.helper_alive || count <= 0)
        return;
    sp->drequested[fi] = true;
    splice_ask(sp, 1, fi, count);
}

/**
 * splice_take_dgram() - an unconnected UDP socket made inside the namespace
 * @sp:		the engine
 * @family:	AF_INET or AF_INET6
 *
 * From a pool like the TCP sockets'; below SPLICE_POOL_LOW more are asked
 * for. splice_prepare_dgram() fills the pool ahead of the first use.
 *
 * Return: the socket (non-blocking, close-on-exec; the caller owns it);
 *	   -EAGAIN if the pool is empty (more are on the way: the
 *	   on_dgram hook is called when they arrive); -EHOSTDOWN if the
 *	   helper is gone; -EAFNOSUPPORT for another family
 */
int splice_take_dgram(struct splice *sp, int family)
{
    int fi = splice_fi(family), fd;

    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if (!sp->ndpool[fi]) {
        if (!sp->st.helper_alive)
            return -EHOSTDOWN;
        splice_request_dgram(sp, fi);
        return -EAGAIN;
    }
    fd = sp->dpool[fi][--sp->ndpool[fi]];
    if (sp->ndpool[fi] < SPLICE_POOL_LOW)
        splice_request_dgram(sp, fi);
    return fd;
}

/**
 * splice_prepare_dgram() - fill the datagram pool of @family ahead of use
 * @sp:		the engine
 * @family:	AF_INET or AF_INET6
 */
void splice_prepare_dgram(struct splice *sp, int family)
{
    if (sp->ndpool[splice_fi(family)] < SPLICE_POOL_LOW)
        splice_request_dgram(sp, splice_fi(family));
}

/**
 * splice_free() - close every connection, listener and pooled socket, and
 *		   let the helper go
 * @sp:	the engine, or NULL
 *
 * Open connections are closed (their peers see a FIN, or a reset where
 * data was still in flight). The helper exits when its socket closes; it
 * is reaped here if it has already gone, else by whoever inherits it.
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
        for (i = 0; i < sp->npool[fi]; i++)
            close(sp->pool[fi][i]);
        for (i = 0; i < sp->ndpool[fi]; i++)
            close(sp->dpool[fi][i]);
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
    reactor_close(sp->r, &sp->helper_fd);
    if (sp->helper_pid > 0 && !sp->helper_reaped) {
        /* EOF on its socket ends it; reap it if it is quick about it */
        for (i = 0; i < 50; i++) {
            if (waitpid(sp->helper_pid, NULL, WNOHANG) != 0)
                break;
            poll(NULL, 0, 2);
        }
    }
    free(sp);
}
