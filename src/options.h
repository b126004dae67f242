/* SPDX-License-Identifier: GPL-2.0-or-later */
/* options.h - argv to struct options: raw strings and flags, nothing derived */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* one --allow or --deny, in command-line order */
struct opt_rule {
    bool deny;
    const char *text;           /* the RULE (points into argv) */
    const char *origin;         /* "FILE:LINE" from a configuration file
                                 * (conffile.c); NULL: the command line */
};

struct options {
    bool configure;             /* -c */
    const char *exit_fd;        /* -e */
    const char *ready_fd;       /* -r */
    const char *mtu;            /* -m */
    bool enable_ipv6;           /* -6 */
    const char *api_socket;     /* -a */
    const char *cidr;
    bool disable_host_loopback;
    bool deprecated_no_host_loopback;
    const char *netns_type;
    const char *userns_path;
    const char *tap_netns;      /* --tap-netns: with tapfd, for the helper */
    bool enable_sandbox;
    bool deprecated_create_sandbox;
    bool enable_seccomp;
    const char *outbound_addr;
    const char *outbound_addr6;
    bool disable_dns;
    bool disable_offload;
    const char *forward_path;   /* --forward-path: auto, splice, slirp */
    const char *exit_with_pid;  /* --exit-with-pid */
    const char *udp_timeout;    /* --udp-timeout: seconds */
    const char *fin_timeout;    /* --fin-timeout: seconds */
    const char *busy_poll;      /* --busy-poll: microseconds */
    const char *shards;         /* --shards: libslirp instances */
    const char *threads;        /* --threads: threads that run them */
    const char *macaddress;
    const char *target_type;
    const char **publish;       /* -p, repeatable: raw specs (array: opt_free) */
    size_t n_publish;
    struct opt_rule *rules;     /* --allow, --deny, repeatable (array: opt_free) */
    size_t n_rules;
    bool log_denied;            /* --log-denied */
    bool no_config;             /* --no-config (conffile.c acts on it) */
    const char *conf_files[2];  /* the configuration files read (conffile.c) */

    const char *target;         /* PID|PATH|FD */
    const char *ifname;         /* TAPNAME */
    int extra_args;             /* positionals beyond the two */
};

enum opt_result {
    OPT_RUN,          /* start the daemon */
    OPT_HELP,         /* -h: print help, exit 0 */
    OPT_VERSION,      /* -v: print version, exit 0 */
    OPT_USAGE_ERROR,  /* print usage to stdout, exit 1 */
};

enum opt_result opt_parse(int argc, char **argv, struct options *ret);
void opt_print_usage(FILE *f, const char *argv0);
void opt_print_version(FILE *f);
void opt_free(struct options *o);
int opt_lookup(const char *name, bool *ret_has_arg);
