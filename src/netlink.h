/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netlink.h - minimal rtnetlink client (links, addresses, routes) on libmnl */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct mnl_socket;
struct nlmsghdr;

struct nl {
    struct mnl_socket *sock;
    unsigned int portid;
    uint32_t seq;
};

int nl_open(struct nl *nl);
void nl_close(struct nl *nl);

struct nlmsghdr *nl_build_link_get(void *buf, size_t len, uint32_t seq,
                                   const char *ifname);
struct nlmsghdr *nl_build_link_set(void *buf, size_t len, uint32_t seq,
                                   int ifindex, int up, unsigned int mtu,
                                   const uint8_t *mac);
struct nlmsghdr *nl_build_addr_add(void *buf, size_t len, uint32_t seq,
                                   int ifindex, int family, const void *addr,
                                   unsigned int prefix, uint32_t ifa_flags);
struct nlmsghdr *nl_build_route_add_default(void *buf, size_t len,
                                            uint32_t seq, int ifindex,
                                            int family, const void *gateway);

int nl_link_index(struct nl *nl, const char *ifname, int *ret_ifindex);
int nl_link_set(struct nl *nl, int ifindex, int up, unsigned int mtu,
                const uint8_t *mac);
int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr,
                unsigned int prefix, uint32_t ifa_flags);
int nl_route_add_default(struct nl *nl, int ifindex, int family,
                         const void *gateway);
