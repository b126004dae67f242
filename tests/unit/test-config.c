/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-config.c - unit tests for cidr/MAC/MTU/fd parsing and address derivation */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "tapout.h"

static const char *ip4(struct in_addr a)
{
    static char buf[4][INET_ADDRSTRLEN];
    static int i;
    i = (i + 1) % 4;
    return inet_ntop(AF_INET, &a, buf[i], sizeof(buf[i]));
}

static void cidr_bad(const char *s, const char *want)
{
    struct in_addr a;
    unsigned int p;
    struct err e = { 0 };
    int r = config_parse_cidr(s, &a, &p, &e);

    if (!TAP_OK(r == -EINVAL && e.code == r && strstr(e.msg, want) &&
                !(e.flags & ERR_USAGE), "cidr %s rejected: %s", s, want))
        printf("#   r=%d msg=%s\n", r, e.msg);
}

/* the flags of the last failure from() saw */
static unsigned int from_flags;

/* config_from_options(), its message copied to @e */
static int from(struct options *o, struct config *c, char *e, size_t n)
{
    struct err fe = { 0 };
    int r = config_from_options(o, c, &fe);

    snprintf(e, n, "%s", fe.msg);
    from_flags = fe.flags;
    return r;
}

/* config_from_options(@o) fails with a message that contains @want */
static void rejected(struct options *o, const char *want, const char *name)
{
    struct config c;
    struct err e = { 0 };
    int r = config_from_options(o, &c, &e);

    if (!TAP_OK(r < 0 && e.code == r && strstr(e.msg, want), "%s", name))
        printf("#   r=%d msg=%s\n", r, e.msg);
    config_free(&c);
}

int main(void)
{
    struct config c;
    struct options o;
    struct in_addr a;
    unsigned int p, mtu;
    uint8_t mac[6];
    char e[512], efd[16], rfd[16], want[128];
    int fd, r, pfd[2];

    /* cidr */
    TAP_IS_INT(config_parse_cidr("10.0.2.0/24", &a, &p, NULL), 0,
               "10.0.2.0/24");
    TAP_IS_STR(ip4(a), "10.0.2.0", "network");
    TAP_IS_INT(p, 24, "prefix");
    TAP_IS_INT(config_parse_cidr("10.8.0.0/16", &a, &p, NULL), 0,
               "10.8.0.0/16");
    TAP_IS_INT(config_parse_cidr("10.0.0.128/25", &a, &p, NULL), 0,
               "/25 is the longest prefix");
    TAP_IS_INT(config_parse_cidr("0.0.0.0/1", &a, &p, NULL), 0,
               "/1 is the shortest prefix");
    cidr_bad("10.0.2.0", "invalid CIDR");
    cidr_bad("10.0.2.0/", "invalid CIDR");
    cidr_bad("10.0.2.0/abc", "invalid CIDR");
    cidr_bad("/24", "invalid CIDR");
    cidr_bad("fd00::/64", "invalid CIDR");
    cidr_bad("10.0.2/24", "invalid CIDR");
    cidr_bad("300.0.2.0/24", "invalid network address");
    cidr_bad("10.0.2.0/26", "prefix length needs to be 1-25");
    cidr_bad("10.0.2.0/0", "prefix length needs to be 1-25");
    cidr_bad("10.0.2.100/24", "CIDR needs to be a network address");

    /* MAC */
    TAP_IS_INT(config_parse_mac("02:11:22:33:44:5f", mac), 0, "MAC parses");
    TAP_OK(mac[0] == 2 && mac[5] == 0x5f, "MAC bytes");
    TAP_IS_INT(config_parse_mac("02-11-22-33-44-55", mac), 0, "MAC with dashes");
    TAP_IS_INT(config_parse_mac("02:11:22:33:44", mac), -EINVAL, "short MAC");
    TAP_IS_INT(config_parse_mac("02:11:22:33:44:55:66", mac), -EINVAL, "long MAC");
    TAP_IS_INT(config_parse_mac("0g:11:22:33:44:55", mac), -EINVAL, "non-hex MAC");
    TAP_IS_INT(config_parse_mac("02:11:22:33:44:5", mac), -EINVAL, "short octet");
    TAP_IS_INT(config_parse_mac("", mac), -EINVAL, "empty MAC");

    /* MTU */
    TAP_IS_INT(config_parse_mtu("1500", &mtu), 0, "mtu 1500");
    TAP_IS_INT(config_parse_mtu("68", &mtu), 0, "mtu 68");
    TAP_IS_INT(config_parse_mtu("65521", &mtu), 0, "mtu 65521");
    TAP_IS_INT(mtu, 65521, "mtu value");
    TAP_OK(config_parse_mtu("65522", &mtu) < 0, "mtu 65522 rejected");
    TAP_OK(config_parse_mtu("67", &mtu) < 0, "mtu 67 rejected");
    TAP_OK(config_parse_mtu("0", &mtu) < 0, "mtu 0 rejected");
    TAP_OK(config_parse_mtu("-1", &mtu) < 0, "mtu -1 rejected");
    TAP_OK(config_parse_mtu("15x", &mtu) < 0, "mtu 15x rejected");
    TAP_OK(config_parse_mtu("", &mtu) < 0, "empty mtu rejected");

    /* fds */
    TAP_IS_INT(config_parse_fd("3", &fd), 0, "fd 3");
    TAP_IS_INT(fd, 3, "fd value");
    TAP_OK(config_parse_fd("-1", &fd) < 0, "fd -1 rejected");
    TAP_OK(config_parse_fd("x", &fd) < 0, "fd x rejected");
    TAP_OK(config_parse_fd("99999999999", &fd) < 0, "huge fd rejected");

    /* derivation: defaults */
    memset(&o, 0, sizeof(o));
    o.target = "1";
    o.ifname = "tap0";
    r = from(&o, &c, e, sizeof(e));
    TAP_IS_INT(r, 0, "defaults derive");
    TAP_IS_STR(ip4(c.vnetwork), "10.0.2.0", "default network");
    TAP_IS_STR(ip4(c.vnetmask), "255.255.255.0", "default netmask");
    TAP_IS_STR(ip4(c.vhost), "10.0.2.2", "gateway cidr+2");
    TAP_IS_STR(ip4(c.vnameserver), "10.0.2.3", "dns cidr+3");
    TAP_IS_STR(ip4(c.vdhcp_start), "10.0.2.15", "dhcp start cidr+15");
    TAP_IS_STR(ip4(c.vdhcp_end), "10.0.2.30", "dhcp end");
    TAP_IS_STR(ip4(c.recommended), "10.0.2.100", "guest cidr+100");
    TAP_IS_INT(c.mtu, 1500, "default mtu");
    TAP_IS_INT(c.udp_timeout_ms, 120000, "default --udp-timeout: 120 s");
    TAP_IS_INT(c.fin_timeout_ms, 60000, "default --fin-timeout: 60 s");
    TAP_IS_INT(c.exit_fd, -1, "no exit fd");
    TAP_IS_INT(c.ready_fd, -1, "no ready fd");
    TAP_IS_INT(c.netns_type, CONFIG_NETNS_PID, "pid mode");
    TAP_IS_STR(c.netns_path, "/proc/1/ns/net", "netns path from pid");
    TAP_IS_STR(c.userns_path, "/proc/1/ns/user", "userns path from pid");
    TAP_OK(!c.userns_explicit, "userns not explicit");
    {
        char v6[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &c.vhost6, v6, sizeof(v6));
        TAP_IS_STR(v6, "fd00::2", "IPv6 gateway fd00::2");
        inet_ntop(AF_INET6, &c.vnameserver6, v6, sizeof(v6));
        TAP_IS_STR(v6, "fd00::3", "IPv6 DNS fd00::3");
    }
    config_free(&c);

    /* --udp-timeout: seconds, 1..86400 */
    {
        static const char *const badv[] = { "0", "86401", "-1", "2s", "" };
        size_t i;

        memset(&o, 0, sizeof(o));
        o.target = "1";
        o.ifname = "tap0";
        o.udp_timeout = "86400";
        TAP_IS_INT(from(&o, &c, e, sizeof(e)), 0, "--udp-timeout=86400");
        TAP_IS_INT(c.udp_timeout_ms, 86400000, "... in ms");
        config_free(&c);
        for (i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
            o.udp_timeout = badv[i];
            TAP_OK(from(&o, &c, e, sizeof(e)) == -EINVAL &&
                   (from_flags & ERR_USAGE) &&
                   strstr(e, "--udp-timeout must be a number of seconds"),
                   "--udp-timeout=%s rejected: %s", badv[i], e);
        }
    }

    /* --fin-timeout: seconds, 0 (never) ..86400 */
    {
        static const char *const badv[] = { "86401", "-1", "2s", "" };
        size_t i;

        memset(&o, 0, sizeof(o));
        o.target = "1";
        o.ifname = "tap0";
        o.fin_timeout = "0";
        TAP_IS_INT(from(&o, &c, e, sizeof(e)), 0, "--fin-timeout=0");
        TAP_IS_INT(c.fin_timeout_ms, 0, "... never");
        config_free(&c);
        o.fin_timeout = "86400";
        TAP_IS_INT(from(&o, &c, e, sizeof(e)), 0, "--fin-timeout=86400");
        TAP_IS_INT(c.fin_timeout_ms, 86400000, "... in ms");
        config_free(&c);
        for (i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
            o.fin_timeout = badv[i];
            TAP_OK(from(&o, &c, e, sizeof(e)) == -EINVAL &&
                   (from_flags & ERR_USAGE) &&
                   strstr(e, "--fin-timeout must be a number of seconds"),
                   "--fin-timeout=%s rejected: %s", badv[i], e);
        }
    }

    /* derivation: --cidr 10.8.0.0/16, fds (open ones), mtu, mac */
    if (pipe(pfd) < 0)
        return 1;
    snprintf(efd, sizeof(efd), "%d", pfd[0]);
    snprintf(rfd, sizeof(rfd), "%d", pfd[1]);
    memset(&o, 0, sizeof(o));
    o.target = "1";
    o.ifname = "tap0";
    o.cidr = "10.8.0.0/16";
    o.mtu = "65520";
    o.exit_fd = efd;
    o.ready_fd = rfd;
    o.configure = true;
    o.macaddress = "02:00:00:00:00:09";
    r = from(&o, &c, e, sizeof(e));
    TAP_IS_INT(r, 0, "custom derive");
    TAP_IS_STR(ip4(c.vnetmask), "255.255.0.0", "/16 netmask");
    TAP_IS_STR(ip4(c.vhost), "10.8.0.2", "/16 gateway");
    TAP_IS_STR(ip4(c.vnameserver), "10.8.0.3", "/16 dns");
    TAP_IS_STR(ip4(c.recommended), "10.8.0.100", "/16 guest");
    TAP_IS_INT(c.prefix, 16, "/16 prefix");
    TAP_IS_INT(c.mtu, 65520, "mtu 65520");
    TAP_IS_INT(c.exit_fd, pfd[0], "exit fd");
    TAP_IS_INT(c.ready_fd, pfd[1], "ready fd");
    TAP_OK(c.mac_set && c.mac[5] == 9, "mac set");
    config_free(&c);

#define BAD(field, value, want)                                                \
    do {                                                                       \
        memset(&o, 0, sizeof(o));                                              \
        o.target = "1";                                                        \
        o.ifname = "tap0";                                                     \
        o.field = value;                                                       \
        e[0] = '\0';                                                           \
        r = from(&o, &c, e, sizeof(e));                                        \
        if (!TAP_OK(r < 0 && strstr(e, want), "%s=%s: %s", #field,            \
                    (const char *)(value), want))                              \
            printf("#   r=%d msg=%s\n", r, e);                                 \
        config_free(&c);                                                       \
    } while (0)

    BAD(exit_fd, "-1", "exit-fd must be a non-negative integer: -1");
    BAD(ready_fd, "abc", "ready-fd must be a non-negative integer: abc");
    /* fds that are not open: refused, whatever could take the number later */
    fd = dup(pfd[0]);
    close(fd);
    snprintf(efd, sizeof(efd), "%d", fd);
    snprintf(want, sizeof(want), "exit-fd %d is not an open file descriptor",
             fd);
    BAD(exit_fd, efd, want);
    snprintf(want, sizeof(want), "ready-fd %d is not an open file descriptor",
             fd);
    BAD(ready_fd, efd, want);
    BAD(exit_fd, "100000", "exit-fd 100000 is not an open file descriptor");
    close(pfd[0]);
    close(pfd[1]);
    BAD(mtu, "65522", "MTU must be a positive integer (< 65522)");
    BAD(mtu, "0", "--mtu 0");
    BAD(cidr, "10.0.2.100/24", "not like 10.0.2.100/24: 10.0.2.100/24");
    BAD(macaddress, "02:00:00:00:00:01",
        "--macaddress cannot be specified when --configure or -c is not "
        "specified");
    BAD(outbound_addr, "no-such-if0", "outbound-addr has to be valid ipv4 "
                                      "address or interface name: no-such-if0");
    BAD(outbound_addr6, "1.2.3.4", "outbound-addr6 has to be valid ipv6");
    BAD(target_type, "bess", "--target-type=bess is not supported");
    BAD(target_type, "foo", "--target-type must be either \"netns\" or "
                            "\"bess\": foo");
    BAD(netns_type, "bogus", "--netns-type must be pid, path or tapfd: bogus");
    BAD(userns_path, "/nonexistent/user", "userns path doesn't exist: "
                                          "/nonexistent/user");
    BAD(target, "0", "PID must be a positive integer: 0");
    BAD(target, "-5", "PID must be a positive integer: -5");
    BAD(ifname, "a-very-long-tapname0", "invalid TAPNAME");
    BAD(api_socket,
        "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "the specified API socket path is too long (>= 108)");

    /* path mode */
    memset(&o, 0, sizeof(o));
    o.netns_type = "path";
    o.target = "/nonexistent/netns";
    o.ifname = "tap0";
    r = from(&o, &c, e, sizeof(e));
    TAP_OK(r < 0 && strstr(e, "existing path expected when --netns-type=path: "
                           "/nonexistent/netns"), "path must exist");
    config_free(&c);
    o.target = "/proc/self/ns/net";
    r = from(&o, &c, e, sizeof(e));
    TAP_IS_INT(r, 0, "existing path accepted");
    TAP_IS_STR(c.userns_path, NULL, "path mode joins no userns by default");
    config_free(&c);
    o.userns_path = "/proc/self/ns/user";
    r = from(&o, &c, e, sizeof(e));
    TAP_IS_INT(r, 0, "--userns-path accepted");
    TAP_OK(c.userns_explicit, "userns explicit");
    config_free(&c);

    /* tapfd mode */
    memset(&o, 0, sizeof(o));
    o.netns_type = "tapfd";
    o.target = "987";
    rejected(&o, "TAPFD must be an open file descriptor: 987",
             "tapfd must be open");
    o.target = "0";
    o.configure = true;
    rejected(&o, "--configure cannot be used with", "-c with tapfd rejected");

    /* --tap-netns: the tap's namespaces, opened while parsing */
    o.configure = false;
    o.tap_netns = "/proc/self/ns/net";
    r = from(&o, &c, e, sizeof(e));
    TAP_IS_INT(r, 0, "tapfd + --tap-netns accepted");
    TAP_OK(c.tap_netns_fd >= 0 && c.tap_userns_fd < 0, "the netns is open, no userns");
    TAP_IS_STR(c.netns_path, "/proc/self/ns/net", "netns_path is --tap-netns");
    config_free(&c);
    TAP_IS_INT(c.tap_netns_fd, -1, "config_free closes it");
    o.userns_path = "/proc/self/ns/user";
    r = from(&o, &c, e, sizeof(e));
    TAP_IS_INT(r, 0, "tapfd + --tap-netns + --userns-path accepted");
    TAP_OK(c.tap_userns_fd >= 0 && c.userns_explicit, "the userns is open too");
    config_free(&c);
    o.tap_netns = NULL;
    rejected(&o, "--userns-path cannot be used with --netns-type=tapfd "
             "without --tap-netns", "tapfd + --userns-path alone rejected");
    o.userns_path = NULL;
    o.tap_netns = "/nonexistent/net";
    rejected(&o, "--tap-netns: /nonexistent/net:",
             "a --tap-netns that does not open is rejected");
    memset(&o, 0, sizeof(o));
    o.target = "1";
    o.ifname = "tap0";
    o.tap_netns = "/proc/self/ns/net";
    rejected(&o, "--tap-netns is only for --netns-type=tapfd",
             "--tap-netns without tapfd rejected");

    /* --exit-with-pid=fd:N: N must be an open pidfd, kept as it is */
    {
        char v[32];
        int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);

        memset(&o, 0, sizeof(o));
        o.target = "1";
        o.ifname = "tap0";
        snprintf(v, sizeof(v), "fd:%d", pidfd);
        o.exit_with_pid = v;
        r = from(&o, &c, e, sizeof(e));
        TAP_IS_INT(r, 0, "--exit-with-pid=fd:N of a pidfd accepted");
        TAP_OK(c.exit_pidfd == pidfd && c.exit_with_pid == 0,
               "the pidfd is used as it is, no PID to look up");
        config_free(&c);
        TAP_OK(fcntl(pidfd, F_GETFD) >= 0, "config_free leaves it open");
        close(pidfd);
        rejected(&o, "exit-with-pid=fd:N needs N to be an open pidfd",
                 "a closed fd rejected");
        fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        snprintf(v, sizeof(v), "fd:%d", fd);
        rejected(&o, "exit-with-pid=fd:N needs N to be an open pidfd",
                 "an fd that is not a pidfd rejected");
        close(fd);
        o.exit_with_pid = "fd:";
        rejected(&o, "needs N to be an open pidfd", "fd: without N rejected");
        o.exit_with_pid = "12x";
        rejected(&o, "exit-with-pid must be a positive integer or fd:N",
                 "a bad PID rejected");
    }

    /* outbound: interface names resolve with the right option (not
     * slirp4netns's bug of resolving --outbound-addr6 from --outbound-addr) */
    {
        struct sockaddr_in s4;
        struct sockaddr_in6 s6;
        char b[INET6_ADDRSTRLEN];

        TAP_IS_INT(config_resolve_outbound4("lo", &s4), 0, "outbound4 lo");
        TAP_IS_STR(inet_ntop(AF_INET, &s4.sin_addr, b, sizeof(b)), "127.0.0.1",
                   "lo's IPv4");
        r = config_resolve_outbound6("lo", &s6);
        if (r == -ENOENT) {
            tap_ok(true, "# SKIP lo has no IPv6 address here");
            tap_ok(true, "# SKIP lo has no IPv6 address here");
        } else {
            TAP_IS_INT(r, 0, "outbound6 lo");
            TAP_IS_STR(inet_ntop(AF_INET6, &s6.sin6_addr, b, sizeof(b)), "::1",
                       "lo's IPv6");
        }
        TAP_IS_INT(config_resolve_outbound6("fd00::5", &s6), 0, "v6 literal");
        TAP_OK(config_resolve_outbound4("::1", &s4) < 0, "v6 literal for v4");
    }

    /* the usage goes with the errors slirp4netns prints it for, only */
    memset(&o, 0, sizeof(o));
    o.target = "1";
    o.ifname = "tap0";
    o.mtu = "abc";
    TAP_OK(from(&o, &c, e, sizeof(e)) == -EINVAL && (from_flags & ERR_USAGE),
           "a bad --mtu: a usage error: %s", e);
    config_free(&c);
    o.mtu = NULL;
    o.configure = true;
    o.macaddress = "zz";
    TAP_OK(from(&o, &c, e, sizeof(e)) == -EINVAL && !(from_flags & ERR_USAGE),
           "a bad --macaddress: no usage: %s", e);
    config_free(&c);
    return tap_done();
}
