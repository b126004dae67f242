/* SPDX-License-Identifier: GPL-2.0-or-later */
/* isolation.h - staged self-isolation (prefix isolate_): fds, user and mount namespaces, caps, seccomp */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ns.h"

struct err;

/* Which user namespace the sandbox was built in */
enum isolate_userns {
    ISOLATE_USERNS_KEPT,     /* ours: we had CAP_SYS_ADMIN (root, podman) */
    ISOLATE_USERNS_JOINED,   /* the target's (RootlessKit, PID form) */
    ISOLATE_USERNS_CREATED,  /* a fresh one of our own (no target userns) */
};

/* How the empty root was entered */
enum isolate_root {
    ISOLATE_ROOT_NONE,       /* no --enable-sandbox */
    ISOLATE_ROOT_PIVOT,      /* pivot_root(), old root detached */
    ISOLATE_ROOT_CHROOT,     /* fallback: chroot() + namespace-escape filter */
};

/**
 * struct isolate - what the stages learnt and did, carried between them
 * @net_bind_service:		CAP_NET_BIND_SERVICE was kept by the sandbox
 * @userns:			the user namespace the sandbox lives in
 * @root:			how the empty root was entered
 * @seccomp:			the allow-list is loaded
 * @seccomp_rules:		allow rules added (native arch)
 * @seccomp_skipped:		names this libseccomp does not know (skipped)
 */
struct isolate {
    bool net_bind_service;
    enum isolate_userns userns;
    enum isolate_root root;
    bool seccomp;
    unsigned int seccomp_rules;
    unsigned int seccomp_skipped;
};

int isolate_initial(struct isolate *iso, const struct config *cfg,
                    struct err *e);
int isolate_after_tap(struct isolate *iso, const struct config *cfg,
                      const struct ns *ns, struct err *e);
int isolate_before_threads(struct isolate *iso, const struct config *cfg,
                           struct err *e);
int isolate_before_ready(struct isolate *iso, const struct config *cfg,
                         struct err *e);

/* building blocks, exposed for the unit tests */
int isolate_resolv_target(const char *path, char *ret, size_t len);
int isolate_thread_count(void);

/**
 * struct isolate_rule - one line of seccomp_rules.h
 * @name:	system call name, resolved with seccomp_syscall_resolve_name()
 * @arg:	argument index compared, or -1: any arguments
 * @mask:	the argument is masked with this ...
 * @value:	... and must then equal this
 * @self:	... or, if true, equal our own PID (known only at run time)
 * @err:	escape rules: the errno returned instead (allow rules: 0, or
 *		ENOSYS for SECCOMP_ENOSYS: refused without a trap)
 */
struct isolate_rule {
    const char *name;
    int arg;
    uint64_t mask;
    uint64_t value;
    bool self;
    int err;
};

const struct isolate_rule *isolate_allow_rules(size_t *ret_n);
const struct isolate_rule *isolate_escape_rules(size_t *ret_n);
