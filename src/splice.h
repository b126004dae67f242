/* SPDX-License-Identifier: GPL-2.0-or-later */
/* splice.h - TCP port forwards at kernel speed: host listener, namespace socket, splice() both ways */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct nshelper;
struct nshelper_event;
struct reactor;
struct reactor_ref;

/* bytes per direction and connection (F_SETPIPE_SZ; the default if refused) */
#define SPLICE_PIPE_SIZE (512 * 1024)
/* splice() calls per direction and wake-up before others get their turn */
#define SPLICE_BUDGET 64
/* listen() backlog (libslirp's is 1) */
#define SPLICE_LISTEN_BACKLOG 4096
/* accept() calls per listener and wake-up */
#define SPLICE_ACCEPT_BUDGET 64
/* connections waiting for a namespace socket, per address family; more
 * are reset at once */
#define SPLICE_WAIT_MAX 1024
/* a listener whose accept() ran out of fds (or memory) rests this long */
#define SPLICE_ACCEPT_PAUSE_MS 100

struct splice_stats {
    uint64_t accepted;          /* host connections accepted */
    uint64_t connected;         /* ... whose namespace side answered */
    uint64_t failed;            /* ... reset before the namespace side answered */
    uint64_t reset;             /* ended by an error or reset on one side */
    uint64_t closed;            /* ended by both sides closing cleanly */
    uint64_t active;            /* open now */
    uint64_t bytes_in;          /* host -> namespace */
    uint64_t bytes_out;         /* namespace -> host */
    uint64_t listeners;         /* listening sockets now */
    uint64_t pool_v4, pool_v6;  /* pre-opened namespace sockets now */
    uint64_t pool_waits;        /* connections that found the pool empty */
    uint64_t dpool_v4, dpool_v6;/* ... UDP ones (udprelay.c) */
    uint64_t accept_paused;     /* listeners paused: out of fds */
    uint64_t fin_timeout_reset; /* one side closed, idle for --fin-timeout */
    bool helper_alive;          /* the namespace helper answers */
};

struct splice;

int splice_new(struct reactor *r, struct nshelper *h, struct splice **ret);
void splice_free(struct splice *sp);
bool splice_available(struct splice *sp);
void splice_set_fin_timeout(struct splice *sp, int64_t ms);

/* the handlers of its reactor entries (dispatch_reactor()) */
void splice_on_listener(struct splice *sp, struct reactor_ref *ref);
void splice_on_conn(struct splice *sp, struct reactor_ref *ref,
                    uint32_t events);
void splice_on_helper(struct splice *sp, const struct nshelper_event *ev);
void splice_on_kick(struct splice *sp);
void splice_on_timer(struct splice *sp);
void splice_batch_end(struct splice *sp);

int splice_listen(struct splice *sp, const struct sockaddr *host,
                  socklen_t host_len, const struct sockaddr *guest,
                  socklen_t guest_len, int *ret_fd,
                  struct sockaddr_storage *ret_bound, socklen_t *ret_len);
int splice_unlisten(struct splice *sp, int fd);
uint64_t splice_bytes(const struct splice *sp);
void splice_get_stats(struct splice *sp, struct splice_stats *ret);

/* one live connection of the splice path (get_connections) */
struct splice_conn_info {
    int fd;                                 /* the accepted host socket */
    const struct sockaddr_storage *guest;   /* where it goes in the namespace */
    uint64_t recv_q;    /* host -> namespace bytes held in the pipe */
    uint64_t send_q;    /* namespace -> host bytes held in the pipe */
};

void splice_foreach_conn(struct splice *sp,
                         void (*fn)(const struct splice_conn_info *ci,
                                    void *arg),
                         void *arg);

