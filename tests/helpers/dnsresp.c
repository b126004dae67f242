// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dnsresp.c - a tiny UDP DNS responder and query tool for the integration
 * tests (libc only, no outside network needed).
 *
 * Server:  dnsresp ADDR PORT NAME IPV4 [SECONDS]
 *   Binds UDP ADDR:PORT (IPv4 or IPv6 literal) and answers every query:
 *   - QTYPE A (or ANY) for NAME (case-insensitive): NOERROR + one A record
 *     IPV4, TTL 60;
 *   - another QTYPE for NAME: NOERROR, no answer (NODATA);
 *   - any other name: NXDOMAIN.
 *   Prints "dnsresp: listening on ADDR:PORT" on stdout (flushed) once bound,
 *   logs each query on stderr and exits 0 after SECONDS (default 60).
 *
 * Query:   dnsresp --query SERVER NAME [PORT] [TIMEOUT]
 *   Sends one A query for NAME to SERVER:PORT (default 53) and waits up to
 *   TIMEOUT seconds (default 5) for the matching reply.  Prints each A
 *   record (dotted quad, one a line) and exits 0 when there is at least one;
 *   prints "NXDOMAIN" and exits 1 for NXDOMAIN; prints "NODATA" or
 *   "RCODE n" and exits 1 for other answers without A records; prints
 *   "timeout" and exits 2 when nothing comes back; exits 3 on usage or
 *   local errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DNS_HDR_LEN 12
#define DNS_MAX_MSG 1500
#define QTYPE_A 1
#define QTYPE_ANY 255
#define QCLASS_IN 1
#define RCODE_NXDOMAIN 3

static void usage(void)
{
    fprintf(stderr,
            "usage: dnsresp ADDR PORT NAME IPV4 [SECONDS]\n"
            "       dnsresp --query SERVER NAME [PORT] [TIMEOUT]\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
    char *end;
    unsigned long v;

    if (!s || !*s || *s == '-')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *ret = v;
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until @fd is readable or @deadline (now_ms()) has passed.
 * Return: 1 readable, 0 the deadline passed, -1 poll() failed (said why) */
static int wait_readable(int fd, uint64_t deadline)
{
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        uint64_t now = now_ms();
        int rc;

        if (now >= deadline)
            return 0;
        rc = poll(&pfd, 1, (int)(deadline - now));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            perror("dnsresp: poll");
            return -1;
        }
        return rc > 0;
    }
}

/* Fill *ss from an IPv4 or IPv6 literal and a port. */
static int make_sockaddr(const char *addr, uint16_t port,
                         struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *len = sizeof(*sin);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *len = sizeof(*sin6);
        return 0;
    }
    return -1;
}

/*
 * Encode a dotted name as DNS labels into buf (at most cap bytes).
 * Returns the encoded length or -1.
 */
static int encode_name(const char *name, uint8_t *buf, size_t cap)
{
    size_t pos = 0;
    const char *p = name;

    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);

        if (l == 0) {
            if (dot && dot[1] == '\0') /* trailing dot */
                break;
            return -1;
        }
        if (l > 63 || pos + 1 + l + 1 > cap)
            return -1;
        buf[pos++] = (uint8_t)l;
        memcpy(buf + pos, p, l);
        pos += l;
        if (!dot)
            break;
        p = dot + 1;
    }
    if (pos + 1 > cap)
        return -1;
    buf[pos++] = 0;
    return (int)pos;
}

/*
 * Decode the (possibly compressed) name at *off into out (dotted, no
 * trailing dot).  Advances *off past the name as stored at that place.
 * Returns 0 or -1 on a malformed message.
 */
static int decode_name(const uint8_t *msg, size_t len, size_t *off, char *out,
                       size_t outcap)
{
    size_t pos = *off, o = 0;
    int jumps = 0;
    bool jumped = false;

    for (;;) {
        uint8_t l;

        if (pos >= len)
            return -1;
        l = msg[pos];
        if ((l & 0xc0) == 0xc0) {
            if (pos + 1 >= len || ++jumps > 16)
                return -1;
            if (!jumped)
                *off = pos + 2;
            jumped = true;
            pos = ((size_t)(l & 0x3f) << 8) | msg[pos + 1];
            continue;
        }
        if (l & 0xc0)
            return -1;
        pos++;
        if (l == 0)
            break;
        if (pos + l > len || o + l + 2 > outcap)
            return -1;
        if (o)
            out[o++] = '.';
        memcpy(out + o, msg + pos, l);
        o += l;
        pos += l;
    }
    if (!jumped)
        *off = pos;
    out[o] = '\0';
    return 0;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static int run_server(int argc, char **argv)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    struct in_addr answer;
    unsigned long port, seconds = 60;
    const char *name;
    uint64_t deadline;
    int fd, one = 1;

    if (argc < 5 || argc > 6) {
        usage();
        return 3;
    }
    if (parse_uint(argv[2], 65535, &port) < 0 || port == 0) {
        fprintf(stderr, "dnsresp: bad port: %s\n", argv[2]);
        return 3;
    }
    name = argv[3];
    if (inet_pton(AF_INET, argv[4], &answer) != 1) {
        fprintf(stderr, "dnsresp: bad IPv4 answer: %s\n", argv[4]);
        return 3;
    }
    if (argc == 6 && (parse_uint(argv[5], 86400, &seconds) < 0 || !seconds)) {
        fprintf(stderr, "dnsresp: bad SECONDS: %s\n", argv[5]);
        return 3;
    }
    if (make_sockaddr(argv[1], (uint16_t)port, &ss, &sslen) < 0) {
        fprintf(stderr, "dnsresp: bad address: %s\n", argv[1]);
        return 3;
    }
    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("dnsresp: socket");
        return 3;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
        fprintf(stderr, "dnsresp: bind %s:%lu: %s\n", argv[1], port,
                strerror(errno));
        return 3;
    }
    printf("dnsresp: listening on %s:%lu\n", argv[1], port);
    fflush(stdout);

    deadline = now_ms() + seconds * 1000;
    for (;;) {
        uint8_t q[DNS_MAX_MSG], r[DNS_MAX_MSG];
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        char qname[256];
        size_t off, qend;
        uint16_t qtype, qclass, flags;
        ssize_t n;
        int rc, rcode = 0, ancount = 0;

        rc = wait_readable(fd, deadline);
        if (rc < 0)
            return 3;
        if (rc == 0)
            break;
        n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            perror("dnsresp: recvfrom");
            return 3;
        }
        if (n < DNS_HDR_LEN || (q[2] & 0x80) || get16(q + 4) != 1) {
            fprintf(stderr, "dnsresp: ignoring malformed message (%zd bytes)\n",
                    n);
            continue;
        }
        off = DNS_HDR_LEN;
        if (decode_name(q, (size_t)n, &off, qname, sizeof(qname)) < 0 ||
            off + 4 > (size_t)n) {
            fprintf(stderr, "dnsresp: ignoring malformed question\n");
            continue;
        }
        qtype = get16(q + off);
        qclass = get16(q + off + 2);
        qend = off + 4;

        if (strcasecmp(qname, name) != 0) {
            rcode = RCODE_NXDOMAIN;
        } else if ((qtype == QTYPE_A || qtype == QTYPE_ANY) &&
                   qclass == QCLASS_IN) {
            ancount = 1;
        }
        fprintf(stderr, "dnsresp: query %s type %u -> %s\n", qname, qtype,
                rcode ? "NXDOMAIN" : ancount ? argv[4] : "NODATA");

        /* header: same id, QR=1, opcode copied, AA=1, RD copied, RA=1 */
        memcpy(r, q, 2);
        flags = (uint16_t)(0x8000 | (get16(q + 2) & 0x7900) | 0x0400 | 0x0080 |
                           rcode);
        put16(r + 2, flags);
        put16(r + 4, 1);
        put16(r + 6, (uint16_t)ancount);
        put16(r + 8, 0);
        put16(r + 10, 0);
        memcpy(r + DNS_HDR_LEN, q + DNS_HDR_LEN, qend - DNS_HDR_LEN);
        off = qend;
        if (ancount) {
            static const uint8_t rr[] = { 0xc0, 0x0c, 0, QTYPE_A, 0, QCLASS_IN,
                                          0, 0, 0, 60, 0, 4 };
            memcpy(r + off, rr, sizeof(rr));
            off += sizeof(rr);
            memcpy(r + off, &answer, 4);
            off += 4;
        }
        if (sendto(fd, r, off, 0, (struct sockaddr *)&from, fromlen) < 0)
            fprintf(stderr, "dnsresp: sendto: %s\n", strerror(errno));
    }
    fprintf(stderr, "dnsresp: time is up, exiting\n");
    return 0;
}

static int run_query(int argc, char **argv)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    unsigned long port = 53, timeout = 5;
    uint8_t q[DNS_MAX_MSG];
    uint16_t id;
    uint64_t deadline;
    int fd, nl;
    size_t qlen;

    if (argc < 4 || argc > 6) {
        usage();
        return 3;
    }
    if (argc >= 5 && (parse_uint(argv[4], 65535, &port) < 0 || port == 0)) {
        fprintf(stderr, "dnsresp: bad port: %s\n", argv[4]);
        return 3;
    }
    if (argc == 6 && (parse_uint(argv[5], 3600, &timeout) < 0 || !timeout)) {
        fprintf(stderr, "dnsresp: bad TIMEOUT: %s\n", argv[5]);
        return 3;
    }
    if (make_sockaddr(argv[2], (uint16_t)port, &ss, &sslen) < 0) {
        fprintf(stderr, "dnsresp: bad server address: %s\n", argv[2]);
        return 3;
    }

    srand((unsigned int)(getpid() ^ now_ms()));
    id = (uint16_t)rand();
    memset(q, 0, DNS_HDR_LEN);
    put16(q, id);
    put16(q + 2, 0x0100); /* RD */
    put16(q + 4, 1);
    nl = encode_name(argv[3], q + DNS_HDR_LEN, sizeof(q) - DNS_HDR_LEN - 4);
    if (nl < 0) {
        fprintf(stderr, "dnsresp: bad name: %s\n", argv[3]);
        return 3;
    }
    qlen = DNS_HDR_LEN + (size_t)nl;
    put16(q + qlen, QTYPE_A);
    put16(q + qlen + 2, QCLASS_IN);
    qlen += 4;

    fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("dnsresp: socket");
        return 3;
    }
    if (connect(fd, (struct sockaddr *)&ss, sslen) < 0) {
        perror("dnsresp: connect");
        return 3;
    }
    if (send(fd, q, qlen, 0) < 0) {
        perror("dnsresp: send");
        return 3;
    }

    deadline = now_ms() + timeout * 1000;
    for (;;) {
        uint8_t r[DNS_MAX_MSG];
        char nm[256];
        size_t off;
        ssize_t n;
        int rc, i, qd, an, found = 0, rcode;

        rc = wait_readable(fd, deadline);
        if (rc < 0)
            return 3;
        if (rc == 0)
            break;
        n = recv(fd, r, sizeof(r), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            /* e.g. ECONNREFUSED from an ICMP error: keep waiting */
            fprintf(stderr, "dnsresp: recv: %s\n", strerror(errno));
            continue;
        }
        if (n < DNS_HDR_LEN || get16(r) != id || !(r[2] & 0x80))
            continue;
        rcode = r[3] & 0x0f;
        qd = get16(r + 4);
        an = get16(r + 6);
        off = DNS_HDR_LEN;
        for (i = 0; i < qd; i++) {
            if (decode_name(r, (size_t)n, &off, nm, sizeof(nm)) < 0 ||
                off + 4 > (size_t)n)
                goto malformed;
            off += 4;
        }
        for (i = 0; i < an; i++) {
            uint16_t type, klass, rdlen;

            if (decode_name(r, (size_t)n, &off, nm, sizeof(nm)) < 0 ||
                off + 10 > (size_t)n)
                goto malformed;
            type = get16(r + off);
            klass = get16(r + off + 2);
            rdlen = get16(r + off + 8);
            off += 10;
            if (off + rdlen > (size_t)n)
                goto malformed;
            if (type == QTYPE_A && klass == QCLASS_IN && rdlen == 4) {
                char buf[INET_ADDRSTRLEN];

                inet_ntop(AF_INET, r + off, buf, sizeof(buf));
                printf("%s\n", buf);
                found++;
            }
            off += rdlen;
        }
        if (found)
            return 0;
        if (rcode == RCODE_NXDOMAIN)
            printf("NXDOMAIN\n");
        else if (rcode == 0)
            printf("NODATA\n");
        else
            printf("RCODE %d\n", rcode);
        return 1;
    malformed:
        fprintf(stderr, "dnsresp: malformed reply\n");
        return 3;
    }
    printf("timeout\n");
    return 2;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "--query") == 0)
        return run_query(argc, argv);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "--help") == 0)) {
        usage();
        return 0;
    }
    return run_server(argc, argv);
}
