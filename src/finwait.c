/* SPDX-License-Identifier: GPL-2.0-or-later */
/* finwait.c - ends libslirp's flows that the namespace closed and the remote never did, after --fin-timeout */
/*
 * DOC: Theory of Operation
 *
 * When the namespace closes its side of a TCP connection first, libslirp
 * 4.7 moves the flow's tcpcb to CLOSE_WAIT and (once its buffer towards the
 * host has drained) shuts the writing side of its host socket. From then on
 * only the remote's FIN ends the flow: libslirp arms no timer in
 * CLOSE_WAIT (its keepalive is off). A remote that never closes (a server
 * that ignores the client's half-close, a peer that vanished) keeps the
 * host fd, two socket buffers and a place in every libslirp walk for ever,
 * and the namespace's socket in FIN_WAIT2 with them.
 *
 * The kernel bounds that state for an orphan (a socket its process closed):
 * tcp_fin_timeout (60 s) after FIN_WAIT2 began, the socket goes. slirpd
 * ends such a flow after --fin-timeout (default 60 s, the same). It cannot
 * tell an orphan from a process that only shut its writing side and still
 * reads (`nc -N`, a request followed by a long answer), so the clock runs
 * only while the flow is idle: the remote sends nothing (the host socket's
 * bytes received, TCP_INFO), and nothing moves through libslirp's buffers
 * (the listing's Recv-Q and Send-Q). Any change starts the clock again, so
 * an answer that is still coming is never cut.
 *
 * What is visible of libslirp is slirp_connection_info() (slirpinfo.c): a
 * line per socket with its state, its host fd and its ports. stack.c lists
 * at a bounded rate and hands the text to finwait_scan(), which follows
 * every CLOSE_WAIT line in a table (a line hashes to a group of slots; a
 * full group doubles the table, from FINWAIT_SLOTS_MIN when the first line
 * needs it up to FINWAIT_SLOTS; then a line that finds its group full is
 * simply not followed in this round) stamped with when its idle time
 * began. A table of the full size from the start cost every shard its
 * pages as the hashes of passing flows touched them. A line that no longer
 * shows is forgotten at the end of the round.
 *
 * Ending a flow: connect(AF_UNSPEC) on libslirp's host socket (the
 * kernel's tcp_disconnect()). The kernel sends the remote an RST, as it
 * does for an aborted socket (the remote's CLOSE_WAIT socket learns at
 * once, instead of when it next writes), and the socket reports
 * ECONNRESET. libslirp's next poll reads that error and drops the flow
 * (tcp_drop()): it sends the namespace an RST with its own sequence
 * numbers, so the namespace's FIN_WAIT2 socket goes too, and closes the
 * fd. Only a flow with an empty Send-Q is ended so: every byte libslirp
 * sent was acknowledged, so its RST carries exactly the sequence number
 * the namespace expects (RFC 5961 refuses any other), and libslirp's read
 * of the error never meets a full buffer (soread() asserts against one). A
 * due flow that still owes the namespace bytes has a namespace socket that
 * does not read (its window is shut): an orphan would have answered those
 * bytes with an RST already, which ends the flow, so it belongs to a
 * process that still holds it, and is left (counted as held).
 */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fdgen.h"
#include "finwait.h"
#include "slirpinfo.h"

#define FINWAIT_GROUP 8             /* slots probed per flow */

struct finwait_key {
    int fd;                         /* libslirp's host socket */
    uint32_t fdgen;                 /* its number's closes (fdgen.c) */
    uint16_t sport, dport;          /* as listed */
};

struct finwait_ent {
    bool used;
    uint32_t round;                 /* the last scan that listed it */
    uint64_t sig;                   /* what moved: buffers, bytes received */
    int64_t since_ms;               /* idle since */
    struct finwait_key k;
};

struct finwait {
    struct finwait_ent *tab;        /* NULL until a line needs it */
    unsigned int cap;               /* its slots: a power of two */
    uint32_t round;
    unsigned int used;
    unsigned int listed;            /* CLOSE_WAIT lines in the last scan */
    struct finwait_stats st;
};

static uint32_t finwait_hash(const struct finwait_key *k)
{
    uint32_t h = 2166136261u;
    uint32_t w[3] = { (uint32_t)k->fd, k->fdgen,
                      (uint32_t)k->sport << 16 | k->dport };
    const uint8_t *p = (const uint8_t *)w;
    size_t i;

    for (i = 0; i < sizeof(w); i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static bool finwait_key_eq(const struct finwait_key *a,
                           const struct finwait_key *b)
{
    return a->fd == b->fd && a->fdgen == b->fdgen && a->sport == b->sport &&
           a->dport == b->dport;
}

/* the first slot of @k's group in a table of @cap slots */
static uint32_t finwait_group(const struct finwait_key *k, unsigned int cap)
{
    return finwait_hash(k) & (cap - 1) & ~(FINWAIT_GROUP - 1u);
}

/*
 * A table of @cap slots with every entry of the old one (each old group
 * splits into two new ones: none overflows). Return: 0 or -ENOMEM (the
 * old table stays)
 */
static int finwait_resize(struct finwait *fw, unsigned int cap)
{
    struct finwait_ent *tab = calloc(cap, sizeof(*tab));
    unsigned int i, j;

    if (!tab)
        return -ENOMEM;
    for (i = 0; i < fw->cap; i++) {
        const struct finwait_ent *e = &fw->tab[i];
        uint32_t base;

        if (!e->used)
            continue;
        base = finwait_group(&e->k, cap);
        for (j = 0; tab[base + j].used; j++)
            ;
        tab[base + j] = *e;
    }
    free(fw->tab);
    fw->tab = tab;
    fw->cap = cap;
    return 0;
}

/* @k's entry; or a free slot of its group (*@fresh), the table grown while
 * it may; or NULL: group full */
static struct finwait_ent *finwait_lookup(struct finwait *fw,
                                          const struct finwait_key *k,
                                          bool *fresh)
{
    struct finwait_ent *free_slot;
    uint32_t base;
    unsigned int i;

    if (!fw->tab && finwait_resize(fw, FINWAIT_SLOTS_MIN) < 0)
        return NULL;
again:
    free_slot = NULL;
    base = finwait_group(k, fw->cap);
    for (i = 0; i < FINWAIT_GROUP; i++) {
        struct finwait_ent *e = &fw->tab[base + i];

        if (e->used && finwait_key_eq(&e->k, k)) {
            *fresh = false;
            return e;
        }
        if (!e->used && !free_slot)
            free_slot = e;
    }
    if (!free_slot && fw->cap < FINWAIT_SLOTS &&
        finwait_resize(fw, fw->cap * 2) == 0)
        goto again;
    *fresh = true;
    return free_slot;
}

static void finwait_forget(struct finwait *fw, struct finwait_ent *e)
{
    fw->used--;
    memset(e, 0, sizeof(*e));
}

/**
 * finwait_new() - an empty table
 * @ret:	the new state
 *
 * Return: 0 or -ENOMEM
 */
int finwait_new(struct finwait **ret)
{
    struct finwait *fw = calloc(1, sizeof(*fw));

    if (!fw)
        return -ENOMEM;
    *ret = fw;
    return 0;
}

void finwait_free(struct finwait *fw)
{
    if (!fw)
        return;
    free(fw->tab);
    free(fw);
}

static uint64_t finwait_sig(long recvq, long sendq, uint64_t progress)
{
    uint64_t h = 1469598103934665603ull;

    h = (h ^ (uint64_t)recvq) * 1099511628211ull;
    h = (h ^ (uint64_t)sendq) * 1099511628211ull;
    return (h ^ progress) * 1099511628211ull;
}

/* one CLOSE_WAIT line: follow it; end it when it has been idle too long */
static void finwait_line(struct finwait *fw, const struct slirpinfo_conn *c,
                         int64_t now_ms, int64_t timeout_ms,
                         const struct finwait_ops *ops)
{
    struct finwait_key k = {
        .fd = c->fd,
        .fdgen = fdgen_get(c->fd),
        .sport = (uint16_t)atoi(c->sport),
        .dport = (uint16_t)atoi(c->dport),
    };
    struct finwait_ent *e;
    uint64_t progress, sig;
    bool fresh;

    if (k.fd < 0)
        return;
    e = finwait_lookup(fw, &k, &fresh);
    if (!e) {
        fw->st.untracked++;
        return;
    }
    /* an entry's socket was checked when it was made: its number has not
     * been closed since (fdgen.c), so only its counter is read again */
    if (ops->probe(k.fd, k.sport, k.dport, !fresh && fdgen_known(k.fd),
                   &progress) < 0) {
        if (!fresh)
            finwait_forget(fw, e);
        return;
    }
    sig = finwait_sig(c->recvq, c->sendq, progress);
    if (fresh) {
        e->used = true;
        e->k = k;
        fw->used++;
    }
    if (fresh || e->sig != sig) {
        e->sig = sig;
        e->since_ms = now_ms;
    }
    e->round = fw->round;
    if (now_ms - e->since_ms < timeout_ms)
        return;
    if (c->sendq != 0) {
        fw->st.held++;
        return;
    }
    if (ops->end(k.fd) == 0)
        fw->st.ended++;
    finwait_forget(fw, e);
}

/**
 * finwait_scan() - one round over libslirp's listing
 * @fw:		the table
 * @conn_info:	slirp_connection_info()'s text, taken just now (its fds
 *		are libslirp's sockets until libslirp runs again)
 * @now_ms:	a monotonic clock, in ms
 * @timeout_ms:	how long a flow may stay idle in CLOSE_WAIT
 * @ops:	what is done to a socket (finwait_socket_ops)
 *
 * Return: the flows ended in this round
 */
unsigned int finwait_scan(struct finwait *fw, const char *conn_info,
                          int64_t now_ms, int64_t timeout_ms,
                          const struct finwait_ops *ops)
{
    uint64_t ended = fw->st.ended;
    const char *l = conn_info;
    size_t i;

    if (++fw->round == 0)
        fw->round = 1;
    fw->listed = 0;
    while (l && *l) {
        const char *nl = strchr(l, '\n');
        struct slirpinfo_conn c;

        if (slirpinfo_parse(l, nl ? (size_t)(nl - l) : strlen(l), &c) &&
            !strcmp(c.proto, "tcp") && !strcmp(c.state, "CLOSE_WAIT")) {
            fw->listed++;
            finwait_line(fw, &c, now_ms, timeout_ms, ops);
        }
        l = nl ? nl + 1 : NULL;
    }
    /* what this listing did not show has left CLOSE_WAIT */
    for (i = 0; i < fw->cap && fw->used; i++)
        if (fw->tab[i].used && fw->tab[i].round != fw->round)
            finwait_forget(fw, &fw->tab[i]);
    return (unsigned int)(fw->st.ended - ended);
}

/**
 * finwait_tracked() - flows in CLOSE_WAIT that the last scan followed
 * @fw:	the table
 *
 * Return: their number
 */
unsigned int finwait_tracked(const struct finwait *fw)
{
    return fw->used;
}

/**
 * finwait_unfollowed() - CLOSE_WAIT lines of the last scan that are not
 *			  followed now: ended in it, refused by the probe, or
 *			  no room
 * @fw:	the table
 *
 * Return: their number (0 before the first scan)
 */
unsigned int finwait_unfollowed(const struct finwait *fw)
{
    return fw->listed > fw->used ? fw->listed - fw->used : 0;
}

/**
 * finwait_slots() - the table's size now
 * @fw:	the table
 *
 * Return: its slots: 0 before the first line, then FINWAIT_SLOTS_MIN
 *	   doubled as groups filled, up to FINWAIT_SLOTS
 */
unsigned int finwait_slots(const struct finwait *fw)
{
    return fw->cap;
}

/**
 * finwait_get_stats() - the counters
 * @fw:		the table
 * @ret:	filled
 */
void finwait_get_stats(const struct finwait *fw, struct finwait_stats *ret)
{
    *ret = fw->st;
}

static int finwait_port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return -1;
}

/*
 * finwait_ops.probe for libslirp's sockets: a TCP socket whose peer has the
 * listed remote port (a connection the namespace made) or whose own port
 * is the listed host port (one a forward accepted: listed by the host
 * address it was accepted on and the guest's address)
 */
static int finwait_socket_probe(int fd, uint16_t sport, uint16_t dport,
                                bool known, uint64_t *progress)
{
    struct sockaddr_storage peer, self;
    socklen_t plen = sizeof(peer), slen = sizeof(self);
    struct tcp_info ti;
    socklen_t tlen = sizeof(ti);
    int type = 0;
    socklen_t ylen = sizeof(type);

    if (!known) {
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ylen) < 0)
            return -errno;
        if (type != SOCK_STREAM)
            return -ENOTSOCK;
        if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 ||
            getsockname(fd, (struct sockaddr *)&self, &slen) < 0)
            return -errno;
        if (finwait_port_of(&peer) != dport &&
            finwait_port_of(&self) != sport)
            return -ESRCH;
    }
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) < 0)
        return -errno;
    *progress = ti.tcpi_bytes_received;
    return 0;
}

/* finwait_ops.end: the kernel's disconnect (RST to the remote, ECONNRESET
 * for libslirp) */
static int finwait_socket_end(int fd)
{
    struct sockaddr sa = { .sa_family = AF_UNSPEC };

    return connect(fd, &sa, sizeof(sa)) < 0 ? -errno : 0;
}

const struct finwait_ops finwait_socket_ops = {
    .probe = finwait_socket_probe,
    .end = finwait_socket_end,
};
