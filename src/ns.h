/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ns.h - the target's namespaces: open once, keep for life, run code inside */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

/* a child in the namespaces must hand its fd over within this (ns_call()) */
#define NS_ANSWER_TIMEOUT_MS 5000

struct ns {
    int userns_fd;          /* -1: no user namespace to join */
    int netns_fd;
    bool userns_required;   /* --userns-path given: failing to join is fatal */
};

/* Runs in a child inside the namespaces; returns an fd to hand back, or -errno */
typedef int (*ns_fn)(void *arg);
/* Runs in that child afterwards, with its end of the socketpair; never returns */
typedef void (*ns_then_fn)(int sock, void *arg);

int ns_open(struct ns *ns, const struct config *cfg);
void ns_close(struct ns *ns);
int ns_adopt(struct ns *ns, int netns_fd, int userns_fd, bool required);
pid_t ns_fork(int *ret_sock);
int ns_await(int sock, pid_t pid, int timeout_ms, int *ret_fd,
             int32_t *ret_status);
int ns_call(const struct ns *ns, ns_fn fn, void *arg, int *ret_fd,
            int *ret_child_status);
int ns_spawn(const struct ns *ns, ns_then_fn then, void *then_arg,
             int *ret_sock, pid_t *ret_pid);
int ns_call_then(const struct ns *ns, ns_fn fn, void *arg, ns_then_fn then,
                 void *then_arg, int *ret_fd, int *ret_child_status,
                 int *ret_sock, pid_t *ret_pid);
