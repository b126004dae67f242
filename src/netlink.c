/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netlink.c - minimal rtnetlink client (links, addresses, routes) on libmnl */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netlink.h"
#include "util.h"

/* Requests are small; replies (a whole RTM_NEWLINK with statistics and
 * per-family data) can outgrow a page, so receive into something larger. */
#define NL_SEND_SIZE 8192
#define NL_RECV_SIZE 32768

/**
 * nl_open() - open and bind an rtnetlink socket in the current netns
 * @nl: the handle to fill in
 *
 * The socket is NETLINK_ROUTE, close-on-exec and bound to a kernel-chosen
 * port id.  On failure @nl->sock is left NULL.
 *
 * Return: 0 or a negative errno.
 */
int nl_open(struct nl *nl)
{
    struct mnl_socket *sock;

    nl->sock = NULL;
    nl->portid = 0;
    nl->seq = 0;

    sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!sock)
        return util_neg_errno();
    if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        int r = util_neg_errno();

        mnl_socket_close(sock);
        return r;
    }
    nl->sock = sock;
    nl->portid = mnl_socket_get_portid(sock);
    nl->seq = (uint32_t)time(NULL);
    return 0;
}

/**
 * nl_close() - close the socket opened by nl_open()
 * @nl: the handle; closing twice, or a handle never opened, is harmless
 */
void nl_close(struct nl *nl)
{
    if (nl->sock)
        mnl_socket_close(nl->sock);
    nl->sock = NULL;
}

/* Start a request with a zeroed family header of @hdrlen bytes, or NULL if
 * @len cannot even hold that. */
static struct nlmsghdr *nl_put_headers(void *buf, size_t len, uint32_t seq,
                                       uint16_t type, uint16_t flags,
                                       size_t hdrlen, void **ret_hdr)
{
    struct nlmsghdr *nlh;

    if (!buf || len < MNL_NLMSG_HDRLEN + MNL_ALIGN(hdrlen))
        return NULL;
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    *ret_hdr = mnl_nlmsg_put_extra_header(nlh, hdrlen);
    return nlh;
}

static size_t nl_family_addr_len(int family)
{
    switch (family) {
    case AF_INET:
        return sizeof(struct in_addr);
    case AF_INET6:
        return sizeof(struct in6_addr);
    default:
        return 0;
    }
}

/**
 * nl_build_link_get() - build an RTM_GETLINK request for one interface name
 * @buf: where to write the message (aligned for struct nlmsghdr)
 * @len: size of @buf
 * @seq: sequence number of the request
 * @ifname: the interface to look up (IFLA_IFNAME)
 *
 * Return: the message header, or NULL if @buf is too small or @ifname is
 * empty or longer than IFNAMSIZ - 1.
 */
struct nlmsghdr *nl_build_link_get(void *buf, size_t len, uint32_t seq,
                                   const char *ifname)
{
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;
    size_t n;

    if (!ifname)
        return NULL;
    n = strlen(ifname);
    if (n == 0 || n >= IFNAMSIZ)
        return NULL;
    nlh = nl_put_headers(buf, len, seq, RTM_GETLINK, NLM_F_REQUEST,
                         sizeof(*ifi), (void **)&ifi);
    if (!nlh)
        return NULL;
    ifi->ifi_family = AF_UNSPEC;
    if (!mnl_attr_put_strz_check(nlh, len, IFLA_IFNAME, ifname))
        return NULL;
    return nlh;
}

/**
 * nl_build_link_set() - build an RTM_NEWLINK request changing a link
 * @buf: where to write the message (aligned for struct nlmsghdr)
 * @len: size of @buf
 * @seq: sequence number of the request
 * @ifindex: the link
 * @up: 1 to bring the link up, 0 to take it down, -1 to leave it alone
 * @mtu: the new MTU (IFLA_MTU), 0 to leave it alone
 * @mac: the new 6-byte hardware address (IFLA_ADDRESS), NULL to leave it
 *
 * The kernel applies the address and MTU before the flags, so a link can be
 * configured and brought up with one request.
 *
 * Return: the message header, or NULL if @buf is too small or @ifindex or
 * @up is invalid.
 */
struct nlmsghdr *nl_build_link_set(void *buf, size_t len, uint32_t seq,
                                   int ifindex, int up, unsigned int mtu,
                                   const uint8_t *mac)
{
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;

    if (ifindex <= 0 || up < -1 || up > 1)
        return NULL;
    nlh = nl_put_headers(buf, len, seq, RTM_NEWLINK,
                         NLM_F_REQUEST | NLM_F_ACK, sizeof(*ifi),
                         (void **)&ifi);
    if (!nlh)
        return NULL;
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    if (up >= 0) {
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = up ? IFF_UP : 0;
    }
    if (mtu && !mnl_attr_put_u32_check(nlh, len, IFLA_MTU, mtu))
        return NULL;
    if (mac && !mnl_attr_put_check(nlh, len, IFLA_ADDRESS, 6, mac))
        return NULL;
    return nlh;
}

/**
 * nl_build_addr_add() - build an RTM_NEWADDR request adding one address
 * @buf: where to write the message (aligned for struct nlmsghdr)
 * @len: size of @buf
 * @seq: sequence number of the request
 * @ifindex: the link to put the address on
 * @family: AF_INET or AF_INET6
 * @addr: struct in_addr or struct in6_addr, network byte order
 * @prefix: prefix length
 * @ifa_flags: IFA_F_* flags (e.g. IFA_F_NODAD), sent as IFA_FLAGS when set
 *
 * The request carries NLM_F_CREATE | NLM_F_EXCL, IFA_LOCAL and IFA_ADDRESS,
 * and for AF_INET with @prefix <= 30 the directed broadcast address in
 * IFA_BROADCAST, as "ip addr add ... brd +" does.
 *
 * Return: the message header, or NULL if @buf is too small or @ifindex,
 * @family, @addr or @prefix is invalid.
 */
struct nlmsghdr *nl_build_addr_add(void *buf, size_t len, uint32_t seq,
                                   int ifindex, int family, const void *addr,
                                   unsigned int prefix, uint32_t ifa_flags)
{
    size_t alen = nl_family_addr_len(family);
    struct nlmsghdr *nlh;
    struct ifaddrmsg *ifa;

    if (ifindex <= 0 || !alen || !addr || prefix > alen * 8)
        return NULL;
    nlh = nl_put_headers(buf, len, seq, RTM_NEWADDR,
                         NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
                         NLM_F_EXCL, sizeof(*ifa), (void **)&ifa);
    if (!nlh)
        return NULL;
    ifa->ifa_family = family;
    ifa->ifa_prefixlen = prefix;
    ifa->ifa_flags = ifa_flags & 0xff;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = ifindex;
    if (!mnl_attr_put_check(nlh, len, IFA_LOCAL, alen, addr) ||
        !mnl_attr_put_check(nlh, len, IFA_ADDRESS, alen, addr))
        return NULL;
    if (family == AF_INET && prefix <= 30) {
        struct in_addr brd;
        uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;

        memcpy(&brd, addr, sizeof(brd));
        brd.s_addr |= ~mask;
        if (!mnl_attr_put_check(nlh, len, IFA_BROADCAST, sizeof(brd), &brd))
            return NULL;
    }
    if (ifa_flags && !mnl_attr_put_u32_check(nlh, len, IFA_FLAGS, ifa_flags))
        return NULL;
    return nlh;
}

/**
 * nl_build_route_add_default() - build an RTM_NEWROUTE default route request
 * @buf: where to write the message (aligned for struct nlmsghdr)
 * @len: size of @buf
 * @seq: sequence number of the request
 * @ifindex: the outgoing link (RTA_OIF)
 * @family: AF_INET or AF_INET6
 * @gateway: struct in_addr or struct in6_addr, network byte order
 *
 * The route goes to the main table as a unicast, universe-scope route of
 * protocol "boot" with a zero-length destination, like "ip route add
 * default via GATEWAY dev IFNAME".
 *
 * Return: the message header, or NULL if @buf is too small or @ifindex,
 * @family or @gateway is invalid.
 */
struct nlmsghdr *nl_build_route_add_default(void *buf, size_t len,
                                            uint32_t seq, int ifindex,
                                            int family, const void *gateway)
{
    size_t alen = nl_family_addr_len(family);
    struct nlmsghdr *nlh;
    struct rtmsg *rtm;

    if (ifindex <= 0 || !alen || !gateway)
        return NULL;
    nlh = nl_put_headers(buf, len, seq, RTM_NEWROUTE,
                         NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
                         NLM_F_EXCL, sizeof(*rtm), (void **)&rtm);
    if (!nlh)
        return NULL;
    rtm->rtm_family = family;
    rtm->rtm_dst_len = 0;
    rtm->rtm_src_len = 0;
    rtm->rtm_tos = 0;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    if (!mnl_attr_put_check(nlh, len, RTA_GATEWAY, alen, gateway) ||
        !mnl_attr_put_u32_check(nlh, len, RTA_OIF, (uint32_t)ifindex))
        return NULL;
    return nlh;
}

/*
 * Send @nlh and process the replies until the request is answered: an ACK
 * or NLMSG_DONE, an NLMSG_ERROR (whose errno is returned), or @cb returning
 * MNL_CB_STOP.  Datagrams left over from an earlier, abandoned request are
 * skipped; mnl_cb_run() checks the sequence number and port id of the rest.
 */
static int nl_transact(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
                       void *data)
{
    char buf[NL_RECV_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    uint32_t seq = nlh->nlmsg_seq;

    if (!nl->sock)
        return -EBADF;
    if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
        return util_neg_errno();

    for (;;) {
        const struct nlmsghdr *first = (const struct nlmsghdr *)buf;
        ssize_t n;
        int r;

        n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return util_neg_errno();
        }
        if (n == 0)
            return -EIO;
        if (mnl_nlmsg_ok(first, (int)n) && first->nlmsg_seq != seq)
            continue;
        errno = 0;
        r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
        if (r < 0)
            return util_neg_errno();
        if (r == MNL_CB_STOP)
            return 0;
    }
}

static int nl_link_index_cb(const struct nlmsghdr *nlh, void *data)
{
    const struct ifinfomsg *ifi;

    if (nlh->nlmsg_type != RTM_NEWLINK ||
        mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi)) {
        errno = EPROTO;
        return MNL_CB_ERROR;
    }
    ifi = mnl_nlmsg_get_payload(nlh);
    *(int *)data = ifi->ifi_index;
    return MNL_CB_STOP;
}

/**
 * nl_link_index() - look up the index of a link by name
 * @nl: an open handle
 * @ifname: the link name
 * @ret_ifindex: where to store the index on success
 *
 * Return: 0, -ENODEV if there is no such link, -EINVAL for an invalid name,
 * or another negative errno.
 */
int nl_link_index(struct nl *nl, const char *ifname, int *ret_ifindex)
{
    char buf[NL_SEND_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct nlmsghdr *nlh;
    int ifindex = 0;
    int r;

    nlh = nl_build_link_get(buf, sizeof(buf), ++nl->seq, ifname);
    if (!nlh)
        return -EINVAL;
    r = nl_transact(nl, nlh, nl_link_index_cb, &ifindex);
    if (r < 0)
        return r;
    if (ifindex <= 0)
        return -EPROTO;
    *ret_ifindex = ifindex;
    return 0;
}

/**
 * nl_link_set() - change the state, MTU and/or hardware address of a link
 * @nl: an open handle
 * @ifindex: the link
 * @up: 1 up, 0 down, -1 leave alone
 * @mtu: the new MTU, 0 to leave it alone
 * @mac: the new 6-byte hardware address, NULL to leave it alone
 *
 * Return: 0 or the negative errno the kernel answered with.
 */
int nl_link_set(struct nl *nl, int ifindex, int up, unsigned int mtu,
                const uint8_t *mac)
{
    char buf[NL_SEND_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct nlmsghdr *nlh;

    nlh = nl_build_link_set(buf, sizeof(buf), ++nl->seq, ifindex, up, mtu,
                            mac);
    if (!nlh)
        return -EINVAL;
    return nl_transact(nl, nlh, NULL, NULL);
}

/**
 * nl_addr_add() - add an address to a link
 * @nl: an open handle
 * @ifindex: the link
 * @family: AF_INET or AF_INET6
 * @addr: struct in_addr or struct in6_addr, network byte order
 * @prefix: prefix length
 * @ifa_flags: IFA_F_* flags, 0 for none
 *
 * Return: 0, -EEXIST if the address is already there, or another negative
 * errno.
 */
int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr,
                unsigned int prefix, uint32_t ifa_flags)
{
    char buf[NL_SEND_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct nlmsghdr *nlh;

    nlh = nl_build_addr_add(buf, sizeof(buf), ++nl->seq, ifindex, family,
                            addr, prefix, ifa_flags);
    if (!nlh)
        return -EINVAL;
    return nl_transact(nl, nlh, NULL, NULL);
}

/**
 * nl_route_add_default() - add a default route via a gateway
 * @nl: an open handle
 * @ifindex: the outgoing link
 * @family: AF_INET or AF_INET6
 * @gateway: struct in_addr or struct in6_addr, network byte order
 *
 * Return: 0, -EEXIST if a default route is already there, or another
 * negative errno (e.g. -ENETUNREACH if the gateway is not on-link).
 */
int nl_route_add_default(struct nl *nl, int ifindex, int family,
                         const void *gateway)
{
    char buf[NL_SEND_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
    struct nlmsghdr *nlh;

    nlh = nl_build_route_add_default(buf, sizeof(buf), ++nl->seq, ifindex,
                                     family, gateway);
    if (!nlh)
        return -EINVAL;
    return nl_transact(nl, nlh, NULL, NULL);
}
