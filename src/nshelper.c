/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nshelper.c - the namespace helper: a child in the target's namespaces that makes sockets there, its pools and its channel */
/*
 * DOC: Theory of Operation
 *
 * Sockets in the namespace (for splice.c's TCP forwards and udprelay.c's
 * UDP ones; routing is decided by a socket's network namespace, fixed at
 * socket() time) come from a long-lived child: the very child that made
 * the tap inside the target's user and network namespaces before any
 * isolation stage goes on as the helper once the tap is sent
 * (ns_call_then() with nshelper_run()), so the daemon forks once, and its
 * start does not wait for the helper at all (its first word is taken by
 * the main loop, or waited for where it is first needed: nshelper_settle()).
 * It closes every other fd, renames itself ("slirpd: splice helper", so
 * nobody looking for the daemon by its argv takes it for the daemon), sets
 * no_new_privs, drops every capability and loads its own small seccomp
 * filter (the SECCOMP_HELPER lines of seccomp_rules.h: socket for
 * AF_INET/AF_INET6, setsockopt, recvmsg/sendmsg, close, exit), all before
 * its first word; if any of that fails, the word says so and it exits
 * (every forward then goes through libslirp). It then answers requests
 * "N sockets of family F and type T" (SOCK_STREAM, SOCK_DGRAM) over a
 * SOCK_SEQPACKET socketpair with the sockets (SCM_RIGHTS), unconnected. It
 * exits when the socketpair closes (the daemon is gone: EOF, and
 * PR_SET_PDEATHSIG). A child, not a thread: the daemon must stay
 * single-threaded (libslirp; setns() into a user namespace), a thread
 * would have to join the namespace before the sandbox drops the
 * capabilities and would then share the daemon's filter and credentials,
 * and a separate process can be locked down further than the daemon.
 *
 * The pools. The daemon keeps up to NSHELPER_POOL_MAX unconnected
 * namespace sockets per type and family and asks the helper for more
 * (asynchronously) when fewer than NSHELPER_POOL_LOW are left, so a new
 * connection costs no round trip. nshelper_take() says -EAGAIN when a pool
 * is empty; the answer, when it comes, is an event (struct nshelper_event)
 * that dispatch_reactor() passes to the pools' users.
 *
 * The helper is not trusted: it lives in the target's namespaces, where
 * the container can signal or ptrace it. Every answer must be one that was
 * asked for, one struct nshelper_msg exactly (fdpass.c carries both
 * directions and closes what a refused message carried), with no more
 * descriptors than asked for; each must be a socket of the family, type
 * and protocol asked for (SO_DOMAIN, SO_TYPE, SO_PROTOCOL: a descriptor
 * that is no socket fails the first), and the daemon makes each one
 * non-blocking itself. That check runs when a socket is taken from the
 * pool (nshelper_take()), not when the answer comes: four system calls per
 * socket, for the 32 of an answer, held the loop for about 150 us right
 * after the first forward was added, and an API request that came then
 * (the next add_hostfwd) waited for them. A helper that answers anything
 * else, sent a socket of another kind, owes an answer for
 * NSHELPER_TIMEOUT_MS (stopped, stuck) or exits is given up, with a log
 * line: its socket is closed (a stopped one exits when it runs again) and
 * it is reaped (by the timer, if not at once); the event says
 * NSHELPER_EV_GONE (from the timer, at once, when the bad socket was
 * found by nshelper_take()), and the users reset what waits for its
 * sockets. Since the helper may keep a copy of
 * any socket it sent, every user takes its fds out of the reactor before
 * closing them (reactor.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdclose.h"
#include "fdpass.h"
#include "log.h"
#include "nshelper.h"
#include "reactor.h"
#include "util.h"

#define NSHELPER_HELLO_MS 5000      /* the helper's first word */
#define NSHELPER_REAP_MS 100        /* a helper that is gone: reap it ... */
#define NSHELPER_REAP_TRIES 100     /* ... for up to 10 s */

_Static_assert(NSHELPER_FDS_PER_MSG <= FDPASS_MAX,
               "an answer's sockets fit in one fdpass message");

struct nshelper {
    struct reactor *r;
    int fd;                         /* the daemon's end of the socketpair */
    pid_t pid;
    struct reactor_ref ref;
    int timerfd;                    /* the deadline; reaping */
    struct reactor_ref timer_ref;
    int64_t timer_ms;               /* when it fires (0: not armed) */
    /* [t]: 0 SOCK_STREAM, 1 SOCK_DGRAM; [fi]: 0 AF_INET, 1 AF_INET6 */
    int pool[2][2][NSHELPER_POOL_MAX];
    int npool[2][2];
    bool requested[2][2];
    int64_t asked_ms[2][2];         /* what the helper owes since (0: none) */
    int asked[2][2];                /* how many sockets, at most */
    bool alive;                     /* it answers */
    bool hello_pending;             /* the first word not taken yet */
    bool reaped;                    /* it is gone and reaped */
    int reap_left;                  /* tries left (NSHELPER_REAP_MS apart) */
    bool gone_unsaid;               /* given up in nshelper_take(): the
                                     * timer tells the users */
    int hello_status;               /* what it said: 0 or a negative errno */
};

static int nshelper_fi(int family)
{
    return family == AF_INET6 ? 1 : 0;
}

static int nshelper_ti(int type)
{
    return type == SOCK_DGRAM ? 1 : 0;
}

static int64_t nshelper_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------- the child side */

/*
 * Name the helper in ps and /proc/PID/cmdline ("slirpd: splice helper"),
 * so that nobody takes it for the daemon (callers look for the daemon by
 * its argv). The argument area is overwritten in place, as setproctitle().
 */
static void nshelper_rename(void)
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

/* one line of the helper's filter: any arguments (arg -1), or (argument
 * arg & mask) == value */
struct nshelper_rule {
    const char *name;
    int arg;
    uint64_t mask, value;
};

static const struct nshelper_rule nshelper_rules[] = {
#define SECCOMP_ALLOW(n)
#define SECCOMP_ALLOW_ARG(n, a, m, v)
#define SECCOMP_ALLOW_SELF(n, a)
#define SECCOMP_ENOSYS(n)
#define SECCOMP_ESCAPE(n, e)
#define SECCOMP_ESCAPE_ARG(n, a, m, v, e)
#define SECCOMP_HELPER(n) { #n, -1, 0, 0 },
#define SECCOMP_HELPER_ARG(n, a, m, v) { #n, a, m, v },
#include "seccomp_rules.h"
};

/*
 * No capabilities, no new privileges, and only what the helper calls. A
 * helper that cannot have all three must not run: it lives in the
 * target's namespaces with the daemon's uid for the daemon's life.
 *
 * Return: 0 or a negative errno
 */
static int nshelper_lockdown(void)
{
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
    for (i = 0; i < ARRAY_SIZE(nshelper_rules); i++) {
        const struct nshelper_rule *rl = &nshelper_rules[i];
        int nr = seccomp_syscall_resolve_name(rl->name);

        if (nr == __NR_SCMP_ERROR)
            continue;
        if (rl->arg < 0) {
            seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        } else {
            struct scmp_arg_cmp cmp = {
                .arg = (unsigned int)rl->arg,
                .op = SCMP_CMP_MASKED_EQ,
                .datum_a = rl->mask,
                .datum_b = rl->value,
            };

            seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
        }
    }
    /* not released: free() after the filter is not worth a rule */
    r = seccomp_load(ctx);
    return r < 0 ? r : 0;
}

/**
 * nshelper_run() - become the namespace helper (an ns_then_fn)
 * @sock:	this end of the socketpair to the daemon
 * @arg:	unused
 *
 * For a child that is inside the target's namespaces already: the tap's
 * child of ns_call_then() goes on as the helper (one fork for both).
 * Never returns.
 */
void nshelper_run(int sock, void *arg)
{
    int keep[1] = { sock };
    struct nshelper_msg m = { 0 };
    sigset_t none;
    int fds[NSHELPER_FDS_PER_MSG];
    int i, j, r;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fdclose_except(keep, 1);    /* the namespace fds, the tap's */
    nshelper_rename();
    /* the first word, once locked down: the daemon takes it whenever it
     * comes (it only needs it before the first splice forward). A helper
     * that could not lock itself down says why and exits: the daemon then
     * carries every forward through libslirp */
    r = nshelper_lockdown();
    if (r < 0)
        warn("splice helper: cannot lock itself down (%s): exiting",
             strerror(-r));
    m.status = r;
    if (fdpass_sendmsg(sock, &m, sizeof(m), NULL, 0, 0) < 0 || r < 0)
        _exit(1);

    for (;;) {
        struct nshelper_msg req;
        int want;

        r = fdpass_recvmsg(sock, &req, sizeof(req), NULL, 0, NULL, 0);
        if (r < 0 && r != -EMSGSIZE && r != -EPROTO)
            _exit(0);   /* the daemon is gone */
        if (r < 0 ||
            (req.family != AF_INET && req.family != AF_INET6) ||
            (req.type != SOCK_STREAM && req.type != SOCK_DGRAM))
            continue;
        want = req.count < 1 ? 1 : req.count > NSHELPER_FDS_PER_MSG ?
               NSHELPER_FDS_PER_MSG : req.count;
        m = (struct nshelper_msg){ .family = req.family, .type = req.type };
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
                if (util_local_cc(fds[i]) < 0)  /* a path inside the namespace */
                    m.cc_unset++;
            }
        }
        m.count = i;
        if (fdpass_sendmsg(sock, &m, sizeof(m), fds, (size_t)i, 0) < 0)
            _exit(1);
        for (j = 0; j < i; j++)
            close(fds[j]);
    }
}

/* ------------------------------------------------------ the daemon side */

/*
 * Wait (bounded) for the helper's first word: it joined the namespaces.
 * A receive timeout, not poll(): the daemon's first poll() is its loop's.
 */
static int nshelper_hello(int fd)
{
    struct timeval tv = { .tv_sec = NSHELPER_HELLO_MS / 1000 };
    struct nshelper_msg m;
    int r;

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
        return -errno;
    r = fdpass_recvmsg(fd, &m, sizeof(m), NULL, 0, NULL, 0);
    if (r == -EAGAIN)
        return -ETIMEDOUT;
    if (r == -EPIPE || r == -EMSGSIZE || r == -EPROTO)
        return -ECHILD;
    return r < 0 ? r : m.status;
}

/**
 * nshelper_new() - the daemon's side of a helper that runs already
 * @r:		the reactor its socket and timer go in; must outlive it
 * @sock:	the daemon's end of the socketpair to it (owned from now on,
 *		also on failure)
 * @pid:	the helper (0: not a child of ours; it is not reaped)
 * @ret:	the helper; free with nshelper_free()
 *
 * Does not wait for the helper's first word (nothing needs the helper
 * before the first forward: the ready byte does not wait for it): the main
 * loop takes the word when it comes, and nshelper_available() waits for
 * it, bounded, where it is needed first (nshelper_wait()).
 *
 * Return: 0, -ENOMEM, or the errno of a failed timerfd or epoll call
 */
int nshelper_new(struct reactor *r, int sock, pid_t pid,
                 struct nshelper **ret)
{
    struct nshelper *h;
    int e;

    *ret = NULL;
    h = calloc(1, sizeof(*h));
    if (!h) {
        close(sock);
        return -ENOMEM;
    }
    h->r = r;
    h->fd = sock;
    h->pid = pid;
    h->ref = REACTOR_REF(EVT_NSHELPER, 0);
    h->timer_ref = REACTOR_REF(EVT_NSHELPER_TIMER, 0);
    h->hello_pending = true;
    h->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (h->timerfd < 0) {
        e = -errno;
        goto fail;
    }
    e = reactor_add(r, h->fd, EPOLLIN, &h->ref);
    if (e == 0)
        e = reactor_add(r, h->timerfd, EPOLLIN, &h->timer_ref);
    if (e < 0)
        goto fail;
    *ret = h;
    return 0;
fail:
    nshelper_free(h);
    return e;
}

/**
 * nshelper_wait() - wait (bounded) for the helper's first word: it joined
 *		     the namespace
 * @h:	from nshelper_new()
 *
 * Return: 0 (also when it came before); the errno of the helper joining
 *	   the namespaces or locking itself down, -ETIMEDOUT if it did not
 *	   answer in time, -ECHILD if it is gone. On an error the helper
 *	   stays unavailable (nshelper_available() is false) and every
 *	   forward goes through libslirp.
 */
int nshelper_wait(struct nshelper *h)
{
    int r;

    if (!h->hello_pending)
        return h->hello_status;
    h->hello_pending = false;
    r = nshelper_hello(h->fd);
    if (r == 0 && fcntl(h->fd, F_SETFL, O_NONBLOCK) < 0)
        r = -errno;
    h->hello_status = r;
    if (r < 0) {
        reactor_del(h->r, h->fd);
        return r;
    }
    h->alive = true;
    return 0;
}

/* take the helper's first word where it is first needed */
static void nshelper_settle(struct nshelper *h)
{
    int r;

    if (!h->hello_pending)
        return;
    r = nshelper_wait(h);
    if (r < 0)
        warn("splice forwards are not available (%s): every forward "
             "goes through libslirp, ignoring", strerror(-r));
}

/**
 * nshelper_available() - can the helper make sockets?
 * @h:	the helper, or NULL
 *
 * Waits (bounded) for the helper's first word if it has not come yet.
 *
 * Return: true while the helper is alive
 */
bool nshelper_available(struct nshelper *h)
{
    if (h)
        nshelper_settle(h);
    return h && h->alive;
}

/*
 * Arm the timer for the first of: the helper's deadline (the oldest
 * request it has not answered + NSHELPER_TIMEOUT_MS), the next try to
 * reap it. A timer armed for later is moved; one armed for earlier stays
 * (nshelper_on_timer() looks again when it fires).
 */
static void nshelper_timer_update(struct nshelper *h)
{
    struct itimerspec its = { 0 };
    int64_t next = 0;
    int t, fi;

    for (t = 0; t < 2; t++)
        for (fi = 0; fi < 2; fi++)
            if (h->asked_ms[t][fi] &&
                (!next || h->asked_ms[t][fi] + NSHELPER_TIMEOUT_MS < next))
                next = h->asked_ms[t][fi] + NSHELPER_TIMEOUT_MS;
    if (h->reap_left > 0 &&
        (!next || nshelper_now_ms() + NSHELPER_REAP_MS < next))
        next = nshelper_now_ms() + NSHELPER_REAP_MS;
    if (h->gone_unsaid)
        next = nshelper_now_ms();
    if (!next || (h->timer_ms && h->timer_ms <= next))
        return;
    its.it_value.tv_sec = next / 1000;
    its.it_value.tv_nsec = (next % 1000) * 1000000;
    if (timerfd_settime(h->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        h->timer_ms = next;
}

/* ask the helper for sockets of type index @t, family index @fi, unless
 * asked already */
static void nshelper_request(struct nshelper *h, int t, int fi)
{
    int count = NSHELPER_POOL_MAX - h->npool[t][fi];
    struct nshelper_msg m = {
        .family = fi ? AF_INET6 : AF_INET,
        .count = count,
        .type = t ? SOCK_DGRAM : SOCK_STREAM,
    };

    if (h->requested[t][fi] || !h->alive || count <= 0)
        return;
    h->requested[t][fi] = true;
    /*
     * Owed from now on, whether the send went or not: a helper whose
     * socket does not take a request is as stuck as one that does not
     * answer, and the deadline covers both.
     */
    (void)fdpass_sendmsg(h->fd, &m, sizeof(m), NULL, 0, FDPASS_DONTWAIT);
    h->asked_ms[t][fi] = nshelper_now_ms();
    h->asked[t][fi] = count;
    nshelper_timer_update(h);
}

static int nshelper_check_sock(int fd, int family, int type);
static void nshelper_fail(struct nshelper *h, const char *reason, int err,
                          struct nshelper_event *ev);

/**
 * nshelper_take() - an unconnected socket made inside the namespace
 * @h:		the helper
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @family:	AF_INET or AF_INET6
 *
 * From the pool of @type and @family; below NSHELPER_POOL_LOW more are
 * asked for. nshelper_prepare() fills a pool ahead of its first use.
 *
 * Return: the socket (non-blocking, close-on-exec; the caller owns it; a
 *	   TCP one has TCP_NODELAY); -EAGAIN if the pool is empty (more are
 *	   on the way: an event of nshelper_on_ready() says when they came);
 *	   -ENOTCONN if the helper is gone, or is given up now because the
 *	   socket is not of the kind asked for (the event of the next
 *	   nshelper_on_timer() says so); -EAFNOSUPPORT for another family
 */
int nshelper_take(struct nshelper *h, int type, int family)
{
    int t = nshelper_ti(type), fi = nshelper_fi(family), fd, r;

    if (family != AF_INET && family != AF_INET6)
        return -EAFNOSUPPORT;
    if (!h->npool[t][fi]) {
        if (!h->alive)
            return -ENOTCONN;
        nshelper_request(h, t, fi);
        return -EAGAIN;
    }
    fd = h->pool[t][fi][--h->npool[t][fi]];
    r = nshelper_check_sock(fd, family, type);
    if (r < 0) {
        struct nshelper_event ev = { 0 };

        close(fd);
        h->gone_unsaid = h->alive;
        nshelper_fail(h, "sent a descriptor that is not the socket asked "
                      "for", r, &ev);
        return -ENOTCONN;
    }
    if (h->npool[t][fi] < NSHELPER_POOL_LOW)
        nshelper_request(h, t, fi);
    return fd;
}

/**
 * nshelper_prepare() - fill the pool of @type and @family if it is low
 * @h:		the helper
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @family:	AF_INET or AF_INET6
 */
void nshelper_prepare(struct nshelper *h, int type, int family)
{
    int t = nshelper_ti(type), fi = nshelper_fi(family);

    if (h->npool[t][fi] < NSHELPER_POOL_LOW)
        nshelper_request(h, t, fi);
}

/**
 * nshelper_pooled() - sockets in the pool of @type and @family now
 * @h:		the helper
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @family:	AF_INET or AF_INET6
 *
 * Return: the count
 */
size_t nshelper_pooled(const struct nshelper *h, int type, int family)
{
    return (size_t)h->npool[nshelper_ti(type)][nshelper_fi(family)];
}

/*
 * The helper is of no more use (@reason: it exited, or was given up): new
 * forwards go through libslirp, and the event tells the pools' users
 * (connections waiting for its sockets are reset). Its socket is closed,
 * so a helper that was only stopped exits when it runs again.
 */
static void nshelper_gone(struct nshelper *h, const char *reason,
                          struct nshelper_event *ev)
{
    int t, fi;

    if (!h->alive)
        return;
    h->alive = false;
    warn("splice helper (pid %d) %s: new connections to splice forwards are "
         "reset, new forwards go through libslirp", (int)h->pid, reason);
    reactor_close(h->r, &h->fd);
    for (t = 0; t < 2; t++)
        for (fi = 0; fi < 2; fi++)
            h->asked_ms[t][fi] = 0;
    /* its socket closes before it is a zombie: reaped by the timer, if
     * not now (a stopped one exits when it runs again) */
    if (h->pid > 0 && waitpid(h->pid, NULL, WNOHANG) > 0)
        h->reaped = true;
    else if (h->pid > 0)
        h->reap_left = NSHELPER_REAP_TRIES;
    nshelper_timer_update(h);
    ev->what |= NSHELPER_EV_GONE;
}

/*
 * Is @fd what the helper was asked for: a socket of @family and @type, TCP
 * or UDP? It is made non-blocking here: nothing the helper set is trusted
 * (a blocking socket would stall the whole daemon in splice()).
 *
 * Return: 0, or a negative errno that says what is wrong
 */
static int nshelper_check_sock(int fd, int family, int type)
{
    int want[3] = { family, type, type == SOCK_STREAM ? IPPROTO_TCP :
                                                       IPPROTO_UDP };
    static const int opt[3] = { SO_DOMAIN, SO_TYPE, SO_PROTOCOL };
    static const int bad[3] = { -EAFNOSUPPORT, -EPROTOTYPE,
                                -EPROTONOSUPPORT };
    int i;

    /* (getsockopt() fails with ENOTSOCK on anything else) */
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
 * Check an answer of the helper that came with @n descriptors; @recv_err is
 * what fdpass_recvmsg() said of it: 0, -EMSGSIZE (@m is not whole) or
 * -EPROTO (more descriptors came than one answer holds: none kept).
 *
 * Return: NULL if it is one that was asked for, with as many descriptors
 *	   as it says (each is checked when taken: nshelper_take()), else
 *	   what is wrong (*@ret_err: the errno, or 0)
 */
static const char *nshelper_check_answer(struct nshelper *h,
                                         const struct nshelper_msg *m,
                                         int recv_err, size_t n, int *ret_err)
{
    int t = nshelper_ti(m->type), fi = nshelper_fi(m->family);

    *ret_err = 0;
    if (recv_err == -EMSGSIZE || (m->family != AF_INET && m->family != AF_INET6) ||
        (m->type != SOCK_STREAM && m->type != SOCK_DGRAM))
        return "sent a malformed answer";
    if (!h->asked_ms[t][fi])
        return "sent an answer nobody asked for";
    if (recv_err == -EPROTO || m->count < 0 || (size_t)m->count != n ||
        n > (size_t)h->asked[t][fi])
        return "sent more descriptors than asked for, or fewer than it said";
    /* each descriptor: when it is taken (nshelper_take()) */
    return NULL;
}

/*
 * Give the helper up: it answered with something it was not asked for,
 * or did not answer in time. Whatever it does from now on is ignored.
 */
static void nshelper_fail(struct nshelper *h, const char *reason, int err,
                          struct nshelper_event *ev)
{
    char buf[160];

    if (err)
        snprintf(buf, sizeof(buf), "%s (%s), dropped; given up", reason,
                 strerror(-err));
    else
        snprintf(buf, sizeof(buf), "%s; given up", reason);
    nshelper_gone(h, buf, ev);
}

/**
 * nshelper_on_ready() - take what the helper sent (its first word, or one
 *			 answer)
 * @h:		the helper
 * @ret:	what changed for the pools' users (what 0: nothing)
 */
void nshelper_on_ready(struct nshelper *h, struct nshelper_event *ret)
{
    struct nshelper_msg m = { 0 };
    int fds[NSHELPER_FDS_PER_MSG];
    size_t nfd = 0, i;
    const char *reason;
    int t, fi, r, err;

    *ret = (struct nshelper_event){ 0 };
    if (h->hello_pending) {
        /* the first word: readable now, so this does not block */
        nshelper_settle(h);
        return;
    }
    if (!h->alive)
        return;
    r = fdpass_recvmsg(h->fd, &m, sizeof(m), fds, NSHELPER_FDS_PER_MSG, &nfd,
                       FDPASS_DONTWAIT);
    if (r == -EAGAIN)
        return;
    if (r < 0 && r != -EMSGSIZE && r != -EPROTO) {
        /* a peer that is gone: EOF, or ECONNRESET if it was killed with
         * a message unread */
        nshelper_gone(h, r == -EPIPE || r == -ECONNRESET ?
                             "exited" : "cannot be read from", ret);
        return;
    }
    reason = nshelper_check_answer(h, &m, r, nfd, &err);
    if (reason) {
        for (i = 0; i < nfd; i++)
            close(fds[i]);
        nshelper_fail(h, reason, err, ret);
        return;
    }
    t = nshelper_ti(m.type);
    fi = nshelper_fi(m.family);
    h->asked_ms[t][fi] = 0;
    for (i = 0; i < nfd; i++) {
        if (h->npool[t][fi] < NSHELPER_POOL_MAX) {
            if (!t && m.cc_unset > 0)
                util_local_cc(fds[i]);  /* as the helper could not */
            h->pool[t][fi][h->npool[t][fi]++] = fds[i];
        } else {
            close(fds[i]);
        }
    }
    h->requested[t][fi] = false;
    ret->what = t ? NSHELPER_EV_DGRAM : NSHELPER_EV_STREAM;
    ret->family = m.family;
    ret->status = m.status;
}

/**
 * nshelper_on_timer() - the helper's deadline, and reaping a gone one
 * @h:		the helper
 * @ret:	what changed for the pools' users (what 0: nothing)
 */
void nshelper_on_timer(struct nshelper *h, struct nshelper_event *ret)
{
    int64_t now = nshelper_now_ms();
    uint64_t v;
    int t, fi;

    *ret = (struct nshelper_event){ 0 };
    if (read(h->timerfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    h->timer_ms = 0;
    if (h->gone_unsaid) {
        ret->what |= NSHELPER_EV_GONE;
        h->gone_unsaid = false;
    }
    for (t = 0; t < 2; t++)
        for (fi = 0; fi < 2; fi++)
            if (h->alive && h->asked_ms[t][fi] &&
                now - h->asked_ms[t][fi] >= NSHELPER_TIMEOUT_MS) {
                char reason[96];

                snprintf(reason, sizeof(reason), "did not answer in %d ms; "
                         "given up", NSHELPER_TIMEOUT_MS);
                nshelper_gone(h, reason, ret);
            }
    if (h->reap_left > 0) {
        h->reap_left--;
        if (waitpid(h->pid, NULL, WNOHANG) != 0) {
            h->reaped = true;
            h->reap_left = 0;
        }
    }
    nshelper_timer_update(h);
}

/**
 * nshelper_free() - close the pools and let the helper go
 * @h:	the helper, or NULL
 *
 * The helper exits when its socket closes; it is reaped here if it is
 * quick about it, else by whoever inherits it.
 */
void nshelper_free(struct nshelper *h)
{
    int t, fi, i;

    if (!h)
        return;
    for (t = 0; t < 2; t++)
        for (fi = 0; fi < 2; fi++)
            for (i = 0; i < h->npool[t][fi]; i++)
                close(h->pool[t][fi][i]);
    reactor_close(h->r, &h->timerfd);
    reactor_close(h->r, &h->fd);
    if (h->pid > 0 && !h->reaped) {
        /* EOF on its socket ends it; reap it if it is quick about it */
        for (i = 0; i < 50; i++) {
            if (waitpid(h->pid, NULL, WNOHANG) != 0)
                break;
            poll(NULL, 0, 2);
        }
    }
    free(h);
}
