/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stack.c - libslirp glue: SlirpConfig from our config, SlirpCb, tap <-> slirp */
/*
 * DOC: Theory of Operation
 *
 * libslirp is a library without a loop of its own: it is given frames
 * (slirp_input()), hands frames back through SlirpCb.send_packet, and asks
 * its caller to poll its host sockets (slirp_pollfds_fill()) and to tell
 * it what happened (slirp_pollfds_poll()), plus timers it arms through
 * SlirpCb. This file is that caller, for one Slirp instance behind one tap:
 *
 *   tap -> stack_tap_read() -> tap_read_frames() [tap.c, offload_rx:
 *          checksums, frame_parse(), TSO6 cut] -> slirp_input()
 *          (timewait.c watches each frame)
 *   libslirp -> stack_send_packet() [frame_parse(): timewait.c watches
 *          each frame] -> [offload txq: MSS segments merged into GSO
 *          frames] -> stack_flush() -> tap_write_frame() [tap.c:
 *          virtio-net header]
 *
 * Each frame is classified once (frame.c), on its way in: the
 * classification goes with it to offload.c, timewait.c and this file's
 * own check, none of which parses headers.
 *   the loop (dispatch.c) -> stack_fill() before poll(), which polls
 *          each shard's set (stack_attach(); pollset.c: its few sockets
 *          as they are, or the epoll set of its many, with epoll_ctl()
 *          only when what libslirp wants of a socket changes);
 *          stack_on_ready() takes its events; stack_poll() after it
 *
 * Both of libslirp's calls walk every socket it has, so they are skipped
 * when they cannot matter: stack_fill() keeps the last fill's entries while
 * libslirp has not run since (stack_touch() marks that it has), and
 * stack_poll() calls slirp_pollfds_poll() only for an event on one of its
 * sockets, a due timer (its 2 ms and 499 ms wishes, or once a second), or a
 * frame other than TCP (ARP and NDP answers release output libslirp held
 * back, and only that call retries it). stack_reap() ends libslirp's
 * TIME_WAIT sockets early (timewait.c), at most a 26th of the time, and
 * flows the namespace closed that stayed idle for --fin-timeout
 * (finwait.c). A listener whose accept() ran out of fds rests without
 * EPOLLIN (fdlimit.c).
 *
 * The configuration (SlirpConfig) is derived once from struct config in
 * stack_new(), which also refuses a libslirp older than 4.7 at run time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <linux/if_ether.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "evtype.h"
#include "fdgen.h"
#include "fdlimit.h"
#include "finwait.h"
#include "frame.h"
#include "fring.h"
#include "log.h"
#include "loop.h"
#include "offload.h"
#include "pollset.h"
#include "reasm6.h"
#include "policy.h"
#include "slirpinfo.h"
#include "stack.h"
#include "busypoll.h"
#include "tap.h"
#include "steer.h"
#include "syn6.h"
#include "timewait.h"

#define STACK_TIMERS_MAX 8
/* a worker group's ring of frames from the main thread, and how long the
 * main thread waits for room in it before it drops a frame */
#define STACK_RING_BYTES (2u << 20)
#define STACK_RING_WAIT_US 2000
/* frames a worker takes from its ring per iteration */
#define STACK_RING_BATCH 256
/* a ring record for every shard of the group (ARP, NDP) */
#define STACK_TAG_ALL UINT32_MAX
/* stack_reap(): the listing at most 1/26 of the time (with 250 idle sockets
 * a shard's listing reaps a handful of flows: 1/11 cost CRR 5 to 10 %), a
 * round every 10 ms at the latest */
#define STACK_REAP_FACTOR 25
#define STACK_REAP_MAX_US 10000
/* finwait.c's rounds: an eighth of --fin-timeout, within these bounds */
#define STACK_FIN_ROUND_MIN_US 250000
#define STACK_FIN_ROUND_MAX_US 5000000
/* libslirp 4.7's SO_EXPIRE (240 s, the longest life of an idle UDP or
 * ICMP socket), and a margin */
#define STACK_DGRAM_LIFE_MS 250000
/*
 * A thread polls up to this many of libslirp's sockets directly, in its
 * loop's poll(), shared among its shards; a shard with more moves to an
 * epoll set (pollset.c). Measured with short connections (crr_out): a
 * socket that comes and goes through the set costs four epoll_ctl() and
 * an epoll_wait() per wake-up more than poll() takes; a socket that
 * poll() looks at costs about 40 ns per call.
 */
#define STACK_DIRECT_FDS 64
/* guest_error messages are logged at most this often */
#define STACK_GUEST_ERROR_INTERVAL_MS 1000

/*
 * libslirp's if_mru, which only caps the MSS it offers and uses
 * (tcp_mss()): an IPv4 MSS of 32768 divides its 128 KiB socket buffers.
 * With the MSS of MTU 65520 (65480), tcp_mss() grows each new socket's two
 * buffers from 128 KiB to 192 KiB; glibc serves that with mremap() or a
 * copy, and frees with munmap(): on the benchmark machine those made half
 * of the daemon's CPU time under connection churn (TLB shoot-downs, page
 * faults), and 1-1.3 k connections/s at MTU 65520 against 4-6 k with this
 * cap. The tap's MTU, IP fragmentation and IPv6's size check keep if_mtu;
 * the namespace still sends 64 KiB frames (TSO). Throughput measured the
 * same both ways: libslirp's 64 KiB window holds two such segments.
 */
#define STACK_MRU_MAX (32768 + 40)

struct stack_timer {
    bool in_use;
    bool armed;
    bool opaque;            /* created by timer_new_opaque */
    SlirpTimerId id;
    SlirpTimerCb cb;        /* timer_new */
    void *cb_opaque;
    int64_t expire_ms;
};

/*
 * One libslirp instance and what drives it. The stack runs cfg->shards of
 * them with the same configuration behind the one tap (steer.c says which
 * one a frame belongs to): each walk of libslirp's socket list then covers
 * only one shard's sockets, and only the shards that have something to do
 * are walked.
 */
struct stack_shard {
    struct stack *st;
    struct stack_group *grp;    /* the thread that runs it */
    unsigned int idx;
    Slirp *slirp;           /* NULL until a frame comes for it (shard 0:
                             * from the start) */
    struct stack_timer timers[STACK_TIMERS_MAX];
    struct timewait *tw;    /* flows libslirp closed first: TIME_WAIT ended */
    struct finwait *fw;     /* flows the namespace closed, the remote not */
    int64_t fin_next_us;    /* finwait.c's next round */
    bool fin_maybe;         /* a flow may be in CLOSE_WAIT unfollowed: a
                             * FIN from the namespace since the last round,
                             * or a line that round did not follow */
    /*
     * libslirp's sockets, polled directly while few, else in an epoll
     * set kept across fills (pollset.c): the loop polls what it says
     * (stack_attach()); the walks over libslirp's
     * socket list that cannot change anything are skipped (see
     * stack_fill() and stack_poll()).
     */
    struct pollset ps;
    bool dirty;             /* libslirp ran since the last fill */
    bool filled;            /* the set holds what libslirp wants */
    bool must_poll;         /* a frame that may release queued output */
    uint32_t wish_ms;       /* its timeout: 2 (delayed ACK), 499 (TCP
                             * slow timer), 1000 (nothing due) */
    int64_t fill_ms;        /* when it ran */
    int64_t polled_ms;      /* last slirp_pollfds_poll() */
    int64_t slow_ms;        /* our mirror of libslirp's last slow timer */
    int64_t dgram_ms;       /* the last IP packet other than TCP, either
                             * way: libslirp's UDP and ICMP sockets expire
                             * in its fill, at most STACK_DGRAM_LIFE_MS after */
    uint64_t sent;          /* frames libslirp sent (send_packet) */
    uint64_t fills, polls;
};

/*
 * The shards one thread runs (--threads): group 0 is the main thread's
 * (it also reads the tap, steers, answers the API), each other one a worker
 * of its own (stackthread.c) that gets its shards' frames through @ring and
 * writes what they send to the tap itself. Shard i is group i % N's.
 */
struct stack_group {
    struct stack *st;
    unsigned int idx;
    struct tap *tap;        /* writes to the tap (group 0's also reads) */
    bool coalesce;          /* queue frames, merge TCP runs at flush */
    struct offload_txq txq;
    uint32_t frag6_id;      /* the next IPv6 fragment identification */
    uint8_t *fitbuf;        /* one frame offload_tx_fit() cut */
    uint64_t tx_oversize_dropped;   /* above the MTU, could not be cut */
    uint64_t guest_errors;
    int64_t last_guest_error_ms;
    int64_t reap_next_us;   /* no slirp_connection_info() before this */
    unsigned int reap_next; /* the shard whose reaper goes first */
    unsigned int n_shards;
    struct stack_shard **shards;
    /* a worker's group (idx > 0) */
    struct fring ring;      /* its shards' frames, from the main thread */
    uint64_t ring_dropped;  /* main thread: frames the full ring refused */
    bool ring_shed;         /* main thread: it stayed full in this batch */
    bool touch;             /* (atomic) every shard fills again */
    pthread_mutex_t lock;   /* held while the worker runs libslirp */
};

struct stack {
    struct tap *tap;        /* frames from the namespace (group 0's) */
    struct stack_stats stats;
    struct steer *steer;    /* which shard a frame belongs to */
    unsigned int n_shards;
    struct stack_shard *shard;
    unsigned int n_groups;  /* threads (--threads) */
    struct stack_group *grp;
    pthread_mutex_t policy_lock;    /* with workers: policy_check/note_in */
    int64_t fin_timeout_ms; /* --fin-timeout; 0: off */
    int64_t resume_ms;      /* a listener's rest ends (fdlimit.c); 0: none */
    size_t mtu;             /* the tap's MTU: the largest IP packet to it */
    struct reasm6 *reasm6;  /* IPv6 fragments from the namespace */
    struct policy *policy;  /* the egress policy, checked before steering */
    bool policy_on;         /* it has something to check (policy_active()) */
    struct syn6 *syn6;      /* -6: the IPv6 TCP flows the namespace started */
    struct in_addr vnetwork, vnetmask;  /* the namespace's IPv4 network */
    SlirpConfig sc;         /* every instance's, for stack_shard_start() */
    struct sockaddr_in out4;        /* --outbound-addr, for @sc */
    struct sockaddr_in6 out6;
};

_Static_assert(CONFIG_RULES_MAX <= POLICY_RULES_MAX, "every rule fits the policy");

int64_t stack_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* offload_write_fn: one frame to the tap (dropped if it is full) */
static int stack_write_frame(void *opaque, const struct virtio_net_hdr *vh,
                             const void *buf, size_t len)
{
    struct stack_group *g = opaque;

    return tap_write_frame(g->tap, vh, buf, len);
}

/* one frame for the tap, classified: queued for the coalescer, or
 * written at once without a virtio-net header's offloads */
static void stack_group_flush(struct stack_group *g)
{
    if (g->coalesce && g->txq.n)
        offload_txq_flush(&g->txq, stack_write_frame, g);
}

static void stack_queue_parsed(struct stack_group *g, const void *buf,
                               const struct frame_info *fi)
{
    if (g->coalesce) {
        if (offload_txq_push(&g->txq, buf, fi) == 0)
            return;
        stack_group_flush(g);
        if (offload_txq_push(&g->txq, buf, fi) == 0)
            return;
    }
    if (fi->l3len > g->st->mtu && fi->ipver) {
        /* a TCP segment above the MTU without GSO to cut it: libslirp's
         * MSS (if_mru) and the namespace's offer keep it from coming */
        g->tx_oversize_dropped++;
        return;
    }
    stack_write_frame(g, offload_tx_hdr(fi), buf, fi->len);
}

/* offload_frame_fn: a frame offload_tx_fit() cut */
static void stack_queue_frame(void *opaque, const uint8_t *frame, size_t len)
{
    struct stack_group *g = opaque;
    struct frame_info fi;

    frame_parse(frame, len, &fi);
    stack_queue_parsed(g, frame, &fi);
}

/* may @fi belong to one of libslirp's UDP or ICMP sockets (or is it a
 * packet the classifier cannot tell)? Not TCP, ARP, NDP, DHCP, nor ICMPv6
 * other than echo (multicast listener reports, errors: no socket) */
static bool stack_is_dgram(const struct frame_info *fi)
{
    switch (fi->cls) {
    case FRAME_IP6_ICMP:
        return fi->icmp_type == 128 || fi->icmp_type == 129;
    case FRAME_IP4_UDP:
    case FRAME_IP4_ICMP:
    case FRAME_IP4_FRAG:
    case FRAME_IP4_OTHER:
    case FRAME_IP6_UDP:
    case FRAME_IP6_FRAG:
    case FRAME_IP6_OTHER:
    case FRAME_TRUNCATED:
    case FRAME_MALFORMED:
        return true;
    default:
        return false;
    }
}

/* implements SlirpCb.send_packet */
static ssize_t stack_send_packet(const void *buf, size_t len, void *opaque)
{
    struct stack_shard *sh = opaque;
    struct stack_group *g = sh->grp;
    struct stack *st = sh->st;
    struct frame_info fi;
    int r;

    sh->sent++;
    /* classified once, for the steering, the reaper and the coalescer */
    frame_parse(buf, len, &fi);
    if (stack_is_dgram(&fi))
        sh->dgram_ms = stack_now_ms();
    /* the steering table belongs to the main thread: a worker's shards
     * never start a flow (forwards are shard 0's), only the answers of
     * shard 0 alone are theirs to drop */
    if (st->n_shards > 1 &&
        !(g->idx == 0 ? steer_out(st->steer, sh->idx, buf, &fi, stack_now_ms())
                      : steer_out_stateless(sh->idx, buf, &fi)))
        return (ssize_t)len;    /* another shard's copy of an answer */
    timewait_note_out(sh->tw, &fi);
    /* a UDP flow a remote started: the namespace may answer it */
    if (st->policy_on && (fi.cls == FRAME_IP4_UDP || fi.cls == FRAME_IP6_UDP)) {
        if (st->n_groups > 1)
            pthread_mutex_lock(&st->policy_lock);
        policy_note_in(st->policy, &fi, stack_now_ms());
        if (st->n_groups > 1)
            pthread_mutex_unlock(&st->policy_lock);
    }
    if (fi.ipver && fi.l3len > st->mtu && !frame_is_tcp(&fi)) {
        /* libslirp's if_mtu is above the tap's: cut what it wrote larger
         * (a UDP datagram, an ICMP message) as a router would */
        r = offload_tx_fit(buf, &fi, st->mtu, g->frag6_id++, g->fitbuf,
                           stack_queue_frame, g);
        if (r < 0)
            g->tx_oversize_dropped++;
        else
            __atomic_add_fetch(&st->stats.tx_fragmented, 1, __ATOMIC_RELAXED);
        return (ssize_t)len;
    }
    stack_queue_parsed(g, buf, &fi);
    return (ssize_t)len;
}

/**
 * stack_flush() - write the frames queued for the tap, merged where possible
 *		   (the main thread's shards; each worker flushes its own)
 * @st:	the stack
 */
void stack_flush(struct stack *st)
{
    stack_group_flush(&st->grp[0]);
}

/* implements SlirpCb.guest_error */
static void stack_guest_error(const char *msg, void *opaque)
{
    struct stack_group *g = ((struct stack_shard *)opaque)->grp;
    int64_t now = stack_now_ms();

    g->guest_errors++;
    if (now - g->last_guest_error_ms < STACK_GUEST_ERROR_INTERVAL_MS)
        return;
    g->last_guest_error_ms = now;
    warn("guest error: %s", msg);
}

/* implements SlirpCb.clock_get_ns */
static int64_t stack_clock_get_ns(void *opaque)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct stack_timer *stack_timer_alloc(struct stack_shard *sh)
{
    size_t i;

    for (i = 0; i < STACK_TIMERS_MAX; i++) {
        if (!sh->timers[i].in_use) {
            memset(&sh->timers[i], 0, sizeof(sh->timers[i]));
            sh->timers[i].in_use = true;
            return &sh->timers[i];
        }
    }
    /* libslirp 4.7 creates one timer (router advertisements) */
    err("libslirp asked for more than %d timers", STACK_TIMERS_MAX);
    abort();
}

/* implements SlirpCb.timer_new */
static void *stack_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct stack_timer *t = stack_timer_alloc(opaque);

    t->cb = cb;
    t->cb_opaque = cb_opaque;
    return t;
}

/* implements SlirpCb.timer_new_opaque */
static void *stack_timer_new_opaque(SlirpTimerId id, void *cb_opaque,
                                    void *opaque)
{
    struct stack_timer *t = stack_timer_alloc(opaque);

    t->opaque = true;
    t->id = id;
    t->cb_opaque = cb_opaque;
    return t;
}

/* implements SlirpCb.timer_free */
static void stack_timer_free(void *timer, void *opaque)
{
    struct stack_timer *t = timer;

    t->in_use = false;
    t->armed = false;
}

/* implements SlirpCb.timer_mod: @expire_time is absolute, in ms */
static void stack_timer_mod(void *timer, int64_t expire_time, void *opaque)
{
    struct stack_timer *t = timer;

    t->expire_ms = expire_time;
    t->armed = true;
}

/* implements SlirpCb.register_poll_fd */
static void stack_register_poll_fd(int fd, void *opaque)
{
}

/* implements SlirpCb.unregister_poll_fd */
static void stack_unregister_poll_fd(int fd, void *opaque)
{
}

/* implements SlirpCb.notify */
static void stack_notify(void *opaque)
{
}

static const SlirpCb stack_cb = {
    .send_packet = stack_send_packet,
    .guest_error = stack_guest_error,
    .clock_get_ns = stack_clock_get_ns,
    .timer_new = stack_timer_new,
    .timer_free = stack_timer_free,
    .timer_mod = stack_timer_mod,
    .register_poll_fd = stack_register_poll_fd,
    .unregister_poll_fd = stack_unregister_poll_fd,
    .notify = stack_notify,
    .timer_new_opaque = stack_timer_new_opaque,
};

/* is the libslirp we run with at least what we were built for? */
static int stack_check_runtime(void)
{
    unsigned int major = 0, minor = 0;

    if (sscanf(slirp_version_string(), "%u.%u", &major, &minor) != 2)
        return -ENOTSUP;
    if (major < COMPAT_SLIRP_MIN_MAJOR ||
        (major == COMPAT_SLIRP_MIN_MAJOR && minor < COMPAT_SLIRP_MIN_MINOR))
        return -ENOTSUP;
    return 0;
}

/*
 * A shard's libslirp instance, when the first frame is steered to it.
 * Instances other than shard 0 (the forwards, DHCP, DNS) start on demand:
 * each costs about 13 KiB at start and keeps its own free mbufs, and an
 * idle daemon with a connection or two uses two of them. A new instance
 * has not seen the namespace's earlier ARP and NDP frames (they go to the
 * started ones only): it asks for the address it sends to, as libslirp
 * does for any address it does not know, and the answer reaches it.
 */
static int stack_shard_start(struct stack_shard *sh)
{
    if (sh->slirp)
        return 0;
    sh->slirp = slirp_new(&sh->st->sc, &stack_cb, sh);
    if (!sh->slirp)
        return -ENOMEM;
    /* a second instance runs: new connections spread from now on */
    steer_gather_stop(sh->st->steer);
    return 0;
}

/* one shard: its epoll set, its reaper (its instance: stack_shard_start()) */
static int stack_shard_init(struct stack *st, unsigned int idx)
{
    struct stack_shard *sh = &st->shard[idx];
    int r;

    sh->st = st;
    sh->idx = idx;
    sh->grp = &st->grp[idx % st->n_groups];
    sh->grp->shards[sh->grp->n_shards++] = sh;
    sh->ps.epfd = -1;
    sh->dgram_ms = INT64_MIN / 2;   /* none yet */
    r = timewait_new(&sh->tw);
    if (r == 0)
        r = finwait_new(&sh->fw);
    if (r == 0)
        r = pollset_init(&sh->ps, STACK_DIRECT_FDS /
                                      ((st->n_shards + st->n_groups - 1) /
                                       st->n_groups));
    if (r < 0)
        return r;
    if (idx == 0 && !(sh->slirp = slirp_new(&st->sc, &stack_cb, sh)))
        return -EINVAL;
    return 0;
}

static void stack_shard_fini(struct stack_shard *sh)
{
    if (sh->slirp)
        slirp_cleanup(sh->slirp);
    timewait_free(sh->tw);
    finwait_free(sh->fw);
    pollset_fini(&sh->ps);
}

/**
 * stack_new() - create the libslirp instances for a tap
 * @cfg:	addresses, MTU, flags, the number of shards
 * @tapfd:	non-blocking tap fd (not owned)
 * @ret:	the stack; free with stack_free()
 *
 * Return: 0, -ENOTSUP if the runtime libslirp is too old, -EINVAL if
 *	   slirp_new() refused the configuration
 */
/* the egress policy of --allow/--deny, --disable-host-loopback, --log-denied */
static int stack_policy_new(struct stack *st, const struct config *cfg)
{
    struct policy_names names = {
        .host4 = cfg->vhost, .dns4 = cfg->vnameserver,
        .ipv6 = cfg->enable_ipv6, .host6 = cfg->vhost6,
        .dns6 = cfg->vnameserver6,
        .prefix6 = cfg->vprefix6, .prefix6_len = cfg->vprefix6_len,
    };
    int r;

    st->vnetwork = cfg->vnetwork;
    st->vnetmask = cfg->vnetmask;
    r = policy_new(&names, cfg->disable_host_loopback, cfg->log_denied,
                   &st->policy);
    if (r < 0)
        return r;
    r = policy_set(st->policy, cfg->rules,
                   (const char *const *)cfg->rule_origins, cfg->n_rules,
                   cfg->default_deny ? POLICY_DENY : POLICY_ALLOW, false, NULL);
    st->policy_on = policy_active(st->policy);
    if (r == 0 && cfg->enable_ipv6) {
        struct syn6_names n6 = { .prefix = cfg->vprefix6,
                                 .prefix_len = cfg->vprefix6_len,
                                 .dns = cfg->vnameserver6 };

        r = syn6_new(&n6, &st->syn6);
    }
    return r;
}

/* a group's own resources: a tap writer and a ring for a worker's */
static int stack_group_init(struct stack *st, unsigned int idx, int tapfd)
{
    struct stack_group *g = &st->grp[idx];
    int r;

    g->st = st;
    g->idx = idx;
    g->last_guest_error_ms = INT64_MIN / 2;
    /* a system call rather than glib's global generator, which would read
     * /dev/urandom into a 2.5 KiB state kept for the daemon's life */
    if (getrandom(&g->frag6_id, sizeof(g->frag6_id), GRND_NONBLOCK) !=
        (ssize_t)sizeof(g->frag6_id))
        g->frag6_id = (uint32_t)g_random_int();
    g->ring.efd = -1;
    g->fitbuf = malloc(sizeof(struct ethhdr) + st->mtu);
    g->shards = calloc(st->n_shards, sizeof(*g->shards));
    if (!g->fitbuf || !g->shards)
        return -ENOMEM;
    if (idx == 0) {
        g->tap = st->tap;
        return 0;
    }
    r = tap_new(tapfd, &g->tap);
    if (r == 0)
        r = fring_init(&g->ring, STACK_RING_BYTES);
    if (r == 0) {
        r = -pthread_mutex_init(&g->lock, NULL);
        if (r < 0)
            fring_fini(&g->ring);
    }
    return r;
}

static void stack_group_fini(struct stack_group *g)
{
    if (g->coalesce)
        offload_txq_free(&g->txq);
    if (g->idx > 0 && g->tap) {
        tap_free(g->tap);
        fring_fini(&g->ring);
        pthread_mutex_destroy(&g->lock);
    }
    free(g->fitbuf);
    free(g->shards);
}

int stack_new(const struct config *cfg, int tapfd, struct stack **ret)
{
    struct steer_conf steer = {
        .shards = cfg->shards ? cfg->shards : 1,
        .dns4 = cfg->vnameserver,
        .dns6 = cfg->vnameserver6,
    };
    SlirpConfig sc = { 0 };
    struct stack *st;
    unsigned int i;
    int r;

    r = stack_check_runtime();
    if (r < 0)
        return r;

    st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->fin_timeout_ms = cfg->fin_timeout_ms;
    st->mtu = cfg->mtu;
    st->n_shards = steer.shards;
    st->n_groups = cfg->threads > 1 ? cfg->threads : 1;
    if (st->n_groups > st->n_shards)
        st->n_groups = st->n_shards;
    st->shard = calloc(st->n_shards, sizeof(*st->shard));
    for (i = 0; st->shard && i < st->n_shards; i++)
        st->shard[i].ps.epfd = -1;
    st->grp = calloc(st->n_groups, sizeof(*st->grp));
    if (!st->shard || !st->grp || tap_new(tapfd, &st->tap) < 0 ||
        pthread_mutex_init(&st->policy_lock, NULL) != 0) {
        free(st->grp);
        st->grp = NULL;
        stack_free(st);
        return -ENOMEM;
    }
    for (i = 0, r = 0; i < st->n_groups && r == 0; i++)
        r = stack_group_init(st, i, tapfd);
    if (r == 0)
        r = steer_new(&steer, &st->steer);
    if (r == 0)
        r = reasm6_new(&st->reasm6);
    if (r < 0) {
        stack_free(st);
        return r;
    }
    r = stack_policy_new(st, cfg);
    if (r < 0) {
        stack_free(st);
        return r;
    }

    sc.version = COMPAT_SLIRP_CONFIG_VERSION;
    sc.restricted = false;
    sc.in_enabled = true;
    sc.vnetwork = cfg->vnetwork;
    sc.vnetmask = cfg->vnetmask;
    sc.vhost = cfg->vhost;
    sc.in6_enabled = cfg->enable_ipv6;
    sc.vprefix_addr6 = cfg->vprefix6;
    sc.vprefix_len = (uint8_t)cfg->vprefix6_len;
    sc.vhost6 = cfg->vhost6;
    sc.vhostname = NULL;
    sc.tftp_server_name = NULL;
    sc.tftp_path = NULL;
    sc.bootfile = NULL;
    sc.vdhcp_start = cfg->vdhcp_start;
    sc.vnameserver = cfg->vnameserver;
    sc.vnameserver6 = cfg->vnameserver6;
    sc.vdnssearch = NULL;
    sc.vdomainname = NULL;
    /* if_mtu lets IPv6 super-frames in whole (offload.h); what libslirp
     * writes above the tap's MTU is cut in stack_send_packet() */
    sc.if_mtu = cfg->mtu > OFFLOAD_SLIRP_MTU ? cfg->mtu : OFFLOAD_SLIRP_MTU;
    sc.if_mru = cfg->mtu < STACK_MRU_MAX ? cfg->mtu : STACK_MRU_MAX;
    /* --disable-host-loopback is the policy's last rule (policy.c), so
     * that rules naming host-loopback can make exceptions to it */
    sc.disable_host_loopback = false;
    sc.enable_emu = false;
    st->out4 = cfg->outbound_addr;
    st->out6 = cfg->outbound_addr6;
    sc.outbound_addr = cfg->outbound_set ? &st->out4 : NULL;
    sc.outbound_addr6 = cfg->outbound6_set ? &st->out6 : NULL;
    sc.disable_dns = cfg->disable_dns;
    sc.disable_dhcp = false;

    st->sc = sc;
    for (i = 0; i < st->n_shards; i++) {
        r = stack_shard_init(st, i);
        if (r < 0) {
            stack_free(st);
            return r;
        }
    }
    *ret = st;
    return 0;
}

/**
 * stack_free() - destroy the libslirp instances (closes their sockets)
 * @st:	the stack, or NULL
 */
void stack_free(struct stack *st)
{
    unsigned int i;

    if (!st)
        return;
    for (i = 0; st->shard && i < st->n_shards; i++)
        stack_shard_fini(&st->shard[i]);
    free(st->shard);
    for (i = 0; st->grp && i < st->n_groups; i++)
        stack_group_fini(&st->grp[i]);
    if (st->grp)
        pthread_mutex_destroy(&st->policy_lock);
    free(st->grp);
    steer_free(st->steer);
    policy_free(st->policy);
    syn6_free(st->syn6);
    tap_free(st->tap);
    reasm6_free(st->reasm6);
    free(st);
}

/**
 * stack_slirp() - the instance that holds the port forwards (shard 0)
 * @st:	the stack
 *
 * Return: libslirp's instance
 */
Slirp *stack_slirp(struct stack *st)
{
    return st->shard[0].slirp;
}

/**
 * stack_connection_info() - slirp_connection_info() of every shard, as one
 *			     listing (one header line)
 * @st:	the stack
 *
 * Return: a string to g_free(), or NULL
 */
char *stack_connection_info(struct stack *st)
{
    GString *all = NULL;
    unsigned int i;

    for (i = 0; i < st->n_shards; i++) {
        char *info = st->shard[i].slirp ?
                     slirp_connection_info(st->shard[i].slirp) : NULL;
        const char *body;

        if (!info)
            continue;
        if (!all) {
            all = g_string_new(info);
        } else {
            body = strchr(info, '\n');    /* past the header line */
            if (body)
                g_string_append(all, body + 1);
        }
        g_free(info);
    }
    return all ? g_string_free(all, FALSE) : NULL;
}

/**
 * stack_shards() - how many libslirp instances run
 * @st:	the stack
 *
 * Return: the shard count
 */
unsigned int stack_shards(const struct stack *st)
{
    return st->n_shards;
}

/**
 * stack_set_vnet_hdr() - frames on the tap carry a virtio-net header
 * @st:		the stack
 * @len:	header length (10, or 12 with num_buffers), 0 for none
 *
 * With a header, frames to the tap are queued and TCP runs merged into GSO
 * frames at stack_flush().
 *
 * Return: 0 or -ENOMEM
 */
int stack_set_vnet_hdr(struct stack *st, int len)
{
    unsigned int i;
    int r;

    tap_set_vnet_hdr(st->tap, len);
    for (i = 0; i < st->n_groups; i++) {
        struct stack_group *g = &st->grp[i];

        if (g->tap != st->tap)
            tap_set_vnet_hdr(g->tap, len);
        if (len > 0 && !g->coalesce) {
            r = offload_txq_init(&g->txq);
            if (r < 0)
                return r;
            g->txq.mtu = st->mtu;
            g->coalesce = true;
        }
    }
    return 0;
}

const struct stack_stats *stack_get_stats(struct stack *st)
{
    const struct tap_stats *ts = tap_get_stats(st->tap);
    struct steer_stats ss;
    unsigned int i;

    st->stats.slirp_fds = 0;
    st->stats.epoll_ctls = 0;
    st->stats.epoll_shards = 0;
    st->stats.slirp_fills = 0;
    st->stats.slirp_polls = 0;
    for (i = 0; i < st->n_shards; i++) {
        const struct stack_shard *sh = &st->shard[i];

        st->stats.slirp_fds += sh->ps.n_want;
        st->stats.epoll_ctls += sh->ps.stats.ctl;
        st->stats.epoll_shards += !sh->ps.direct;
        st->stats.slirp_fills += sh->fills;
        st->stats.slirp_polls += sh->polls;
    }
    st->stats.shards = st->n_shards;
    st->stats.threads = st->n_groups;
    steer_get_stats(st->steer, &ss);
    st->stats.steered_flows = ss.flows;
    st->stats.steer_full = ss.full;
    st->stats.rx_frames = ts->rx_frames;
    st->stats.rx_bytes = ts->rx_bytes;
    st->stats.rx_dropped = ts->rx_dropped;
    st->stats.rx_gso_frames = ts->rx_gso_frames;
    st->stats.tx_frames = st->stats.tx_bytes = st->stats.tx_dropped = 0;
    st->stats.tx_gso_frames = st->stats.tx_gso_segments = 0;
    st->stats.tx_oversize = st->stats.guest_errors = 0;
    for (i = 0; i < st->n_groups; i++) {
        const struct stack_group *g = &st->grp[i];
        const struct tap_stats *gs = tap_get_stats(g->tap);

        st->stats.tx_frames += gs->tx_frames;
        st->stats.tx_bytes += gs->tx_bytes;
        st->stats.tx_dropped += gs->tx_dropped;
        st->stats.rx_dropped += g->ring_dropped;
        st->stats.guest_errors += g->guest_errors;
        st->stats.tx_oversize += g->tx_oversize_dropped;
        if (g->coalesce) {
            st->stats.tx_gso_frames += g->txq.gso_frames;
            st->stats.tx_gso_segments += g->txq.merged_frames;
            st->stats.tx_oversize += g->txq.oversize_dropped;
        }
    }
    st->stats.rx_reassembled = reasm6_get_stats(st->reasm6)->done;
    st->stats.rx_reasm_dropped = reasm6_get_stats(st->reasm6)->dropped;
    st->stats.vnet_hdr_len = tap_get_vnet_hdr(st->tap);
    return &st->stats;
}

static uint32_t stack_to_epoll(int events)
{
    uint32_t e = 0;

    if (events & SLIRP_POLL_IN)
        e |= EPOLLIN;
    if (events & SLIRP_POLL_OUT)
        e |= EPOLLOUT;
    if (events & SLIRP_POLL_PRI)
        e |= EPOLLPRI;
    return e;
}

static int stack_from_epoll(uint32_t revents)
{
    int e = 0;

    if (revents & EPOLLIN)
        e |= SLIRP_POLL_IN;
    if (revents & EPOLLOUT)
        e |= SLIRP_POLL_OUT;
    if (revents & EPOLLPRI)
        e |= SLIRP_POLL_PRI;
    if (revents & EPOLLERR)
        e |= SLIRP_POLL_ERR;
    if (revents & EPOLLHUP)
        e |= SLIRP_POLL_HUP;
    return e;
}

/* SlirpAddPollCb: one more socket to poll; its index is the fd itself, or
 * -1 if it could not be registered (it is then not polled this time, and
 * the next iteration fills again) */
static int stack_add_poll(int fd, int events, void *opaque)
{
    struct stack_shard *sh = opaque;
    uint32_t ev = stack_to_epoll(events);

    /* a listener whose accept() ran out of fds rests (fdlimit.c) */
    if ((ev & EPOLLIN) && fdlimit_paused(fd, sh->fill_ms))
        ev &= ~(uint32_t)EPOLLIN;
    return pollset_want(&sh->ps, fd, ev) < 0 ? -1 : fd;
}

static int stack_get_revents(int idx, void *opaque)
{
    struct stack_shard *sh = opaque;

    return stack_from_epoll(pollset_revents(&sh->ps, idx));
}

/* lower *timeout_ms to @left ms (clamped at 0) */
static void stack_lower_timeout(int *timeout_ms, int64_t left)
{
    if (left < 0)
        left = 0;
    if (*timeout_ms < 0 || left < *timeout_ms)
        *timeout_ms = (int)(left > INT_MAX ? INT_MAX : left);
}

/* run a shard's timers that are due; lower *timeout_ms to the next expiry */
static void stack_run_timers(struct stack_shard *sh, int64_t now,
                             int *timeout_ms)
{
    size_t i;

    for (i = 0; i < STACK_TIMERS_MAX; i++) {
        struct stack_timer *t = &sh->timers[i];

        if (!t->in_use || !t->armed)
            continue;
        if (t->expire_ms <= now) {
            t->armed = false;
            sh->dirty = true;
            if (t->opaque)
                slirp_handle_timer(sh->slirp, t->id, t->cb_opaque);
            else
                t->cb(t->cb_opaque);
            /* the callback may have re-armed it */
        }
        if (timeout_ms && t->in_use && t->armed)
            stack_lower_timeout(timeout_ms, t->expire_ms - now);
    }
}

/**
 * stack_touch() - libslirp may have changed outside the stack's calls
 * @st:	the stack
 *
 * For callers of stack_slirp() (the API's forwards): the next stack_fill()
 * enumerates libslirp's sockets again, in every shard.
 */
void stack_touch(struct stack *st)
{
    unsigned int i;

    for (i = 0; i < st->grp[0].n_shards; i++)
        st->grp[0].shards[i]->dirty = true;
    /* a worker's shards: at its next fill */
    for (i = 1; i < st->n_groups; i++)
        __atomic_store_n(&st->grp[i].touch, true, __ATOMIC_RELEASE);
}

/* a shard's fill; true if it walked libslirp's sockets */
static bool stack_shard_fill(struct stack_shard *sh, int64_t now,
                             int *timeout_ms)
{
    uint32_t t = UINT32_MAX;

    stack_run_timers(sh, now, timeout_ms);
    /* flows waiting for stack_reap(): come back when it may run */
    if (timewait_pending(sh->tw))
        stack_lower_timeout(timeout_ms, (sh->grp->reap_next_us -
                                         busypoll_now_us() + 999) / 1000);
    /* flows in CLOSE_WAIT: their next round (otherwise libslirp's own
     * slow timer brings the loop back while it has TCP sockets) */
    if (finwait_tracked(sh->fw))
        stack_lower_timeout(timeout_ms,
                            (sh->fin_next_us - busypoll_now_us() + 999) / 1000);
    if (sh->filled && !sh->dirty) {
        stack_lower_timeout(timeout_ms, sh->fill_ms + sh->wish_ms - now);
        return false;
    }
    pollset_begin(&sh->ps);
    sh->fill_ms = now;      /* (stack_add_poll() reads it) */
    /* ask for libslirp's own wish (2, 499 or 1000 ms), then combine */
    slirp_pollfds_fill(sh->slirp, &t, stack_add_poll, sh);
    pollset_end(&sh->ps);
    sh->fills++;
    sh->wish_ms = t;
    sh->filled = !sh->ps.failed;
    sh->dirty = false;
    stack_lower_timeout(timeout_ms, t);
    return true;
}

/*
 * Out of fds (fdlimit.c): one line per episode; a listener that began to
 * rest is registered again without EPOLLIN, one whose rest is over with it
 * (every shard fills again: the listeners are shard 0's, but libslirp's
 * own calls can fail in any).
 */
static void stack_fd_shortage(struct stack *st, int64_t now)
{
    int e = fdlimit_take_episode();

    if (e)
        warn("out of file descriptors (%s): libslirp's port forwards rest "
             "their listeners (%d ms at a time) and its connections out of "
             "the namespace are refused until some close, ignoring",
             strerror(e), FDLIMIT_PAUSE_MS);
    if (fdlimit_take_change() || (st->resume_ms && now >= st->resume_ms)) {
        stack_touch(st);
        st->resume_ms = 0;
    }
}

/**
 * stack_fill() - run libslirp's due timers and gather the sockets it wants
 *		  polled this iteration (into the epoll set of each shard)
 * @st:		the stack
 * @timeout_ms:	in: the caller's timeout (-1: none); out: lowered for
 *		libslirp's TCP and RA timers
 *
 * slirp_pollfds_fill() walks every socket of a libslirp instance,
 * TIME_WAIT ones included (thousands after a burst of short connections).
 * A shard where libslirp has not run since its last fill (no frame, no
 * event, no timer of its own) keeps that fill's sockets as they are.
 *
 * Return: 0
 */
/* the fills of a group's shards; true if one walked libslirp's sockets */
static bool stack_grp_fill(struct stack_group *g, int64_t now, int *timeout_ms)
{
    bool filled = false;
    unsigned int i;

    if (g->idx > 0 && __atomic_exchange_n(&g->touch, false, __ATOMIC_ACQUIRE))
        for (i = 0; i < g->n_shards; i++)
            g->shards[i]->dirty = true;
    for (i = 0; i < g->n_shards; i++)
        if (g->shards[i]->slirp)
            filled |= stack_shard_fill(g->shards[i], now, timeout_ms);
    return filled;
}

int stack_fill(struct stack *st, int *timeout_ms)
{
    int64_t now = stack_now_ms();

    stack_fd_shortage(st, now);
    if (stack_grp_fill(&st->grp[0], now, timeout_ms))
        st->resume_ms = fdlimit_next_resume(now);
    if (st->resume_ms)
        stack_lower_timeout(timeout_ms, st->resume_ms - now);
    return 0;
}

/**
 * stack_attach() - add each shard's set to the loop (loop_add_set(): type
 *		    EVT_STACK, data: the shard, for stack_on_ready())
 * @st:	the stack
 * @l:	the loop
 *
 * Return: 0 or -ENOMEM
 */
static int stack_grp_attach(struct stack_group *g, struct loop *l)
{
    unsigned int i;
    int r;

    for (i = 0; i < g->n_shards; i++) {
        r = loop_add_set(l, &g->shards[i]->ps.poll, &g->shards[i]->ps.n_poll,
                         EVT_STACK, g->shards[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

int stack_attach(struct stack *st, struct loop *l)
{
    return stack_grp_attach(&st->grp[0], l);
}

/**
 * stack_on_ready() - take the events of a shard's sockets, for stack_poll()
 * @st:		the stack
 * @shard:	the data of its loop entry (stack_attach()): one of its
 *		fds had events
 *
 * Return: 0 or a negative errno of epoll_wait()
 */
int stack_on_ready(struct stack *st, void *shard)
{
    struct stack_shard *sh = shard;
    int r = pollset_ready(&sh->ps);

    (void)st;
    return r < 0 ? r : 0;
}

/* does slirp_pollfds_poll() have anything to do after this poll()? */
static bool stack_poll_needed(struct stack_shard *sh, int64_t now)
{
    if (sh->must_poll || !sh->filled)
        return true;
    /* its timers: the delayed ACK (wish 2 ms), the slow timer (499 ms:
     * there are TCP sockets), and at least once a second regardless */
    if (now - sh->polled_ms >= 1000 ||
        (sh->wish_ms <= 2 && now - sh->fill_ms >= 2) ||
        (sh->wish_ms <= 499 && now - sh->slow_ms >= 499))
        return true;
    return sh->ps.n_ready > 0;
}

/*
 * Would a poll of this shard be for its slow timer alone (no event, no
 * frame since the fill, no delayed ACK due, no UDP or ICMP socket that its
 * fill may have to expire)?
 * Then unless the timers send or close something, what libslirp wants
 * polled is what the last fill found: a TCP timer changes a socket's
 * state only by sending (tcp_output(), tcp_respond()) or by closing it
 * (tcp_close()), and the fill's other work, expiring UDP and ICMP
 * sockets, is for shards that passed a datagram in the last 250 s. With
 * 10 000 idle connections the fill after each slow timer was a third of
 * the daemon's time.
 */
static bool stack_poll_quiet(const struct stack_shard *sh, int64_t now)
{
    return sh->filled && !sh->dirty && !sh->must_poll && !sh->ps.n_ready &&
           sh->wish_ms > 2 && now - sh->dgram_ms >= STACK_DGRAM_LIFE_MS;
}

/**
 * stack_poll() - let libslirp service its sockets and timers
 * @st:			the stack, after the poll() of its shards' fds
 * @poll_failed:	poll() returned an error: only run timers
 *
 * slirp_pollfds_poll() walks every socket of an instance again; it is
 * called for a shard only when one of its sockets has an event, one of its
 * timers is due, or a frame came in that can release output libslirp
 * holds back (ARP/NDP answers: only this call retries what waited for
 * them). Otherwise the call would find nothing to do.
 */
static void stack_grp_poll(struct stack_group *g, bool poll_failed)
{
    int64_t now = stack_now_ms();
    unsigned int i;

    for (i = 0; i < g->n_shards; i++) {
        struct stack_shard *sh = g->shards[i];

        if (!sh->slirp)
            continue;
        if (poll_failed || stack_poll_needed(sh, now)) {
            bool quiet = stack_poll_quiet(sh, now);
            uint32_t closes = fdgen_all();
            uint64_t sent = sh->sent;

            slirp_pollfds_poll(sh->slirp, poll_failed, stack_get_revents, sh);
            pollset_consumed(&sh->ps);
            sh->polls++;
            /* libslirp runs its slow timer when 499 ms have passed since
             * the last run and it has TCP sockets (wish <= 499); mirror
             * that */
            if (sh->wish_ms <= 499 && now - sh->slow_ms >= 499)
                sh->slow_ms = now;
            sh->polled_ms = now;
            sh->must_poll = false;
            /* only timers ran, and they neither sent nor closed anything:
             * the last fill's sockets and events stand, as of now */
            if (quiet && !poll_failed && sh->sent == sent &&
                fdgen_all() == closes)
                sh->fill_ms = now;
            else
                sh->dirty = true;
        }
        stack_run_timers(sh, now, NULL);
    }
}

void stack_poll(struct stack *st, bool poll_failed)
{
    stack_grp_poll(&st->grp[0], poll_failed);
}

/* can @fi put a libslirp socket in CLOSE_WAIT? A FIN, or what may hide
 * one from the classifier (a fragment, another or a broken header) */
static bool stack_may_close(const struct frame_info *fi)
{
    switch (fi->cls) {
    case FRAME_IP4_TCP:
    case FRAME_IP6_TCP:
        return fi->tcp_flags & FRAME_TCP_FIN;
    case FRAME_TRUNCATED:
    case FRAME_MALFORMED:
    case FRAME_IP4_FRAG:
    case FRAME_IP6_FRAG:
    case FRAME_IP4_OTHER:
    case FRAME_IP6_OTHER:
        return true;
    default:
        return false;
    }
}

/* one frame into one shard */
static void stack_shard_input(struct stack_shard *sh, const uint8_t *frame,
                              const struct frame_info *fi)
{
    if (stack_shard_start(sh) < 0)
        return;             /* no memory: as if the frame were lost */
    sh->dirty = true;
    /* after anything but TCP (an IP packet carrying TCP, fragments
     * included) slirp_pollfds_poll() must run */
    if (!fi->ipver || fi->l4proto != IPPROTO_TCP)
        sh->must_poll = true;
    if (stack_is_dgram(fi))
        sh->dgram_ms = stack_now_ms();
    if (stack_may_close(fi))
        sh->fin_maybe = true;
    slirp_input(sh->slirp, frame, (int)fi->len);
    timewait_note_in(sh->tw, frame, fi);
}

/*
 * A frame for a worker's shard (@tag: its index, or STACK_TAG_ALL for each
 * of the group's) into the group's ring; a sleeping worker is woken at
 * once (fring_wake()). When the ring is full the worker is kicked and
 * given up to STACK_RING_WAIT_US to make room before the frame is dropped
 * (counted in rx_dropped: TCP sends it again); after that, the group's
 * frames of the same batch are dropped without a wait, so a worker that
 * falls behind never holds the main thread up for more than one wait a
 * batch.
 */
static void stack_hand_over(struct stack_group *g, uint32_t tag,
                            const uint8_t *frame, const struct frame_info *fi)
{
    int64_t t0 = 0;

    while (fring_push(&g->ring, tag, frame, fi->len) == -ENOBUFS) {
        int64_t now = busypoll_now_us();

        if (g->ring_shed) {
            g->ring_dropped++;
            return;
        }
        if (!t0) {
            fring_kick(&g->ring);
            t0 = now;
        } else if (now - t0 > STACK_RING_WAIT_US) {
            g->ring_dropped++;
            g->ring_shed = true;
            return;
        }
        sched_yield();
    }
    fring_wake(&g->ring);
}

/* false: the policy refused the frame (and the refusal is queued) */
static bool stack_policy_pass(struct stack *st, const uint8_t *frame,
                              const struct frame_info *fi)
{
    uint8_t reply[POLICY_REPLY_MAX];
    struct frame_info rfi;
    size_t len = 0;

    enum policy_verdict v;

    if (st->n_groups > 1)
        pthread_mutex_lock(&st->policy_lock);
    v = policy_check(st->policy, frame, fi, stack_now_ms(), reply, &len);
    if (st->n_groups > 1)
        pthread_mutex_unlock(&st->policy_lock);
    switch (v) {
    case POLICY_PASS:
        return true;
    case POLICY_REPLY:
        frame_parse(reply, len, &rfi);
        stack_queue_parsed(&st->grp[0], reply, &rfi);
        return false;
    case POLICY_DROP:
    default:
        return false;
    }
}

/* a line of the listing that is one of libslirp's IPv6 TCP sockets */
static bool stack_syn6_sock_of(const struct slirpinfo_conn *c,
                               struct syn6_sock *k)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    long sport, dport;
    char *e1, *e2;

    if (strcmp(c->proto, "tcp") || c->fd < 0 ||
        !strcmp(c->state, "HOST_FORWARD") || !strcmp(c->state, "LISTEN"))
        return false;
    sport = strtol(c->sport, &e1, 10);
    dport = strtol(c->dport, &e2, 10);
    if (*e1 || *e2 || sport < 0 || sport > 65535 || dport < 0 || dport > 65535)
        return false;
    if (getsockname(c->fd, (struct sockaddr *)&ss, &len) < 0 ||
        ss.ss_family != AF_INET6)
        return false;
    memset(k, 0, sizeof(*k));
    k->fd = c->fd;
    k->sport = (uint16_t)sport;
    k->dport = (uint16_t)dport;
    /* kept for the sweep, never cut */
    k->ended = !strcmp(c->state, "TIME_WAIT") || !strcmp(c->state, "CLOSED") ||
               !strcmp(c->state, "NONE");
    len = sizeof(k->peer);
    k->has_peer = getpeername(c->fd, (struct sockaddr *)&k->peer, &len) == 0 &&
                  k->peer.sin6_family == AF_INET6;
    return true;
}

/* libslirp's IPv6 TCP sockets, every shard's, for syn6_resolve() */
static int stack_syn6_socks(struct stack *st, struct syn6_sock **ret,
                            size_t *ret_n)
{
    struct syn6_sock *socks = NULL, *grown;
    size_t n = 0, cap = 0;
    unsigned int i;

    for (i = 0; i < st->n_shards; i++) {
        char *info = st->shard[i].slirp ?
                     slirp_connection_info(st->shard[i].slirp) : NULL, *p, *nl;

        for (p = info; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
            struct slirpinfo_conn c;

            nl = strchr(p, '\n');
            if (!slirpinfo_parse(p, nl ? (size_t)(nl - p) : strlen(p), &c))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                grown = realloc(socks, cap * sizeof(*socks));
                if (!grown) {
                    g_free(info);
                    free(socks);
                    return -ENOMEM;
                }
                socks = grown;
            }
            if (stack_syn6_sock_of(&c, &socks[n]))
                n++;
        }
        g_free(info);
    }
    *ret = socks;
    *ret_n = n;
    return 0;
}

/* a SYN from the namespace over IPv6 that libslirp is about to get: its
 * flow recorded; a full table is swept first (what no socket has) */
static void stack_syn6_note(struct stack *st, const struct frame_info *fi)
{
    struct syn6_sock *socks;
    size_t n;
    int r;

    if (syn6_note(st->syn6, fi) != -ENOSPC)
        return;
    /* the listing reads every shard: the worker threads' too */
    stack_pause(st);
    r = stack_syn6_socks(st, &socks, &n);
    stack_resume(st);
    if (r < 0)
        return;
    syn6_resolve(st->syn6, socks, n, NULL, NULL);
    free(socks);
    syn6_note(st->syn6, fi);
}

/* tap_frame_fn: one frame from the namespace (or a TSO6 segment),
 * classified once by tap_read_frames(), to its shard (or to all) */
static void stack_input(void *opaque, const uint8_t *frame,
                        const struct frame_info *fi)
{
    struct stack *st = opaque;
    struct frame_info whole;
    const uint8_t *f;
    unsigned int i;
    size_t len;
    int to;

    if (fi->cls == FRAME_IP6_FRAG) {
        /* libslirp drops IPv6 fragments: it gets the datagram */
        to = reasm6_add(st->reasm6, frame, fi, stack_now_ms(), &f, &len);
        if (to == 0)
            return;
        if (to == 1) {
            frame_parse(f, len, &whole);
            frame = f;
            fi = &whole;
        }
    }
    /* the egress policy, and the IPv6 flows a reset must find: a TCP
     * segment other than a SYN without ACK (every segment of an
     * established flow) costs this one test */
    if ((st->policy_on || st->syn6) &&
        !(frame_is_tcp(fi) && (fi->tcp_flags & (FRAME_TCP_SYN | FRAME_TCP_ACK)) !=
          FRAME_TCP_SYN)) {
        if (st->policy_on && !stack_policy_pass(st, frame, fi))
            return;
        if (st->syn6 && fi->cls == FRAME_IP6_TCP &&
            !(fi->tcp_flags & FRAME_TCP_RST))
            stack_syn6_note(st, fi);
    }
    if (st->n_shards == 1) {
        stack_shard_input(&st->shard[0], frame, fi);
        return;
    }
    to = steer_in(st->steer, frame, fi, stack_now_ms());
    if (to != STEER_ALL) {
        if (st->shard[to].grp->idx == 0)
            stack_shard_input(&st->shard[to], frame, fi);
        else
            stack_hand_over(st->shard[to].grp, (uint32_t)to, frame, fi);
        return;
    }
    /* ARP, NDP: the instances that run (one that starts later asks); a
     * worker picks its own running ones (stack_group_drain()) */
    for (i = 0; i < st->grp[0].n_shards; i++)
        if (st->grp[0].shards[i]->slirp)
            stack_shard_input(st->grp[0].shards[i], frame, fi);
    for (i = 1; i < st->n_groups; i++)
        stack_hand_over(&st->grp[i], STACK_TAG_ALL, frame, fi);
}

/**
 * stack_policy() - the egress policy (for the API)
 * @st:	the stack
 *
 * Return: the policy
 */
struct policy *stack_policy(struct stack *st)
{
    return st->policy;
}

/**
 * stack_get_syn6_stats() - the IPv6 flows recorded for a policy reset
 * @st:		the stack
 * @ret:	the counters
 *
 * Return: false without -6 (nothing recorded, @ret untouched)
 */
bool stack_get_syn6_stats(struct stack *st, struct syn6_stats *ret)
{
    if (!st->syn6)
        return false;
    syn6_get_stats(st->syn6, ret);
    return true;
}

/* syn6_deny_fn: the new rules deny an IPv6 flow */
static bool stack_syn6_denied(const struct syn6_flow *f, void *opaque)
{
    struct stack *st = opaque;

    return policy_recheck(st->policy, 6, POLICY_PROTO_TCP, &f->daddr,
                          f->dport) == POLICY_DENY;
}

/* libslirp's IPv6 TCP connections out of the namespace that the policy
 * denies, found through the flows the namespace started (syn6.c) */
static unsigned int stack_policy_cut6(struct stack *st)
{
    struct sockaddr sa = { .sa_family = AF_UNSPEC };
    struct syn6_sock *socks;
    unsigned int cut = 0;
    size_t n, i;

    if (!st->syn6 || stack_syn6_socks(st, &socks, &n) < 0)
        return 0;
    if (syn6_resolve(st->syn6, socks, n, stack_syn6_denied, st) == 0)
        for (i = 0; i < n; i++)
            if (socks[i].cut && connect(socks[i].fd, &sa, sizeof(sa)) == 0)
                cut++;
    free(socks);
    return cut;
}

/* libslirp's TCP connections out of the namespace that @p denies:
 * disconnected (connect(AF_UNSPEC), as finwait.c does: the remote gets an
 * RST, libslirp reads ECONNRESET and resets the namespace's side). IPv4
 * ones are read from the listing; IPv6 ones through stack_policy_cut6() */
static unsigned int stack_policy_cut(struct stack *st)
{
    unsigned int i, n = stack_policy_cut6(st);

    for (i = 0; i < st->n_shards; i++) {
        char *info = st->shard[i].slirp ?
                     slirp_connection_info(st->shard[i].slirp) : NULL, *p, *nl;

        for (p = info; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
            struct sockaddr sa = { .sa_family = AF_UNSPEC };
            struct slirpinfo_conn c;
            struct in_addr src, dst;
            long port;
            char *end;

            nl = strchr(p, '\n');
            if (!slirpinfo_parse(p, nl ? (size_t)(nl - p) : strlen(p), &c) ||
                strcmp(c.proto, "tcp") || c.fd < 0 ||
                !strcmp(c.state, "HOST_FORWARD") || !strcmp(c.state, "LISTEN") ||
                !strcmp(c.state, "TIME_WAIT") || !strcmp(c.state, "CLOSED") ||
                !strcmp(c.state, "NONE") ||
                inet_pton(AF_INET, c.src, &src) != 1 ||
                inet_pton(AF_INET, c.dst, &dst) != 1)
                continue;
            /* out of the namespace: the source is in its network (a
             * forward's connection lists the host's address there) */
            if ((src.s_addr & st->vnetmask.s_addr) != st->vnetwork.s_addr)
                continue;
            port = strtol(c.dport, &end, 10);
            if (*end || port < 1 || port > 65535)
                continue;
            if (policy_recheck(st->policy, 4, POLICY_PROTO_TCP, &dst,
                               (uint16_t)port) != POLICY_DENY)
                continue;
            if (connect(c.fd, &sa, sizeof(sa)) == 0)
                n++;
        }
        g_free(info);
        stack_touch(st);
    }
    return n;
}

/**
 * stack_policy_set() - replace the egress policy's rules
 * @st:		the stack
 * @rules, @origins, @n, @dflt:	as policy_set()
 * @reset:	also end what the new rules deny and is open: libslirp's
 *		TCP connections out of the namespace, and the UDP and echo
 *		flows allowed so far (their next datagram is checked again)
 * @ret_cut:	the TCP connections ended
 * @e:		why not
 *
 * Return: 0 or a negative errno (the old rules stay)
 */
int stack_policy_set(struct stack *st, const struct policy_rule *rules,
                     const char *const *origins, size_t n,
                     enum policy_action dflt, bool reset,
                     unsigned int *ret_cut, struct err *e)
{
    int r = policy_set(st->policy, rules, origins, n, dflt, reset, e);

    st->policy_on = policy_active(st->policy);
    *ret_cut = 0;
    if (r == 0 && reset)
        *ret_cut = stack_policy_cut(st);
    return r;
}

/**
 * stack_tap_read() - drain frames from the tap into libslirp
 * @st:		the stack
 * @budget:	at most this many frames, so host sockets are not starved
 *
 * Return: frames read (>= 0), or a negative errno if the tap failed
 *	   (-EBADFD: the interface is gone)
 */
int stack_tap_read(struct stack *st, unsigned int budget)
{
    unsigned int i;

    for (i = 1; i < st->n_groups; i++)
        st->grp[i].ring_shed = false;
    return tap_read_frames(st->tap, budget, stack_input, st);
}

/* timewait_inject_fn: a frame as if from the namespace, to the shard
 * whose flow it ends */
static void stack_inject(void *arg, const uint8_t *frame, size_t len)
{
    struct stack_shard *sh = arg;

    slirp_input(sh->slirp, frame, (int)len);
}

/* is a round of finwait.c due in a shard? (libslirp has TCP sockets
 * there: its slow timer runs, wish_ms <= 499) */
static bool stack_fin_due(const struct stack_shard *sh, int64_t now_us)
{
    return sh->slirp && sh->st->fin_timeout_ms > 0 &&
           now_us >= sh->fin_next_us &&
           (sh->wish_ms <= 499 || finwait_tracked(sh->fw));
}

/* the time between two of finwait.c's rounds in a shard */
static int64_t stack_fin_round(const struct stack *st)
{
    int64_t round = st->fin_timeout_ms * 1000 / 8;

    if (round < STACK_FIN_ROUND_MIN_US)
        round = STACK_FIN_ROUND_MIN_US;
    if (round > STACK_FIN_ROUND_MAX_US)
        round = STACK_FIN_ROUND_MAX_US;
    return round;
}

/*
 * A round of finwait.c that could only find what the last one found: no
 * flow followed, no line left unfollowed, no FIN from the namespace since.
 * A socket enters CLOSE_WAIT only on such a FIN, so the listing (every
 * socket of the shard printed and parsed: with 10 000 idle connections a
 * sixth of the daemon's time) is skipped and the round counts as done.
 */
static bool stack_fin_skip(struct stack_shard *sh, int64_t now_us)
{
    if (sh->fin_maybe || finwait_tracked(sh->fw))
        return false;
    sh->fin_next_us = now_us + stack_fin_round(sh->st);
    return true;
}

/* one listing of a shard's sockets for its reaper and finwait.c's round */
static void stack_shard_reap(struct stack_shard *sh, bool tw, bool fin)
{
    struct stack *st = sh->st;
    int64_t t0 = busypoll_now_us(), t1, round;
    char *info = slirp_connection_info(sh->slirp);

    t1 = busypoll_now_us();
    if (!info)
        return;
    /*
     * The listing walks (and prints) every socket of the instance: with
     * many long-lived connections and a stream of short ones it must not
     * take the loop over. The shards share one budget: the next listing
     * for a reaper, of any shard, comes no sooner than 25 times what this
     * one took, and no later than STACK_REAP_MAX_US (ready flows wait and
     * are then reset together; their sockets' own cost is not counted, or
     * a slow round would space the next ones out, and the list grow).
     */
    if (tw) {
        sh->grp->reap_next_us = t1 + STACK_REAP_FACTOR * (t1 - t0);
        if (sh->grp->reap_next_us > t1 + STACK_REAP_MAX_US)
            sh->grp->reap_next_us = t1 + STACK_REAP_MAX_US;
        timewait_reap(sh->tw, info, stack_inject, sh);
    }
    if (fin) {
        round = stack_fin_round(st);
        if (round < STACK_REAP_FACTOR * (t1 - t0))
            round = STACK_REAP_FACTOR * (t1 - t0);
        sh->fin_next_us = t1 + round;
        finwait_scan(sh->fw, info, t1 / 1000, st->fin_timeout_ms,
                     &finwait_socket_ops);
        sh->fin_maybe = finwait_unfollowed(sh->fw) > 0;
    }
    g_free(info);
    sh->dirty = true;
}

/**
 * stack_reap() - end the TIME_WAIT of flows libslirp closed first, once
 *		  their close is complete (see timewait.c), and the flows
 *		  the namespace closed that stayed idle for --fin-timeout
 *		  (finwait.c)
 * @st:	the stack
 *
 * At most one slirp_connection_info() listing, of one shard, per call
 * (the shards take turns): for the TIME_WAIT reaper only in iterations
 * where such a close completed in it (or waits for its receive buffer to
 * drain), at most about a 26th of the time over all shards; for
 * finwait.c's round an eighth of --fin-timeout apart (within 0.25 and
 * 5 s) while the shard has TCP sockets. One listing serves both when both
 * are due.
 */
static void stack_grp_reap(struct stack_group *g)
{
    int64_t now = busypoll_now_us();
    unsigned int i;

    for (i = 0; i < g->n_shards; i++) {
        unsigned int k = (g->reap_next + i) % g->n_shards;
        struct stack_shard *sh = g->shards[k];
        bool tw = now >= g->reap_next_us && timewait_pending(sh->tw);
        bool fin = stack_fin_due(sh, now) && !stack_fin_skip(sh, now);

        if (!tw && !fin)
            continue;
        stack_shard_reap(sh, tw, fin);
        g->reap_next = (k + 1) % g->n_shards;
        return;
    }
}

void stack_reap(struct stack *st)
{
    stack_grp_reap(&st->grp[0]);
}

/**
 * stack_get_finwait_stats() - finwait.c's counters, summed over the shards
 * @st:		the stack
 * @ret:	filled
 */
void stack_get_finwait_stats(struct stack *st, struct finwait_stats *ret)
{
    unsigned int i;

    memset(ret, 0, sizeof(*ret));
    for (i = 0; i < st->n_shards; i++) {
        struct finwait_stats s;

        finwait_get_stats(st->shard[i].fw, &s);
        ret->ended += s.ended;
        ret->untracked += s.untracked;
        ret->held += s.held;
    }
}

/**
 * stack_get_timewait_stats() - the TIME_WAIT reaper's counters, summed
 *				over the shards
 * @st:		the stack
 * @ret:	filled
 */
void stack_get_timewait_stats(struct stack *st, struct timewait_stats *ret)
{
    unsigned int i;

    memset(ret, 0, sizeof(*ret));
    for (i = 0; i < st->n_shards; i++) {
        struct timewait_stats s;

        timewait_get_stats(st->shard[i].tw, &s);
        ret->reaped += s.reaped;
        ret->deferred += s.deferred;
        ret->dropped += s.dropped;
    }
}

/* ------------------------------------------------ worker threads' groups */

/**
 * stack_groups() - how many threads run the shards (--threads)
 * @st:	the stack
 *
 * Return: 1 (the main thread alone) or more; groups 1.. are the workers'
 */
unsigned int stack_groups(const struct stack *st)
{
    return st->n_groups;
}

/**
 * stack_group_attach() - add a worker group's fds to its thread's loop: its
 *			  shards' sets (EVT_STACK, data: the shard) and
 *			  its ring's eventfd (EVT_RING)
 * @st:	the stack
 * @gi:	the group, >= 1
 * @l:	the worker's loop
 *
 * Return: 0 or -ENOMEM
 */
int stack_group_attach(struct stack *st, unsigned int gi, struct loop *l)
{
    struct stack_group *g = &st->grp[gi];
    int r = stack_grp_attach(g, l);

    if (r < 0)
        return r;
    return loop_add(l, fring_fd(&g->ring), POLLIN, EVT_RING, NULL);
}

/**
 * stack_group_fill() - a worker's stack_fill(): its shards' timers and fills
 * @st:		the stack
 * @gi:		the group, >= 1 (its lock held)
 * @timeout_ms:	in/out, as stack_fill()'s
 */
void stack_group_fill(struct stack *st, unsigned int gi, int *timeout_ms)
{
    struct stack_group *g = &st->grp[gi];

    stack_grp_fill(g, stack_now_ms(), timeout_ms);
    /* frames came since the last drain without a kick (the worker was
     * not asleep): the ring's fd must wake the poll for them */
    if (!fring_sleep(&g->ring))
        fring_kick(&g->ring);
}

/**
 * stack_group_drain() - a worker takes the frames the main thread handed
 *			 over to its shards
 * @st:	the stack
 * @gi:	the group, >= 1 (its lock held)
 *
 * At most STACK_RING_BATCH frames: if more wait, the worker kicks itself
 * and comes back after an iteration (its sockets are not starved).
 */
void stack_group_drain(struct stack *st, unsigned int gi)
{
    struct stack_group *g = &st->grp[gi];
    struct frame_info fi;
    const uint8_t *f;
    unsigned int n, i;
    uint32_t tag;
    size_t len;

    fring_awake(&g->ring);
    fring_ack(&g->ring);
    for (n = 0; n < STACK_RING_BATCH; n++) {
        f = fring_peek(&g->ring, &tag, &len);
        if (!f)
            return;
        frame_parse(f, len, &fi);
        if (tag == STACK_TAG_ALL) {
            for (i = 0; i < g->n_shards; i++)
                if (g->shards[i]->slirp)
                    stack_shard_input(g->shards[i], f, &fi);
        } else if (tag < st->n_shards && st->shard[tag].grp == g) {
            stack_shard_input(&st->shard[tag], f, &fi);
        }
        fring_pop(&g->ring);
    }
    fring_kick(&g->ring);
}

/**
 * stack_group_after() - a worker's stack_poll(), stack_reap() and
 *			 stack_flush()
 * @st:			the stack
 * @gi:			the group, >= 1 (its lock held)
 * @poll_failed:	its poll() failed: only timers
 */
void stack_group_after(struct stack *st, unsigned int gi, bool poll_failed)
{
    struct stack_group *g = &st->grp[gi];

    fring_awake(&g->ring);
    stack_grp_poll(g, poll_failed);
    stack_grp_reap(g);
    stack_group_flush(g);
}

/**
 * stack_group_lock() - a worker runs libslirp (or the main thread stops it)
 * @st:	the stack
 * @gi:	the group, >= 1
 */
void stack_group_lock(struct stack *st, unsigned int gi)
{
    pthread_mutex_lock(&st->grp[gi].lock);
}

/**
 * stack_group_unlock() - the end of stack_group_lock()
 * @st:	the stack
 * @gi:	the group, >= 1
 */
void stack_group_unlock(struct stack *st, unsigned int gi)
{
    pthread_mutex_unlock(&st->grp[gi].lock);
}

/**
 * stack_group_kick() - wake a worker (to see that it must stop)
 * @st:	the stack
 * @gi:	the group, >= 1
 */
void stack_group_kick(struct stack *st, unsigned int gi)
{
    fring_kick(&st->grp[gi].ring);
}

/**
 * stack_pause() - stop every worker between two of its iterations, so the
 *		   main thread may read or change any shard (the API)
 * @st:	the stack
 *
 * A worker holds its lock while it runs libslirp and lets go of it before
 * it waits: the pause waits at most for one of its iterations.
 */
void stack_pause(struct stack *st)
{
    unsigned int i;

    for (i = 1; i < st->n_groups; i++)
        pthread_mutex_lock(&st->grp[i].lock);
}

/**
 * stack_resume() - the end of stack_pause()
 * @st:	the stack
 */
void stack_resume(struct stack *st)
{
    unsigned int i;

    for (i = st->n_groups; i-- > 1;)
        pthread_mutex_unlock(&st->grp[i].lock);
}

/**
 * stack_bytes() - bytes the main thread moved between the tap and libslirp
 *		   (busy-poll's bulk test; the workers' are theirs)
 * @st:	the stack
 *
 * Return: a running count
 */
uint64_t stack_bytes(const struct stack *st)
{
    const struct tap_stats *ts = tap_get_stats(st->tap);

    return ts->rx_bytes + ts->tx_bytes;
}
