/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c - struct options to a validated, derived struct config */
/*
 * DOC: Theory of Operation
 *
 * options.c only splits the command line into strings (struct options);
 * this file decides what they mean, once, before anything is opened:
 *
 *   - every value is validated and the first bad one is reported in one
 *     line that names the option and the value, in slirp4netns's words
 *     where callers or users know them, as a struct err: ERR_USAGE marks
 *     the errors slirp4netns reports with its usage text;
 *   - the target (a PID, a path, or a tap fd) and the namespace files are
 *     resolved; fds given on the command line are checked to be open now,
 *     before an fd of ours could take a free number;
 *   - every address is derived from --cidr as slirp4netns does: the
 *     network, gateway/host cidr+2, DNS cidr+3, DHCP start cidr+15, the
 *     address -c gives the tap cidr+100; IPv6 fd00::/64 with ::2 and ::3;
 *   - config_print() writes the banner slirp4netns prints at start, which
 *     podman and users read.
 *
 * Nothing here touches the network or starts a process; everything after
 * it reads struct config only.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <glib.h>

#include "busypoll.h"
#include "config.h"
#include "err.h"
#include "util.h"

#define CONFIG_DEFAULT_CIDR "10.0.2.0/24"

/* a non-negative decimal integer <= max, nothing else */
static int config_parse_uint(const char *s, long max, long *ret)
{
    char *end;
    long v;

    if (!s || !*s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

/**
 * config_parse_fd() - parse a file descriptor number
 * @s:		the text
 * @ret_fd:	the number
 *
 * Return: 0, or -EINVAL/-ERANGE
 */
int config_parse_fd(const char *s, int *ret_fd)
{
    long v;
    int r = config_parse_uint(s, INT_MAX, &v);

    if (r < 0)
        return r;
    *ret_fd = (int)v;
    return 0;
}

/*
 * a pidfd (of a live process or one that has exited)? Signal 0 only checks:
 * any other fd, or a closed one, gives EBADF
 */
static bool config_is_pidfd(int fd)
{
    return syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0 ||
           errno == ESRCH || errno == EPERM;
}

/**
 * config_parse_mtu() - parse an MTU in CONFIG_MTU_MIN..CONFIG_MTU_MAX
 * @s:		the text
 * @ret_mtu:	the value
 *
 * Return: 0, or -EINVAL (not a number) / -ERANGE (out of range)
 */
int config_parse_mtu(const char *s, unsigned int *ret_mtu)
{
    long v;
    int r = config_parse_uint(s, LONG_MAX, &v);

    if (r < 0)
        return r;
    if (v < CONFIG_MTU_MIN || v > CONFIG_MTU_MAX)
        return -ERANGE;
    *ret_mtu = (unsigned int)v;
    return 0;
}

/* slirp4netns's regex for the address part: ([0-9]{1,3}\.){3}[0-9]{1,3} */
static bool config_dotted_quad(const char *s, size_t len)
{
    size_t i, digits = 0, dots = 0;

    for (i = 0; i < len; i++) {
        if (isdigit((unsigned char)s[i])) {
            if (++digits > 3)
                return false;
        } else if (s[i] == '.' && digits) {
            dots++;
            digits = 0;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

/**
 * config_parse_cidr() - parse an IPv4 network "A.B.C.D/P", P in 1..25
 * @s:		the text
 * @ret_net:	network address
 * @ret_prefix:	prefix length
 * @e:		slirp4netns-compatible message on failure
 *
 * Return: 0 or -EINVAL
 */
int config_parse_cidr(const char *s, struct in_addr *ret_net,
                      unsigned int *ret_prefix, struct err *e)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    struct in_addr a;
    uint32_t mask;
    long prefix;
    size_t len;

    if (!slash || slash == s || !config_dotted_quad(s, (size_t)(slash - s)))
        return err_make(e, -EINVAL, "invalid CIDR: %s", s);
    len = (size_t)(slash - s);
    memcpy(addr, s, len);
    addr[len] = '\0';
    if (config_parse_uint(slash + 1, 99, &prefix) < 0 || strlen(slash + 1) > 2)
        return err_make(e, -EINVAL, "invalid CIDR: %s", s);
    if (inet_pton(AF_INET, addr, &a) != 1)
        return err_make(e, -EINVAL, "invalid network address: %s", s);
    if (prefix < 1 || prefix > 25)
        return err_make(e, -EINVAL, "prefix length needs to be 1-25: %s", s);
    mask = htonl(~0u << (32 - prefix));
    if (a.s_addr & ~mask)
        return err_make(e, -EINVAL, "CIDR needs to be a network address like "
                         "10.0.2.0/24, not like 10.0.2.100/24: %s", s);
    *ret_net = a;
    *ret_prefix = (unsigned int)prefix;
    return 0;
}

/**
 * config_parse_mac() - parse "xx:xx:xx:xx:xx:xx" (or '-' separated)
 * @s:		the text
 * @ret_mac:	the six bytes
 *
 * Return: 0 or -EINVAL
 */
int config_parse_mac(const char *s, uint8_t ret_mac[6])
{
    unsigned int b[6];
    char sep[5], tail;
    int i;

    if (strlen(s) != 17)
        return -EINVAL;
    if (sscanf(s, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &b[0], &sep[0], &b[1],
               &sep[1], &b[2], &sep[2], &b[3], &sep[3], &b[4], &sep[4],
               &b[5], &tail) != 11)
        return -EINVAL;
    for (i = 0; i < 17; i++) {
        if (i % 3 == 2 ? (s[i] != ':' && s[i] != '-')
                       : !isxdigit((unsigned char)s[i]))
            return -EINVAL;
    }
    for (i = 0; i < 6; i++)
        ret_mac[i] = (uint8_t)b[i];
    return 0;
}

/* the first address of family @family on interface @ifname */
static int config_ifaddr(const char *ifname, int family, struct sockaddr *ret,
                         socklen_t len)
{
    struct ifaddrs *ifa, *i, *best = NULL;

    if (getifaddrs(&ifa) < 0)
        return -errno;
    for (i = ifa; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != family ||
            strcmp(i->ifa_name, ifname))
            continue;
        if (family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (void *)i->ifa_addr;
            /* prefer a global address over a link-local one */
            if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr)) {
                if (!best)
                    best = i;
                continue;
            }
        }
        best = i;
        break;
    }
    if (best)
        memcpy(ret, best->ifa_addr, len);
    freeifaddrs(ifa);
    return best ? 0 : -ENOENT;
}

/**
 * config_resolve_outbound4() - an IPv4 address, or the IPv4 address of an
 *				interface
 * @s:		address or interface name
 * @ret:	the address (port 0)
 *
 * Return: 0 or a negative errno
 */
int config_resolve_outbound4(const char *s, struct sockaddr_in *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->sin_family = AF_INET;
    if (inet_pton(AF_INET, s, &ret->sin_addr) == 1)
        return 0;
    if (strlen(s) >= IFNAMSIZ)
        return -EINVAL;
    return config_ifaddr(s, AF_INET, (struct sockaddr *)ret, sizeof(*ret));
}

/**
 * config_resolve_outbound6() - an IPv6 address, or the IPv6 address of an
 *				interface (the interface named by *this* option,
 *				unlike slirp4netns which looks up --outbound-addr)
 * @s:		address or interface name
 * @ret:	the address (port 0; scope id set for link-local)
 *
 * Return: 0 or a negative errno
 */
int config_resolve_outbound6(const char *s, struct sockaddr_in6 *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, s, &ret->sin6_addr) == 1)
        return 0;
    if (strlen(s) >= IFNAMSIZ)
        return -EINVAL;
    return config_ifaddr(s, AF_INET6, (struct sockaddr *)ret, sizeof(*ret));
}

static struct in_addr config_offset(struct in_addr net, uint32_t off)
{
    struct in_addr a = { .s_addr = htonl(ntohl(net.s_addr) + off) };
    return a;
}

/* an error slirp4netns reports with its usage text: -EINVAL, ERR_USAGE */
static int __attribute__((format(printf, 2, 3)))
config_usage(struct err *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vmake(e, -EINVAL, fmt, ap);
    va_end(ap);
    if (e)
        e->flags |= ERR_USAGE;
    return -EINVAL;
}

static int config_target(const struct options *o, struct config *c,
                         struct err *e)
{
    const char *type = o->netns_type ? o->netns_type : "pid";
    long v;

    if (!strcmp(type, "pid")) {
        c->netns_type = CONFIG_NETNS_PID;
        if (config_parse_uint(o->target, INT_MAX, &v) < 0 || v <= 0)
            return config_usage(e, "PID must be a positive integer: %s", o->target);
        c->target_pid = (pid_t)v;
        c->netns_path = g_strdup_printf("/proc/%ld/ns/net", v);
        if (!o->userns_path)
            c->userns_path = g_strdup_printf("/proc/%ld/ns/user", v);
    } else if (!strcmp(type, "path")) {
        c->netns_type = CONFIG_NETNS_PATH;
        if (access(o->target, F_OK) < 0)
            return config_usage(e, "existing path expected when --netns-type=path: "
                             "%s: %s", o->target, strerror(errno));
        c->netns_path = g_strdup(o->target);
    } else if (!strcmp(type, "tapfd")) {
        c->netns_type = CONFIG_NETNS_TAPFD;
        if (config_parse_fd(o->target, &c->tapfd) < 0 ||
            fcntl(c->tapfd, F_GETFD) < 0)
            return config_usage(e, "TAPFD must be an open file descriptor: %s",
                             o->target);
        if (o->configure)
            return err_make(e, -EINVAL, "--configure cannot be used with "
                             "--netns-type=tapfd (there is no namespace "
                             "to configure)");
        /* opened now: the paths may be /proc/self/fd/N of fds passed to
         * us (the OCI hook's), which isolate_initial() closes */
        if (o->tap_netns) {
            c->tap_netns_fd = open(o->tap_netns, O_RDONLY | O_CLOEXEC);
            if (c->tap_netns_fd < 0)
                return config_usage(e, "--tap-netns: %s: %s", o->tap_netns,
                                 strerror(errno));
            c->netns_path = g_strdup(o->tap_netns);
        }
        if (o->tap_netns && o->userns_path) {
            c->tap_userns_fd = open(o->userns_path, O_RDONLY | O_CLOEXEC);
            if (c->tap_userns_fd < 0)
                return config_usage(e, "userns path doesn't exist: %s",
                                 o->userns_path);
        }
    } else {
        return config_usage(e, "--netns-type must be pid, path or tapfd: %s", type);
    }

    if (o->tap_netns && c->netns_type != CONFIG_NETNS_TAPFD)
        return err_make(e, -EINVAL, "--tap-netns is only for --netns-type=tapfd");
    if (o->userns_path) {
        if (c->netns_type == CONFIG_NETNS_TAPFD && !o->tap_netns)
            return err_make(e, -EINVAL, "--userns-path cannot be used with "
                             "--netns-type=tapfd without --tap-netns");
        if (access(o->userns_path, F_OK) < 0)
            return config_usage(e, "userns path doesn't exist: %s", o->userns_path);
        c->userns_path = g_strdup(o->userns_path);
        c->userns_explicit = true;
    }

    if (o->ifname) {
        if (!*o->ifname || strlen(o->ifname) >= IFNAMSIZ ||
            strchr(o->ifname, '/') || isspace((unsigned char)*o->ifname))
            return err_make(e, -EINVAL, "invalid TAPNAME: \"%s\" (1 to %d characters)",
                             o->ifname, IFNAMSIZ - 1);
        strcpy(c->ifname, o->ifname);
    }
    return 0;
}

/* --allow, --deny: parsed in order; "all" sets the default (the last wins) */
static int config_rules(const struct options *o, struct config *c,
                        struct err *e)
{
    size_t i;
    int r;

    c->log_denied = o->log_denied;
    for (i = 0; i < 2; i++)
        c->conf_files[i] = g_strdup(o->conf_files[i]);
    if (!o->n_rules)
        return 0;
    c->rules = g_new0(struct policy_rule, o->n_rules);
    c->rule_origins = g_new0(char *, o->n_rules);
    for (i = 0; i < o->n_rules; i++) {
        const struct opt_rule *or = &o->rules[i];
        struct policy_rule *pr = &c->rules[c->n_rules];

        r = policy_rule_parse(or->text, or->deny ? POLICY_DENY : POLICY_ALLOW,
                              pr, e);
        if (r < 0 && or->origin)
            return err_wrap(e, r, "%s: %s", or->origin,
                            or->deny ? "deny" : "allow");
        if (r < 0)
            return err_wrap(e, r, "--%s", or->deny ? "deny" : "allow");
        if (r == POLICY_RULE_DEFAULT) {
            c->default_deny = or->deny;
            continue;
        }
        c->rule_origins[c->n_rules++] = g_strdup(or->origin);
    }
    if (c->n_rules > CONFIG_RULES_MAX)
        return err_make(e, -E2BIG, "too many --allow/--deny rules: %zu (at "
                        "most %d)", c->n_rules, CONFIG_RULES_MAX);
    return 0;
}

/**
 * config_from_options() - validate options and derive every address
 * @o:		parsed options
 * @ret:	the configuration (free with config_free(), also on failure)
 * @e:		on failure, one clear line naming the option and the value;
 *		ERR_USAGE for the errors slirp4netns finds while parsing (fds,
 *		MTU, target, namespace paths, --target-type, --macaddress
 *		without -c: the usage is printed too), not for the
 *		configuration errors it reports without the usage (cidr,
 *		outbound addresses, a malformed MAC, an exit or ready fd that
 *		is not open)
 *
 * Return: 0 or a negative errno (-EINVAL; -EBADF: an exit or ready fd that
 *	   is not open; -ENAMETOOLONG: the API socket's path)
 */
int config_from_options(const struct options *o, struct config *ret,
                        struct err *e)
{
    struct config *c = ret;
    int r;

    memset(c, 0, sizeof(*c));
    c->exit_fd = -1;
    c->ready_fd = -1;
    c->exit_pidfd = -1;
    c->tapfd = -1;
    c->tap_netns_fd = c->tap_userns_fd = -1;
    c->mtu = CONFIG_MTU_DEFAULT;
    c->udp_timeout_ms = CONFIG_UDP_TIMEOUT_DEFAULT * 1000;
    c->fin_timeout_ms = CONFIG_FIN_TIMEOUT_DEFAULT * 1000;
    c->busy_poll_us = BUSYPOLL_DEFAULT_US;
    c->shards = CONFIG_SHARDS_DEFAULT;
    c->threads = 1;

    if (o->target_type && strcmp(o->target_type, "netns")) {
        if (!strcmp(o->target_type, "bess"))
            return config_usage(e, "--target-type=bess is not supported by "
                             "slirpd: only --target-type=netns is");
        return config_usage(e, "--target-type must be either \"netns\" or "
                         "\"bess\": %s", o->target_type);
    }
    if (o->exit_fd && config_parse_fd(o->exit_fd, &c->exit_fd) < 0)
        return config_usage(e, "exit-fd must be a non-negative integer: %s",
                         o->exit_fd);
    if (o->ready_fd && config_parse_fd(o->ready_fd, &c->ready_fd) < 0)
        return config_usage(e, "ready-fd must be a non-negative integer: %s",
                         o->ready_fd);
    /* checked here, before anything of ours takes a free number: an fd
     * opened later could get the number and stand in for a closed one */
    if (c->exit_fd >= 0 && fcntl(c->exit_fd, F_GETFD) < 0)
        return err_make(e, -EBADF, "exit-fd %d is not an open file descriptor",
                         c->exit_fd);
    if (c->ready_fd >= 0 && fcntl(c->ready_fd, F_GETFD) < 0)
        return err_make(e, -EBADF, "ready-fd %d is not an open file descriptor",
                         c->ready_fd);
    if (o->exit_with_pid && !strncmp(o->exit_with_pid, "fd:", 3)) {
        if (config_parse_fd(o->exit_with_pid + 3, &c->exit_pidfd) < 0 ||
            !config_is_pidfd(c->exit_pidfd)) {
            c->exit_pidfd = -1;
            return err_make(e, -EINVAL, "exit-with-pid=fd:N needs N to be an open "
                             "pidfd: %s", o->exit_with_pid);
        }
    } else if (o->exit_with_pid) {
        int pid;

        if (config_parse_fd(o->exit_with_pid, &pid) < 0 || pid == 0)
            return err_make(e, -EINVAL, "exit-with-pid must be a positive integer or "
                             "fd:N: %s", o->exit_with_pid);
        c->exit_with_pid = pid;
    }
    if (o->udp_timeout) {
        long v;

        if (config_parse_uint(o->udp_timeout, LONG_MAX, &v) < 0 || v < 1 ||
            v > CONFIG_UDP_TIMEOUT_MAX)
            return config_usage(e, "--udp-timeout must be a number of seconds "
                             "from 1 to %d: %s", CONFIG_UDP_TIMEOUT_MAX,
                             o->udp_timeout);
        c->udp_timeout_ms = (unsigned int)v * 1000;
    }
    if (o->fin_timeout) {
        long v;

        if (config_parse_uint(o->fin_timeout, CONFIG_FIN_TIMEOUT_MAX, &v) < 0)
            return config_usage(e, "--fin-timeout must be a number of seconds "
                                "from 0 to %d: %s", CONFIG_FIN_TIMEOUT_MAX,
                                o->fin_timeout);
        c->fin_timeout_ms = (unsigned int)v * 1000;
    }
    if (o->busy_poll) {
        long v;

        if (config_parse_uint(o->busy_poll, BUSYPOLL_MAX_US, &v) < 0)
            return config_usage(e, "--busy-poll must be a number of microseconds "
                             "from 0 to %d: %s", BUSYPOLL_MAX_US,
                             o->busy_poll);
        c->busy_poll_us = (unsigned int)v;
    }
    if (o->shards) {
        long v;

        if (config_parse_uint(o->shards, CONFIG_SHARDS_MAX, &v) < 0 || v < 1)
            return config_usage(e, "--shards must be a number from 1 to %d: %s",
                                CONFIG_SHARDS_MAX, o->shards);
        c->shards = (unsigned int)v;
    }
    if (o->threads) {
        long v;

        if (config_parse_uint(o->threads, CONFIG_THREADS_MAX, &v) < 0 || v < 1)
            return config_usage(e, "--threads must be a number from 1 to %d: %s",
                                CONFIG_THREADS_MAX, o->threads);
        c->threads = (unsigned int)v;
    }
    if (c->threads > c->shards)
        return config_usage(e, "--threads=%u needs as many shards at least "
                            "(--shards=%u): each thread runs its own",
                            c->threads, c->shards);
    if (o->mtu && config_parse_mtu(o->mtu, &c->mtu) < 0)
        return config_usage(e, "MTU must be a positive integer (< 65522), at "
                         "least %d: --mtu %s", CONFIG_MTU_MIN, o->mtu);

    r = config_parse_cidr(o->cidr ? o->cidr : CONFIG_DEFAULT_CIDR, &c->vnetwork,
                          &c->prefix, e);
    if (r < 0)
        return r;
    c->vnetmask.s_addr = htonl(~0u << (32 - c->prefix));
    c->vhost = config_offset(c->vnetwork, 2);
    c->vnameserver = config_offset(c->vnetwork, 3);
    c->vdhcp_start = config_offset(c->vnetwork, 15);
    c->vdhcp_end = config_offset(c->vnetwork, 15 + 16 - 1);
    c->recommended = config_offset(c->vnetwork, 100);

    c->enable_ipv6 = o->enable_ipv6;
    inet_pton(AF_INET6, "fd00::", &c->vprefix6);
    c->vprefix6_len = 64;
    inet_pton(AF_INET6, "fd00::2", &c->vhost6);
    inet_pton(AF_INET6, "fd00::3", &c->vnameserver6);

    c->configure = o->configure;
    if (o->macaddress) {
        if (!o->configure)
            return config_usage(e, "--macaddress cannot be specified when "
                             "--configure or -c is not specified");
        if (config_parse_mac(o->macaddress, c->mac) < 0)
            return err_make(e, -EINVAL, "\"%s\" is an invalid MAC address "
                             "(--macaddress)", o->macaddress);
        c->mac_set = true;
    }

    if (o->outbound_addr) {
        if (config_resolve_outbound4(o->outbound_addr, &c->outbound_addr) < 0)
            return err_make(e, -EINVAL, "outbound-addr has to be valid ipv4 address or "
                             "interface name: %s", o->outbound_addr);
        c->outbound_set = true;
    }
    if (o->outbound_addr6) {
        if (config_resolve_outbound6(o->outbound_addr6, &c->outbound_addr6) < 0)
            return err_make(e, -EINVAL, "outbound-addr6 has to be valid ipv6 address or "
                             "interface name: %s", o->outbound_addr6);
        c->outbound6_set = true;
    }

    r = config_rules(o, c, e);
    if (r < 0)
        return r;

    c->disable_host_loopback = o->disable_host_loopback;
    c->disable_dns = o->disable_dns;
    c->disable_offload = o->disable_offload;
    c->enable_sandbox = o->enable_sandbox;
    c->enable_seccomp = o->enable_seccomp;

    if (o->api_socket) {
        if (!*o->api_socket)
            return err_make(e, -EINVAL, "--api-socket needs a path");
        if (strlen(o->api_socket) >= 108)
            return err_make(e, -ENAMETOOLONG, "the specified API socket path is too long "
                             "(>= 108): %s", o->api_socket);
        c->api_socket = g_strdup(o->api_socket);
    }

    return config_target(o, c, e);
}

/**
 * config_drop_rules() - free the --allow/--deny rules once the egress
 *			 policy holds its own copy (stack_new())
 * @c:	the configuration
 */
void config_drop_rules(struct config *c)
{
    if (c->rule_origins)
        for (size_t i = 0; i < c->n_rules; i++)
            g_free(c->rule_origins[i]);
    g_clear_pointer(&c->rule_origins, g_free);
    g_clear_pointer(&c->rules, g_free);
    c->n_rules = 0;
}

/**
 * config_free() - release what config_from_options() allocated
 * @c:	the configuration
 */
void config_free(struct config *c)
{
    /* > 0: a config zeroed but never filled in holds 0 there */
    if (c->tap_netns_fd > 0)
        close(c->tap_netns_fd);
    if (c->tap_userns_fd > 0)
        close(c->tap_userns_fd);
    c->tap_netns_fd = c->tap_userns_fd = -1;
    g_clear_pointer(&c->netns_path, g_free);
    g_clear_pointer(&c->userns_path, g_free);
    g_clear_pointer(&c->api_socket, g_free);
    config_drop_rules(c);
    g_clear_pointer(&c->conf_files[0], g_free);
    g_clear_pointer(&c->conf_files[1], g_free);
}

/**
 * config_check_option() - is one option, alone, valid? (a configuration
 *			   file's line, before it joins the command line)
 * @arg:	"--NAME=VALUE" or "--NAME"
 * @e:		why not
 *
 * Checked on a command line of its own with -c and a PID (so that
 * --macaddress, which needs -c, passes); options that name fds, paths or
 * the target are not checked here (conffile.c refuses them).
 *
 * Return: 0 or a negative errno
 */
int config_check_option(const char *arg, struct err *e)
{
    char *argv[] = { (char *)"slirpd", (char *)arg, (char *)"-c",
                     (char *)"1", (char *)"tap0", NULL };
    struct options o;
    struct config c;
    int r;

    if (opt_parse(5, argv, &o) != OPT_RUN) {
        opt_free(&o);
        return err_make(e, -EINVAL, "%s: not a valid option", arg);
    }
    r = config_from_options(&o, &c, e);
    config_free(&c);
    opt_free(&o);
    return r;
}

/**
 * config_print() - the start-up banner (slirp4netns's lines, on stdout)
 * @c:	the configuration
 * @f:	where to print
 */
void config_print(const struct config *c, FILE *f)
{
    char a[INET6_ADDRSTRLEN];

#define P4(label, addr) \
    fprintf(f, "* %-17s%s\n", label, inet_ntop(AF_INET, &(addr), a, sizeof(a)))
    fprintf(f, "Starting slirp\n");
    fprintf(f, "* %-17s%u\n", "MTU:", c->mtu);
    P4("Network:", c->vnetwork);
    P4("Netmask:", c->vnetmask);
    P4("Gateway:", c->vhost);
    P4("DNS:", c->vnameserver);
    P4("DHCP begin:", c->vdhcp_start);
    P4("DHCP end:", c->vdhcp_end);
    P4("Recommended IP:", c->recommended);
#undef P4
    if (c->enable_ipv6) {
        fprintf(f, "* %-17s%s/%u\n", "IPv6 prefix:",
                inet_ntop(AF_INET6, &c->vprefix6, a, sizeof(a)),
                c->vprefix6_len);
        fprintf(f, "* %-17s%s\n", "IPv6 gateway:",
                inet_ntop(AF_INET6, &c->vhost6, a, sizeof(a)));
        fprintf(f, "* %-17s%s\n", "IPv6 DNS:",
                inet_ntop(AF_INET6, &c->vnameserver6, a, sizeof(a)));
    }
    if (c->api_socket)
        fprintf(f, "* %-17s%s\n", "API Socket:", c->api_socket);
    if (c->outbound_set)
        fprintf(f, "* %-17s%s\n", "Outbound IPv4:",
                inet_ntop(AF_INET, &c->outbound_addr.sin_addr, a, sizeof(a)));
    if (c->outbound6_set)
        fprintf(f, "* %-17s%s\n", "Outbound IPv6:",
                inet_ntop(AF_INET6, &c->outbound_addr6.sin6_addr, a, sizeof(a)));
    if (c->mac_set)
        fprintf(f, "* %-17s%02x:%02x:%02x:%02x:%02x:%02x\n", "MAC address:",
                c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4],
                c->mac[5]);
    if (!c->disable_host_loopback)
        fprintf(f, "WARNING: 127.0.0.1:* on the host is accessible as %s "
                "(set --disable-host-loopback to prohibit connecting to "
                "127.0.0.1:*)\n", inet_ntop(AF_INET, &c->vhost, a, sizeof(a)));
    fflush(f);
}
