/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.h - the validated, derived configuration the daemon runs with */
#pragma once

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "options.h"
#include "policy_rule.h"

struct err;

#define CONFIG_MTU_DEFAULT 1500
#define CONFIG_MTU_MIN 68
#define CONFIG_MTU_MAX 65521
/* --udp-timeout, seconds: a relayed UDP flow idle this long closes */
#define CONFIG_UDP_TIMEOUT_DEFAULT 120
#define CONFIG_UDP_TIMEOUT_MAX 86400
/* --shards: libslirp instances behind the tap (steer.c) */
#define CONFIG_SHARDS_DEFAULT 8
#define CONFIG_SHARDS_MAX 64
/* --threads: each runs a group of the shards (stackthread.c) */
#define CONFIG_THREADS_MAX 64
/* --fin-timeout, seconds: a TCP connection one side closed, idle this long,
 * is reset (the kernel's tcp_fin_timeout; 0: never) */
#define CONFIG_FIN_TIMEOUT_DEFAULT 60
#define CONFIG_FIN_TIMEOUT_MAX 86400
/* --allow/--deny rules, the configuration file's included */
#define CONFIG_RULES_MAX 1024

enum config_netns_type {
    CONFIG_NETNS_PID,
    CONFIG_NETNS_PATH,
    CONFIG_NETNS_TAPFD,
};

struct config {
    /* target */
    enum config_netns_type netns_type;
    pid_t target_pid;            /* NETNS_PID */
    char *netns_path;            /* NETNS_PATH (or /proc/PID/ns/net) */
    char *userns_path;           /* NULL: /proc/PID/ns/user for PID, none for path */
    bool userns_explicit;        /* --userns-path given */
    int tapfd;                   /* NETNS_TAPFD: the inherited fd */
    int tap_netns_fd;            /* NETNS_TAPFD + --tap-netns: opened at parse */
    int tap_userns_fd;           /* ... and --userns-path (-1: none) */
    char ifname[IFNAMSIZ];       /* tap name ("" only for tapfd) */

    /* interface */
    bool configure;              /* -c */
    unsigned int mtu;
    bool mac_set;
    uint8_t mac[6];

    /* IPv4, all derived from --cidr */
    struct in_addr vnetwork;     /* network address */
    struct in_addr vnetmask;
    unsigned int prefix;         /* 1..25 */
    struct in_addr vhost;        /* cidr+2: gateway / host loopback */
    struct in_addr vnameserver;  /* cidr+3 */
    struct in_addr vdhcp_start;  /* cidr+15 */
    struct in_addr vdhcp_end;    /* last DHCP address libslirp hands out */
    struct in_addr recommended;  /* cidr+100: the guest address */

    /* IPv6 (fd00::/64 as slirp4netns) */
    bool enable_ipv6;
    struct in6_addr vprefix6;
    unsigned int vprefix6_len;
    struct in6_addr vhost6;      /* fd00::2 */
    struct in6_addr vnameserver6;/* fd00::3 */

    /* behaviour */
    bool disable_host_loopback;
    bool disable_dns;
    bool disable_offload;        /* no IFF_VNET_HDR on the tap */
    unsigned int udp_timeout_ms; /* --udp-timeout: relayed UDP flows */
    unsigned int fin_timeout_ms; /* --fin-timeout: half-closed TCP; 0: never */
    unsigned int busy_poll_us;   /* --busy-poll: the loop's longest window */
    unsigned int shards;         /* --shards: libslirp instances */
    unsigned int threads;        /* --threads: 1, the main thread alone */
    bool enable_sandbox;
    bool enable_seccomp;
    bool outbound_set;
    struct sockaddr_in outbound_addr;
    bool outbound6_set;
    struct sockaddr_in6 outbound_addr6;

    /* egress policy (--allow, --deny, the configuration file) */
    struct policy_rule *rules;   /* in order: the files', then the command line's */
    char **rule_origins;         /* "FILE:LINE", or NULL: the command line */
    size_t n_rules;
    bool default_deny;           /* --deny=all */
    bool log_denied;             /* --log-denied */
    char *conf_files[2];         /* the configuration files read (NULL: none) */

    /* fds and API */
    int exit_fd;                 /* -1: none */
    int ready_fd;                /* -1: none */
    pid_t exit_with_pid;         /* --exit-with-pid=PID: 0 none */
    int exit_pidfd;              /* --exit-with-pid=fd:N: -1 none (not
                                  * owned: daemon_watch_pid() hands it out) */
    char *api_socket;            /* NULL: none */
};

int config_from_options(const struct options *opts, struct config *ret,
                        struct err *e);
void config_drop_rules(struct config *cfg);
void config_free(struct config *cfg);
int config_check_option(const char *arg, struct err *e);

int config_parse_cidr(const char *s, struct in_addr *ret_net,
                      unsigned int *ret_prefix, struct err *e);
int config_parse_mac(const char *s, uint8_t ret_mac[6]);
int config_parse_mtu(const char *s, unsigned int *ret_mtu);
int config_parse_fd(const char *s, int *ret_fd);
int config_resolve_outbound4(const char *s, struct sockaddr_in *ret);
int config_resolve_outbound6(const char *s, struct sockaddr_in6 *ret);
void config_print(const struct config *cfg, FILE *f);
