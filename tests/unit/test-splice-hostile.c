/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-splice-hostile.c - the splice engine and the UDP relay against a namespace helper that misbehaves */
/*
 * The helper lives in the target's namespaces, where a process of the
 * container may ptrace or signal it: it is not trusted. Here the test
 * plays the helper itself on the other end of the engine's socketpair (a
 * "fake" answering the requests from the test's own loop) and misbehaves
 * on purpose: it keeps a duplicate of every socket it sends, sends
 * blocking sockets, sends a file, a socket of another type, family or
 * domain, more descriptors than asked for, an answer longer than the
 * protocol's, or answers what nobody asked.
 * The real helper (ns_call_then(), as the daemon starts it) is stopped
 * (SIGSTOP) and killed; one whose seccomp filter cannot be loaded must not
 * run. A listener whose accept() runs out of fds must not spin.
 *
 * Each case checks that the engine logs, gives the helper up where it
 * must, resets the clients it cannot serve instead of holding them, lets
 * new forwards go through libslirp (fwd_choose_path()), and that nothing
 * of a freed connection or flow stays in the epoll set. As test-splice.c,
 * the process runs in a private network namespace whose loopback is both
 * the host and the target; every wait is bounded. Arguments name the
 * cases to run (good, dup, blocking, wrong, stall, dies, seccomp, emfile);
 * none runs them all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "fdpass.h"
#include "fwd.h"
#include "ns.h"
#include "nshelper.h"
#include "dispatch.h"
#include "reactor.h"
#include "splice.h"
#include "engine.h"
#include "netns.h"
#include "tapout.h"
#include "udprelay.h"

enum fake_mode {
    FAKE_GOOD,          /* what the real helper sends */
    FAKE_DUP,           /* ... and keeps a duplicate of each socket */
    FAKE_BLOCKING,      /* blocking sockets (duplicates kept, to look) */
    FAKE_FILE,          /* /dev/null instead of a socket */
    FAKE_WRONG_TYPE,    /* a UDP socket where TCP was asked, and back */
    FAKE_WRONG_FAMILY,  /* AF_INET6 where AF_INET was asked, and back */
    FAKE_UNIX,          /* an AF_UNIX socket */
    FAKE_EXTRA,         /* one descriptor more than asked for */
    FAKE_UNASKED,       /* an answer for the other family, not asked for */
    FAKE_LONG,          /* an answer longer than struct nshelper_msg */
};

static struct {
    int sock;               /* the fake helper's end; -1: none */
    enum fake_mode mode;
    int kept[512];          /* duplicates it keeps */
    int nkept;
    int answers;
} fk = { .sock = -1 };

static struct engine en = ENGINE_INIT;
static int logfd = -1;      /* stderr goes here (the engine's log lines) */
static int real_stderr = -1;

/* ------------------------------------------------------------ the log */

/* in a sanitizer build: where its reports go */
extern void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static void log_capture(void)
{
    logfd = memfd_create("log", MFD_CLOEXEC);
    real_stderr = dup(2);
    /* a sanitizer's report must not end up in the captured log, which is
     * lost if the report ends the process */
    if (__sanitizer_set_report_fd)
        __sanitizer_set_report_fd((void *)(intptr_t)real_stderr);
    dup2(logfd, 2);
}

/* the engine's log since the last log_clear() contains @needle; the log
 * is copied to the real stderr so that it shows in the test's output */
static bool log_has(const char *needle)
{
    static char buf[65536];
    ssize_t n;

    fflush(stderr);
    n = pread(logfd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    return strstr(buf, needle) != NULL;
}

static void log_clear(void)
{
    static char buf[65536];
    ssize_t n;

    fflush(stderr);
    n = pread(logfd, buf, sizeof(buf), 0);
    if (n > 0 && write(real_stderr, buf, (size_t)n) < 0)
        n = 0;
    if (ftruncate(logfd, 0) == 0)
        lseek(logfd, 0, SEEK_SET);
}

/* ------------------------------------------------------ the fake helper */

static int fake_socket(const struct nshelper_msg *req)
{
    int other = req->family == AF_INET ? AF_INET6 : AF_INET;
    int otype = req->type == SOCK_STREAM ? SOCK_DGRAM : SOCK_STREAM;

    switch (fk.mode) {
    case FAKE_BLOCKING:
        return socket(req->family, req->type | SOCK_CLOEXEC, 0);
    case FAKE_FILE:
        return open("/dev/null", O_RDWR | O_CLOEXEC);
    case FAKE_WRONG_TYPE:
        return socket(req->family, otype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    case FAKE_WRONG_FAMILY:
        return socket(other, req->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    case FAKE_UNIX:
        return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    default:
        return socket(req->family, req->type | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      0);
    }
}

/* an answer: @m (with FAKE_LONG, 4 bytes longer) and @n descriptors */
static int fake_send(const struct nshelper_msg *m, const int *fds, int n)
{
    struct {
        struct nshelper_msg m;
        int32_t more;
    } longer = { *m, 0 };

    return fdpass_sendmsg(fk.sock, &longer, fk.mode == FAKE_LONG ?
                          sizeof(longer) : sizeof(*m), fds, (size_t)n, 0);
}

/* answer every request that is there, as the mode says */
static void fake_answer(void)
{
    struct nshelper_msg req;

    while (fk.sock >= 0 &&
           recv(fk.sock, &req, sizeof(req), MSG_DONTWAIT) == sizeof(req)) {
        struct nshelper_msg m = { .family = req.family, .type = req.type };
        int fds[NSHELPER_FDS_PER_MSG + 1], n, i;

        n = req.count < 1 ? 1 : req.count > NSHELPER_FDS_PER_MSG ?
            NSHELPER_FDS_PER_MSG : req.count;
        if (fk.mode == FAKE_EXTRA)
            n++;
        if (fk.mode == FAKE_UNASKED)
            m.family = req.family == AF_INET ? AF_INET6 : AF_INET;
        for (i = 0; i < n; i++) {
            fds[i] = fake_socket(&m);
            if (fds[i] < 0)
                break;
        }
        m.count = i;
        fake_send(&m, fds, i);
        fk.answers++;
        while (i-- > 0) {
            if ((fk.mode == FAKE_DUP || fk.mode == FAKE_BLOCKING) &&
                fk.nkept < (int)(sizeof(fk.kept) / sizeof(fk.kept[0])))
                fk.kept[fk.nkept++] = fds[i];
            else
                close(fds[i]);
        }
    }
}

/* an engine around the fake helper in @mode (it said hello already) */
static int engine_fake(enum fake_mode mode)
{
    struct nshelper_msg hello = { 0 };
    int sv[2], r;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    fk.sock = sv[1];
    fk.mode = mode;
    fk.nkept = 0;
    fk.answers = 0;
    send(fk.sock, &hello, sizeof(hello), 0);
    en.side_fd = fk.sock;
    en.side_fn = fake_answer;
    r = engine_new(&en, sv[0], 0);
    if (r == 0)
        r = nshelper_wait(en.hp);
    return r;
}

/* the engine freed, the fake's socket and what it kept closed */
static void engine_done(void)
{
    int i;

    engine_free(&en);
    en.side_fd = -1;
    if (fk.sock >= 0)
        close(fk.sock);
    fk.sock = -1;
    for (i = 0; i < fk.nkept; i++)
        close(fk.kept[i]);
    fk.nkept = 0;
    log_clear();
}

/* ---------------------------------------------------------- the loop */

/* @a sends @tag, @b reads it within @ms: true if it came intact */
static bool one_way(int a, int b, const char *tag, int ms)
{
    int64_t end = netns_now_ms() + ms;
    size_t len = strlen(tag), got = 0;
    char buf[256];

    if (send(a, tag, len, MSG_NOSIGNAL) != (ssize_t)len)
        return false;
    while (got < len && netns_now_ms() < end) {
        ssize_t k;

        engine_drive(&en, b);
        k = recv(b, buf + got, sizeof(buf) - got, 0);
        if (k > 0)
            got += (size_t)k;
        else if (k == 0 || errno != EAGAIN)
            return false;
    }
    return got == len && !memcmp(buf, tag, len);
}

/* registrations in the engine's epoll set (/proc/self/fdinfo: "tfd:") */
static int epoll_entries(void)
{
    char path[64], buf[65536], *p;
    int fd, n = 0;
    ssize_t k;

    snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", reactor_fd(&en.re));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    k = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[k > 0 ? k : 0] = 0;
    for (p = buf; (p = strstr(p, "tfd:")); p++)
        n++;
    return n;
}

/* the forward an auto path takes for tcp 127.0.0.1 -> guest with @en.sp */
static enum fwd_path auto_path(void)
{
    struct config cfg;
    struct fwd_req req = { "tcp", "127.0.0.1", 8080, "", 80, "auto" };
    struct fwd_table *t;
    struct fwd_spec s;
    struct err fe;
    enum fwd_path p = FWD_PATH_AUTO;

    if (engine_fwd_table(&cfg, &t) < 0)
        return p;
    if (fwd_spec_from_req(&req, &cfg, &s, &fe) == 0) {
        fwd_set_splice(t, en.sp, FWD_PATH_AUTO);
        p = fwd_choose_path(t, &s);
        fwd_set_splice(t, NULL, FWD_PATH_AUTO);
    }
    fwd_free(t);
    config_free(&cfg);
    return p;
}

/* a splice forward 127.0.0.1:0 -> @guest */
static int forward(const struct sockaddr_in *guest, int *fwdfd,
                   struct sockaddr_storage *bound, socklen_t *blen)
{
    struct sockaddr_in host = { .sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

    return splice_listen(en.sp, (struct sockaddr *)&host, sizeof(host),
                         (const struct sockaddr *)guest, sizeof(*guest),
                         fwdfd, bound, blen);
}

/* ------------------------------------------------------------- cases */

/* the fake itself, behaving: the protocol the tests speak is the engine's */
static void test_good(int lfd, const struct sockaddr_in *srv)
{
    struct sockaddr_storage bound;
    socklen_t blen;
    int fwdfd, c, s;

    TAP_IS_INT(engine_fake(FAKE_GOOD), 0, "good fake: the engine takes it");
    TAP_IS_INT(forward(srv, &fwdfd, &bound, &blen), 0, "good fake: forward");
    engine_pump(&en, 100);
    c = netns_connect(&bound, blen);
    s = engine_accept(&en, lfd, 2000);
    TAP_OK(c >= 0 && s >= 0 && one_way(c, s, "ping", 2000) &&
           one_way(s, c, "pong", 2000), "good fake: data both ways");
    TAP_IS_INT(epoll_entries(), 5 + 2, "good fake: helper and its timer, "
               "kick, timer, listener and the connection's 2 sockets in the "
               "epoll set");
    close(c);
    close(s);
    engine_pump(&en, 100);
    TAP_IS_INT(epoll_entries(), 5, "good fake: the connection left the set");
    TAP_OK(splice_available(en.sp) && !log_has("splice helper"),
           "good fake: available, nothing logged");
    engine_done();
}

/*
 * (a) The helper keeps a duplicate of every socket: closing the daemon's
 * fd does not take the socket out of the epoll set (epoll(7) Q6). Once the
 * connection is freed, the guest writes to its side: an event for a freed
 * connection, unless the engine took the socket out first. The same for a
 * UDP relay flow that expired.
 */
static void test_dup(int lfd, const struct sockaddr_in *srv)
{
    struct sockaddr_storage bound;
    socklen_t blen;
    int fwdfd, c, s, i, bad = 0, entries;

    engine_fake(FAKE_DUP);
    forward(srv, &fwdfd, &bound, &blen);
    engine_pump(&en, 100);
    for (i = 0; i < 20; i++) {
        c = netns_connect(&bound, blen);
        s = engine_accept(&en, lfd, 2000);
        if (c < 0 || s < 0 || !one_way(c, s, "x", 2000)) {
            bad++;
            break;
        }
        if (i % 2)
            netns_reset_close(c);   /* reset: the engine resets both sides */
        else
            close(c);           /* FIN */
        engine_pump(&en, 30);
        /* the guest's side is still connected (the duplicate keeps the
         * namespace socket): it writes, then closes */
        send(s, "late", 4, MSG_NOSIGNAL);
        close(s);
        engine_pump(&en, 30);
    }
    TAP_IS_INT(bad, 0, "dup: 20 connections through a helper that keeps "
               "duplicates");
    entries = epoll_entries();
    TAP_IS_INT(entries, 5, "dup: no ended connection is left in the epoll "
               "set");
    c = netns_connect(&bound, blen);
    s = engine_accept(&en, lfd, 2000);
    TAP_OK(c >= 0 && s >= 0 && one_way(c, s, "still", 2000) &&
           one_way(s, c, "here", 2000), "dup: the engine still serves");
    close(c);
    close(s);
    engine_pump(&en, 50);

    /* the UDP relay: a flow expires, then the guest answers it */
    {
        struct udprelay *u = NULL;
        struct sockaddr_in g = { .sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct sockaddr_in from;
        struct sockaddr_storage ub;
        socklen_t glen = sizeof(g), flen = sizeof(from), ublen;
        int gs = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int ufd = -1, cl, before;
        char buf[64];
        ssize_t n = -1;
        int64_t end;

        bind(gs, (struct sockaddr *)&g, sizeof(g));
        getsockname(gs, (struct sockaddr *)&g, &glen);
        udprelay_new(&en.re, en.hp, 200, 16, &u);
        en.disp.relay = u;
        before = epoll_entries();
        udprelay_listen(u, (struct sockaddr *)&(struct sockaddr_in){
                            .sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
                        sizeof(struct sockaddr_in), (struct sockaddr *)&g,
                        sizeof(g), &ufd, &ub, &ublen);
        engine_pump(&en, 100);
        cl = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        connect(cl, (struct sockaddr *)&ub, ublen);
        send(cl, "hi", 2, 0);
        for (end = netns_now_ms() + 2000; n < 0 && netns_now_ms() < end;) {
            engine_drive(&en, gs);
            n = recvfrom(gs, buf, sizeof(buf), 0, (struct sockaddr *)&from,
                         &flen);
        }
        TAP_IS_INT(n, 2, "dup: a datagram through the relay");
        engine_pump(&en, 600);  /* the flow expires (200 ms) */
        sendto(gs, "late", 4, 0, (struct sockaddr *)&from, flen);
        engine_pump(&en, 100);
        TAP_IS_INT(epoll_entries(), before + 1, "dup: the expired flow left "
                   "the epoll set (the listener is in it)");
        close(cl);
        udprelay_free(u);
        en.disp.relay = NULL;
        close(gs);
    }
    TAP_OK(!log_has("splice helper"), "dup: nothing to say about it");
    engine_done();
}

static volatile sig_atomic_t stuck;

static void on_alarm(int sig)
{
    static const char msg[] = "Bail out! the engine blocked in a system call "
                              "(a blocking socket from the helper)\n";

    (void)sig;
    stuck = 1;
    if (write(1, msg, sizeof(msg) - 1) < 0)
        _exit(2);
    _exit(1);
}

/*
 * (b) Blocking sockets: the engine makes the one it takes non-blocking (the
 * flag is the open file's: the duplicates the fake keeps show it). Then a guest
 * that does not read: the client's bytes fill the namespace socket's send
 * buffer, and a blocking splice() into it would stop the whole daemon.
 */
static void test_blocking(int lfd, const struct sockaddr_in *srv)
{
    static char buf[1 << 16];
    struct sockaddr_storage bound;
    socklen_t blen;
    int fwdfd, c, s, i, nonblocking = 0;
    uint64_t sent = 0, got = 0;
    int64_t end;

    engine_fake(FAKE_BLOCKING);
    forward(srv, &fwdfd, &bound, &blen);
    engine_pump(&en, 100);
    c = netns_connect(&bound, blen);
    s = engine_accept(&en, lfd, 2000);
    for (i = 0; i < fk.nkept; i++)
        nonblocking += !!(fcntl(fk.kept[i], F_GETFL) & O_NONBLOCK);
    TAP_OK(fk.nkept > 1 && nonblocking == 1, "blocking: the engine made the "
           "socket it took non-blocking (%d of the %d sent are)", nonblocking,
           fk.nkept);
    signal(SIGALRM, on_alarm);
    alarm(20);
    memset(buf, 'b', sizeof(buf));
    for (end = netns_now_ms() + 1000; c >= 0 && netns_now_ms() < end;) {
        ssize_t k = send(c, buf, sizeof(buf), MSG_NOSIGNAL);

        if (k > 0)
            sent += (uint64_t)k;
        engine_drive(&en, -1);
    }
    /* now the guest reads it all, and the client ends */
    shutdown(c, SHUT_WR);
    for (end = netns_now_ms() + 10000; s >= 0 && netns_now_ms() < end;) {
        ssize_t k;

        engine_drive(&en, s);
        k = recv(s, buf, sizeof(buf), 0);
        if (k > 0)
            got += (uint64_t)k;
        else if (k == 0 || errno != EAGAIN)
            break;
    }
    alarm(0);
    TAP_OK(sent > (1 << 20) && got == sent, "blocking: a stalled guest did "
           "not stall the engine; %llu bytes sent, %llu came",
           (unsigned long long)sent, (unsigned long long)got);
    close(c);
    close(s);
    engine_done();
}

/*
 * (c) What is not the socket asked for: found when the first client's
 * connection takes it; dropped, never used, logged once; the helper is
 * given up, that client and the next are reset, forwards go through
 * libslirp.
 */
static void test_wrong(int lfd, const struct sockaddr_in *srv,
                       enum fake_mode mode, const char *name)
{
    bool per_socket = mode == FAKE_FILE || mode == FAKE_WRONG_TYPE ||
                      mode == FAKE_WRONG_FAMILY || mode == FAKE_UNIX;
    struct sockaddr_storage bound;
    struct sockaddr_in us = *srv;
    socklen_t blen;
    int fwdfd, c, r, fr, fds0 = netns_count_fds(), udp, pathr;
    char buf[64];

    engine_fake(mode);
    /* a UDP socket on the guest's port: a UDP socket connected and used
     * in place of the TCP one would deliver here */
    udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    bind(udp, (struct sockaddr *)&us, sizeof(us));
    r = fr = forward(srv, &fwdfd, &bound, &blen);
    engine_pump(&en, 100);
    if (per_socket) {
        /* a well-formed answer: each socket is checked when taken */
        TAP_OK(fk.answers >= 1 && splice_available(en.sp) &&
               !log_has("splice helper (pid 0) sent"),
               "%s: the answer is taken, its sockets checked when used", name);
        c = r == 0 ? netns_connect(&bound, blen) : -1;
        r = c >= 0 ? engine_read_end(&en, c, 2000) : -1;
        TAP_OK(r == -ECONNRESET || r == -ECONNREFUSED, "%s: the client that "
               "took it is reset at once (%d)", name, r);
        if (c >= 0)
            close(c);
        engine_pump(&en, 100);
    }
    TAP_OK(log_has("splice helper (pid 0) sent"),
           "%s: refused, with a log line", name);
    TAP_OK(!splice_available(en.sp), "%s: the helper is given up", name);
    pathr = auto_path();
    TAP_IS_INT(pathr, FWD_PATH_SLIRP, "... new auto forwards go through "
               "libslirp");
    c = fr == 0 ? netns_connect(&bound, blen) : -1;
    r = c >= 0 ? engine_read_end(&en, c, 2000) : -1;
    TAP_OK(r == -ECONNRESET || r == -ECONNREFUSED, "%s: a client of the "
           "forward is reset at once (%d)", name, r);
    TAP_OK(recv(udp, buf, sizeof(buf), 0) < 0 &&
           accept4(lfd, NULL, NULL, 0) < 0, "%s: nothing reached the guest",
           name);
    if (c >= 0)
        close(c);
    close(udp);
    engine_done();
    TAP_IS_INT(netns_count_fds(), fds0, "... no fd is left");
}

/* @pid exits within @ms (reaped by the engine or here) */
static bool gone_within(pid_t pid, int ms)
{
    int64_t end = netns_now_ms() + ms;

    while (netns_now_ms() < end) {
        pid_t w = waitpid(pid, NULL, WNOHANG);

        if (w == pid || (w < 0 && errno == ECHILD))
            return true;
        engine_pump(&en, 20);
    }
    return false;
}

/*
 * (d) The helper stops (SIGSTOP from inside the container): connections
 * that wait for its sockets are capped, then reset at its deadline; the
 * helper is given up. Its socket is closed, so it exits once continued.
 */
static void test_stall(int lfd, const struct sockaddr_in *srv)
{
    enum { EXTRA = 5 };
    static int cl[SPLICE_WAIT_MAX + EXTRA];
    struct sockaddr_storage bound;
    socklen_t blen;
    pid_t hpid = -1;
    int fwdfd, i, r, reset = 0, pending = 0, conn = 0;
    int64_t t0, t1;

    r = engine_real(&en, &hpid);
    TAP_IS_INT(r, 0, "stall: the real helper");
    if (r < 0)
        return;
    kill(hpid, SIGSTOP);
    t0 = netns_now_ms();
    forward(srv, &fwdfd, &bound, &blen);     /* asks for sockets */
    for (i = 0; i < SPLICE_WAIT_MAX + EXTRA; i++) {
        cl[i] = netns_connect(&bound, blen);
        conn += cl[i] >= 0;
        if (i % 64 == 63)
            engine_drive(&en, -1);
    }
    engine_pump(&en, 300);
    for (i = 0; i < SPLICE_WAIT_MAX + EXTRA; i++) {
        char x;
        ssize_t k = cl[i] >= 0 ? recv(cl[i], &x, 1, 0) : 0;

        reset += k < 0 && errno == ECONNRESET;
        pending += k < 0 && errno == EAGAIN;
    }
    TAP_OK(netns_now_ms() - t0 < NSHELPER_TIMEOUT_MS - 500,
           "stall: (within the helper's deadline so far)");
    TAP_OK(conn == SPLICE_WAIT_MAX + EXTRA && reset == EXTRA &&
           pending == SPLICE_WAIT_MAX, "stall: %d connections wait, the %d "
           "past the cap are reset at once (%d reset, %d wait)",
           SPLICE_WAIT_MAX, EXTRA, reset, pending);
    TAP_OK(log_has("wait for the namespace helper already"),
           "stall: ... with a log line");
    r = engine_read_end(&en, cl[0], NSHELPER_TIMEOUT_MS + 3000);
    t1 = netns_now_ms();
    TAP_IS_INT(r, -ECONNRESET, "stall: the waiting clients are reset");
    TAP_OK(t1 - t0 >= NSHELPER_TIMEOUT_MS - 100 &&
           t1 - t0 < NSHELPER_TIMEOUT_MS + 1500,
           "stall: ... at the helper's deadline (%lld ms)",
           (long long)(t1 - t0));
    engine_pump(&en, 100);
    reset = 0;
    for (i = 0; i < SPLICE_WAIT_MAX + EXTRA; i++) {
        char x;
        ssize_t k = cl[i] >= 0 ? recv(cl[i], &x, 1, 0) : 1;

        /* a reset read before reads as EOF now */
        reset += k == 0 || (k < 0 && errno == ECONNRESET);
        if (cl[i] >= 0)
            close(cl[i]);
    }
    TAP_IS_INT(reset, SPLICE_WAIT_MAX + EXTRA, "stall: every client was "
               "reset, none hangs");
    TAP_OK(log_has("did not answer in"), "stall: a log line says so");
    TAP_OK(!splice_available(en.sp) && auto_path() == FWD_PATH_SLIRP,
           "stall: new forwards go through libslirp");
    i = netns_connect(&bound, blen);
    r = i >= 0 ? engine_read_end(&en, i, 1000) : -1;
    TAP_OK(r == -ECONNRESET, "stall: a new client of the forward is reset at "
           "once (%d)", r);
    if (i >= 0)
        close(i);
    kill(hpid, SIGCONT);
    TAP_OK(gone_within(hpid, 3000), "stall: the helper exits once continued "
           "(its socket is closed)");
    TAP_OK(accept4(lfd, NULL, NULL, 0) < 0, "stall: nothing reached the "
           "guest");
    engine_done();
}

/* (e) The helper dies while a client waits for its sockets */
static void test_dies(int lfd, const struct sockaddr_in *srv)
{
    struct sockaddr_storage bound;
    socklen_t blen;
    pid_t hpid = -1;
    int fwdfd, c, r;
    int64_t t0;

    r = engine_real(&en, &hpid);
    TAP_IS_INT(r, 0, "dies: the real helper");
    if (r < 0)
        return;
    kill(hpid, SIGSTOP);
    forward(srv, &fwdfd, &bound, &blen);
    /* the pool is empty: the client waits */
    c = netns_connect(&bound, blen);
    engine_pump(&en, 100);
    t0 = netns_now_ms();
    kill(hpid, SIGKILL);
    r = engine_read_end(&en, c, 2000);
    TAP_IS_INT(r, -ECONNRESET, "dies: the waiting client is reset");
    TAP_OK(netns_now_ms() - t0 < 1000, "dies: ... at once, not at the "
           "deadline");
    TAP_OK(log_has("exited"), "dies: a log line says so");
    TAP_OK(!splice_available(en.sp) && auto_path() == FWD_PATH_SLIRP,
           "dies: new forwards go through libslirp");
    TAP_OK(gone_within(hpid, 1000), "dies: the helper is reaped");
    close(c);
    engine_done();
}

/*
 * A helper whose seccomp filter cannot be loaded (here: the process it
 * runs in refuses seccomp(2) and prctl(PR_SET_SECCOMP) with EPERM) must
 * not run: it says so and exits, and the engine is not available.
 */
static int seccomp_refused_helper(int sock)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

    if (!ctx ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(seccomp), 0) ||
        seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prctl), 1,
                         SCMP_A0(SCMP_CMP_EQ, PR_SET_SECCOMP)) ||
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(ctx) < 0)
        return 2;
    nshelper_run(sock, NULL);
}

static void test_no_seccomp(void)
{
    int sv[2], r;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        TAP_OK(false, "socketpair: %s", strerror(errno));
        return;
    }
    pid = fork();
    if (pid == 0) {
        close(sv[0]);
        _exit(seccomp_refused_helper(sv[1]));
    }
    close(sv[1]);
    r = engine_new(&en, sv[0], pid);
    if (r == 0)
        r = nshelper_wait(en.hp);
    TAP_OK(r < 0, "no seccomp: the helper reports its failure (%d)", r);
    TAP_OK(!splice_available(en.sp), "no seccomp: the engine is not available");
    TAP_OK(log_has("cannot lock itself down"), "no seccomp: the helper says "
           "why");
    TAP_OK(gone_within(pid, 2000), "no seccomp: the helper exited");
    engine_done();
}

/*
 * accept() at the fd limit: the connection stays queued and the
 * level-triggered listener readable; the engine must rest it, not spin,
 * and take the connection when fds are free again.
 */
static void test_emfile(int lfd, const struct sockaddr_in *srv)
{
    static int fill[1024];
    struct sockaddr_storage bound;
    struct rlimit old, low;
    socklen_t blen;
    int fwdfd, c, s, nfill = 0, wakeups = 0, i;
    int64_t end;

    engine_fake(FAKE_GOOD);
    forward(srv, &fwdfd, &bound, &blen);
    engine_pump(&en, 100);
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = 512;
    c = netns_connect(&bound, blen);
    if (setrlimit(RLIMIT_NOFILE, &low) < 0 || c < 0) {
        TAP_OK(false, "emfile: set-up: %s", strerror(errno));
        return;
    }
    while (nfill < 1024 && (fill[nfill] = dup(logfd)) >= 0)
        nfill++;
    for (end = netns_now_ms() + 500; netns_now_ms() < end;)
        wakeups += engine_drive(&en, -1);
    TAP_OK(wakeups < 30, "emfile: the engine rests the listener (%d "
           "wake-ups in 500 ms)", wakeups);
    TAP_OK(log_has("accept: Too many open files"), "emfile: a log line");
    for (i = 0; i < nfill; i++)
        close(fill[i]);
    setrlimit(RLIMIT_NOFILE, &old);
    s = engine_accept(&en, lfd, 2000);
    TAP_OK(s >= 0 && one_way(c, s, "later", 2000), "emfile: with fds again, "
           "the connection is served");
    if (s >= 0)
        close(s);
    close(c);
    engine_done();
}

/* run case @name: all of them without arguments, else those named */
static bool want(int argc, char **argv, const char *name)
{
    int i;

    for (i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return argc < 2;
}

int main(int argc, char **argv)
{
    struct sockaddr_in srv;
    struct rlimit rl;
    int lfd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (netns_private() < 0)
        return 0;
    /* the stall case holds SPLICE_WAIT_MAX connections: 2 fds each */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192) {
        rl.rlim_cur = 8192;
        if (rl.rlim_max < 8192)
            rl.rlim_max = 8192;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            printf("1..0 # SKIP cannot raise RLIMIT_NOFILE to 8192\n");
            return 0;
        }
    }
    log_capture();
    lfd = netns_listen_lo(&srv);
    TAP_OK(lfd >= 0, "the guest: a server on 127.0.0.1:%d",
           ntohs(srv.sin_port));

    if (want(argc, argv, "good"))
        test_good(lfd, &srv);
    if (want(argc, argv, "dup"))
        test_dup(lfd, &srv);
    if (want(argc, argv, "blocking"))
        test_blocking(lfd, &srv);
    if (want(argc, argv, "wrong")) {
        test_wrong(lfd, &srv, FAKE_FILE, "a file");
        test_wrong(lfd, &srv, FAKE_WRONG_TYPE, "a UDP socket for TCP");
        test_wrong(lfd, &srv, FAKE_WRONG_FAMILY, "an IPv6 socket for IPv4");
        test_wrong(lfd, &srv, FAKE_UNIX, "a unix socket");
        test_wrong(lfd, &srv, FAKE_EXTRA, "one socket too many");
        test_wrong(lfd, &srv, FAKE_UNASKED, "an answer not asked for");
        test_wrong(lfd, &srv, FAKE_LONG, "an answer too long");
    }
    if (want(argc, argv, "stall"))
        test_stall(lfd, &srv);
    if (want(argc, argv, "dies"))
        test_dies(lfd, &srv);
    if (want(argc, argv, "seccomp"))
        test_no_seccomp();
    if (want(argc, argv, "emfile"))
        test_emfile(lfd, &srv);
    close(lfd);
    return tap_done();
}
