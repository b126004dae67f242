/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ifcfg.c - the -c/--configure step: set up lo and the tap inside the netns */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ifcfg.h"
#include "netlink.h"
#include "util.h"

/* "WHAT A.B.C.D/PREFIX" (@prefix >= 0) or "WHAT A.B.C.D": a failed step */
static int ifcfg_fail_addr(struct err *e, int r, const char *what,
                           const struct in_addr *a, int prefix)
{
    char s[INET_ADDRSTRLEN] = "?";

    inet_ntop(AF_INET, a, s, sizeof(s));
    if (prefix >= 0)
        return err_make_errno(e, r, "%s %s/%d", what, s, prefix);
    return err_make_errno(e, r, "%s %s", what, s);
}

/* Best effort: the file is missing when IPv6 is disabled in the kernel. */
static void ifcfg_write_ipv6_conf(const char *ifname, const char *key,
                                  const char *value)
{
    char path[128];
    _cleanup_close_ int fd = -1;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", ifname,
             key);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    do
        n = write(fd, value, strlen(value));
    while (n < 0 && errno == EINTR);
}

static int ifcfg_run(struct nl *nl, const struct config *cfg,
                     const char *ifname, struct err *e)
{
    int lo, tap, r;

    r = nl_link_index(nl, "lo", &lo);
    if (r == 0)
        r = nl_link_set(nl, lo, 1, 0, NULL);
    if (r < 0)
        return err_make_errno(e, r, "bring up lo");

    r = nl_link_index(nl, ifname, &tap);
    if (r == 0) {
        /* Before the link comes up: the kernel then skips duplicate
         * address detection, so the link-local and the SLAAC address from
         * libslirp's router advertisement on fd00::/64 are usable at once.
         * With IPv6 off, slirp4netns leaves the kernel's link-local alone;
         * so do we. */
        if (cfg->enable_ipv6)
            ifcfg_write_ipv6_conf(ifname, "accept_dad", "0");
        r = nl_link_set(nl, tap, 1, cfg->mtu, cfg->mac_set ? cfg->mac : NULL);
    }
    if (r < 0)
        return err_make_errno(e, r, "set MTU/MAC of %s and bring it up",
                              ifname);

    r = nl_addr_add(nl, tap, AF_INET, &cfg->recommended, cfg->prefix, 0);
    if (r < 0)
        return ifcfg_fail_addr(e, r, "add address", &cfg->recommended,
                               (int)cfg->prefix);

    r = nl_route_add_default(nl, tap, AF_INET, &cfg->vhost);
    if (r < 0)
        return ifcfg_fail_addr(e, r, "add default route via", &cfg->vhost,
                               -1);
    return 0;
}

/**
 * ifcfg_apply() - configure lo and the tap like "slirp4netns -c" does
 * @cfg: the configuration (MTU, MAC, IPv4 address, prefix and gateway)
 * @ifname: the tap, already created in the current network namespace
 * @e: on failure, the step that failed and the errno's text (e.g. "add
 *     default route via 10.0.2.2: Network is unreachable")
 *
 * Must run inside the target network namespace.  In order: bring lo up;
 * if IPv6 is enabled, turn off duplicate address detection on the tap
 * (failure ignored); set the tap's MTU and, if given, MAC, and bring it up;
 * add cfg->recommended/cfg->prefix with its broadcast address; add the
 * default route via cfg->vhost.  Stops at the first failure.
 *
 * Return: 0 or the negative errno of the first failed step.
 */
int ifcfg_apply(const struct config *cfg, const char *ifname, struct err *e)
{
    struct nl nl;
    int r;

    r = nl_open(&nl);
    if (r < 0)
        return err_make_errno(e, r, "open an rtnetlink socket");
    r = ifcfg_run(&nl, cfg, ifname, e);
    nl_close(&nl);
    return r;
}
