/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-fwd.c - the forward table: validation, --publish specs, real listeners */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "fwd.h"
#include "options.h"
#include "slirp-env.h"
#include "stack.h"
#include "tapout.h"

static struct config cfg4, cfg6;

static const char *addr_str(const struct sockaddr_storage *ss)
{
    static char buf[4][160];
    static int i;

    i = (i + 1) % 4;
    if (fwd_spec_format_addr(ss, buf[i], sizeof(buf[i])) < 0)
        return "(unformattable)";
    return buf[i];
}

/* one request through fwd_spec_from_req() */
static int spec(const struct config *c, const char *proto, const char *ha,
                int64_t hp, const char *ga, int64_t gp, struct fwd_spec *s,
                struct err *e)
{
    struct fwd_req req = { proto, ha, hp, ga, gp };
    return fwd_spec_from_req(&req, c, s, e);
}

static void bad(const struct config *c, const char *proto, const char *ha,
                int64_t hp, const char *ga, int64_t gp, enum fwd_field want,
                const char *want_why, const char *name)
{
    struct err fe;
    struct fwd_spec s;
    int r = spec(c, proto, ha, hp, ga, gp, &s, &fe);
    bool ok = r == -EINVAL && fe.code == -EINVAL && fe.subject == (int)want &&
              (want_why ? strstr(fe.msg, want_why) != NULL : !fe.msg[0]);

    if (!TAP_OK(ok, "refused: %s", name))
        printf("#   r=%d subject=%d msg=%s\n", r, fe.subject, fe.msg);
}

static void test_validation(void)
{
    struct err fe;
    struct fwd_spec s;

    TAP_IS_INT(spec(&cfg4, "tcp", "", 8080, "", 80, &s, &fe), 0,
               "podman's request: host \"\", guest \"\"");
    TAP_IS_STR(addr_str(&s.host), "0.0.0.0", "host \"\" is 0.0.0.0");
    TAP_IS_INT(fwd_spec_addr_port(&s.host), 8080, "host port");
    TAP_IS_STR(addr_str(&s.guest), "10.0.2.100", "guest \"\" is cidr+100");
    TAP_IS_INT(fwd_spec_addr_port(&s.guest), 80, "guest port");
    TAP_IS_INT(s.proto, FWD_TCP, "tcp");

    TAP_IS_INT(spec(&cfg4, "udp", NULL, 0, NULL, 53, &s, &fe), 0,
               "missing addresses, host port 0 (ephemeral)");
    TAP_IS_STR(addr_str(&s.host), "0.0.0.0", "missing host_addr is 0.0.0.0");
    TAP_IS_STR(addr_str(&s.guest), "10.0.2.100", "missing guest_addr is cidr+100");
    TAP_IS_INT(s.proto, FWD_UDP, "udp");

    TAP_IS_INT(spec(&cfg4, "tcp", "127.0.0.1", 1, "10.0.2.5", 65535, &s, &fe), 0, "explicit IPv4 addresses, ports 1 and 65535");
    TAP_IS_STR(addr_str(&s.guest), "10.0.2.5", "explicit guest address kept");

    TAP_IS_INT(spec(&cfg6, "tcp", "::1", 8080, "fd00::100", 80, &s, &fe), 0, "IPv6 to IPv6");
    TAP_IS_INT(s.host.ss_family, AF_INET6, "IPv6 host side");
    TAP_IS_STR(addr_str(&s.guest), "fd00::100", "IPv6 guest side");
    TAP_IS_INT(spec(&cfg6, "tcp", "::", 0, "::", 80, &s, &fe), 0,
               "IPv6 any to the guest's learned IPv6 address");
    TAP_IS_INT(spec(&cfg6, "udp", "::", 0, "fd00::100", 80, &s, &fe), 0,
               "UDP over IPv6 to an explicit guest address");
    TAP_IS_INT(spec(&cfg6, "tcp", "fe80::1%1", 8080, "fd00::100", 80, &s,
                    &fe), 0, "IPv6 host address with a zone index");
    TAP_IS_INT(((struct sockaddr_in6 *)&s.host)->sin6_scope_id, 1, "scope id 1");
    TAP_IS_INT(spec(&cfg6, "tcp", "fe80::1%lo", 8080, "fd00::100", 80, &s,
                    &fe), 0, "IPv6 host address with a zone name");
    TAP_IS_STR(addr_str(&s.host), "fe80::1%lo", "zone shown by name");

    TAP_IS_INT(spec(&cfg4, "tcp", "unix:/run/x.sock", FWD_PORT_MISSING, "", 80,
                    &s, &fe), 0, "unix: host, no host_port");
    TAP_IS_STR(addr_str(&s.host), "unix:/run/x.sock", "unix: path");
    TAP_IS_INT(spec(&cfg4, "tcp", "unix:/run/x.sock", 0, "", 80, &s, &fe), 0, "unix: host, host_port 0");

    /* slirp4netns's errors, same field, no extra text */
    bad(&cfg4, NULL, "", 8080, "", 80, FWD_FIELD_PROTO, NULL, "missing proto");
    bad(&cfg4, "sctp", "", 8080, "", 80, FWD_FIELD_PROTO, NULL, "proto sctp");
    bad(&cfg4, "TCP", "", 8080, "", 80, FWD_FIELD_PROTO, NULL, "proto TCP");
    bad(&cfg4, "tcp", "localhost", 8080, "", 80, FWD_FIELD_HOST_ADDR, NULL,
        "host_addr localhost");
    bad(&cfg4, "tcp", "1.2.3", 8080, "", 80, FWD_FIELD_HOST_ADDR, NULL,
        "host_addr 1.2.3");
    bad(&cfg4, "tcp", "::1%nosuchif0", 8080, "", 80, FWD_FIELD_HOST_ADDR, NULL,
        "unknown zone");
    bad(&cfg4, "tcp", "", FWD_PORT_MISSING, "", 80, FWD_FIELD_HOST_PORT, NULL,
        "missing host_port");
    bad(&cfg4, "tcp", "", FWD_PORT_INVALID, "", 80, FWD_FIELD_HOST_PORT, NULL,
        "invalid host_port");
    bad(&cfg4, "tcp", "", 65536, "", 80, FWD_FIELD_HOST_PORT, NULL,
        "host_port 65536");
    bad(&cfg4, "tcp", "", 8080, "10.0.2", 80, FWD_FIELD_GUEST_ADDR, NULL,
        "guest_addr 10.0.2");
    bad(&cfg4, "tcp", "", 8080, "fd00::1%lo", 80, FWD_FIELD_GUEST_ADDR, NULL,
        "guest_addr with a zone");
    bad(&cfg4, "tcp", "", 8080, "", 0, FWD_FIELD_GUEST_PORT, NULL,
        "guest_port 0");
    bad(&cfg4, "tcp", "", 8080, "", FWD_PORT_MISSING, FWD_FIELD_GUEST_PORT,
        NULL, "missing guest_port");
    bad(&cfg4, "tcp", "", 8080, "", 65536, FWD_FIELD_GUEST_PORT, NULL,
        "guest_port 65536");
    bad(&cfg4, NULL, "x", FWD_PORT_MISSING, "y", 0, FWD_FIELD_PROTO, NULL,
        "the first bad field is reported (slirp4netns's order)");

    /* what slirp4netns can't do, with a reason */
    /* across families: accepted here (the splice path carries TCP, the
     * relay UDP; fwd_add() refuses it without them), refused on "slirp" */
    TAP_IS_INT(spec(&cfg4, "udp", "::", 8080, "", 80, &s, &fe), 0,
               "UDP \"::\" with guest \"\": valid (the relay carries it)");
    {
        struct fwd_req req = { "udp", "::", 8080, "", 80, "slirp" };

        TAP_IS_INT(fwd_spec_from_req(&req, &cfg4, &s, &fe), -EINVAL,
                   "... refused on the slirp path");
        TAP_OK(strstr(fe.msg, "libslirp 4.7 cannot forward IPv6 to IPv4"),
               "... with libslirp's reason");
        req = (struct fwd_req){ "udp", "127.0.0.1", 8080, "fd00::100", 80,
                                "slirp" };
        TAP_IS_INT(fwd_spec_from_req(&req, &cfg6, &s, &fe), -EINVAL,
                   "UDP IPv4 host, IPv6 guest on slirp: refused (libslirp "
                   "aborts)");
    }
    bad(&cfg4, "tcp", "::1", 8080, "fd00::100", 80, FWD_FIELD_GUEST_ADDR,
        "--enable-ipv6", "IPv6 guest without --enable-ipv6");
    bad(&cfg6, "udp", "::1", 8080, "::", 80, FWD_FIELD_GUEST_ADDR,
        "for TCP only", "UDP to the guest's learned IPv6 address");
    bad(&cfg4, "udp", "unix:/run/x.sock", 0, "", 80, FWD_FIELD_HOST_ADDR,
        "TCP only", "unix: with udp");
    bad(&cfg4, "tcp", "unix:run/x.sock", 0, "", 80, FWD_FIELD_HOST_ADDR,
        "absolute", "unix: relative path");
    bad(&cfg4, "tcp", "unix:", 0, "", 80, FWD_FIELD_HOST_ADDR, "absolute",
        "unix: empty path");
    bad(&cfg4, "tcp", "unix:/run/", 0, "", 80, FWD_FIELD_HOST_ADDR, "absolute",
        "unix: directory path");
    {
        char longpath[160] = "unix:/";
        memset(longpath + 6, 'a', 120);
        longpath[126] = '\0';
        bad(&cfg4, "tcp", longpath, 0, "", 80, FWD_FIELD_HOST_ADDR, "too long",
            "unix: path of 121 bytes");
    }
    bad(&cfg4, "tcp", "unix:/run/x.sock", 8080, "", 80, FWD_FIELD_HOST_PORT,
        "unix:", "unix: with a host port");
    bad(&cfg6, "tcp", "unix:/run/x.sock", 0, "fd00::100", 80,
        FWD_FIELD_GUEST_ADDR, "IPv4 guest_addr only", "unix: to an IPv6 guest");
}

static void publish_ok(const struct config *c, const char *p, const char *proto,
                       const char *host, int hport, const char *guest, int gport)
{
    struct fwd_spec s;
    struct err e = { 0 };
    int r = fwd_spec_parse_publish(p, c, &s, &e);
    bool ok = r == 0 && !strcmp(fwd_spec_proto_name(s.proto), proto) &&
              !strcmp(addr_str(&s.host), host) &&
              fwd_spec_addr_port(&s.host) == hport &&
              !strcmp(addr_str(&s.guest), guest) &&
              fwd_spec_addr_port(&s.guest) == gport;

    if (!TAP_OK(ok, "--publish %s", p))
        printf("#   r=%d %s: %s %s:%d -> %s:%d\n", r, e.msg,
               fwd_spec_proto_name(s.proto),
               addr_str(&s.host), fwd_spec_addr_port(&s.host), addr_str(&s.guest),
               fwd_spec_addr_port(&s.guest));
}

static void publish_bad(const struct config *c, const char *p, const char *want)
{
    struct fwd_spec s;
    struct err e = { 0 };
    int r = fwd_spec_parse_publish(p, c, &s, &e);

    if (!TAP_OK(r == -EINVAL && strstr(e.msg, want) && strstr(e.msg, p),
                "--publish %s refused: %s", p, want))
        printf("#   r=%d msg=%s\n", r, e.msg);
}

static void test_publish(void)
{
    const char *list[] = { "8080:80", "127.0.0.1:8081:81/udp" };
    const char *bad_list[] = { "8080:80", "8080" };
    struct err e;

    publish_ok(&cfg4, "8080:80", "tcp", "0.0.0.0", 8080, "10.0.2.100", 80);
    publish_ok(&cfg4, "8080:80/tcp", "tcp", "0.0.0.0", 8080, "10.0.2.100", 80);
    publish_ok(&cfg4, "127.0.0.1:53:5353/udp", "udp", "127.0.0.1", 53,
               "10.0.2.100", 5353);
    publish_ok(&cfg4, ":8080:80", "tcp", "0.0.0.0", 8080, "10.0.2.100", 80);
    publish_ok(&cfg4, "0:80", "tcp", "0.0.0.0", 0, "10.0.2.100", 80);
    publish_ok(&cfg6, "[::1]:8080:80", "tcp", "::1", 8080, "::", 80);
    publish_ok(&cfg6, "[::]:8080:80", "tcp", "::", 8080, "::", 80);
    publish_bad(&cfg6, "[::]:8080:80/udp", "for TCP only");
    publish_ok(&cfg4, "unix:/run/a.sock:80", "tcp", "unix:/run/a.sock", 0,
               "10.0.2.100", 80);
    publish_ok(&cfg4, "unix:/run/with:colon.sock:80/tcp", "tcp",
               "unix:/run/with:colon.sock", 0, "10.0.2.100", 80);

    publish_bad(&cfg4, "8080", "HOSTPORT:GUESTPORT");
    publish_bad(&cfg4, "", "HOSTPORT:GUESTPORT");
    publish_bad(&cfg4, "8080:80/sctp", "tcp or udp");
    publish_bad(&cfg4, "::1:8080:80", "brackets");
    publish_bad(&cfg4, "[::1]8080:80", "[IPv6]");
    publish_bad(&cfg4, "[::1:8080:80", "[IPv6]");
    publish_bad(&cfg4, "99999:80", "bad host port");
    publish_bad(&cfg4, "8080:0", "bad guest port");
    publish_bad(&cfg4, "8080:", "bad guest port");
    publish_bad(&cfg4, "a:80", "bad host port");
    publish_bad(&cfg4, "8080:80x", "bad guest port");
    publish_bad(&cfg4, "1.2.3.4.5:8080:80", "bad host address");
    publish_bad(&cfg4, "[::1]:8080:80", "--enable-ipv6");
    publish_bad(&cfg4, "unix:/run/a.sock:80/udp", "TCP only");
    publish_bad(&cfg4, "unix:a.sock:80", "absolute");

    TAP_IS_INT(fwd_spec_publish_check(list, 2, &cfg4, &e), 0,
               "fwd_spec_publish_check: two good specs");
    TAP_IS_INT(fwd_spec_publish_check(bad_list, 2, &cfg4, &e), -EINVAL,
               "fwd_spec_publish_check: the second is bad");
    TAP_OK(strstr(e.msg, "--publish 8080:") != NULL, "the message names it: %s",
           e.msg);
}

static int listen_port(const char *addr, int *ret_port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    inet_pton(AF_INET, addr, &sin.sin_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
        listen(fd, 1) < 0 || getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        return -1;
    *ret_port = ntohs(sin.sin_port);
    return fd;
}

static bool fd_accepting(int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);

    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

static struct fwd_spec mkspec(const struct config *c, const char *proto,
                              const char *ha, int64_t hp, const char *ga,
                              int64_t gp)
{
    struct fwd_spec s;

    memset(&s, 0, sizeof(s));
    if (spec(c, proto, ha, hp, ga, gp, &s, NULL) < 0) {
        printf("Bail out! bad spec %s %s\n", proto, ha);
        exit(1);
    }
    return s;
}

static void test_table(bool private_ns)
{
    struct stack *st = env_stack(&cfg6);
    struct fwd_table *t = NULL;
    const struct fwd_rule *r;
    struct fwd_spec s;
    struct err fe;
    uint32_t id1, id2, id3;
    int port, busy, p1, v = 0;
    socklen_t len = sizeof(v);

    TAP_IS_INT(fwd_new(stack_slirp(st), 3, &t), 0, "fwd_new (limit 3)");
    TAP_IS_INT(fwd_count(t), 0, "empty");
    TAP_IS_INT(fwd_next_id(t), 1, "ids start at 1");
    TAP_IS_INT(fwd_max(t), 3, "the limit");

    /* TCP, ephemeral: the real port is found, the backlog raised */
    s = mkspec(&cfg4, "tcp", "127.0.0.1", 0, "", 80);
    TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "add tcp 127.0.0.1:0");
    id1 = r->id;
    p1 = fwd_spec_addr_port(&r->bound);
    TAP_IS_INT(id1, 1, "first id is 1");
    TAP_OK(p1 > 0, "ephemeral port found: %d", p1);
    TAP_OK(r->ephemeral, "marked ephemeral");
    TAP_OK(fd_accepting(r->fd), "rule fd %d is the listening socket", r->fd);
    TAP_OK(env_can_connect(AF_INET, "127.0.0.1", p1), "a client connects to it");

    /* the listener can also be found by scanning libslirp's sockets */
    {
        struct fwd_table *t2 = NULL;
        struct sockaddr_storage b;
        socklen_t bl;
        int fd;

        fwd_new(stack_slirp(st), 0, &t2);
        fd = fwd_find_listener(t2, &s, -1, &b, &bl);
        TAP_IS_INT(fd, r->fd, "fwd_find_listener scan finds the same fd");
        TAP_IS_INT(fwd_spec_addr_port(&b), p1, "... with the bound port");
        fd = fwd_find_listener(t, &s, -1, &b, &bl);
        TAP_IS_INT(fd, -1, "... but not a fd a rule of the table holds");
        fwd_free(t2);
    }

    /* UDP, ephemeral */
    s = mkspec(&cfg4, "udp", "127.0.0.1", 0, "", 53);
    TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "add udp 127.0.0.1:0");
    id2 = r->id;
    TAP_IS_INT(id2, 2, "second id is 2");
    TAP_OK(fwd_spec_addr_port(&r->bound) > 0, "UDP ephemeral port found: %d",
           fwd_spec_addr_port(&r->bound));
    TAP_OK(getsockopt(r->fd, SOL_SOCKET, SO_TYPE, &v, &len) == 0 &&
           v == SOCK_DGRAM, "UDP rule fd is a datagram socket");

    /* duplicates */
    s = mkspec(&cfg4, "tcp", "127.0.0.1", p1, "", 81);
    TAP_IS_INT(fwd_add(t, &s, NULL, NULL), -EADDRINUSE, "same TCP address again");
    s = mkspec(&cfg4, "udp", "0.0.0.0", fwd_spec_addr_port(&fwd_find(t, id2)->bound),
               "", 54);
    TAP_IS_INT(fwd_add(t, &s, NULL, NULL), -EADDRINUSE,
               "UDP 0.0.0.0 on a port a UDP rule holds (libslirp would allow it)");
    s = mkspec(&cfg4, "udp", "127.0.0.1", 0, "10.0.2.100", 53);
    TAP_IS_INT(fwd_add(t, &s, NULL, &fe), -EEXIST,
               "a second UDP forward to the same guest address and port");
    TAP_OK(strstr(fe.msg, "replies") && fe.subject == FWD_FIELD_GUEST_PORT,
           "... about the guest port, and says why: %s", fe.msg);
    s = mkspec(&cfg4, "tcp", "127.0.0.1", p1, "", 82);
    fwd_add(t, &s, NULL, &fe);
    TAP_OK(!strcmp(fe.msg, "Address already in use") && fe.subject == 0,
           "other errnos: strerror, about no field: %s", fe.msg);
    busy = listen_port("127.0.0.1", &port);
    s = mkspec(&cfg4, "tcp", "127.0.0.1", port, "", 80);
    TAP_IS_INT(fwd_add(t, &s, NULL, NULL), -EADDRINUSE,
               "a port another socket listens on: libslirp's errno");
    close(busy);
    TAP_IS_INT(fwd_count(t), 2, "failed adds add nothing");

    /* the limit */
    s = mkspec(&cfg4, "tcp", "127.0.0.1", 0, "", 82);
    TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "third add");
    id3 = r->id;
    TAP_IS_INT(id3, 3, "ids only grow on success");
    s = mkspec(&cfg4, "tcp", "127.0.0.1", 0, "", 83);
    TAP_IS_INT(fwd_add(t, &s, NULL, NULL), -ENOSPC, "fourth add: over the limit");

    /* removal */
    TAP_IS_INT(fwd_remove(t, id1), 0, "remove id 1");
    TAP_OK(!env_can_connect(AF_INET, "127.0.0.1", p1), "its listener is closed");
    TAP_IS_INT(fwd_remove(t, id1), -ENOENT, "remove id 1 again");
    TAP_IS_INT(fwd_remove(t, 99), -ENOENT, "remove an unknown id");
    TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "room again after a remove");
    TAP_IS_INT(r->id, 4, "ids are never reused");
    TAP_OK(fwd_find(t, id1) == NULL, "fwd_find: removed id");
    TAP_OK(fwd_find(t, id3) && fwd_find(t, id3)->id == id3, "fwd_find: id 3");
    TAP_IS_INT(fwd_get(t, 0)->id, 2, "fwd_get keeps insertion order (0)");
    TAP_IS_INT(fwd_get(t, 2)->id, 4, "fwd_get keeps insertion order (2)");
    TAP_OK(fwd_get(t, 3) == NULL, "fwd_get past the end");
    fwd_remove(t, 2);
    fwd_remove(t, 3);
    fwd_remove(t, 4);
    TAP_IS_INT(fwd_count(t), 0, "all removed");

    /* --publish through the table */
    {
        const char *ok[] = { "127.0.0.1:0:80", "127.0.0.1:0:81/udp" };
        const char *in_use[] = { "127.0.0.1:0:80", "127.0.0.1:PORT:80" };
        char spec_buf[64];
        struct err e;

        TAP_IS_INT(fwd_publish(t, ok, 2, &cfg4, &e), 0,
                   "fwd_publish: two forwards");
        TAP_IS_INT(fwd_count(t), 2, "both added");
        busy = listen_port("127.0.0.1", &port);
        snprintf(spec_buf, sizeof(spec_buf), "127.0.0.1:%d:80", port);
        in_use[1] = spec_buf;
        TAP_IS_INT(fwd_publish(t, in_use, 2, &cfg4, &e), -ENOSPC,
                   "fwd_publish: over the limit of 3");
        TAP_OK(strstr(e.msg, "too many forwards") != NULL, "says so: %s", e.msg);
        fwd_remove(t, fwd_get(t, 2)->id);
        TAP_IS_INT(fwd_publish(t, in_use + 1, 1, &cfg4, &e),
                   -EADDRINUSE, "fwd_publish: a port in use");
        TAP_OK(strstr(e.msg, spec_buf) && strstr(e.msg, "in use"), "says which: %s",
               e.msg);
        close(busy);
        {
            char *out = NULL;
            size_t outlen = 0;
            FILE *f = open_memstream(&out, &outlen);

            fwd_print(t, f);
            fclose(f);
            TAP_OK(out && strstr(out, "* Forward:         udp 127.0.0.1:") &&
                   strstr(out, " -> 10.0.2.100:81\n"),
                   "fwd_print: one banner line per forward");
            free(out);
        }
    }
    fwd_free(t);

    /* IPv6 listeners get IPV6_V6ONLY */
    if (env_can_connect(AF_INET6, "::1", 1) || errno != EADDRNOTAVAIL) {
        fwd_new(stack_slirp(st), 0, &t);
        s = mkspec(&cfg6, "tcp", private_ns ? "::" : "::1", 0, "fd00::100", 80);
        TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "add tcp [::]:0 -> [fd00::100]:80");
        v = 0;
        len = sizeof(v);
        TAP_OK(getsockopt(r->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len) == 0 && v,
               "IPV6_V6ONLY is set");
        TAP_OK(env_can_connect(AF_INET6, "::1", fwd_spec_addr_port(&r->bound)),
               "a client connects over IPv6");
        if (private_ns) {
            s = mkspec(&cfg4, "tcp", "0.0.0.0", fwd_spec_addr_port(&r->bound), "", 80);
            TAP_IS_INT(fwd_add(t, &s, NULL, NULL), 0,
                       "0.0.0.0 on the same port as [::] (V6ONLY)");
        } else {
            TAP_OK(true, "# SKIP 0.0.0.0 needs a private netns");
        }
        fwd_free(t);
    } else {
        TAP_OK(true, "# SKIP no IPv6 loopback");
        TAP_OK(true, "# SKIP no IPv6 loopback");
        TAP_OK(true, "# SKIP no IPv6 loopback");
        TAP_OK(true, "# SKIP no IPv6 loopback");
    }
    stack_free(st);
}

static bool path_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static void test_unix(void)
{
    struct stack *st = env_stack(&cfg4);
    struct fwd_table *t = NULL;
    const struct fwd_rule *r;
    struct fwd_spec s;
    struct err fe;
    char dir[] = "/tmp/test-fwd.XXXXXX", path[128], host[160];
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    uint32_t id;
    int fd, live;

    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp\n");
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/fwd.sock", dir);
    snprintf(host, sizeof(host), "unix:%s", path);
    strcpy(sun.sun_path, path);
    fwd_new(stack_slirp(st), 0, &t);

    s = mkspec(&cfg4, "tcp", host, FWD_PORT_MISSING, "", 80);
    TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "add a unix: forward");
    id = r->id;
    TAP_OK(path_exists(path), "the socket file exists");
    TAP_OK(fd_accepting(r->fd), "rule fd is the listening socket");
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    TAP_IS_INT(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0,
               "a client connects to it");
    close(fd);
    TAP_IS_INT(fwd_add(t, &s, NULL, NULL), -EADDRINUSE, "the same path again");
    TAP_IS_INT(fwd_remove(t, id), 0, "remove");
    TAP_OK(!path_exists(path), "remove unlinked the socket file");

    /* a stale socket file (a killed daemon's) is replaced */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    close(fd);
    TAP_OK(path_exists(path), "a stale socket file is there");
    TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "add over the stale socket file");

    /* fwd_free unlinks too; a live socket or another file is refused */
    fwd_free(t);
    TAP_OK(!path_exists(path), "fwd_free unlinked the socket file");
    fwd_new(stack_slirp(st), 0, &t);
    live = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bind(live, (struct sockaddr *)&sun, sizeof(sun));
    listen(live, 1);
    TAP_IS_INT(fwd_add(t, &s, NULL, NULL), -EADDRINUSE, "a live socket is in use");
    close(live);
    unlink(path);
    fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    close(fd);
    TAP_IS_INT(fwd_add(t, &s, NULL, &fe), -ENOTSOCK, "a regular file is refused");
    TAP_OK(fe.subject == FWD_FIELD_HOST_ADDR && strstr(fe.msg, "not a socket"),
           "... about the host address: %s", fe.msg);
    TAP_OK(path_exists(path), "... and left alone");
    unlink(path);
    snprintf(host, sizeof(host), "unix:%s/nodir/fwd.sock", dir);
    s = mkspec(&cfg4, "tcp", host, FWD_PORT_MISSING, "", 80);
    TAP_IS_INT(fwd_add(t, &s, NULL, NULL), -ENOENT, "a missing directory");

    /* a symbolic link on the way is refused, and a stale socket file at
     * its target is not touched: nothing outside the named directory */
    {
        char real[64], link[64], target[96];
        struct sockaddr_un tsun = { .sun_family = AF_UNIX };

        snprintf(real, sizeof(real), "%s/real", dir);
        snprintf(link, sizeof(link), "%s/link", dir);
        snprintf(target, sizeof(target), "%s/s.sock", real);
        mkdir(real, 0700);
        TAP_IS_INT(symlink("real", link), 0, "a symlink to a directory");
        strcpy(tsun.sun_path, target);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bind(fd, (struct sockaddr *)&tsun, sizeof(tsun));
        close(fd);
        snprintf(host, sizeof(host), "unix:%s/s.sock", link);
        s = mkspec(&cfg4, "tcp", host, FWD_PORT_MISSING, "", 80);
        TAP_IS_INT(fwd_add(t, &s, NULL, NULL), -ELOOP,
                   "a unix: path through a symlinked directory is refused");
        TAP_OK(path_exists(target),
               "... and the stale socket behind the link is left alone");
        /* the same directory named without the link: replaced there */
        snprintf(host, sizeof(host), "unix:%s", target);
        s = mkspec(&cfg4, "tcp", host, FWD_PORT_MISSING, "", 80);
        TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0,
                   "named directly, the stale socket is replaced");
        strcpy(tsun.sun_path, target);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        TAP_IS_INT(connect(fd, (struct sockaddr *)&tsun, sizeof(tsun)), 0,
                   "... by our listening one");
        close(fd);
        TAP_OK(((struct sockaddr_un *)&r->bound)->sun_path[0] == '/' &&
               !strncmp(((struct sockaddr_un *)&r->bound)->sun_path,
                        "/proc/self/fd/", 14),
               "bound through the directory fd");
        TAP_OK(fwd_find_unix_bound(t, &r->bound) == r,
               "the bound name leads back to the rule");

        /* the same file name in another directory: removing one rule
         * takes its own listener and file, not the other's */
        {
            uint32_t first = r->id;
            snprintf(host, sizeof(host), "unix:%s/s.sock", dir);
            s = mkspec(&cfg4, "tcp", host, FWD_PORT_MISSING, "", 80);
            TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "the same name elsewhere");
            TAP_IS_INT(fwd_remove(t, r->id), 0, "remove the second");
            snprintf(host, sizeof(host), "%s/s.sock", dir);
            TAP_OK(!path_exists(host), "its file is gone");
            TAP_OK(path_exists(target), "the first one's file stays");
            strcpy(tsun.sun_path, target);
            fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            TAP_IS_INT(connect(fd, (struct sockaddr *)&tsun, sizeof(tsun)), 0,
                       "... and still accepts");
            close(fd);
            TAP_IS_INT(fwd_remove(t, first), 0, "remove the first");
        }
        TAP_OK(!path_exists(target), "its file is gone too");
        unlink(link);
        rmdir(real);
    }
    {
        char name[100];
        memset(name, 'n', 83);
        name[83] = '\0';
        snprintf(host, sizeof(host), "unix:/%s", name);
        bad(&cfg4, "tcp", host, 0, "", 80, FWD_FIELD_HOST_ADDR,
            "file name too long", "unix: a file name of 83 bytes");
        name[82] = '\0';
        snprintf(host, sizeof(host), "unix:/%s", name);
        TAP_IS_INT(spec(&cfg4, "tcp", host, 0, "", 80, &s, NULL), 0,
                   "unix: a file name of 82 bytes");
    }

    /* after fwd_restrict_unix (the sandbox), only --publish had them */
    snprintf(host, sizeof(host), "unix:%s", path);
    s = mkspec(&cfg4, "tcp", host, FWD_PORT_MISSING, "", 80);
    TAP_IS_INT(fwd_add(t, &s, &r, NULL), 0, "added before the restriction");
    fwd_restrict_unix(t);
    snprintf(host, sizeof(host), "unix:%s/b.sock", dir);
    s = mkspec(&cfg4, "tcp", host, FWD_PORT_MISSING, "", 80);
    TAP_IS_INT(fwd_add(t, &s, NULL, &fe), -EPERM, "refused after fwd_restrict_unix");
    TAP_OK(fe.subject == FWD_FIELD_HOST_ADDR && strstr(fe.msg, "--publish"),
           "... about the host address: %s", fe.msg);
    TAP_IS_INT(fwd_remove(t, fwd_get(t, 0)->id), 0,
               "removing works after the restriction");
    TAP_OK(!path_exists(path), "... and unlinks");
    fwd_free(t);
    stack_free(st);
    rmdir(dir);
}

static void test_format(void)
{
    struct sockaddr_storage ss;
    struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
    char small[4];

    memset(&ss, 0, sizeof(ss));
    sun->sun_family = AF_UNIX;
    strcpy(sun->sun_path, "/a/b");
    TAP_IS_STR(addr_str(&ss), "unix:/a/b", "format unix");
    TAP_IS_INT(fwd_spec_format_addr(&ss, small, sizeof(small)), -ENOSPC,
               "format: too small a buffer");
    TAP_IS_INT(fwd_spec_addr_port(&ss), 0, "unix has port 0");
    ss.ss_family = AF_PACKET;
    TAP_IS_INT(fwd_spec_format_addr(&ss, small, sizeof(small)), -EAFNOSUPPORT,
               "format: other families");
    TAP_IS_STR(fwd_spec_proto_name(FWD_UDP), "udp", "proto name udp");
}

static void test_options(void)
{
    char *argv[] = { "slirpd", "-p", "8080:80", "--publish", "[::1]:1:2",
                     "1234", "--publish=unix:/a:3", "tap0", NULL };
    struct options o;

    TAP_IS_INT(opt_parse(8, argv, &o), OPT_RUN, "-p/--publish parse");
    TAP_IS_INT(o.n_publish, 3, "three --publish specs kept");
    TAP_IS_STR(o.n_publish == 3 ? o.publish[0] : NULL, "8080:80", "-p SPEC");
    TAP_IS_STR(o.n_publish == 3 ? o.publish[1] : NULL, "[::1]:1:2", "--publish SPEC");
    TAP_IS_STR(o.n_publish == 3 ? o.publish[2] : NULL, "unix:/a:3",
               "--publish=SPEC after a positional (GNU permutation)");
    TAP_IS_STR(o.target, "1234", "positionals intact");
    opt_free(&o);
    TAP_IS_INT(o.n_publish, 0, "opt_free");
}

int main(void)
{
    bool private_ns = env_private_netns();

    printf("# %s\n", private_ns ? "in a private network namespace"
                                : "no private network namespace: 127.0.0.1 only");
    env_config(&cfg4, false);
    env_config(&cfg6, true);
    test_validation();
    test_publish();
    test_table(private_ns);
    test_unix();
    test_format();
    test_options();
    return tap_done();
}
