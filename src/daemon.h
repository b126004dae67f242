/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon.h - process-level steps of the daemon: signals, limits, tap, readiness */
#pragma once

#include "config.h"
#include "ns.h"

struct err;

int daemon_process_init(int *ret_signal_fd);
int daemon_get_tap(const struct config *cfg, struct ns *ns, ns_then_fn then,
                   int *ret_tapfd, int *ret_vnet_len, int *ret_sock,
                   pid_t *ret_pid);
int daemon_make_tap(const struct config *cfg, int *ret_fd, struct err *e);
int daemon_signal_ready(int ready_fd);
int daemon_watch_pid(const struct config *cfg, int *ret_fd);
