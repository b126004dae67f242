/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-netlink.c - rtnetlink message builders, and a round trip in a netns */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "netlink.h"
#include "tapout.h"

#define MAX_ATTR 64

/* Checks done by test_roundtrip(); emitted as skips without a namespace. */
#define ROUNDTRIP_CHECKS 17

static char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

struct attrs {
    const struct nlattr *tb[MAX_ATTR];
    int count;
};

static int collect_cb(const struct nlattr *attr, void *data)
{
    struct attrs *a = data;
    int type = mnl_attr_get_type(attr);

    a->count++;
    if (type < MAX_ATTR)
        a->tb[type] = attr;
    return MNL_CB_OK;
}

static struct attrs parse(const struct nlmsghdr *nlh, size_t hdrlen)
{
    struct attrs a;

    memset(&a, 0, sizeof(a));
    if (mnl_attr_parse(nlh, hdrlen, collect_cb, &a) != MNL_CB_OK)
        a.count = -1;
    return a;
}

static bool attr_is(const struct nlattr *attr, const void *want, size_t len)
{
    return attr && mnl_attr_get_payload_len(attr) == len &&
           memcmp(mnl_attr_get_payload(attr), want, len) == 0;
}

static bool attr_is_u32(const struct nlattr *attr, uint32_t want)
{
    return attr && mnl_attr_get_payload_len(attr) == sizeof(uint32_t) &&
           mnl_attr_get_u32(attr) == want;
}

static void test_link_get(void)
{
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;
    struct attrs a;

    memset(buf, 0xa5, sizeof(buf));
    nlh = nl_build_link_get(buf, sizeof(buf), 42, "tap0");
    TAP_OK(nlh == (void *)buf, "link_get: built at the start of buf");
    if (!nlh)
        return;
    TAP_IS_INT(nlh->nlmsg_type, RTM_GETLINK, "link_get: RTM_GETLINK");
    TAP_IS_INT(nlh->nlmsg_flags, NLM_F_REQUEST, "link_get: NLM_F_REQUEST");
    TAP_IS_INT(nlh->nlmsg_seq, 42, "link_get: seq");
    TAP_IS_INT(nlh->nlmsg_pid, 0, "link_get: pid 0");
    TAP_IS_INT(nlh->nlmsg_len,
               NLMSG_SPACE(sizeof(*ifi)) + MNL_ATTR_HDRLEN + MNL_ALIGN(5),
               "link_get: length");
    ifi = mnl_nlmsg_get_payload(nlh);
    TAP_OK(ifi->ifi_family == AF_UNSPEC && ifi->ifi_index == 0 &&
           ifi->ifi_flags == 0 && ifi->ifi_change == 0 && ifi->ifi_type == 0,
           "link_get: ifinfomsg zeroed");
    a = parse(nlh, sizeof(*ifi));
    TAP_IS_INT(a.count, 1, "link_get: one attribute");
    TAP_OK(attr_is(a.tb[IFLA_IFNAME], "tap0", 5),
           "link_get: IFLA_IFNAME \"tap0\" NUL-terminated");

    TAP_OK(nl_build_link_get(buf, sizeof(buf), 1, "") == NULL,
           "link_get: empty name refused");
    TAP_OK(nl_build_link_get(buf, sizeof(buf), 1, "0123456789abcdef") == NULL,
           "link_get: 16-char name refused");
    TAP_OK(nl_build_link_get(buf, sizeof(buf), 1, "0123456789abcde") != NULL,
           "link_get: 15-char name accepted");
    TAP_OK(nl_build_link_get(buf, sizeof(buf), 1, NULL) == NULL,
           "link_get: NULL name refused");
}

static void test_link_set(void)
{
    static const uint8_t mac[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;
    struct attrs a;

    nlh = nl_build_link_set(buf, sizeof(buf), 7, 5, 1, 1500, mac);
    TAP_OK(nlh != NULL, "link_set: built");
    if (!nlh)
        return;
    TAP_IS_INT(nlh->nlmsg_type, RTM_NEWLINK, "link_set: RTM_NEWLINK");
    TAP_IS_INT(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK,
               "link_set: NLM_F_REQUEST|NLM_F_ACK");
    TAP_IS_INT(nlh->nlmsg_seq, 7, "link_set: seq");
    TAP_IS_INT(nlh->nlmsg_len,
               NLMSG_SPACE(sizeof(*ifi)) + MNL_ATTR_HDRLEN + 4 +
                   MNL_ATTR_HDRLEN + MNL_ALIGN(6),
               "link_set: length");
    ifi = mnl_nlmsg_get_payload(nlh);
    TAP_IS_INT(ifi->ifi_family, AF_UNSPEC, "link_set: AF_UNSPEC");
    TAP_IS_INT(ifi->ifi_index, 5, "link_set: ifi_index");
    TAP_IS_INT(ifi->ifi_change, IFF_UP, "link_set: ifi_change IFF_UP");
    TAP_IS_INT(ifi->ifi_flags, IFF_UP, "link_set: ifi_flags IFF_UP");
    a = parse(nlh, sizeof(*ifi));
    TAP_IS_INT(a.count, 2, "link_set: two attributes");
    TAP_OK(attr_is_u32(a.tb[IFLA_MTU], 1500), "link_set: IFLA_MTU 1500");
    TAP_OK(attr_is(a.tb[IFLA_ADDRESS], mac, 6),
           "link_set: IFLA_ADDRESS 02:42:ac:11:00:02");

    nlh = nl_build_link_set(buf, sizeof(buf), 8, 5, 0, 0, NULL);
    ifi = nlh ? mnl_nlmsg_get_payload(nlh) : NULL;
    TAP_OK(ifi && ifi->ifi_change == IFF_UP && ifi->ifi_flags == 0 &&
               nlh->nlmsg_len == NLMSG_SPACE(sizeof(*ifi)),
           "link_set: down, nothing else");
    nlh = nl_build_link_set(buf, sizeof(buf), 9, 5, -1, 9000, NULL);
    ifi = nlh ? mnl_nlmsg_get_payload(nlh) : NULL;
    a = nlh ? parse(nlh, sizeof(*ifi)) : (struct attrs){ .count = -1 };
    TAP_OK(ifi && ifi->ifi_change == 0 && ifi->ifi_flags == 0 &&
               a.count == 1 && attr_is_u32(a.tb[IFLA_MTU], 9000),
           "link_set: MTU only, flags untouched");
    TAP_OK(nl_build_link_set(buf, sizeof(buf), 1, 0, 1, 0, NULL) == NULL,
           "link_set: ifindex 0 refused");
    TAP_OK(nl_build_link_set(buf, sizeof(buf), 1, 5, 2, 0, NULL) == NULL,
           "link_set: up=2 refused");
}

static void test_addr_add4(void)
{
    struct in_addr addr, brd;
    struct nlmsghdr *nlh;
    struct ifaddrmsg *ifa;
    struct attrs a;

    inet_pton(AF_INET, "10.0.2.100", &addr);
    inet_pton(AF_INET, "10.0.2.255", &brd);
    nlh = nl_build_addr_add(buf, sizeof(buf), 11, 3, AF_INET, &addr, 24, 0);
    TAP_OK(nlh != NULL, "addr_add v4: built");
    if (!nlh)
        return;
    TAP_IS_INT(nlh->nlmsg_type, RTM_NEWADDR, "addr_add v4: RTM_NEWADDR");
    TAP_IS_INT(nlh->nlmsg_flags,
               NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
               "addr_add v4: REQUEST|ACK|CREATE|EXCL");
    TAP_IS_INT(nlh->nlmsg_seq, 11, "addr_add v4: seq");
    TAP_IS_INT(nlh->nlmsg_len,
               NLMSG_SPACE(sizeof(*ifa)) + 3 * (MNL_ATTR_HDRLEN + 4),
               "addr_add v4: length");
    ifa = mnl_nlmsg_get_payload(nlh);
    TAP_IS_INT(ifa->ifa_family, AF_INET, "addr_add v4: AF_INET");
    TAP_IS_INT(ifa->ifa_prefixlen, 24, "addr_add v4: prefix 24");
    TAP_IS_INT(ifa->ifa_flags, 0, "addr_add v4: ifa_flags 0");
    TAP_IS_INT(ifa->ifa_scope, RT_SCOPE_UNIVERSE, "addr_add v4: scope");
    TAP_IS_INT(ifa->ifa_index, 3, "addr_add v4: ifa_index");
    a = parse(nlh, sizeof(*ifa));
    TAP_IS_INT(a.count, 3, "addr_add v4: three attributes");
    TAP_OK(attr_is(a.tb[IFA_LOCAL], &addr, 4),
           "addr_add v4: IFA_LOCAL 10.0.2.100");
    TAP_OK(attr_is(a.tb[IFA_ADDRESS], &addr, 4),
           "addr_add v4: IFA_ADDRESS 10.0.2.100");
    TAP_OK(attr_is(a.tb[IFA_BROADCAST], &brd, 4),
           "addr_add v4: IFA_BROADCAST 10.0.2.255");
    TAP_OK(a.tb[IFA_FLAGS] == NULL, "addr_add v4: no IFA_FLAGS");

    inet_pton(AF_INET, "10.0.0.100", &addr);
    inet_pton(AF_INET, "10.0.0.127", &brd);
    nlh = nl_build_addr_add(buf, sizeof(buf), 12, 3, AF_INET, &addr, 25, 0);
    a = nlh ? parse(nlh, sizeof(*ifa)) : (struct attrs){ .count = -1 };
    TAP_OK(nlh && attr_is(a.tb[IFA_BROADCAST], &brd, 4),
           "addr_add v4: 10.0.0.100/25 broadcast 10.0.0.127");
    inet_pton(AF_INET, "10.0.0.1", &addr);
    nlh = nl_build_addr_add(buf, sizeof(buf), 13, 3, AF_INET, &addr, 32, 0);
    a = nlh ? parse(nlh, sizeof(*ifa)) : (struct attrs){ .count = -1 };
    TAP_OK(nlh && a.count == 2 && a.tb[IFA_BROADCAST] == NULL,
           "addr_add v4: /32 has no broadcast");
    TAP_OK(nl_build_addr_add(buf, sizeof(buf), 1, 3, AF_INET, &addr, 33, 0) ==
               NULL,
           "addr_add v4: prefix 33 refused");
    TAP_OK(nl_build_addr_add(buf, sizeof(buf), 1, 3, AF_UNIX, &addr, 8, 0) ==
               NULL,
           "addr_add: AF_UNIX refused");
    TAP_OK(nl_build_addr_add(buf, sizeof(buf), 1, 0, AF_INET, &addr, 8, 0) ==
               NULL,
           "addr_add: ifindex 0 refused");
    TAP_OK(nl_build_addr_add(buf, sizeof(buf), 1, 3, AF_INET, NULL, 8, 0) ==
               NULL,
           "addr_add: NULL address refused");
}

static void test_addr_add6(void)
{
    struct in6_addr addr;
    struct nlmsghdr *nlh;
    struct ifaddrmsg *ifa;
    struct attrs a;

    inet_pton(AF_INET6, "fd00::100", &addr);
    nlh = nl_build_addr_add(buf, sizeof(buf), 21, 4, AF_INET6, &addr, 64,
                            IFA_F_NODAD);
    TAP_OK(nlh != NULL, "addr_add v6: built");
    if (!nlh)
        return;
    TAP_IS_INT(nlh->nlmsg_type, RTM_NEWADDR, "addr_add v6: RTM_NEWADDR");
    TAP_IS_INT(nlh->nlmsg_len,
               NLMSG_SPACE(sizeof(*ifa)) + 2 * (MNL_ATTR_HDRLEN + 16) +
                   MNL_ATTR_HDRLEN + 4,
               "addr_add v6: length");
    ifa = mnl_nlmsg_get_payload(nlh);
    TAP_IS_INT(ifa->ifa_family, AF_INET6, "addr_add v6: AF_INET6");
    TAP_IS_INT(ifa->ifa_prefixlen, 64, "addr_add v6: prefix 64");
    TAP_IS_INT(ifa->ifa_flags, IFA_F_NODAD, "addr_add v6: ifa_flags NODAD");
    TAP_IS_INT(ifa->ifa_index, 4, "addr_add v6: ifa_index");
    a = parse(nlh, sizeof(*ifa));
    TAP_IS_INT(a.count, 3, "addr_add v6: three attributes");
    TAP_OK(attr_is(a.tb[IFA_LOCAL], &addr, 16),
           "addr_add v6: IFA_LOCAL fd00::100");
    TAP_OK(attr_is(a.tb[IFA_ADDRESS], &addr, 16),
           "addr_add v6: IFA_ADDRESS fd00::100");
    TAP_OK(a.tb[IFA_BROADCAST] == NULL, "addr_add v6: no IFA_BROADCAST");
    TAP_OK(attr_is_u32(a.tb[IFA_FLAGS], IFA_F_NODAD),
           "addr_add v6: IFA_FLAGS IFA_F_NODAD");

    nlh = nl_build_addr_add(buf, sizeof(buf), 22, 4, AF_INET6, &addr, 64,
                            IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
    ifa = nlh ? mnl_nlmsg_get_payload(nlh) : NULL;
    a = nlh ? parse(nlh, sizeof(*ifa)) : (struct attrs){ .count = -1 };
    TAP_OK(ifa && ifa->ifa_flags == IFA_F_NODAD &&
               attr_is_u32(a.tb[IFA_FLAGS],
                           IFA_F_NODAD | IFA_F_NOPREFIXROUTE),
           "addr_add v6: flags above 8 bits only in IFA_FLAGS");
    TAP_OK(nl_build_addr_add(buf, sizeof(buf), 1, 4, AF_INET6, &addr, 129,
                             0) == NULL,
           "addr_add v6: prefix 129 refused");
}

static void test_route(void)
{
    struct in_addr gw;
    struct in6_addr gw6;
    struct nlmsghdr *nlh;
    struct rtmsg *rtm;
    struct attrs a;

    inet_pton(AF_INET, "10.0.2.2", &gw);
    nlh = nl_build_route_add_default(buf, sizeof(buf), 31, 3, AF_INET, &gw);
    TAP_OK(nlh != NULL, "route v4: built");
    if (!nlh)
        return;
    TAP_IS_INT(nlh->nlmsg_type, RTM_NEWROUTE, "route v4: RTM_NEWROUTE");
    TAP_IS_INT(nlh->nlmsg_flags,
               NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
               "route v4: REQUEST|ACK|CREATE|EXCL");
    TAP_IS_INT(nlh->nlmsg_seq, 31, "route v4: seq");
    TAP_IS_INT(nlh->nlmsg_len,
               NLMSG_SPACE(sizeof(*rtm)) + 2 * (MNL_ATTR_HDRLEN + 4),
               "route v4: length");
    rtm = mnl_nlmsg_get_payload(nlh);
    TAP_IS_INT(rtm->rtm_family, AF_INET, "route v4: AF_INET");
    TAP_OK(rtm->rtm_dst_len == 0 && rtm->rtm_src_len == 0 &&
               rtm->rtm_tos == 0 && rtm->rtm_flags == 0,
           "route v4: default (dst/src len 0, tos 0, flags 0)");
    TAP_IS_INT(rtm->rtm_table, RT_TABLE_MAIN, "route v4: main table");
    TAP_IS_INT(rtm->rtm_protocol, RTPROT_BOOT, "route v4: RTPROT_BOOT");
    TAP_IS_INT(rtm->rtm_scope, RT_SCOPE_UNIVERSE, "route v4: scope universe");
    TAP_IS_INT(rtm->rtm_type, RTN_UNICAST, "route v4: RTN_UNICAST");
    a = parse(nlh, sizeof(*rtm));
    TAP_IS_INT(a.count, 2, "route v4: two attributes");
    TAP_OK(attr_is(a.tb[RTA_GATEWAY], &gw, 4),
           "route v4: RTA_GATEWAY 10.0.2.2");
    TAP_OK(attr_is_u32(a.tb[RTA_OIF], 3), "route v4: RTA_OIF 3");

    inet_pton(AF_INET6, "fd00::2", &gw6);
    nlh = nl_build_route_add_default(buf, sizeof(buf), 32, 4, AF_INET6, &gw6);
    rtm = nlh ? mnl_nlmsg_get_payload(nlh) : NULL;
    a = nlh ? parse(nlh, sizeof(*rtm)) : (struct attrs){ .count = -1 };
    TAP_OK(rtm && rtm->rtm_family == AF_INET6 && a.count == 2 &&
               attr_is(a.tb[RTA_GATEWAY], &gw6, 16) &&
               attr_is_u32(a.tb[RTA_OIF], 4),
           "route v6: RTA_GATEWAY fd00::2, RTA_OIF 4");
    TAP_OK(nl_build_route_add_default(buf, sizeof(buf), 1, 3, AF_INET,
                                      NULL) == NULL,
           "route: NULL gateway refused");
    TAP_OK(nl_build_route_add_default(buf, sizeof(buf), 1, 3, AF_PACKET,
                                      &gw) == NULL,
           "route: AF_PACKET refused");
}

enum builder { B_LINK_GET, B_LINK_SET, B_ADDR4, B_ADDR6, B_ROUTE4, B_COUNT };

static struct nlmsghdr *build(enum builder b, void *p, size_t len)
{
    static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
    struct in_addr a4 = { htonl(0x0a000264) };
    struct in6_addr a6 = IN6ADDR_LOOPBACK_INIT;

    switch (b) {
    case B_LINK_GET:
        return nl_build_link_get(p, len, 1, "eth0");
    case B_LINK_SET:
        return nl_build_link_set(p, len, 1, 2, 1, 1500, mac);
    case B_ADDR4:
        return nl_build_addr_add(p, len, 1, 2, AF_INET, &a4, 24, 0);
    case B_ADDR6:
        return nl_build_addr_add(p, len, 1, 2, AF_INET6, &a6, 64,
                                 IFA_F_NODAD);
    case B_ROUTE4:
        return nl_build_route_add_default(p, len, 1, 2, AF_INET, &a4);
    default:
        return NULL;
    }
}

/* Every size below the message's own refuses, and writes nothing past it. */
static void test_too_small(void)
{
    static const char *names[B_COUNT] = {
        "link_get", "link_set", "addr_add v4", "addr_add v6", "route v4",
    };

    for (int b = 0; b < B_COUNT; b++) {
        struct nlmsghdr *nlh = build(b, buf, sizeof(buf));
        size_t need = nlh ? nlh->nlmsg_len : 0;
        bool ok = need > 0;

        for (size_t len = 0; ok && len < need; len++) {
            memset(buf, 0xa5, sizeof(buf));
            if (build(b, buf, len) != NULL)
                ok = false;
            for (size_t i = len; ok && i < sizeof(buf); i++)
                if ((unsigned char)buf[i] != 0xa5)
                    ok = false;
            if (!ok)
                printf("# %s: misbehaves with a %zu-byte buffer\n",
                       names[b], len);
        }
        TAP_OK(ok, "%s: every buffer below %zu bytes refused, no overflow",
               names[b], need);
        TAP_OK(build(b, buf, need) != NULL, "%s: exactly %zu bytes is enough",
               names[b], need);
    }
}

static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return -errno;
    n = write(fd, s, strlen(s));
    if (n < 0)
        n = -errno;
    close(fd);
    return n < 0 ? (int)n : 0;
}

/* Move into a fresh network namespace: directly as root, otherwise inside a
 * new user namespace that maps our uid and gid to 0. */
static bool enter_netns(void)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    char map[64];

    if (uid == 0 && unshare(CLONE_NEWNET) == 0)
        return true;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
        printf("# unshare: %s\n", strerror(errno));
        return false;
    }
    if (write_file("/proc/self/setgroups", "deny") < 0)
        printf("# cannot deny setgroups: %s\n", strerror(errno));
    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)uid);
    if (write_file("/proc/self/uid_map", map) < 0)
        printf("# cannot write uid_map\n");
    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)gid);
    if (write_file("/proc/self/gid_map", map) < 0)
        printf("# cannot write gid_map\n");
    return true;
}

struct dump_state {
    const void *want;     /* the address or gateway looked for */
    int ifindex;
    bool found;
    unsigned int prefix;  /* address dump: its prefix length */
    struct in_addr brd;   /* address dump: its broadcast address */
    unsigned int proto;   /* route dump: its protocol */
};

static int addr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
    struct dump_state *st = data;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    struct attrs a;

    if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET ||
        (int)ifa->ifa_index != st->ifindex)
        return MNL_CB_OK;
    a = parse(nlh, sizeof(*ifa));
    if (!attr_is(a.tb[IFA_LOCAL], st->want, 4))
        return MNL_CB_OK;
    st->found = true;
    st->prefix = ifa->ifa_prefixlen;
    if (a.tb[IFA_BROADCAST])
        memcpy(&st->brd, mnl_attr_get_payload(a.tb[IFA_BROADCAST]), 4);
    return MNL_CB_OK;
}

static int route_dump_cb(const struct nlmsghdr *nlh, void *data)
{
    struct dump_state *st = data;
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    struct attrs a;

    if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
        rtm->rtm_dst_len != 0 || rtm->rtm_table != RT_TABLE_MAIN)
        return MNL_CB_OK;
    a = parse(nlh, sizeof(*rtm));
    if (!attr_is(a.tb[RTA_GATEWAY], st->want, 4) ||
        !attr_is_u32(a.tb[RTA_OIF], (uint32_t)st->ifindex))
        return MNL_CB_OK;
    st->found = true;
    st->proto = rtm->rtm_protocol;
    return MNL_CB_OK;
}

/* A dump of all IPv4 addresses or routes, through the handle's socket. */
static int dump(struct nl *nl, uint16_t type, size_t hdrlen, mnl_cb_t cb,
                void *data)
{
    static char rbuf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct rtgenmsg *g;
    ssize_t n;
    int r;

    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++nl->seq;
    g = mnl_nlmsg_put_extra_header(nlh, hdrlen);
    g->rtgen_family = AF_INET;
    if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
        return -errno;
    do {
        n = mnl_socket_recvfrom(nl->sock, rbuf, sizeof(rbuf));
        if (n < 0)
            return -errno;
        r = mnl_cb_run(rbuf, n, nl->seq, nl->portid, cb, data);
    } while (r > 0);
    return r < 0 ? -errno : 0;
}

static int link_mtu_cb(const struct nlmsghdr *nlh, void *data)
{
    struct attrs a = parse(nlh, sizeof(struct ifinfomsg));

    if (nlh->nlmsg_type == RTM_NEWLINK && a.tb[IFLA_MTU])
        *(uint32_t *)data = mnl_attr_get_u32(a.tb[IFLA_MTU]);
    return MNL_CB_STOP;
}

/* Read back the MTU with our own RTM_GETLINK builder. */
static uint32_t link_mtu(struct nl *nl, const char *ifname)
{
    static char rbuf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct nlmsghdr *nlh;
    uint32_t mtu = 0;
    ssize_t n;

    nlh = nl_build_link_get(buf, sizeof(buf), ++nl->seq, ifname);
    if (!nlh || mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
        return 0;
    n = mnl_socket_recvfrom(nl->sock, rbuf, sizeof(rbuf));
    if (n > 0)
        mnl_cb_run(rbuf, n, nl->seq, nl->portid, link_mtu_cb, &mtu);
    return mtu;
}

static void test_roundtrip(void)
{
    struct in_addr a, gw, unreach, brd;
    struct in6_addr a6;
    struct dump_state st;
    struct nl nl;
    int lo = 0, r;

    inet_pton(AF_INET, "10.9.9.1", &a);
    inet_pton(AF_INET, "10.9.9.2", &gw);
    inet_pton(AF_INET, "10.9.9.255", &brd);
    inet_pton(AF_INET, "192.0.2.1", &unreach);
    inet_pton(AF_INET6, "fd00::1", &a6);

    r = nl_open(&nl);
    TAP_IS_INT(r, 0, "netns: nl_open");
    if (r < 0) {
        for (int i = 1; i < ROUNDTRIP_CHECKS; i++)
            TAP_OK(false, "netns: (not run, nl_open failed)");
        return;
    }
    TAP_OK(nl.sock != NULL && nl.portid != 0, "netns: bound, portid %u",
           nl.portid);
    r = nl_link_index(&nl, "lo", &lo);
    TAP_OK(r == 0 && lo > 0, "netns: nl_link_index(lo) = %d (r=%d)", lo, r);
    TAP_IS_INT(nl_link_index(&nl, "nosuch0", &r), -ENODEV,
               "netns: nl_link_index(nosuch0) = -ENODEV");
    TAP_IS_INT(nl_link_set(&nl, lo, 1, 0, NULL), 0, "netns: lo up");
    TAP_IS_INT(nl_link_set(&nl, lo, 1, 16384, NULL), 0,
               "netns: lo MTU 16384");
    TAP_IS_INT(link_mtu(&nl, "lo"), 16384, "netns: lo MTU reads back 16384");
    TAP_IS_INT(nl_link_set(&nl, 9999, 1, 0, NULL), -ENODEV,
               "netns: nl_link_set(ifindex 9999) = -ENODEV");
    TAP_IS_INT(nl_addr_add(&nl, lo, AF_INET, &a, 24, 0), 0,
               "netns: add 10.9.9.1/24 to lo");
    TAP_IS_INT(nl_addr_add(&nl, lo, AF_INET, &a, 24, 0), -EEXIST,
               "netns: add 10.9.9.1/24 again = -EEXIST");

    memset(&st, 0, sizeof(st));
    st.want = &a;
    st.ifindex = lo;
    r = dump(&nl, RTM_GETADDR, sizeof(struct ifaddrmsg), addr_dump_cb, &st);
    TAP_OK(r == 0 && st.found && st.prefix == 24 && st.brd.s_addr ==
               brd.s_addr,
           "netns: dump shows 10.9.9.1/24 brd 10.9.9.255 on lo (r=%d)", r);

    TAP_IS_INT(nl_route_add_default(&nl, lo, AF_INET, &gw), 0,
               "netns: default route via 10.9.9.2");
    TAP_IS_INT(nl_route_add_default(&nl, lo, AF_INET, &gw), -EEXIST,
               "netns: default route again = -EEXIST");
    memset(&st, 0, sizeof(st));
    st.want = &gw;
    st.ifindex = lo;
    r = dump(&nl, RTM_GETROUTE, sizeof(struct rtmsg), route_dump_cb, &st);
    TAP_OK(r == 0 && st.found && st.proto == RTPROT_BOOT,
           "netns: dump shows default via 10.9.9.2 dev lo proto boot (r=%d)",
           r);
    TAP_IS_INT(nl_route_add_default(&nl, lo, AF_INET, &unreach),
               -ENETUNREACH, "netns: gateway off-link = -ENETUNREACH");

    if (access("/proc/sys/net/ipv6", F_OK) == 0)
        TAP_IS_INT(nl_addr_add(&nl, lo, AF_INET6, &a6, 64, IFA_F_NODAD), 0,
                   "netns: add fd00::1/64 nodad to lo");
    else
        TAP_OK(true, "# SKIP IPv6 disabled");

    nl_close(&nl);
    nl_close(&nl);
    TAP_OK(nl.sock == NULL, "netns: nl_close, twice");
}

int main(void)
{
    struct nl closed = { 0 };
    int ifindex;

    test_link_get();
    test_link_set();
    test_addr_add4();
    test_addr_add6();
    test_route();
    test_too_small();
    TAP_IS_INT(nl_link_index(&closed, "lo", &ifindex), -EBADF,
               "nl_link_index on a closed handle = -EBADF");
    TAP_IS_INT(nl_link_index(&closed, "", &ifindex), -EINVAL,
               "nl_link_index with an empty name = -EINVAL");

    if (enter_netns()) {
        test_roundtrip();
    } else {
        for (int i = 0; i < ROUNDTRIP_CHECKS; i++)
            TAP_OK(true, "# SKIP no namespace");
    }
    return tap_done();
}
