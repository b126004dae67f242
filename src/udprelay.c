/* SPDX-License-Identifier: GPL-2.0-or-later */
/* udprelay.c - UDP port forwards without libslirp: host socket, one namespace socket per client, recvmmsg/sendmmsg */
/*
 * DOC: Theory of Operation
 *
 * A UDP forward on the fast path never touches libslirp. slirpd binds the
 * host address itself (udprelay_listen()). Every client address seen on
 * that socket is a flow: it gets a UDP socket created inside the target
 * namespace by the namespace helper (nshelper_take(); nshelper.c keeps
 * a pool of SOCK_DGRAM sockets as well as of SOCK_STREAM ones),
 * connect()ed to the forward's guest address. The guest thus sees
 * one peer per client (its own address inside the namespace, one source
 * port per flow) and its replies come back on that socket alone, so each
 * client gets exactly its own replies; the family of the host and the
 * guest side may differ (an IPv6 host address to an IPv4 guest).
 *
 * Datagrams are moved in batches: recvmmsg() of up to UDPRELAY_BATCH
 * datagrams from the host socket, then one sendmmsg() per run of
 * consecutive datagrams of the same flow into its namespace socket; back,
 * recvmmsg() from the flow's socket and one sendmmsg() to the client
 * through the host socket. Every socket is level-triggered in the
 * reactor's epoll set (reactor.c) and one batch is read per
 * wake-up, which keeps the sockets fair among themselves and with the
 * tap. A datagram that cannot be sent (send buffer full, an ICMP error
 * pending) is dropped and counted, as the kernel would; an ICMP error a
 * flow's socket reports (the guest port is closed) is consumed and the
 * flow stays.
 *
 * A new client whose namespace socket pool is empty: the rest of the batch
 * is held (copied) by the listener, whose socket leaves the epoll set
 * until the helper's sockets arrive (udprelay_on_helper()); then the held
 * datagrams go first, in order, and the listener reads again.
 *
 * Flows are closed when idle for the timeout (a timerfd armed for the
 * oldest flow; any datagram either way refreshes a flow), when the
 * listener is removed (the host socket is gone, so replies could not be
 * sent), to make room for a new one beyond the flow limit (the least
 * recently used one), and in udprelay_free(). A closed flow's fd leaves the
 * epoll set and is closed at once (explicitly: the helper may still hold
 * the socket, and close() alone would leave it in the set); its memory goes
 * at the end of the reactor's batch, since an event of that batch may still
 * point to it (udprelay_batch_end()).
 *
 * The batches' buffers and message arrays come with the first listener: a
 * daemon without a UDP forward (most) has none of them.
 */
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "nshelper.h"
#include "reactor.h"
#include "udprelay.h"
#include "util.h"

struct udprelay_dg {
    const struct sockaddr_storage *addr;
    socklen_t alen;
    char *data;
    size_t len;
};

/* a datagram kept while its flow waits for a namespace socket */
struct udprelay_held {
    struct sockaddr_storage addr;
    socklen_t alen;
    size_t len;
    char *data;
};

struct udprelay_flow;

struct udprelay_listener {
    struct reactor_ref ref;         /* what its events point to */
    int fd;
    struct sockaddr_storage guest;
    socklen_t guest_len;
    struct udprelay_flow *flows;    /* this listener's (fnext) */
    struct udprelay_held held[UDPRELAY_BATCH];
    int nheld;
    struct udprelay_listener *next;
};

struct udprelay_flow {
    struct reactor_ref ref;
    struct udprelay_listener *ls;
    int fd;                         /* -1: closed (on the dead list) */
    struct sockaddr_storage client;
    socklen_t clen;
    int64_t last_ms;
    struct udprelay_flow *lprev, *lnext;    /* LRU: head is the newest */
    struct udprelay_flow *fprev, *fnext;    /* the listener's flows */
    struct udprelay_flow *dnext;            /* dead list */
};

/* a batch's messages, both ways; set in full before each use */
struct udprelay_io {
    struct mmsghdr msgs[UDPRELAY_BATCH];
    struct iovec iov[UDPRELAY_BATCH];
    struct sockaddr_storage addrs[UDPRELAY_BATCH];
    struct mmsghdr out[UDPRELAY_BATCH];
    struct iovec oiov[UDPRELAY_BATCH];
};

struct udprelay {
    struct reactor *r;
    struct nshelper *h;
    unsigned int timeout_ms;
    size_t max_flows;
    int timerfd;
    struct reactor_ref timer_ref;
    bool timer_armed;
    GHashTable *flows;
    struct udprelay_flow *lru_head, *lru_tail;
    struct udprelay_flow *dead;
    struct udprelay_listener *listeners;
    struct udprelay_io *io;         /* from the first listener on */
    char *buf;                      /* UDPRELAY_BATCH * UDPRELAY_DGRAM_MAX,
                                     * from the first listener on */
    struct udprelay_stats st;
};

static int64_t udprelay_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ----------------------------------------------------------- flow table */

/* the bytes that identify a client: address and port */
static size_t udprelay_addr_key(const struct sockaddr_storage *ss,
                                uint8_t key[18])
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

        memcpy(key, &s6->sin6_addr, 16);
        memcpy(key + 16, &s6->sin6_port, 2);
        return 18;
    }
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

    memcpy(key, &s4->sin_addr, 4);
    memcpy(key + 4, &s4->sin_port, 2);
    return 6;
}

static guint udprelay_hash(gconstpointer p)
{
    const struct udprelay_flow *f = p;
    uint8_t key[18];
    size_t n = udprelay_addr_key(&f->client, key), i;
    guint h = 2166136261u ^ g_direct_hash(f->ls);

    for (i = 0; i < n; i++)
        h = (h ^ key[i]) * 16777619u;
    return h;
}

static gboolean udprelay_equal(gconstpointer a, gconstpointer b)
{
    const struct udprelay_flow *x = a, *y = b;
    uint8_t kx[18], ky[18];
    size_t nx, ny;

    if (x->ls != y->ls || x->client.ss_family != y->client.ss_family)
        return FALSE;
    nx = udprelay_addr_key(&x->client, kx);
    ny = udprelay_addr_key(&y->client, ky);
    return nx == ny && !memcmp(kx, ky, nx);
}

static void udprelay_lru_unlink(struct udprelay *u, struct udprelay_flow *f)
{
    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        u->lru_head = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else
        u->lru_tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void udprelay_lru_push(struct udprelay *u, struct udprelay_flow *f)
{
    f->lprev = NULL;
    f->lnext = u->lru_head;
    if (u->lru_head)
        u->lru_head->lprev = f;
    else
        u->lru_tail = f;
    u->lru_head = f;
}

/* a datagram went through @f: it is the newest */
static void udprelay_touch(struct udprelay *u, struct udprelay_flow *f,
                           int64_t now)
{
    f->last_ms = now;
    if (u->lru_head == f)
        return;
    udprelay_lru_unlink(u, f);
    udprelay_lru_push(u, f);
}

/* close @f's socket and take it out of every list; freed later */
static void udprelay_flow_close(struct udprelay *u, struct udprelay_flow *f)
{
    if (f->fd < 0)
        return;
    /* the helper may keep the socket: close() alone would leave it in the
     * epoll set, its events pointing to @f once freed */
    reactor_close(u->r, &f->fd);
    g_hash_table_remove(u->flows, f);
    udprelay_lru_unlink(u, f);
    if (f->fprev)
        f->fprev->fnext = f->fnext;
    else
        f->ls->flows = f->fnext;
    if (f->fnext)
        f->fnext->fprev = f->fprev;
    f->fprev = f->fnext = NULL;
    f->dnext = u->dead;
    u->dead = f;
    u->st.flows--;
}

/**
 * udprelay_batch_end() - free the flows closed in the reactor's batch
 * @u:	the relay
 *
 * Events of the batch may have pointed to them until its end.
 */
void udprelay_batch_end(struct udprelay *u)
{
    struct udprelay_flow *f;

    while ((f = u->dead)) {
        u->dead = f->dnext;
        free(f);
    }
}

/* ----------------------------------------------------------------- timer */

/* wake up when the oldest flow would expire */
static void udprelay_timer_arm(struct udprelay *u, int64_t now)
{
    struct itimerspec its = { 0 };
    int64_t wait;

    if (!u->lru_tail) {
        u->timer_armed = false;
        timerfd_settime(u->timerfd, 0, &its, NULL);
        return;
    }
    wait = u->lru_tail->last_ms + u->timeout_ms - now;
    if (wait < 1)
        wait = 1;
    its.it_value.tv_sec = wait / 1000;
    its.it_value.tv_nsec = (wait % 1000) * 1000000;
    u->timer_armed = timerfd_settime(u->timerfd, 0, &its, NULL) == 0;
}

/**
 * udprelay_on_timer() - close the flows that were idle too long
 * @u:	the relay
 */
void udprelay_on_timer(struct udprelay *u)
{
    int64_t now = udprelay_now();
    uint64_t v;

    if (read(u->timerfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return;
    while (u->lru_tail && u->lru_tail->last_ms + u->timeout_ms <= now) {
        udprelay_flow_close(u, u->lru_tail);
        u->st.expired++;
    }
    udprelay_timer_arm(u, now);
}

/* ------------------------------------------------------------- data path */

/*
 * Send @n datagrams through @fd (to @to, or connected if NULL) with as few
 * sendmmsg() calls as it takes. What cannot be sent is dropped and counted.
 */
static void udprelay_send(struct udprelay *u, int fd,
                          const struct sockaddr_storage *to, socklen_t tolen,
                          const struct udprelay_dg *dg, int n, bool in)
{
    struct udprelay_io *io = u->io;
    int i, sent = 0;

    for (i = 0; i < n; i++) {
        io->oiov[i] = (struct iovec){ .iov_base = dg[i].data,
                                      .iov_len = dg[i].len };
        io->out[i] = (struct mmsghdr){ .msg_hdr = {
            .msg_name = (void *)to, .msg_namelen = to ? tolen : 0,
            .msg_iov = &io->oiov[i], .msg_iovlen = 1,
        } };
    }
    while (sent < n) {
        int r = sendmmsg(fd, io->out + sent, (unsigned int)(n - sent),
                         MSG_DONTWAIT | MSG_NOSIGNAL);

        if (r > 0) {
            for (i = sent; i < sent + r; i++) {
                if (in)
                    u->st.bytes_in += dg[i].len;
                else
                    u->st.bytes_out += dg[i].len;
            }
            if (in)
                u->st.dgrams_in += (uint64_t)r;
            else
                u->st.dgrams_out += (uint64_t)r;
            sent += r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
            u->st.dropped += (uint64_t)(n - sent);  /* full: as the kernel */
            return;
        } else {
            u->st.dropped++;    /* this one (e.g. a pending ICMP error) */
            sent++;
        }
    }
}

/* bigger socket buffers, best effort (capped by rmem_max/wmem_max) */
static void udprelay_bufs(int fd)
{
    int sz = UDPRELAY_RCVBUF;

    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

/* the flow of @addr on @ls, opened if new; NULL with *ret_err */
static struct udprelay_flow *udprelay_flow_get(struct udprelay *u,
                                               struct udprelay_listener *ls,
                                               const struct udprelay_dg *dg,
                                               int64_t now, int *ret_err)
{
    struct udprelay_flow key = { .ls = ls }, *f;
    int fd;

    memcpy(&key.client, dg->addr, dg->alen < sizeof(key.client) ?
                                  dg->alen : sizeof(key.client));
    f = g_hash_table_lookup(u->flows, &key);
    if (f)
        return f;
    fd = nshelper_take(u->h, SOCK_DGRAM, ls->guest.ss_family);
    if (fd < 0) {
        *ret_err = fd;
        return NULL;
    }
    udprelay_bufs(fd);
    if (connect(fd, (const struct sockaddr *)&ls->guest, ls->guest_len) < 0) {
        /* EAGAIN here: no local port is free in the namespace; not the
         * pool's -EAGAIN (wait for the helper), or the listener would
         * wait for sockets nobody sends: the datagram is dropped */
        if (errno == EAGAIN)
            errno = EADDRNOTAVAIL;
        goto fail;
    }
    f = calloc(1, sizeof(*f));
    if (!f)
        goto fail;
    f->ls = ls;
    f->fd = fd;
    f->client = key.client;
    f->clen = dg->alen;
    f->ref = REACTOR_REF(EVT_UDP_FLOW, 0);
    if (reactor_add(u->r, fd, EPOLLIN, &f->ref) < 0) {
        free(f);
        goto fail;
    }
    if (u->st.flows >= u->max_flows && u->lru_tail) {
        udprelay_flow_close(u, u->lru_tail);
        u->st.evicted++;
    }
    g_hash_table_add(u->flows, f);
    f->fnext = ls->flows;
    if (ls->flows)
        ls->flows->fprev = f;
    ls->flows = f;
    f->last_ms = now;
    udprelay_lru_push(u, f);
    u->st.flows++;
    u->st.flows_opened++;
    if (!u->timer_armed)
        udprelay_timer_arm(u, now);
    return f;
fail:
    *ret_err = -errno;
    close(fd);
    return NULL;
}

/*
 * Host -> namespace: send @dg[0..n) to their flows, in order.
 *
 * Return: how many were dealt with (sent or dropped); less than @n when a
 *	   new flow has to wait for a namespace socket
 */
static int udprelay_in(struct udprelay *u, struct udprelay_listener *ls,
                       const struct udprelay_dg *dg, int n)
{
    int64_t now = udprelay_now();
    int i = 0;

    while (i < n) {
        struct udprelay_flow *f;
        int j, err = 0;

        f = udprelay_flow_get(u, ls, &dg[i], now, &err);
        if (!f && err == -EAGAIN)
            return i;
        if (!f) {
            u->st.dropped++;
            i++;
            continue;
        }
        for (j = i + 1; j < n; j++) {
            struct udprelay_flow key = { .ls = ls };

            memcpy(&key.client, dg[j].addr,
                   dg[j].alen < sizeof(key.client) ? dg[j].alen :
                                                     sizeof(key.client));
            if (!udprelay_equal(&key, f))
                break;
        }
        udprelay_send(u, f->fd, NULL, 0, dg + i, j - i, true);
        udprelay_touch(u, f, now);
        i = j;
    }
    return n;
}

/* one batch from the host socket; 1 if it was full (read again) */
static int udprelay_listener_batch(struct udprelay *u,
                                   struct udprelay_listener *ls)
{
    struct udprelay_dg dg[UDPRELAY_BATCH];
    struct udprelay_io *io = u->io;
    int n, i, done;

    for (i = 0; i < UDPRELAY_BATCH; i++) {
        io->iov[i] = (struct iovec){ .iov_base = u->buf +
                                                 (size_t)i * UDPRELAY_DGRAM_MAX,
                                     .iov_len = UDPRELAY_DGRAM_MAX };
        io->msgs[i] = (struct mmsghdr){ .msg_hdr = {
            .msg_name = &io->addrs[i], .msg_namelen = sizeof(io->addrs[i]),
            .msg_iov = &io->iov[i], .msg_iovlen = 1,
        } };
    }
    n = recvmmsg(ls->fd, io->msgs, UDPRELAY_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;
    for (i = 0; i < n; i++)
        dg[i] = (struct udprelay_dg){
            .addr = &io->addrs[i], .alen = io->msgs[i].msg_hdr.msg_namelen,
            .data = io->iov[i].iov_base, .len = io->msgs[i].msg_len,
        };
    done = udprelay_in(u, ls, dg, n);
    if (done == n)
        return n == UDPRELAY_BATCH;
    /* hold the rest until the helper's sockets come */
    for (i = done; i < n; i++) {
        struct udprelay_held *h = &ls->held[ls->nheld];

        h->data = malloc(dg[i].len ? dg[i].len : 1);
        if (!h->data) {
            u->st.dropped++;
            continue;
        }
        memcpy(h->data, dg[i].data, dg[i].len);
        h->len = dg[i].len;
        memcpy(&h->addr, dg[i].addr, sizeof(h->addr));
        h->alen = dg[i].alen;
        ls->nheld++;
    }
    if (ls->nheld)
        reactor_mod(u->r, ls->fd, 0, &ls->ref);
    return 0;
}

/**
 * udprelay_on_listener() - relay what clients sent to a host socket
 * @u:		the relay
 * @ref:	the listener's reference
 */
void udprelay_on_listener(struct udprelay *u, struct reactor_ref *ref)
{
    struct udprelay_listener *ls = container_of(ref, struct udprelay_listener,
                                                ref);
    int i;

    for (i = 0; i < UDPRELAY_BATCHES && !ls->nheld; i++)
        if (!udprelay_listener_batch(u, ls))
            break;
}

/* namespace -> host: one batch; 1 if it was full (read again) */
static int udprelay_flow_batch(struct udprelay *u, struct udprelay_flow *f)
{
    struct udprelay_dg dg[UDPRELAY_BATCH];
    struct udprelay_io *io = u->io;
    int n, i;

    for (i = 0; i < UDPRELAY_BATCH; i++) {
        io->iov[i] = (struct iovec){ .iov_base = u->buf +
                                                 (size_t)i * UDPRELAY_DGRAM_MAX,
                                     .iov_len = UDPRELAY_DGRAM_MAX };
        io->msgs[i] = (struct mmsghdr){ .msg_hdr = {
            .msg_iov = &io->iov[i], .msg_iovlen = 1,
        } };
    }
    /* an error first (ICMP: the guest port is closed) is consumed here */
    n = recvmmsg(f->fd, io->msgs, UDPRELAY_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;
    for (i = 0; i < n; i++)
        dg[i] = (struct udprelay_dg){ .data = io->iov[i].iov_base,
                                      .len = io->msgs[i].msg_len };
    udprelay_send(u, f->ls->fd, &f->client, f->clen, dg, n, false);
    udprelay_touch(u, f, udprelay_now());
    return n == UDPRELAY_BATCH;
}

/**
 * udprelay_on_flow() - what the guest sent to a flow goes to its client
 * @u:		the relay
 * @ref:	the flow's reference
 */
void udprelay_on_flow(struct udprelay *u, struct reactor_ref *ref)
{
    struct udprelay_flow *f = container_of(ref, struct udprelay_flow, ref);
    int i;

    for (i = 0; i < UDPRELAY_BATCHES && f->fd >= 0; i++)
        if (!udprelay_flow_batch(u, f))
            break;
}

/**
 * udprelay_on_helper() - the namespace helper answered, or was given up
 * @u:	the relay
 * @ev:	what nshelper_on_ready() or nshelper_on_timer() said
 *
 * When datagram sockets came (or none will), what was held is served.
 */
void udprelay_on_helper(struct udprelay *u, const struct nshelper_event *ev)
{
    struct udprelay_listener *ls;

    if (!(ev->what & (NSHELPER_EV_DGRAM | NSHELPER_EV_GONE)))
        return;

    for (ls = u->listeners; ls; ls = ls->next) {
        struct udprelay_dg dg[UDPRELAY_BATCH];
        int i, done;

        if (!ls->nheld)
            continue;
        for (i = 0; i < ls->nheld; i++)
            dg[i] = (struct udprelay_dg){
                .addr = &ls->held[i].addr, .alen = ls->held[i].alen,
                .data = ls->held[i].data, .len = ls->held[i].len,
            };
        done = udprelay_in(u, ls, dg, ls->nheld);
        for (i = 0; i < done; i++)
            free(ls->held[i].data);
        memmove(ls->held, ls->held + done,
                (size_t)(ls->nheld - done) * sizeof(ls->held[0]));
        ls->nheld -= done;
        if (!ls->nheld)
            reactor_mod(u->r, ls->fd, EPOLLIN, &ls->ref);
    }
}

/* ------------------------------------------------------------ set-up */

/**
 * udprelay_new() - a UDP relay
 * @re:		the reactor its sockets go in; must outlive the relay
 * @h:		the namespace helper that makes its namespace sockets; must
 *		outlive the relay
 * @timeout_ms:	a flow idle this long is closed (1..UDPRELAY_TIMEOUT_MAX_MS)
 * @max_flows:	flows open at once (>= 1)
 * @ret:	the relay; free with udprelay_free() before nshelper_free()
 *
 * Return: 0, -EINVAL for a bad limit, -ENOMEM, or the errno of timerfd
 */
int udprelay_new(struct reactor *re, struct nshelper *h,
                 unsigned int timeout_ms, size_t max_flows,
                 struct udprelay **ret)
{
    struct udprelay *u;
    int r;

    *ret = NULL;
    if (!h || timeout_ms < 1 || timeout_ms > UDPRELAY_TIMEOUT_MAX_MS ||
        max_flows < 1)
        return -EINVAL;
    u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    u->r = re;
    u->h = h;
    u->timeout_ms = timeout_ms;
    u->max_flows = max_flows;
    u->flows = g_hash_table_new(udprelay_hash, udprelay_equal);
    u->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (u->timerfd < 0) {
        r = -errno;
        goto fail;
    }
    u->timer_ref = REACTOR_REF(EVT_UDP_TIMER, 0);
    r = reactor_add(re, u->timerfd, EPOLLIN, &u->timer_ref);
    if (r < 0)
        goto fail;
    *ret = u;
    return 0;
fail:
    if (u->timerfd >= 0)
        close(u->timerfd);
    g_hash_table_destroy(u->flows);
    free(u);
    return r;
}

static void udprelay_listener_free(struct udprelay *u,
                                   struct udprelay_listener *ls)
{
    int i;

    while (ls->flows)
        udprelay_flow_close(u, ls->flows);
    for (i = 0; i < ls->nheld; i++)
        free(ls->held[i].data);
    reactor_close(u->r, &ls->fd);
    free(ls);
    u->st.listeners--;
}

/**
 * udprelay_free() - close every flow and host socket
 * @u:	the relay, or NULL
 *
 * Not from inside dispatch_reactor().
 */
void udprelay_free(struct udprelay *u)
{
    struct udprelay_listener *ls;

    if (!u)
        return;
    while ((ls = u->listeners)) {
        u->listeners = ls->next;
        udprelay_listener_free(u, ls);
    }
    udprelay_batch_end(u);
    reactor_close(u->r, &u->timerfd);
    g_hash_table_destroy(u->flows);
    free(u->buf);
    free(u->io);
    free(u);
}

/**
 * udprelay_listen() - bind @host and relay its datagrams to @guest
 * @u:		the relay
 * @host:	AF_INET or AF_INET6 address (port 0: ephemeral)
 * @host_len:	its length
 * @guest:	AF_INET or AF_INET6 address with port, as the namespace sees it
 * @guest_len:	its length
 * @ret_fd:	the host socket (owned by the relay)
 * @ret_bound:	its address (getsockname)
 * @ret_len:	its length
 *
 * An IPv6 socket is IPV6_V6ONLY (as libslirp's). The families of @host
 * and @guest may differ.
 *
 * Return: 0; -EAFNOSUPPORT for another family; -ENOTCONN if the helper is
 *	   gone; -ENOMEM; the errno of socket/bind (-EADDRINUSE, -EACCES, ...)
 */
int udprelay_listen(struct udprelay *u, const struct sockaddr *host,
                    socklen_t host_len, const struct sockaddr *guest,
                    socklen_t guest_len, int *ret_fd,
                    struct sockaddr_storage *ret_bound, socklen_t *ret_len)
{
    struct udprelay_listener *ls;
    _cleanup_close_ int fd = -1;
    int r;

    if (!util_fwd_addrs_ok(host, host_len, guest, guest_len))
        return -EAFNOSUPPORT;
    if (!nshelper_available(u->h))
        return -ENOTCONN;
    if (!u->buf)
        u->buf = malloc((size_t)UDPRELAY_BATCH * UDPRELAY_DGRAM_MAX);
    if (!u->io)
        u->io = malloc(sizeof(*u->io));
    if (!u->buf || !u->io)
        return -ENOMEM;
    fd = util_fwd_socket(host->sa_family, SOCK_DGRAM);
    if (fd < 0)
        return fd;
    udprelay_bufs(fd);
    if (bind(fd, host, host_len) < 0)
        return -errno;
    r = util_bound_addr(fd, ret_bound, ret_len);
    if (r < 0)
        return r;

    ls = calloc(1, sizeof(*ls));
    if (!ls)
        return -ENOMEM;
    ls->ref = REACTOR_REF(EVT_UDP_LISTENER, 0);
    memcpy(&ls->guest, guest, guest_len);
    ls->guest_len = guest_len;
    ls->fd = fd;
    r = reactor_add(u->r, fd, EPOLLIN, &ls->ref);
    if (r < 0) {
        free(ls);
        return r;
    }
    ls->next = u->listeners;
    u->listeners = ls;
    u->st.listeners++;
    nshelper_prepare(u->h, SOCK_DGRAM, guest->sa_family);
    *ret_fd = util_take_fd(&fd);
    return 0;
}

/**
 * udprelay_unlisten() - close a host socket of udprelay_listen() and its
 *			 flows
 * @u:	the relay
 * @fd:	the host socket
 *
 * Not from inside dispatch_reactor().
 *
 * Return: 0 or -ENOENT
 */
int udprelay_unlisten(struct udprelay *u, int fd)
{
    struct udprelay_listener **p, *ls;

    for (p = &u->listeners; (ls = *p); p = &ls->next) {
        if (ls->fd != fd)
            continue;
        *p = ls->next;
        udprelay_listener_free(u, ls);
        udprelay_batch_end(u);
        if (!u->lru_head)
            udprelay_timer_arm(u, udprelay_now());
        return 0;
    }
    return -ENOENT;
}

/**
 * udprelay_foreach_flow() - call @fn for every open flow, most recently
 *			     used first
 * @u:		the relay (NULL: none)
 * @fn:		called with what the flow holds (valid during the call)
 * @arg:	passed to @fn
 */
void udprelay_foreach_flow(const struct udprelay *u,
                           void (*fn)(const struct udprelay_flow_info *fi,
                                      void *arg),
                           void *arg)
{
    int64_t now = udprelay_now();
    const struct udprelay_flow *f;

    for (f = u ? u->lru_head : NULL; f; f = f->lnext) {
        int64_t left = f->last_ms + (int64_t)u->timeout_ms - now;
        struct udprelay_flow_info fi = {
            .host_fd = f->ls->fd,
            .client = &f->client,
            .guest = &f->ls->guest,
            .left_ms = left > 0 ? left : 0,
        };

        if (f->fd >= 0)
            fn(&fi, arg);
    }
}

/**
 * udprelay_get_stats() - counters for get_info
 * @u:		the relay
 * @ret:	filled in
 */
void udprelay_get_stats(const struct udprelay *u, struct udprelay_stats *ret)
{
    *ret = u->st;
}
