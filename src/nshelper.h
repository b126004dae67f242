/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nshelper.h - the namespace helper: a child in the target's namespaces that makes sockets there, its pools and its channel */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct reactor;

/* pre-opened namespace sockets kept per type and address family, and the
 * refill mark */
#define NSHELPER_POOL_MAX 32
#define NSHELPER_POOL_LOW 16
/* sockets in one answer of the helper */
#define NSHELPER_FDS_PER_MSG 64
/* a helper that owes an answer this long is given up (it is stopped or
 * stuck): connections waiting for its sockets are reset */
#define NSHELPER_TIMEOUT_MS 3000

/*
 * The helper's request and answer (SOCK_SEQPACKET: one message each). An
 * answer carries its sockets (SCM_RIGHTS); the daemon checks each one.
 */
struct nshelper_msg {
    int32_t status;     /* answer: 0 or a negative errno */
    int32_t family;     /* AF_INET or AF_INET6 */
    int32_t count;      /* request: how many; answer: how many fds follow */
    int32_t type;       /* SOCK_STREAM or SOCK_DGRAM */
    int32_t cc_unset;   /* answer: sockets left without UTIL_LOCAL_CC */
};

/* what an event of the helper changed (struct nshelper_event.what) */
#define NSHELPER_EV_STREAM  (1U << 0)   /* an answer for TCP sockets came */
#define NSHELPER_EV_DGRAM   (1U << 1)   /* an answer for UDP sockets came */
#define NSHELPER_EV_GONE    (1U << 2)   /* the helper was given up */

/**
 * struct nshelper_event - what nshelper_on_ready()/nshelper_on_timer() did
 * @what:	NSHELPER_EV_* bits (0: nothing for the pools' users)
 * @family:	the answer's family (AF_INET, AF_INET6)
 * @status:	the answer's status: 0, or the errno of the helper's socket()
 */
struct nshelper_event {
    unsigned int what;
    int family;
    int status;
};

struct nshelper;

void nshelper_run(int sock, void *arg) __attribute__((noreturn));
int nshelper_new(struct reactor *r, int sock, pid_t pid,
                 struct nshelper **ret);
int nshelper_wait(struct nshelper *h);
bool nshelper_available(struct nshelper *h);
void nshelper_free(struct nshelper *h);

int nshelper_take(struct nshelper *h, int type, int family);
void nshelper_prepare(struct nshelper *h, int type, int family);
size_t nshelper_pooled(const struct nshelper *h, int type, int family);

/* the handlers of its reactor entries (dispatch_reactor()) */
void nshelper_on_ready(struct nshelper *h, struct nshelper_event *ret);
void nshelper_on_timer(struct nshelper *h, struct nshelper_event *ret);
