/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-stack.c - the stack's walks over libslirp's sockets: left out only when they cannot do anything */
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "slirp-env.h"
#include "loop.h"
#include "stack.h"
#include "tapout.h"

static struct stack *st;
static struct loop lp;     /* holds the shards' fds (stack_attach()) */
static const struct loop_ops noops;
static int peer = -1;      /* the namespace's end of the "tap" */

/* one iteration of the daemon's loop without entries of its own: the
 * shards' sets (stack_attach()), each in a row, revents written back */
static void iterate(int timeout_ms)
{
    struct pollfd p[256];
    size_t i, j, k = 0, first[16];
    int t = -1, n;

    stack_fill(st, &t);
    if (t >= 0 && t < timeout_ms)
        timeout_ms = t;
    for (i = 0; i < lp.n_ent && i < 16; i++) {
        first[i] = k;
        for (j = 0; j < *lp.ent[i].set_n && k < 256; j++)
            p[k++] = (*lp.ent[i].set_pfd)[j];
    }
    n = poll(p, k, timeout_ms);
    for (i = 0; i < lp.n_ent && i < 16; i++) {
        short rev = 0;

        for (j = 0; j < *lp.ent[i].set_n && first[i] + j < k; j++) {
            (*lp.ent[i].set_pfd)[j].revents = n > 0 ? p[first[i] + j].revents : 0;
            rev |= (*lp.ent[i].set_pfd)[j].revents;
        }
        if (rev)
            stack_on_ready(st, lp.ent[i].data);
    }
    stack_tap_read(st, 64);
    stack_poll(st, n < 0);
    stack_flush(st);
}

static uint64_t fills(void)
{
    return stack_get_stats(st)->slirp_fills;
}

static uint64_t polls(void)
{
    return stack_get_stats(st)->slirp_polls;
}

/* the next frame libslirp wrote, waiting up to 2 s; its length or -1 */
static ssize_t next_frame(uint8_t *buf, size_t size)
{
    struct pollfd p = { .fd = peer, .events = POLLIN };

    if (poll(&p, 1, 2000) != 1)
        return -1;
    return recv(peer, buf, size, 0);
}

static int free_port(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, len) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        printf("Bail out! no free port\n");
        exit(1);
    }
    port = ntohs(sin.sin_port);
    close(fd);
    return port;
}

/* a frame from the guest to libslirp: Ethernet header, then @len bytes */
static size_t guest_frame(uint8_t *f, const uint8_t *mac, uint16_t type,
                          const uint8_t *l3, size_t len)
{
    static const uint8_t slirp_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

    memcpy(f, type == 0x0806 ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" :
                               slirp_mac, 6);
    memcpy(f + 6, mac, 6);
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
    memcpy(f + 14, l3, len);
    return 14 + len;
}

/* frames libslirp wrote that are waiting now */
static int drain_frames(void)
{
    uint8_t f[2048];
    int n = 0;

    while (recv(peer, f, sizeof(f), MSG_DONTWAIT) > 0)
        n++;
    return n;
}

/* four instances, started as frames come for them: a frame walks only its
 * own shard; ARP goes to all that run, and one answer comes back */
static void shards(struct config *cfg, const uint8_t *mac)
{
    /* ARP: who has 10.0.2.2, tell 10.0.2.100 */
    static const uint8_t arp[28] = {
        0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 2, 100,
        0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
    };
    /* TCP SYN 10.0.2.100:40000 -> 10.0.2.2:9 (header checksum 0: libslirp
     * does not check it, the frame only has to reach a shard) */
    uint8_t tcp[40] = {
        0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 2, 100,
        10, 0, 2, 2, 0x9c, 0x40, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0,
        0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    };
    uint8_t f[128];
    uint64_t f0, p0;
    size_t len;
    int sv[2], i;

    cfg->shards = 4;
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) < 0 || stack_new(cfg, sv[0], &st) < 0) {
        printf("Bail out! cannot create four libslirp instances\n");
        exit(1);
    }
    peer = sv[1];
    loop_init(&lp, &noops, NULL, 0);
    if (stack_attach(st, &lp) < 0) {
        printf("Bail out! stack_attach\n");
        exit(1);
    }
    TAP_IS_INT((int)lp.n_ent, 4, "one loop entry per shard");
    for (i = 0; i < 3; i++)
        iterate(0);

    len = guest_frame(f, mac, 0x0806, arp, sizeof(arp));
    p0 = polls();
    send(peer, f, len, 0);
    iterate(0);
    TAP_IS_INT((int)(polls() - p0), 1,
               "an ARP request at first: only shard 0 has started");
    TAP_IS_INT(drain_frames(), 1, "and one ARP reply reaches the namespace");

    iterate(0);
    iterate(0);
    f0 = fills();
    len = guest_frame(f, mac, 0x0800, tcp, sizeof(tcp));
    send(peer, f, len, 0);
    iterate(0);     /* the frame is read after this iteration's fill */
    iterate(0);
    TAP_IS_INT((int)(fills() - f0), 1, "a TCP segment: one shard's walk");

    /* 64 more flows: every shard has been steered one (each misses all
     * with a chance of (3/4)^64) and has started */
    for (i = 1; i <= 64; i++) {
        tcp[21] = (uint8_t)i;
        len = guest_frame(f, mac, 0x0800, tcp, sizeof(tcp));
        send(peer, f, len, 0);
        iterate(0);
    }
    for (i = 0; i < 3; i++)
        iterate(0);
    drain_frames();
    len = guest_frame(f, mac, 0x0806, arp, sizeof(arp));
    p0 = polls();
    send(peer, f, len, 0);
    iterate(0);
    TAP_IS_INT((int)(polls() - p0), 4, "then an ARP request runs every shard");
    TAP_IS_INT(drain_frames(), 1, "and one ARP reply reaches the namespace");

    stack_free(st);
    loop_free(&lp);
    close(peer);
    close(sv[0]);
}

int main(void)
{
    static const uint8_t guest_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    struct in_addr host, guest;
    struct config cfg;
    uint8_t f[2048], reply[42];
    uint64_t f0, p0;
    int sv[2], port, client;
    ssize_t n;

    tap_plan(18);
    env_private_netns();
    env_config(&cfg, false);
    cfg.shards = 1;     /* the walks of one instance first */
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   sv) < 0 || stack_new(&cfg, sv[0], &st) < 0) {
        printf("Bail out! cannot create a libslirp instance\n");
        return 1;
    }
    peer = sv[1];
    loop_init(&lp, &noops, NULL, 0);
    if (stack_attach(st, &lp) < 0) {
        printf("Bail out! stack_attach\n");
        return 1;
    }

    /* one libslirp socket: a listener of a host forward */
    port = free_port();
    inet_pton(AF_INET, "127.0.0.1", &host);
    inet_pton(AF_INET, "10.0.2.100", &guest);
    TAP_IS_INT(slirp_add_hostfwd(stack_slirp(st), 0, host, port, guest, 80),
               0, "a libslirp forward listens");
    stack_touch(st);

    iterate(0);     /* its first slirp_pollfds_poll() (once a second) */
    iterate(0);     /* so one more fill */
    TAP_IS_INT(stack_get_stats(st)->slirp_fds, 1, "the fill adds libslirp's listener");
    f0 = fills();
    p0 = polls();
    iterate(0);
    iterate(0);
    TAP_IS_INT(fills(), f0, "no fill while libslirp has not run");
    TAP_IS_INT(stack_get_stats(st)->slirp_fds, 1, "the last fill's entry is still polled");
    TAP_IS_INT(polls(), p0, "no slirp_pollfds_poll without an event or a due timer");
    stack_touch(st);
    iterate(0);
    TAP_IS_INT(fills(), f0 + 1, "a fill after stack_touch()");

    /* an event on libslirp's fd: it is serviced at once */
    client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    {
        struct sockaddr_in sin = { .sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)port),
                                   .sin_addr = host };
        connect(client, (struct sockaddr *)&sin, sizeof(sin));
    }
    p0 = polls();
    iterate(1000);
    TAP_IS_INT(polls(), p0 + 1, "the listener's event runs slirp_pollfds_poll");
    n = next_frame(f, sizeof(f));
    TAP_OK(n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1,
           "libslirp accepted and asks for the guest's MAC (ARP request)");
    TAP_OK(recv(peer, f + 100, 100, MSG_DONTWAIT) < 0,
           "the SYN waits for the answer");

    /* the guest's ARP reply: only slirp_pollfds_poll() sends what waited */
    memcpy(reply, f + 6, 6);                  /* to libslirp's MAC */
    memcpy(reply + 6, guest_mac, 6);
    reply[12] = 0x08;
    reply[13] = 0x06;
    memcpy(reply + 14, f + 14, 6);            /* htype, ptype, hlen, plen */
    reply[20] = 0;
    reply[21] = 2;                            /* reply */
    memcpy(reply + 22, guest_mac, 6);         /* sha */
    memcpy(reply + 28, f + 38, 4);            /* spa: the asked address */
    memcpy(reply + 32, f + 22, 10);           /* tha, tpa: the asker */
    TAP_IS_INT(send(peer, reply, sizeof(reply), 0), sizeof(reply),
               "the namespace answers");
    p0 = polls();
    iterate(0);
    TAP_IS_INT(polls(), p0 + 1, "a non-TCP frame runs slirp_pollfds_poll");
    n = next_frame(f, sizeof(f));
    TAP_OK(n >= 54 && f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == 6 &&
               (f[14 + 20 + 13] & 0x02) && !memcmp(f, guest_mac, 6),
           "the SYN that waited goes out to the guest's MAC");

    close(client);
    stack_free(st);
    loop_free(&lp);
    close(peer);
    close(sv[0]);

    shards(&cfg, guest_mac);
    config_free(&cfg);
    return tap_done();
}
