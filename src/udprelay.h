/* SPDX-License-Identifier: GPL-2.0-or-later */
/* udprelay.h - UDP port forwards without libslirp: host socket, one namespace socket per client, recvmmsg/sendmmsg */
#pragma once

#include <stdint.h>
#include <sys/socket.h>

struct nshelper;
struct nshelper_event;
struct reactor;
struct reactor_ref;

/* the longest idle timeout of a flow (--udp-timeout) */
#define UDPRELAY_TIMEOUT_MAX_MS (24 * 3600 * 1000)
/* flows open at once; the least recently used goes to make room */
#define UDPRELAY_MAX_FLOWS 4096
/* datagrams per recvmmsg()/sendmmsg() */
#define UDPRELAY_BATCH 32
/* full batches read from one socket per wake-up */
#define UDPRELAY_BATCHES 8
/* SO_RCVBUF asked for every socket (the kernel caps it at rmem_max and
 * doubles that): a burst waits in the socket while the daemon is off-CPU */
#define UDPRELAY_RCVBUF (4 << 20)
/* the largest datagram carried (bigger ones are cut by the kernel) */
#define UDPRELAY_DGRAM_MAX 65535

struct udprelay_stats {
    uint64_t listeners;     /* host sockets now */
    uint64_t flows;         /* flows open now */
    uint64_t flows_opened;  /* since start */
    uint64_t expired;       /* closed for being idle */
    uint64_t evicted;       /* closed to make room (UDPRELAY_MAX_FLOWS) */
    uint64_t dgrams_in;     /* host -> namespace, sent */
    uint64_t bytes_in;
    uint64_t dgrams_out;    /* namespace -> host, sent */
    uint64_t bytes_out;
    uint64_t dropped;       /* not sent (send error, no namespace socket) */
};

struct udprelay;

int udprelay_new(struct reactor *re, struct nshelper *h,
                 unsigned int timeout_ms, size_t max_flows,
                 struct udprelay **ret);
void udprelay_free(struct udprelay *u);
int udprelay_listen(struct udprelay *u, const struct sockaddr *host,
                    socklen_t host_len, const struct sockaddr *guest,
                    socklen_t guest_len, int *ret_fd,
                    struct sockaddr_storage *ret_bound, socklen_t *ret_len);
int udprelay_unlisten(struct udprelay *u, int fd);
/* the handlers of its reactor entries (dispatch_reactor()) */
void udprelay_on_listener(struct udprelay *u, struct reactor_ref *ref);
void udprelay_on_flow(struct udprelay *u, struct reactor_ref *ref);
void udprelay_on_timer(struct udprelay *u);
void udprelay_on_helper(struct udprelay *u, const struct nshelper_event *ev);
void udprelay_batch_end(struct udprelay *u);

void udprelay_get_stats(const struct udprelay *u, struct udprelay_stats *ret);

/* one open flow of the relay (get_connections) */
struct udprelay_flow_info {
    int host_fd;                            /* the forward's host socket */
    const struct sockaddr_storage *client;  /* the host-side client */
    const struct sockaddr_storage *guest;   /* where it goes in the namespace */
    int64_t left_ms;                        /* until it closes if idle */
};

void udprelay_foreach_flow(const struct udprelay *u,
                           void (*fn)(const struct udprelay_flow_info *fi,
                                      void *arg),
                           void *arg);
